"""Pinhole camera for the LoFi label generator (paper 002 §III), and a frame clock.

World frame: the lofi-room floor is ``z = 0``, ``x`` across and ``y`` along the room, ``z``
up, all in metres (:func:`wiloc_core.sim.presets.preset` ``"lofi-room"``). Camera frame:
``x`` right, ``y`` down, ``z`` forward (OpenCV's convention), so that a point in front of
the camera has positive depth and pixel ``(u, v)`` grows right and down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

#: Walking area of the lofi-room preset, (x_min, y_min, x_max, y_max) in m (1.8 x 4.8 m).
LOFI_AREA = (1.6, 1.1, 3.4, 5.9)
#: Height a standing person is drawn with (m); Person.height_m in the sim is 1.75.
PERSON_HEIGHT_M = 1.7
_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Camera:
    """A pinhole camera without lens distortion.

    Attributes
    ----------
    position : numpy.ndarray, float64, shape (3,), m
        Optical centre in the world frame.
    rotation : numpy.ndarray, float64, shape (3, 3)
        World -> camera rotation; rows are the camera's right, down and forward axes.
    focal_px : float
        Focal length in pixels (square pixels).
    width, height : int
        Image size in pixels.
    cx, cy : float
        Principal point in pixels.
    name : str
    """

    position: np.ndarray
    rotation: np.ndarray
    focal_px: float
    width: int = 640
    height: int = 480
    cx: float = 320.0
    cy: float = 240.0
    name: str = "camera"

    @classmethod
    def look_at(cls, position, target, *, hfov_deg: float = 75.0, width: int = 640,
                height: int = 480, name: str = "camera") -> Camera:
        """Camera at ``position`` (m, (3,)) looking at ``target`` (m, (3,)), no roll.

        ``hfov_deg`` is the horizontal field of view in degrees, in (0, 180).
        """
        if not 0.0 < hfov_deg < 180.0:
            raise ParameterError("hfov_deg", "a field of view in (0, 180) degrees", hfov_deg)
        if int(width) < 16 or int(height) < 16:
            raise ParameterError("width/height", "an image of at least 16 x 16 pixels",
                                 (width, height))
        position = np.asarray(position, dtype=float).reshape(3)
        forward = np.asarray(target, dtype=float).reshape(3) - position
        if np.linalg.norm(forward) == 0.0 or np.linalg.norm(np.cross(forward, _UP)) < 1e-9:
            raise ParameterError("target", "a point away from the camera, not straight "
                                 "above or below it", tuple(np.asarray(target).tolist()))
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, _UP)
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        focal = (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
        return cls(position, np.stack([right, down, forward]), float(focal), int(width),
                   int(height), width / 2.0, height / 2.0, name)

    @property
    def yaw_deg(self) -> float:
        """Heading of the optical axis, degrees counter-clockwise from +x."""
        f = self.rotation[2]
        return float(np.degrees(np.arctan2(f[1], f[0])))

    @property
    def pitch_deg(self) -> float:
        """Tilt of the optical axis below the horizon, degrees (positive = down)."""
        return float(np.degrees(-np.arcsin(np.clip(self.rotation[2, 2], -1.0, 1.0))))

    @property
    def matrix(self) -> np.ndarray:
        """Intrinsic matrix K, (3, 3) float64."""
        return np.array([[self.focal_px, 0.0, self.cx], [0.0, self.focal_px, self.cy],
                         [0.0, 0.0, 1.0]])

    def depth(self, points_xyz) -> np.ndarray:
        """Distance along the optical axis of world points (n, 3) m -> (n,) m."""
        p = np.asarray(points_xyz, dtype=float).reshape(-1, 3)
        return (p - self.position) @ self.rotation[2]

    def project(self, points_xyz) -> np.ndarray:
        """Pixels (n, 2) float64 of world points (n, 3) m; NaN for points behind the camera."""
        p = (np.asarray(points_xyz, dtype=float).reshape(-1, 3) - self.position) @ self.rotation.T
        z = np.where(p[:, 2] > 1e-9, p[:, 2], np.nan)
        return np.column_stack([self.focal_px * p[:, 0] / z + self.cx,
                                self.focal_px * p[:, 1] / z + self.cy])

    def floor_to_image(self) -> np.ndarray:
        """Homography (3, 3) taking floor points (x, y, 1) in m to pixels (u, v, 1).

        A plane ``z = 0`` seen by a pinhole is a homography: K [r1 r2 t] with r1, r2 the
        first two columns of the rotation and t the translation.
        """
        t = -self.rotation @ self.position
        return self.matrix @ np.column_stack([self.rotation[:, 0], self.rotation[:, 1], t])

    def in_view(self, points_xyz, margin_px: float = 0.0) -> np.ndarray:
        """Whether each world point (n, 3) projects inside the image; (n,) bool."""
        uv = self.project(points_xyz)
        with np.errstate(invalid="ignore"):
            return ((uv[:, 0] >= margin_px) & (uv[:, 0] <= self.width - 1 - margin_px)
                    & (uv[:, 1] >= margin_px) & (uv[:, 1] <= self.height - 1 - margin_px))


def area_corners(area=LOFI_AREA) -> np.ndarray:
    """The four floor corners (4, 2) m of ``area`` = (x_min, y_min, x_max, y_max), in the
    order the LoFi code clicks them: (0, 0), (w, 0), (0, d), (w, d) relative to the area."""
    x0, y0, x1, y1 = (float(v) for v in area)
    if not (x1 > x0 and y1 > y0):
        raise ParameterError("area", "(x_min, y_min, x_max, y_max) with max > min", area)
    return np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]])


def area_roi(camera: Camera, area=LOFI_AREA, *, pad_m: float = 0.4,
             top_m: float = PERSON_HEIGHT_M + 0.2, margin_px: int = 16) -> tuple:
    """Image region (x, y, w, h) px, clipped to the image, where a person inside ``area``
    can appear: the projection of the area grown by ``pad_m`` on each side, from the floor
    to ``top_m``, plus ``margin_px``. Detectors searching only there run faster."""
    x0, y0, x1, y1 = area
    xs, ys = (x0 - pad_m, x1 + pad_m), (y0 - pad_m, y1 + pad_m)
    box = np.array([(x, y, z) for x in xs for y in ys for z in (0.0, top_m)])
    uv = camera.project(box)
    if not np.all(np.isfinite(uv)):
        return (0, 0, camera.width, camera.height)
    lo = np.maximum(np.floor(uv.min(axis=0)) - margin_px, 0).astype(int)
    hi = np.minimum(np.ceil(uv.max(axis=0)) + margin_px, [camera.width, camera.height]).astype(int)
    return (int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1]))


def aim_at_area(position, area=LOFI_AREA, *, person_height_m: float = PERSON_HEIGHT_M,
                hfov_deg: float = 75.0, width: int = 640, height: int = 480,
                name: str = "camera") -> Camera:
    """Camera at ``position`` (m) turned so that the area's corners at the floor and at head
    height sit in the middle of the image: yaw halfway between the extreme bearings and
    pitch halfway between the extreme depression angles."""
    position = np.asarray(position, dtype=float).reshape(3)
    corners = area_corners(area)
    d = corners - position[:2]
    bearing = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    yaw = 0.5 * (bearing.min() + bearing.max())
    dist = np.hypot(d[:, 0], d[:, 1])
    angles = np.concatenate([np.arctan2(position[2], dist),
                             np.arctan2(position[2] - person_height_m, dist)])
    pitch = 0.5 * (angles.min() + angles.max())
    target = position + np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch),
                                  -np.sin(pitch)])
    return Camera.look_at(position, target, hfov_deg=hfov_deg, width=width, height=height,
                          name=name)


def default_viewpoints(area=LOFI_AREA, *, width: int = 640, height: int = 480,
                       hfov_deg: float = 75.0) -> list[Camera]:
    """Three webcam views of the lofi-room walking area (assumption: the paper's Fig. 2
    shows three views but gives no positions).

    Two cameras sit in the front corners of the 5 x 7 m room and one in a back corner,
    0.2 m from the walls, 2.2-2.5 m high, tilted down. A side-wall camera cannot see the
    whole 4.8 m area in this room with a <= 80 degree webcam lens (it would need about
    115 degrees), hence three corners. Every view sees the whole area and a 1.7 m person
    standing anywhere in it (checked by the tests).
    """
    spots = [("front-left", (0.2, 0.2, 2.4)), ("front-right", (4.8, 0.2, 2.2)),
             ("back-left", (0.2, 6.8, 2.5))]
    return [aim_at_area(p, area, hfov_deg=hfov_deg, width=width, height=height, name=n)
            for n, p in spots]


def frame_times(duration_s: float, rate_hz: float = 30.0, jitter_s: float = 0.002,
                seed=None) -> np.ndarray:
    """Capture timestamps (n,) s of a webcam running at ``rate_hz`` (26 Hz in the paper,
    30 Hz in the LoFi README) for ``duration_s``, each frame late by a Gaussian jitter of
    std ``jitter_s`` clipped so that timestamps stay strictly increasing."""
    if not duration_s > 0:
        raise ParameterError("duration_s", "a duration > 0 s", duration_s)
    if not rate_hz > 0:
        raise ParameterError("rate_hz", "a frame rate > 0 Hz", rate_hz)
    if not 0 <= jitter_s:
        raise ParameterError("jitter_s", "a jitter >= 0 s", jitter_s)
    g = np.random.default_rng(seed)
    period = 1.0 / rate_hz
    n = int(np.floor(duration_s * rate_hz))
    # Clipping to +-0.45 periods keeps consecutive frames apart by at least 0.1 period.
    jitter = np.clip(g.normal(0.0, jitter_s, n), -0.45 * period, 0.45 * period)
    t = np.arange(n) * period + jitter
    return t - min(0.0, float(t[0])) if n else t

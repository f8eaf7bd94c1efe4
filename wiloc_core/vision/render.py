"""Synthetic webcam frames of the lofi-room: a tiled floor, walls, and a real person.

The person is a photograph: the man in the beige coat cut from ultralytics' sample
``bus.jpg`` (a rectangular crop from the top of his head to the soles of his shoes, with
feathered edges), so that detectors trained on real people respond to the frames. He is
pasted upright with his soles' midpoint on the projected floor position and his height
equal to the projected head-to-foot distance of a :data:`PERSON_HEIGHT_M` person.

A frame is ``background (empty room, lit) -> person -> occluder if nearer -> sensor noise``.
The empty-room background is rendered once per view (:func:`render_background`) and
reused for every frame, which is what makes rendering cheap.
"""

from __future__ import annotations

import importlib.util
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.vision.camera import PERSON_HEIGHT_M, Camera

#: Room of the lofi-room preset, (width x, depth y) in m.
ROOM_XY = (5.0, 7.0)
#: Crop of bus.jpg (x0, y0, x1) px around one standing man (it ends at the soles' row),
#: and the rows of his head top and shoe soles inside the full photo.
_CROP = (45, 380, 250)
_HEAD_ROW, _SOLE_ROW = 392, 896
_TEXTURE_PX_PER_M = 40


@dataclass(frozen=True)
class Occluder:
    """A vertical board standing on the floor and facing the camera (a box or chair back).

    Attributes
    ----------
    x, y : float
        Floor position of the board's centre (m).
    width_m, height_m : float
        Size of the board (m, > 0).
    color : tuple of int
        BGR colour before lighting.
    """

    x: float
    y: float
    width_m: float = 0.6
    height_m: float = 0.7
    color: tuple = (60, 90, 140)


@dataclass(frozen=True)
class Background:
    """The empty room seen by one camera: ``image`` (h, w, 3) uint8 BGR, without noise,
    lit with ``gain``, with ``occluder`` (or None) drawn in."""

    image: np.ndarray
    gain: float
    occluder: Occluder | None


@dataclass(frozen=True)
class Frame:
    """A rendered frame and its ground truth.

    Attributes
    ----------
    image : numpy.ndarray, uint8, shape (h, w, 3)
        BGR frame.
    foot_px : numpy.ndarray, float64, shape (2,)
        True foot pixel: projection of the floor point under the person.
    head_px : numpy.ndarray, float64, shape (2,)
        Projection of the point :data:`PERSON_HEIGHT_M` above it.
    box : tuple of int
        (x, y, w, h) of the pasted photo before clipping to the image, px.
    """

    image: np.ndarray
    foot_px: np.ndarray
    head_px: np.ndarray
    box: tuple


def photo_path() -> Path:
    """Path of ultralytics' ``bus.jpg`` (ships with the package; no download)."""
    # find_spec locates the package without importing it (an import writes settings).
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("ultralytics is not installed: its sample photo bus.jpg "
                                "is the person drawn in the frames")
    path = Path(spec.origin).parent / "assets" / "bus.jpg"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the ultralytics sample photo is missing")
    return path


@lru_cache(maxsize=1)
def person_sprite() -> tuple[np.ndarray, np.ndarray, float]:
    """(BGR (h, w, 3) float32, alpha (h, w) float32 in [0, 1], fraction of the crop height
    from its top to the head) of the person photo."""
    photo = cv2.imread(str(photo_path()))
    x0, y0, x1 = _CROP
    bgr = photo[y0:_SOLE_ROW, x0:x1].astype(np.float32)
    h, w = bgr.shape[:2]
    # Feathered edges: alpha ramps over 10 % of the width on the sides and top, but
    # stays 1 on the bottom row so that the soles end the sprite sharply.
    ramp = 0.1 * w
    cols = np.minimum(np.arange(w) + 0.5, w - np.arange(w) - 0.5) / ramp
    rows = (np.arange(h) + 0.5) / ramp
    alpha = np.clip(np.minimum(cols[None, :], rows[:, None]), 0.0, 1.0).astype(np.float32)
    return bgr, alpha, (_HEAD_ROW - y0) / h


def _style(camera: Camera, seed) -> np.random.Generator:
    """Generator for a view's room style: differs per seed and per camera name."""
    return np.random.default_rng([int(seed), zlib.crc32(camera.name.encode())])


def _floor_texture(g: np.random.Generator) -> np.ndarray:
    """Tiled floor of the whole room in floor coordinates, (rows=y, cols=x, 3) uint8."""
    nx, ny = (int(v * _TEXTURE_PX_PER_M) for v in ROOM_XY)
    tile_m = g.choice([0.3, 0.4, 0.5, 0.6])
    base = g.uniform(90, 200, 3)
    other = np.clip(base + g.uniform(-45, 45, 3), 0, 255)
    x = (np.arange(nx) + 0.5) / _TEXTURE_PX_PER_M
    y = (np.arange(ny) + 0.5) / _TEXTURE_PX_PER_M
    checker = ((x[None, :] // tile_m + y[:, None] // tile_m) % 2).astype(bool)
    tex = np.where(checker[..., None], base, other)
    grout = (np.minimum(x % tile_m, tile_m - x % tile_m)[None, :] < 0.012) | \
            (np.minimum(y % tile_m, tile_m - y % tile_m)[:, None] < 0.012)
    tex[grout] = 0.55 * base
    tex += g.normal(0.0, 6.0, tex.shape)
    return np.clip(tex, 0, 255).astype(np.uint8)


def _floor_mask_and_warp(camera: Camera, tex: np.ndarray, wall: np.ndarray) -> np.ndarray:
    """The floor texture warped into the image where pixel rays hit the room's floor."""
    w, h = camera.width, camera.height
    to_tex = np.diag([_TEXTURE_PX_PER_M, _TEXTURE_PX_PER_M, 1.0])
    # Pixel -> texel map; warpPerspective wants the forward (texel -> pixel) map.
    tex_to_img = camera.floor_to_image() @ np.linalg.inv(to_tex)
    warped = cv2.warpPerspective(tex, tex_to_img, (w, h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpPerspective(np.full(tex.shape[:2], 255, np.uint8), tex_to_img, (w, h),
                                 flags=cv2.INTER_NEAREST) > 0
    # Rays that go up never reach the floor: without this mask the homography would
    # mirror the floor into the sky above the horizon.
    u, v = np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))
    k_inv = np.linalg.inv(camera.matrix)
    ray_z = (camera.rotation.T @ k_inv)[2]
    downward = ray_z[0] * u + ray_z[1] * v + ray_z[2] < 0
    return np.where((inside & downward)[..., None], warped, wall)


def _occluder_quad(camera: Camera, occ: Occluder) -> np.ndarray:
    """Pixel corners (4, 2) int32 of an occluder turned to face the camera."""
    to_cam = camera.position[:2] - np.array([occ.x, occ.y])
    side = np.array([-to_cam[1], to_cam[0]]) / max(np.linalg.norm(to_cam), 1e-9)
    half = 0.5 * occ.width_m * side
    c = np.array([occ.x, occ.y])
    pts = [(*(c - half), 0.0), (*(c + half), 0.0), (*(c + half), occ.height_m),
           (*(c - half), occ.height_m)]
    return np.round(camera.project(np.array(pts))).astype(np.int32)


def _draw_occluder(image: np.ndarray, camera: Camera, occ: Occluder, gain: float) -> None:
    color = tuple(float(min(255.0, c * gain)) for c in occ.color)
    cv2.fillConvexPoly(image, _occluder_quad(camera, occ), color, lineType=cv2.LINE_AA)


def render_background(camera: Camera, *, seed=0, lighting: float = 1.0,
                      occluder: Occluder | None = None) -> Background:
    """Empty-room image for ``camera``: floor tiles and wall colours drawn from ``seed``
    and the camera's name, light level = ``lighting`` x a per-view factor in [0.75, 1.15]
    (uint8 BGR, no sensor noise)."""
    if not lighting > 0:
        raise ParameterError("lighting", "a light level > 0 (1 = nominal)", lighting)
    g = _style(camera, seed)
    wall_color = g.uniform(120, 230, 3)
    shade = np.linspace(1.05, 0.85, camera.height)[:, None, None]
    wall = np.clip(wall_color * shade + g.normal(0, 3.0, (camera.height, camera.width, 1)),
                   0, 255).astype(np.uint8)
    image = _floor_mask_and_warp(camera, _floor_texture(g), wall)
    gain = float(lighting * g.uniform(0.75, 1.15))
    image = np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    if occluder is not None:
        _draw_occluder(image, camera, occluder, gain)
    return Background(image, gain, occluder)


def _paste(image: np.ndarray, sprite: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend ``sprite`` (h, w, 3) float32 into ``image`` at top-left (x0, y0), clipped."""
    h, w = alpha.shape
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + w, image.shape[1]), min(y0 + h, image.shape[0])
    if ix1 <= ix0 or iy1 <= iy0:
        return
    s = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
    a = alpha[s][..., None]
    roi = image[iy0:iy1, ix0:ix1].astype(np.float32)
    image[iy0:iy1, ix0:ix1] = (roi + a * (sprite[s] - roi)).astype(np.uint8)


def _add_noise(image: np.ndarray, noise_std: float, g: np.random.Generator) -> np.ndarray:
    """Gaussian luminance noise of std ``noise_std`` in 2 x 2 pixel blocks, saturated.

    One plane shared by the three channels, drawn at half resolution: a webcam's noise
    is spatially correlated after demosaicing and compression anyway, and this is about
    four times cheaper than independent noise per pixel and channel.
    """
    h, w = image.shape[:2]
    z = g.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32) * np.float32(noise_std)
    z = cv2.resize(z, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.add(image, cv2.merge([z, z, z]), dtype=cv2.CV_8U)


def render_frame(camera: Camera, person_xy, *, background: Background | None = None,
                 lighting: float = 1.0, occluder: Occluder | None = None, seed=0,
                 noise_std: float = 3.0) -> Frame:
    """One webcam frame with the person standing at ``person_xy`` (m, floor).

    Parameters
    ----------
    camera : Camera
    person_xy : (float, float)
        Floor position of the person (m).
    background : Background, optional
        Pre-rendered empty room (:func:`render_background`); its lighting and occluder
        are used and ``lighting``/``occluder`` are ignored. Default: rendered here from
        ``seed``, ``lighting`` and ``occluder``.
    lighting : float
        Light level (1 = nominal).
    occluder : Occluder, optional
        Drawn over the person when it is nearer to the camera than the person.
    seed : int or numpy.random.Generator
        Sensor noise (and the room style when ``background`` is None).
    noise_std : float
        Std of the Gaussian sensor noise (grey levels, >= 0; in 2 x 2 pixel blocks).

    Returns
    -------
    Frame
        The image and the true foot pixel (projection of the floor point).
    """
    if not noise_std >= 0:
        raise ParameterError("noise_std", "a noise level >= 0 grey levels", noise_std)
    xy = np.asarray(person_xy, dtype=float).reshape(2)
    if background is None:
        style_seed = seed if isinstance(seed, (int, np.integer)) else 0
        background = render_background(camera, seed=style_seed, lighting=lighting,
                                       occluder=occluder)
    foot, head = camera.project(np.array([[xy[0], xy[1], 0.0], [xy[0], xy[1], PERSON_HEIGHT_M]]))
    if not np.all(np.isfinite(foot)):
        raise ParameterError("person_xy", "a floor point in front of the camera", tuple(xy))
    image = background.image.copy()
    bgr, alpha, head_frac = person_sprite()
    person_px = float(np.linalg.norm(foot - head))
    scale = person_px / ((1.0 - head_frac) * alpha.shape[0])
    h = max(2, int(round(alpha.shape[0] * scale)))
    w = max(2, int(round(alpha.shape[1] * scale)))
    x0, y0 = int(round(foot[0] - w / 2.0)), int(round(foot[1])) - h
    if x0 < image.shape[1] and y0 < image.shape[0] and x0 + w > 0 and y0 + h > 0:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        sprite = cv2.resize(bgr, (w, h), interpolation=interp) * background.gain
        _paste(image, np.minimum(sprite, 255.0), cv2.resize(alpha, (w, h), interpolation=interp),
               x0, y0)
    occ = background.occluder
    if occ is not None and camera.depth([[occ.x, occ.y, 0.0]])[0] < camera.depth(
            [[xy[0], xy[1], 0.0]])[0]:
        _draw_occluder(image, camera, occ, background.gain)
    if noise_std > 0:
        image = _add_noise(image, noise_std, np.random.default_rng(seed))
    return Frame(image, foot, head, (x0, y0, w, h))

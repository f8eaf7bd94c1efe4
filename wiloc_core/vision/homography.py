"""Pixel -> floor mapping from four reference points (paper 002 §III, eqs. 2-3).

The floor is a plane, so a pinhole image of it is related to floor coordinates by a
3 x 3 homography T. Four non-collinear point pairs fix its eight degrees of freedom
(eq. 2, ``cv2.getPerspectiveTransform``); a foot pixel is then mapped with eq. 3 in
homogeneous coordinates.
"""

from __future__ import annotations

import cv2
import numpy as np

from wiloc_core.errors import ParameterError


def _four_points(name: str, points) -> np.ndarray:
    p = np.asarray(points, dtype=float)
    if p.shape != (4, 2) or not np.all(np.isfinite(p)):
        raise ParameterError(name, "four finite points, shape (4, 2)", p.shape)
    return p


def floor_homography(pixel_points, floor_points) -> np.ndarray:
    """Eq. 2: homography T (3, 3) float64 with ``T (u, v, 1) ~ (x, y, 1)``.

    Parameters
    ----------
    pixel_points : array-like, shape (4, 2), px
        Reference points in the image (the clicked corners of the walking area).
    floor_points : array-like, shape (4, 2), m
        The same points on the floor; no three may be collinear.
    """
    src = _four_points("pixel_points", pixel_points)
    dst = _four_points("floor_points", floor_points)
    for name, p in (("pixel_points", src), ("floor_points", dst)):
        for i in range(4):
            a, b, c = np.delete(p, i, axis=0)
            cross = (b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0]
            if abs(cross) <= 1e-9 * max(1.0, np.ptp(p) ** 2):
                raise ParameterError(name, "four points with no three collinear", p.tolist())
    # Shift both sides to their first point before the float32 conversion OpenCV needs:
    # this keeps sub-micrometre precision for pixel values in the hundreds.
    t = cv2.getPerspectiveTransform((src - src[0]).astype(np.float32),
                                    (dst - dst[0]).astype(np.float32))
    shift_in = np.array([[1.0, 0, -src[0, 0]], [0, 1.0, -src[0, 1]], [0, 0, 1.0]])
    shift_out = np.array([[1.0, 0, dst[0, 0]], [0, 1.0, dst[0, 1]], [0, 0, 1.0]])
    h = shift_out @ t @ shift_in
    return h / h[2, 2]


def apply_homography(h, points) -> np.ndarray:
    """Map points (n, 2) through homography ``h`` (3, 3); NaN rows stay NaN; (n, 2)."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    q = p @ np.asarray(h, float)[:, :2].T + np.asarray(h, float)[:, 2]
    return q[:, :2] / q[:, 2:3]


def pixel_to_floor(h, pixels) -> np.ndarray:
    """Eq. 3: floor coordinates (n, 2) m of pixels (n, 2) px under ``h`` from
    :func:`floor_homography`."""
    return apply_homography(h, pixels)


def misclick_floor_error(pixel_points, floor_points, grid_xy, offset_px: float, *,
                         corner: int = 0, n_directions: int = 8) -> np.ndarray:
    """Floor error (m) caused by clicking reference point ``corner`` ``offset_px`` pixels
    off, over the floor points ``grid_xy`` (n, 2) m.

    The click error points in ``n_directions`` evenly spaced directions; the returned
    array (n_directions, n) holds, per direction and grid point, the distance between the
    floor position from the mis-clicked homography and the one from the correct
    homography, for the pixel where the grid point is seen. A zero offset gives zeros.
    """
    if not offset_px >= 0:
        raise ParameterError("offset_px", "a click error >= 0 px", offset_px)
    if corner not in range(4):
        raise ParameterError("corner", "a reference index 0-3", corner)
    if int(n_directions) < 1:
        raise ParameterError("n_directions", "at least 1 direction", n_directions)
    px = _four_points("pixel_points", pixel_points)
    good = floor_homography(px, floor_points)
    pixels = apply_homography(np.linalg.inv(good), grid_xy)
    truth = pixel_to_floor(good, pixels)
    angles = 2 * np.pi * np.arange(int(n_directions)) / int(n_directions)
    errors = []
    for a in angles:
        moved = px.copy()
        moved[corner] += offset_px * np.array([np.cos(a), np.sin(a)])
        bad = floor_homography(moved, floor_points)
        errors.append(np.linalg.norm(pixel_to_floor(bad, pixels) - truth, axis=1))
    return np.array(errors)

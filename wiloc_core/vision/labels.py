"""Position labels from webcam frames: the LoFi label generator end to end (paper 002 §III).

For each view and frame: render the person at the true position, detect them (eq. 1),
take the foot point and map it to the floor with the view's homography (eqs. 2-3) built
from the four clicked corners of the walking area. Frames without a detection get NaN
labels (the LoFi code writes -1000 there). The per-view label error against the truth is
what the paper reports as 17.44 / 12.13 / 11.82 cm for its three views (§IV-A).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.vision.camera import LOFI_AREA, Camera, area_corners, area_roi, frame_times
from wiloc_core.vision.detect import detect_person
from wiloc_core.vision.homography import floor_homography, pixel_to_floor
from wiloc_core.vision.render import Occluder, render_background, render_frame


@dataclass(frozen=True)
class LabelResult:
    """Labels of one sequence seen from several views.

    Attributes
    ----------
    times_s : numpy.ndarray, float64, shape (n,), s
    truth_xy : numpy.ndarray, float64, shape (n, 2), m
    labels_xy : numpy.ndarray, float64, shape (n_view, n, 2), m
        Floor position per view and frame; NaN where nothing was detected.
    errors_cm : numpy.ndarray, float64, shape (n_view, n), cm
        Distance of each label to the truth; NaN where nothing was detected.
    views : tuple of str
    detector : str
    seconds : float
        Wall time spent rendering, detecting and mapping (s).
    """

    times_s: np.ndarray
    truth_xy: np.ndarray
    labels_xy: np.ndarray
    errors_cm: np.ndarray
    views: tuple
    detector: str
    seconds: float

    @property
    def detection_rate(self) -> np.ndarray:
        """Fraction of frames with a detection, per view; (n_view,)."""
        return np.mean(np.isfinite(self.errors_cm), axis=1)

    @property
    def mean_error_cm(self) -> np.ndarray:
        """Mean label error over detected frames, per view (cm); NaN if none; (n_view,)."""
        e = self.errors_cm
        n = np.isfinite(e).sum(axis=1)
        return np.where(n > 0, np.nansum(e, axis=1) / np.maximum(n, 1), np.nan)

    @property
    def frames_per_s(self) -> float:
        """Frames (all views) labelled per second of wall time."""
        return self.labels_xy.shape[0] * self.labels_xy.shape[1] / max(self.seconds, 1e-12)


def simulate_walk(duration_s: float, rate_hz: float = 30.0, *, jitter_s: float = 0.002,
                  area=LOFI_AREA, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Webcam timestamps (n,) s and the walker's true floor positions (n, 2) m at them.

    The walk is :func:`wiloc_core.sim.trajectory.random_walk` in ``area`` sampled at
    100 Hz and interpolated at the jittered frame times of :func:`frame_times`.
    """
    from wiloc_core.sim.trajectory import random_walk

    g = np.random.default_rng(seed)
    t_walk, xy = random_walk(area, duration_s + 0.1, 100.0, seed=g)
    t = frame_times(duration_s, rate_hz, jitter_s, seed=g)
    return t, np.column_stack([np.interp(t, t_walk, xy[:, 0]), np.interp(t, t_walk, xy[:, 1])])


def reference_homography(camera: Camera, area=LOFI_AREA, *, click_px: float = 0.0,
                         seed=0) -> np.ndarray:
    """Eq. 2 for one view: the area's four corners as seen by ``camera``, each clicked
    with a Gaussian error of std ``click_px`` pixels, mapped to their floor positions."""
    floor = area_corners(area)
    pixels = camera.project(np.column_stack([floor, np.zeros(4)]))
    if click_px > 0:
        pixels = pixels + np.random.default_rng(seed).normal(0.0, click_px, pixels.shape)
    return floor_homography(pixels, floor)


def _search_window(box) -> tuple:
    """Region (x, y, w, h) px around a previous box (x, y, w, h) for the next frame."""
    x, y, w, h = box
    # HOG's window is twice as wide and 4/3 as tall as the tightened box: the margins
    # must hold it with room for a few pyramid steps and strides.
    return (int(x - 1.25 * w), int(y - 0.5 * h), int(3.5 * w), int(2.0 * h))


def _label_one_view(cam, v: int, t, xy, detector, weights, seed, lighting, occluder, click_px,
                    noise_std, area, crop_to_area, track, detector_options) -> np.ndarray:
    """Floor labels (n, 2) m of view number ``v`` (its random streams depend on ``v`` only)."""
    background = render_background(cam, seed=seed, lighting=lighting, occluder=occluder)
    noise = np.random.default_rng([int(seed), v, 1])
    feet = np.full((len(t), 2), np.nan)
    options = dict(detector_options)
    if crop_to_area and detector in ("hog", "haar"):
        options.setdefault("roi", area_roi(cam, area))
    windowed = track and detector in ("hog", "haar")
    found = None
    for i in range(len(t)):
        frame = render_frame(cam, xy[i], background=background, seed=noise,
                             noise_std=noise_std)
        if windowed and found is not None:
            found = detect_person(frame.image, detector,
                                  **{**options, "roi": _search_window(found.box)})
        if not windowed or found is None:
            found = detect_person(frame.image, detector, weights=weights,
                                  background=background.image, **options)
        if found is not None:
            feet[i] = found.foot_px
    h = reference_homography(cam, area, click_px=click_px, seed=[int(seed), v, 2])
    return pixel_to_floor(h, feet)


def _label_one_view_single_thread(*args) -> np.ndarray:
    """:func:`_label_one_view` in a worker process, OpenCV held to one thread."""
    import cv2

    cv2.setNumThreads(1)
    return _label_one_view(*args)


def label_views(times_s, positions_xy, cameras, *, detector: str = "background",
                weights=None, seed=0, lighting: float = 1.0,
                occluder: Occluder | None = None, click_px: float = 0.0,
                noise_std: float = 3.0, area=LOFI_AREA, crop_to_area: bool = True,
                track: bool = False, n_jobs: int = 1, **detector_options) -> LabelResult:
    """Label a walk from every camera in ``cameras``.

    Parameters
    ----------
    times_s : array-like, shape (n,), s
        Frame timestamps.
    positions_xy : array-like, shape (n, 2), m
        True floor positions at those times.
    cameras : list of Camera
    detector : str
        See :func:`wiloc_core.vision.detect.detect_person`; ``background`` uses each
        view's empty-room frame as its reference.
    weights : str, optional
        YOLO weights file.
    seed : int
        Room style, sensor noise and click errors.
    lighting, occluder, noise_std
        See :func:`wiloc_core.vision.render.render_frame`.
    click_px : float
        Std of the error in clicking each reference corner (px).
    crop_to_area : bool
        For ``hog`` and ``haar``: search only the image region where a person in ``area``
        can appear (:func:`~wiloc_core.vision.camera.area_roi`), as a fixed webcam allows.
    track : bool
        For ``hog`` and ``haar``: search first around the previous frame's box (grown by
        1.25 widths at each side and half its height above and below), and
        the whole region only when nothing is found there. At 30 Hz a walker moves a few
        pixels per frame, and a small search region is several times faster.
    n_jobs : int
        Views labelled at the same time, each in its own process with OpenCV on one
        thread. The labels do not depend on it: each view draws from its own streams.
    **detector_options
        Passed to :func:`detect_person`.
    """
    t = np.asarray(times_s, dtype=float).reshape(-1)
    xy = np.asarray(positions_xy, dtype=float)
    if xy.shape != (len(t), 2):
        raise ParameterError("positions_xy", f"shape ({len(t)}, 2), one per frame time",
                             xy.shape)
    if not len(cameras):
        raise ParameterError("cameras", "at least one Camera", len(cameras))
    if int(n_jobs) < 1:
        raise ParameterError("n_jobs", "an integer >= 1", n_jobs)
    start = time.perf_counter()
    jobs = [(cam, v, t, xy, detector, weights, seed, lighting, occluder, click_px, noise_std,
             area, crop_to_area, track, detector_options) for v, cam in enumerate(cameras)]
    if int(n_jobs) == 1 or len(cameras) == 1:
        per_view = [_label_one_view(*job) for job in jobs]
    else:
        import concurrent.futures as cf
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(int(n_jobs), len(cameras)),
                                    mp_context=context) as pool:
            per_view = list(pool.map(_label_one_view_single_thread, *zip(*jobs, strict=True)))
    labels = np.stack(per_view)
    seconds = time.perf_counter() - start
    errors = 100.0 * np.linalg.norm(labels - xy[None], axis=2)
    return LabelResult(t, xy, labels, errors, tuple(c.name for c in cameras), detector,
                       seconds)

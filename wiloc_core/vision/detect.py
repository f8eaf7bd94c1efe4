"""Person detection for the LoFi label generator (paper 002 §III, eq. 1).

Every detector returns candidate person boxes with a confidence; :func:`best_detection`
keeps the most confident one (eq. 1) and its foot point is the midpoint of the box's
bottom edge. Detectors:

``hog``         Dalal-Triggs HOG + linear SVM (``cv2.HOGDescriptor``, default people
                detector). OpenCV 5 moved HOG out of the main package (to opencv_contrib),
                so with ``opencv-python`` 5.x it is unavailable; 4.x has it.
``haar``        Viola-Jones full-body cascade (``haarcascade_fullbody.xml``), same story.
``yolo``        ultralytics ``YOLO(weights)``; only with a local weights file: nothing is
                ever downloaded.
``background``  Difference to an empty-room frame of the same fixed webcam, threshold,
                largest blob. Model-based and cheap, it needs the reference frame
                (``background=``); it always runs offline.

:func:`available_detectors` says which of them run here and why not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from wiloc_core.errors import ParameterError, WilocError

DETECTORS = ("hog", "haar", "yolo", "background")


class DetectorUnavailable(WilocError, RuntimeError):
    """A detector cannot run here (missing OpenCV module, cascade file or YOLO weights).

    ``detector`` names it and ``reason`` says why, so that a caller can report
    e.g. "YOLO skipped: no weights file" and carry on with another detector.
    """

    def __init__(self, detector: str, reason: str):
        self.detector = detector
        self.reason = reason
        super().__init__(f"{detector} skipped: {reason}")


@dataclass(frozen=True)
class Detection:
    """One person box.

    Attributes
    ----------
    box : tuple of float
        (x, y, w, h) in pixels, (x, y) the top-left corner.
    confidence : float
        Detector score (larger is surer; the scale depends on the detector).
    detector : str
    """

    box: tuple
    confidence: float
    detector: str = ""

    @property
    def foot_px(self) -> np.ndarray:
        """Midpoint of the bottom edge (2,) float64, px: the person's pixel position."""
        x, y, w, h = self.box
        return np.array([x + w / 2.0, y + h])


def best_detection(boxes, confidences, labels=None, *, person_label=0,
                   detector: str = "") -> Detection | None:
    """Eq. 1: the box with the highest confidence among those labelled 'person'.

    Parameters
    ----------
    boxes : array-like, shape (n, 4)
        (x, y, w, h) per candidate, px.
    confidences : array-like, shape (n,)
    labels : array-like, shape (n,), optional
        Class per candidate; None means all are persons.
    person_label : int or str
        The label of the class 'person'.

    Returns
    -------
    Detection or None
        None when there is no person candidate.
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    conf = np.asarray(confidences, dtype=float).reshape(-1)
    if len(conf) != len(boxes):
        raise ParameterError("confidences", f"{len(boxes)} values, one per box", len(conf))
    person = np.ones(len(conf), bool) if labels is None else (
        np.asarray(labels).reshape(-1) == person_label)
    if not person.any():
        return None
    i = int(np.argmax(np.where(person, conf, -np.inf)))
    return Detection(tuple(float(v) for v in boxes[i]), float(conf[i]), detector)


def haar_cascade_path() -> Path | None:
    """Path of ``haarcascade_fullbody.xml`` in this OpenCV build, or None."""
    roots = []
    data = getattr(cv2, "data", None)
    if data is not None and getattr(data, "haarcascades", None):
        roots.append(Path(data.haarcascades))
    roots.append(Path(cv2.__file__).parent)
    for root in roots:
        hits = [root / "haarcascade_fullbody.xml"] if (root / "haarcascade_fullbody.xml").exists() \
            else sorted(root.rglob("haarcascade_fullbody.xml"))
        if hits:
            return hits[0]
    return None


def _why_unavailable(detector: str, weights=None) -> str | None:
    """Reason ``detector`` cannot run here, or None when it can."""
    if detector == "hog" and not hasattr(cv2, "HOGDescriptor"):
        return (f"OpenCV {cv2.__version__} has no HOGDescriptor (OpenCV 5 moved it to "
                "opencv_contrib; opencv-python 4.x has it)")
    if detector == "haar":
        if not hasattr(cv2, "CascadeClassifier"):
            return (f"OpenCV {cv2.__version__} has no CascadeClassifier (OpenCV 5 moved it "
                    "to opencv_contrib; opencv-python 4.x has it)")
        if haar_cascade_path() is None:
            return f"haarcascade_fullbody.xml is not shipped with OpenCV {cv2.__version__}"
    if detector == "yolo":
        if weights is None:
            return "no weights file (pass weights=<path to a local .pt>; nothing is downloaded)"
        if not os.path.isfile(weights):
            return f"no weights file at {weights}"
    return None


def available_detectors(weights=None) -> dict:
    """{detector: None if it runs here, else the reason it does not} for :data:`DETECTORS`."""
    return {d: _why_unavailable(d, weights) for d in DETECTORS}


@lru_cache(maxsize=1)
def _hog():
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def _crop_and_shrink(image, roi, shrink):
    """(sub-image, function mapping its boxes (n, 4) back to full-image pixels)."""
    x0 = y0 = 0
    if roi is not None:
        x0, y0, w, h = (int(v) for v in roi)
        if w <= 0 or h <= 0:
            raise ParameterError("roi", "(x, y, w, h) with w, h > 0 px", roi)
        image = image[max(y0, 0):y0 + h, max(x0, 0):x0 + w]
        x0, y0 = max(x0, 0), max(y0, 0)
    if not 0 < shrink <= 1:
        raise ParameterError("shrink", "a resize factor in (0, 1]", shrink)
    if shrink != 1:
        image = cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    offset = np.array([x0, y0, 0.0, 0.0])
    return image, lambda boxes: boxes / shrink + offset


def _detect_hog(image, win_stride=(8, 8), scale=1.05, tighten=True, roi=None,
                shrink=1.0) -> Detection | None:
    image, to_full = _crop_and_shrink(image, roi, shrink)
    if image.shape[0] < 128 or image.shape[1] < 64:
        return None  # smaller than one detection window: nothing can be found
    rects, weights = _hog().detectMultiScale(image, winStride=win_stride, padding=(8, 8),
                                            scale=scale)
    boxes = to_full(np.asarray(rects, dtype=float).reshape(-1, 4))
    if tighten and len(boxes):
        # The 64 x 128 window holds the person with 16 px of margin above and below and
        # 16 px at each side (Dalal & Triggs 2005); without removing it the foot point
        # would sit 1/8 of the box height below the soles.
        boxes = boxes + boxes[:, [2, 3, 2, 3]] * np.array([0.25, 0.125, -0.5, -0.25])
    return best_detection(boxes, np.asarray(weights, float).reshape(-1), detector="hog")


@lru_cache(maxsize=1)
def _haar():
    return cv2.CascadeClassifier(str(haar_cascade_path()))


def _detect_haar(image, roi=None, shrink=1.0) -> Detection | None:
    image, to_full = _crop_and_shrink(image, roi, shrink)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    rects, _, weights = _haar().detectMultiScale3(gray, scaleFactor=1.05, minNeighbors=3,
                                                  outputRejectLevels=True)
    return best_detection(to_full(np.asarray(rects, float).reshape(-1, 4)),
                          np.asarray(weights, float).reshape(-1), detector="haar")


@lru_cache(maxsize=2)
def _yolo(weights: str):
    from ultralytics import YOLO

    return YOLO(weights)


def _detect_yolo(image, weights) -> Detection | None:
    result = _yolo(str(weights))(image, verbose=False)[0]
    xyxy = result.boxes.xyxy.cpu().numpy().reshape(-1, 4)
    boxes = np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])
    return best_detection(boxes, result.boxes.conf.cpu().numpy(),
                          result.boxes.cls.cpu().numpy().astype(int), detector="yolo")


def _detect_background(image, background, threshold=30, min_area=150) -> Detection | None:
    if background is None:
        raise ParameterError("background", "the empty-room frame (h, w, 3) uint8 of the same "
                             "camera for detector='background'", None)
    background = np.asarray(background)
    if background.shape != image.shape:
        raise ParameterError("background", f"an image of shape {image.shape}", background.shape)
    d = cv2.absdiff(image, background)
    diff = np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2])
    mask = cv2.morphologyEx((diff > threshold).astype(np.uint8), cv2.MORPH_OPEN,
                            np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    stats = stats[1:]
    stats = stats[stats[:, cv2.CC_STAT_AREA] >= min_area]
    if not len(stats):
        return None
    area = stats[:, cv2.CC_STAT_AREA].astype(float)
    # Confidence: the blob's share of all changed pixels; eq. 1 then keeps the person
    # over specks of noise or a flicker elsewhere in the room.
    return best_detection(stats[:, :4].astype(float), area / area.sum(),
                          detector="background")


def detect_person(image, detector: str = "hog", *, weights=None, background=None,
                  **options) -> Detection | None:
    """The most confident person box in ``image`` (eq. 1), or None if none is found.

    Parameters
    ----------
    image : numpy.ndarray, uint8, shape (h, w, 3)
        BGR frame.
    detector : {"hog", "haar", "yolo", "background"}
    weights : str or Path, optional
        Local YOLO weights file (``yolo`` only).
    background : numpy.ndarray, uint8, shape (h, w, 3), optional
        Empty-room frame of the same camera (``background`` only).
    **options
        ``hog``: ``win_stride`` (px pair), ``scale`` (pyramid step), ``tighten`` (remove
        the window's margin); ``hog`` and ``haar``: ``roi`` ((x, y, w, h) px, search only
        there) and ``shrink`` (resize factor in (0, 1] before searching; boxes are
        returned in full-image pixels); ``background``: ``threshold`` (grey levels),
        ``min_area`` (px).

    Raises
    ------
    DetectorUnavailable
        When the detector cannot run here (see :func:`available_detectors`).
    """
    if detector not in DETECTORS:
        raise ParameterError("detector", f"one of {DETECTORS}", detector)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ParameterError("image", "a BGR image (h, w, 3) uint8",
                             f"{image.dtype} {image.shape}")
    reason = _why_unavailable(detector, weights)
    if reason is not None:
        raise DetectorUnavailable(detector, reason)
    if detector == "hog":
        return _detect_hog(image, **options)
    if detector == "haar":
        return _detect_haar(image, **options)
    if detector == "yolo":
        return _detect_yolo(image, weights)
    return _detect_background(image, background, **options)

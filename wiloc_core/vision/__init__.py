"""Vision layer of the LoFi label generator (paper 002 §III): positions from a webcam.

The chain, one module each:

1. :mod:`~wiloc_core.vision.camera`: pinhole camera (intrinsics, pose, projection of
   world points in m to pixels), three default webcam views of the lofi-room walking
   area and a jittered frame clock.
2. :mod:`~wiloc_core.vision.render`: synthetic frames: an empty room (tiled floor,
   walls, light level and noise drawn from a seed) with a real person photo pasted at
   the true floor position, scaled by perspective, optionally behind an occluder; the
   true foot pixel comes with each frame.
3. :mod:`~wiloc_core.vision.detect`: person detectors (HOG, Haar, YOLO with local
   weights, background difference) behind one call; the most confident person box
   wins (eq. 1) and its bottom-edge midpoint is the foot point.
4. :mod:`~wiloc_core.vision.homography`: the floor homography from four reference
   points (eq. 2, ``cv2.getPerspectiveTransform``), pixel -> floor mapping (eq. 3) and
   the effect of a mis-clicked reference point.
5. :mod:`~wiloc_core.vision.labels`: render -> detect -> map for a walk seen from
   several views, with per-view label error and detection rate.
"""

from wiloc_core.vision.camera import (
    LOFI_AREA,
    PERSON_HEIGHT_M,
    Camera,
    aim_at_area,
    area_corners,
    area_roi,
    default_viewpoints,
    frame_times,
)
from wiloc_core.vision.detect import (
    DETECTORS,
    Detection,
    DetectorUnavailable,
    available_detectors,
    best_detection,
    detect_person,
)
from wiloc_core.vision.homography import (
    apply_homography,
    floor_homography,
    misclick_floor_error,
    pixel_to_floor,
)
from wiloc_core.vision.labels import (
    LabelResult,
    label_views,
    reference_homography,
    simulate_walk,
)
from wiloc_core.vision.render import (
    Background,
    Frame,
    Occluder,
    person_sprite,
    render_background,
    render_frame,
)

__all__ = [
    "LOFI_AREA", "PERSON_HEIGHT_M", "Camera", "aim_at_area", "area_roi", "area_corners",
    "default_viewpoints", "frame_times",
    "DETECTORS", "Detection", "DetectorUnavailable", "available_detectors",
    "best_detection", "detect_person",
    "apply_homography", "floor_homography", "misclick_floor_error", "pixel_to_floor",
    "LabelResult", "label_views", "reference_homography", "simulate_walk",
    "Background", "Frame", "Occluder", "person_sprite", "render_background", "render_frame",
]

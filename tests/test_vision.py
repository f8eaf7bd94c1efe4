"""Tests of the LoFi vision layer (wiloc_core.vision; paper 002 eqs. 1-3)."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.vision import (
    LOFI_AREA,
    PERSON_HEIGHT_M,
    Camera,
    DetectorUnavailable,
    Occluder,
    area_corners,
    available_detectors,
    best_detection,
    default_viewpoints,
    detect_person,
    floor_homography,
    frame_times,
    label_views,
    misclick_floor_error,
    pixel_to_floor,
    render_background,
    render_frame,
)

AVAILABLE = available_detectors()


def _floor3(xy):
    xy = np.asarray(xy, float).reshape(-1, 2)
    return np.column_stack([xy, np.zeros(len(xy))])


@pytest.fixture(scope="module")
def views():
    return default_viewpoints()


@pytest.fixture(scope="module")
def near_view():
    """Camera close enough that the person is ~250 px tall (HOG needs >= ~128 px)."""
    return Camera.look_at((2.5, 0.2, 2.2), (2.5, 2.6, 0.8), hfov_deg=70.0, name="near")


def test_homography_maps_references_and_a_known_point(views):
    cam = views[0]
    floor = area_corners()
    h = floor_homography(cam.project(_floor3(floor)), floor)
    assert np.allclose(pixel_to_floor(h, cam.project(_floor3(floor))), floor, atol=1e-9)
    point = np.array([[2.2, 4.3]])
    assert np.abs(pixel_to_floor(h, cam.project(_floor3(point))) - point).max() < 1e-6


def test_projection_round_trip_through_camera_homography(views):
    g = np.random.default_rng(0)
    xy = np.column_stack([g.uniform(1.6, 3.4, 50), g.uniform(1.1, 5.9, 50)])
    for cam in views:
        h = np.linalg.inv(cam.floor_to_image())
        assert np.abs(pixel_to_floor(h, cam.project(_floor3(xy))) - xy).max() < 1e-9


def test_default_views_see_the_whole_area_and_person(views):
    assert len(views) == 3
    x0, y0, x1, y1 = LOFI_AREA
    xy = np.array([[x, y] for x in np.linspace(x0, x1, 5) for y in np.linspace(y0, y1, 9)])
    heads = np.column_stack([xy, np.full(len(xy), PERSON_HEIGHT_M)])
    for cam in views:
        assert cam.in_view(_floor3(xy)).all() and cam.in_view(heads).all()
        assert 2.0 <= cam.position[2] <= 2.5 and cam.pitch_deg > 10


def test_area_is_the_lofi_preset_walking_area():
    from wiloc_core.sim.presets import preset

    assert tuple(preset("lofi-room").walk_area) == LOFI_AREA


def test_frame_times_are_monotonic_at_the_rate():
    t = frame_times(10.0, 26.0, 0.003, seed=1)
    assert len(t) == 260 and np.all(np.diff(t) > 0)
    assert abs(np.median(np.diff(t)) - 1 / 26) < 1e-3
    with pytest.raises(ParameterError, match="rate_hz"):
        frame_times(1.0, 0.0)


def test_best_detection_is_eq1():
    boxes = [(0, 0, 10, 20), (5, 5, 10, 30), (1, 1, 4, 4)]
    best = best_detection(boxes, [0.4, 0.9, 0.99], labels=[0, 0, 2])
    assert best.box == (5.0, 5.0, 10.0, 30.0) and best.confidence == 0.9
    assert np.allclose(best.foot_px, [10.0, 35.0])
    assert best_detection(boxes, [0.1, 0.2, 0.3], labels=[1, 1, 1]) is None
    assert best_detection(np.empty((0, 4)), []) is None


def test_yolo_without_weights_is_skipped_clearly(tmp_path):
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(DetectorUnavailable, match="yolo skipped: no weights file"):
        detect_person(image, "yolo")
    with pytest.raises(DetectorUnavailable, match="no weights file at"):
        detect_person(image, "yolo", weights=tmp_path / "missing.pt")
    assert AVAILABLE["yolo"].startswith("no weights file")


def test_haar_runs_or_is_reported_unavailable(near_view):
    frame = render_frame(near_view, (2.5, 2.6), seed=0)
    if AVAILABLE["haar"] is None:
        found = detect_person(frame.image, "haar")
        assert found is None or found.detector == "haar"
    else:
        with pytest.raises(DetectorUnavailable, match="haar skipped: .*(OpenCV|xml)"):
            detect_person(frame.image, "haar")


@pytest.mark.skipif(AVAILABLE["hog"] is not None, reason=f"HOG: {AVAILABLE['hog']}")
def test_hog_finds_the_person_near_the_true_foot(near_view):
    frame = render_frame(near_view, (2.5, 2.6), seed=3)
    tall = np.linalg.norm(frame.foot_px - frame.head_px)
    assert tall > 128
    found = detect_person(frame.image, "hog")
    assert found is not None
    assert np.linalg.norm(found.foot_px - frame.foot_px) < 0.12 * tall


def test_hog_unavailable_is_clear_when_missing():
    if AVAILABLE["hog"] is None:
        pytest.skip("HOG is available in this OpenCV build")
    with pytest.raises(DetectorUnavailable, match="hog skipped: OpenCV .* HOGDescriptor"):
        detect_person(np.zeros((128, 64, 3), np.uint8), "hog")


def test_background_detector_finds_the_foot(views):
    for cam in views:
        bg = render_background(cam, seed=2)
        frame = render_frame(cam, (2.0, 4.0), background=bg, seed=5)
        found = detect_person(frame.image, "background", background=bg.image)
        tall = np.linalg.norm(frame.foot_px - frame.head_px)
        assert np.linalg.norm(found.foot_px - frame.foot_px) < 0.05 * tall
    with pytest.raises(ParameterError, match="background"):
        detect_person(frame.image, "background")


def test_misclick_increases_floor_error(views):
    cam = views[1]
    floor = area_corners()
    pixels = cam.project(_floor3(floor))
    grid = np.array([[x, y] for x in np.linspace(1.6, 3.4, 4) for y in np.linspace(1.1, 5.9, 7)])
    assert np.all(misclick_floor_error(pixels, floor, grid, 0.0) == 0.0)
    small = misclick_floor_error(pixels, floor, grid, 2.0, corner=3).mean()
    large = misclick_floor_error(pixels, floor, grid, 10.0, corner=3).mean()
    assert 0.0 < small < large


def test_rendering_is_deterministic_for_a_seed(views):
    a = render_frame(views[2], (2.0, 3.0), seed=7)
    b = render_frame(views[2], (2.0, 3.0), seed=7)
    c = render_frame(views[2], (2.0, 3.0), seed=8)
    assert np.array_equal(a.image, b.image) and not np.array_equal(a.image, c.image)
    assert a.image.dtype == np.uint8 and a.image.shape == (480, 640, 3)


def test_label_views_small_walk(views):
    t = frame_times(0.5, 30.0, 0.002, seed=0)
    xy = np.column_stack([np.linspace(1.8, 3.2, len(t)), np.linspace(1.5, 5.5, len(t))])
    result = label_views(t, xy, views, detector="background", seed=0)
    assert result.labels_xy.shape == (3, len(t), 2)
    assert np.all(result.detection_rate == 1.0)
    assert np.all(result.mean_error_cm < 5.0)
    with pytest.raises(ParameterError, match="positions_xy"):
        label_views(t, xy[:-1], views)
    with pytest.raises(ParameterError, match="n_jobs"):
        label_views(t, xy, views, n_jobs=0)


def test_label_views_in_parallel_gives_the_same_labels(views):
    t = frame_times(0.2, 30.0, 0.002, seed=0)
    xy = np.column_stack([np.linspace(1.8, 3.2, len(t)), np.linspace(1.5, 5.5, len(t))])
    one = label_views(t, xy, views, detector="background", seed=3, click_px=2.0)
    two = label_views(t, xy, views, detector="background", seed=3, click_px=2.0, n_jobs=2)
    np.testing.assert_array_equal(one.labels_xy, two.labels_xy)


def test_occluder_in_front_hides_the_feet(views):
    cam = views[0]
    person = np.array([2.6, 3.5])
    # A 0.8 m board 0.6 m in front of the person, on the line to the camera.
    toward = (cam.position[:2] - person) / np.linalg.norm(cam.position[:2] - person)
    board = Occluder(*(person + 0.6 * toward), width_m=1.0, height_m=0.8)
    bg = render_background(cam, seed=1, occluder=board)
    frame = render_frame(cam, person, background=bg, seed=1)
    found = detect_person(frame.image, "background", background=bg.image)
    assert found is not None and found.foot_px[1] < frame.foot_px[1] - 10


@pytest.mark.skipif(AVAILABLE["hog"] is not None, reason=f"HOG: {AVAILABLE['hog']}")
def test_hog_tracked_labels_match_full_search(views):
    t = frame_times(0.3, 30.0, 0.002, seed=0)
    xy = np.column_stack([np.linspace(2.0, 2.2, len(t)), np.linspace(3.0, 3.1, len(t))])
    full = label_views(t, xy, views[:1], detector="hog", scale=1.1)
    tracked = label_views(t, xy, views[:1], detector="hog", scale=1.1, track=True)
    assert np.all(tracked.detection_rate == 1.0)
    assert abs(tracked.mean_error_cm[0] - full.mean_error_cm[0]) < 10.0

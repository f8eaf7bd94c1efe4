"""Time-of-arrival positioning (paper 004's baselines) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.methods import trilateration as tri

C = tri.SPEED_OF_LIGHT
SQUARE = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 8.0], [0.0, 8.0]])


def test_eq1_on_hand_made_timestamps():
    """A 15 m link: 50.03 ns of flight each way, a 10 us turnaround, a 3 ms clock offset."""
    tof = 15.0 / C
    offset, turnaround = 3e-3, 10e-6            # initiator clock ahead by 3 ms
    t1 = 1.0
    t2 = t1 + tof + offset
    t3 = t2 + turnaround
    t4 = t3 - offset + tof
    assert tri.round_trip_time(t1, t2, t3, t4) == pytest.approx(2 * tof, rel=1e-6)
    assert tri.range_from_timestamps(t1, t2, t3, t4) == pytest.approx(15.0, abs=1e-5)
    # picosecond integers as an FTM report gives them: 2 x 6671 ps is 2.0001 m one way
    ps = 1e-12
    assert tri.range_from_timestamps(0, 100_000 * ps, 150_000 * ps, 63_342 * ps) == pytest.approx(
        C * 13_342 * ps / 2)


def test_scan_step_averages_valid_readings_only():
    readings = np.full((20, 2), 5.0)
    readings[:10, 0] = np.arange(10.0)          # mean 4.5
    readings[3, 0] = np.nan                      # excluded: mean of the other nine
    readings[10:, 1] = np.nan                    # a whole failed step
    steps = tri.scan_steps(readings)
    assert steps.shape == (2, 2)
    assert steps[0, 0] == pytest.approx((45.0 - 3.0) / 9)
    assert steps[0, 1] == 5.0 and np.isnan(steps[1, 1])
    with pytest.raises(ParameterError, match="multiple of 10"):
        tri.scan_steps(np.zeros((15, 2)))


def test_at_least_three_aps():
    r = np.array([[1.0, 2.0, 3.0, np.nan], [1.0, np.nan, np.nan, 2.0]])
    np.testing.assert_array_equal(tri.enough_aps(r), [True, False])
    p = tri.least_squares_gauss_newton(r, SQUARE)
    assert np.all(np.isfinite(p[0])) and np.all(np.isnan(p[1]))


@pytest.mark.parametrize("solver", [tri.least_squares_gauss_newton, tri.least_squares_closed_form])
def test_least_squares_recovers_exact_positions(solver):
    truth = np.array([[2.0, 3.0], [7.5, 1.2], [5.0, 4.0], [9.0, 7.0]])
    ranges = np.linalg.norm(truth[:, None] - SQUARE[None], axis=2)
    ranges[1, 2] = np.nan                        # three APs still fix the point
    np.testing.assert_allclose(solver(ranges, SQUARE), truth, atol=1e-6)


def test_per_ap_bias_is_learned_and_removed():
    rng = np.random.default_rng(0)
    truth = rng.uniform([0, 0], [10, 8], size=(200, 2))
    true_r = np.linalg.norm(truth[:, None] - SQUARE[None], axis=2)
    bias = np.array([0.5, -0.2, 1.0, 0.0])
    model = tri.RangeBias.fit(true_r + bias, true_r)
    np.testing.assert_allclose(model.bias_m, bias, atol=1e-12)
    fixed = tri.least_squares_gauss_newton(model.apply(true_r + bias), SQUARE)
    np.testing.assert_allclose(fixed, truth, atol=1e-6)


def test_euclidean_distance_method_finds_the_grid_point():
    grid = tri.candidate_grid(SQUARE, spacing_m=0.5, margin_m=0.0)
    truth = np.array([[3.0, 2.5], [8.5, 6.0]])
    ranges = np.linalg.norm(truth[:, None] - SQUARE[None], axis=2)
    np.testing.assert_allclose(tri.euclidean_distance_method(ranges, SQUARE, grid), truth)


def test_weighted_knn_returns_a_training_point_for_its_own_fingerprint():
    xy = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    ranges = np.linalg.norm(xy[:, None] - SQUARE[None], axis=2)
    rss = -40 - 2 * ranges
    knn = tri.WeightedKnn(k=1).fit(ranges, rss, xy)
    np.testing.assert_allclose(knn.predict(ranges, rss), xy)
    knn3 = tri.WeightedKnn(k=3, rss_weight=0.0).fit(ranges, rss, xy)
    idx, dist = knn3.neighbours(ranges[:1], rss[:1])
    assert idx[0, 0] == 0 and dist[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(dist[0]) >= 0)


@pytest.mark.parametrize("n", [3, 4, 6, 9])
def test_crlb_for_anchors_evenly_on_a_circle(n):
    angles = 2 * np.pi * np.arange(n) / n + 0.3
    anchors = 7.0 * np.column_stack([np.cos(angles), np.sin(angles)]) + [1.0, 2.0]
    sigma = 0.4
    assert tri.crlb_rmse(anchors, [1.0, 2.0], sigma) == pytest.approx(2 * sigma / np.sqrt(n))


def test_crlb_grows_off_the_hull_and_with_noise():
    inside = tri.crlb_rmse(SQUARE, [5.0, 4.0], 0.3)
    outside = tri.crlb_rmse(SQUARE, [40.0, 4.0], 0.3)
    assert outside > 2 * inside
    assert tri.crlb_rmse(SQUARE, [5.0, 4.0], 0.6) == pytest.approx(2 * inside)
    with pytest.raises(ParameterError, match="sigma_m"):
        tri.crlb_rmse(SQUARE, [5.0, 4.0], 0.0)


def test_least_squares_error_approaches_the_crlb():
    """Gauss-Newton is efficient at high SNR: its RMSE is within 10 % of the bound."""
    rng = np.random.default_rng(1)
    truth = np.array([4.0, 3.0])
    sigma = 0.05
    true_r = np.linalg.norm(truth - SQUARE, axis=1)
    ranges = true_r + sigma * rng.standard_normal((4000, 4))
    est = tri.least_squares_gauss_newton(ranges, SQUARE)
    rmse = np.sqrt(np.mean(np.sum((est - truth) ** 2, axis=1)))
    assert rmse == pytest.approx(float(tri.crlb_rmse(SQUARE, truth, sigma)), rel=0.1)


def test_horizontal_ranges():
    np.testing.assert_allclose(tri.horizontal_ranges([5.0, 1.0], 3.0), [4.0, 0.0])

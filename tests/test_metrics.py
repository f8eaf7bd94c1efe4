"""Metrics checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wiloc_core import metrics as M
from wiloc_core.errors import ParameterError

# Three samples whose errors are 3-4-5, 6-8-10 and 0:
#   (3, 4) vs (0, 0) -> 5 ;  (1, 1) vs (7, 9) -> sqrt(36 + 64) = 10 ;  (2, 2) vs (2, 2) -> 0
PRED = np.array([[3.0, 4.0], [1.0, 1.0], [2.0, 2.0]])
TRUE = np.array([[0.0, 0.0], [7.0, 9.0], [2.0, 2.0]])


def test_positioning_errors_2d():
    np.testing.assert_allclose(M.positioning_errors(PRED, TRUE), [5.0, 10.0, 0.0])


def test_positioning_errors_3d():
    # (1, 2, 2) vs origin -> sqrt(1 + 4 + 4) = 3 ; (2, 3, 6) vs origin -> sqrt(4 + 9 + 36) = 7
    e = M.positioning_errors([[1, 2, 2], [2, 3, 6]], np.zeros((2, 3)))
    np.testing.assert_allclose(e, [3.0, 7.0])


@pytest.mark.parametrize(
    "pred, true, bad",
    [
        (np.zeros((3, 2)), np.zeros((2, 2)), "true_xy"),  # different n
        (np.zeros((3, 2)), np.zeros((3, 3)), "true_xy"),  # 2-D vs 3-D
        (np.zeros(3), np.zeros(3), "pred_xy"),  # 1-D
        (np.zeros((3, 4)), np.zeros((3, 4)), "pred_xy"),  # 4 coordinates
        (np.zeros((0, 2)), np.zeros((0, 2)), "pred_xy"),  # empty
        ([[0.0, np.nan]], [[0.0, 0.0]], "pred_xy"),  # NaN
    ],
)
def test_positioning_errors_bad_shapes(pred, true, bad):
    with pytest.raises(ParameterError) as info:
        M.positioning_errors(pred, true)
    assert info.value.name == bad
    assert "parameter '" + bad + "'" in str(info.value)


def test_mean_error_is_mean_euclidean():
    # (5 + 10 + 0) / 3 = 5
    assert M.mean_error(PRED, TRUE) == pytest.approx(5.0)
    assert M.mean_error([5.0, 10.0, 0.0]) == pytest.approx(5.0)
    # not the per-coordinate MAE, which would be (3+4+6+8+0+0)/6 = 3.5
    assert M.mean_error(PRED, TRUE) != pytest.approx(3.5)


def test_rmse_eq9():
    # sqrt((25 + 100 + 0) / 3) = sqrt(125 / 3) = 6.454972...
    assert M.rmse(PRED, TRUE) == pytest.approx(math.sqrt(125 / 3))
    assert M.rmse(np.array([5.0, 10.0, 0.0])) == pytest.approx(6.454972243679028)
    # single sample: RMSE equals the distance
    assert M.rmse([[3, 4]], [[0, 0]]) == pytest.approx(5.0)


def test_rmse_rejects_2d_errors_without_truth():
    with pytest.raises(ParameterError):
        M.rmse(PRED)  # positions without truths are not errors


def test_percentile_linear_by_hand():
    e = [1.0, 2.0, 3.0, 4.0, 10.0]
    # linear: h = (n-1) q/100. q=75 -> h=3 -> 4.0 ; q=95 -> h=3.8 -> 4 + 0.8*(10-4) = 8.8
    assert M.percentile_error(e, 75) == pytest.approx(4.0)
    assert M.percentile_error(e, 95) == pytest.approx(8.8)
    # q=50 -> h=2 -> 3 ; q=10 -> h=0.4 -> 1 + 0.4*1 = 1.4
    np.testing.assert_allclose(M.percentile_error(e, [50, 10]), [3.0, 1.4])
    # other numpy methods: 'lower' at q=95 takes x_(3) = 4, 'higher' x_(4) = 10
    assert M.percentile_error(e, 95, method="lower") == pytest.approx(4.0)
    assert M.percentile_error(e, 95, method="higher") == pytest.approx(10.0)
    # the default equals numpy's default
    assert M.percentile_error(e, 37) == pytest.approx(float(np.percentile(e, 37)))


def test_percentile_bad_args():
    with pytest.raises(ParameterError) as info:
        M.percentile_error([1.0, 2.0], 101)
    assert info.value.name == "q"
    with pytest.raises(ParameterError) as info:
        M.percentile_error([1.0, 2.0], 50, method="no-such-method")
    assert info.value.name == "method"
    with pytest.raises(ParameterError) as info:
        M.percentile_error([[1.0, 2.0]], 50)
    assert info.value.name == "errors"
    with pytest.raises(ParameterError):
        M.percentile_error([], 50)
    with pytest.raises(ParameterError):
        M.percentile_error([1.0, -2.0], 50)


def test_ecdf_steps():
    x, f = M.ecdf([3.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 2.0, 3.0])
    np.testing.assert_allclose(f, [0.25, 0.5, 0.75, 1.0])


def test_prob_error_within_inclusive():
    e = [1.0, 2.0, 2.0, 3.0]
    assert M.prob_error_within(e, 2.0) == pytest.approx(0.75)  # 1, 2, 2 are <= 2
    assert M.prob_error_within(e, 1.999) == pytest.approx(0.25)
    assert M.prob_error_within(e, 0.0) == 0.0
    assert M.prob_error_within(e, 10.0) == 1.0
    with pytest.raises(ParameterError):
        M.prob_error_within(e, -1.0)


def test_ecdf_matches_prob_within():
    e = np.array([0.5, 4.0, 1.5, 1.5, 9.0])
    x, f = M.ecdf(e)
    for xi, fi in zip(x, f, strict=True):
        # at the last copy of a value, F equals P(e <= value)
        if fi == f[x == xi].max():
            assert M.prob_error_within(e, xi) == pytest.approx(fi)


def test_hit_rates_and_accuracy():
    assert M.floor_hit_rate([0, 1, 2, 3], [0, 1, 1, 3]) == pytest.approx(0.75)
    assert M.building_hit_rate(["A", "B"], ["A", "A"]) == pytest.approx(0.5)
    assert M.classification_accuracy([1, 2, 3, 4, 5], [1, 2, 0, 0, 0]) == pytest.approx(0.4)
    with pytest.raises(ParameterError) as info:
        M.classification_accuracy([1, 2, 3], [1, 2])
    assert info.value.name == "true_labels"
    with pytest.raises(ParameterError):
        M.floor_hit_rate([0.5, 1.0], [0, 1])  # floors must be integers


def test_evaal_penalty_by_hand():
    pred = [[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    true = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [6.0, 8.0]]
    pf, tf = [0, 3, 1, 2], [0, 1, 1, 2]
    pb, tb = [0, 0, 1, 0], [0, 0, 2, 0]
    # sample 0: 5 m, right floor and building                   -> 5
    # sample 1: 0 m, two floors off (3 vs 1): 2 x 4 m            -> 8
    # sample 2: 0 m, right floor, wrong building: 50 m           -> 50
    # sample 3: 10 m, all right                                  -> 10
    e = M.evaal_errors(pred, true, pf, tf, pb, tb)
    np.testing.assert_allclose(e, [5.0, 8.0, 50.0, 10.0])
    # 'mismatch' reading: one wrong floor costs 4 m regardless of how many floors off
    e2 = M.floor_penalized_errors(pred, true, pf, tf, pb, tb, floor_mode="mismatch")
    np.testing.assert_allclose(e2, [5.0, 4.0, 50.0, 10.0])
    assert M.EVAAL_FLOOR_PENALTY_M == 4.0
    assert M.EVAAL_BUILDING_PENALTY_M == 50.0


def test_ipin_penalty_by_hand():
    # 5 m + 15 m x |2 - 0| = 35 ; 0 m + 15 x |-1 - 0| = 15
    e = M.ipin_track3_errors([[3, 4], [1, 1]], [[0, 0], [1, 1]], [2, -1], [0, 0])
    np.testing.assert_allclose(e, [35.0, 15.0])
    assert M.IPIN_TRACK3_FLOOR_PENALTY_M == 15.0


def test_penalty_bad_args():
    with pytest.raises(ParameterError) as info:
        M.evaal_errors([[0, 0]], [[0, 0]], [0, 1], [0])
    assert info.value.name == "pred_floor"
    with pytest.raises(ParameterError):
        M.floor_penalized_errors([[0, 0]], [[0, 0]], [0], [0], [1], None)
    with pytest.raises(ParameterError) as info:
        M.floor_penalized_errors([[0, 0]], [[0, 0]], [0], [0], floor_mode="per-wrong")
    assert info.value.name == "floor_mode"


def test_summarize_errors_by_hand():
    s = M.summarize_errors([1.0, 2.0, 3.0, 4.0, 10.0])
    # mean 20/5 = 4 ; median 3 ; rmse sqrt((1+4+9+16+100)/5) = sqrt(26) ; p75 4 ; p95 8.8 ; max 10
    assert s == pytest.approx(
        {"n": 5, "mean": 4.0, "median": 3.0, "rmse": math.sqrt(26.0), "p75": 4.0, "p95": 8.8,
         "max": 10.0}
    )
    assert isinstance(s["n"], int)


def test_accuracy_gain_matches_paper_000_table_ii():
    # Paper 000 Table II, Lab at 15%: conventional 22.88 cm, proposed 13.75 cm, gain 39.90%
    assert M.accuracy_gain(22.88, 13.75) == pytest.approx(39.90, abs=0.005)
    # Lobby at 10%: 34.07 -> 19.46 gives 42.88%
    assert M.accuracy_gain(34.07, 19.46) == pytest.approx(42.88, abs=0.005)
    # by hand: 10 -> 7.5 is a 25% gain; worse method gives a negative gain
    assert M.accuracy_gain(10.0, 7.5) == pytest.approx(25.0)
    assert M.accuracy_gain(10.0, 12.0) == pytest.approx(-20.0)
    np.testing.assert_allclose(M.accuracy_gain([10.0, 20.0], [5.0, 5.0]), [50.0, 75.0])
    with pytest.raises(ParameterError) as info:
        M.accuracy_gain(0.0, 1.0)
    assert info.value.name == "baseline_rmse"

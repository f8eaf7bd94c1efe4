"""Every path of the verdict rules (wiloc_core.verdicts), on hand-made numbers.

The statuses may never say more than a run shows; each test below pins one rule of the
module docstring, and each would fail if that rule were loosened.
"""

from __future__ import annotations

import math

import pytest

from wiloc_core import verdicts as V

# ------------------------------------------------------------------------------------
# noise_margin against closed forms of Student's t quantile
# ------------------------------------------------------------------------------------


def _sd(values):
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def test_noise_margin_two_seeds_matches_the_cauchy_quantile():
    # df = 1: Student's t is the Cauchy distribution, t(p) = tan(pi (p - 1/2)).
    values = [1.0, 4.0]
    t95 = math.tan(math.pi * (0.95 - 0.5))
    expected = t95 * _sd(values) / math.sqrt(2)
    assert V.noise_margin(values) == pytest.approx(expected, rel=1e-9)
    assert V.noise_margin(values) == pytest.approx(6.313751515 * 3.0 / 2.0, rel=1e-8)


def test_noise_margin_three_seeds_matches_the_df2_closed_form():
    # df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2))  =>  t(p) = (2p - 1) sqrt(2 / (4 p (1 - p))).
    values = [2.0, 3.5, 7.0]
    p = 1.0 - V.ALPHA
    t95 = (2 * p - 1) * math.sqrt(2.0 / (4 * p * (1 - p)))
    assert t95 == pytest.approx(2.919986, abs=1e-6)
    assert V.noise_margin(values) == pytest.approx(t95 * _sd(values) / math.sqrt(3), rel=1e-9)


def test_noise_margin_six_seeds_matches_the_printed_table():
    values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert V.noise_margin(values) == pytest.approx(2.015048 * _sd(values) / math.sqrt(6), rel=1e-6)


def test_noise_margin_is_infinite_for_one_seed_and_zero_without_spread():
    assert V.noise_margin([3.0]) == math.inf
    assert V.noise_margin([]) == math.inf
    assert V.noise_margin([2.0, 2.0, 2.0]) == 0.0


# ------------------------------------------------------------------------------------
# Values (rules 3-5): judge_value
# ------------------------------------------------------------------------------------

CLEAR = [1.0, 1.1, 0.9]          # mean 1.0, margin ~0.17: beats the noise
NOISY = [3.0, -2.0, 0.5]         # mean 0.5, margin ~4.2: inside the noise
REVERSED = [-1.0, -1.2, -0.8]    # mean -1.0


@pytest.mark.parametrize("ours, paper, tol, effect, expected", [
    (10.5, 10.0, 0.1, None, V.REPRODUCED),           # within, no effect defined
    (11.0, 10.0, 0.1, None, V.REPRODUCED),           # tolerance boundary included
    (11.01, 10.0, 0.1, None, V.NOT_REPRODUCED),      # just outside, no effect defined
    (-10.5, -10.0, 0.1, None, V.REPRODUCED),         # tolerance relative to |paper|
    (0.05, 0.0, 0.1, None, V.REPRODUCED),            # absolute tolerance when paper is 0
    (0.2, 0.0, 0.1, None, V.NOT_REPRODUCED),
    (10.5, 10.0, 0.1, CLEAR, V.REPRODUCED),          # within and the effect points the paper's way
    (10.5, 10.0, 0.1, NOISY, V.REPRODUCED),          # within, effect positive but noisy
    (10.5, 10.0, 0.1, [0.3], V.REPRODUCED),          # within, one seed, positive
    (10.5, 10.0, 0.1, REVERSED, V.NOT_REPRODUCED),   # within but reversed: never reproduced
    (10.0, 10.0, 0.1, [0.0, 0.0], V.NOT_REPRODUCED),  # exact value, no effect at all
    (10.0, 10.0, 0.1, [-0.01], V.NOT_REPRODUCED),    # one seed pointing the wrong way
    (14.0, 10.0, 0.1, CLEAR, V.DIRECTION),           # outside, effect beats the noise
    (14.0, 10.0, 0.1, NOISY, V.INCONCLUSIVE),        # outside, effect inside the noise
    (14.0, 10.0, 0.1, [0.002], V.INCONCLUSIVE),      # outside, one seed, small effect
    (14.0, 10.0, 0.1, [5.0], V.INCONCLUSIVE),        # one seed cannot beat unknown noise
    (14.0, 10.0, 0.1, REVERSED, V.NOT_REPRODUCED),   # outside and reversed
])
def test_judge_value(ours, paper, tol, effect, expected):
    assert V.judge_value(ours, paper, tol, effect) == expected


def test_a_tiny_gain_does_not_reproduce_a_large_one():
    """Issue 9: 'direction reproduced' accepted a 0.2 % gain against the paper's 39.9 %."""
    gain = [0.3, -0.1, 0.4]  # mean 0.2 %, noise margin ~0.45 %
    assert V.judge_value(0.2, 39.9, 0.1, gain) == V.INCONCLUSIVE
    assert V.judge_value(0.2, 39.9, 0.1, [0.21, 0.2, 0.19]) == V.DIRECTION


def test_empty_effect_counts_as_no_effect():
    assert V.judge_value(10.5, 10.0, 0.1, []) == V.REPRODUCED
    assert V.judge_value(12.0, 10.0, 0.1, []) == V.NOT_REPRODUCED


# ------------------------------------------------------------------------------------
# Claim cells and claims
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("test, low, high, values, deterministic, expected", [
    ("greater", 0.0, None, [1.0, 1.1, 0.9], False, "holds"),
    ("greater", 0.0, None, [3.0, -2.0, 0.5], False, "open"),
    ("greater", 0.0, None, [-1.0, -1.2, -0.8], False, "fails"),
    ("greater", 0.0, None, [0.0, 0.0], False, "fails"),        # at the bound is not above it
    ("greater", 0.0, None, [0.5], False, "open"),              # one seed
    ("greater", 0.0, None, [0.5], True, "holds"),              # a count has no seed noise
    ("greater", 0.0, None, [0.0], True, "fails"),
    ("less", None, 5.0, [4.0, 4.1, 3.9], False, "holds"),
    ("less", None, 5.0, [4.0, 6.0, 4.5], False, "open"),
    ("less", None, 5.0, [6.0, 6.0], False, "fails"),
    ("less", None, 5.0, [4.9], True, "holds"),
    ("less", None, 5.0, [5.0], True, "fails"),
    ("between", 10.0, 20.0, [15.0, 15.5, 14.5], False, "holds"),
    ("between", 10.0, 20.0, [10.5, 12.0, 9.5], False, "open"),  # mean inside, bound outside
    ("between", 10.0, 20.0, [25.0, 24.0, 26.0], False, "fails"),
    ("between", 10.0, 20.0, [5.0, 5.0], False, "fails"),
    ("between", 10.0, 20.0, [10.0], True, "holds"),             # band edges included
    ("between", 10.0, 20.0, [20.0], True, "holds"),
    ("between", 10.0, 20.0, [15.0], False, "open"),
])
def test_cell_state(test, low, high, values, deterministic, expected):
    assert V.cell_state(test, low, high, values, deterministic) == expected


def test_cell_state_rejects_empty_cells_and_unknown_tests():
    with pytest.raises(ValueError, match="at least one value"):
        V.cell_state("greater", 0.0, None, [])
    with pytest.raises(ValueError, match="unknown claim test 'above'"):
        V.cell_state("above", 0.0, None, [1.0])


def _cells(*value_lists, deterministic=False):
    return [{"label": f"c{i}", "values": list(v), "deterministic": deterministic}
            for i, v in enumerate(value_lists)]


@pytest.mark.parametrize("test, low, high, cells, expected", [
    ("greater", 0.0, None, _cells([1.0, 1.1, 0.9], [2.0, 2.2, 1.9]), V.HOLDS),
    ("greater", 0.0, None, _cells([1.0, 1.1, 0.9], [3.0, -2.0, 0.5]), V.INCONCLUSIVE),
    ("greater", 0.0, None, _cells([1.0, 1.1, 0.9], [3.0, -2.0, 0.5], [-1.0, -1.0]), V.NOT_REPRODUCED),
    ("greater", 0.0, None, _cells([0.5]), V.INCONCLUSIVE),                     # one seed
    ("greater", 0.0, None, _cells([3.0], [1.0], deterministic=True), V.HOLDS),  # counts
    ("greater", 0.0, None, _cells([3.0], [-1.0], deterministic=True), V.NOT_REPRODUCED),
    ("less", None, 5.0, _cells([4.0, 4.1, 3.9]), V.HOLDS),
    ("less", None, 5.0, _cells([4.0, 4.1, 3.9], [5.5, 5.6, 5.4]), V.NOT_REPRODUCED),
    ("between", 10.0, 20.0, _cells([15.0, 15.5, 14.5], [11.0, 12.0, 13.0]), V.HOLDS),
    ("between", 10.0, 20.0, _cells([15.0, 15.5, 14.5], [10.5, 12.0, 9.5]), V.INCONCLUSIVE),
    ("between", 10.0, 20.0, _cells([15.0, 15.5, 14.5], [25.0, 24.0, 26.0]), V.NOT_REPRODUCED),
    ("greater", 0.0, None, [], V.INCONCLUSIVE),                                # nothing measured
])
def test_judge_claim(test, low, high, cells, expected):
    assert V.judge_claim(test, low, high, cells) == expected


def test_max_between_judges_only_the_largest_cell():
    """'Up to 43 %' needs the *largest* gain in the band: one cell at 30 % is not enough."""
    band = (38.7, 47.3)
    near = _cells([30.0, 31.0, 29.0], [43.0, 42.5, 43.5], [5.0, 6.0, 4.0])
    assert V.judge_claim("max_between", *band, near) == V.HOLDS
    only_30 = _cells([30.0, 31.0, 29.0], [5.0, 6.0, 4.0])
    assert V.judge_claim("max_between", *band, only_30) == V.NOT_REPRODUCED
    too_big = _cells([30.0, 31.0, 29.0], [60.0, 61.0, 59.0])
    assert V.judge_claim("max_between", *band, too_big) == V.NOT_REPRODUCED
    noisy = _cells([43.0, 30.0, 56.0])
    assert V.judge_claim("max_between", *band, noisy) == V.INCONCLUSIVE
    one_seed = _cells([30.0], [43.0])
    assert V.judge_claim("max_between", *band, one_seed) == V.INCONCLUSIVE
    deterministic = _cells([30.0], [43.0], deterministic=True)
    assert V.judge_claim("max_between", *band, deterministic) == V.HOLDS


# ------------------------------------------------------------------------------------
# status(): rules 1 and 2 before the others
# ------------------------------------------------------------------------------------


def _value(profile="full", data_kind="real", ours=10.5, effect=None):
    record = {"kind": "value", "profile": profile, "data_kind": data_kind, "ours": ours}
    if effect is not None:
        record["effect"] = effect
    return record


def _claim(profile="full", data_kind="real", cells=None):
    return {"kind": "claim", "profile": profile, "data_kind": data_kind,
            "cells": cells if cells is not None else _cells([1.0, 1.1, 0.9])}


GREATER_0 = {"test": "greater", "low": 0.0, "high": None}


@pytest.mark.parametrize("profile", ["quick", "custom"])
def test_quick_and_custom_runs_are_never_judged(profile):
    assert V.status(_value(profile), 10.0, 0.1) == V.NOT_JUDGED
    assert V.status(_value(profile, effect=CLEAR), 10.0, 0.1) == V.NOT_JUDGED
    assert V.status(_value(profile, "simulated"), 10.0, 0.1) == V.NOT_JUDGED
    assert V.status(_claim(profile), claim=GREATER_0) == V.NOT_JUDGED
    assert V.status(_claim(profile, cells=_cells([-1.0, -1.0])), claim=GREATER_0) == V.NOT_JUDGED


@pytest.mark.parametrize("profile", ["full", "paper"])
def test_full_and_paper_runs_are_judged(profile):
    assert V.status(_value(profile), 10.0, 0.1) == V.REPRODUCED
    assert V.status(_value(profile, ours=14.0, effect=CLEAR), 10.0, 0.1) == V.DIRECTION
    assert V.status(_claim(profile), claim=GREATER_0) == V.HOLDS


def test_simulated_value_within_tolerance_is_magnitude_only():
    assert V.status(_value(data_kind="simulated", ours=10.0), 10.0, 0.1) == V.MAGNITUDE
    assert V.status(_value(data_kind="simulated", ours=10.0, effect=CLEAR), 10.0, 0.1) == V.MAGNITUDE
    assert V.status(_value(data_kind="simulated", ours=10.0, effect=REVERSED), 10.0, 0.1) == V.MAGNITUDE
    assert V.status(_value(data_kind="real", ours=10.0), 10.0, 0.1) == V.REPRODUCED


def test_claims_are_judged_on_simulated_data_too():
    assert V.status(_claim(data_kind="simulated"), claim=GREATER_0) == V.HOLDS
    assert V.status(_claim(data_kind="simulated", cells=_cells([-1.0, -1.1])),
                    claim=GREATER_0) == V.NOT_REPRODUCED
    band = {"test": "between", "low": 10.0, "high": 20.0}
    assert V.status(_claim(cells=_cells([15.0])), claim=band) == V.INCONCLUSIVE


def test_reversed_effect_within_tolerance_is_not_reproduced():
    """Issue 9: Narrow Corridor 'Proposed 2.5 %' was 'reproduced' while losing to the CNN."""
    record = _value(ours=10.2, effect=[-3.0, -1.5, -2.2])
    assert V.status(record, 10.0, 0.1) == V.NOT_REPRODUCED


def test_one_seed_small_effect_is_inconclusive():
    assert V.status(_value(ours=13.0, effect=[0.01]), 10.0, 0.1) == V.INCONCLUSIVE


def test_statuses_are_distinct_and_ordered():
    assert len(set(V.STATUSES)) == len(V.STATUSES) == 7
    assert V.STATUSES[0] == V.REPRODUCED and V.STATUSES[-1] == V.NOT_JUDGED

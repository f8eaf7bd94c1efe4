"""How a regenerated number or a checked claim earns a status: the one set of rules.

A status never says more than the run shows. The rules, in order:

1. **Only an unmodified full- or paper-profile run is judged.** A ``quick`` run is a
   shortened pipeline check and a ``custom`` run has overridden parameters: both get
   :data:`NOT_JUDGED`, whatever their numbers.
2. **Only real data can reproduce a number.** A value computed on simulated data is
   shown beside the paper's as a magnitude (:data:`MAGNITUDE`), never "reproduced".
   Claims get verdicts on both kinds of data; the data kind stays on the record.
3. **A reversed effect is never reproduced.** A value may carry its *effect*: one
   number per seed (a paired difference, e.g. conventional minus proposed RMSE),
   positive when it points the paper's way. A mean effect at or below zero gives
   :data:`NOT_REPRODUCED`, even for a value within tolerance.
4. **An effect must beat the seed-to-seed noise.** The test is a one-sided paired
   *t*-test over seeds at the 5 % level: the effect holds when its mean exceeds
   ``t(0.95, n-1) * sd / sqrt(n)``. With one seed the noise is unknown and the
   effect is :data:`INCONCLUSIVE` (unless it points the wrong way).
5. A real value within the registry's relative tolerance whose effect (if any)
   points the paper's way is :data:`REPRODUCED`; outside the tolerance with an effect
   that beats the noise it is :data:`DIRECTION`; with an effect inside the noise,
   :data:`INCONCLUSIVE`; with no effect defined, :data:`NOT_REPRODUCED`.

Claims (registry: :mod:`wiloc_core.claims`) are judged on *cells*: each cell is one
quantity measured per seed (or once, when it is deterministic, e.g. a count over a
dataset). A claim's test is ``greater`` (every cell above ``low``), ``less`` (every
cell below ``high``), ``between`` (every cell in ``[low, high]``) or ``max_between``
(the cell with the largest mean in ``[low, high]``, for "up to X %"). Each cell is
*holds* (its confidence bound is on the right side), *fails* (its mean is on the wrong
side) or *open* (in between, or one seed). A claim holds when every cell holds, is
:data:`NOT_REPRODUCED` when any cell fails and :data:`INCONCLUSIVE` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

REPRODUCED = "reproduced within tolerance"
DIRECTION = "direction reproduced"
HOLDS = "claim holds"
INCONCLUSIVE = "inconclusive"
NOT_REPRODUCED = "not reproduced"
MAGNITUDE = "magnitude only (simulated)"
NOT_JUDGED = "not judged (quick or custom run)"

#: Every status, from the strongest to the weakest statement.
STATUSES = (REPRODUCED, DIRECTION, HOLDS, INCONCLUSIVE, NOT_REPRODUCED, MAGNITUDE, NOT_JUDGED)
#: Profiles whose runs follow a protocol fixed in :mod:`wiloc_core.profiles` and are judged.
JUDGED_PROFILES = ("full", "paper")
#: Every profile label a record may carry.
PROFILE_LABELS = ("quick", "full", "paper", "custom")
CLAIM_TESTS = ("greater", "less", "between", "max_between")
#: One-sided level of the paired t-test over seeds.
ALPHA = 0.05

_HOLDS, _FAILS, _OPEN = "holds", "fails", "open"


def noise_margin(values: Sequence[float]) -> float:
    """Half-width of the one-sided 95 % confidence bound on the mean of ``values``.

    Parameters
    ----------
    values : sequence of float, length n
        One number per seed.

    Returns
    -------
    float
        ``t(0.95, n-1) * sd / sqrt(n)`` (sample sd, ``ddof=1``); ``inf`` for n < 2,
        where the seed-to-seed noise cannot be estimated.
    """
    n = len(values)
    if n < 2:
        return math.inf
    from scipy.stats import t

    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return float(t.ppf(1.0 - ALPHA, n - 1)) * sd / math.sqrt(n)


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values))


def cell_state(test: str, low: float | None, high: float | None, values: Sequence[float],
               deterministic: bool = False) -> str:
    """Whether one cell of a claim holds, fails or is open (see the module docstring).

    Parameters
    ----------
    test : {"greater", "less", "between"}
    low, high : float or None
        The band the paper states (``greater`` uses ``low``, ``less`` uses ``high``).
    values : sequence of float
        The cell's quantity, one number per seed (at least one).
    deterministic : bool
        The quantity has no seed noise (a count over a dataset): judged on its value.
    """
    if not values:
        raise ValueError("a claim cell needs at least one value")
    m = mean(values)
    h = 0.0 if deterministic else noise_margin(values)
    if test == "greater":
        if m <= low:
            return _FAILS
        return _HOLDS if m - h > low else _OPEN
    if test == "less":
        if m >= high:
            return _FAILS
        return _HOLDS if m + h < high else _OPEN
    if test == "between":
        if not low <= m <= high:
            return _FAILS
        return _HOLDS if (m - h >= low and m + h <= high) else _OPEN
    raise ValueError(f"unknown claim test {test!r}: expected one of {CLAIM_TESTS}")


def judge_claim(test: str, low: float | None, high: float | None, cells: Sequence[dict]) -> str:
    """The status of a claim from its cells (``{"label", "values", "deterministic"}``)."""
    if not cells:
        return INCONCLUSIVE
    if test == "max_between":
        cells = [max(cells, key=lambda c: mean(c["values"]))]
        test = "between"
    states = [cell_state(test, low, high, c["values"], bool(c.get("deterministic")))
              for c in cells]
    if _FAILS in states:
        return NOT_REPRODUCED
    return HOLDS if all(s == _HOLDS for s in states) else INCONCLUSIVE


def judge_value(ours: float, paper_value: float, tolerance: float,
                effect: Sequence[float] | None) -> str:
    """The status of a real-data value from a judged profile (rules 3-5)."""
    scale = abs(paper_value) if paper_value != 0 else 1.0
    within = abs(ours - paper_value) <= tolerance * scale
    if effect is not None and len(effect) > 0:
        state = cell_state("greater", 0.0, None, effect)
        if state == _FAILS:
            return NOT_REPRODUCED
        if within:
            return REPRODUCED
        return DIRECTION if state == _HOLDS else INCONCLUSIVE
    return REPRODUCED if within else NOT_REPRODUCED


def status(record: dict, paper_value: float | None = None, tolerance: float | None = None,
           claim: dict | None = None) -> str:
    """The status of one report record (rules 1-5 of the module docstring).

    Parameters
    ----------
    record : dict
        A record of ``report.json``: ``kind`` ("value" or "claim"), ``profile``,
        ``data_kind``, and ``ours`` / ``effect`` (values) or ``cells`` (claims).
    paper_value, tolerance : float, optional
        The registry's value and relative tolerance (values only).
    claim : dict, optional
        The claim's registry row (claims only): ``test``, ``low``, ``high``.
    """
    if record.get("profile") not in JUDGED_PROFILES:
        return NOT_JUDGED
    if record["kind"] == "claim":
        return judge_claim(claim["test"], claim.get("low"), claim.get("high"), record["cells"])
    if record.get("data_kind") != "real":
        return MAGNITUDE
    return judge_value(float(record["ours"]), float(paper_value), float(tolerance),
                       record.get("effect"))

"""Error metrics used by the five papers, with their exact definitions.

All functions take NumPy arrays (or anything :func:`numpy.asarray` accepts) and
return NumPy arrays or Python floats. Positions are in metres unless said otherwise;
every function is unit-agnostic as long as predictions and truths share a unit.
Bad shapes and values raise :class:`wiloc_core.errors.ParameterError`.

Summary of conventions
----------------------
* Positioning error of one sample = Euclidean distance between estimated and true
  position (2-D or 3-D), :func:`positioning_errors`.
* "MAE" in the surrogate-teacher paper (001, Sec. 4.1) is the *mean Euclidean
  distance*, not a per-coordinate mean absolute error: :func:`mean_error`.
* "RMSE" in AlHajri et al. (000, eq. 9) is the square root of the mean *squared
  Euclidean* error over samples: :func:`rmse`.
* Percentiles use :func:`numpy.percentile` with ``method="linear"`` (NumPy's default,
  Hyndman & Fan type 7) unless another method is asked for: :func:`percentile_error`.
* The empirical CDF is the exact step function with ``F = i / n`` at the i-th
  smallest error: :func:`ecdf`. ``P(error <= r)`` is inclusive:
  :func:`prob_error_within`.
* Multi-floor penalties (EvAAL/UJI and IPIN conventions): :func:`floor_penalized_errors`.
* "Accuracy gain" of paper 000 = percentage reduction of RMSE: :func:`accuracy_gain`.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

__all__ = [
    "EVAAL_FLOOR_PENALTY_M",
    "EVAAL_BUILDING_PENALTY_M",
    "IPIN_TRACK3_FLOOR_PENALTY_M",
    "positioning_errors",
    "mean_error",
    "rmse",
    "percentile_error",
    "ecdf",
    "prob_error_within",
    "floor_hit_rate",
    "building_hit_rate",
    "classification_accuracy",
    "floor_penalized_errors",
    "evaal_errors",
    "ipin_track3_errors",
    "summarize_errors",
    "accuracy_gain",
]

EVAAL_FLOOR_PENALTY_M = 4.0
"""Metres added per floor of difference (EvAAL-ETRI 2015 / UJIIndoorLoc convention).

Our reading of that competition's metric (Torres-Sospedra et al., "A realistic
evaluation of indoor positioning systems based on Wi-Fi fingerprinting: the 2015
EvAAL-ETRI competition", JAISE 9(2), 2017) is
``error = horizontal distance + 4 m x |floor difference| + 50 m x [building wrong]``,
i.e. the floor penalty is paid once *per floor of difference*, not once per wrongly
estimated floor. :func:`floor_penalized_errors` offers the other reading through
``floor_mode="mismatch"``.
"""

EVAAL_BUILDING_PENALTY_M = 50.0
"""Metres added when the building is wrong (EvAAL/UJI convention), once per sample."""

IPIN_TRACK3_FLOOR_PENALTY_M = 15.0
"""Metres added per floor of difference in the IPIN competition tracks
(horizontal error + 15 m x |floor difference|)."""


# --------------------------------------------------------------------------- helpers
def _as_float_array(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, "an array of real numbers", type(x).__name__) from exc
    return arr


def _as_errors(errors, name: str = "errors") -> np.ndarray:
    """Validate a 1-D, non-empty, finite, non-negative array of errors."""
    arr = _as_float_array(errors, name)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ParameterError(name, "a 1-D array of per-sample errors, shape [n]",
                             f"shape {arr.shape}")
    if arr.size == 0:
        raise ParameterError(name, "at least one error value", "an empty array")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, "finite values (no NaN or inf)",
                             f"{int(np.sum(~np.isfinite(arr)))} non-finite entries")
    if np.any(arr < 0):
        raise ParameterError(name, "non-negative errors", f"minimum {arr.min()!r}")
    return arr


def _as_positions(x, name: str) -> np.ndarray:
    arr = _as_float_array(x, name)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise ParameterError(name, "positions of shape [n, 2] or [n, 3]", f"shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ParameterError(name, "at least one position", "shape " + str(arr.shape))
    if not np.all(np.isfinite(arr)):
        raise ParameterError(name, "finite coordinates (no NaN or inf)",
                             f"{int(np.sum(~np.isfinite(arr)))} non-finite entries")
    return arr


def _as_labels(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ParameterError(name, "a 1-D array of labels, shape [n]", f"shape {arr.shape}")
    if arr.size == 0:
        raise ParameterError(name, "at least one label", "an empty array")
    return arr


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ParameterError(name_b, f"the same number of samples as {name_a} ({a.shape[0]})",
                             f"{b.shape[0]}")


def _errors_from(pred, true, pred_name: str = "pred") -> np.ndarray:
    """Errors from (pred, true) positions, or ``pred`` itself when ``true`` is None."""
    if true is None:
        return _as_errors(pred, pred_name)
    return positioning_errors(pred, true)


# --------------------------------------------------------------------------- errors
def positioning_errors(pred_xy, true_xy) -> np.ndarray:
    """Euclidean positioning error of each sample.

    ``e_i = ||p̂_i - p_i||_2``, the per-sample distance that every paper's metric is
    built from (000 eq. 9, 001 Sec. 4.1, 002 Table II, 004 Fig. 8).

    Parameters
    ----------
    pred_xy : array_like, shape [n, d]
        Estimated positions, d = 2 (x, y) or d = 3 (x, y, z).
    true_xy : array_like, shape [n, d]
        True positions, same shape and unit as ``pred_xy``.

    Returns
    -------
    numpy.ndarray, shape [n]
        Non-negative errors in the unit of the inputs.

    Raises
    ------
    ParameterError
        If either input is not [n, 2] or [n, 3], the shapes differ, n = 0, or a
        coordinate is NaN or infinite.
    """
    p = _as_positions(pred_xy, "pred_xy")
    t = _as_positions(true_xy, "true_xy")
    if p.shape != t.shape:
        raise ParameterError("true_xy", f"the same shape as pred_xy {p.shape}", f"shape {t.shape}")
    return np.sqrt(np.sum((p - t) ** 2, axis=1))


def mean_error(pred_or_errors, true_xy=None) -> float:
    """Mean Euclidean error; the "MAE" of the surrogate-teacher paper (001).

    Paper 001 (Sec. 4.1, "Evaluation Metrics") calls this the Mean Absolute Error and
    defines it as the Euclidean distance between estimated and true locations,
    averaged over test samples: ``MAE = (1/n) sum_i ||p̂_i - p_i||_2``. It is *not* the
    mean of per-coordinate absolute differences. Paper 002's "Error Mean" (Table II)
    is the same quantity.

    Parameters
    ----------
    pred_or_errors : array_like
        Either estimated positions, shape [n, d] (then ``true_xy`` is required), or
        per-sample errors, shape [n] (then ``true_xy`` must be None).
    true_xy : array_like, shape [n, d], optional
        True positions.

    Returns
    -------
    float
        Mean error in the unit of the inputs.
    """
    return float(np.mean(_errors_from(pred_or_errors, true_xy, "pred_or_errors")))


def rmse(pred, true=None) -> float:
    """Root-mean-square positioning error, exactly as eq. (9) of AlHajri et al. (000).

    Eq. (9) reads ``RMSE = [ (1/n) sum_{i=1}^{n} (x̄_i - x_i)^2 + (ȳ_i - y_i)^2 ]^{1/2}``.
    The bracket as typeset closes the sum after the x term, but the y term carries the
    summation index i, so we read it as the sum over samples of the *squared
    Euclidean* error::

        RMSE = sqrt( (1/n) * sum_i ((x̄_i - x_i)^2 + (ȳ_i - y_i)^2) )
             = sqrt( mean_i e_i^2 ),   e_i = ||p̂_i - p_i||_2

    Note that this is sqrt(2) times the per-coordinate RMSE for isotropic errors; it is
    not the mean of per-axis RMSEs. For 3-D inputs the z term is included the same way.

    Parameters
    ----------
    pred : array_like
        Estimated positions [n, d] with ``true`` given, or per-sample Euclidean errors
        [n] with ``true`` None.
    true : array_like, shape [n, d], optional
        True positions.

    Returns
    -------
    float
        RMSE in the unit of the inputs (paper 000 reports cm).
    """
    e = _errors_from(pred, true, "pred")
    return float(np.sqrt(np.mean(e**2)))


def percentile_error(errors, q, method: str = "linear"):
    """Percentile of the error distribution (e.g. the 75th and 95th of paper 001).

    Computed with :func:`numpy.percentile` and the given ``method``. The default,
    ``"linear"``, is NumPy's default (Hyndman & Fan type 7): with the errors sorted
    ``x_(0) <= ... <= x_(n-1)``, the q-th percentile sits at fractional index
    ``h = (n - 1) q / 100`` and is interpolated linearly between ``x_(floor h)`` and
    ``x_(ceil h)``. Papers rarely say which rule they used; for n in the thousands
    the choice barely matters.

    Parameters
    ----------
    errors : array_like, shape [n]
        Non-negative per-sample errors.
    q : float or array_like
        Percentile(s) in [0, 100].
    method : str, default "linear"
        Any method accepted by :func:`numpy.percentile` (``"linear"``, ``"lower"``,
        ``"higher"``, ``"nearest"``, ``"midpoint"``, ``"inverted_cdf"``, ...).

    Returns
    -------
    float or numpy.ndarray
        A float for scalar ``q``, otherwise an array shaped like ``q``.
    """
    e = _as_errors(errors)
    qa = _as_float_array(q, "q")
    if not np.all(np.isfinite(qa)) or np.any(qa < 0) or np.any(qa > 100):
        raise ParameterError("q", "percentile(s) in [0, 100]", q)
    try:
        out = np.percentile(e, qa, method=method)
    except (ValueError, TypeError) as exc:
        raise ParameterError("method", "a numpy.percentile method such as 'linear'", method) from exc
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def ecdf(errors) -> tuple[np.ndarray, np.ndarray]:
    """Exact empirical cumulative distribution function of the errors.

    The ECDF is the right-continuous step function ``F(x) = #{e_i <= x} / n``. We
    return its jump points: the sorted errors ``x_(1) <= ... <= x_(n)`` and
    ``F_i = i / n`` for i = 1..n (tied errors appear once per sample, so the value at
    the last copy of a tie is the ECDF there). Plot with
    ``plt.step(x, F, where="post")``. This is the curve of paper 001 Fig. 2 and paper
    002 Fig. 4.

    Parameters
    ----------
    errors : array_like, shape [n]
        Non-negative per-sample errors.

    Returns
    -------
    x : numpy.ndarray, shape [n]
        Sorted errors.
    F : numpy.ndarray, shape [n]
        Cumulative fractions ``1/n, 2/n, ..., 1``.
    """
    e = _as_errors(errors)
    x = np.sort(e)
    n = x.size
    return x, np.arange(1, n + 1, dtype=float) / n


def prob_error_within(errors, r: float) -> float:
    """Fraction of samples with error at most ``r``: the ECDF at ``r``, ``P(e <= r)``.

    Paper 001 (Sec. 4.2) quotes ``P(X <= 10 m)``; paper 002 (Fig. 4) the share of
    samples below 1 m. The comparison is inclusive (``<=``).

    Parameters
    ----------
    errors : array_like, shape [n]
        Non-negative per-sample errors.
    r : float
        Radius, >= 0, in the unit of ``errors``.

    Returns
    -------
    float
        Fraction in [0, 1] (multiply by 100 for %).
    """
    e = _as_errors(errors)
    try:
        rv = float(r)
    except (TypeError, ValueError) as exc:
        raise ParameterError("r", "a real number >= 0", r) from exc
    if not np.isfinite(rv) or rv < 0:
        raise ParameterError("r", "a finite real number >= 0", r)
    return float(np.mean(e <= rv))


# --------------------------------------------------------------------------- labels
def classification_accuracy(pred_labels, true_labels) -> float:
    """Fraction of samples whose predicted label equals the true one.

    Used for region classification (paper 002 Table II, 6/4/2 classes) and location
    classes (paper 003 Figs. 6-8).

    Parameters
    ----------
    pred_labels, true_labels : array_like, shape [n]
        Labels of any comparable dtype (ints, strings).

    Returns
    -------
    float
        Accuracy in [0, 1] (the papers print it in %).
    """
    p = _as_labels(pred_labels, "pred_labels")
    t = _as_labels(true_labels, "true_labels")
    _same_length(p, t, "pred_labels", "true_labels")
    return float(np.mean(p == t))


def floor_hit_rate(pred_floor, true_floor) -> float:
    """Fraction of samples with the correct floor (UJIIndoorLoc-style floor accuracy).

    Parameters
    ----------
    pred_floor, true_floor : array_like of int, shape [n]
        Floor indices.

    Returns
    -------
    float
        Hit rate in [0, 1].
    """
    return classification_accuracy(_int_labels(pred_floor, "pred_floor"),
                                   _int_labels(true_floor, "true_floor"))


def building_hit_rate(pred_building, true_building) -> float:
    """Fraction of samples with the correct building (UJIIndoorLoc has 3 buildings).

    Parameters
    ----------
    pred_building, true_building : array_like, shape [n]
        Building identifiers (ints or strings).

    Returns
    -------
    float
        Hit rate in [0, 1].
    """
    return classification_accuracy(pred_building, true_building)


def _int_labels(x, name: str) -> np.ndarray:
    arr = _as_labels(x, name)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    try:
        f = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, "integer floor indices", f"dtype {arr.dtype}") from exc
    if not np.all(np.isfinite(f)) or np.any(f != np.round(f)):
        raise ParameterError(name, "integer floor indices", "non-integer values")
    return f.astype(np.int64)


# --------------------------------------------------------------------------- penalties
def floor_penalized_errors(pred_xy, true_xy, pred_floor, true_floor, pred_building=None,
                           true_building=None, *, floor_penalty_m: float = EVAAL_FLOOR_PENALTY_M,
                           building_penalty_m: float = EVAAL_BUILDING_PENALTY_M,
                           floor_mode: str = "difference") -> np.ndarray:
    """Horizontal error plus floor and building penalties, per sample.

    ``e_i = ||p̂_i - p_i||_2 + floor_penalty_m * F_i + building_penalty_m * B_i`` with
    ``F_i = |f̂_i - f_i|`` (``floor_mode="difference"``, the default: pay once per floor
    of difference) or ``F_i = [f̂_i != f_i]`` (``floor_mode="mismatch"``: pay once for
    any wrong floor), and ``B_i = [b̂_i != b_i]``. Defaults are the EvAAL/UJI values
    (4 m per floor of difference, 50 m for a wrong building); see
    :func:`evaal_errors` and :func:`ipin_track3_errors` for the two named conventions.
    The floor penalty is applied whether or not the building is right.

    Parameters
    ----------
    pred_xy, true_xy : array_like, shape [n, 2] or [n, 3]
        Positions in metres (horizontal error uses all given coordinates).
    pred_floor, true_floor : array_like of int, shape [n]
        Floor indices (consecutive integers).
    pred_building, true_building : array_like, shape [n], optional
        Building identifiers; give both or neither (no building penalty if neither).
    floor_penalty_m, building_penalty_m : float
        Penalties in metres, >= 0.
    floor_mode : {"difference", "mismatch"}
        How the floor penalty counts, see above.

    Returns
    -------
    numpy.ndarray, shape [n]
        Penalised errors in metres.
    """
    e = positioning_errors(pred_xy, true_xy)
    fp = _int_labels(pred_floor, "pred_floor")
    ft = _int_labels(true_floor, "true_floor")
    _same_length(e, fp, "pred_xy", "pred_floor")
    _same_length(e, ft, "pred_xy", "true_floor")
    for name, val in (("floor_penalty_m", floor_penalty_m), ("building_penalty_m", building_penalty_m)):
        try:
            ok = bool(np.isfinite(float(val))) and float(val) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ParameterError(name, "a finite number >= 0", val)
    if floor_mode == "difference":
        floors = np.abs(fp - ft).astype(float)
    elif floor_mode == "mismatch":
        floors = (fp != ft).astype(float)
    else:
        raise ParameterError("floor_mode", "'difference' or 'mismatch'", floor_mode)
    out = e + floor_penalty_m * floors
    if (pred_building is None) != (true_building is None):
        raise ParameterError("true_building" if true_building is None else "pred_building",
                             "both pred_building and true_building, or neither", None)
    if pred_building is not None:
        bp = _as_labels(pred_building, "pred_building")
        bt = _as_labels(true_building, "true_building")
        _same_length(e, bp, "pred_xy", "pred_building")
        _same_length(e, bt, "pred_xy", "true_building")
        out = out + building_penalty_m * (bp != bt).astype(float)
    return out


def evaal_errors(pred_xy, true_xy, pred_floor, true_floor, pred_building=None,
                 true_building=None) -> np.ndarray:
    """EvAAL/UJIIndoorLoc penalised error: distance + 4 m x |floor diff| + 50 m x wrong building.

    Uses :data:`EVAAL_FLOOR_PENALTY_M` and :data:`EVAAL_BUILDING_PENALTY_M` with
    ``floor_mode="difference"``; see :func:`floor_penalized_errors`.
    """
    return floor_penalized_errors(pred_xy, true_xy, pred_floor, true_floor, pred_building,
                                  true_building, floor_penalty_m=EVAAL_FLOOR_PENALTY_M,
                                  building_penalty_m=EVAAL_BUILDING_PENALTY_M,
                                  floor_mode="difference")


def ipin_track3_errors(pred_xy, true_xy, pred_floor, true_floor) -> np.ndarray:
    """IPIN competition error: horizontal distance + 15 m x |floor difference|.

    Uses :data:`IPIN_TRACK3_FLOOR_PENALTY_M`, no building penalty; see
    :func:`floor_penalized_errors`.
    """
    return floor_penalized_errors(pred_xy, true_xy, pred_floor, true_floor,
                                  floor_penalty_m=IPIN_TRACK3_FLOOR_PENALTY_M,
                                  building_penalty_m=0.0, floor_mode="difference")


# --------------------------------------------------------------------------- summaries
def summarize_errors(errors, method: str = "linear") -> dict:
    """Summary statistics of per-sample errors.

    Parameters
    ----------
    errors : array_like, shape [n]
        Non-negative per-sample Euclidean errors.
    method : str, default "linear"
        Percentile method for median, p75 and p95 (see :func:`percentile_error`).

    Returns
    -------
    dict
        ``n`` (int), ``mean`` (= 001's MAE), ``median``, ``rmse`` (= 000's eq. 9),
        ``p75``, ``p95``, ``max`` (floats, unit of the input).
    """
    e = _as_errors(errors)
    p50, p75, p95 = percentile_error(e, [50.0, 75.0, 95.0], method=method)
    return {
        "n": int(e.size),
        "mean": float(np.mean(e)),
        "median": float(p50),
        "rmse": float(np.sqrt(np.mean(e**2))),
        "p75": float(p75),
        "p95": float(p95),
        "max": float(np.max(e)),
    }


def accuracy_gain(baseline_rmse, new_rmse):
    """Accuracy gain of paper 000: percentage reduction of RMSE relative to a baseline.

    Paper 000 (Sec. IV-B) describes Fig. 4 as "the percentage gain in localization
    accuracy (or equivalently percentage reduction in RMSE)", and Table II's "Accuracy
    Gain" column equals ``100 (RMSE_conventional - RMSE_proposed) / RMSE_conventional``
    to the printed two decimals (e.g. Lab, 15 %: (22.88 - 13.75) / 22.88 = 39.90 %)::

        gain = 100 * (baseline_rmse - new_rmse) / baseline_rmse   [%]

    Positive means the new method has the lower error. The same formula gives paper
    001's bracketed MAE changes (Table 1, 3) when applied to MAEs.

    Parameters
    ----------
    baseline_rmse : float or array_like
        Error of the baseline (conventional CNN), > 0.
    new_rmse : float or array_like
        Error of the new method, >= 0, broadcastable against ``baseline_rmse``.

    Returns
    -------
    float or numpy.ndarray
        Gain in percent.
    """
    b = _as_float_array(baseline_rmse, "baseline_rmse")
    n = _as_float_array(new_rmse, "new_rmse")
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ParameterError("baseline_rmse", "finite value(s) > 0", baseline_rmse)
    if not np.all(np.isfinite(n)) or np.any(n < 0):
        raise ParameterError("new_rmse", "finite value(s) >= 0", new_rmse)
    try:
        out = 100.0 * (b - n) / b
    except ValueError as exc:
        raise ParameterError("new_rmse", f"a shape broadcastable with {b.shape}", n.shape) from exc
    return float(out) if np.ndim(out) == 0 else out

"""Time-of-arrival positioning from WiFi RTT ranges: the baselines of WTN's Table 1.

Paper 004 (Seong, *End-to-end-based Wi-Fi RTT network structure design for positioning
stabilization*, 2021) compares its network with least-squares trilateration, a
Euclidean-distance method and a fingerprint method. This module holds those classic
steps, each a small function, in the order a ranging system runs them:

1. :func:`round_trip_time` / :func:`range_from_timestamps`: eq. (1),
   :math:`D = c\\,[(t_4 - t_1) - (t_3 - t_2)]/2` (IEEE 802.11-2020 §11.21.6, fine
   timing measurement).
2. :func:`scan_steps`: a scan step averages 10 range readings per AP, failed
   readings excluded (paper §3.1); :func:`enough_aps` keeps steps with at least 3 APs.
3. :func:`least_squares_gauss_newton` and :func:`least_squares_closed_form`: the
   position that best explains the ranges; :class:`RangeBias` learns a per-AP offset
   on the training split first.
4. :func:`euclidean_distance_method`: the candidate position whose geometric ranges
   are nearest (Euclidean distance) to the measured ones.
5. :class:`WeightedKnn`: a fingerprint method on ranges and RSS.
6. :func:`crlb_rmse`: the Cramér–Rao bound on the 2-D RMSE of any unbiased position
   estimate for a geometry and a range noise sigma.

Shapes: ``n`` scan steps (or rows), ``A`` access points. Ranges are metres, NaN where
an AP gave no reading. Positions are 2-D metres.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

SPEED_OF_LIGHT = 299_792_458.0
"""m/s."""

READINGS_PER_STEP = 10
"""Range readings averaged per scan step (paper 004 §3.1)."""

MIN_APS = 3
"""Fewest APs that fix a 2-D position (paper 004 §3.1)."""


# -- eq. (1) ---------------------------------------------------------------------------
def round_trip_time(t1, t2, t3, t4) -> np.ndarray:
    """Round-trip time of flight from the four FTM timestamps, eq. (1).

    The responder sends an FTM frame at ``t1``; the initiator receives it at ``t2``
    and answers with an ACK at ``t3``, which the responder receives at ``t4``. The
    turnaround ``t3 - t2`` is measured on the initiator's clock and removed, so the
    clock offset between the two devices cancels.

    Parameters
    ----------
    t1, t2, t3, t4 : array_like, float, s
        Broadcastable timestamps.

    Returns
    -------
    numpy.ndarray, float64, s
        :math:`(t_4 - t_1) - (t_3 - t_2)`.
    """
    t1, t2, t3, t4 = (np.asarray(t, dtype=np.float64) for t in (t1, t2, t3, t4))
    return (t4 - t1) - (t3 - t2)


def range_from_timestamps(t1, t2, t3, t4) -> np.ndarray:
    """One-way distance of eq. (1), :math:`D = c\\,\\mathrm{RTT}/2`; float64, metres."""
    return SPEED_OF_LIGHT * round_trip_time(t1, t2, t3, t4) / 2.0


# -- scan steps ------------------------------------------------------------------------
def scan_steps(readings, per_step: int = READINGS_PER_STEP) -> np.ndarray:
    """Average consecutive range readings into scan steps, failed readings excluded.

    Parameters
    ----------
    readings : array_like, float, shape (..., n_readings, A), m
        Range readings in time order; NaN where a reading failed. ``n_readings`` must
        be a multiple of ``per_step``.
    per_step : int
        Readings per scan step (paper 004 §3.1: 10).

    Returns
    -------
    numpy.ndarray, float64, shape (..., n_readings // per_step, A), m
        Mean of the valid readings of each step; NaN where all of them failed.
    """
    r = np.asarray(readings, dtype=np.float64)
    if r.ndim < 2 or r.shape[-2] % int(per_step):
        raise ParameterError("readings", f"shape (..., n_readings, A) with n_readings a multiple "
                             f"of {per_step}", r.shape)
    steps = r.reshape(*r.shape[:-2], r.shape[-2] // per_step, per_step, r.shape[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(steps, axis=-2)


def enough_aps(ranges, min_aps: int = MIN_APS) -> np.ndarray:
    """True for the scan steps with a range to at least ``min_aps`` APs; bool (...,)."""
    return np.sum(np.isfinite(np.asarray(ranges, dtype=np.float64)), axis=-1) >= int(min_aps)


def horizontal_ranges(ranges, height_diff_m) -> np.ndarray:
    """Project 3-D ranges onto the floor plane: :math:`\\sqrt{\\max(r^2 - \\Delta z^2, 0)}`.

    Parameters
    ----------
    ranges : array_like, shape (..., A), m
    height_diff_m : float or array_like, shape (A,), m
        Height of each AP above the receiver.
    """
    r = np.asarray(ranges, dtype=np.float64)
    return np.sqrt(np.maximum(r**2 - np.asarray(height_diff_m, dtype=np.float64) ** 2, 0.0))


# -- least squares ---------------------------------------------------------------------
def _check(ranges, anchors):
    r = np.atleast_2d(np.asarray(ranges, dtype=np.float64))
    a = np.asarray(anchors, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or r.shape[-1] != a.shape[0]:
        raise ParameterError("anchors", f"shape ({r.shape[-1]}, 2), one 2-D position per range column",
                             a.shape)
    return r, a


def least_squares_closed_form(ranges, anchors) -> np.ndarray:
    """Linear least squares: the circle equations made linear in (x, y, x²+y²).

    Each range gives :math:`-2\\,\\mathbf a_i^\\top \\mathbf p + \\lVert\\mathbf p\\rVert^2 =
    r_i^2 - \\lVert\\mathbf a_i\\rVert^2`; treating :math:`\\lVert\\mathbf p\\rVert^2` as a
    third unknown gives a linear system solved per row over its valid APs. Exact for
    noiseless ranges; with noise it weights long ranges more than Gauss–Newton does.

    Parameters
    ----------
    ranges : array_like, shape (n, A), m
        NaN where missing; a row needs 3 finite ranges (else NaN out).
    anchors : array_like, shape (A, 2), m

    Returns
    -------
    numpy.ndarray, float64, shape (n, 2), m
    """
    r, a = _check(ranges, anchors)
    w = np.isfinite(r).astype(np.float64)
    rhs = np.where(w > 0, np.nan_to_num(r) ** 2, 0.0) - np.sum(a**2, axis=1)
    design = np.column_stack([-2 * a, np.ones(len(a))])           # (A, 3)
    normal = np.einsum("na,ai,aj->nij", w, design, design)         # (n, 3, 3)
    moment = np.einsum("na,ai,na->ni", w, design, rhs)             # (n, 3)
    out = np.full((len(r), 2), np.nan)
    ok = enough_aps(r) & (np.abs(np.linalg.det(normal)) > 1e-12)
    if ok.any():
        out[ok] = np.linalg.solve(normal[ok], moment[ok][..., None])[:, :2, 0]
    return out


def least_squares_gauss_newton(ranges, anchors, x0=None, n_iter: int = 50,
                               tol_m: float = 1e-6, max_step_m: float = 2.0) -> np.ndarray:
    """Nonlinear least squares :math:`\\min_\\mathbf p \\sum_i (\\lVert\\mathbf p -
    \\mathbf a_i\\rVert - r_i)^2` by Gauss–Newton, all rows at once.

    Each step solves the normal equations of the linearised ranges
    (:math:`\\mathbf J^\\top\\mathbf J\\,\\delta = \\mathbf J^\\top \\mathbf e`,
    :math:`\\mathbf J` the unit vectors from the anchors) and is shortened to at most
    ``max_step_m``, so that nearly collinear anchors (a corridor) cannot throw the
    iterate far away in one step.

    Parameters
    ----------
    ranges : array_like, shape (n, A), m
        NaN where missing (that AP is left out of the row's sum).
    anchors : array_like, shape (A, 2), m
    x0 : array_like, shape (n, 2) or (2,), m, optional
        Start; default the anchors' centroid.
    n_iter : int
        Iteration cap.
    tol_m : float
        Stop when no row moves by more than this.
    max_step_m : float
        Longest step (m).

    Returns
    -------
    numpy.ndarray, float64, shape (n, 2), m
        NaN for rows with fewer than 3 ranges.
    """
    r, a = _check(ranges, anchors)
    w = np.isfinite(r).astype(np.float64)
    r0 = np.nan_to_num(r)
    start = a.mean(axis=0) if x0 is None else np.asarray(x0, dtype=np.float64)
    p = np.broadcast_to(start, (len(r), 2)).copy()
    for _ in range(int(n_iter)):
        diff = p[:, None, :] - a[None]                               # (n, A, 2)
        dist = np.maximum(np.linalg.norm(diff, axis=2), 1e-9)
        jac = diff / dist[..., None]                                  # d dist / d p
        res = (dist - r0) * w
        jtj = np.einsum("na,nai,naj->nij", w, jac, jac) + 1e-9 * np.eye(2)
        jtr = np.einsum("nai,na->ni", jac, res)
        step = np.linalg.solve(jtj, jtr[..., None])[..., 0]
        length = np.linalg.norm(step, axis=1, keepdims=True)
        step = step * np.minimum(1.0, max_step_m / np.maximum(length, 1e-12))
        p = p - step
        if np.max(np.abs(step), initial=0.0) < tol_m:
            break
    p[~enough_aps(r)] = np.nan
    return p


@dataclass(frozen=True)
class RangeBias:
    """A per-AP range offset learned on training data: :math:`\\hat r = r - b_i`.

    Attributes
    ----------
    bias_m : numpy.ndarray, float64, shape (A,), m
        The least-squares offset of each AP, the mean of (measured - true range).
    """

    bias_m: np.ndarray

    @classmethod
    def fit(cls, ranges, true_ranges) -> RangeBias:
        """Learn the offsets from measured and true ranges, both (n, A) metres (NaN skipped)."""
        r = np.asarray(ranges, dtype=np.float64)
        d = np.asarray(true_ranges, dtype=np.float64)
        if r.shape != d.shape:
            raise ParameterError("true_ranges", f"shape {r.shape} (as the ranges)", d.shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bias = np.nanmean(r - d, axis=0)
        return cls(np.nan_to_num(bias))

    def apply(self, ranges) -> np.ndarray:
        """Corrected ranges, same shape as ``ranges`` (m)."""
        return np.asarray(ranges, dtype=np.float64) - self.bias_m


# -- Euclidean-distance method ----------------------------------------------------------
def candidate_grid(points, spacing_m: float = 0.1, margin_m: float = 0.5) -> np.ndarray:
    """A square grid of candidate positions over the bounding box of ``points`` (m); (m, 2)."""
    p = np.asarray(points, dtype=np.float64)
    lo, hi = p.min(axis=0) - margin_m, p.max(axis=0) + margin_m
    gx = np.arange(lo[0], hi[0] + spacing_m / 2, spacing_m)
    gy = np.arange(lo[1], hi[1] + spacing_m / 2, spacing_m)
    xx, yy = np.meshgrid(gx, gy, indexing="xy")
    return np.column_stack([xx.ravel(), yy.ravel()])


def euclidean_distance_method(ranges, anchors, candidates, chunk: int = 2048) -> np.ndarray:
    """The candidate position whose geometric range vector is nearest to the measured one.

    :math:`\\hat{\\mathbf p} = \\arg\\min_{\\mathbf c} \\lVert \\mathbf r -
    \\mathbf d(\\mathbf c)\\rVert_2` over the valid APs, with
    :math:`d_i(\\mathbf c) = \\lVert \\mathbf c - \\mathbf a_i\\rVert`: the global
    minimum of the least-squares cost on a grid (our reading of the paper's
    "Euclidean distance" method, its ref. [17]), so no local minimum traps it.

    Parameters
    ----------
    ranges : array_like, shape (n, A), m
    anchors : array_like, shape (A, 2), m
    candidates : array_like, shape (m, 2), m
    chunk : int
        Rows per block (memory).

    Returns
    -------
    numpy.ndarray, float64, shape (n, 2), m
    """
    r, a = _check(ranges, anchors)
    c = np.asarray(candidates, dtype=np.float64)
    geo = np.linalg.norm(c[:, None, :] - a[None], axis=2)              # (m, A)
    w = np.isfinite(r).astype(np.float64)
    r0 = np.nan_to_num(r)
    out = np.full((len(r), 2), np.nan)
    for s in range(0, len(r), chunk):
        ws, rs = w[s:s + chunk], r0[s:s + chunk]
        # sum_a w (r - g)^2 without the constant sum_a w r^2, as matrix products
        cost = ws @ (geo**2).T - 2.0 * (ws * rs) @ geo.T
        out[s:s + chunk] = c[np.argmin(cost, axis=1)]
    out[~enough_aps(r)] = np.nan
    return out


# -- fingerprint method -------------------------------------------------------------------
@dataclass
class WeightedKnn:
    """Weighted k-NN on standardised ranges and RSS (a fingerprint baseline).

    Features are each AP's scan-step range (m) and RSS (dBm), standardised with the
    training mean and spread; a missing value takes the training mean (0 after
    standardisation). The position is the inverse-distance-weighted mean of the ``k``
    nearest training fingerprints.

    Parameters
    ----------
    k : int
    rss_weight : float
        Weight of the standardised RSS features against the ranges' (0: ranges only).
    """

    k: int = 5
    rss_weight: float = 1.0

    def _features(self, ranges, rss):
        return np.concatenate([np.asarray(ranges, dtype=np.float64),
                               np.asarray(rss, dtype=np.float64)], axis=1)

    def fit(self, ranges, rss, xy) -> WeightedKnn:
        """Store the training fingerprints: ranges, rss (n, A), positions xy (n, 2) m."""
        f = self._features(ranges, rss)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mean_ = np.nan_to_num(np.nanmean(f, axis=0))
            self.scale_ = np.nan_to_num(np.nanstd(f, axis=0), nan=1.0)
        self.scale_[self.scale_ == 0] = 1.0
        self.train_ = self._standard(f)
        self.xy_ = np.asarray(xy, dtype=np.float64)
        return self

    def _standard(self, f):
        z = np.nan_to_num((f - self.mean_) / self.scale_)
        half = z.shape[1] // 2
        z[:, half:] *= self.rss_weight
        return z

    def neighbours(self, ranges, rss, k: int | None = None, chunk: int = 1024):
        """The ``k`` nearest training fingerprints of each query, nearest first.

        Returns
        -------
        idx : numpy.ndarray, int64, shape (n, k)
            Training rows.
        dist : numpy.ndarray, float64, shape (n, k)
            Their feature-space distances.
        """
        q_all = self._standard(self._features(ranges, rss))
        k = min(int(k or self.k), len(self.train_))
        norms = np.sum(self.train_**2, 1)[None]
        idx = np.empty((len(q_all), k), dtype=np.int64)
        dist = np.empty((len(q_all), k))
        for s in range(0, len(q_all), chunk):
            q = q_all[s:s + chunk]
            d2 = np.sum(q**2, 1)[:, None] + norms - 2 * q @ self.train_.T
            part = np.argpartition(d2, k - 1, axis=1)[:, :k]
            d_part = np.take_along_axis(d2, part, axis=1)
            order = np.argsort(d_part, axis=1, kind="stable")
            idx[s:s + chunk] = np.take_along_axis(part, order, axis=1)
            dist[s:s + chunk] = np.sqrt(np.maximum(np.take_along_axis(d_part, order, axis=1), 0.0))
        return idx, dist

    def vote(self, idx, dist, k: int | None = None) -> np.ndarray:
        """Inverse-distance-weighted mean position (n, 2) m of the first ``k`` neighbours."""
        k = int(k or self.k)
        w = 1.0 / (dist[:, :k] + 1e-6)
        return np.einsum("nk,nkd->nd", w, self.xy_[idx[:, :k]]) / w.sum(axis=1, keepdims=True)

    def predict(self, ranges, rss) -> np.ndarray:
        """Positions (n, 2) m for scan steps ``ranges``, ``rss`` (n, A)."""
        return self.vote(*self.neighbours(ranges, rss))


# -- Cramér–Rao bound -----------------------------------------------------------------------
def crlb_rmse(anchors, positions, sigma_m) -> np.ndarray:
    """Cramér–Rao bound on the 2-D position RMSE from ranges with Gaussian noise.

    With ranges :math:`r_i = \\lVert\\mathbf p - \\mathbf a_i\\rVert + n_i`,
    :math:`n_i \\sim \\mathcal N(0, \\sigma_i^2)`, the Fisher information is
    :math:`\\mathbf J = \\sum_i \\sigma_i^{-2}\\,\\mathbf u_i \\mathbf u_i^\\top`
    (:math:`\\mathbf u_i` the unit vector from anchor to position), and no unbiased
    estimator has an RMSE below :math:`\\sqrt{\\operatorname{tr} \\mathbf J^{-1}}`.
    For N anchors evenly spread on a circle around the position and one sigma this is
    :math:`2\\sigma/\\sqrt N`.

    Parameters
    ----------
    anchors : array_like, shape (A, 2), m
    positions : array_like, shape (n, 2) or (2,), m
    sigma_m : float or array_like, shape (A,), m
        Range noise standard deviation (per AP).

    Returns
    -------
    numpy.ndarray, float64, shape (n,) (or a 0-d array for one position), m
    """
    a = np.asarray(anchors, dtype=np.float64)
    p = np.asarray(positions, dtype=np.float64)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    sigma = np.broadcast_to(np.asarray(sigma_m, dtype=np.float64), (len(a),))
    if not np.all(sigma > 0):
        raise ParameterError("sigma_m", "positive range noise standard deviations (m)", sigma)
    diff = p[:, None, :] - a[None]
    u = diff / np.maximum(np.linalg.norm(diff, axis=2, keepdims=True), 1e-12)
    fim = np.einsum("a,nai,naj->nij", sigma**-2, u, u)
    bound = np.sqrt(np.trace(np.linalg.inv(fim), axis1=1, axis2=2))
    return bound[0] if single else bound


def range_noise_std(ranges, true_ranges) -> np.ndarray:
    """Per-AP spread of the range error around its own mean (the bias removed); (A,) m."""
    err = np.asarray(ranges, dtype=np.float64) - np.asarray(true_ranges, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(err, axis=0, ddof=1)

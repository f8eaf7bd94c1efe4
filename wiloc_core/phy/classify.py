"""k-means modulation classification of equalised symbols (paper 003 eq. 18).

The paper clusters each packet's equalised symbols with k-means (its ref. [22],
Mouton et al. 2020) to decide which of BPSK, QPSK, 16-QAM and 64-QAM was sent; the
equation itself did not survive text extraction. The form chosen here:

1. For every candidate order M, run Lloyd's k-means with M centroids started at the
   normalised reference constellation (deterministic; no random restarts).
2. Score each order by its k-means distortion relative to the constellation's
   spacing, D_M / d_min(M)^2: the mean squared distance of a symbol to its centroid
   over the squared minimum distance between points. Too few clusters leave whole
   constellation points inside one cluster (large D); too many split the noise cloud of
   each point, which lowers D by less than d_min^2 falls.
3. Pick the order with the lowest score; exact ties (a clean constellation fits every
   larger order with D = 0) go to the smallest order.

Square QAM is a Cartesian product of per-axis amplitude levels, so the M centroids
are kept on a product grid: the nearest centroid is then the nearest level on each
axis, and Lloyd's iteration runs on the in-phase and quadrature values separately
with sqrt(M) levels each (BPSK: two in-phase levels and one quadrature level). To be
fast across many packets, each axis is summarised by a fine histogram (count, sum and
sum of squares per bin): centroids and distortion are exact, and only symbols within
half a bin of a decision boundary can be assigned as if they sat at their bin centre.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

from .constellation import ORDERS, axis_levels, check_order, min_distance

#: Histogram bins per axis and its half-range (values beyond fall into the end bins).
N_BINS, HALF_RANGE = 128, 2.0
_WIDTH = 2 * HALF_RANGE / N_BINS


def _axis_stats(v: np.ndarray) -> np.ndarray:
    """Cumulative histogram statistics of real values v, shape (P, N) -> (3, P, B + 1).

    Rows: count, sum and sum of squares of the values in bins 0..b-1, for b = 0..B.
    """
    n_packets = v.shape[0]
    idx = np.clip(((v + HALF_RANGE) / _WIDTH).astype(np.int64), 0, N_BINS - 1)
    idx += (np.arange(n_packets) * N_BINS)[:, None]
    idx = idx.ravel()
    size = n_packets * N_BINS
    stats = np.zeros((3, n_packets, N_BINS + 1))
    stats[0, :, 1:] = np.bincount(idx, minlength=size).reshape(n_packets, N_BINS)
    stats[1, :, 1:] = np.bincount(idx, weights=v.ravel(), minlength=size).reshape(n_packets, N_BINS)
    stats[2, :, 1:] = np.bincount(idx, weights=(v * v).ravel(),
                                  minlength=size).reshape(n_packets, N_BINS)
    return np.cumsum(stats, axis=-1)


def _cells(cum: np.ndarray, cent: np.ndarray) -> np.ndarray:
    """Count, sum and sum of squares of each centroid's cell, shape (3, P, L).

    In one dimension the cells are intervals split at the midpoints between sorted
    centroids; a bin joins the cell its centre falls in, so each cell is a run of bins
    and its statistics are differences of the cumulative ones.
    """
    n_packets = cent.shape[0]
    mids = 0.5 * (cent[:, 1:] + cent[:, :-1])
    split = np.clip(np.floor((mids + HALF_RANGE) / _WIDTH - 0.5).astype(np.int64) + 1, 0, N_BINS)
    edges = np.concatenate([np.zeros((n_packets, 1), np.int64), split,
                            np.full((n_packets, 1), N_BINS)], axis=1)
    at = np.take_along_axis(cum, np.broadcast_to(edges, (3,) + edges.shape), axis=-1)
    return np.diff(at, axis=-1)


def _kmeans_axis(cum: np.ndarray, init: np.ndarray, n_iter: int) -> np.ndarray:
    """Lloyd's 1-D k-means on cumulative histogram statistics; distortion sums, (P,)."""
    n_packets = cum.shape[1]
    cent = np.broadcast_to(init, (n_packets, init.size)).astype(float)
    for _ in range(n_iter if init.size > 1 else 1):
        count, s1, _s2 = _cells(cum, cent)
        cent = np.sort(np.where(count > 0, s1 / np.maximum(count, 1), cent), axis=-1)
    count, s1, s2 = _cells(cum, cent)
    return np.sum(s2 - 2 * cent * s1 + cent * cent * count, axis=-1)


def kmeans_scores(symbols, orders=ORDERS, *, n_iter: int = 8) -> np.ndarray:
    """Normalised k-means distortion D_M / d_min(M)^2 of each packet for each order.

    Parameters
    ----------
    symbols : array_like, complex, shape (n_packets, ...)
        Equalised data symbols of each packet (any trailing shape, flattened).
    orders : sequence of {2, 4, 16, 64}
    n_iter : int
        Lloyd iterations.

    Returns
    -------
    numpy.ndarray, float64, shape (n_packets, len(orders))
    """
    x = np.asarray(symbols, dtype=np.complex128)
    if x.ndim < 2 or x[0].size == 0:
        raise ParameterError("symbols", "an array of shape (n_packets, n_symbols, ...)", x.shape)
    x = x.reshape(x.shape[0], -1)
    stats_i, stats_q = _axis_stats(x.real), _axis_stats(x.imag)
    scores = np.empty((x.shape[0], len(orders)))
    for j, m in enumerate(orders):
        m = check_order(m)
        levels = axis_levels(m)
        d = _kmeans_axis(stats_i, levels, n_iter)
        d += _kmeans_axis(stats_q, np.zeros(1) if m == 2 else levels, n_iter)
        scores[:, j] = d / x.shape[1] / min_distance(m) ** 2
    return scores


def classify_modulation(symbols, orders=ORDERS, *, n_iter: int = 8, tie: float = 1e-9) -> np.ndarray:
    """Modulation order of each packet by k-means clustering (paper eq. 18).

    Parameters
    ----------
    symbols : array_like, complex, shape (n_packets, ...)
        Equalised data symbols (unit average power when the channel estimate is right).
    orders : sequence of {2, 4, 16, 64}, ascending
        Candidate orders.
    n_iter : int
        Lloyd iterations per order.
    tie : float
        Scores within ``tie`` of the best count as equal; the smallest order wins.

    Returns
    -------
    numpy.ndarray, int64, shape (n_packets,)
        The chosen M of each packet.
    """
    orders = tuple(sorted(int(m) for m in orders))
    scores = kmeans_scores(symbols, orders, n_iter=n_iter)
    best = scores.min(axis=1, keepdims=True)
    first = np.argmax(scores <= best + tie, axis=1)
    return np.asarray(orders, dtype=np.int64)[first]

"""Weighted k-nearest-neighbour fingerprinting: the baseline every model is compared with.

A query fingerprint r is compared with every training fingerprint r_i in signal
space; the k closest (distance d_i) vote for the position with inverse-distance
weights w_i = 1 / (d_i + eps), so the estimate is

    p_hat = sum_i w_i p_i / sum_i w_i

Floor and building are the weighted majority of the same k neighbours.
This is the deterministic method the surrogate-teacher paper (001, §2) cites as the
starting point of fingerprinting; the distance is computed on the positive RSS
representation (see :func:`wiloc_core.data.to_positive`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

#: Added to distances so that an exact match does not divide by zero.
DISTANCE_EPS = 1e-6
#: Queries per block when computing distances; bounds memory at block × n_train floats.
QUERY_BLOCK = 512


def _check_features(name, x, n_features=None):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ParameterError(name, "a 2-D array [n_samples, n_features]", f"shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise ParameterError(name, f"{n_features} features (as in training)", f"{x.shape[1]}")
    if not np.all(np.isfinite(x)):
        raise ParameterError(name, "finite values", "NaN or inf")
    return x


#: Extra candidates kept by the partial sort so that ties at the k-th place are ordered by index.
TIE_MARGIN = 32


def _k_smallest(d, k):
    """Column indices of the k smallest entries of each row, by (distance, index).

    A full sort of every row costs O(n log n); a partition to k + TIE_MARGIN candidates
    followed by a small lexicographic sort gives the same answer unless more than
    TIE_MARGIN training rows tie exactly at the k-th distance.
    """
    n = d.shape[1]
    keep = min(n, k + TIE_MARGIN)
    candidates = np.argpartition(d, keep - 1, axis=1)[:, :keep] if keep < n else \
        np.broadcast_to(np.arange(n), d.shape).copy()
    values = np.take_along_axis(d, candidates, axis=1)
    order = np.lexsort((candidates, values), axis=1)[:, :k]
    return np.take_along_axis(candidates, order, axis=1)


def neighbours(train_x, query_x, k: int, metric: str = "euclidean"):
    """Indices and distances of the ``k`` nearest training rows of every query row.

    Parameters
    ----------
    train_x : array [n_train, n_features]
    query_x : array [n_query, n_features]
    k : int, 1 <= k <= n_train
    metric : {"euclidean", "manhattan"}

    Returns
    -------
    index : int array [n_query, k]
        Sorted by increasing distance; equal distances are ordered by training index.
    distance : float array [n_query, k]
    """
    train_x = _check_features("train_x", train_x)
    query_x = _check_features("query_x", query_x, train_x.shape[1])
    if not 1 <= k <= len(train_x):
        raise ParameterError("k", f"an integer in [1, {len(train_x)}]", k)
    if metric not in ("euclidean", "manhattan"):
        raise ParameterError("metric", "'euclidean' or 'manhattan'", metric)
    from scipy.spatial.distance import cdist

    train_sq = np.einsum("ij,ij->i", train_x, train_x)
    index = np.empty((len(query_x), k), dtype=np.int64)
    distance = np.empty((len(query_x), k))
    for start in range(0, len(query_x), QUERY_BLOCK):
        block = query_x[start:start + QUERY_BLOCK]
        if metric == "euclidean":
            squared = train_sq[None, :] + np.einsum("ij,ij->i", block, block)[:, None]
            squared -= 2.0 * block @ train_x.T
            d = np.sqrt(np.maximum(squared, 0.0))
        else:
            d = cdist(block, train_x, metric="cityblock")
        order = _k_smallest(d, k)
        index[start:start + len(block)] = order
        distance[start:start + len(block)] = np.take_along_axis(d, order, axis=1)
    return index, distance


def _weighted_vote(labels, weights):
    """Per row, the label with the largest summed weight (lowest label on ties)."""
    classes = np.unique(labels)
    scores = np.stack([(weights * (labels == c)).sum(axis=1) for c in classes], axis=1)
    return classes[np.argmax(scores, axis=1)]


@dataclass
class WeightedKNN:
    """Weighted k-NN regressor of position, with floor and building by weighted vote.

    Parameters
    ----------
    k : int
        Number of neighbours.
    metric : {"euclidean", "manhattan"}
        Distance in signal space.
    """

    k: int = 3
    metric: str = "euclidean"

    def fit(self, x, xy, floor=None, building=None):
        """Store the radio map: features [n, n_features], positions [n, 2] (m), labels [n]."""
        self.train_x_ = _check_features("x", x)
        self.train_xy_ = np.asarray(xy, dtype=np.float64)
        if self.train_xy_.shape != (len(self.train_x_), 2):
            raise ParameterError("xy", f"shape ({len(self.train_x_)}, 2)", self.train_xy_.shape)
        self.train_floor_ = None if floor is None else np.asarray(floor)
        self.train_building_ = None if building is None else np.asarray(building)
        return self

    def predict(self, x):
        """Positions [n, 2] (m), and floor and building [n] when they were given to ``fit``."""
        index, distance = neighbours(self.train_x_, x, self.k, self.metric)
        weights = 1.0 / (distance + DISTANCE_EPS)
        weights /= weights.sum(axis=1, keepdims=True)
        xy = np.einsum("qk,qkd->qd", weights, self.train_xy_[index])
        floor = None if self.train_floor_ is None else _weighted_vote(self.train_floor_[index], weights)
        building = (None if self.train_building_ is None
                    else _weighted_vote(self.train_building_[index], weights))
        return xy, floor, building


def position_groups(xy, floor=None, building=None) -> np.ndarray:
    """One integer per distinct reference point (x, y, floor, building) of a radio map.

    Surveys record several scans at each reference point; those scans are near-copies,
    so a validation split that separates them measures memorisation, not positioning.
    """
    columns = [np.asarray(xy, dtype=np.float64)]
    for labels in (floor, building):
        if labels is not None:
            columns.append(np.asarray(labels, dtype=np.float64)[:, None])
    _, groups = np.unique(np.hstack(columns), axis=0, return_inverse=True)
    return groups.ravel()


def choose_k(x, xy, k_candidates, *, validation_fraction=0.2, seed=0, metric="euclidean",
             groups=None):
    """Pick k by the mean positioning error on a validation split of the training data.

    Parameters
    ----------
    x : array [n, n_features]
    xy : array [n, 2], metres
    k_candidates : iterable of int
    validation_fraction : float in (0, 1)
        Share of the groups (or of the fingerprints when ``groups`` is None) held out.
    seed : int
    metric : {"euclidean", "manhattan"}
    groups : int array [n], optional
        Fingerprints with the same group id go to the same side of the split (see
        :func:`position_groups`).

    Neighbours are computed once for the largest k and reused for every candidate,
    which is exact because the k nearest are a prefix of the k_max nearest.

    Returns
    -------
    best_k : int
    errors : dict {k: mean validation error (m)}
    """
    from wiloc_core.metrics import positioning_errors
    from wiloc_core.seeding import rng

    x = _check_features("x", x)
    xy = np.asarray(xy, dtype=np.float64)
    if not 0.0 < validation_fraction < 1.0:
        raise ParameterError("validation_fraction", "a number in (0, 1)", validation_fraction)
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ParameterError("groups", "at least two distinct groups", len(unique))
    shuffled = rng(seed).permutation(unique)
    n_val = min(len(unique) - 1, max(1, int(round(validation_fraction * len(unique)))))
    is_val = np.isin(groups, shuffled[:n_val])
    val, fit = np.flatnonzero(is_val), np.flatnonzero(~is_val)
    k_candidates = sorted({int(k) for k in k_candidates if int(k) <= len(fit)})
    index, distance = neighbours(x[fit], x[val], max(k_candidates), metric)
    errors = {}
    for k in k_candidates:
        weights = 1.0 / (distance[:, :k] + DISTANCE_EPS)
        weights /= weights.sum(axis=1, keepdims=True)
        pred = np.einsum("qk,qkd->qd", weights, xy[fit][index[:, :k]])
        errors[k] = float(positioning_errors(pred, xy[val]).mean())
    best_k = min(errors, key=lambda k: (errors[k], k))
    return best_k, errors


@dataclass
class KNNEvaluation:
    """What :func:`evaluate_weighted_knn` measured on one dataset's test split."""

    dataset: str
    k: int
    validation_errors: dict
    n_train: int
    pred_xy: np.ndarray
    errors: np.ndarray
    floor_hit_rate: float | None
    building_hit_rate: float | None


def evaluate_weighted_knn(dataset, k_candidates, *, validation_fraction=0.2,
                          max_train_samples=None, seed=0, metric="euclidean") -> KNNEvaluation:
    """Choose k on a validation split of the training data, then predict the test split.

    Parameters
    ----------
    dataset : wiloc_core.data.FingerprintDataset
        With non-empty ``train`` and ``test`` splits.
    k_candidates : list of int
    validation_fraction : float
        Share of the training reference points held out, with all their scans, to choose k.
    max_train_samples : int or None
        Random subsample of the training split (seeded) to bound run time; None keeps all.
    seed : int
    metric : {"euclidean", "manhattan"}
    """
    from wiloc_core.data import to_positive
    from wiloc_core.metrics import building_hit_rate, floor_hit_rate, positioning_errors
    from wiloc_core.seeding import rng

    train, test = dataset.train, dataset.test
    if train is None or train.n_samples == 0 or test is None or test.n_samples == 0:
        raise ParameterError("dataset", "train and test splits with fingerprints", dataset.name)
    rows = np.arange(train.n_samples)
    if max_train_samples is not None and max_train_samples < train.n_samples:
        rows = np.sort(rng(seed).choice(train.n_samples, size=int(max_train_samples), replace=False))
    train_x = to_positive(train.rss[rows])
    groups = position_groups(train.xy[rows], train.floor[rows], train.building[rows])
    best_k, val_errors = choose_k(train_x, train.xy[rows], k_candidates,
                                  validation_fraction=validation_fraction, seed=seed, metric=metric,
                                  groups=groups)
    model = WeightedKNN(best_k, metric).fit(train_x, train.xy[rows], train.floor[rows],
                                            train.building[rows])
    pred_xy, floor, building = model.predict(to_positive(test.rss))
    return KNNEvaluation(
        dataset=dataset.name, k=best_k, validation_errors=val_errors, n_train=len(rows),
        pred_xy=pred_xy, errors=positioning_errors(pred_xy, test.xy),
        floor_hit_rate=float(floor_hit_rate(floor, test.floor)),
        building_hit_rate=float(building_hit_rate(building, test.building)),
    )

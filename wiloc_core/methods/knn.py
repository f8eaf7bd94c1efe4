"""Weighted k-nearest-neighbour fingerprinting: the baseline every model is compared with.

A query fingerprint r is compared with every training fingerprint r_i in signal
space; the k closest (distance d_i) vote for the position with inverse-distance
weights w_i = 1 / (d_i + eps), so the estimate is

    p_hat = sum_i w_i p_i / sum_i w_i

Floor and building are the weighted majority of the same k neighbours.
This is the deterministic method the surrogate-teacher paper (001, §2) cites as the
starting point of fingerprinting.

How a fingerprint is represented and which distance compares two of them matter as much
as k. Torres-Sospedra et al. (2015), "Comprehensive analysis of distance and similarity
measures for Wi-Fi fingerprinting indoor positioning systems" (Expert Systems with
Applications 42(23)), compare many of both; this module offers three representations
(:func:`represent`: positive, exponential, powed) and four distances (Euclidean,
Manhattan, Sørensen, squared chord), and :func:`select_configuration` chooses the
(representation, distance, k) with the lowest error on reference points held out of the
radio map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

#: Added to distances so that an exact match does not divide by zero.
DISTANCE_EPS = 1e-6
#: Queries per block when computing distances; bounds memory at block × n_train floats.
QUERY_BLOCK = 512

#: Representations of an RSS reading (:func:`represent`).
REPRESENTATIONS = ("positive", "exponential", "powed")
#: Distances between two represented fingerprints (:func:`pairwise_distances`).
DISTANCES = ("euclidean", "manhattan", "sorensen", "squared_chord")
#: How a page writes each distance.
DISTANCE_NAMES = {"euclidean": "Euclidean", "manhattan": "Manhattan", "sorensen": "Sørensen",
                  "squared_chord": "squared chord"}
#: Scale of the exponential representation, in dB (Torres-Sospedra et al. 2015 use 24).
EXPONENTIAL_ALPHA = 24.0
#: Exponent of the powed representation (Torres-Sospedra et al. 2015 use e).
POWED_BETA = float(np.e)
#: Above this share of non-zero entries the Manhattan/Sørensen kernel uses dense cdist.
SPARSE_DENSITY = 0.25


# --------------------------------------------------------------------------------------
# Representations (Torres-Sospedra et al. 2015, §3)
# --------------------------------------------------------------------------------------


def lowest_reading(rss) -> float:
    """The weakest heard reading of an RSS matrix (dBm), ``min`` of the representations.

    Parameters
    ----------
    rss : array [n, n_aps], dBm with ``NOT_DETECTED`` (+100) markers.
    """
    from wiloc_core.data.fingerprints import NOT_DETECTED

    rss = np.asarray(rss, dtype=np.float64)
    heard = rss[rss != NOT_DETECTED]
    if heard.size == 0:
        raise ParameterError("rss", "at least one heard reading", "only not-heard markers")
    return float(heard.min())


def represent(rss, representation: str = "positive", min_rss: float = -110.0, *,
              alpha: float = EXPONENTIAL_ALPHA, beta: float = POWED_BETA) -> np.ndarray:
    """A fingerprint representation of Torres-Sospedra et al. (2015).

    With ``min`` the weakest reading considered (``min_rss``, dBm) and a heard reading r:

    - positive: ``pos(r) = r - min`` (0 when not heard; readings below ``min`` clip to 0);
    - exponential: ``exp(pos(r) / alpha) / exp(-min / alpha)``, so that 0 dBm maps to 1 and
      a missing AP (pos = 0) to ``exp(min / alpha)``;
    - powed: ``pos(r) ** beta / (-min) ** beta``, 0 for a missing AP and 1 at 0 dBm.

    Powed and exponential shrink weak readings, so that the strong APs near the phone
    dominate a distance. The chapter uses the dataset's weakest training reading as
    ``min``, ``alpha = 24`` and ``beta = e``, the paper's choices.

    Parameters
    ----------
    rss : array [n, n_aps], dBm with ``NOT_DETECTED`` (+100) markers.
    representation : {"positive", "exponential", "powed"}
    min_rss : float, dBm, negative
    alpha, beta : float, > 0

    Returns
    -------
    float64 array [n, n_aps], non-negative.
    """
    from wiloc_core.data import to_positive

    if representation not in REPRESENTATIONS:
        raise ParameterError("representation", f"one of {REPRESENTATIONS}", representation)
    if not min_rss < 0:
        raise ParameterError("min_rss", "a negative dBm value", min_rss)
    positive = to_positive(rss, float(min_rss)).astype(np.float64)
    if representation == "positive":
        return positive
    if representation == "exponential":
        if not alpha > 0:
            raise ParameterError("alpha", "a positive number of dB", alpha)
        return np.exp((positive + min_rss) / alpha)
    if not beta > 0:
        raise ParameterError("beta", "a positive exponent", beta)
    return (positive / -min_rss) ** beta


# --------------------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------------------


def _overlap(query, train):
    """``sum_j min(query_qj, train_tj)`` for non-negative inputs: float64 [n_query, n_train].

    Only APs heard by both fingerprints add to the sum, so the work is the number of
    (query, training row, AP) triples with both entries non-zero: on a radio map where a
    scan hears a few % of the APs, hundreds of times less than a dense pass.
    """
    out = np.zeros((len(query), len(train)))
    for j in np.flatnonzero((query > 0).any(axis=0) & (train > 0).any(axis=0)):
        rows = np.flatnonzero(query[:, j] > 0)
        cols = np.flatnonzero(train[:, j] > 0)
        out[np.ix_(rows, cols)] += np.minimum.outer(query[rows, j], train[cols, j])
    return out


def pairwise_distances(query, train, distance: str = "euclidean") -> np.ndarray:
    """Distances between every query row and every training row: float64 [n_query, n_train].

    For fingerprints a and b (Torres-Sospedra et al. 2015):

    - euclidean: ``sqrt(sum (a - b)^2)``;
    - manhattan: ``sum |a - b|``;
    - sorensen (Bray-Curtis): ``sum |a - b| / sum (a + b)``, for non-negative inputs
      (0 when both are all zero);
    - squared_chord: ``sum (sqrt(a) - sqrt(b))^2``, for non-negative inputs.

    Manhattan and Sørensen use ``|a - b| = a + b - 2 min(a, b)`` after shifting both
    inputs by their common minimum, so that only the entries non-zero in both rows cost
    work (:func:`_overlap`); with more than :data:`SPARSE_DENSITY` non-zero entries they
    fall back to ``scipy.spatial.distance.cdist``. Euclidean and squared chord are
    matrix products.
    """
    if distance not in DISTANCES:
        raise ParameterError("distance", f"one of {DISTANCES}", distance)
    query = np.asarray(query, dtype=np.float64)
    train = np.asarray(train, dtype=np.float64)
    if distance in ("sorensen", "squared_chord") and (query.min(initial=0) < 0
                                                       or train.min(initial=0) < 0):
        raise ParameterError("features", f"non-negative values for the {distance} distance",
                             "negative values")
    if distance in ("euclidean", "squared_chord"):
        a, b = (np.sqrt(query), np.sqrt(train)) if distance == "squared_chord" else (query, train)
        squared = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :]
        squared -= 2.0 * a @ b.T
        squared = np.maximum(squared, 0.0)
        return squared if distance == "squared_chord" else np.sqrt(squared)
    shift = min(query.min(initial=0.0), train.min(initial=0.0))
    if shift == 0.0:
        shift = min(query.min(initial=np.inf), train.min(initial=np.inf))
    a, b = query - shift, train - shift
    if max(np.count_nonzero(a) / max(a.size, 1), np.count_nonzero(b) / max(b.size, 1)) > SPARSE_DENSITY:
        from scipy.spatial.distance import cdist

        manhattan = cdist(a, b, metric="cityblock")
    else:
        manhattan = a.sum(axis=1)[:, None] + b.sum(axis=1)[None, :] - 2.0 * _overlap(a, b)
        manhattan = np.maximum(manhattan, 0.0)
    if distance == "manhattan":
        return manhattan
    total = query.sum(axis=1)[:, None] + train.sum(axis=1)[None, :]
    return np.divide(manhattan, total, out=np.zeros_like(manhattan), where=total > 0)


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
    metric : {"euclidean", "manhattan", "sorensen", "squared_chord"}
        See :func:`pairwise_distances`; queries go in blocks of :data:`QUERY_BLOCK`
        rows, so memory stays at a block times ``n_train`` distances.

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
    if metric not in DISTANCES:
        raise ParameterError("metric", f"one of {DISTANCES}", metric)
    index = np.empty((len(query_x), k), dtype=np.int64)
    distance = np.empty((len(query_x), k))
    for start in range(0, len(query_x), QUERY_BLOCK):
        block = query_x[start:start + QUERY_BLOCK]
        d = pairwise_distances(block, train_x, metric)
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
    metric : one of :data:`DISTANCES`
        Distance in signal space (:func:`pairwise_distances`), on features already
        represented (:func:`represent`).
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


def _validation_split(groups, validation_fraction, seed):
    """(fit rows, validation rows): whole groups held out, chosen by a seeded shuffle."""
    from wiloc_core.seeding import rng

    if not 0.0 < validation_fraction < 1.0:
        raise ParameterError("validation_fraction", "a number in (0, 1)", validation_fraction)
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ParameterError("groups", "at least two distinct groups", len(unique))
    shuffled = rng(seed).permutation(unique)
    n_val = min(len(unique) - 1, max(1, int(round(validation_fraction * len(unique)))))
    is_val = np.isin(groups, shuffled[:n_val])
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def _errors_by_k(fit_x, fit_xy, val_x, val_xy, k_candidates, metric):
    """Mean validation error (m) for every k; neighbours are computed once for the largest
    k, which is exact because the k nearest are a prefix of the k_max nearest."""
    from wiloc_core.metrics import positioning_errors

    index, distance = neighbours(fit_x, val_x, max(k_candidates), metric)
    errors = {}
    for k in k_candidates:
        weights = 1.0 / (distance[:, :k] + DISTANCE_EPS)
        weights /= weights.sum(axis=1, keepdims=True)
        pred = np.einsum("qk,qkd->qd", weights, fit_xy[index[:, :k]])
        errors[k] = float(positioning_errors(pred, val_xy).mean())
    return errors


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
    metric : one of :data:`DISTANCES`
    groups : int array [n], optional
        Fingerprints with the same group id go to the same side of the split (see
        :func:`position_groups`).

    Returns
    -------
    best_k : int
    errors : dict {k: mean validation error (m)}
    """
    x = _check_features("x", x)
    xy = np.asarray(xy, dtype=np.float64)
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    fit, val = _validation_split(groups, validation_fraction, seed)
    k_candidates = sorted({int(k) for k in k_candidates if int(k) <= len(fit)})
    errors = _errors_by_k(x[fit], xy[fit], x[val], xy[val], k_candidates, metric)
    best_k = min(errors, key=lambda k: (errors[k], k))
    return best_k, errors


@dataclass(frozen=True)
class KNNConfig:
    """One weighted k-NN configuration: representation, distance, k, and ``min`` (dBm)."""

    representation: str
    distance: str
    k: int
    min_rss: float

    def describe(self) -> str:
        """Words for a page: ``"powed representation, Sørensen distance"`` (k apart)."""
        return (f"{self.representation} representation, "
                f"{DISTANCE_NAMES[self.distance]} distance")


def select_configuration(rss, xy, *, representations=REPRESENTATIONS, distances=DISTANCES,
                         k_candidates=(1, 3, 5, 7, 9), min_rss=None, validation_fraction=0.2,
                         seed=0, groups=None):
    """Choose (representation, distance, k) on reference points held out of a radio map.

    Every combination is scored by its mean positioning error on the held-out part,
    with the rest as the radio map; the lowest wins (ties: the earlier representation,
    then distance, in the order given, then the smaller k).

    Parameters
    ----------
    rss : array [n, n_aps], dBm with ``NOT_DETECTED`` markers.
    xy : array [n, 2], metres
    representations : sequence of :data:`REPRESENTATIONS`
    distances : sequence of :data:`DISTANCES`
    k_candidates : iterable of int
    min_rss : float or None
        ``min`` of :func:`represent`, dBm; None: the weakest reading of ``rss``.
    validation_fraction : float in (0, 1)
        Share of the groups held out.
    seed : int
    groups : int array [n], optional
        See :func:`position_groups`; None holds out single fingerprints.

    Returns
    -------
    best : KNNConfig
    errors : dict {(representation, distance): {k: mean validation error (m)}}
    """
    rss = np.asarray(rss)
    xy = np.asarray(xy, dtype=np.float64)
    for name, values, allowed in (("representations", representations, REPRESENTATIONS),
                                  ("distances", distances, DISTANCES)):
        if not values or any(v not in allowed for v in values):
            raise ParameterError(name, f"a non-empty list from {allowed}", values)
    min_rss = lowest_reading(rss) if min_rss is None else float(min_rss)
    groups = np.arange(len(rss)) if groups is None else np.asarray(groups)
    fit, val = _validation_split(groups, validation_fraction, seed)
    k_candidates = sorted({int(k) for k in k_candidates if 1 <= int(k) <= len(fit)})
    if not k_candidates:
        raise ParameterError("k_candidates", f"at least one k in [1, {len(fit)}]", k_candidates)
    errors, ranking = {}, []
    for order_r, representation in enumerate(representations):
        x = represent(rss, representation, min_rss)
        for order_d, distance in enumerate(distances):
            by_k = _errors_by_k(x[fit], xy[fit], x[val], xy[val], k_candidates, distance)
            errors[(representation, distance)] = by_k
            ranking += [(e, order_r, order_d, k, representation, distance) for k, e in by_k.items()]
    _, _, _, k, representation, distance = min(ranking)
    return KNNConfig(representation, distance, k, min_rss), errors


@dataclass
class KNNEvaluation:
    """What :func:`evaluate_weighted_knn` measured on one dataset's test split.

    ``validation_errors`` maps (representation, distance) to {k: mean error (m)};
    ``config`` is the configuration chosen on it, used on the test split.
    """

    dataset: str
    config: KNNConfig
    validation_errors: dict
    n_train: int
    pred_xy: np.ndarray
    errors: np.ndarray
    floor_hit_rate: float | None
    building_hit_rate: float | None

    @property
    def k(self) -> int:
        return self.config.k


def training_rows(n: int, max_train_samples=None, seed=0) -> np.ndarray:
    """Indices of the training rows a k-NN evaluation uses: all ``n``, or a seeded,
    sorted random subsample of ``max_train_samples`` of them."""
    from wiloc_core.seeding import rng

    if max_train_samples is None or max_train_samples >= n:
        return np.arange(n)
    return np.sort(rng(seed).choice(n, size=int(max_train_samples), replace=False))


def evaluate_weighted_knn(dataset, k_candidates, *, representations=("positive",),
                          distances=("euclidean",), min_rss=None, validation_fraction=0.2,
                          max_train_samples=None, seed=0) -> KNNEvaluation:
    """Choose (representation, distance, k) on held-out training reference points, then
    predict the test split with the chosen configuration.

    Parameters
    ----------
    dataset : wiloc_core.data.FingerprintDataset
        With non-empty ``train`` and ``test`` splits.
    k_candidates : list of int
    representations, distances : sequences
        The grid (:func:`select_configuration`).
    min_rss : float or None
        ``min`` of :func:`represent` in dBm; None: the weakest reading of the training
        rows used (Torres-Sospedra et al. 2015).
    validation_fraction : float
        Share of the training reference points held out, with all their scans.
    max_train_samples : int or None
        Random subsample of the training split (seeded) to bound run time; None keeps all.
    seed : int
    """
    from wiloc_core.metrics import building_hit_rate, floor_hit_rate, positioning_errors

    train, test = dataset.train, dataset.test
    if train is None or train.n_samples == 0 or test is None or test.n_samples == 0:
        raise ParameterError("dataset", "train and test splits with fingerprints", dataset.name)
    rows = training_rows(train.n_samples, max_train_samples, seed)
    groups = position_groups(train.xy[rows], train.floor[rows], train.building[rows])
    config, val_errors = select_configuration(
        train.rss[rows], train.xy[rows], representations=representations, distances=distances,
        k_candidates=k_candidates, min_rss=min_rss, validation_fraction=validation_fraction,
        seed=seed, groups=groups)
    x = represent(train.rss[rows], config.representation, config.min_rss)
    model = WeightedKNN(config.k, config.distance).fit(x, train.xy[rows], train.floor[rows],
                                                       train.building[rows])
    pred_xy, floor, building = model.predict(represent(test.rss, config.representation,
                                                       config.min_rss))
    return KNNEvaluation(
        dataset=dataset.name, config=config, validation_errors=val_errors, n_train=len(rows),
        pred_xy=pred_xy, errors=positioning_errors(pred_xy, test.xy),
        floor_hit_rate=float(floor_hit_rate(floor, test.floor)),
        building_hit_rate=float(building_hit_rate(building, test.building)),
    )


def test_errors_in_hindsight(dataset, evaluation: KNNEvaluation, *,
                             max_train_samples=None, seed=0) -> dict:
    """Mean test error of every (representation, distance) of a grid at the k its
    validation chose: what the test set would have picked, looked at after the choice.

    Nothing here feeds back into the bar; it measures how well reference points held
    out of the survey stand in for the test scans.

    Parameters
    ----------
    dataset : wiloc_core.data.FingerprintDataset
        The dataset ``evaluation`` was made on.
    evaluation : KNNEvaluation
        From :func:`evaluate_weighted_knn` with the same ``max_train_samples`` and ``seed``.

    Returns
    -------
    dict {(representation, distance): (k, mean test error in m)}
    """
    from wiloc_core.metrics import positioning_errors

    train, test = dataset.train, dataset.test
    rows = training_rows(train.n_samples, max_train_samples, seed)
    if len(rows) != evaluation.n_train:
        raise ParameterError("max_train_samples", f"the {evaluation.n_train} training rows "
                             "the evaluation used", len(rows))
    min_rss = evaluation.config.min_rss
    out = {}
    for (representation, distance), by_k in evaluation.validation_errors.items():
        k = min(by_k, key=lambda kk, by_k=by_k: (by_k[kk], kk))
        model = WeightedKNN(k, distance).fit(represent(train.rss[rows], representation, min_rss),
                                             train.xy[rows])
        xy, _, _ = model.predict(represent(test.rss, representation, min_rss))
        out[(representation, distance)] = (k, float(positioning_errors(xy, test.xy).mean()))
    return out


def share_at_reference_points(dataset, tolerance_m: float = 0.5) -> float:
    """Share of the test scans taken within ``tolerance_m`` metres of a training
    reference point on the same floor and building (0-1): 1 when the test set revisits
    the survey's points, 0 when it was recorded elsewhere."""
    train, test = dataset.train, dataset.test
    if not tolerance_m > 0:
        raise ParameterError("tolerance_m", "a distance > 0 (m)", tolerance_m)
    near = np.zeros(test.n_samples, dtype=bool)
    train_key = np.stack([train.building, train.floor], axis=1)
    test_key = np.stack([test.building, test.floor], axis=1)
    for key in np.unique(test_key, axis=0):
        queries = np.flatnonzero((test_key == key).all(axis=1))
        points = np.unique(train.xy[(train_key == key).all(axis=1)], axis=0)
        if len(points) == 0:
            continue
        gap = np.linalg.norm(test.xy[queries, None, :] - points[None, :, :], axis=2).min(axis=1)
        near[queries] = gap <= tolerance_m
    return float(near.mean())


#: Settings of chapter 00's preset that define the bar (:func:`bar_settings`).
BAR_KEYS = ("representations", "distances", "k_candidates", "validation_fraction")


def bar_settings(profile: str) -> dict:
    """The selection grid of the book's k-NN bar for a profile: chapter 00's preset.

    Every chapter that compares a model with weighted k-NN passes these to
    :func:`evaluate_weighted_knn`, so that "k-NN" means one configuration procedure
    throughout the book. ``"quick"`` gives the quick grid; any other profile (``full``,
    ``paper``) the full one.
    """
    from wiloc_core.profiles import settings

    cfg = settings("fingerprint-datasets", "quick" if profile == "quick" else "full")
    return {key: cfg[key] for key in BAR_KEYS}


def grouped_split(groups, validation_fraction: float = 0.2, seed=0):
    """(fit rows, validation rows) of a radio map, whole groups held out together.

    The split :func:`choose_k`, :func:`select_configuration` and
    :func:`evaluate_weighted_knn` use, for modules that choose their own settings on
    held-out reference points the same way.

    Parameters
    ----------
    groups : int array [n]
        One id per fingerprint; equal ids go to the same side (see :func:`position_groups`).
    validation_fraction : float in (0, 1)
        Share of the distinct groups held out (at least one, at most all but one).
    seed : int or numpy.random.Generator
        Seeds the shuffle of the groups.

    Returns
    -------
    fit, validation : int arrays of row indices, sorted, disjoint, together all rows.
    """
    return _validation_split(np.asarray(groups), validation_fraction, seed)

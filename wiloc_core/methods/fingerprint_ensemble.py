"""The strongest classic fingerprinting model: a validated ensemble of weighted k-NN
configurations and extremely randomized trees, optionally hierarchical.

Chapter 00's bar (:mod:`wiloc_core.methods.knn`) is one weighted k-NN configuration,
(representation, distance, k), chosen on reference points held out of the radio map.
This module builds on it with three cheap, classic additions, each switched on only
when reference points held out of the training split say it helps:

- **more k-NN members**: the ``m`` best (representation, distance) pairs of the bar's
  grid (Torres-Sospedra et al. 2015, see :mod:`~wiloc_core.methods.knn`), each with its
  own validated k; the estimate is the mean of their positions;
- **a hierarchy** building -> floor -> position: the building is the weighted vote of
  a member's k neighbours, the floor the weighted vote of those neighbours in that
  building, and the position the weighted k-NN estimate over the training rows of that
  building and floor only;
- **extremely randomized trees** (Geurts, Ernst and Wehenkel 2006, "Extremely randomized
  trees", Machine Learning 63(1):3-42; ``sklearn.ensemble.ExtraTreesRegressor``) on the
  positive representation, regressing (x, y) directly; with k-NN members on, the trees
  are one more member of the mean.

How the choice is made (:func:`evaluate_strongest`), on training rows only:

1. split A (the bar's own split, :func:`~wiloc_core.methods.knn.select_configuration`
   with the same seed): every (representation, distance, k) of the grid is scored; the
   best is the bar, and the ``m`` best pairs with their best k are the k-NN members;
2. splits B1..Bn (other seeded splits of whole reference points, three by default):
   every candidate, i.e. ``m`` in ``member_counts`` x hierarchy off/on x trees off/on
   (plus the trees alone), is refitted on the rest of each and scored by its mean 2-D
   error on the held-out points, averaged over the splits; the simplest candidate within
   one standard error of the best wins (:func:`choose_candidate`), so that a more
   complex model must beat a simpler one by more than the splits' scatter;
3. the winner is refitted on the whole training split and predicts the test split.

The test split is read only in step 3. Everything is deterministic for a seed: the
splits are seeded, k-NN ties are broken by index, and the trees are seeded and predict
in one thread (their fit may use several; each tree's randomness is drawn beforehand).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.methods.knn import (
    DISTANCE_EPS,
    DISTANCES,
    REPRESENTATIONS,
    KNNConfig,
    grouped_split,
    neighbours,
    position_groups,
    represent,
    select_configuration,
    training_rows,
)

#: Trees in the extremely randomized forest.
N_TREES = 100
#: Share of the APs drawn as split candidates at each node of a tree.
MAX_FEATURES = 0.3
#: Representation the trees read (trees see only the order of a feature's values, so the
#: representation matters little; positive is the cheapest).
TREE_REPRESENTATION = "positive"
#: Grouped splits the candidates are scored on (:func:`evaluate_strongest`).
SELECTION_SPLITS = 3
#: Numbers of k-NN members tried (the best pair alone, and the mean of the three best).
MEMBER_COUNTS = (1, 3)


# --------------------------------------------------------------------------------------
# One configuration of the ensemble
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnsembleChoice:
    """What the strongest model is made of.

    Attributes
    ----------
    knn : tuple of KNNConfig
        Weighted k-NN members, best validated first; may be empty when ``extra_trees``.
        Their ``min_rss`` (dBm) is also the ``min`` of the trees' representation.
    hierarchical : bool
        k-NN members predict building, then floor, then position within that floor.
    extra_trees : bool
        An extremely randomized forest on the positive representation is a member.
    n_trees : int
    max_features : float in (0, 1]
        Share of the APs tried at each split.
    min_rss : float or None
        ``min`` of the representations (dBm) when ``knn`` is empty; None: the members'.
    """

    knn: tuple = ()
    hierarchical: bool = False
    extra_trees: bool = False
    n_trees: int = N_TREES
    max_features: float = MAX_FEATURES
    min_rss: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "knn", tuple(self.knn))
        if not self.knn and not self.extra_trees:
            raise ParameterError("knn", "at least one k-NN member, or extra_trees=True", self.knn)
        if any(not isinstance(c, KNNConfig) for c in self.knn):
            raise ParameterError("knn", "a sequence of KNNConfig", self.knn)
        if self.hierarchical and not self.knn:
            raise ParameterError("hierarchical", "k-NN members to make hierarchical", self.knn)
        if isinstance(self.n_trees, bool) or not isinstance(self.n_trees, (int, np.integer)) \
                or self.n_trees < 1:
            raise ParameterError("n_trees", "a positive integer", self.n_trees)
        if not 0.0 < float(self.max_features) <= 1.0:
            raise ParameterError("max_features", "a share in (0, 1]", self.max_features)
        if not self.knn and self.min_rss is None:
            raise ParameterError("min_rss", "a dBm value when there are no k-NN members",
                                 self.min_rss)

    @property
    def representation_min(self) -> float:
        """``min`` (dBm) of every representation this model computes."""
        return float(self.knn[0].min_rss if self.min_rss is None else self.min_rss)

    @property
    def name(self) -> str:
        """Short key: ``"knn3+hier+trees"``, ``"knn1"``, ``"trees"``."""
        parts = [f"knn{len(self.knn)}"] if self.knn else []
        if self.hierarchical:
            parts.append("hier")
        if self.extra_trees:
            parts.append("trees")
        return "+".join(parts)

    def describe(self) -> str:
        """Words for a page, every member with its k."""
        trees = (f"extremely randomized trees ({self.n_trees} trees, "
                 f"{self.max_features:.0%} of the APs per split)")
        if not self.knn:
            return trees
        kind = "hierarchical (building, floor, then position) " if self.hierarchical else ""
        configs = "; ".join(f"{c.describe()}, k = {c.k}" for c in self.knn)
        n = len(self.knn)
        if self.extra_trees:
            return (f"the mean of {n + 1} members: {kind}weighted k-NN ({configs}) "
                    f"and {trees}")
        if n == 1:
            return f"{kind}weighted k-NN ({configs})"
        return f"the mean of {n} {kind}weighted k-NN configurations ({configs})"

    def as_dict(self) -> dict:
        """Plain values, for results files and tables."""
        return {
            "candidate": self.name,
            "knn_members": [{"representation": c.representation, "distance": c.distance,
                             "k": int(c.k)} for c in self.knn],
            "hierarchical": bool(self.hierarchical),
            "extra_trees": bool(self.extra_trees),
            "n_trees": int(self.n_trees) if self.extra_trees else None,
            "max_features": float(self.max_features) if self.extra_trees else None,
            "min_rss": self.representation_min,
        }


# --------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------


def _weights(distance):
    w = 1.0 / (distance + DISTANCE_EPS)
    return w / w.sum(axis=1, keepdims=True)


def _vote(labels, weights):
    """Weighted majority per row (lowest label on ties); rows with zero weight: lowest label."""
    classes = np.unique(labels)
    scores = np.stack([(weights * (labels == c)).sum(axis=1) for c in classes], axis=1)
    return classes[np.argmax(scores, axis=1)]


def _knn_member(train_x, train_xy, train_floor, train_building, query_x, config, hierarchical):
    """One k-NN member on represented features.

    Returns
    -------
    flat : float array [n_query, 2], metres
        Weighted k-NN over the whole radio map.
    hier : float array [n_query, 2] or None
        Weighted k-NN over the rows of the predicted building and floor (``hierarchical``).
    floor, building : int arrays [n_query]
        Weighted votes of the k neighbours (floor among those in the voted building).
    """
    index, distance = neighbours(train_x, query_x, config.k, config.distance)
    w = _weights(distance)
    flat = np.einsum("qk,qkd->qd", w, train_xy[index])
    building = _vote(train_building[index], w)
    same = train_building[index] == building[:, None]
    floor = _vote(np.where(same, train_floor[index], train_floor[index].min()), w * same)
    if not hierarchical:
        return flat, None, floor, building
    hier = np.empty_like(flat)
    for b, f in np.unique(np.stack([building, floor], axis=1), axis=0):
        rows = np.flatnonzero((building == b) & (floor == f))
        cols = np.flatnonzero((train_building == b) & (train_floor == f))
        idx, dist = neighbours(train_x[cols], query_x[rows], min(config.k, len(cols)),
                               config.distance)
        hier[rows] = np.einsum("qk,qkd->qd", _weights(dist), train_xy[cols][idx])
    return flat, hier, floor, building


def _fit_trees(x, xy, n_trees, max_features, seed, n_jobs):
    from sklearn.ensemble import ExtraTreesRegressor

    model = ExtraTreesRegressor(n_estimators=int(n_trees), max_features=float(max_features),
                                random_state=int(seed), n_jobs=n_jobs)
    model.fit(x, xy)
    model.n_jobs = 1  # summing the trees in one thread keeps predictions bit-identical
    return model


def _check_rss(name, rss, n_aps=None):
    rss = np.asarray(rss, dtype=np.float64)
    if rss.ndim != 2:
        raise ParameterError(name, "a 2-D array [n, n_aps] of dBm", f"shape {rss.shape}")
    if n_aps is not None and rss.shape[1] != n_aps:
        raise ParameterError(name, f"{n_aps} APs (as in training)", rss.shape[1])
    if not np.all(np.isfinite(rss)):
        raise ParameterError(name, "finite values", "NaN or inf")
    return rss


def _check_labels(name, values, n):
    values = np.asarray(values)
    if values.shape != (n,):
        raise ParameterError(name, f"shape ({n},)", values.shape)
    return values


class FingerprintEnsemble:
    """The strongest model for a fixed :class:`EnsembleChoice`: fit on a radio map, predict.

    Parameters
    ----------
    choice : EnsembleChoice
    seed : int
        Seeds the trees.
    n_jobs : int or None
        Threads for fitting the trees (``sklearn`` convention; None: one).
    """

    def __init__(self, choice: EnsembleChoice, *, seed: int = 0, n_jobs=None):
        if not isinstance(choice, EnsembleChoice):
            raise ParameterError("choice", "an EnsembleChoice", type(choice).__name__)
        self.choice = choice
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, rss, xy, floor, building):
        """Store the radio map and fit the trees.

        Parameters
        ----------
        rss : array [n, n_aps], dBm with ``NOT_DETECTED`` (+100) markers.
        xy : array [n, 2], metres
        floor, building : int arrays [n]
        """
        rss = _check_rss("rss", rss)
        n = len(rss)
        if n == 0:
            raise ParameterError("rss", "at least one fingerprint", 0)
        self.xy_ = np.asarray(xy, dtype=np.float64)
        if self.xy_.shape != (n, 2):
            raise ParameterError("xy", f"shape ({n}, 2)", self.xy_.shape)
        self.floor_ = _check_labels("floor", floor, n)
        self.building_ = _check_labels("building", building, n)
        self.n_aps_ = rss.shape[1]
        min_rss = self.choice.representation_min
        reps = {c.representation for c in self.choice.knn}
        self.features_ = {r: represent(rss, r, min_rss) for r in sorted(reps)}
        self.trees_ = None
        if self.choice.extra_trees:
            self.trees_ = _fit_trees(represent(rss, TREE_REPRESENTATION, min_rss), self.xy_,
                                     self.choice.n_trees, self.choice.max_features, self.seed,
                                     self.n_jobs)
        return self

    def member_predictions(self, rss) -> dict:
        """Every member's positions [n, 2] (m), keyed ``"rep/distance/k"`` or ``"trees"``."""
        rss = _check_rss("rss", rss, self.n_aps_)
        min_rss = self.choice.representation_min
        out = {}
        self.floor_pred_ = self.building_pred_ = None
        for config in self.choice.knn:
            query = represent(rss, config.representation, min_rss)
            flat, hier, floor, building = _knn_member(
                self.features_[config.representation], self.xy_, self.floor_, self.building_,
                query, config, self.choice.hierarchical)
            out[f"{config.representation}/{config.distance}/{config.k}"] = (
                hier if self.choice.hierarchical else flat)
            if self.floor_pred_ is None:
                self.floor_pred_, self.building_pred_ = floor, building
        if self.trees_ is not None:
            out["trees"] = self.trees_.predict(represent(rss, TREE_REPRESENTATION, min_rss))
        return out

    def predict(self, rss):
        """Positions [n, 2] (m), floor [n] and building [n].

        The position is the mean of the members'. Floor and building are the weighted
        votes of the first k-NN member's neighbours (None with no k-NN member).
        """
        members = self.member_predictions(rss)
        xy = np.mean(np.stack(list(members.values())), axis=0)
        return xy, self.floor_pred_, self.building_pred_


# --------------------------------------------------------------------------------------
# Validated choice
# --------------------------------------------------------------------------------------


def ranked_members(grid_errors, representations, distances, min_rss) -> list:
    """The grid's (representation, distance) pairs as KNNConfig, best validated first.

    Each pair gets its own best k (ties: the smaller k); pairs are ranked by that error,
    ties by the order of ``representations`` then ``distances``, the tie-breaking of
    :func:`~wiloc_core.methods.knn.select_configuration`, so the first is its choice.

    Parameters
    ----------
    grid_errors : dict {(representation, distance): {k: mean validation error (m)}}
    representations, distances : sequences, the grid's order
    min_rss : float, dBm
    """
    ranking = []
    for (rep, dist), by_k in grid_errors.items():
        k = min(by_k, key=lambda k: (by_k[k], k))
        ranking.append((by_k[k], list(representations).index(rep), list(distances).index(dist),
                        k, rep, dist))
    return [KNNConfig(rep, dist, k, min_rss) for _, _, _, k, rep, dist in sorted(ranking)]


def candidate_choices(members, *, member_counts=MEMBER_COUNTS, hierarchy=(False, True),
                      extra_trees=(False, True), n_trees=N_TREES,
                      max_features=MAX_FEATURES) -> list:
    """Every candidate the selection compares, simplest first.

    Parameters
    ----------
    members : list of KNNConfig, best first (:func:`ranked_members`)
    member_counts : iterable of int >= 1
        How many of the best members a candidate averages (capped at ``len(members)``;
        duplicates dropped).
    hierarchy, extra_trees : iterables of bool
        The switches tried. With trees on, the trees alone are a candidate too.

    Returns
    -------
    list of EnsembleChoice, simplest first: k-NN alone (fewer members first, flat before
    hierarchical), then the trees alone, then k-NN with the trees. The selection takes
    the first candidate within one standard error of the best (:func:`choose_candidate`).
    """
    counts = sorted({min(int(m), len(members)) for m in member_counts})
    out, seen = [], set()
    for tree in sorted({bool(t) for t in extra_trees}):
        if tree:
            out.append(EnsembleChoice((), False, True, n_trees, max_features,
                                      members[0].min_rss))
        for m in counts:
            for hier in sorted({bool(h) for h in hierarchy}):
                choice = EnsembleChoice(tuple(members[:m]), hier, tree, n_trees, max_features)
                if choice.name not in seen:
                    seen.add(choice.name)
                    out.append(choice)
    return out


#: How :func:`choose_candidate` picks (see there).
SELECTION_RULES = ("one_se", "min")


def choose_candidate(candidates, split_scores, rule: str = "one_se"):
    """The chosen candidate and the score threshold it had to meet.

    ``"min"``: the lowest mean score (ties: the earlier candidate). ``"one_se"`` (the
    one-standard-error rule of Hastie, Tibshirani and Friedman, The Elements of
    Statistical Learning, 2nd ed. 2009, §7.10): the first (simplest) candidate whose mean
    score is within one standard error of the best mean, the standard error being that
    of the best candidate's scores over the splits (sample standard deviation / sqrt(n);
    0 with one split, which makes it ``"min"``).

    Parameters
    ----------
    candidates : list of EnsembleChoice, simplest first (:func:`candidate_choices`)
    split_scores : dict {candidate name: list of mean errors (m), one per split}
    rule : one of :data:`SELECTION_RULES`

    Returns
    -------
    choice : EnsembleChoice
    threshold : float, metres (the best mean, plus one standard error for ``"one_se"``)
    """
    if rule not in SELECTION_RULES:
        raise ParameterError("selection_rule", f"one of {SELECTION_RULES}", rule)
    means = {c.name: float(np.mean(split_scores[c.name])) for c in candidates}
    best = min(candidates, key=lambda c: means[c.name])  # min keeps the first of ties
    threshold = means[best.name]
    values = np.asarray(split_scores[best.name], dtype=np.float64)
    if rule == "one_se" and len(values) > 1:
        threshold += float(values.std(ddof=1) / np.sqrt(len(values)))
    return next(c for c in candidates if means[c.name] <= threshold), threshold


def score_candidates(rss, xy, floor, building, candidates, fit_rows, val_rows, *, seed=0,
                     n_jobs=None) -> tuple[dict, dict]:
    """Mean 2-D error (m) of every candidate on held-out rows, each member computed once.

    Parameters
    ----------
    rss : array [n, n_aps] dBm; xy : array [n, 2] m; floor, building : arrays [n]
    candidates : list of EnsembleChoice
    fit_rows, val_rows : int arrays, disjoint rows of the radio map
    seed, n_jobs : as :class:`FingerprintEnsemble`

    Returns
    -------
    scores : dict {candidate name: mean error (m)}
    member_scores : dict {member key: mean error (m)}, keys as
        :meth:`FingerprintEnsemble.member_predictions`, ``"+hier"`` for hierarchical ones.
    """
    from wiloc_core.metrics import positioning_errors

    configs = sorted({c for cand in candidates for c in cand.knn},
                     key=lambda c: (c.representation, c.distance, c.k))
    hier_needed = any(cand.hierarchical for cand in candidates)
    trees_needed = any(cand.extra_trees for cand in candidates)
    min_rss = candidates[0].representation_min
    tree_params = next((c for c in candidates if c.extra_trees), None)
    union = FingerprintEnsemble(EnsembleChoice(tuple(configs), False, trees_needed,
                                               tree_params.n_trees if tree_params else N_TREES,
                                               tree_params.max_features if tree_params
                                               else MAX_FEATURES, min_rss),
                                seed=seed, n_jobs=n_jobs)
    union.fit(rss[fit_rows], xy[fit_rows], floor[fit_rows], building[fit_rows])
    preds = {}
    query = np.asarray(rss)[val_rows]
    for config in configs:
        train_x = union.features_[config.representation]
        flat, hier, _, _ = _knn_member(train_x, union.xy_, union.floor_, union.building_,
                                       represent(query, config.representation, min_rss), config,
                                       hier_needed)
        preds[(config, False)] = flat
        preds[(config, True)] = hier
    if trees_needed:
        preds["trees"] = union.trees_.predict(represent(query, TREE_REPRESENTATION, min_rss))
    truth = np.asarray(xy, dtype=np.float64)[val_rows]

    def error(p):
        return float(positioning_errors(p, truth).mean())

    scores = {}
    for cand in candidates:
        parts = [preds[(c, cand.hierarchical)] for c in cand.knn]
        if cand.extra_trees:
            parts.append(preds["trees"])
        scores[cand.name] = error(np.mean(np.stack(parts), axis=0))
    member_scores = {}
    for (key, p) in preds.items():
        if p is None:
            continue
        if key == "trees":
            member_scores["trees"] = error(p)
        else:
            config, hier = key
            name = f"{config.representation}/{config.distance}/{config.k}"
            member_scores[name + ("+hier" if hier else "")] = error(p)
    return scores, member_scores


@dataclass
class StrongestEvaluation:
    """What :func:`evaluate_strongest` chose on training rows and measured on the test split.

    Attributes
    ----------
    dataset : str
    choice : EnsembleChoice
        The winner, refitted on the whole training split.
    description : str
        Words for a page (:meth:`EnsembleChoice.describe`).
    choices : dict
        The winner's settings as plain values (:meth:`EnsembleChoice.as_dict`).
    candidate_scores : dict {candidate name: mean 2-D error (m) over splits B1..Bn}
        How the choice was made; ``candidate_descriptions`` says what each name is.
    candidate_descriptions : dict {candidate name: str}
    member_scores : dict {member: mean 2-D error (m) over splits B1..Bn}
    knn_config : KNNConfig
        The bar's configuration (split A), the first k-NN member.
    knn_validation_errors : dict {(representation, distance): {k: error (m)}}, split A.
    candidate_split_scores : dict {candidate name: [error (m) on B1, B2, ...]}
    selection_threshold : float, metres
        The mean score the choice had to meet (:func:`choose_candidate`).
    selection_rule : str
    n_train : int
        Training rows used (after ``max_train_samples``).
    n_selection_fit, n_selection_validation : int
        Rows on each side of a split B (mean over the splits).
    pred_xy : float array [n_test, 2], metres
    errors : float array [n_test], metres, 2-D
    floor_hit_rate, building_hit_rate : float or None
        Of the first k-NN member's votes (None for the trees alone).
    """

    dataset: str
    choice: EnsembleChoice
    description: str
    choices: dict
    candidate_scores: dict
    candidate_descriptions: dict
    member_scores: dict
    knn_config: KNNConfig
    knn_validation_errors: dict
    candidate_split_scores: dict
    selection_threshold: float
    selection_rule: str
    n_train: int
    n_selection_fit: int
    n_selection_validation: int
    pred_xy: np.ndarray = field(repr=False)
    errors: np.ndarray = field(repr=False)
    floor_hit_rate: float | None = None
    building_hit_rate: float | None = None


def _check_bools(name, values):
    values = tuple(values)
    if not values or any(not isinstance(v, (bool, np.bool_)) for v in values):
        raise ParameterError(name, "a non-empty sequence of True/False", values)
    return values


def evaluate_strongest(dataset, *, representations=REPRESENTATIONS, distances=DISTANCES,
                       k_candidates=(1, 3, 5, 7, 9, 11, 13, 15), validation_fraction=0.2,
                       max_train_samples=None, member_counts=MEMBER_COUNTS,
                       hierarchy=(False, True), extra_trees=(False, True), n_trees=N_TREES,
                       max_features=MAX_FEATURES, selection_splits=SELECTION_SPLITS,
                       selection_rule="one_se", seed=0, n_jobs=None) -> StrongestEvaluation:
    """Choose the strongest model on held-out training reference points; test it once.

    Accepts the bar's grid as keywords, so a chapter can call
    ``evaluate_strongest(ds, **bar_settings(profile), max_train_samples=..., seed=seed)``;
    with the same arguments its first k-NN member is exactly
    :func:`~wiloc_core.methods.knn.evaluate_weighted_knn`'s configuration.

    Parameters
    ----------
    dataset : wiloc_core.data.FingerprintDataset
        Non-empty ``train`` and ``test``; ``rss`` [n, n_aps] dBm (+100 not heard),
        ``xy`` [n, 2] m, ``floor`` and ``building`` [n].
    representations, distances, k_candidates, validation_fraction
        The k-NN grid and the share of reference points held out (both splits).
    max_train_samples : int or None
        Seeded subsample of the training split (the rows the bar uses); None: all.
    member_counts : iterable of int >= 1
        Numbers of best k-NN configurations averaged (:func:`candidate_choices`).
    hierarchy, extra_trees : sequences of bool
        Switches tried; ``(False,)`` keeps one off.
    n_trees : int; max_features : float in (0, 1]
        The forest's fixed settings (not tuned).
    selection_splits : int >= 1
        Seeded grouped splits (B1, B2, ...) the candidates are scored on; a candidate's
        score is its mean over them (one held-out fifth of ~190 reference points is a
        noisy judge, so a few are averaged).
    selection_rule : {"one_se", "min"}
        :func:`choose_candidate`: the simplest candidate within one standard error of
        the best (default), or the best.
    seed : int >= 0
        Seeds the subsample, both splits and the trees.
    n_jobs : int or None
        Threads for fitting the trees.

    Returns
    -------
    StrongestEvaluation
        ``.errors`` [n_test] m, ``.description``, ``.choices``, ``.candidate_scores``.
    """
    from wiloc_core.metrics import building_hit_rate, floor_hit_rate, positioning_errors

    train = getattr(dataset, "train", None)
    test = getattr(dataset, "test", None)
    if train is None or train.n_samples == 0 or test is None or test.n_samples == 0:
        raise ParameterError("dataset", "train and test splits with fingerprints",
                             getattr(dataset, "name", dataset))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError("seed", "a non-negative integer", seed)
    counts = tuple(member_counts)
    if not counts or any(isinstance(m, bool) or int(m) != m or m < 1 for m in counts):
        raise ParameterError("member_counts", "a non-empty list of integers >= 1", member_counts)
    if isinstance(selection_splits, bool) or not isinstance(selection_splits, (int, np.integer)) \
            or selection_splits < 1:
        raise ParameterError("selection_splits", "a positive integer", selection_splits)
    if selection_rule not in SELECTION_RULES:
        raise ParameterError("selection_rule", f"one of {SELECTION_RULES}", selection_rule)
    hierarchy = _check_bools("hierarchy", hierarchy)
    extra_trees = _check_bools("extra_trees", extra_trees)
    EnsembleChoice((), False, True, n_trees, max_features, -100.0)  # checks n_trees, max_features

    rows = training_rows(train.n_samples, max_train_samples, seed)
    rss, xy = np.asarray(train.rss[rows], dtype=np.float64), train.xy[rows]
    floor, building = train.floor[rows], train.building[rows]
    groups = position_groups(xy, floor, building)

    # Split A: the bar's grid, exactly as evaluate_weighted_knn chooses it.
    bar, grid_errors = select_configuration(
        rss, xy, representations=representations, distances=distances,
        k_candidates=k_candidates, validation_fraction=validation_fraction, seed=seed,
        groups=groups)
    members = ranked_members(grid_errors, representations, distances, bar.min_rss)
    assert members[0] == bar
    candidates = candidate_choices(members, member_counts=counts, hierarchy=hierarchy,
                                   extra_trees=extra_trees, n_trees=n_trees,
                                   max_features=max_features)

    # Splits B1..Bn: other held-out reference points compare the candidates.
    split_scores, split_members, sizes = {}, {}, []
    for i in range(1, int(selection_splits) + 1):
        fit_b, val_b = grouped_split(groups, validation_fraction, np.random.default_rng([seed, i]))
        sizes.append((len(fit_b), len(val_b)))
        scores_i, members_i = score_candidates(rss, xy, floor, building, candidates, fit_b,
                                               val_b, seed=seed, n_jobs=n_jobs)
        for name, value in scores_i.items():
            split_scores.setdefault(name, []).append(value)
        for name, value in members_i.items():
            split_members.setdefault(name, []).append(value)
    scores = {name: float(np.mean(v)) for name, v in split_scores.items()}
    member_scores = {name: float(np.mean(v)) for name, v in split_members.items()}
    best, threshold = choose_candidate(candidates, split_scores, selection_rule)

    model = FingerprintEnsemble(best, seed=seed, n_jobs=n_jobs).fit(rss, xy, floor, building)
    pred_xy, pred_floor, pred_building = model.predict(test.rss)
    return StrongestEvaluation(
        dataset=dataset.name, choice=best, description=best.describe(),
        choices=best.as_dict(), candidate_scores=scores,
        candidate_descriptions={c.name: c.describe() for c in candidates},
        member_scores=member_scores, knn_config=bar, knn_validation_errors=grid_errors,
        candidate_split_scores=split_scores, selection_threshold=threshold,
        selection_rule=selection_rule, n_train=len(rows),
        n_selection_fit=int(np.mean([a for a, _ in sizes])),
        n_selection_validation=int(np.mean([b for _, b in sizes])),
        pred_xy=pred_xy, errors=positioning_errors(pred_xy, test.xy),
        floor_hit_rate=None if pred_floor is None else float(floor_hit_rate(pred_floor, test.floor)),
        building_hit_rate=(None if pred_building is None
                           else float(building_hit_rate(pred_building, test.building))),
    )

"""The k-NN bar's prediction speed with the Sørensen distance at UJIIndoorLoc size.

19861 × 520 radio map, 1111 queries, powed representation (the sparse Sørensen path of
:func:`wiloc_core.methods.knn.pairwise_distances`). The real UJIIndoorLoc file is used
when ``WILOC_DATA`` holds it; otherwise a synthetic map of the same size and a similar
share of heard APs (each scan hears about 18 of 520, clustered by building).
"""

from __future__ import annotations

import time

import numpy as np

#: UJIIndoorLoc's training and validation sizes.
N_TRAIN, N_QUERY, N_APS = 19861, 1111, 520
#: Neighbours (about the literature's choice for UJIIndoorLoc).
K = 13


def _uji_rss():
    """(train rss, query rss, source) from the real file, or None when it is absent."""
    from wiloc_core.data import load_fingerprints
    from wiloc_core.errors import DatasetNotFoundError

    try:
        ds = load_fingerprints("UJI1", source="real")
    except (DatasetNotFoundError, FileNotFoundError, OSError):
        return None
    return ds.train.rss, ds.test.rss, "real"


def _synthetic_rss(seed: int = 0):
    """A radio map of UJIIndoorLoc's size: three buildings of 170 APs, about 18 heard per
    scan, readings -100 to -30 dBm, +100 for not heard."""
    gen = np.random.default_rng(seed)

    def scans(n):
        building = gen.integers(0, 3, size=n)
        rss = np.full((n, N_APS), 100.0)
        for i, b in enumerate(building):
            aps = 170 * b + gen.choice(170, size=18, replace=False)
            rss[i, aps] = gen.integers(-100, -30, size=18)
        return rss

    return scans(N_TRAIN), scans(N_QUERY), "synthetic"


def sorensen_predict_s() -> tuple[float, str]:
    """Wall time (s) of weighted k-NN prediction with Sørensen on powed fingerprints."""
    from wiloc_core.methods.knn import WeightedKNN, lowest_reading, represent

    train_rss, query_rss, source = _uji_rss() or _synthetic_rss()
    min_rss = lowest_reading(train_rss)
    train = represent(train_rss, "powed", min_rss)
    query = represent(query_rss, "powed", min_rss)
    xy = np.random.default_rng(1).uniform(0, 400, size=(len(train), 2))
    model = WeightedKNN(k=K, metric="sorensen").fit(train, xy)
    start = time.perf_counter()
    model.predict(query)
    return time.perf_counter() - start, source


#: The strongest model timed at UJIIndoorLoc size: the costliest candidate without the
#: hierarchy (three k-NN members and the trees), with UJIIndoorLoc's three best
#: validated (representation, distance, k) of the full grid.
STRONGEST_MEMBERS = (("positive", "sorensen", 11), ("positive", "euclidean", 14),
                     ("positive", "manhattan", 10))
#: Threads the trees are fitted with (the book's machines have two cores).
STRONGEST_JOBS = 2


def _uji_map():
    """(train rss, train xy, floor, building, query rss, source): the real UJIIndoorLoc
    radio map when ``WILOC_DATA`` holds it, else the synthetic one of :func:`_synthetic_rss`
    with its scans spread over 933 reference points (UJIIndoorLoc's count), as in a survey.

    Trees grow until their leaves are pure, so their cost depends on how many distinct
    positions the map has: random positions per scan would overstate it several times.
    """
    from wiloc_core.data import load_fingerprints
    from wiloc_core.errors import DatasetNotFoundError

    try:
        ds = load_fingerprints("UJI1", source="real")
    except (DatasetNotFoundError, FileNotFoundError, OSError):
        train_rss, query_rss, source = _synthetic_rss()
        gen = np.random.default_rng(1)
        points = gen.uniform(0, 400, size=(933, 2))
        rp = gen.integers(0, len(points), size=len(train_rss))
        return (train_rss, points[rp], rp % 4, rp % 3, query_rss, source)
    t = ds.train
    return t.rss, t.xy, t.floor, t.building, ds.test.rss, "real"


def strongest_fit_predict_s() -> tuple[float, str]:
    """Wall time (s) of :class:`~wiloc_core.methods.fingerprint_ensemble.FingerprintEnsemble`
    fit on the 19861-row map and predict of the 1111 queries (selection not included)."""
    from wiloc_core.methods.fingerprint_ensemble import EnsembleChoice, FingerprintEnsemble
    from wiloc_core.methods.knn import KNNConfig, lowest_reading

    train_rss, xy, floor, building, query_rss, source = _uji_map()
    min_rss = lowest_reading(train_rss)
    choice = EnsembleChoice(tuple(KNNConfig(r, d, k, min_rss) for r, d, k in STRONGEST_MEMBERS),
                            hierarchical=False, extra_trees=True)
    start = time.perf_counter()
    FingerprintEnsemble(choice, seed=0, n_jobs=STRONGEST_JOBS).fit(
        train_rss, xy, floor, building).predict(query_rss)
    return time.perf_counter() - start, source


def run() -> dict:
    seconds, source = sorensen_predict_s()
    strongest, strongest_source = strongest_fit_predict_s()
    return {"knn.uji_sorensen_s": {"value": seconds, "unit": "s", "target": 3.0,
                                   "data": source},
            "knn.strongest_uji_s": {"value": strongest, "unit": "s", "target": 60.0,
                                    "data": strongest_source}}

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


def run() -> dict:
    seconds, source = sorensen_predict_s()
    return {"knn.uji_sorensen_s": {"value": seconds, "unit": "s", "target": 3.0,
                                   "data": source}}

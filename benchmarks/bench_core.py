"""Core figures: import time of wiloc_core, and the k-NN baseline's prediction speed."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

#: The modules a chapter imports before its first heavy call (torch and matplotlib stay lazy).
CHAPTER_IMPORTS = ("wiloc_core.data, wiloc_core.metrics, wiloc_core.sim, wiloc_core.profiles, "
                   "wiloc_core.results, wiloc_core.methods.knn, wiloc_core.models")


def import_time_s(modules: str = "wiloc_core", repeats: int = 5) -> float:
    """Best-of-``repeats`` wall time of ``import <modules>`` in a fresh interpreter (s)."""
    code = f"import time; t=time.perf_counter(); import {modules}; print(time.perf_counter()-t)"
    best = float("inf")
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        best = min(best, float(out.stdout.strip()))
    return best


def knn_predict_s() -> float:
    """Weighted k-NN on a UJIIndoorLoc-sized problem: 19861 × 520 radio map, 1111 queries."""
    from wiloc_core.methods.knn import WeightedKNN

    gen = np.random.default_rng(0)
    train = gen.uniform(0, 100, size=(19861, 520))
    xy = gen.uniform(0, 400, size=(19861, 2))
    query = gen.uniform(0, 100, size=(1111, 520))
    model = WeightedKNN(k=5).fit(train, xy)
    start = time.perf_counter()
    model.predict(query)
    return time.perf_counter() - start


def run() -> dict:
    return {
        "core.import_wiloc_core_s": {"value": import_time_s(), "unit": "s", "target": 1.0},
        "core.import_chapter_modules_s": {"value": import_time_s(CHAPTER_IMPORTS), "unit": "s",
                                          "target": 1.0},
        "core.knn_uji_size_predict_s": {"value": knn_predict_s(), "unit": "s"},
    }

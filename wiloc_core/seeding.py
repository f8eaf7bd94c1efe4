"""One seeding entry point.

Library functions take an explicit ``numpy.random.Generator`` or an integer seed;
notebooks call :func:`seed_everything` once so that libraries with global state
(torch, Python's ``random``) are reproducible too.
"""

from __future__ import annotations

import os
import random

import numpy as np


def rng(seed) -> np.random.Generator:
    """A NumPy generator from an int seed, or the generator itself if one is passed."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy's legacy global state and torch (if imported); return a generator.

    torch is seeded only when it is already imported, so calling this does not pay
    torch's import cost in notebooks that never use it.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)
    import sys

    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)

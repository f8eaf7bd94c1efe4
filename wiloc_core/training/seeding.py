"""Per-task random streams: every draw comes from the task's seed, none from global state.

A task seed is split into named, independent streams (validation split, batch order,
dropout, weight initialisation) with :class:`numpy.random.SeedSequence`, so that the
same seed gives the same network in any process, in any order, on any worker.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import numpy as np
import torch

from wiloc_core.errors import ParameterError

__all__ = ["derive_seed", "torch_generator", "seeded_init", "isolated_torch_rng"]


def derive_seed(seed: int, stream: str) -> int:
    """A 63-bit seed for the named ``stream`` of the task seed ``seed``.

    Parameters
    ----------
    seed : int >= 0
    stream : str
        E.g. ``"init"``, ``"split"``, ``"shuffle"``, ``"dropout"``.

    Returns
    -------
    int
        Stable across processes, machines and library versions of NumPy that keep
        ``SeedSequence`` (it is specified by NEP 19).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError("seed", "an integer >= 0", seed)
    label = int.from_bytes(hashlib.sha256(stream.encode()).digest()[:4], "little")
    state = np.random.SeedSequence(int(seed), spawn_key=(label,)).generate_state(2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def torch_generator(seed: int, stream: str) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded for one stream of a task seed."""
    return torch.Generator().manual_seed(derive_seed(seed, stream))


@contextmanager
def isolated_torch_rng(seed: int, stream: str | None, device: torch.device | None = None):
    """Run a block with torch's default generators seeded for ``stream``, then restore them.

    Layers that draw from torch's global generators (weight initialisers, dropout) see a
    seeded stream inside the block; outside it the caller's global state is unchanged.
    Not thread-safe: two threads in one process share those generators.

    ``stream=None`` seeds the generators with ``seed`` itself, as
    ``torch.manual_seed(seed)`` would (for methods whose committed results were drawn
    that way; new code names a stream).
    """
    cuda = []
    if device is not None and device.type == "cuda":
        cuda = [torch.cuda.current_device() if device.index is None else device.index]
    if stream is None:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ParameterError("seed", "an integer >= 0", seed)
        value = int(seed)
    else:
        value = derive_seed(seed, stream)
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(value)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(value)
        yield


def seeded_init(model_factory, seed: int, *args, **kwargs):
    """Build a model with weights drawn from the ``"init"`` stream of ``seed``.

    Parameters
    ----------
    model_factory : callable
        Called as ``model_factory(*args, **kwargs)``; returns a ``torch.nn.Module``.
    seed : int >= 0

    Returns
    -------
    The factory's result. The global torch generators are left as they were.

    Examples
    --------
    >>> net = seeded_init(torch.nn.Linear, 0, 3, 2)
    >>> torch.equal(net.weight, seeded_init(torch.nn.Linear, 0, 3, 2).weight)
    True
    """
    with isolated_torch_rng(seed, "init"):
        return model_factory(*args, **kwargs)

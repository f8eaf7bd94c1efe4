"""Where one training step of a specialized network spends its time (paper 001, CPU).

:func:`profile_step` times the three parts of a stand-alone training step on one batch
(forward pass with J_MAE, backward pass, Adam update) with ``time.perf_counter``
splits, after warm-up steps. The figures are wall-clock: they differ from run to run
and belong in a run's provenance (``ResultSet.timing``), never in a saved table.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from wiloc_core.errors import ParameterError
from wiloc_core.methods import surrogate_losses as L
from wiloc_core.models.fingerprint_nets import build_net
from wiloc_core.training import seeded_init, torch_generator

__all__ = ["STEP_PARTS", "profile_step"]

#: The parts of one training step, in the order they run.
STEP_PARTS = ("forward", "backward", "optimiser")


def profile_step(arch: str, n_aps: int = 520, *, batch_size: int = 128, n_steps: int = 3,
                 warmup: int = 1, seed: int = 0, net_sizes: dict | None = None) -> dict:
    """Seconds of each part of one stand-alone training step of ``arch`` on the CPU.

    The network (weights from the ``"init"`` stream of ``seed``) trains in train mode
    with Adam on one fixed batch of ``batch_size`` random fingerprints (dBm in [-100,
    -40]) and positions in [0, 1]. ``warmup`` steps run first and are not timed; each
    part's time is the median over ``n_steps`` timed steps.

    Parameters
    ----------
    arch : one of :data:`~wiloc_core.models.fingerprint_nets.ARCHITECTURES`
    n_aps : int
        Input width (520: UJIIndoorLoc).
    batch_size, n_steps, warmup : int
    seed : int
    net_sizes : dict, optional
        ``{arch: constructor kwargs}``.

    Returns
    -------
    dict
        ``{"forward", "backward", "optimiser", "total"}`` in seconds (``total``: the
        sum of the three medians).
    """
    if int(n_steps) < 1 or int(warmup) < 0 or int(batch_size) < 1:
        raise ParameterError("n_steps", "n_steps >= 1, warmup >= 0, batch_size >= 1",
                             (n_steps, warmup, batch_size))
    net = seeded_init(build_net, int(seed), arch, int(n_aps), **(net_sizes or {}).get(arch, {}))
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch_generator(int(seed), "step-profile")
    x = -100.0 + 60.0 * torch.rand(int(batch_size), int(n_aps), generator=gen)
    y = torch.rand(int(batch_size), 2, generator=gen)
    times = {part: [] for part in STEP_PARTS}
    for i in range(int(warmup) + int(n_steps)):
        t0 = time.perf_counter()
        loss = L.j_mae(net(x)[2], y)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= int(warmup):
            for part, seconds in zip(STEP_PARTS, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                times[part].append(seconds)
    out = {part: float(np.median(v)) for part, v in times.items()}
    out["total"] = float(sum(out.values()))
    return out

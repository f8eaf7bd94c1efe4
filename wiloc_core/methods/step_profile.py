"""Where one training step of a specialized network spends its time (paper 001, CPU).

:func:`profile_step` times the three parts of a stand-alone training step on one batch
(forward pass with J_MAE, backward pass, Adam update) with ``time.perf_counter``
splits, after warm-up steps. The figures are wall-clock: they differ from run to run
and belong in a run's provenance (``ResultSet.timing``), never in a saved table.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager

import numpy as np
import torch

from wiloc_core.errors import ParameterError
from wiloc_core.methods import surrogate_losses as L
from wiloc_core.models.fingerprint_nets import build_net
from wiloc_core.training import seeded_init, torch_generator

__all__ = ["STEP_PARTS", "profile_step", "top_operators"]

#: The parts of one training step, in the order they run.
STEP_PARTS = ("forward", "backward", "optimiser")


def _one_step_setup(arch, n_aps, batch_size, seed, net_sizes):
    net = seeded_init(build_net, int(seed), arch, int(n_aps), **(net_sizes or {}).get(arch, {}))
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch_generator(int(seed), "step-profile")
    x = -100.0 + 60.0 * torch.rand(int(batch_size), int(n_aps), generator=gen)
    y = torch.rand(int(batch_size), 2, generator=gen)
    return net, opt, x, y


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
    net, opt, x, y = _one_step_setup(arch, n_aps, batch_size, seed, net_sizes)
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


@contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 for a block: the profiler's C++ layer logs its start and
    stop there, which a notebook kernel would show as cell output."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def top_operators(arch: str, n_aps: int = 520, *, batch_size: int = 128, top: int = 3,
                  n_steps: int = 3, seed: int = 0,
                  net_sizes: dict | None = None) -> list[tuple[str, float]]:
    """The PyTorch operators that take the most time in a training step of ``arch``.

    One warm-up step, then ``n_steps`` steps (forward with J_MAE, backward, Adam update,
    as in :func:`profile_step`) under ``torch.profiler`` on the CPU; each operator's
    share is its self CPU time over the steps' total self CPU time.

    Returns
    -------
    list of (operator name, share in [0, 1]), the ``top`` largest first
        Names as the profiler gives them (``"aten::convolution_backward"``); wall-clock
        figures, for provenance and prose only.
    """
    if int(top) < 1 or int(n_steps) < 1:
        raise ParameterError("top", "top >= 1 and n_steps >= 1", (top, n_steps))
    net, opt, x, y = _one_step_setup(arch, n_aps, batch_size, seed, net_sizes)

    def step():
        loss = L.j_mae(net(x)[2], y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    with _quiet_stderr(), \
            torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(int(n_steps)):
            step()
    rows = [(e.key, float(e.self_cpu_time_total)) for e in prof.key_averages()]
    total = sum(t for _, t in rows)
    if not total > 0:
        raise ParameterError("arch", "a network whose step the profiler can time", arch)
    rows.sort(key=lambda r: r[1], reverse=True)
    return [(name, t / total) for name, t in rows[:int(top)]]

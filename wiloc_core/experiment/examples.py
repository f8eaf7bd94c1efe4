"""Tiny tasks for the engine's tests and benchmarks (importable by any worker)."""

from __future__ import annotations

import os
import time

import numpy as np

#: Version constant of these example methods; bump it when their behaviour changes.
VERSION = 1


def echo(x=0, sleep_s: float = 0.0, fail: bool = False) -> dict:
    """A trivial task: returns ``{"x": x, "pid": pid}`` after ``sleep_s`` seconds."""
    if sleep_s:
        time.sleep(float(sleep_s))
    if fail:
        raise ValueError(f"echo asked to fail for x={x!r}")
    return {"x": x, "pid": os.getpid()}


def echo_data(data, x=0) -> dict:
    """A trivial task with data: ``{"x": x, "n": number of entries in data}``."""
    return {"x": x, "n": len(data)}


def torch_threads() -> int:
    """The torch intra-op thread count a task sees (the engine sets it to 1)."""
    import torch

    return torch.get_num_threads()


def regression_data(n: int = 256, n_in: int = 8, n_out: int = 2, seed: int = 0) -> dict:
    """A noisy linear-plus-sine regression problem.

    Returns
    -------
    dict
        ``"X"``: float32 [n, n_in]; ``"y"``: float32 [n, n_out].
    """
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, n_in)).astype(np.float32)
    W = g.normal(size=(n_in, n_out))
    y = np.sin(X @ W) + 0.05 * g.normal(size=(n, n_out))
    return {"X": X, "y": y.astype(np.float32)}


def train_mlp(data: dict, *, seed: int, hidden: int = 16, epochs: int = 10,
              lr: float = 1e-2, batch_size: int = 32, patience: int | None = 5,
              device: str = "cpu") -> dict:
    """Train a small MLP on ``data`` (see :func:`regression_data`) with ``fit``.

    Returns
    -------
    dict
        ``"state_dict"`` (tensors), ``"history"`` (per-epoch records), ``"best_epoch"``,
        ``"train_rmse"`` (float, target units) and ``"device"``.
    """
    import torch

    from wiloc_core.training import TrainSettings, fit, predict, seeded_init

    X, y = data["X"], data["y"]

    def make():
        return torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(),
                                   torch.nn.Dropout(0.1), torch.nn.Linear(hidden, y.shape[1]))

    net = seeded_init(make, seed)
    settings = TrainSettings(epochs=epochs, lr=lr, batch_size=batch_size, patience=patience,
                             device=device, progress=False)
    result = fit(net, X, y, settings, seed=seed)
    rmse = float(np.sqrt(np.mean((predict(net, X) - y) ** 2)))
    return {"state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
            "history": result.history, "best_epoch": result.best_epoch,
            "train_rmse": rmse, "device": result.device}

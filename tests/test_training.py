"""The training layer: seeding, early stopping, devices, progress."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wiloc_core.errors import ParameterError
from wiloc_core.training import (
    TrainSettings,
    batch_indices,
    derive_seed,
    fit,
    isolated_torch_rng,
    predict,
    progress_enabled,
    resolve_device,
    seeded_init,
)


def _data(n=120, seed=0):
    g = np.random.default_rng(seed)
    X = g.normal(size=(n, 4)).astype(np.float32)
    y = np.tanh(X @ g.normal(size=(4, 2))).astype(np.float32)
    return X, y


def _mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                               torch.nn.Linear(16, 2))


QUICK = TrainSettings(epochs=8, lr=1e-2, batch_size=16, device="cpu", progress=False)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_same_seed_same_network_and_global_rng_untouched():
    X, y = _data()
    before = torch.random.get_rng_state()
    nets, results = [], []
    for _ in range(2):
        net = seeded_init(_mlp, 3)
        results.append(fit(net, X, y, QUICK, seed=3))
        nets.append(net)
    assert torch.equal(before, torch.random.get_rng_state())
    assert _same_weights(*nets)
    assert results[0].history == results[1].history
    other = seeded_init(_mlp, 4)
    fit(other, X, y, QUICK, seed=4)
    assert not _same_weights(nets[0], other)


def test_seed_streams_are_distinct_and_stable():
    assert derive_seed(0, "init") != derive_seed(0, "shuffle")
    assert derive_seed(0, "init") != derive_seed(1, "init")
    assert derive_seed(5, "init") == derive_seed(5, "init")
    with pytest.raises(ParameterError):
        derive_seed(-1, "init")


def test_batches_cover_every_sample_once_and_never_leave_one_alone():
    g = torch.Generator().manual_seed(0)
    for n, b in [(33, 16), (32, 16), (5, 16), (17, 4)]:
        batches = batch_indices(n, b, g)
        flat = torch.cat(batches).sort().values
        assert torch.equal(flat, torch.arange(n))
        assert min(len(x) for x in batches) >= 2


def test_batches_from_a_numpy_generator_follow_its_permutation():
    """One ``g.permutation(n)`` per pass, cut as for a torch generator (methods whose
    committed results were drawn from NumPy keep their numbers)."""
    g, twin = np.random.default_rng(7), np.random.default_rng(7)
    for n, b in [(33, 16), (5, 16), (40, 8)]:
        batches = batch_indices(n, b, g)
        order = twin.permutation(n)
        assert all(x.dtype == torch.int64 for x in batches)
        assert torch.equal(torch.cat(batches), torch.from_numpy(order))
        assert [len(x) for x in batches] == {33: [16, 17], 5: [5], 40: [8] * 5}[n]


def test_isolated_rng_without_a_stream_is_manual_seed_and_restores_the_state():
    before = torch.random.get_rng_state()
    with isolated_torch_rng(11, None):
        ours = torch.rand(5)
    assert torch.equal(before, torch.random.get_rng_state())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        assert torch.equal(ours, torch.rand(5))
    with isolated_torch_rng(11, "dropout"):
        assert not torch.equal(ours, torch.rand(5))
    with pytest.raises(ParameterError):
        with isolated_torch_rng(-1, None):
            pass


def _rising_validation_case(seed=0):
    """Training targets X w; validation targets X w / 2.

    A linear model starting at zero output passes the validation optimum halfway to the
    training optimum, so the validation loss falls and then rises.
    """
    g = np.random.default_rng(seed)
    w = g.normal(size=(6, 1)).astype(np.float32)
    X = g.normal(size=(200, 6)).astype(np.float32)
    Xv = g.normal(size=(100, 6)).astype(np.float32)
    return X, X @ w, Xv, 0.5 * (Xv @ w)


def _zero_linear():
    net = torch.nn.Linear(6, 1)
    torch.nn.init.zeros_(net.weight)
    torch.nn.init.zeros_(net.bias)
    return net


def _val_loss(net, Xv, yv) -> float:
    with torch.no_grad():
        return float(torch.nn.functional.mse_loss(net(torch.from_numpy(Xv)),
                                                  torch.from_numpy(yv)))


@pytest.mark.parametrize("patience", [3, None])
def test_early_stopping_restores_the_best_epoch(patience):
    X, y, Xv, yv = _rising_validation_case()
    settings = TrainSettings(epochs=60, lr=2e-3, batch_size=50, patience=patience,
                             device="cpu", progress=False)
    net = _zero_linear()
    result = fit(net, X, y, settings, seed=0, X_val=Xv, y_val=yv)
    vals = [h["val_loss"] for h in result.history]
    assert vals[-1] > min(vals), "the case must have a rising validation loss"
    assert result.best_epoch == int(np.argmin(vals)) + 1
    assert 1 < result.best_epoch < result.epochs_run
    assert result.best_val_loss == min(vals)
    assert _val_loss(net, Xv, yv) == pytest.approx(min(vals), rel=1e-5)
    assert _val_loss(net, Xv, yv) != pytest.approx(vals[-1], rel=1e-5)
    if patience is None:
        assert result.epochs_run == 60 and not result.stopped_early
        assert vals[-1] > 1.5 * min(vals)
    else:
        assert result.stopped_early
        assert result.epochs_run == result.best_epoch + patience


def test_without_validation_trains_to_the_cap_and_min_steps_raise_it():
    X, y = _data()
    net = seeded_init(_mlp, 0)
    settings = TrainSettings(epochs=2, batch_size=40, min_steps=9, device="cpu",
                             progress=False)
    result = fit(net, X, y, settings, seed=0, val_fraction=0)
    assert result.steps == 9 and result.epochs_run == 3  # 3 batches per epoch
    assert result.best_epoch == 3 and math.isnan(result.best_val_loss)


def _grad_norms_at_each_step(net, **clip):
    """Train a few steps on badly scaled targets; the L2 norm of each layer's gradients
    as the optimiser sees them, per step."""
    X, y = _data(n=64)
    seen = []

    def before_step(optimizer, args, kwargs):
        seen.append([float(torch.linalg.vector_norm(torch.cat([p.grad.ravel() for p in layer.parameters()])))
                     for layer in (net[0], net[3])])

    from torch.optim.optimizer import register_optimizer_step_pre_hook

    handle = register_optimizer_step_pre_hook(before_step)
    try:
        fit(net, X, 100 * y, TrainSettings(epochs=2, batch_size=16, device="cpu", progress=False),
            seed=0, val_fraction=0, **clip)
    finally:
        handle.remove()
    return np.array(seen)


def test_gradient_clipping_caps_the_norm_of_the_named_parameters_only():
    free = _grad_norms_at_each_step(seeded_init(_mlp, 0))
    assert free.shape == (8, 2) and np.sqrt((free**2).sum(axis=1)).min() > 1.0
    net = seeded_init(_mlp, 0)
    first = _grad_norms_at_each_step(net, grad_clip=0.5, clip_parameters=net[0].parameters())
    assert first[:, 0].max() <= 0.5 + 1e-5      # the first layer is clipped
    assert first[:, 1].max() > 0.5               # the last layer is left alone
    net = seeded_init(_mlp, 0)
    both = _grad_norms_at_each_step(net, grad_clip=0.5)
    assert np.sqrt((both**2).sum(axis=1)).max() <= 0.5 + 1e-5
    with pytest.raises(ParameterError, match="grad_clip"):
        fit(seeded_init(_mlp, 0), *_data(), QUICK, seed=0, grad_clip=0.0)


def test_validation_split_is_held_out():
    X, y = _data(n=100)
    result = fit(seeded_init(_mlp, 0), X, y, TrainSettings(
        epochs=1, batch_size=10, val_fraction=0.2, device="cpu", progress=False), seed=0)
    assert result.steps == 8  # 80 training samples in batches of 10


def test_device_cpu_is_honoured(monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(torch.cuda, "is_available", lambda: True)
        assert resolve_device("cpu") == torch.device("cpu")
    X, y = _data()
    net = seeded_init(_mlp, 0)
    result = fit(net, X, y, QUICK, seed=0)
    assert result.device == "cpu"
    assert all(p.device.type == "cpu" for p in net.parameters())
    assert predict(net, X, device="cpu").shape == (len(X), 2)


def test_resolve_device_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device(None) == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ParameterError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ParameterError):
        resolve_device("quantum")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_auto_trains_on_cuda_when_present():
    X, y = _data()
    net = seeded_init(_mlp, 0)
    result = fit(net, X, y, TrainSettings(epochs=3, progress=False), seed=0)
    assert result.device.startswith("cuda")
    assert next(net.parameters()).is_cuda
    assert predict(net, X).shape == (len(X), 2)


def test_predict_does_not_depend_on_the_batch_size():
    X, y = _data()
    net = seeded_init(_mlp, 0)
    fit(net, X, y, QUICK, seed=0)
    assert np.allclose(predict(net, X, batch_size=7), predict(net, X, batch_size=1000),
                       atol=1e-6)


class _Tty:
    def isatty(self):
        return True


def test_progress_is_quiet_in_ci_and_batch_runs(monkeypatch):
    monkeypatch.setattr("sys.stderr", _Tty())
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WILOC_BATCH", raising=False)
    assert progress_enabled(True)
    assert not progress_enabled(False)
    monkeypatch.setenv("WILOC_BATCH", "1")
    assert not progress_enabled(True)
    monkeypatch.delenv("WILOC_BATCH")
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled(True)


def test_settings_reject_bad_values():
    for bad in [dict(epochs=0), dict(lr=0), dict(patience=0), dict(val_fraction=1.0),
                dict(batch_size=0), dict(min_steps=-1)]:
        with pytest.raises(ParameterError):
            TrainSettings(**bad)

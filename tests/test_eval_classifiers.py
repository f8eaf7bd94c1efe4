"""The EVAL classifiers (wiloc_core.methods.eval_classifiers) on separable synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.methods import eval_classifiers as ec
from wiloc_core.training import TrainSettings


def _blobs(n_per_class: int, seed: int):
    """Four well-separated Gaussian classes in 12 dimensions (labels 0, 3, 7, 25)."""
    g = np.random.default_rng(seed)
    centres = np.random.default_rng(100).normal(0.0, 4.0, (4, 12))
    labels = np.array([0, 3, 7, 25])
    x = np.concatenate([c + g.normal(0.0, 0.5, (n_per_class, 12)) for c in centres])
    return x.astype(np.float32), np.repeat(labels, n_per_class)


FAST = TrainSettings(epochs=40, batch_size=32, patience=10, device="cpu", progress=False)


@pytest.mark.parametrize("method", ec.METHODS)
def test_every_method_separates_separable_classes(method):
    xtr, ytr = _blobs(40, seed=1)
    xte, yte = _blobs(20, seed=2)
    pred = ec.fit_predict(xtr, ytr, xte, method=method, seed=0, settings=FAST)
    assert pred.shape == (80,) and pred.dtype == np.int64
    assert np.mean(pred == yte) >= 0.95, method


def test_dnn_is_two_selu_layers_and_repeatable():
    from torch import nn

    net = ec.dnn(52)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.SELU, nn.Linear, nn.SELU, nn.Linear]
    assert net[-1].out_features == ec.N_CLASSES == 26
    xtr, ytr = _blobs(20, seed=3)
    a = ec.fit_predict(xtr, ytr, xtr, method="dnn", seed=5, settings=FAST)
    b = ec.fit_predict(xtr, ytr, xtr, method="dnn", seed=5, settings=FAST)
    np.testing.assert_array_equal(a, b)


def test_bad_arguments_name_the_field():
    x, y = _blobs(5, seed=4)
    with pytest.raises(ParameterError, match="method"):
        ec.fit_predict(x, y, x, method="cnn", seed=0)
    with pytest.raises(ParameterError, match="features"):
        ec.fit_predict(x, y, x[:, :3], method="nb", seed=0)
    with pytest.raises(ParameterError, match="y_train"):
        ec.fit_predict(x, y[:-1], x, method="nb", seed=0)
    with pytest.raises(ParameterError, match="n_classes"):
        ec.fit_predict(x, y, x, method="dnn", seed=0, n_classes=10)

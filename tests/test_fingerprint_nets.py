"""Shapes of the four specialized networks (F/E/R), preprocessing and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wiloc_core.data import powed, to_positive  # noqa: E402
from wiloc_core.errors import ParameterError  # noqa: E402
from wiloc_core.models import checkpoint  # noqa: E402
from wiloc_core.models.fingerprint_nets import (  # noqa: E402
    ARCHITECTURES,
    RssNormalizer,
    build_net,
)
from wiloc_core.models.surrogate import Critic, MICritic, SurrogateTeacher  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def _rss(batch, n, seed=0):
    rng = np.random.default_rng(seed)
    rss = rng.uniform(-105, -30, size=(batch, n)).astype(np.float32)
    rss[rng.random((batch, n)) < 0.7] = 100.0
    return torch.tensor(rss)


# (name, n_aps, z_f shape without batch, z_dim)
SHAPES = [
    ("DNN", 520, (520,), 128),
    ("DNN", 174, (174,), 128),
    ("CNNLoc", 520, (1, 64), 33),
    ("CNNLoc", 992, (1, 64), 33),
    ("BayesCNN", 520, (1, 23, 23), 128),
    ("BayesCNN", 992, (1, 32, 32), 128),
    ("bAaT", 520, (66, 64), 64),      # 65 words of 8 values + [CLS]
    ("bAaT", 589, (75, 64), 64),
]


@pytest.mark.parametrize("name,n_aps,zf_shape,z_dim", SHAPES)
def test_framer_extractor_regressor_shapes(name, n_aps, zf_shape, z_dim):
    net = build_net(name, n_aps).eval()
    x = _rss(3, n_aps)
    z_f, z_e, y = net(x)
    assert tuple(z_f.shape) == (3, *zf_shape)
    assert tuple(z_e.shape) == (3, z_dim) and net.z_dim == z_dim
    assert tuple(y.shape) == (3, 2)
    # the three parts compose to forward
    assert torch.allclose(net.regress(net.extract(net.frame(x))), y, atol=1e-6)
    with pytest.raises(ParameterError):
        net(_rss(3, n_aps + 1))


def test_cnnloc_confirmed_layer_shapes():
    net = build_net("CNNLoc", 520).eval()
    z = net.frame(_rss(2, 520))
    lengths = []
    for layer in net.extractor:
        z = layer(z)
        if isinstance(layer, torch.nn.Conv1d):
            lengths.append(tuple(z.shape[1:]))
    assert lengths == [(99, 43), (66, 22), (33, 1)]


def test_normaliser_matches_data_layer():
    x = _rss(5, 40)
    lin = RssNormalizer("linear", -104.0)(x).numpy()
    np.testing.assert_allclose(lin, to_positive(x.numpy(), -104.0) / 104.0, atol=1e-6)
    pw = RssNormalizer("powed", -95.0, 2.8)(x).numpy()
    np.testing.assert_allclose(pw, powed(x.numpy(), -95.0, 2.8), atol=1e-6)
    assert lin.min() >= 0 and lin.max() <= 1


def test_predict_xy_returns_metres_in_dataset_frame():
    net = build_net("DNN", 30)
    net.set_coordinate_frame([100.0, -50.0], 20.0)
    x = _rss(4, 30)
    net.train()
    y = net.eval()(x)[2].detach().double().numpy()
    net.train()
    np.testing.assert_allclose(net.predict_xy(x.numpy()), [100.0, -50.0] + 20.0 * y, rtol=1e-6)
    assert net.training  # predict_xy restores the training mode


def test_surrogate_modules_shapes():
    g = SurrogateTeacher(33)
    z_f, z_e = g(torch.rand(5, 2), generator=torch.Generator().manual_seed(0))
    assert z_f.shape == (5, 128) and z_e.shape == (5, 33)
    assert Critic(33)(z_e).shape == (5, 1)
    assert MICritic(33)(z_e, z_e).shape == (5,)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_checkpoint_round_trip_and_refusal(tmp_path, name):
    net = build_net(name, 60).eval()
    net.set_coordinate_frame([1.0, 2.0], 3.0)
    path = checkpoint.save_model(tmp_path / f"{name}.pt", net, extra={"seed": 0})
    twin = build_net(name, 60).eval()
    checkpoint.load_model(path, twin)
    x = _rss(3, 60)
    np.testing.assert_allclose(twin.predict_xy(x.numpy()), net.predict_xy(x.numpy()))
    other = "DNN" if name != "DNN" else "CNNLoc"
    with pytest.raises(checkpoint.CheckpointError, match="architecture"):
        checkpoint.load_model(path, build_net(other, 60))
    with pytest.raises(checkpoint.CheckpointError, match="config"):
        checkpoint.load_model(path, build_net(name, 61))

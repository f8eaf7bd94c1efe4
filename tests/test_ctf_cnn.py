"""The CTF CNN of paper 000 (Fig. 2): shapes, equivalence with the 2-D convolution, checkpoints."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wiloc_core.errors import ParameterError  # noqa: E402
from wiloc_core.models.checkpoint import CheckpointError, save_checkpoint  # noqa: E402
from wiloc_core.models.ctf_cnn import CtfCnn, CtfCnnConfig  # noqa: E402

torch.set_num_threads(1)


def test_paper_shapes_592_and_4032():
    net = CtfCnn()
    shapes = net.feature_shapes(torch.randn(3, 601, 2))
    assert shapes["input"] == (3, 1, 601, 2)
    assert shapes["conv1"] == (3, 16, 592, 2)       # §III-A: O in R^{16 x 592 x 2}
    assert shapes["flatten"] == (3, 4032)           # §III-A: mu in R^4032
    assert shapes["fc"] == (3, 100)                 # eq. (3)
    assert shapes["output"] == (3, 2)               # eq. (4)
    assert net.config_obj.flat_features == 4032
    assert net.config_obj.shapes()["conv1"] == (16, 592, 2)
    assert tuple(net.fc.weight.shape) == (100, 4032)


def test_folded_convolution_equals_the_papers_2d_convolution():
    torch.manual_seed(0)
    net = CtfCnn().eval()
    x = torch.randn(2, 601, 2)
    z = ((x - net.x_mean) / net.x_scale).unsqueeze(1)            # [B, 1, 601, 2]
    w = net.conv1.weight.unsqueeze(-1)                           # [16, 1, 10, 1]
    ref = torch.nn.functional.conv2d(z, w, net.conv1.bias)       # eq. (2) before sigma
    ours = dict(net._blocks(x))["conv1"]
    assert torch.allclose(net._unfold(ours), ref, atol=1e-5)


def test_normalisation_buffers_return_centimetres():
    net = CtfCnn().eval()
    with torch.no_grad():
        net.out.weight.zero_()
        net.out.bias.zero_()
    y = np.array([[10.0, 20.0], [30.0, 60.0], [50.0, 100.0]])
    net.set_normalization(np.random.default_rng(0).normal(size=(3, 601, 2)), y)
    pred = net.predict(np.zeros((4, 601, 2)))
    assert pred.shape == (4, 2)
    np.testing.assert_allclose(pred, np.tile(y.mean(0), (4, 1)), rtol=1e-6)


def test_bad_input_and_config_are_rejected():
    with pytest.raises(ParameterError, match="601"):
        CtfCnn()(torch.randn(2, 600, 2))
    with pytest.raises(ParameterError):
        CtfCnnConfig(n_freq=20)
    with pytest.raises(ParameterError):
        CtfCnnConfig(dropout=1.5)


def test_checkpoint_round_trip_and_refusal(tmp_path):
    small = {"n_freq": 64, "conv1_filters": 4, "conv1_kernel": 5, "pool1": 2,
             "conv2_filters": 4, "conv2_kernel": 3, "pool2": 2, "fc_units": 8}
    torch.manual_seed(0)
    net = CtfCnn(small).set_normalization(np.ones((2, 64, 2)) * [1.0, 3.0], [[0, 0], [5, 9]])
    x = np.random.default_rng(1).normal(size=(5, 64, 2))
    path = net.save(tmp_path / "cnn.pt")
    back = CtfCnn.load(path)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))
    foreign = save_checkpoint(tmp_path / "other.pt", net, architecture="mlp-baseline",
                              config=net.config)
    with pytest.raises(CheckpointError, match="architecture"):
        CtfCnn.load(foreign)
    with pytest.raises(CheckpointError, match="fc_units"):
        from wiloc_core.models.checkpoint import load_model
        load_model(path, CtfCnn({**small, "fc_units": 9}))

"""Shared layers: the cheap dropout and the pre-LN encoder layer against torch's own."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from wiloc_core.errors import ParameterError  # noqa: E402
from wiloc_core.models.layers import Dropout, PreNormEncoderLayer, dropout  # noqa: E402


def test_dropout_is_the_identity_out_of_training_and_at_zero():
    x = torch.randn(4, 5)
    assert dropout(x, 0.3, training=False) is x
    assert dropout(x, 0.0, training=True) is x
    layer = Dropout(0.3).eval()
    assert torch.equal(layer(x), x)


def test_dropout_zeroes_a_share_p_and_keeps_the_expectation():
    torch.manual_seed(0)
    x = torch.full((400, 500), 2.0)
    y = dropout(x, 0.25, training=True)
    zeroed = (y == 0).double().mean().item()
    assert abs(zeroed - 0.25) < 0.005                   # 200k draws: sd 0.001
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(2.0 / 0.75)))
    assert abs(y.double().mean().item() - 2.0) < 0.01


def test_dropout_masks_follow_the_global_generator_and_gradients_the_mask():
    x = torch.randn(64, 32, requires_grad=True)
    torch.manual_seed(3)
    a = dropout(x, 0.5, training=True)
    torch.manual_seed(3)
    b = dropout(x, 0.5, training=True)
    assert torch.equal(a, b)
    a.sum().backward()
    assert torch.equal(x.grad, (a != 0).float() * 2.0)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_outside_0_1_is_refused(p):
    with pytest.raises(ParameterError, match="dropout"):
        Dropout(p)


def test_encoder_layer_computes_what_torchs_pre_ln_layer_computes():
    torch.manual_seed(1)
    ours = PreNormEncoderLayer(16, 4, 24, 0.1).eval()
    theirs = torch.nn.TransformerEncoderLayer(16, 4, 24, 0.1, activation="gelu",
                                              batch_first=True, norm_first=True).eval()
    with torch.no_grad():
        for mine, other in ((ours.norm1, theirs.norm1), (ours.norm2, theirs.norm2),
                            (ours.proj, theirs.self_attn.out_proj), (ours.ff1, theirs.linear1),
                            (ours.ff2, theirs.linear2)):
            mine.load_state_dict(other.state_dict())
        ours.qkv.weight.copy_(theirs.self_attn.in_proj_weight)
        ours.qkv.bias.copy_(theirs.self_attn.in_proj_bias)
    x = torch.randn(3, 7, 16)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_encoder_layer_initialises_like_torchs_and_checks_heads():
    layer = PreNormEncoderLayer(16, 4, 24)
    assert torch.count_nonzero(layer.qkv.bias) == 0 and torch.count_nonzero(layer.proj.bias) == 0
    bound = (6 / (16 + 48)) ** 0.5                      # Xavier-uniform over [3d, d]
    assert layer.qkv.weight.abs().max() <= bound
    with pytest.raises(ParameterError, match="heads"):
        PreNormEncoderLayer(16, 3, 24)


def test_encoder_layer_drops_in_training_only():
    layer = PreNormEncoderLayer(16, 4, 24, 0.5)
    x = torch.randn(2, 5, 16)
    torch.manual_seed(0)
    a = layer(x)
    torch.manual_seed(1)
    assert not torch.equal(a, layer(x))
    layer.eval()
    assert torch.equal(layer(x), layer(x))

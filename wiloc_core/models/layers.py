"""Layers the book's networks share: dropout that is cheap on a CPU, and a pre-LN
Transformer encoder layer built on it.

Why not ``torch.nn.Dropout`` and ``torch.nn.TransformerEncoderLayer``: on a CPU, torch
draws a dropout mask with ``bernoulli_``, which costs about three times a comparison
of uniforms against ``p``. In the attention maps of the fingerprint Transformer (batch ×
heads × tokens × tokens, 2.2 M numbers per layer at batch 128 on UJIIndoorLoc) the
draws were a quarter of a training step's time; these layers cut that step by about a
quarter. The arithmetic is the same (eval mode agrees with torch's layers to float32
rounding, ``tests/test_models_layers.py``); only the random masks differ, which are
drawn from torch's global generator like torch's own. A stack of encoder layers built
one by one (as bAaT's is) starts from independently drawn weights, where
``torch.nn.TransformerEncoder`` deep-copies one initialised layer, so that its layers
start equal.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from wiloc_core.errors import ParameterError

__all__ = ["Dropout", "PreNormEncoderLayer", "dropout"]


def _check_p(p: float) -> float:
    if not 0.0 <= float(p) < 1.0:
        raise ParameterError("dropout", "a probability in [0, 1)", p)
    return float(p)


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout (Srivastava et al. 2014): each entry is zeroed with probability
    ``p`` and the kept ones are scaled by ``1 / (1 - p)``, so the expectation is ``x``.

    The mask is ``uniform >= p`` with uniforms from torch's global generator
    (``torch.rand_like``). Identity when not ``training`` or ``p == 0``. Any shape.
    """
    if not training or p == 0.0:
        return x
    # in place: the uniforms become the 0/1 mask, then its scale (no boolean copy)
    return x * torch.rand_like(x).ge_(p).mul_(1.0 / (1.0 - p))


class Dropout(nn.Module):
    """:func:`dropout` as a module (in place of ``torch.nn.Dropout(p)``)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = _check_p(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class PreNormEncoderLayer(nn.Module):
    """One pre-LN Transformer encoder layer (Vaswani et al. 2017, with the layer norm
    before each block as in Xiong et al. 2020), batch first.

    ``x + Drop(MHA(LN1(x)))`` then ``x + Drop(W2 Drop(GELU(W1 LN2(x))))``, attention
    weights ``softmax(Q Kᵀ / sqrt(d / heads))`` also dropped: the computation of
    ``torch.nn.TransformerEncoderLayer(width, heads, mlp, dropout, activation="gelu",
    batch_first=True, norm_first=True)``, with its initialisation (Xavier-uniform Q/K/V
    projection, zero biases on it and on the output projection).

    Parameters
    ----------
    width : int
        Token width d.
    heads : int
        Attention heads (a divisor of ``width``).
    mlp : int
        Hidden width of the feed-forward block.
    p : float
        Dropout probability.

    Shapes: ``[B, T, width]`` -> ``[B, T, width]``.
    """

    def __init__(self, width: int, heads: int, mlp: int, p: float = 0.1):
        super().__init__()
        if int(width) % int(heads):
            raise ParameterError("heads", f"a divisor of width {width}", heads)
        self.heads, self.p = int(heads), _check_p(p)
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.ff1, self.ff2 = nn.Linear(width, mlp), nn.Linear(mlp, width)
        nn.init.xavier_uniform_(self.qkv.weight)
        nn.init.zeros_(self.qkv.bias)
        nn.init.zeros_(self.proj.bias)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Multi-head self-attention of ``x`` ``[B, T, d]`` -> ``[B, T, d]`` (before the
        output dropout)."""
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        mixed = dropout(weights, self.p, self.training) @ v           # [B, heads, T, d/heads]
        return self.proj(mixed.transpose(1, 2).reshape(b, t, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + dropout(self.attention(self.norm1(x)), self.p, self.training)
        hidden = dropout(F.gelu(self.ff1(self.norm2(x))), self.p, self.training)
        return x + dropout(self.ff2(hidden), self.p, self.training)

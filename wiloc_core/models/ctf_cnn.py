"""The CTF regression CNN of AlHajri, Shubair and Chafii (paper 000, §III-A, Fig. 2).

Input: one VNA sweep, the channel transfer function (CTF) at alpha = 601 frequency
points, written as a real alpha x beta image with beta = 2 columns (real, imaginary
part). Output: the position (x, y) in cm.

Layers, with the shapes the paper states [C] and the sizes it leaves open [I]::

    input                      [B, 1, 601, 2]
    conv1  16 @ 10x1, valid    [B, 16, 592, 2]   eq. (2): 601 - m + 1 = 592  ->  m = 10, n = 1  [C]
    batch norm, ReLU
    max-pool 3x1               [B, 16, 197, 2]   floor(592 / 3) = 197                          [I]
    conv2  32 @ 9x1, valid     [B, 32, 189, 2]   197 - 9 + 1 = 189                              [I]
    batch norm, ReLU
    max-pool 3x1               [B, 32, 63, 2]    floor(189 / 3) = 63
    flatten                    [B, 4032]         32 x 63 x 2 = 4032                            [C]
    FC 4032 -> 100, ReLU       [B, 100]          eq. (3)                                       [C]
    dropout p = 0.2                                                                            [I]
    linear 100 -> 2            [B, 2]            eq. (4)                                       [C]

The paper fixes 16 first-layer filters and the 16 x 592 x 2 first feature map (so a
10 x 1 kernel), two convolution-pooling blocks with batch normalisation, a flattened
length of 4032, a 100-unit FC layer with ReLU and dropout, and a linear 2-output layer.
It does not give the pooling size, the second layer's filters or kernel, or the
dropout rate. We factor 4032 = 32 x 63 x 2: with 3 x 1 pooling after each block
(widths kept, as the paper's pooling formula allows e = 1) and a 9 x 1 second kernel
the chain 592 -> 197 -> 189 -> 63 lands exactly there. Other factorisations exist
(e.g. 4 x 1 then 2 x 1 pooling with a 22 x 1 kernel: 592 -> 148 -> 127 -> 63); this one
keeps both kernels and pools small.

Normalisation buffers: inputs and labels are standardised inside the model
(``x_mean``, ``x_scale`` scalars; ``y_mean``, ``y_scale`` of shape [2]) so a saved
checkpoint predicts in cm from raw CTFs on its own. They are set with
:meth:`CtfCnn.set_normalization` from training data only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from wiloc_core.errors import ParameterError
from wiloc_core.models import checkpoint

__all__ = ["ARCHITECTURE", "CtfCnnConfig", "CtfCnn", "as_tensor"]

#: Architecture name written into checkpoints.
ARCHITECTURE = "ctf-cnn"


@dataclass(frozen=True)
class CtfCnnConfig:
    """Sizes of :class:`CtfCnn`; the defaults give the paper's shapes.

    Parameters
    ----------
    n_freq : int, default 601
        Frequency points alpha (paper: 601). Smaller values are for tests.
    n_parts : int, default 2
        Columns beta of the input image (real, imaginary).
    conv1_filters, conv1_kernel : int, default 16, 10
        First convolution: P filters of size conv1_kernel x 1.
    pool1 : int, default 3
        First max-pooling size d x 1.
    conv2_filters, conv2_kernel : int, default 32, 9
        Second convolution.
    pool2 : int, default 3
        Second max-pooling size.
    fc_units : int, default 100
        Width of the fully connected layer, eq. (3).
    dropout : float, default 0.2
        Dropout rate after the FC layer (not stated in the paper).
    n_outputs : int, default 2
        Outputs of the linear regression layer, eq. (4).
    """

    n_freq: int = 601
    n_parts: int = 2
    conv1_filters: int = 16
    conv1_kernel: int = 10
    pool1: int = 3
    conv2_filters: int = 32
    conv2_kernel: int = 9
    pool2: int = 3
    fc_units: int = 100
    dropout: float = 0.2
    n_outputs: int = 2

    def __post_init__(self):
        ints = ("n_freq", "n_parts", "conv1_filters", "conv1_kernel", "pool1", "conv2_filters",
                "conv2_kernel", "pool2", "fc_units", "n_outputs")
        for name in ints:
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ParameterError(name, "a positive integer", value)
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ParameterError("dropout", "a rate in [0, 1)", self.dropout)
        if self.shapes()["pool2"][1] < 1:
            raise ParameterError("n_freq", "enough frequency points for both conv-pool blocks",
                                 self.n_freq)

    def shapes(self) -> dict[str, tuple[int, int, int]]:
        """Closed-form feature-map shapes (channels, length, width) after each layer.

        Conv outputs follow eq. (2), ``alpha - m + 1``; pooling outputs the paper's
        ``floor(L / d)``.
        """
        c1 = self.n_freq - self.conv1_kernel + 1
        p1 = c1 // self.pool1
        c2 = p1 - self.conv2_kernel + 1
        p2 = c2 // self.pool2 if c2 > 0 else 0
        w = self.n_parts
        return {"input": (1, self.n_freq, w), "conv1": (self.conv1_filters, c1, w),
                "pool1": (self.conv1_filters, p1, w), "conv2": (self.conv2_filters, c2, w),
                "pool2": (self.conv2_filters, p2, w)}

    @property
    def flat_features(self) -> int:
        """Length of the flattened vector mu (paper: 4032)."""
        c, length, w = self.shapes()["pool2"]
        return c * length * w

    def to_dict(self) -> dict:
        return asdict(self)


def as_tensor(x) -> torch.Tensor:
    """A float32 CPU tensor from an array of CTF images [n, n_freq, 2] (or positions)."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype=torch.float32)
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


class CtfCnn(nn.Module):
    """CNN regressing the position from one CTF sweep (paper 000, Fig. 2, eqs. 2-4).

    Parameters
    ----------
    config : CtfCnnConfig or dict, optional
        Layer sizes; the default reproduces the paper's shapes.

    Inputs / outputs
    ----------------
    forward(x): x float32 [B, n_freq, 2] (raw CTF, real and imaginary part, any scale)
    -> float32 [B, 2], position in the label unit (cm for paper 000).

    Examples
    --------
    >>> net = CtfCnn()
    >>> net.config_obj.flat_features
    4032
    """

    architecture = ARCHITECTURE

    def __init__(self, config: CtfCnnConfig | dict | None = None):
        super().__init__()
        if config is None:
            config = CtfCnnConfig()
        elif isinstance(config, dict):
            config = CtfCnnConfig(**config)
        self.config_obj = config
        c = config
        # An m x 1 kernel never mixes the real and imaginary columns, so the paper's 2-D
        # convolution equals a 1-D convolution run on each column with shared weights.
        # Folding the column into the batch is ~10x faster on CPU than Conv2d with a
        # width-1 kernel; batch-norm statistics still run over (batch, length, column).
        self.conv1 = nn.Conv1d(1, c.conv1_filters, kernel_size=c.conv1_kernel)
        self.bn1 = nn.BatchNorm1d(c.conv1_filters)
        self.pool1 = nn.MaxPool1d(kernel_size=c.pool1)
        self.conv2 = nn.Conv1d(c.conv1_filters, c.conv2_filters, kernel_size=c.conv2_kernel)
        self.bn2 = nn.BatchNorm1d(c.conv2_filters)
        self.pool2 = nn.MaxPool1d(kernel_size=c.pool2)
        self.fc = nn.Linear(c.flat_features, c.fc_units)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.fc_units, c.n_outputs)
        self.register_buffer("x_mean", torch.zeros(()))
        self.register_buffer("x_scale", torch.ones(()))
        self.register_buffer("y_mean", torch.zeros(c.n_outputs))
        self.register_buffer("y_scale", torch.ones(c.n_outputs))

    @property
    def config(self) -> dict:
        """Constructor configuration as a plain dict (stored in checkpoints)."""
        return self.config_obj.to_dict()

    # -- normalisation ------------------------------------------------------------------
    def set_normalization(self, X=None, y=None) -> CtfCnn:
        """Standardise inputs and/or labels with statistics of training data.

        Parameters
        ----------
        X : array_like, float, shape [n, n_freq, 2], optional
            Training CTFs: one scalar mean and standard deviation over all entries
            (amplitude differences between positions are kept).
        y : array_like, float, shape [n, 2], optional
            Training positions: per-coordinate mean and standard deviation.
        """
        with torch.no_grad():
            if X is not None:
                xt = as_tensor(X)
                self.x_mean.copy_(xt.mean())
                self.x_scale.copy_(xt.std().clamp_min(1e-12))
            if y is not None:
                yt = as_tensor(y)
                self.y_mean.copy_(yt.mean(dim=0))
                scale = yt.std(dim=0) if len(yt) > 1 else torch.ones_like(self.y_scale)
                self.y_scale.copy_(torch.where(scale > 0, scale, torch.ones_like(scale)))
        return self

    # -- forward ------------------------------------------------------------------------
    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        """Standardise and fold the columns into the batch: [B, L, W] -> [B * W, 1, L]."""
        c = self.config_obj
        if x.ndim != 3 or tuple(x.shape[1:]) != (c.n_freq, c.n_parts):
            raise ParameterError("x", f"CTF images of shape [B, {c.n_freq}, {c.n_parts}]",
                                 f"shape {tuple(x.shape)}")
        z = (x - self.x_mean) / self.x_scale
        return z.transpose(1, 2).reshape(-1, 1, c.n_freq)

    def _unfold(self, h: torch.Tensor) -> torch.Tensor:
        """[B * W, C, L] -> the paper's layout [B, C, L, W]."""
        w = self.config_obj.n_parts
        return h.reshape(-1, w, h.shape[1], h.shape[2]).permute(0, 2, 3, 1)

    def _blocks(self, x: torch.Tensor):
        """Yield (name, tensor in folded layout) for each layer of the trunk."""
        h = self.conv1(self._check_input(x))
        yield "conv1", h
        h = self.pool1(torch.relu(self.bn1(h)))
        yield "pool1", h
        h = self.conv2(h)
        yield "conv2", h
        yield "pool2", self.pool2(torch.relu(self.bn2(h)))

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Two convolution-pooling blocks, eq. (2), flattened: [B, n_freq, 2] -> mu [B, 4032].

        mu is the feature map [B, C, L, W] flattened in (C, L, W) order.
        """
        *_, (_, h) = self._blocks(x)
        return self._unfold(h).flatten(1)

    def head(self, mu: torch.Tensor) -> torch.Tensor:
        """FC + ReLU + dropout + linear layer, eqs. (3)-(4), on standardised labels."""
        return self.out(self.dropout(torch.relu(self.fc(mu))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)) * self.y_scale + self.y_mean

    def feature_shapes(self, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
        """Shapes [B, C, L, W] of every intermediate tensor for a batch ``x`` (for tests)."""
        c = self.config_obj
        shapes = {"input": (x.shape[0], 1, c.n_freq, c.n_parts)}
        for name, h in self._blocks(x):
            shapes[name] = tuple(self._unfold(h).shape)
        mu = self.trunk(x)
        shapes["flatten"] = tuple(mu.shape)
        eta = torch.relu(self.fc(mu))
        shapes["fc"] = tuple(eta.shape)
        shapes["output"] = tuple(self.out(eta).shape)
        return shapes

    @torch.no_grad()
    def predict(self, X, batch_size: int = 512) -> np.ndarray:
        """Positions for CTFs ``X`` [n, n_freq, 2] in eval mode -> float64 [n, 2] (cm)."""
        was_training = self.training
        self.eval()
        xt = as_tensor(X)
        out = [self(xt[i:i + batch_size]) for i in range(0, len(xt), batch_size)]
        self.train(was_training)
        return torch.cat(out).double().numpy() if out else np.zeros((0, 2))

    # -- checkpoints --------------------------------------------------------------------
    def save(self, path, *, extra: dict | None = None):
        """Save weights and configuration (see :mod:`wiloc_core.models.checkpoint`)."""
        return checkpoint.save_model(path, self, extra=extra)

    @classmethod
    def load(cls, path) -> CtfCnn:
        """Build a CtfCnn from a checkpoint, refusing files of another architecture."""
        ckpt = checkpoint.read_checkpoint(path)
        if ckpt.architecture != ARCHITECTURE:
            raise checkpoint.CheckpointError(ckpt.path, "architecture", repr(ARCHITECTURE),
                                             repr(ckpt.architecture))
        try:
            net = cls(CtfCnnConfig(**ckpt.config))
        except (TypeError, ParameterError) as exc:
            raise checkpoint.CheckpointError(ckpt.path, "config", "a CtfCnnConfig",
                                             str(exc)) from exc
        checkpoint.load_model(path, net)
        return net

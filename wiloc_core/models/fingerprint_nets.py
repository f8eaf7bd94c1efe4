"""The four "specialized networks" of paper 001, each cut into Framer, Extractor, Regressor.

Paper 001 (§3.1) writes a specialized model as S = {F, E, R}: the **Framer** F crafts
features Z^F from a batch of RSS fingerprints, the **Extractor** E turns them into the
specialized representation Z^E, and the **Regressor** R maps Z^E to a 2-D location.
The paper names four such networks but gives none of their sizes. Status of what is
built here, from each network's own paper (cited per row):

=========  ===============================================================  ========
network    source                                                           status
=========  ===============================================================  ========
DNN        Félix et al. 2016 (ref. [7]); no code or sizes found             **[I]**
CNNLoc     Song et al. 2019 (ref. [31]); layers from the authors' code       [C] layers,
           (SAE 128-64, three Conv1D 99/66/33 @ 22, ELU, dropout 0.7)        [I] cut
BayesCNN   Sinha & Le 2021 (ref. [29]); "VGG blocks", sizes unknown          **[I]**
bAaT       Nguyen et al. 2023 (ref. [23]); Transformer, sizes unknown        **[I]**
=========  ===============================================================  ========

**[I] = our reconstruction**: DNN, BayesCNN and bAaT are plausible stand-ins with the
properties the papers state (fully connected; VGG blocks on a 2-D RSS image;
self-attention over RSS "words"), not the published networks. CNNLoc's SAE is trained
end to end from random weights here rather than pre-trained as an autoencoder.

Input convention
----------------
Every network takes **raw RSS in dBm** ``[B, n_aps]`` (float32, +100 = not heard) and
begins its Framer with a fixed :class:`RssNormalizer`, the one place where RSS is
rescaled for these models; it reproduces :func:`wiloc_core.data.to_positive` /
:func:`wiloc_core.data.powed` in torch. Positions are learned in a per-dataset
normalised frame (:meth:`FingerprintNet.set_coordinate_frame`, isotropic so that
distances stay proportional to metres) and :meth:`FingerprintNet.predict_xy` returns
metres. ``forward`` returns ``(z_f, z_e, y_norm)``.

Checkpoints: every network has ``architecture`` and ``config`` attributes, so
:func:`wiloc_core.models.checkpoint.save_model` / ``load_model`` work directly and a
checkpoint of another network (or another anchor count) is refused.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from wiloc_core.errors import ParameterError
from wiloc_core.models.layers import Dropout, PreNormEncoderLayer

__all__ = [
    "ARCHITECTURES",
    "RECONSTRUCTED",
    "NOT_DETECTED",
    "RssNormalizer",
    "FingerprintNet",
    "DNN",
    "CNNLoc",
    "BayesCNN",
    "BAaT",
    "build_net",
]

#: RSS marker for "not heard" (as in the data files).
NOT_DETECTED = 100.0
#: Names accepted by :func:`build_net`, in the paper's Table 1 order.
ARCHITECTURES = ("DNN", "CNNLoc", "BayesCNN", "bAaT")
#: Which networks are our reconstructions (sizes not published) and why.
RECONSTRUCTED = {
    "DNN": "widths 512-256-128 are placeholders: Félix et al. publish no sizes",
    "CNNLoc": "layers confirmed from the authors' code; F/E/R cut and end-to-end SAE are ours",
    "BayesCNN": "VGG blocks (channels, depth, head) are placeholders: sizes unpublished",
    "bAaT": "patch size, width, depth and heads are placeholders: sizes unpublished",
}


class RssNormalizer(nn.Module):
    """Fixed map from dBm to [0, 1] (no parameters), the first step of every Framer.

    ``linear``: :math:`\\tilde r = \\max(r - r_0, 0) / (-r_0)`, 0 when not heard
    (equals ``wiloc_core.data.to_positive(rss, r_0) / -r_0``).
    ``powed``: :math:`\\tilde r^{\\beta}` of the linear map (equals
    ``wiloc_core.data.powed(rss, r_0, beta)``); CNNLoc uses r_0 = -95 dBm, β = 2.8 [C].

    Parameters
    ----------
    mode : {"linear", "powed"}
    floor_dbm : float < 0
        Readings at or below it map to 0.
    beta : float
        Exponent for ``powed``.

    Shapes: ``[B, n] -> [B, n]``, dBm in, dimensionless out.
    """

    def __init__(self, mode: str = "linear", floor_dbm: float = -104.0, beta: float = 1.0):
        super().__init__()
        if mode not in ("linear", "powed"):
            raise ParameterError("mode", "'linear' or 'powed'", mode)
        if floor_dbm >= 0:
            raise ParameterError("floor_dbm", "a negative dBm value", floor_dbm)
        self.mode, self.floor_dbm, self.beta = mode, float(floor_dbm), float(beta)

    def forward(self, rss: torch.Tensor) -> torch.Tensor:
        positive = torch.clamp(rss - self.floor_dbm, min=0.0) / (-self.floor_dbm)
        positive = torch.where(rss == NOT_DETECTED, torch.zeros_like(positive), positive)
        return positive.pow(self.beta) if self.mode == "powed" else positive


class FingerprintNet(nn.Module):
    """Common base: ``framer``, ``extractor``, ``regressor`` and a coordinate frame.

    Subclasses build the three ``nn.Module`` parts and set ``z_dim``. ``framer`` is an
    ``nn.Sequential`` whose first element is the :class:`RssNormalizer`, so
    ``framer[1:]`` is its learned part (used by the encoder-based transfer baselines).

    Buffers ``xy_offset`` [2] (m) and ``xy_scale`` [] (m) map normalised positions
    back to metres: ``xy_m = xy_offset + xy_scale * y_norm``.
    """

    architecture = "fingerprint-net"

    def __init__(self, n_aps: int):
        super().__init__()
        if int(n_aps) < 1:
            raise ParameterError("n_aps", "a positive number of access points", n_aps)
        self.n_aps = int(n_aps)
        self.register_buffer("xy_offset", torch.zeros(2, dtype=torch.float64))
        self.register_buffer("xy_scale", torch.ones((), dtype=torch.float64))

    # -- the three parts ---------------------------------------------------------------
    def frame(self, rss: torch.Tensor) -> torch.Tensor:
        """Z^F = F(X)."""
        if rss.dim() != 2 or rss.shape[1] != self.n_aps:
            raise ParameterError("rss", f"a tensor [B, {self.n_aps}] of dBm", tuple(rss.shape))
        return self.framer(rss)

    def extract(self, z_f: torch.Tensor) -> torch.Tensor:
        """Z^E = E(Z^F), shape [B, z_dim]."""
        return self.extractor(z_f)

    def regress(self, z_e: torch.Tensor) -> torch.Tensor:
        """Normalised position R(Z^E), shape [B, 2]."""
        return self.regressor(z_e)

    def forward(self, rss: torch.Tensor):
        """Return ``(z_f, z_e, y_norm)`` for raw RSS ``[B, n_aps]`` in dBm."""
        z_f = self.frame(rss)
        z_e = self.extract(z_f)
        return z_f, z_e, self.regress(z_e)

    # -- coordinates -------------------------------------------------------------------
    def set_coordinate_frame(self, offset, scale) -> None:
        """Store the dataset's frame: ``xy_m = offset + scale * y_norm`` (metres)."""
        scale = float(scale)
        if not scale > 0:
            raise ParameterError("scale", "a positive length in metres", scale)
        self.xy_offset.copy_(torch.as_tensor(np.asarray(offset, dtype=np.float64)))
        self.xy_scale.fill_(scale)

    @torch.no_grad()
    def predict_xy(self, rss, batch_size: int = 1024) -> np.ndarray:
        """Positions in metres, float64 ``[n, 2]``, for raw RSS ``[n, n_aps]`` (eval mode)."""
        was_training = self.training
        self.eval()
        x = torch.from_numpy(np.array(rss, dtype=np.float32))  # a writable copy
        out = [self(x[i:i + batch_size])[2] for i in range(0, len(x), batch_size)]
        self.train(was_training)
        y = torch.cat(out).double() if out else torch.zeros(0, 2, dtype=torch.float64)
        return (self.xy_offset + self.xy_scale * y).numpy()


def _mlp(sizes, activation, dropout=0.0, last_activation=True):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(activation())
            if dropout and i < len(sizes) - 2:
                layers.append(Dropout(dropout))
    return nn.Sequential(*layers)


class DNN(FingerprintNet):
    """Fully connected regressor after Félix et al. (ref. [7]) — **reconstruction [I]**.

    ============  ===============================================  ===============
    part          layers                                           output
    ============  ===============================================  ===============
    Framer        RssNormalizer(linear, -104 dBm)                  [B, n]
    Extractor     Dense n→512 ReLU, Dropout; 512→256 ReLU,         [B, 128] = Z^E
                  Dropout; 256→128 ReLU
    Regressor     Dense 128→2                                      [B, 2]
    ============  ===============================================  ===============
    """

    architecture = "msta-dnn"

    def __init__(self, n_aps: int, hidden=(512, 256, 128), dropout: float = 0.2):
        super().__init__(n_aps)
        hidden = tuple(int(h) for h in hidden)
        self.config = {"n_aps": self.n_aps, "hidden": list(hidden), "dropout": float(dropout)}
        self.framer = nn.Sequential(RssNormalizer("linear", -104.0))
        self.extractor = _mlp((self.n_aps, *hidden), nn.ReLU, dropout)
        self.regressor = nn.Linear(hidden[-1], 2)
        self.z_dim = hidden[-1]


class _ToSequence(nn.Module):
    def forward(self, x):
        return x.unsqueeze(1)  # [B, 64] -> [B, 1 channel, 64 steps]


class CNNLoc(FingerprintNet):
    """CNNLoc position model (Song et al., ref. [31]); layers confirmed [C], cut [I].

    ============  ===============================================  ================
    part          layers                                           output
    ============  ===============================================  ================
    Framer        RssNormalizer(powed, -95 dBm, β = 2.8);          [B, 1, 64]
                  SAE encoder Dense n→128 ELU, 128→64 ELU;
                  reshape to 64 steps × 1 channel; Dropout 0.7
    Extractor     Conv1D 99@22 ELU → [43]; 66@22 ELU → [22];       [B, 33] = Z^E
                  33@22 ELU → [1]; flatten
    Regressor     Dense 33→2 ELU                                   [B, 2]
    ============  ===============================================  ================

    The ELU output (≥ -1) suits positions normalised to [0, 1].
    """

    architecture = "msta-cnnloc"

    def __init__(self, n_aps: int, sae=(128, 64), filters=(99, 66, 33), kernel: int = 22,
                 dropout: float = 0.7):
        super().__init__(n_aps)
        sae, filters = tuple(int(s) for s in sae), tuple(int(f) for f in filters)
        self.config = {"n_aps": self.n_aps, "sae": list(sae), "filters": list(filters),
                       "kernel": int(kernel), "dropout": float(dropout)}
        length = sae[-1]
        for _ in filters:
            length = length - kernel + 1
        if length < 1:
            raise ParameterError("kernel", f"small enough for {len(filters)} valid convolutions "
                                 f"over {sae[-1]} steps", kernel)
        self.framer = nn.Sequential(RssNormalizer("powed", -95.0, 2.8),
                                    _mlp((self.n_aps, *sae), nn.ELU), _ToSequence(),
                                    Dropout(dropout))
        convs, channels = [], 1
        for f in filters:
            convs += [nn.Conv1d(channels, f, kernel), nn.ELU()]
            channels = f
        self.extractor = nn.Sequential(*convs, nn.Flatten())
        self.z_dim = filters[-1] * length
        self.regressor = nn.Sequential(nn.Linear(self.z_dim, 2), nn.ELU())


class _ToImage(nn.Module):
    """Zero-pad [B, n] to s² and reshape to [B, 1, s, s] (stored channels-last)."""

    def __init__(self, n: int, side: int):
        super().__init__()
        self.n, self.side = n, side

    def forward(self, x):
        x = nn.functional.pad(x, (0, self.side * self.side - self.n))
        image = x.reshape(x.shape[0], 1, self.side, self.side)
        return image.contiguous(memory_format=torch.channels_last)


class BayesCNN(FingerprintNet):
    """VGG-block CNN on an RSS image, after Sinha & Le (ref. [29]) — **reconstruction [I]**.

    ============  ===============================================  ================
    part          layers                                           output
    ============  ===============================================  ================
    Framer        RssNormalizer(linear, -104 dBm); zero-pad to s²  [B, 1, s, s]
                  and reshape, s = ceil(sqrt(n)) (UJI 23, TUT3 32)
    Extractor     per block: 2 × (Conv 3×3 pad 1, ReLU), then      [B, c_last] = Z^E
                  MaxPool 2 (global average pool after the last)
    Regressor     Dense c_last→128 ReLU, Dropout 0.3, Dense 128→2  [B, 2]
    ============  ===============================================  ================

    Default channels (32, 64, 128), head 128, dropout 0.3: the sizes of our
    reconstruction, used by every profile (about 0.30 M parameters on UJIIndoorLoc);
    any tuple can be passed.
    """

    architecture = "msta-bayescnn"

    def __init__(self, n_aps: int, channels=(32, 64, 128), head: int = 128,
                 dropout: float = 0.3):
        super().__init__(n_aps)
        channels = tuple(int(c) for c in channels)
        self.side = int(math.ceil(math.sqrt(self.n_aps)))
        self.config = {"n_aps": self.n_aps, "channels": list(channels), "head": int(head),
                       "dropout": float(dropout)}
        self.framer = nn.Sequential(RssNormalizer("linear", -104.0),
                                    _ToImage(self.n_aps, self.side))
        blocks, c_in = [], 1
        for i, c in enumerate(channels):
            blocks += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(c, c, 3, padding=1), nn.ReLU()]
            blocks.append(nn.MaxPool2d(2, ceil_mode=True) if i < len(channels) - 1
                          else nn.AdaptiveAvgPool2d(1))
            c_in = c
        # channels-last images and kernels: oneDNN's convolutions on a CPU take about a
        # fifth less time per step than in the default layout (same arithmetic)
        self.extractor = nn.Sequential(*blocks, nn.Flatten()).to(
            memory_format=torch.channels_last)
        self.z_dim = channels[-1]
        self.regressor = nn.Sequential(nn.Linear(self.z_dim, head), nn.ReLU(),
                                       Dropout(dropout), nn.Linear(head, 2))


class _Tokenizer(nn.Module):
    """Cut a normalised fingerprint into "words" of p RSS values, embed, add [CLS] + positions."""

    def __init__(self, n: int, patch: int, width: int):
        super().__init__()
        self.n, self.patch = n, patch
        self.n_tokens = math.ceil(n / patch)
        self.embed = nn.Linear(patch, width)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.position = nn.Parameter(torch.zeros(1, self.n_tokens + 1, width))
        nn.init.normal_(self.position, std=0.02)
        nn.init.normal_(self.cls, std=0.02)

    def forward(self, x):
        x = nn.functional.pad(x, (0, self.n_tokens * self.patch - self.n))
        tokens = self.embed(x.reshape(x.shape[0], self.n_tokens, self.patch))
        cls = self.cls.expand(x.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1) + self.position


class _TransformerExtractor(nn.Module):
    def __init__(self, width, depth, heads, mlp, dropout):
        super().__init__()
        self.encoder = nn.Sequential(*(PreNormEncoderLayer(width, heads, mlp, dropout)
                                       for _ in range(depth)))
        self.norm = nn.LayerNorm(width)

    def forward(self, tokens):
        return self.norm(self.encoder(tokens))[:, 0]  # the [CLS] token


class BAaT(FingerprintNet):
    """Anchor-agnostic Transformer after Nguyen et al. (ref. [23]) — **reconstruction [I]**.

    ============  ===============================================  ==================
    part          layers                                           output
    ============  ===============================================  ==================
    Framer        RssNormalizer(linear, -104 dBm); pad to a        [B, T+1, d]
                  multiple of p; T = n/p words of p values;
                  Linear p→d; prepend [CLS]; + learned positions
    Extractor     depth × pre-LN encoder layer (heads, MLP d→m→d,  [B, d] = Z^E
                  GELU, dropout 0.1); LayerNorm; take [CLS]
    Regressor     Dense d→d GELU, Dense d→2                        [B, 2]
    ============  ===============================================  ==================

    Defaults p = 8, d = 64, depth 4, 4 heads, m = 128 (UJI 65 words, TUT3 124, UTS 74):
    the sizes of our reconstruction, used by every profile. J_FI is never applied to
    it (dot-product attention is not Lipschitz, paper Tab. 1 note).
    """

    architecture = "msta-baat"

    def __init__(self, n_aps: int, patch: int = 8, width: int = 64, depth: int = 4,
                 heads: int = 4, mlp: int = 128, dropout: float = 0.1):
        super().__init__(n_aps)
        self.config = {"n_aps": self.n_aps, "patch": int(patch), "width": int(width),
                       "depth": int(depth), "heads": int(heads), "mlp": int(mlp),
                       "dropout": float(dropout)}
        if width % heads:
            raise ParameterError("heads", f"a divisor of width {width}", heads)
        self.framer = nn.Sequential(RssNormalizer("linear", -104.0),
                                    _Tokenizer(self.n_aps, int(patch), int(width)))
        self.extractor = _TransformerExtractor(int(width), int(depth), int(heads), int(mlp),
                                               float(dropout))
        self.z_dim = int(width)
        self.regressor = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, 2))


_CLASSES = {"DNN": DNN, "CNNLoc": CNNLoc, "BayesCNN": BayesCNN, "bAaT": BAaT}


def build_net(name: str, n_aps: int, **sizes) -> FingerprintNet:
    """Build one of :data:`ARCHITECTURES` for ``n_aps`` anchors.

    Parameters
    ----------
    name : {"DNN", "CNNLoc", "BayesCNN", "bAaT"}
    n_aps : int
        Input width (UJI1 520, TUT3 992, TUT5 489, LIB1 174, UTS 589).
    **sizes
        Constructor arguments overriding the defaults (e.g. ``channels=(32, 64, 128)``).
    """
    if name not in _CLASSES:
        raise ParameterError("name", f"one of {ARCHITECTURES}", name)
    return _CLASSES[name](n_aps, **sizes)

"""The six benchmark localizers of paper 002 (LoFi, §IV-B/C, Fig. 3, Table II).

Every network maps one CSI window of an ESP32-S3 (one antenna, 52 subcarriers, about
100 Hz) to the person's position (x, y) in metres, in the 1.8 m x 4.8 m area of the
LoFi recording (x in [0, 1.8], y in [0, 4.8]). Each is a *backbone* followed by a
*head*, as in the authors' code (architecture facts from github.com/RS2002/LoFi ``model.py``
and github.com/RS2002/CSI-BERT; the code here is ours):

==========  =================================  ==========================  ===========
name        input (one window)                 backbone                    head
==========  =================================  ==========================  ===========
cnn         1 x H x W map (F = M^T M: 52 x 52)  2 conv + 2 dense, 64 out    dense 64-64-2
resnet18    1 x H x W map                      torchvision ResNet-18, 64   dense 64-64-2
rnn         T x S standardised amplitude       4-layer RNN 64 + dense 64   attention
gru         T x S                              4-layer GRU 64 + dense 64   attention
lstm        T x S                              4-layer LSTM 64 + dense 64  attention
csi-bert    T x S                              CSI-BERT encoder, 128        attention
==========  =================================  ==========================  ===========

Paper sizes (Table II "Model Size") against the backbones built here with the paper
defaults: CNN 23K (conv + first dense: 22,976; whole backbone 27,136), ResNet 11M
(11,203,072), RNN 33K (recurrent layers 32,512), GRU 100K (97,536 + 4,160),
LSTM 133K (130,048 + 4,160), CSI-BERT 2M (1,261,271 here; see :class:`CsiBert`).

Every regressor head ends in a ReLU as in the authors' code (positions >= 0 in the
LoFi frame); ``output_relu=False`` and ``n_outputs=K`` turn a network into a K-class
region classifier (logits) for the classification rows of Table II.
"""

from __future__ import annotations

import torch
from torch import nn

from wiloc_core.errors import ParameterError

__all__ = [
    "MODEL_NAMES",
    "CONV_MODELS",
    "SERIES_MODELS",
    "DISPLAY_NAMES",
    "SmallCnn",
    "resnet18_backbone",
    "RecurrentBackbone",
    "CsiBert",
    "DenseHead",
    "AttentionHead",
    "LofiNet",
    "build",
    "parameter_count",
]

CONV_MODELS = ("cnn", "resnet18")
SERIES_MODELS = ("rnn", "gru", "lstm", "csi-bert")
MODEL_NAMES = CONV_MODELS + SERIES_MODELS
"""Names accepted by :func:`build`, in the column order of Table II."""

DISPLAY_NAMES = {"cnn": "CNN", "resnet18": "ResNet", "rnn": "RNN", "gru": "GRU",
                 "lstm": "LSTM", "csi-bert": "CSI-BERT"}
"""Table II column headers."""


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def _as_map(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W) or (B, 1, H, W) -> (B, 1, H, W)."""
    if x.ndim == 3:
        return x.unsqueeze(1)
    if x.ndim == 4 and x.shape[1] == 1:
        return x
    raise ParameterError("x", "a one-channel map (B, H, W) or (B, 1, H, W)", tuple(x.shape))


# -- convolutional backbones (§2.2) ---------------------------------------------------------
class SmallCnn(nn.Module):
    """The paper's "four-layer CNN": two 3x3 convolutions with 2x2 max-pooling, two dense.

    Layers: Conv 1->32 (3x3, no padding) ReLU, MaxPool 2; Conv 32->64 ReLU, MaxPool 2;
    then 64 features, Dense 64->64 ReLU, Dense 64->64.

    ``faithful=True`` keeps the released code's quirk: the flattened feature map is cut
    to its first 64 values (i.e. the top rows of channel 0 only; for a 52 x 52 input
    64 of 64*11*11 = 7744 values). ``faithful=False`` averages each of the 64 channels
    over the map instead (global average pooling, our alternative).

    Shapes
    ------
    input : float32 (B, H, W) or (B, 1, H, W), H, W >= 6 (and H*W/... >= 64 values
        after pooling when faithful)
    output : float32 (B, 64)
    """

    def __init__(self, faithful: bool = True):
        super().__init__()
        self.faithful = bool(faithful)
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.dense = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(_as_map(x))
        if self.faithful:
            flat = f.flatten(1)
            if flat.shape[1] < 64:
                raise ParameterError("x", "a map large enough for 64 features after pooling",
                                     tuple(x.shape))
            z = flat[:, :64]
        else:
            z = f.mean(dim=(2, 3))
        return self.dense(z)


def resnet18_backbone(out_features: int = 64) -> nn.Module:
    """torchvision ResNet-18 (random weights) on a one-channel map, ``out_features`` out.

    The authors start from ImageNet weights (§2.2); none are available offline, so the
    network starts from random weights here (a known difference). conv1 becomes a
    1-channel 7x7 stride-2 convolution with 64 filters and no bias; fc becomes
    512 -> ``out_features``.

    Shapes: input float32 (B, 1, H, W) (or (B, H, W) through :class:`LofiNet`), output
    (B, out_features).
    """
    from torchvision.models import resnet18

    net = resnet18(weights=None)
    net.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    net.fc = nn.Linear(512, int(out_features))
    return net


class _MapInput(nn.Module):
    """Adds the channel axis in front of a backbone that expects (B, 1, H, W)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(_as_map(x))


# -- series backbones (§2.3) ----------------------------------------------------------------
_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentBackbone(nn.Module):
    """A stacked recurrent network followed by a per-time-step dense layer.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
        Vanilla RNN (tanh), GRU or LSTM; unidirectional, no dropout.
    n_inputs : int
        Subcarriers S (52).
    hidden : int
        Hidden width (paper: 64).
    layers : int
        Stacked layers (paper: 4).

    Shapes
    ------
    input : float32 (B, T, S), standardised amplitude
    output : float32 (B, T, hidden)
    """

    def __init__(self, cell: str, n_inputs: int = 52, hidden: int = 64, layers: int = 4):
        super().__init__()
        if cell not in _CELLS:
            raise ParameterError("cell", f"one of {tuple(_CELLS)}", cell)
        self.recurrent = _CELLS[cell](int(n_inputs), int(hidden), num_layers=int(layers),
                                      batch_first=True)
        self.step = nn.Linear(int(hidden), int(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.recurrent(x)
        return self.step(h)


# -- CSI-BERT (§2.5) ------------------------------------------------------------------------
def _mlp(sizes) -> nn.Sequential:
    """Dense layers of the given widths with ReLU between them (none after the last)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def sinusoid_code(times: torch.Tensor, width: int) -> torch.Tensor:
    """Sinusoidal code of time stamps: sin on even, cos on odd dimensions, base 10000.

    ``times`` (B, T) -> (B, T, width); dimension pair (2i, 2i+1) uses the frequency
    10000^(-2i/width).
    """
    i = torch.arange(width, device=times.device)
    freq = torch.pow(10000.0, -(2 * (i // 2)).float() / width)
    angle = times.unsqueeze(-1).float() * freq
    return torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle))


class CsiBert(nn.Module):
    """CSI-BERT as configured in LoFi (§2.5): re-weighting, CSI + time embedding, BERT.

    1. Adaptive re-weighting: an MLP over the time axis (T -> T/2 -> T/4 -> 1, ReLU)
       gives one unnormalised weight per subcarrier and window; the window is scaled
       by it.
    2. CSI embedding: MLP S -> S -> hidden -> hidden; time embedding: a sinusoidal code
       of width S of the time stamps rescaled to [0, T] (first -> 0, last -> T), through
       its own MLP S -> S -> hidden -> hidden; the two are added.
    3. BERT input embedding: + learned absolute position embedding (``max_len`` rows)
       + the segment-0 vector, LayerNorm (eps 1e-12), dropout 0.1.
    4. ``layers`` post-norm Transformer encoder layers (``heads`` heads, feed-forward
       ``intermediate``, GELU, dropout 0.1, LayerNorm eps 1e-12).

    Differences from the HF ``BertModel`` the authors use (ours): no word-embedding
    table (unused with ``inputs_embeds``), no pooler (its output is unused), a single
    segment vector instead of a 2-row table, and torch's encoder layer, which also
    applies dropout after the GELU. Parameters with the paper sizes: 1,261,271 here;
    the authors' model allocates about 1.28 M besides the 3.9 M word table (pooler
    16,512 + the second segment row 128); the paper reports "2M".

    Parameters
    ----------
    n_subcarriers : int
        S (52); also the width of the sinusoidal time code.
    length : int
        Window length T (100); fixes the re-weighting MLP (T -> T//2 -> T//4 -> 1).
    hidden, layers, heads, intermediate : int
        128, 6, 8, 512 in LoFi.
    max_len : int
        Position-embedding rows (100); T must not exceed it.
    dropout : float

    Shapes
    ------
    input : float32 (B, T, S), standardised amplitude; ``times`` (B, T) optional
        (default: frame index, i.e. equally spaced frames; ours, since the windows carry
        no time stamps after the lost packets are filled)
    output : float32 (B, T, hidden), the last hidden state
    """

    def __init__(self, n_subcarriers: int = 52, length: int = 100, hidden: int = 128,
                 layers: int = 6, heads: int = 8, intermediate: int = 512, max_len: int = 100,
                 dropout: float = 0.1):
        super().__init__()
        s, t = int(n_subcarriers), int(length)
        if t > int(max_len) or t < 4:
            raise ParameterError("length", f"a window length in [4, max_len={max_len}]", length)
        if int(hidden) % int(heads):
            raise ParameterError("heads", f"a divisor of hidden={hidden}", heads)
        self.n_subcarriers, self.length, self.hidden = s, t, int(hidden)
        self.reweight = _mlp([t, t // 2, t // 4, 1])
        self.csi_embed = _mlp([s, s, self.hidden, self.hidden])
        self.time_embed = _mlp([s, s, self.hidden, self.hidden])
        self.position = nn.Embedding(int(max_len), self.hidden)
        self.segment = nn.Parameter(torch.zeros(self.hidden))
        nn.init.normal_(self.segment, std=0.02)
        self.embed_norm = nn.LayerNorm(self.hidden, eps=1e-12)
        self.embed_drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(self.hidden, int(heads), int(intermediate),
                                           dropout=dropout, activation="gelu",
                                           layer_norm_eps=1e-12, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, int(layers), enable_nested_tensor=False)

    def _times(self, b: int, t: int, device) -> torch.Tensor:
        return torch.linspace(0.0, float(t), t, device=device).expand(b, t)

    def forward(self, x: torch.Tensor, times: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != self.length or x.shape[2] != self.n_subcarriers:
            raise ParameterError("x", f"shape (B, {self.length}, {self.n_subcarriers})",
                                 tuple(x.shape))
        b, t, _ = x.shape
        weight = self.reweight(x.transpose(1, 2))                  # (B, S, 1)
        x = x * weight.transpose(1, 2)
        if times is None:
            times = self._times(b, t, x.device)
        else:
            lo, hi = times[:, :1], times[:, -1:]
            times = (times - lo) / (hi - lo).clamp_min(1e-12) * t
        e = self.csi_embed(x) + self.time_embed(sinusoid_code(times, self.n_subcarriers))
        e = e + self.position(torch.arange(t, device=x.device)) + self.segment
        return self.encoder(self.embed_drop(self.embed_norm(e)))


# -- heads ----------------------------------------------------------------------------------
class DenseHead(nn.Module):
    """Conv-backbone head ("Linear"): Dense d->64 ReLU, 64->64 ReLU, 64->n_outputs [ReLU].

    Shapes: (B, d) -> (B, n_outputs); with ``output_relu`` positions (m) >= 0.
    """

    def __init__(self, d: int = 64, n_outputs: int = 2, output_relu: bool = True):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                 nn.Linear(64, int(n_outputs)))
        self.output_relu = bool(output_relu)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)
        return torch.relu(out) if self.output_relu else out


class AttentionHead(nn.Module):
    """Series head ("Linear_attention"): structured self-attention pooling, then dense.

    Scores W2 tanh(W1 h) (W1: d -> ``att_hidden``, W2: -> ``n_rows``, no biases),
    softmax over time, ``n_rows`` weighted sums of h flattened, then Dense
    n_rows*d -> ``mid`` ReLU -> n_outputs [ReLU]. LoFi: d = 64, mid = 128 for the
    recurrent nets; d = 128, mid = 256 for CSI-BERT; att_hidden 128, n_rows 4.

    Shapes: (B, T, d) -> (B, n_outputs).
    """

    def __init__(self, d: int = 64, mid: int = 128, n_outputs: int = 2, att_hidden: int = 128,
                 n_rows: int = 4, output_relu: bool = True):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(d, att_hidden, bias=False), nn.Tanh(),
                                   nn.Linear(att_hidden, n_rows, bias=False))
        self.out = nn.Sequential(nn.Linear(n_rows * d, mid), nn.ReLU(),
                                 nn.Linear(mid, int(n_outputs)))
        self.output_relu = bool(output_relu)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        attention = torch.softmax(self.score(h), dim=1)            # (B, T, rows)
        pooled = torch.einsum("btr,btd->brd", attention, h).flatten(1)
        out = self.out(pooled)
        return torch.relu(out) if self.output_relu else out


class LofiNet(nn.Module):
    """A backbone and its head: one window -> position (m) or region logits.

    Attributes ``name`` (one of :data:`MODEL_NAMES`), ``backbone``, ``head`` and
    ``input_shape``. Output float32 (B, n_outputs): (x, y) in metres for regression.
    """

    def __init__(self, name: str, backbone: nn.Module, head: nn.Module, input_shape):
        super().__init__()
        self.name = name
        self.backbone = backbone
        self.head = head
        self.input_shape = tuple(int(v) for v in input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def build(name: str, input_shape, *, n_outputs: int = 2, output_relu: bool | None = None,
          **kw) -> LofiNet:
    """One of the six benchmark networks with the paper's sizes unless ``kw`` says otherwise.

    Parameters
    ----------
    name : one of :data:`MODEL_NAMES`
    input_shape : (int, int)
        One window without the batch axis: (H, W) of the one-channel map for the conv
        nets (52, 52 for F = M^T M), (T, S) for the series nets (100, 52).
    n_outputs : int
        2 for (x, y) in metres; K for K-region logits.
    output_relu : bool, optional
        Default: True for regression (the authors' code), False for classification.
    **kw
        ``cnn``: ``faithful``; ``rnn``/``gru``/``lstm``: ``hidden``, ``layers``;
        ``csi-bert``: ``hidden``, ``layers``, ``heads``, ``intermediate``, ``max_len``,
        ``dropout`` (see :class:`CsiBert`).

    Returns
    -------
    LofiNet
    """
    if name not in MODEL_NAMES:
        raise ParameterError("name", f"one of {MODEL_NAMES}", name)
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ParameterError("input_shape", "(H, W) or (T, S), two positive sizes", input_shape)
    relu = (int(n_outputs) == 2) if output_relu is None else bool(output_relu)
    if name == "cnn":
        backbone = SmallCnn(**kw)
        head = DenseHead(64, n_outputs, relu)
    elif name == "resnet18":
        backbone = _MapInput(resnet18_backbone(64, **kw))
        head = DenseHead(64, n_outputs, relu)
    elif name == "csi-bert":
        kw.setdefault("max_len", max(100, shape[0]))
        backbone = CsiBert(shape[1], shape[0], **kw)
        head = AttentionHead(backbone.hidden, 2 * backbone.hidden, n_outputs,
                             output_relu=relu)
    else:
        backbone = RecurrentBackbone(name, shape[1], **kw)
        head = AttentionHead(backbone.step.out_features, 128, n_outputs, output_relu=relu)
    return LofiNet(name, backbone, head, shape)


def paper_backbone_sizes() -> dict:
    """Backbone sizes of Table II ("Model Size") as stated by the paper, in parameters."""
    return {"cnn": 23e3, "resnet18": 11e6, "rnn": 33e3, "gru": 100e3, "lstm": 133e3,
            "csi-bert": 2e6}


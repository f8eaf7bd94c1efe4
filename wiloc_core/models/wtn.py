"""The WiFi Trilateration Net (WTN) of paper 004: range compensation + positioning.

Paper 004 (Seong 2021, §3) chains two networks and trains them end to end:

- **RTT compensation network**: a recurrent network reads the sequence of scan-step
  ranges of one AP and returns a corrected range at every step. The paper names the
  cell "RNN" and sweeps its width from 64 to 1024 (Fig. 7); it gives no cell type, so
  this is a one-layer Elman RNN (tanh), with one set of weights shared by every AP
  (our reading: the paper draws one network per range input), followed by a linear
  read-out of one number per step. The read-out is a *correction* added to the
  measured range (our choice, so an untrained network starts at the raw ranges).
- **Positioning network**: two dense layers map the compensated ranges of all APs at
  one step to (x, y), the same for every step ("independent of time", §3.1, so one
  failed earlier step cannot spoil later positions). Hidden width: not given; ours.

Inputs are ranges in metres scaled by ``range_scale_m`` (the paper normalises ranges
to 1-20 m) and a validity flag per AP and step (1 where the scan step had a reading;
a missing step carries the last valid range forward, see
:func:`wiloc_core.methods.wtn.fill_missing`). Positions are predicted in a frame
``origin_m + scale_m * output`` so that the dense layers work on numbers near 1.
"""

from __future__ import annotations

import torch
from torch import nn

from wiloc_core.errors import ParameterError


class WiFiTrilaterationNet(nn.Module):
    """WTN: per-AP recurrent range compensation, then a two-layer dense positioning net.

    Parameters
    ----------
    n_aps : int
        Number of APs A (paper: 4).
    width : int
        Recurrent width (Fig. 7 sweeps 64 ... 1024; the paper keeps 1024).
    hidden : int
        Width of the positioning network's hidden dense layer (ours).
    range_scale_m : float
        Range normalisation (m): the paper's 20 m upper range.
    origin_m : sequence of 2 float
        Centre of the position frame (m), e.g. the training positions' mean.
    scale_m : float
        Half-size of the position frame (m).

    Shapes
    ------
    input : float32 (B, T, A, 2)
        Per step and AP: range (m, missing steps filled) and validity flag (0/1).
    output : float32 (B, T, A + 2)
        Compensated ranges (m) in the first A columns, position (x, y) (m) in the last 2.
    """

    def __init__(self, n_aps: int, width: int = 1024, hidden: int = 64, range_scale_m: float = 20.0,
                 origin_m=(0.0, 0.0), scale_m: float = 10.0):
        super().__init__()
        if int(n_aps) < 3:
            raise ParameterError("n_aps", "at least 3 APs (2-D trilateration)", n_aps)
        if int(width) < 1 or int(hidden) < 1:
            raise ParameterError("width/hidden", "positive layer widths", (width, hidden))
        self.n_aps, self.width, self.hidden = int(n_aps), int(width), int(hidden)
        self.rnn = nn.RNN(2, self.width, batch_first=True, nonlinearity="tanh")
        self.readout = nn.Linear(self.width, 1)
        self.positioning = nn.Sequential(nn.Linear(self.n_aps, self.hidden), nn.ReLU(),
                                         nn.Linear(self.hidden, 2))
        self.register_buffer("range_scale", torch.tensor(float(range_scale_m)))
        self.register_buffer("origin", torch.tensor([float(v) for v in origin_m]))
        self.register_buffer("scale", torch.tensor(float(scale_m)))

    def compensate(self, x: torch.Tensor) -> torch.Tensor:
        """Compensated ranges (m), float32 (B, T, A), from input (B, T, A, 2).

        Every AP's sequence goes through the same recurrent network, so ``A`` may differ
        from ``n_aps`` here (a compensation stage reused in another room).
        """
        b, t, a, _ = x.shape
        r = x[..., 0] / self.range_scale
        seq = torch.stack([r, x[..., 1]], dim=-1).permute(0, 2, 1, 3).reshape(b * a, t, 2)
        h, _ = self.rnn(seq)                                        # (B*A, T, width)
        delta = self.readout(h)[..., 0].reshape(b, a, t).permute(0, 2, 1)
        return (r + delta) * self.range_scale

    def locate(self, ranges_m: torch.Tensor) -> torch.Tensor:
        """Positions (m), float32 (..., 2), from ranges (m) (..., A)."""
        return self.origin + self.scale * self.positioning(ranges_m / self.range_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[2] != self.n_aps or x.shape[3] != 2:
            raise ParameterError("x", f"shape (B, T, {self.n_aps}, 2)", tuple(x.shape))
        ranges = self.compensate(x)
        return torch.cat([ranges, self.locate(ranges)], dim=-1)


def wtn_losses(output: torch.Tensor, target: torch.Tensor, n_aps: int):
    """The losses of eqs. (2) and (3), in metres.

    :math:`L_\\text{comp} = \\frac1T\\sum_t \\lVert\\hat{\\mathbf R}_t - \\bar{\\mathbf R}_t\\rVert_2`
    (the Euclidean error of the range vector of all APs) and
    :math:`L_\\text{pos} = \\frac1T\\sum_t \\lVert\\hat{\\mathbf X}_t - \\bar{\\mathbf X}_t\\rVert_2`,
    both also averaged over the batch.

    Parameters
    ----------
    output, target : torch.Tensor, float32 (B, T, A + 2)
        Ranges (m) then position (m), as :meth:`WiFiTrilaterationNet.forward` returns.
    n_aps : int

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Scalars L_comp and L_pos (m).
    """
    comp = torch.linalg.vector_norm(output[..., :n_aps] - target[..., :n_aps], dim=-1).mean()
    pos = torch.linalg.vector_norm(output[..., n_aps:] - target[..., n_aps:], dim=-1).mean()
    return comp, pos


class WtnLoss:
    """Eq. (4), :math:`L_\\text{total} = L_\\text{comp} + L_\\text{pos}`, as a loss for
    :func:`wiloc_core.training.fit` (``loss(output, target) -> scalar``)."""

    def __init__(self, n_aps: int):
        self.n_aps = int(n_aps)

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        comp, pos = wtn_losses(output, target, self.n_aps)
        return comp + pos

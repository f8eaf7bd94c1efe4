"""Surrogate teacher G, its WGAN critic C and the global mutual-information critic Ψθ.

Paper 001, §3.1: each source dataset i gets a surrogate teacher G_i = {F^G_i, E^G_i} of
"three fully connected layers", trained as a WGAN-GP generator (critic C_i) to model
the representations Z^E_{S_i} that the specialized network S_i forms on that source.
§3.2: one global estimator Ψθ: Z^E_G × Z^E_S → R scores pairs for J_MI (eq. 4).

**Conditioning [I].** Algorithm 2 writes G_i(Noise), yet eq. 2 scores the k-th
generated representation against the k-th true location Y_k, and eqs. 1 and 4 pair the
k-th teacher representation with the k-th specialized one. That is only meaningful if
the teacher knows something about sample k. We therefore condition the teacher on the
sample's location in the dataset's normalised frame (2 numbers in [0, 1]) besides a
noise vector. While distilling, the teachers receive the *target* sample's normalised
location, so the pairs (Z^E_S, Z^E_{G_i}) of eqs. 1, 4 and 11 refer to the same place
in each building's own frame. This is our reading, not the paper's statement; the
training code offers the literal one too (``teacher_input="noise"`` in
:mod:`wiloc_core.methods.surrogate_teachers`: the condition is zeros, the architecture
unchanged).

Sizes [I]: noise 16, hidden 128, LeakyReLU(0.2). F^G is the first layer, E^G the last
two (so Z^F_G is 128-d and Z^E_G has the specialized network's z_dim).
"""

from __future__ import annotations

import torch
from torch import nn

from wiloc_core.errors import ParameterError

__all__ = ["SurrogateTeacher", "Critic", "MICritic"]


class SurrogateTeacher(nn.Module):
    """Location-conditioned generator of specialized representations (three FC layers).

    Parameters
    ----------
    z_dim : int
        Width of the representation to model (the specialized network's Z^E).
    noise_dim : int
    cond_dim : int
        Conditioning width (2: a normalised position).
    hidden : int

    ``forward(cond [B, cond_dim], noise=None, generator=None) -> (z_f [B, hidden],
    z_e [B, z_dim])``; noise ~ N(0, I) drawn from ``generator`` when omitted.
    """

    architecture = "msta-surrogate-teacher"

    def __init__(self, z_dim: int, noise_dim: int = 16, cond_dim: int = 2, hidden: int = 128):
        super().__init__()
        if z_dim < 1:
            raise ParameterError("z_dim", "a positive width", z_dim)
        self.config = {"z_dim": int(z_dim), "noise_dim": int(noise_dim),
                       "cond_dim": int(cond_dim), "hidden": int(hidden)}
        self.noise_dim, self.cond_dim = int(noise_dim), int(cond_dim)
        self.framer = nn.Sequential(nn.Linear(noise_dim + cond_dim, hidden), nn.LeakyReLU(0.2))
        self.extractor = nn.Sequential(nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                       nn.Linear(hidden, z_dim))

    def forward(self, cond: torch.Tensor, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None):
        if cond.dim() != 2 or cond.shape[1] != self.cond_dim:
            raise ParameterError("cond", f"a tensor [B, {self.cond_dim}]", tuple(cond.shape))
        if noise is None:
            noise = torch.randn(cond.shape[0], self.noise_dim, generator=generator,
                                dtype=cond.dtype).to(cond.device)
        z_f = self.framer(torch.cat([noise, cond], dim=1))
        return z_f, self.extractor(z_f)


class Critic(nn.Module):
    """WGAN critic C_i on representations: MLP z_dim → hidden → hidden → 1 (no batch norm,
    which would break the per-sample gradient penalty). ``[B, z_dim] -> [B, 1]``."""

    architecture = "msta-critic"

    def __init__(self, z_dim: int, hidden: int = 128):
        super().__init__()
        self.config = {"z_dim": int(z_dim), "hidden": int(hidden)}
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MICritic(nn.Module):
    """Global mutual-information estimator Ψθ(z_G, z_S) of eq. 4: an MLP on the
    concatenated pair. ``([B, z_dim], [B, z_dim]) -> [B]``. Shared by all teachers."""

    architecture = "msta-mi-critic"

    def __init__(self, z_dim: int, hidden: int = 128):
        super().__init__()
        self.config = {"z_dim": int(z_dim), "hidden": int(hidden)}
        self.net = nn.Sequential(nn.Linear(2 * z_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, z_g: torch.Tensor, z_s: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z_g, z_s], dim=1)).squeeze(1)

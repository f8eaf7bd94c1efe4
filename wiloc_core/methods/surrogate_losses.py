"""Losses of the multi-surrogate-teacher framework (paper 001, §3, App. D-F).

Every function works on batches of representations, rows = samples:

- :func:`j_mae`: the location term, a mean *Euclidean* distance (eq. 2; the paper calls
  it MAE).
- :func:`j_sim`: the angular-similarity constraint with an additive angular margin
  (eq. 1).
- :func:`jsd_mutual_information` / :func:`j_mi`: the Jensen-Shannon mutual-information
  estimator with one global critic Ψθ and shuffled pairs as negatives (eq. 4, App. D).
- :func:`transmitting_matrix`, :func:`power_iteration`, :func:`block_lipschitz`,
  :func:`j_fi`: the functional-information constraint, the spectral norm of a block
  estimated from its input and output feature maps (eqs. 8-11, App. F).
- :func:`gradient_penalty`, :func:`critic_loss`: WGAN-GP (Gulrajani et al., ref. [10]),
  used in expert training (§3.1, Alg. 2).
- :func:`normalised_weights`: the λ̄ of eq. 12.

Reconstruction notes [I]: the paper's eq. 8 normalises "Z / ||Z||_2" without saying
over which axis, and writes the product of a d_{j-1} × M and a d_j × M matrix; we read
it, as in the flow-of-solution matrices of its ref. [27], as a contraction over the
batch axis of row-normalised maps (see :func:`transmitting_matrix`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from wiloc_core.errors import ParameterError

__all__ = [
    "ANGULAR_MARGIN",
    "PAPER_LAMBDAS",
    "j_mae",
    "j_sim",
    "jsd_mutual_information",
    "j_mi",
    "transmitting_matrix",
    "power_iteration",
    "spectral_norm",
    "block_lipschitz",
    "j_fi",
    "gradient_penalty",
    "critic_loss",
    "normalised_weights",
]

#: Angular margin α of eq. 1 in radians (paper §3.1, App. A).
ANGULAR_MARGIN = 0.2
#: λ1..λ4 (J_MAE, J_Sim, J_MI, J_FI) of eq. 12 before normalisation (paper §4.1).
PAPER_LAMBDAS = (3.0, 0.5, 0.5, 0.5)
#: Floor of sin² inside the square root: keeps the gradient finite at |cos| = 1 while
#: changing J_Sim by at most 1e-6 · sin α.
_SIN2_EPS = 1e-12


def _rows(z: torch.Tensor) -> torch.Tensor:
    """Flatten a batch of feature maps [B, ...] to a matrix [B, d]."""
    if z.dim() < 2:
        raise ParameterError("z", "a batch of feature maps [B, ...] with at least 2 dims",
                             tuple(z.shape))
    return z.reshape(z.shape[0], -1)


def j_mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean location error, one term of eq. 2.

    .. math:: J_{MAE} = \\frac{1}{B} \\sum_k \\lVert Y_k - \\hat Y_k \\rVert_2

    Parameters
    ----------
    pred, target : torch.Tensor, float, shape [B, 2]
        Predicted and true positions in the same (normalised) unit.

    Returns
    -------
    torch.Tensor, scalar, same unit as the inputs.
    """
    if pred.shape != target.shape or pred.dim() != 2:
        raise ParameterError("pred", f"shape {tuple(target.shape)} [B, 2] like target",
                             tuple(pred.shape))
    return torch.linalg.vector_norm(pred - target, dim=1).mean()


def j_sim(z_s: torch.Tensor, z_g: torch.Tensor, margin: float = ANGULAR_MARGIN) -> torch.Tensor:
    """Angular-similarity constraint with an additive angular margin (eq. 1).

    Each row is L2-normalised, the batch-mean cosine
    :math:`\\bar c = \\frac1B \\sum_k \\hat z_{k,S} \\cdot \\hat z_{k,G}` is turned into an
    angle, the margin α is added and

    .. math:: J_{Sim} = \\max\\bigl(0,\\ 1 - \\cos(\\arccos \\bar c + \\alpha)\\bigr).

    Identical representations give :math:`1 - \\cos\\alpha` (0.0199 for α = 0.2 rad),
    not zero: the margin keeps pushing the pair together.
    ``cos(arccos c + α)`` is evaluated as ``c cos α - sqrt(1 - c²) sin α`` (with
    1 - c² floored at 1e-12), which has the same value and a finite gradient at c = ±1.

    Parameters
    ----------
    z_s, z_g : torch.Tensor, shape [B, ...]
        Paired representations (flattened per sample).
    margin : float, radians

    Returns
    -------
    torch.Tensor, scalar in [0, 2].
    """
    a, b = _rows(z_s), _rows(z_g)
    if a.shape != b.shape:
        raise ParameterError("z_g", f"shape {tuple(a.shape)} like z_s", tuple(b.shape))
    cos_mean = F.cosine_similarity(a, b, dim=1, eps=1e-8).mean()
    c = cos_mean.clamp(-1.0, 1.0)
    sin_angle = torch.sqrt((1.0 - c * c).clamp_min(_SIN2_EPS))
    cos_shifted = c * math.cos(margin) - sin_angle * math.sin(margin)
    return torch.clamp(1.0 - cos_shifted, min=0.0)


def jsd_mutual_information(critic, z_g: torch.Tensor, z_s: torch.Tensor,
                           perm: torch.Tensor | None = None,
                           generator: torch.Generator | None = None) -> torch.Tensor:
    """Jensen-Shannon mutual-information estimate between paired batches (eq. 4, App. D).

    .. math::
        \\hat I = \\mathbb E_{p(z_G, z_S)}[-\\mathrm{sp}(-\\Psi(z_G, z_S))]
                - \\mathbb E_{p(z_G)p(z_S)}[\\mathrm{sp}(\\Psi(z_G, z_S))],

    with :math:`\\mathrm{sp}(u) = \\log(1 + e^u)`. Positive pairs are the rows as given;
    negative pairs pair each :math:`z_G` with a shuffled :math:`z_S` (the paper's
    "shuffle the representations in batch samples"). Larger means more dependent;
    the estimate is always ≤ 0, reaching 0 only when the critic separates the two
    perfectly; for independent inputs the best critic gets :math:`-2\\log 2`.

    Parameters
    ----------
    critic : callable (z_g [B, d], z_s [B, d]) -> [B] or [B, 1]
        The estimator Ψθ (e.g. :class:`wiloc_core.models.surrogate.MICritic`).
    z_g, z_s : torch.Tensor, shape [B, d]
    perm : LongTensor [B], optional
        Shuffle used for the negatives; drawn from ``generator`` when omitted. A
        random permutation may leave a few rows in place; with B ≥ 32 their effect
        is negligible.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor, scalar, nats.
    """
    a, b = _rows(z_g), _rows(z_s)
    if a.shape[0] != b.shape[0]:
        raise ParameterError("z_s", f"{a.shape[0]} rows like z_g", b.shape[0])
    if perm is None:
        perm = torch.randperm(a.shape[0], generator=generator).to(b.device)
    positive = critic(a, b).reshape(-1)
    negative = critic(a, b[perm]).reshape(-1)
    return (-F.softplus(-positive)).mean() - F.softplus(negative).mean()


def j_mi(critic, z_s: torch.Tensor, teacher_z: list[torch.Tensor],
         generator: torch.Generator | None = None) -> torch.Tensor:
    """The J_MI loss to *minimise*: minus the sum of eq. 4 over the N teachers.

    One global critic Ψθ serves every teacher (the paper's change to Hjelm et al.).

    Parameters
    ----------
    critic : callable
    z_s : torch.Tensor [B, d]
        Target representations Z^E_S.
    teacher_z : list of torch.Tensor [B, d]
        Z^E_{G_i} for each teacher, row k paired with row k of ``z_s``.
    generator : torch.Generator, optional
        Draws the shuffles.

    Returns
    -------
    torch.Tensor, scalar, nats.
    """
    total = z_s.new_zeros(())
    for z_g in teacher_z:
        total = total - jsd_mutual_information(critic, z_g, z_s, generator=generator)
    return total


def transmitting_matrix(z_in: torch.Tensor, z_out: torch.Tensor) -> torch.Tensor:
    """Transmitting matrix T of a block from its input and output maps (eqs. 8-9).

    With row-normalised maps :math:`\\hat Z_{in} \\in \\mathbb R^{M \\times d_{in}}`,
    :math:`\\hat Z_{out} \\in \\mathbb R^{M \\times d_{out}}` (one row per sample),

    .. math:: A = \\tfrac1M \\hat Z_{in}^\\top \\hat Z_{out}, \\qquad T = A^\\top A
              \\in \\mathbb R^{d_{out} \\times d_{out}}.

    For a linear block :math:`\\hat Z_{out} = \\hat Z_{in} W^\\top` and near-orthogonal
    inputs (the paper's assumption :math:`\\hat Z^\\top \\hat Z \\approx I`), A is close
    to a scaled :math:`W^\\top` and the largest eigenvalue of T tracks
    :math:`\\lVert W \\rVert_{SN}^2` (eq. 10). The 1/M factor [I] keeps T bounded
    (‖A‖ ≤ 1) whatever the batch size.

    Parameters
    ----------
    z_in : torch.Tensor [M, ...]
        The block's input maps (Z^F); flattened per sample.
    z_out : torch.Tensor [M, ...]
        The block's output maps (Z^E).

    Returns
    -------
    torch.Tensor [d_out, d_out], symmetric positive semi-definite.
    """
    a, b = _rows(z_in), _rows(z_out)
    if a.shape[0] != b.shape[0]:
        raise ParameterError("z_out", f"{a.shape[0]} rows like z_in", b.shape[0])
    a = F.normalize(a, dim=1, eps=1e-8)
    b = F.normalize(b, dim=1, eps=1e-8)
    cross = a.T @ b / a.shape[0]
    return cross.T @ cross


def power_iteration(matrix: torch.Tensor, n_iter: int = 30, v0: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Largest eigenvalue of a symmetric PSD matrix by power iteration (App. F).

    The vector is iterated without gradient; the returned Rayleigh quotient
    :math:`v^\\top T v / v^\\top v` carries the gradient with respect to T, which is
    the gradient of the top eigenvalue (as in spectral normalisation, ref. [40]).
    The paper's App. F returns the square root of this value as the spectral norm;
    :func:`spectral_norm` and :func:`block_lipschitz` do that.

    Parameters
    ----------
    matrix : torch.Tensor [d, d], symmetric positive semi-definite
    n_iter : int >= 1
    v0 : torch.Tensor [d], optional
        Start vector; a Gaussian draw from ``generator`` when omitted.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor, scalar: the estimate of λ_max.
    """
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ParameterError("matrix", "a square matrix [d, d]", tuple(matrix.shape))
    if n_iter < 1:
        raise ParameterError("n_iter", "an integer >= 1", n_iter)
    with torch.no_grad():
        v = (torch.randn(matrix.shape[0], generator=generator, dtype=matrix.dtype).to(matrix.device)
             if v0 is None else v0.detach().to(matrix.dtype).clone())
        v = v / v.norm().clamp_min(1e-12)
        for _ in range(n_iter):
            v = matrix.detach() @ v
            v = v / v.norm().clamp_min(1e-12)
    return v @ matrix @ v


def spectral_norm(weight: torch.Tensor, n_iter: int = 30,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Largest singular value of a matrix W as sqrt(λ_max(WᵀW)) by :func:`power_iteration`.

    Parameters
    ----------
    weight : torch.Tensor [m, n]
    n_iter : int

    Returns
    -------
    torch.Tensor, scalar.
    """
    if weight.dim() != 2:
        raise ParameterError("weight", "a matrix [m, n]", tuple(weight.shape))
    lam = power_iteration(weight.T @ weight, n_iter, generator=generator)
    return torch.sqrt(lam.clamp_min(0.0) + 1e-12)


def block_lipschitz(z_in: torch.Tensor, z_out: torch.Tensor, n_iter: int = 10,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Spectral-norm proxy ‖E‖_SN of a block from its input/output maps (eqs. 10-11).

    ``sqrt(λ_max(T(z_in, z_out)))``, the final square root of App. F.

    Returns
    -------
    torch.Tensor, scalar in [0, 1] (because ‖A‖ ≤ 1, see :func:`transmitting_matrix`).
    """
    lam = power_iteration(transmitting_matrix(z_in, z_out), n_iter, generator=generator)
    return torch.sqrt(lam.clamp_min(0.0) + 1e-12)


def j_fi(student_maps: tuple[torch.Tensor, torch.Tensor],
         teacher_maps: list[tuple[torch.Tensor, torch.Tensor]], n_iter: int = 10,
         generator: torch.Generator | None = None) -> torch.Tensor:
    """Functional-information constraint (eq. 11).

    .. math:: J_{FI} = \\sum_i \\bigl|\\, \\lVert E^G_i \\rVert_{SN} - \\lVert E^S \\rVert_{SN} \\bigr|

    with each norm from :func:`block_lipschitz` on the extractor's (Z^F, Z^E). The
    teachers' norms are constants here (teachers are frozen while distilling).

    Parameters
    ----------
    student_maps : (Z^F_S [B, ...], Z^E_S [B, d])
    teacher_maps : list of (Z^F_{G_i} [B, ...], Z^E_{G_i} [B, d])

    Returns
    -------
    torch.Tensor, scalar.
    """
    sigma_s = block_lipschitz(*student_maps, n_iter=n_iter, generator=generator)
    total = sigma_s.new_zeros(())
    for z_f, z_e in teacher_maps:
        with torch.no_grad():
            sigma_g = block_lipschitz(z_f, z_e, n_iter=n_iter, generator=generator)
        total = total + (sigma_g - sigma_s).abs()
    return total


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP gradient penalty (Gulrajani et al., ref. [10]; Alg. 2 line 13).

    .. math:: \\mathrm{gp} = \\mathbb E_{\\hat z}\\bigl[(\\lVert \\nabla_{\\hat z} C(\\hat z)\\rVert_2 - 1)^2\\bigr],
              \\quad \\hat z = \\epsilon z_{real} + (1-\\epsilon) z_{fake},\\ \\epsilon \\sim U(0,1).

    It is zero for a critic whose gradient has unit norm everywhere (a 1-Lipschitz
    linear critic with a unit-norm weight vector).

    Parameters
    ----------
    critic : callable [B, d] -> [B] or [B, 1]
    real, fake : torch.Tensor [B, d]
    generator : torch.Generator, optional
        Draws ε.

    Returns
    -------
    torch.Tensor, scalar (differentiable w.r.t. the critic's parameters).
    """
    if real.shape != fake.shape:
        raise ParameterError("fake", f"shape {tuple(real.shape)} like real", tuple(fake.shape))
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator,
                     dtype=real.dtype).to(real.device)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    score = critic(mixed).sum()
    (grad,) = torch.autograd.grad(score, mixed, create_graph=True)
    return ((grad.reshape(grad.shape[0], -1).norm(dim=1) - 1.0) ** 2).mean()


def critic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss to minimise: E[C(fake)] - E[C(real)] (Alg. 2 line 14)."""
    return fake_logits.mean() - real_logits.mean()


def normalised_weights(lambdas=PAPER_LAMBDAS) -> tuple[float, ...]:
    """The λ̄_t = λ_t / Σ_k λ_k of eq. 12 (paper: 3, 0.5, 0.5, 0.5 → 2/3, 1/9, 1/9, 1/9).

    Parameters
    ----------
    lambdas : sequence of 4 non-negative floats, not all zero

    Returns
    -------
    tuple of 4 floats summing to 1.
    """
    values = tuple(float(v) for v in lambdas)
    if len(values) != 4 or min(values) < 0 or sum(values) <= 0:
        raise ParameterError("lambdas", "4 non-negative weights, not all zero", lambdas)
    total = sum(values)
    return tuple(v / total for v in values)

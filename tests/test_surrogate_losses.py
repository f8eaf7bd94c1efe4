"""Losses of paper 001 on hand-made tensors, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wiloc_core.errors import ParameterError  # noqa: E402
from wiloc_core.methods import surrogate_losses as L  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def test_j_mae_is_mean_euclidean_distance():
    pred = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    true = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    assert L.j_mae(pred, true).item() == pytest.approx(2.5)
    with pytest.raises(ParameterError):
        L.j_mae(pred, true[:1])


def test_j_sim_identical_representations_equal_one_minus_cos_margin():
    z = torch.randn(16, 8)
    for margin in (0.0, 0.2, 0.5):
        assert L.j_sim(z, z.clone(), margin).item() == pytest.approx(1 - math.cos(margin), abs=1e-5)
    # scaling a row does not change the angle
    assert L.j_sim(z, 3.0 * z, 0.2).item() == pytest.approx(1 - math.cos(0.2), abs=1e-5)


def test_j_sim_follows_eq1_for_known_angle():
    # every pair at 60 degrees: mean cosine 0.5, J = 1 - cos(pi/3 + 0.2)
    theta = math.pi / 3
    a = torch.tensor([[1.0, 0.0]]).repeat(4, 1)
    b = torch.tensor([[math.cos(theta), math.sin(theta)]]).repeat(4, 1)
    assert L.j_sim(a, b, 0.2).item() == pytest.approx(1 - math.cos(theta + 0.2), abs=1e-5)
    # opposite vectors: 1 - cos(pi + 0.2) would exceed 2 - it is capped by the clamp near pi
    assert L.j_sim(a, -a, 0.2).item() <= 2.0 + 1e-6


def test_j_sim_gradient_is_finite_at_identity():
    z = torch.randn(8, 4, requires_grad=True)
    L.j_sim(z, z.detach().clone()).backward()
    assert torch.isfinite(z.grad).all()


def test_jsd_mi_higher_for_dependent_than_shuffled_pairs():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(256, 6, generator=gen)

    def critic(a, b):  # a fixed separable critic that rewards aligned pairs
        return 2.0 * (a * b).sum(dim=1) / a.shape[1] ** 0.5

    dependent = x + 0.1 * torch.randn(256, 6, generator=gen)
    independent = torch.randn(256, 6, generator=gen)
    perm = torch.randperm(256, generator=gen)
    mi_dep = L.jsd_mutual_information(critic, x, dependent, perm=perm).item()
    mi_ind = L.jsd_mutual_information(critic, x, independent, perm=perm).item()
    assert mi_dep > mi_ind + 0.5
    assert mi_dep <= 0  # the JS estimate is bounded above by 0
    # J_MI (to minimise) is minus the sum over teachers: lower for dependent teachers
    loss_dep = L.j_mi(critic, dependent, [x, x], generator=torch.Generator().manual_seed(2))
    loss_ind = L.j_mi(critic, independent, [x, x], generator=torch.Generator().manual_seed(2))
    assert loss_dep.item() < loss_ind.item()
    assert loss_dep.item() == pytest.approx(
        -2 * L.jsd_mutual_information(critic, x, dependent,
                                      generator=torch.Generator().manual_seed(2)).item(), rel=0.2)


def test_power_iteration_matches_numpy_singular_value():
    rng = np.random.default_rng(0)
    for shape in [(20, 12), (64, 64), (7, 30)]:
        w = rng.normal(size=shape)
        expected = np.linalg.svd(w, compute_uv=False)[0]
        got = L.spectral_norm(torch.tensor(w), n_iter=200,
                              generator=torch.Generator().manual_seed(0)).item()
        assert got == pytest.approx(expected, rel=0.01)


def test_power_iteration_gradient_is_top_eigenvector_outer_product():
    t = torch.diag(torch.tensor([3.0, 1.0, 0.5])).requires_grad_(True)
    lam = L.power_iteration(t, n_iter=50, v0=torch.ones(3))
    lam.backward()
    assert lam.item() == pytest.approx(3.0, rel=1e-4)
    assert t.grad[0, 0].item() == pytest.approx(1.0, abs=1e-4)
    assert t.grad[1, 1].abs().item() < 1e-4


def test_block_lipschitz_of_orthonormal_inputs_through_linear_map():
    # inputs with orthonormal columns (the paper's assumption Z^T Z ~ I) through W:
    # A = Z^T Z W^T / M is W^T / M up to the row normalisation, so the proxy orders maps by ||W||
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(400, 10, generator=gen)
    w_small = torch.randn(6, 10, generator=gen)
    w_big = torch.randn(6, 10, generator=gen) * torch.tensor([5.0] + [1.0] * 9)
    s_small = L.block_lipschitz(z, z @ w_small.T, n_iter=100)
    s_big = L.block_lipschitz(z, z @ w_big.T, n_iter=100)
    assert 0 <= s_small.item() <= 1 and 0 <= s_big.item() <= 1
    assert L.transmitting_matrix(z, z @ w_small.T).shape == (6, 6)
    # J_FI between a block and itself is zero, and positive between different blocks
    pair = (z, z @ w_small.T)
    assert L.j_fi(pair, [pair], n_iter=200).item() == pytest.approx(0.0, abs=1e-5)
    assert L.j_fi(pair, [(z, z @ w_big.T)]).item() > 0


def test_gradient_penalty_zero_for_unit_norm_linear_critic():
    w = torch.randn(8)
    w = w / w.norm()
    linear = torch.nn.Linear(8, 1, bias=True)
    with torch.no_grad():
        linear.weight.copy_(w[None])
    real, fake = torch.randn(32, 8), torch.randn(32, 8)
    assert L.gradient_penalty(linear, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        linear.weight.mul_(3.0)  # ||grad|| = 3 -> penalty (3 - 1)^2 = 4
    assert L.gradient_penalty(linear, real, fake).item() == pytest.approx(4.0, rel=1e-5)


def test_critic_loss_and_normalised_weights():
    assert L.critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0])).item() == -2.0
    w = L.normalised_weights()
    assert sum(w) == pytest.approx(1.0)
    assert w[0] == pytest.approx(3 / 4.5)
    with pytest.raises(ParameterError):
        L.normalised_weights((1, 1, 1))

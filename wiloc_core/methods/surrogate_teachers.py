"""Multi-surrogate-teacher knowledge transfer (paper 001): training and experiment drivers.

The chapter notebooks only call this module. The pieces, in the paper's order:

1. **Data** (:func:`make_domain`): raw RSS in dBm (the networks normalise it in their
   Framer) and positions in a per-dataset isotropic frame
   (:func:`coordinate_frame`: subtract the training minimum, divide by the longest
   side, so positions lie in [0, 1] and distances stay proportional to metres).
2. **Expert training** (Alg. 2, :func:`train_expert`): on each source dataset a
   specialized network S_i (updated with J_MAE only) and a surrogate teacher G_i trained
   as a WGAN-GP generator against a critic C_i on Z^E_{S_i}, with J_MAE through S_i's
   regressor (eq. 2) and J_Sim (eq. 1). Stand-alone training (:func:`train_standalone`)
   is :func:`wiloc_core.training.fit`, and S_i follows exactly its trajectory, because
   the teacher, critic and their noise draw from separate random streams.
3. **Expert distilling** (§3.2, :func:`distill`): a fresh target network trained with
   eq. 12, λ̄1 J_MAE + λ̄2 J_Sim + λ̄3 J_MI + λ̄4 J_FI, against the frozen teachers.
   bAaT never receives J_FI.
4. **Transfer baselines** of Table 1 (:func:`sequential_transfer` (*) and
   :func:`collective_transfer` (**)), after Klus et al. (ref. [17]): per-dataset
   encoders map each dataset's anchors to a common width, a shared network is
   pre-trained on the sources (one after the other, or all together), then fine-tuned
   on the target with a new target encoder.
5. **Tasks and drivers** for the notebooks: each network is one task
   (:func:`expert_task`, :func:`standalone_task`, :func:`distill_task`,
   :func:`transfer_task`), and the drivers (:func:`run_table1`, :func:`run_ablation`,
   :func:`run_source_relevance`, :func:`run_target_fraction`) run them as sweeps of
   :func:`wiloc_core.experiment.run_sweep` (serially, on local cores or on a Dask
   cluster, cached by content) and return test-set errors in metres per (target,
   model, variant).

Every network trains with the shared layer :mod:`wiloc_core.training`: one
:class:`~wiloc_core.training.TrainSettings` per dataset (the paper's epochs as the cap,
early stopping on held-out training rows, ``device="auto"``), and every random draw
comes from a named stream of the task seed, never from torch's global state.

Choices the paper leaves open are marked [I] in the docstrings and collected in
:data:`RECONSTRUCTION_NOTES`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from wiloc_core.errors import ParameterError
from wiloc_core.experiment import Cache, Task, run_sweep
from wiloc_core.methods import surrogate_losses as L
from wiloc_core.metrics import positioning_errors
from wiloc_core.models.fingerprint_nets import ARCHITECTURES, RssNormalizer, build_net
from wiloc_core.models.surrogate import Critic, MICritic, SurrogateTeacher
from wiloc_core.seeding import rng
from wiloc_core.training import (
    EarlyStopping,
    FitResult,
    TrainSettings,
    batch_indices,
    describe_device,
    fit,
    isolated_torch_rng,
    loop_checkpoint,
    predict,
    progress_bar,
    resolve_device,
    resumed_seconds,
    seeded_init,
    torch_generator,
)

__all__ = [
    "VERSION",
    "RECONSTRUCTION_NOTES",
    "CONSTRAINT_SETS",
    "Domain",
    "FrameworkSettings",
    "TEACHER_INPUTS",
    "teacher_condition",
    "coordinate_frame",
    "make_domain",
    "holdout",
    "train_expert",
    "train_standalone",
    "distill",
    "distillation_loss",
    "sequential_transfer",
    "collective_transfer",
    "evaluate",
    "expert_task",
    "standalone_task",
    "distill_task",
    "transfer_task",
    "settings_from",
    "framework_from",
    "FrameworkRun",
    "run_table1",
    "run_ablation",
    "run_source_relevance",
    "run_target_fraction",
]

#: Version of what this module's tasks compute (:mod:`wiloc_core.experiment` cache keys):
#: bump it whenever a change alters a trained network or its errors.
# 2: BayesCNN and bAaT default to their full reconstruction sizes; 3: the networks' dropout
# masks come from wiloc_core.models.layers (uniforms, not bernoulli_: same law, other draws)
# and BayesCNN convolves channels-last (same arithmetic, other rounding)
VERSION = 3

#: Where this implementation had to choose because the paper does not say.
RECONSTRUCTION_NOTES = {
    "teacher input": "by default teachers are conditioned on the sample's normalised "
                     "position plus 16-d noise (Alg. 2 writes G(Noise), but eqs. 1, 2 and 4 "
                     "pair the k-th generated representation with sample k); "
                     "teacher_input='noise' is Alg. 2's literal reading (position zeroed)",
    "generator loss": "Alg. 2 line 24 lists β1 J_MAE(S) + β2 J_MAE(G) + β3 J_Sim; we add "
                      "the WGAN adversarial term -E[C(G)] (weight 1), without which the "
                      "critic would not act; β = (1, 1, 1)",
    "teachers while distilling": "frozen (the paper does not say whether they keep "
                                 "training); the MI critic Ψθ trains with the target model",
    "J_FI normalisation": "maps row-normalised, A = Z_F^T Z_E / M, norm = sqrt(λ_max(A^T A))",
    "coordinates": "per dataset: (xy - min) / longest side, so J_MAE is in units of the "
                   "building's longest side; metres only at evaluation",
    "ablation weights": "λ̄ stays normalised over all four terms when a term is dropped",
    "transfer baselines": "encoders = RSS normaliser + Dense(n_aps→256) + sigmoid, trained "
                          "end to end (Klus et al. pre-train autoencoders); the regressor "
                          "is shared, each dataset keeping its own normalised frame",
    "early stopping": "every network (stand-alone, expert, distilled, transfer stages) "
                      "holds out a share of its training rows and keeps the epoch with "
                      "the lowest J_MAE on them (the expert: S_i's, with G_i and C_i of "
                      "that epoch); the paper's epoch count is the cap",
}

#: Constraint sets of Table 2 (ablation) by row suffix.
CONSTRAINT_SETS = {
    "+": ("sim",),
    "⋆": ("mi",),
    "++": ("sim", "mi"),
    "+++": ("sim", "mi", "fi"),
}


#: What a surrogate teacher reads besides its noise (``teacher_input``): ``"position"``
#: (the sample's normalised position; while distilling, the target sample's true one) or
#: ``"noise"`` (Alg. 2's G_i(Noise): the position is replaced by zeros, so the teacher's
#: architecture, initial weights and noise draws are those of ``"position"``).
TEACHER_INPUTS = ("position", "noise")


def _check_teacher_input(teacher_input: str) -> str:
    if teacher_input not in TEACHER_INPUTS:
        raise ParameterError("teacher_input", f"one of {TEACHER_INPUTS}", teacher_input)
    return teacher_input


def teacher_condition(yb: torch.Tensor, teacher_input: str = "position") -> torch.Tensor:
    """The condition a surrogate teacher reads for positions ``yb`` [B, 2]: ``yb`` itself
    (``"position"``) or zeros of its shape (``"noise"``: the teacher sees only its noise)."""
    if _check_teacher_input(teacher_input) == "position":
        return yb
    return torch.zeros_like(yb)


# -----------------------------------------------------------------------------------
# Data
# -----------------------------------------------------------------------------------
def coordinate_frame(xy) -> tuple[np.ndarray, float]:
    """Offset (m, [2]) and scale (m) of a dataset's isotropic normalised frame.

    ``y_norm = (xy - offset) / scale`` with offset = per-axis minimum and scale = the
    longer side of the bounding box, so y_norm ∈ [0, 1] × [0, ≤ 1].
    """
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
        raise ParameterError("xy", "positions [n >= 1, 2] in metres", xy.shape)
    offset = xy.min(axis=0)
    scale = float((xy.max(axis=0) - offset).max())
    return offset, max(scale, 1e-6)


@dataclass
class Domain:
    """One dataset ready for training.

    Attributes
    ----------
    name : str
    x_train : float32 [n, n_aps], dBm with +100 = not heard
    y_train : float32 [n, 2], normalised positions (see :func:`coordinate_frame`)
    x_test : float32 [m, n_aps] or None
    xy_test : float64 [m, 2] metres, or None
    offset : float64 [2] (m); scale : float (m)
    note : str
        How the training rows were chosen.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    xy_test: np.ndarray | None
    offset: np.ndarray
    scale: float
    note: str = ""

    @property
    def n_aps(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])


def make_domain(dataset, *, max_train: int | None = None, fraction: float | None = None,
                seed=0) -> Domain:
    """Prepare a :class:`~wiloc_core.data.FingerprintDataset` for training.

    A dataset without a training split (UTS, test file only) trains on its test split
    and has no test set: it can only serve as a source.

    Parameters
    ----------
    dataset : FingerprintDataset
    max_train : int, optional
        Random subsample of the training rows (seeded) to bound run time.
    fraction : float in (0, 1], optional
        Keep this share of the training rows (Table 4); applied before ``max_train``.
    seed : int or numpy Generator
    """
    train, test = dataset.train, dataset.test
    has_train = train is not None and train.n_samples > 0
    split = train if has_train else test
    rows = np.arange(split.n_samples)
    gen = rng(seed)
    note = f"{split.n_samples} {'training' if has_train else 'test-file'} fingerprints"
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ParameterError("fraction", "a share in (0, 1]", fraction)
        keep = max(2, int(round(fraction * len(rows))))
        rows = np.sort(gen.choice(rows, size=keep, replace=False))
        note = f"{keep} of {split.n_samples} ({100 * fraction:g} %)"
    if max_train is not None and max_train < len(rows):
        rows = np.sort(gen.choice(rows, size=int(max_train), replace=False))
        note += f", subsampled to {len(rows)}"
    xy = split.xy[rows]
    offset, scale = coordinate_frame(xy)
    has_test = has_train and test is not None and test.n_samples > 0
    return Domain(
        name=dataset.name,
        x_train=np.ascontiguousarray(split.rss[rows], dtype=np.float32),
        y_train=((xy - offset) / scale).astype(np.float32),
        x_test=np.asarray(test.rss, dtype=np.float32) if has_test else None,
        xy_test=np.asarray(test.xy, dtype=np.float64) if has_test else None,
        offset=offset, scale=scale, note=note,
    )


@dataclass(frozen=True)
class FrameworkSettings:
    """What the framework adds to the shared :class:`~wiloc_core.training.TrainSettings`.

    Attributes
    ----------
    critic_steps : int >= 1
        Critic updates per generator update in expert training (WGAN-GP: 5).
    gp_weight : float
        Gradient-penalty weight (WGAN-GP: 10).
    lambdas : tuple of 4 floats
        λ1..λ4 of eq. 12 before normalisation.
    power_iters : int >= 1
        Power-iteration steps for J_FI.
    """

    critic_steps: int = 5
    gp_weight: float = 10.0
    lambdas: tuple = L.PAPER_LAMBDAS
    power_iters: int = 10

    def __post_init__(self):
        if int(self.critic_steps) < 1:
            raise ParameterError("critic_steps", "an integer >= 1", self.critic_steps)
        if int(self.power_iters) < 1:
            raise ParameterError("power_iters", "an integer >= 1", self.power_iters)
        object.__setattr__(self, "lambdas", tuple(float(v) for v in self.lambdas))


def holdout(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and validation rows of one dataset: the validation share is drawn from
    the ``"split"`` stream of ``seed`` (as :func:`wiloc_core.training.fit` draws it).

    Returns
    -------
    (train, val) : int64 arrays, sorted; ``val`` is None when ``val_fraction`` is 0.
    """
    if val_fraction <= 0:
        return np.arange(n), None
    n_val = max(1, int(round(val_fraction * n)))
    if n - n_val < 2:
        raise ParameterError("val_fraction", f"a share leaving >= 2 of {n} rows to train",
                             val_fraction)
    order = torch.randperm(n, generator=torch_generator(seed, "split")).numpy()
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _split_tensors(domain: Domain, settings: TrainSettings, seed: int):
    """``(x_train, y_train, x_val, y_val)`` tensors (the last two None without validation)."""
    train, val = holdout(domain.n_train, settings.val_fraction, seed)
    # copies: a worker may hold the arrays read-only (joblib memory-maps large ones)
    x, y = torch.from_numpy(np.array(domain.x_train)), torch.from_numpy(np.array(domain.y_train))
    if val is None:
        return x, y, None, None
    return x[train], y[train], x[val], y[val]


def _build(arch: str, domain: Domain, net_sizes: dict | None):
    net = build_net(arch, domain.n_aps, **(net_sizes or {}).get(arch, {}))
    net.set_coordinate_frame(domain.offset, domain.scale)
    return net


def _new_net(arch: str, domain: Domain, seed: int, net_sizes: dict | None):
    """The network's initial weights, from the ``"init"`` stream of ``seed``: the stand-alone,
    expert and distilled networks of one seed start from the same weights."""
    return seeded_init(_build, int(seed), arch, domain, net_sizes)


def _position_loss(outputs, y):
    """J_MAE on a specialized network's ``(z_f, z_e, y_hat)``."""
    return L.j_mae(outputs[2], y)


@torch.no_grad()
def _val_mae(net, x, y, batch_size: int, device, loss=_position_loss) -> float:
    """Mean J_MAE over the validation rows, computed batch by batch as ``fit`` does;
    ``loss(outputs, y)`` reads the network's outputs (default: a specialized network's)."""
    total, count = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start:start + batch_size].to(device), y[start:start + batch_size].to(device)
        total += float(loss(net(xb), yb)) * xb.shape[0]
        count += xb.shape[0]
    return total / count


def _noise(generator: torch.Generator | None, n: int, dim: int, device) -> torch.Tensor:
    """Teacher noise drawn on the CPU from ``generator`` (the task's ``"noise"`` stream;
    None: torch's default generator), then moved to ``device``."""
    return torch.randn(n, dim, generator=generator).to(device)


# -----------------------------------------------------------------------------------
# Expert training (Alg. 2) and stand-alone training
# -----------------------------------------------------------------------------------
@dataclass
class Expert:
    """Result of :func:`train_expert` on one dataset."""

    arch: str
    domain: str
    net: nn.Module
    teacher: SurrogateTeacher | None
    critic: Critic | None
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    best_epoch: int = 0
    device: str = "cpu"


def train_expert(arch: str, domain: Domain, settings: TrainSettings,
                 framework: FrameworkSettings = FrameworkSettings(), *, seed: int = 0,
                 with_teacher: bool = True, net_sizes: dict | None = None,
                 betas=(1.0, 1.0, 1.0), adversarial_weight: float = 1.0,
                 teacher_input: str = "position") -> Expert:
    """Expert training of Alg. 2 on one source dataset.

    Per mini-batch (X, Y): S_i(X) gives (Z^F, Z^E, Ŷ); the critic C_i takes
    ``critic_steps`` steps on ``E[C(G(Y, noise))] - E[C(Z^E_S)] + gp_weight · gp``; then
    the teacher takes one step on
    ``β2 J_MAE(R_S(Z^E_G), Y) + β3 J_Sim(Z^E_S, Z^E_G) - adversarial_weight · E[C(Z^E_G)]``
    (β1 J_MAE(S) of line 24 has no gradient with respect to G and is left out), the
    gradient flowing through S_i's frozen regressor into G only; finally S_i takes one
    step on J_MAE(Ŷ, Y) (line 26). The regressor judges teacher samples in eval mode.

    ``settings.val_fraction`` of the rows is held out [I]: after each epoch S_i's J_MAE on
    them is measured, and the states of S_i, G_i and C_i at the best epoch are kept;
    training stops after ``settings.patience`` epochs without improvement, at the latest
    at ``settings.epochs``. S_i's trajectory is exactly that of stand-alone training with
    :func:`wiloc_core.training.fit` (:func:`train_standalone`): the same initial weights,
    rows, batch order and dropout draws, because the teacher, critic and their noise use
    separate random streams.

    Parameters
    ----------
    arch : one of :data:`~wiloc_core.models.fingerprint_nets.ARCHITECTURES`
    domain : Domain
    settings : wiloc_core.training.TrainSettings
        Epoch cap, lr, batch size, early stopping and device (``"auto"``: CUDA if present).
    framework : FrameworkSettings
    seed : int >= 0
        Task seed; its named streams (:func:`wiloc_core.training.derive_seed`) draw the
        validation rows, the weights of S_i (``"init"``), G_i and C_i
        (``"teacher-init"``), the batch order, the dropout and the noise.
    net_sizes : dict, optional
        ``{arch: constructor kwargs}``.
    teacher_input : {"position", "noise"}
        What G_i reads besides its noise (:data:`TEACHER_INPUTS`); S_i does not depend on it.

    Returns
    -------
    Expert
        In eval mode, on ``Expert.device``. ``history`` holds per-epoch means of
        ``"s_mae"`` and ``"val_mae"`` (normalised units) and, with a teacher, ``"g_mae"``,
        ``"sim"``, ``"critic"``.
    """
    start = time.perf_counter()
    _check_teacher_input(teacher_input)
    device = resolve_device(settings.device)
    net = _new_net(arch, domain, seed, net_sizes).to(device)
    teacher = critic = None
    modules = {"net": net}
    if with_teacher:
        with isolated_torch_rng(int(seed), "teacher-init"):
            teacher, critic = SurrogateTeacher(net.z_dim), Critic(net.z_dim)
        teacher.to(device)
        critic.to(device)
        modules.update(teacher=teacher, critic=critic)
        opt_g = torch.optim.Adam(teacher.parameters(), lr=settings.lr, betas=(0.5, 0.9))
        opt_c = torch.optim.Adam(critic.parameters(), lr=settings.lr, betas=(0.5, 0.9))
        noise = torch_generator(int(seed), "noise")
    opt_s = torch.optim.Adam(net.parameters(), lr=settings.lr,
                             weight_decay=settings.weight_decay)
    order = torch_generator(int(seed), "shuffle")
    x, y, x_val, y_val = _split_tensors(domain, settings, int(seed))
    x, y = x.to(device), y.to(device)
    stopper = EarlyStopping.of(settings, modules)
    history = {k: [] for k in (["s_mae", "val_mae", "g_mae", "sim", "critic"] if with_teacher
                               else ["s_mae", "val_mae"])}
    optimizers, generators = {"s": opt_s}, {"order": order}
    if with_teacher:
        optimizers.update(g=opt_g, c=opt_c)
        generators["noise"] = noise
    ckpt = loop_checkpoint("expert").bind(modules=modules, optimizers=optimizers,
                                          generators=generators, stopper=stopper)
    with isolated_torch_rng(int(seed), "dropout", device), \
            progress_bar(int(settings.epochs), f"expert {arch} {domain.name}",
                         settings.progress, unit="epoch") as bar:
        resumed = ckpt.resume()
        if resumed is not None:
            history = resumed["history"]
            bar.update(ckpt.epoch)
        for epoch in ckpt.epochs(int(settings.epochs)):
            net.train()
            sums = dict.fromkeys(history, 0.0)
            n_batches = 0
            for idx in batch_indices(len(x), settings.batch_size, order):
                idx = idx.to(device)
                xb, yb = x[idx], y[idx]
                _, z_e, y_hat = net(xb)
                loss_s = L.j_mae(y_hat, yb)
                if with_teacher:
                    real = z_e.detach()
                    cond = teacher_condition(yb, teacher_input)
                    for _ in range(int(framework.critic_steps)):
                        with torch.no_grad():
                            fake = teacher(cond, _noise(noise, len(yb), teacher.noise_dim,
                                                        device))[1]
                        loss_c = (L.critic_loss(critic(real), critic(fake))
                                  + framework.gp_weight * L.gradient_penalty(critic, real, fake,
                                                                             generator=noise))
                        opt_c.zero_grad()
                        loss_c.backward()
                        opt_c.step()
                    fake = teacher(cond, _noise(noise, len(yb), teacher.noise_dim, device))[1]
                    net.regressor.eval()
                    g_mae = L.j_mae(net.regress(fake), yb)
                    net.regressor.train()
                    sim = L.j_sim(real, fake)
                    loss_g = (betas[1] * g_mae + betas[2] * sim
                              - adversarial_weight * critic(fake).mean())
                    grads = torch.autograd.grad(loss_g, list(teacher.parameters()))
                    for p, g in zip(teacher.parameters(), grads, strict=True):
                        p.grad = g
                    opt_g.step()
                    sums["g_mae"] += g_mae.item()
                    sums["sim"] += sim.item()
                    sums["critic"] += loss_c.item()
                opt_s.zero_grad(set_to_none=True)
                loss_s.backward()
                opt_s.step()
                sums["s_mae"] += loss_s.item()
                n_batches += 1
            net.eval()
            val = None if x_val is None else _val_mae(net, x_val, y_val, settings.batch_size,
                                                      device)
            for k in history:
                history[k].append(sums[k] / max(n_batches, 1))
            history["val_mae"][-1] = math.nan if val is None else val
            bar.update()
            ckpt.end_epoch(epoch, {"history": history},
                           finished=stopper.update(epoch, val) or epoch == int(settings.epochs))
    best_epoch = stopper.restore(len(history["s_mae"]))
    net.eval()
    if teacher is not None:
        teacher.eval()
        critic.eval()
    return Expert(arch, domain.name, net, teacher, critic, history,
                  time.perf_counter() - start + resumed_seconds(), best_epoch,
                  describe_device(device))


def train_standalone(arch: str, domain: Domain, settings: TrainSettings, *, seed: int = 0,
                     net_sizes: dict | None = None) -> tuple[nn.Module, FitResult]:
    """Stand-alone training: the specialized network with J_MAE only (eq. 2, first term),
    by :func:`wiloc_core.training.fit` with early stopping on the held-out rows of
    :func:`holdout`. Returns the network (eval mode, best epoch) and the fit's record."""
    net = _new_net(arch, domain, seed, net_sizes)
    x, y, x_val, y_val = _split_tensors(domain, settings, int(seed))
    result = fit(net, x, y, settings, seed=int(seed), loss=_position_loss,
                 X_val=x_val, y_val=y_val)
    return net, result


# -----------------------------------------------------------------------------------
# Expert distilling (§3.2, eq. 12)
# -----------------------------------------------------------------------------------
def distill(arch: str, domain: Domain, teachers: list[SurrogateTeacher], settings: TrainSettings,
            framework: FrameworkSettings = FrameworkSettings(), *, constraints=("sim", "mi", "fi"),
            seed: int = 0, net_sizes: dict | None = None,
            history: dict | None = None, teacher_input: str = "position") -> nn.Module:
    """Train a fresh target network with eq. 12 against frozen surrogate teachers.

    .. math:: J = \\bar\\lambda_1 J_{MAE} + \\bar\\lambda_2 \\sum_i J_{Sim}(Z^E_S, Z^E_{G_i})
              + \\bar\\lambda_3 J_{MI} + \\bar\\lambda_4 J_{FI}

    Each teacher G_i receives the target batch's normalised positions (and fresh noise),
    so its k-th representation is paired with the k-th target sample. J_MI uses one
    global critic Ψθ (trained jointly, maximising the same estimate); J_FI compares the
    extractor's spectral-norm proxy with each teacher's (eq. 11). J_FI is skipped for
    bAaT (paper Tab. 1 note ++). The network starts from the same initial weights, trains
    on the same rows in the same batch order and stops by the same rule (validation
    J_MAE, ``settings.patience``, cap ``settings.epochs``) as stand-alone training with
    the same seed, so the comparison is paired.

    Parameters
    ----------
    constraints : iterable of {"sim", "mi", "fi"}
    history : dict, optional
        Filled with per-epoch means of ``"mae"``, ``"sim"``, ``"mi"``, ``"fi"`` and
        ``"val_mae"``, and with ``"best_epoch"``.
    teacher_input : {"position", "noise"}
        What the teachers read besides their noise (:data:`TEACHER_INPUTS`): the target
        batch's true positions, or nothing (zeros).

    Returns
    -------
    FingerprintNet in eval mode, holding the best epoch's weights, on the settings' device.
    """
    _check_teacher_input(teacher_input)
    constraints = set(constraints)
    unknown = constraints - {"sim", "mi", "fi"}
    if unknown:
        raise ParameterError("constraints", "a subset of {'sim', 'mi', 'fi'}", sorted(unknown))
    if arch == "bAaT":
        constraints.discard("fi")
    if constraints and not teachers:
        raise ParameterError("teachers", "at least one surrogate teacher", 0)
    device = resolve_device(settings.device)
    net = _new_net(arch, domain, seed, net_sizes)
    for t in teachers:
        if t.extractor[-1].out_features != net.z_dim:
            raise ParameterError("teachers", f"teachers of width {net.z_dim} ({arch})",
                                 t.extractor[-1].out_features)
    net.to(device)
    params = list(net.parameters())
    psi = None
    if "mi" in constraints:
        with isolated_torch_rng(int(seed), "mi-critic-init"):
            psi = MICritic(net.z_dim)
        psi.to(device)
        params += list(psi.parameters())
    for t in teachers:
        t.to(device).eval()
        for p in t.parameters():
            p.requires_grad_(False)
    lam = L.normalised_weights(framework.lambdas)
    opt = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    noise = torch_generator(int(seed), "noise")
    order = torch_generator(int(seed), "shuffle")
    x, y, x_val, y_val = _split_tensors(domain, settings, int(seed))
    x, y = x.to(device), y.to(device)
    modules = {"net": net, **({"psi": psi} if psi is not None else {})}
    stopper = EarlyStopping.of(settings, modules)
    log = history if history is not None else {}
    for k in ("mae", "sim", "mi", "fi", "val_mae"):
        log.setdefault(k, [])
    ckpt = loop_checkpoint("distill").bind(
        modules=modules, optimizers={"opt": opt},
        generators={"order": order, "noise": noise}, stopper=stopper)
    with isolated_torch_rng(int(seed), "dropout", device), \
            progress_bar(int(settings.epochs), f"distill {arch} {domain.name}",
                         settings.progress, unit="epoch") as bar:
        resumed = ckpt.resume()
        if resumed is not None:
            for k, values in resumed["log"].items():
                log[k][:] = values
            bar.update(ckpt.epoch)
        for epoch in ckpt.epochs(int(settings.epochs)):
            net.train()
            sums, n_batches = dict.fromkeys(("mae", "sim", "mi", "fi"), 0.0), 0
            for idx in batch_indices(len(x), settings.batch_size, order):
                idx = idx.to(device)
                loss, terms = distillation_loss(net, psi, teachers, x[idx], y[idx], constraints,
                                                lam, framework.power_iters, noise,
                                                teacher_input=teacher_input)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                for k, v in terms.items():
                    sums[k] += v.item()
                n_batches += 1
            for k in sums:
                log[k].append(sums[k] / max(n_batches, 1) if k in terms else float("nan"))
            net.eval()
            val = None if x_val is None else _val_mae(net, x_val, y_val, settings.batch_size,
                                                      device)
            log["val_mae"].append(math.nan if val is None else val)
            bar.update()
            ckpt.end_epoch(epoch, {"log": {k: log[k] for k in ("mae", "sim", "mi", "fi",
                                                                "val_mae")}},
                           finished=stopper.update(epoch, val) or epoch == int(settings.epochs))
    log["best_epoch"] = stopper.restore(len(log["mae"]))
    return net.eval()


def distillation_loss(net, psi, teachers, xb: torch.Tensor, yb: torch.Tensor, constraints,
                      lam, power_iters: int = 10, generator: torch.Generator | None = None,
                      teacher_input: str = "position"):
    """Eq. 12 on one batch: ``(loss, terms)`` with terms ``{"mae", "sim", "mi", "fi"}``.

    Parameters
    ----------
    net : FingerprintNet
    psi : MICritic or None (needed when "mi" in constraints)
    teachers : list of frozen SurrogateTeacher
    xb : [B, n_aps] dBm; yb : [B, 2] normalised positions
    constraints : set of {"sim", "mi", "fi"}
    lam : 4 normalised weights (λ̄1..λ̄4)
    generator : CPU torch.Generator for the teachers' noise, shuffles and power iteration
        (draws are made on the CPU and moved to the batch's device)
    teacher_input : {"position", "noise"}
        What the teachers read besides their noise (:func:`teacher_condition`).
    """
    z_f, z_e, y_hat = net(xb)
    cond = teacher_condition(yb, teacher_input)
    with torch.no_grad():
        modeled = [t(cond, _noise(generator, len(yb), t.noise_dim, yb.device))
                   for t in teachers] if constraints else []
    terms = {"mae": L.j_mae(y_hat, yb)}
    if "sim" in constraints:
        terms["sim"] = sum(L.j_sim(z_e, zg_e) for _, zg_e in modeled)
    if "mi" in constraints:
        terms["mi"] = L.j_mi(psi, z_e, [zg_e for _, zg_e in modeled], generator=generator)
    if "fi" in constraints:
        terms["fi"] = L.j_fi((z_f, z_e), modeled, n_iter=power_iters, generator=generator)
    weight = {"mae": lam[0], "sim": lam[1], "mi": lam[2], "fi": lam[3]}
    return sum(weight[k] * v for k, v in terms.items()), terms


# -----------------------------------------------------------------------------------
# Transfer baselines (*) and (**), after Klus et al. (ref. [17])
# -----------------------------------------------------------------------------------
class EncodedNet(nn.Module):
    """A shared specialized network behind per-dataset input encoders.

    ``encoders[name]``: RssNormalizer + Dense(n_aps → n_common) + sigmoid, giving every
    dataset the same input width; ``body``: the specialized network built for
    ``n_common`` inputs, used without its own RSS normaliser.
    """

    def __init__(self, arch: str, n_common: int = 256, net_sizes: dict | None = None):
        super().__init__()
        self.arch, self.n_common = arch, int(n_common)
        self.body = build_net(arch, self.n_common, **(net_sizes or {}).get(arch, {}))
        self.encoders = nn.ModuleDict()

    def add_encoder(self, name: str, n_aps: int) -> None:
        self.encoders[name] = nn.Sequential(RssNormalizer("linear", -104.0),
                                            nn.Linear(n_aps, self.n_common), nn.Sigmoid())

    def forward(self, name: str, rss: torch.Tensor) -> torch.Tensor:
        code = self.encoders[name](rss)
        z_f = self.body.framer[1:](code)
        return self.body.regress(self.body.extract(z_f))

    def predict_xy(self, name: str, domain: Domain, batch_size: int = 1024) -> np.ndarray:
        """Test positions of ``domain`` in metres, float64 [m, 2]."""
        y = predict(_Through(self, name), np.array(domain.x_test), batch_size=batch_size)
        return domain.offset + domain.scale * y.astype(np.float64)


class _Through(nn.Module):
    """``EncodedNet`` seen through one dataset's encoder: ``rss -> y_norm`` (for ``fit``)."""

    def __init__(self, model: EncodedNet, name: str):
        super().__init__()
        self.model, self.name = model, name

    def forward(self, rss):
        return self.model(self.name, rss)


def _fit_one(model: EncodedNet, domain: Domain, settings: TrainSettings, seed: int) -> FitResult:
    """One stage on one dataset: :func:`wiloc_core.training.fit` with early stopping on
    the dataset's held-out rows (:func:`holdout`)."""
    x, y, x_val, y_val = _split_tensors(domain, settings, seed)
    return fit(_Through(model, domain.name), x, y, settings, seed=seed, loss=L.j_mae,
               X_val=x_val, y_val=y_val)


def _fit_jointly(model: EncodedNet, domains: list[Domain], settings: TrainSettings,
                 seed: int) -> int:
    """Collective pre-training: each step sums J_MAE over one batch of every domain, for
    at most ``settings.epochs`` passes over the largest one.

    With ``settings.patience`` set and a validation share, every domain holds out rows
    (:func:`holdout`, as :func:`_fit_one` does) and training stops once the mean of the
    domains' validation J_MAE has not improved for ``patience`` epochs, keeping the best
    epoch's weights. Returns that epoch (the last one without validation).
    """
    device = resolve_device(settings.device)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr,
                           weight_decay=settings.weight_decay)
    # without early stopping every row trains, as before the rule existed
    held_out = settings if settings.patience is not None else dataclasses.replace(
        settings, val_fraction=0.0)
    splits = [_split_tensors(d, held_out, seed) for d in domains]
    data = [(x.to(device), y.to(device)) for x, y, _, _ in splits]
    validate = settings.patience is not None and all(s[2] is not None for s in splits)
    stopper = EarlyStopping.of(settings, {"model": model})
    order = torch_generator(seed, "shuffle-joint")
    ckpt = loop_checkpoint("joint").bind(modules={"model": model}, optimizers={"opt": opt},
                                         generators={"order": order}, stopper=stopper)
    with isolated_torch_rng(seed, "dropout-joint", device):
        ckpt.resume()
        for epoch in ckpt.epochs(int(settings.epochs)):
            model.train()
            iters = [batch_indices(len(x), settings.batch_size, order) for x, _ in data]
            for step in range(max(len(it) for it in iters)):
                loss = 0.0
                for d, (x, y), it in zip(domains, data, iters, strict=True):
                    idx = it[step % len(it)].to(device)
                    loss = loss + L.j_mae(model(d.name, x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            model.eval()
            val = (float(np.mean([_val_mae(_Through(model, d.name), s[2], s[3],
                                           settings.batch_size, device, L.j_mae)
                                  for d, s in zip(domains, splits, strict=True)]))
                   if validate else None)
            ckpt.end_epoch(epoch, {},
                           finished=stopper.update(epoch, val) or epoch == int(settings.epochs))
    model.eval()
    return stopper.restore(ckpt.epoch)


def _encoded(arch, sources, target, n_common, seed, net_sizes):
    def make():
        model = EncodedNet(arch, n_common, net_sizes)
        for d in [*sources, target]:
            model.add_encoder(d.name, d.n_aps)
        return model
    return seeded_init(make, int(seed))


def sequential_transfer(arch: str, sources: list[Domain], target: Domain,
                        settings_of: Callable[[str], TrainSettings], *, n_common: int = 256,
                        seed: int = 0, net_sizes: dict | None = None) -> np.ndarray:
    """(*) Sequential transfer: pre-train on each source in turn, then fine-tune on the target.

    Every stage trains all weights (shared body, regressor and that dataset's encoder)
    with J_MAE, by :func:`wiloc_core.training.fit` with early stopping on the dataset's
    held-out rows and its epoch count as the cap. Returns the target test errors in metres.
    """
    model = _encoded(arch, sources, target, n_common, seed, net_sizes)
    for d in [*sources, target]:
        _fit_one(model, d, settings_of(d.name), int(seed))
    return positioning_errors(model.predict_xy(target.name, target), target.xy_test)


def collective_transfer(arch: str, sources: list[Domain], target: Domain,
                        settings_of: Callable[[str], TrainSettings], *, n_common: int = 256,
                        seed: int = 0, net_sizes: dict | None = None,
                        pretrain_stopping: bool = False) -> np.ndarray:
    """(**) Collective transfer (Klus et al.): pre-train on all sources at once, each
    through its own encoder (every step sums one batch per source, for the largest
    source epoch count), then fine-tune on the target (as in :func:`sequential_transfer`).

    ``pretrain_stopping`` stops the joint pre-training early on the sources' held-out rows
    (:func:`_fit_jointly`), with the patience of the source whose passes count as epochs
    (the largest); without it the pre-training runs every epoch. Returns target errors
    in metres."""
    model = _encoded(arch, sources, target, n_common, seed, net_sizes)
    largest = max(sources, key=lambda d: d.n_train)
    epochs = max(settings_of(d.name).epochs for d in sources)
    patience = settings_of(largest.name).patience if pretrain_stopping else None
    joint = dataclasses.replace(settings_of(sources[0].name), epochs=epochs, patience=patience)
    _fit_jointly(model, sources, joint, int(seed))
    _fit_one(model, target, settings_of(target.name), int(seed))
    return positioning_errors(model.predict_xy(target.name, target), target.xy_test)


def evaluate(net, domain: Domain) -> np.ndarray:
    """Test-set 2-D errors in metres, float64 [m]."""
    if domain.x_test is None:
        raise ParameterError("domain", f"a dataset with a test split ({domain.name} has none)")
    return positioning_errors(net.cpu().predict_xy(domain.x_test), domain.xy_test)


# -----------------------------------------------------------------------------------
# Tasks: one network each, pure functions of their parameters and data (for run_sweep)
# -----------------------------------------------------------------------------------
def _state(module: nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def expert_task(domain: Domain, *, arch: str, settings: TrainSettings,
                framework: FrameworkSettings, seed: int, net_sizes: dict | None = None,
                teacher_input: str = "position") -> dict:
    """Expert training on one source (:func:`train_expert`) as a sweep task.

    ``teacher_input`` is one of :data:`TEACHER_INPUTS`; the drivers pass it only when it
    is not ``"position"``, so the default's cache keys are those of earlier versions.

    Returns
    -------
    dict
        ``"teacher"`` (``{"config", "state"}``: the surrogate teacher), ``"history"``,
        ``"best_epoch"``, ``"seconds"`` and ``"device"``; for a domain with a test split,
        also ``"errors"`` (float64 [m], metres): the test errors of the expert's network
        S_i, which Alg. 2 trains with J_MAE alone, so that it is the domain's stand-alone
        network (:func:`train_standalone` with the same seed gives the same weights).
    """
    expert = train_expert(arch, domain, settings, framework, seed=seed, net_sizes=net_sizes,
                          teacher_input=teacher_input)
    out = {"teacher": {"config": dict(expert.teacher.config), "state": _state(expert.teacher)},
           "history": expert.history, "best_epoch": expert.best_epoch,
           "seconds": expert.seconds, "device": expert.device}
    if domain.x_test is not None:
        out["errors"] = evaluate(expert.net, domain)
    return out


def standalone_task(domain: Domain, *, arch: str, settings: TrainSettings, seed: int,
                    net_sizes: dict | None = None) -> dict:
    """Stand-alone training (:func:`train_standalone`) as a sweep task.

    Returns
    -------
    dict
        ``"errors"`` (float64 [m], metres, on the domain's test set), ``"history"``,
        ``"best_epoch"``, ``"seconds"`` and ``"device"``.
    """
    start = time.perf_counter()
    net, result = train_standalone(arch, domain, settings, seed=seed, net_sizes=net_sizes)
    device = describe_device(result.device)
    return {"errors": evaluate(net, domain), "history": result.history,
            "best_epoch": result.best_epoch,
            "seconds": time.perf_counter() - start + resumed_seconds(), "device": device}


def _teacher(spec: dict) -> SurrogateTeacher:
    teacher = SurrogateTeacher(**spec["config"])
    teacher.load_state_dict(spec["state"])
    return teacher.eval()


def distill_task(data: dict, *, arch: str, settings: TrainSettings, framework: FrameworkSettings,
                 constraints: list, seed: int, net_sizes: dict | None = None,
                 teacher_input: str = "position") -> dict:
    """Expert distilling (:func:`distill`) as a sweep task (``teacher_input``: as in
    :func:`expert_task`).

    Parameters
    ----------
    data : dict
        ``"domain"``: the target Domain; ``"teachers"``: list of ``expert_task(...)["teacher"]``.

    Returns
    -------
    dict
        ``"errors"`` (float64 [m], metres), ``"history"``, ``"best_epoch"``, ``"seconds"``,
        ``"device"``.
    """
    start = time.perf_counter()
    history: dict = {}
    net = distill(arch, data["domain"], [_teacher(t) for t in data["teachers"]], settings,
                  framework, constraints=constraints, seed=seed, net_sizes=net_sizes,
                  history=history, teacher_input=teacher_input)
    device = describe_device(next(net.parameters()).device)
    best = history.pop("best_epoch")
    return {"errors": evaluate(net, data["domain"]), "history": history, "best_epoch": best,
            "seconds": time.perf_counter() - start + resumed_seconds(), "device": device}


def transfer_task(data: dict, *, kind: str, arch: str, settings: dict, n_common: int, seed: int,
                  net_sizes: dict | None = None, pretrain_stopping: bool = False) -> dict:
    """A transfer baseline as a sweep task: ``kind`` ``"*"`` (:func:`sequential_transfer`)
    or ``"**"`` (:func:`collective_transfer`, with ``pretrain_stopping``).

    Parameters
    ----------
    data : dict
        ``"sources"``: list of Domain; ``"target"``: Domain.
    settings : dict
        Dataset name -> TrainSettings.

    Returns
    -------
    dict
        ``"errors"`` (float64 [m], metres), ``"seconds"``, ``"device"``.
    """
    if kind not in ("*", "**"):
        raise ParameterError("kind", "'*' or '**'", kind)
    start = time.perf_counter()
    options = {"pretrain_stopping": pretrain_stopping} if kind == "**" else {}
    method = sequential_transfer if kind == "*" else collective_transfer
    errors = method(arch, data["sources"], data["target"], settings.__getitem__,
                    n_common=n_common, seed=seed, net_sizes=net_sizes, **options)
    device = describe_device(settings[data["target"].name].device)
    return {"errors": errors, "seconds": time.perf_counter() - start + resumed_seconds(),
            "device": device}


# -----------------------------------------------------------------------------------
# Drivers used by the notebooks
# -----------------------------------------------------------------------------------
def settings_from(cfg: dict, device: str = "auto") -> Callable[[str], TrainSettings]:
    """``name -> TrainSettings`` from a profile dict: ``epochs`` (the cap) and ``lr`` per
    dataset, ``batch_size``, and early stopping (``patience``, one number or one per
    dataset, in epochs; ``val_fraction``)."""
    def of(name: str) -> TrainSettings:
        return TrainSettings(epochs=int(cfg["epochs"][name]), lr=float(cfg["lr"][name]),
                             batch_size=int(cfg["batch_size"]),
                             patience=per_dataset(cfg.get("patience"), name, "patience"),
                             val_fraction=float(cfg.get("val_fraction", 0.0)),
                             device=device, progress=False)
    return of


def per_dataset(value, name: str, setting: str):
    """``value`` itself, or ``value[name]`` when the setting is given per dataset."""
    if not isinstance(value, dict):
        return value
    if name not in value:
        raise ParameterError(setting, f"a value for dataset '{name}'", sorted(value))
    return value[name]


def seeds_of(cfg: dict, model: str) -> int:
    """How many seeds ``model`` is trained with (``cfg["seeds"]``: one number, or one per
    model; missing: 1)."""
    value = cfg.get("seeds", 1)
    n = value.get(model, 1) if isinstance(value, dict) else value
    if int(n) < 1:
        raise ParameterError("seeds", "an integer >= 1 (or {model: integer >= 1})", value)
    return int(n)


def variants_of(variants, model: str) -> tuple[str, ...]:
    """The Table 1 variants of ``model``: ``variants`` itself, or ``variants[model]`` when
    given per model (a model it does not name gets none)."""
    chosen = variants.get(model, ()) if isinstance(variants, dict) else variants
    bad = [v for v in chosen if v not in TABLE1_VARIANTS]
    if bad:
        raise ParameterError("variants", f"names from {TABLE1_VARIANTS}", bad)
    return tuple(chosen)


def framework_from(cfg: dict) -> FrameworkSettings:
    """The framework's settings from a profile dict."""
    return FrameworkSettings(critic_steps=int(cfg["critic_steps"]),
                             gp_weight=float(cfg["gp_weight"]),
                             lambdas=tuple(cfg["lambdas"]), power_iters=int(cfg["power_iters"]))


@dataclass
class FrameworkRun:
    """Errors of one experiment: ``errors[(target, model, variant)]`` in metres.

    ``variant`` is ``"standalone"``, ``"+++"`` (``"++"`` for bAaT), ``"*"``, ``"**"``,
    or an ablation / source / fraction label. ``seconds`` holds each network's training
    time (s, as measured when it was computed, also when it now comes from the cache);
    ``histories`` their per-epoch records; ``devices`` the devices they trained on;
    ``keys`` their task keys (:meth:`wiloc_core.experiment.Task.key`); ``sweeps`` one
    ``{"backend", "computed", "hits", "seconds"}`` per sweep run. All but ``errors``,
    ``seed_errors`` and ``sweeps`` are keyed by the network's label (``"expert DNN
    UJI1"``, ``"+++ DNN TUT3"``, ``"+++ DNN TUT3 seed 1"``).

    With several seeds (Table 1), ``seed_errors[key]`` holds one error array per seed in
    seed order, and ``errors[key]`` their concatenation (so its mean is the mean of the
    seeds' MAE: every seed sees the same test rows).
    """

    errors: dict = field(default_factory=dict)
    seed_errors: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)
    devices: set = field(default_factory=set)
    keys: dict = field(default_factory=dict)
    sweeps: list = field(default_factory=list)

    def seconds_beyond(self, *earlier: FrameworkRun) -> float:
        """Training seconds of this run's distinct networks that none of ``earlier`` holds:
        what this experiment adds when it shares a cache with them."""
        seen = {key for run in earlier for key in run.keys.values()}
        own = {key: self.seconds[label] for label, key in self.keys.items() if key not in seen}
        return float(sum(own.values()))

    def row_label(self, model: str, variant: str) -> str:
        """Paper-style row name: ``DNN``, ``DNN*``, ``DNN+++``, ``bAaT++``."""
        return model if variant == "standalone" else f"{model}{variant}"

    @property
    def computed(self) -> int:
        """Networks trained in this run (the others came from the cache)."""
        return sum(s["computed"] for s in self.sweeps)


class SeedKey(NamedTuple):
    """Error key of one seed of a Table 1 network: ``key`` = (target, model, variant)."""

    key: tuple
    seed: int


#: The variants of Table 1: stand-alone, fully enhanced (``+++``; ``++`` for bAaT),
#: sequential (*) and collective (**) transfer.
TABLE1_VARIANTS = ("standalone", "+++", "*", "**")


def full_variant(model: str) -> str:
    """The fully enhanced variant's suffix: ``+++``, or ``++`` for bAaT (no J_FI)."""
    return "++" if model == "bAaT" else "+++"


def _check_models(models):
    bad = [m for m in models if m not in ARCHITECTURES]
    if bad:
        raise ParameterError("models", f"names from {ARCHITECTURES}", bad)


class _Plan:
    """Tasks of one driver, run as sweeps through :func:`wiloc_core.experiment.run_sweep`.

    Each network is one task; a sweep's identical tasks (the same expert for two
    targets) run once, and with a cache a task already run by any earlier sweep (Table
    2's networks reused by Table 3) costs nothing.
    """

    def __init__(self, models, cfg, seed, execution: dict | None):
        _check_models(models)
        self.cfg, self.seed = cfg, int(seed)
        execution = dict(execution or {})
        device = execution.pop("device", "auto")
        self.of, self.framework = settings_from(cfg, device), framework_from(cfg)
        self.net_sizes = cfg.get("net_sizes")
        # only a non-default reading enters the task parameters (and the cache key): the
        # default's keys stay those of runs made before the setting existed
        self.teacher_input = _check_teacher_input(cfg.get("teacher_input", "position"))
        self.reading = ({} if self.teacher_input == "position"
                        else {"teacher_input": self.teacher_input})
        self.execution = {"n_jobs": 1, "scheduler": None, "cache": None, "progress": True,
                          **execution}
        self.run = FrameworkRun()
        self.done: dict = {}
        self.expert_of: dict = {}  # expert label -> (model, source, seed)
        self.by_seed: dict = {}    # Table 1 error key -> {seed: errors}

    def sweep(self, labelled: list[tuple[str, Task]]) -> dict:
        """Run the tasks (one sweep); label -> result. Records seconds, histories, devices."""
        if not labelled:
            return {}
        results = run_sweep([t for _, t in labelled], **self.execution)
        self.run.sweeps.append({"backend": results.backend, "computed": results.computed,
                                "hits": results.hits, "seconds": results.seconds})
        for (label, task), value in zip(labelled, results, strict=True):
            self.done[label] = value
            self.run.keys[label] = task.key()
            self.run.seconds[label] = float(value["seconds"])
            self.run.devices.add(value["device"])
            if "history" in value:
                self.run.histories[label] = value["history"]
        return {label: self.done[label] for label, _ in labelled}

    def collect(self, keyed: list, also: list = (), first: list = ()) -> dict:
        """Sweep the tasks ``also`` and those of ``keyed`` and ``first`` (``(error key,
        (label, task))`` pairs) together, ``first`` at the head of the queue, and file
        each keyed result's test errors under its key (for a 4-part key of Table 4, the
        MAE appended to the key's list of rounds; for a :class:`SeedKey` of Table 1, the
        seed's errors among those of the key's seeds).

        Returns
        -------
        dict label -> result, for every task of the sweep.
        """
        # the longer networks first (the stand-alone ones last): a shorter sweep on few workers
        keyed = sorted(keyed, key=lambda pair: pair[1][0].startswith("standalone"))
        done = self.sweep([*(task for _, task in first), *also, *(task for _, task in keyed)])
        keyed = [*first, *keyed]
        for key, (label, _) in keyed:
            errors = self.done[label]["errors"]
            if isinstance(key, SeedKey):
                self.by_seed.setdefault(key.key, {})[key.seed] = errors
                ordered = [self.by_seed[key.key][s] for s in sorted(self.by_seed[key.key])]
                self.run.seed_errors[key.key] = ordered
                self.run.errors[key.key] = np.concatenate(ordered)
            elif len(key) == 4:
                self.run.errors.setdefault(key, []).append(float(errors.mean()))
            else:
                self.run.errors[key] = errors
        return done

    def _seed(self, seed) -> tuple[int, str]:
        """The task seed (the run's seed when None) and its label suffix ("" for the run's)."""
        seed = self.seed if seed is None else int(seed)
        return seed, ("" if seed == self.seed else f" seed {seed}")

    def expert(self, model, domain: Domain, seed=None) -> tuple[str, Task]:
        seed, suffix = self._seed(seed)
        label = f"expert {model} {domain.name}{suffix}"
        self.expert_of[label] = (model, domain.name, seed)
        return label, Task.create(expert_task, {
            "arch": model, "settings": self.of(domain.name), "framework": self.framework,
            "seed": seed, "net_sizes": self.net_sizes, **self.reading}, data=domain,
            name=label)

    def standalone(self, model, domain: Domain, seed=None, label=None) -> tuple[str, Task]:
        seed, suffix = self._seed(seed)
        label = label or f"standalone {model} {domain.name}{suffix}"
        return label, Task.create(standalone_task, {
            "arch": model, "settings": self.of(domain.name),
            "seed": seed, "net_sizes": self.net_sizes},
            data=domain, name=label)

    def distill(self, model, domain: Domain, teachers: list, constraints, label: str,
                seed=None) -> tuple[str, Task]:
        seed, _ = self._seed(seed)
        return label, Task.create(distill_task, {
            "arch": model, "settings": self.of(domain.name), "framework": self.framework,
            "constraints": sorted(constraints), "seed": seed,
            "net_sizes": self.net_sizes, **self.reading},
            data={"domain": domain, "teachers": teachers}, name=label)

    def transfer(self, kind, model, sources: list[Domain], target: Domain) -> tuple[str, Task]:
        label = f"{kind} {model} {target.name}"
        names = [d.name for d in [*sources, target]]
        # (**)'s joint pre-training stops early like every other training (runs made
        # before it did, without the key, pre-trained for every epoch)
        stopping = {"pretrain_stopping": True} if kind == "**" else {}
        return label, Task.create(transfer_task, {
            "kind": kind, "arch": model, "settings": {n: self.of(n) for n in names},
            "n_common": int(self.cfg["n_common"]), "seed": self.seed,
            "net_sizes": self.net_sizes, **stopping},
            data={"sources": sources, "target": target}, name=label)

    def experts(self, models, domains, names_of: dict, seeds=(None,)) -> list[tuple[str, Task]]:
        """Expert tasks of every (model, source) any target needs, once each per seed."""
        wanted = sorted({(m, s) for m in models for names in names_of.values() for s in names})
        return [self.expert(m, domains[s], seed) for seed in seeds for m, s in wanted]

    def scores_network(self, expert: Task) -> bool:
        """Whether this expert task's result carries its network's test errors (so that
        it stands for the domain's stand-alone network): true unless the cache holds a
        result of it from before experts reported them."""
        cache = self.execution.get("cache")
        if cache is None:
            return True
        cache = cache if isinstance(cache, Cache) else Cache(cache)
        if expert not in cache:
            return True
        value = cache.load(expert)
        return isinstance(value, dict) and "errors" in value

    def teachers(self, done: dict) -> dict:
        """(model, source) -> teacher spec of the run's seed, and (model, source, seed) ->
        teacher spec of every seed, from a sweep's results."""
        found = {}
        for label, value in done.items():
            if label in self.expert_of:
                model, source, seed = self.expert_of[label]
                found[(model, source, seed)] = value["teacher"]
                if seed == self.seed:
                    found[(model, source)] = value["teacher"]
        return found


_EXECUTION_DOC = """
    n_jobs, scheduler, cache, progress, device
        How the networks are trained (:func:`wiloc_core.experiment.run_sweep`): ``n_jobs``
        local worker processes (1: serially here), a Dask ``scheduler`` address (None:
        ``$WILOC_SCHEDULER``), a result cache (a folder or
        :class:`~wiloc_core.experiment.Cache`; None keeps nothing), a task progress bar,
        and the torch device (``"auto"``: CUDA when present). None of them changes a
        number (on the CPU).
"""


def run_table1(domains: dict[str, Domain], targets, sources: dict, models, cfg: dict, *,
               seed: int = 0, variants=TABLE1_VARIANTS, n_jobs: int = 1,
               scheduler: str | None = None, cache=None, progress: bool | None = True,
               device: str = "auto") -> FrameworkRun:
    """Table 1 / Fig. 2: every model stand-alone, fully enhanced, (*) and (**) per target.

    Parameters
    ----------
    domains : dict name -> Domain
        Every target and source.
    targets : list of str
    sources : dict target -> list of source names
    models : list of architecture names
    cfg : dict
        Profile settings (``epochs``, ``lr`` per dataset, ``batch_size``, ``patience``,
        ``val_fraction``, ``teacher_input`` (default ``"position"``), ``seeds`` (one
        number or one per model, default 1), ...).
    seed : int >= 0
        The first seed; a model with n seeds trains with ``seed`` … ``seed + n - 1``
        (experts, stand-alone and distilled networks alike; each seed distils from its
        own experts). The transfer baselines (*, **) train with ``seed`` only.
    variants : subset of ("standalone", "+++", "*", "**"), or a dict model -> subset
        ``"+++"`` means the fully enhanced version (``++`` for bAaT).

    The networks run in order of what a reader needs first, so that a run cut short
    (a full run spans several sittings) has finished the most important part: (1) every
    model's stand-alone and fully enhanced networks for the first seed, the models in
    the order given (a cheap model first gives early results); (2) the further seeds, one
    round of every model at a time; (3) the transfer baselines (*, **). A step (one seed
    of one model) trains its experts with its stand-alone networks, then distils its
    fully enhanced networks from those experts; the distillation runs in one sweep with
    the next step's experts and stand-alone networks, queued behind it, so that a worker
    done with a short network takes up the next step instead of waiting for the longest
    one. The cache keeps every finished network, and the numbers do not depend on the
    order.
    """
    plan = _Plan(models, cfg, seed, dict(n_jobs=n_jobs, scheduler=scheduler, cache=cache,
                                         progress=progress, device=device))
    chosen = {model: variants_of(variants, model) for model in models}
    seeds = {model: [int(seed) + i for i in range(seeds_of(cfg, model))] for model in models}
    wanted = {t: sources[t] for t in targets}
    carry: list = []   # the previous step's distillations, not yet run
    for rank in range(max(len(s) for s in seeds.values())):
        for model in models:
            if rank < len(seeds[model]):
                carry = _table1_step(plan, model, seeds[model][rank], chosen[model], domains,
                                     targets, sources, wanted, carry)
    transfers = [((t, model, kind), plan.transfer(kind, model,
                                                 [domains[src] for src in sources[t]],
                                                 domains[t]))
                 for model in models for t in targets for kind in ("*", "**")
                 if kind in chosen[model]]
    plan.collect([*carry, *transfers])
    return plan.run


def _table1_step(plan: _Plan, model: str, s: int, chosen, domains, targets, sources,
                 wanted, carry: list) -> list:
    """One seed of one model in Table 1: a sweep of the previous step's distillations
    (``carry``, first in the queue), then this step's experts and stand-alone networks
    (which need no teacher); returns this step's fully enhanced networks on every
    target, distilled from those experts, for the next sweep."""
    enhanced = "+++" in chosen
    experts = plan.experts([model], domains, wanted, [s]) if enhanced else []
    twins = {plan.expert_of[label][1]: (label, task) for label, task in experts
             if plan.scores_network(task)}
    # a target that is also a source: its expert's network S_i is its stand-alone network
    alone = [(SeedKey((t, model, "standalone"), s),
              twins[t] if t in twins else plan.standalone(model, domains[t], seed=s))
             for t in targets] if "standalone" in chosen else []
    teachers = plan.teachers(plan.collect(alone, also=experts, first=carry))
    if not enhanced:
        return []
    full, suffix = full_variant(model), plan._seed(s)[1]
    return [(SeedKey((t, model, full), s), plan.distill(
        model, domains[t], [teachers[(model, src, s)] for src in sources[t]],
        CONSTRAINT_SETS[full], f"{full} {model} {t}{suffix}", seed=s)) for t in targets]


run_table1.__doc__ += _EXECUTION_DOC


def run_ablation(domains, targets, sources, models, cfg, *, seed=0, rows=tuple(CONSTRAINT_SETS),
                 n_jobs: int = 1, scheduler: str | None = None, cache=None,
                 progress: bool | None = True, device: str = "auto") -> FrameworkRun:
    """Table 2: stand-alone and each constraint set of :data:`CONSTRAINT_SETS` per model
    (bAaT skips ``+++``, identical to ``++`` without J_FI)."""
    plan = _Plan(models, cfg, seed, dict(n_jobs=n_jobs, scheduler=scheduler, cache=cache,
                                         progress=progress, device=device))
    teachers = plan.teachers(plan.sweep(plan.experts(models, domains,
                                                     {t: sources[t] for t in targets})))
    second = []
    for model in models:
        for t in targets:
            for row in rows:
                if model == "bAaT" and row == "+++":
                    continue
                second.append(((t, model, row), plan.distill(
                    model, domains[t], [teachers[(model, s)] for s in sources[t]],
                    CONSTRAINT_SETS[row], f"{row} {model} {t}")))
            second.append(((t, model, "standalone"), plan.standalone(model, domains[t])))
    plan.collect(second)
    return plan.run


run_ablation.__doc__ += _EXECUTION_DOC


def run_source_relevance(domains, targets, sources, models, cfg, *, seed=0, n_jobs: int = 1,
                         scheduler: str | None = None, cache=None, progress: bool | None = True,
                         device: str = "auto") -> FrameworkRun:
    """Table 3: the fully enhanced model with each single source, and with all of them.

    Variants are ``"[<source>]"`` and ``"[all]"``. With the cache of Table 2, the
    stand-alone networks, the experts and an ``[all]`` row equal to Table 2's ``+++`` are
    not trained again. Two sweeps (as in every driver): the experts, then the distilled
    and stand-alone networks.
    """
    plan = _Plan(models, cfg, seed, dict(n_jobs=n_jobs, scheduler=scheduler, cache=cache,
                                         progress=progress, device=device))
    teachers = plan.teachers(plan.sweep(plan.experts(models, domains,
                                                     {t: sources[t] for t in targets})))
    second = []
    for model in models:
        for t in targets:
            for chosen in [[s] for s in sources[t]] + [list(sources[t])]:
                variant = f"[{chosen[0]}]" if len(chosen) == 1 else "[all]"
                second.append(((t, model, variant), plan.distill(
                    model, domains[t], [teachers[(model, s)] for s in chosen],
                    CONSTRAINT_SETS[full_variant(model)], f"{variant} {model} {t}")))
            second.append(((t, model, "standalone"), plan.standalone(model, domains[t])))
    plan.collect(second)
    return plan.run


run_source_relevance.__doc__ += _EXECUTION_DOC


def run_target_fraction(datasets: dict, source_domains: dict, cases, sources, models, cfg, *,
                        seed=0, rounds: int = 1, n_jobs: int = 1, scheduler: str | None = None,
                        cache=None, progress: bool | None = True,
                        device: str = "auto") -> FrameworkRun:
    """Table 4: stand-alone vs fully enhanced with only a fraction of the target's training set.

    Parameters
    ----------
    datasets : dict name -> FingerprintDataset
        The targets (subsampled here, round by round).
    source_domains : dict name -> Domain
        Sources (their teachers are trained once and reused in every round).
    cases : list of (target name, fraction)
    rounds : int
        Repetitions with different random subsets (rows drawn with seed + 1000 + round,
        networks seeded with seed + round).

    Returns
    -------
    FrameworkRun
        ``errors[(target, fraction, model, variant)]``: list of MAE (m), one per round.
    """
    plan = _Plan(models, cfg, seed, dict(n_jobs=n_jobs, scheduler=scheduler, cache=cache,
                                         progress=progress, device=device))
    teachers = plan.teachers(plan.sweep(plan.experts(models, source_domains,
                                                     {t: sources[t] for t, _ in cases})))
    second = []
    for model in models:
        full = full_variant(model)
        for target, fraction in cases:
            for r in range(int(rounds)):
                dom = make_domain(datasets[target], fraction=fraction, seed=int(seed) + 1000 + r)
                where = f"{model} {target} {fraction:g} round {r}"
                second.append(((target, fraction, model, full), plan.distill(
                    model, dom, [teachers[(model, s)] for s in sources[target]],
                    CONSTRAINT_SETS[full], f"{full} {where}", seed=int(seed) + r)))
                second.append(((target, fraction, model, "standalone"), plan.standalone(
                    model, dom, seed=int(seed) + r, label=f"standalone {where}")))
    plan.collect(second)
    return plan.run


run_target_fraction.__doc__ += _EXECUTION_DOC

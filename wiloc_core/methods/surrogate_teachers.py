"""Multi-surrogate-teacher knowledge transfer (paper 001): training and experiment drivers.

The chapter notebooks only call this module. The pieces, in the paper's order:

1. **Data** (:func:`make_domain`): raw RSS in dBm (the networks normalise it in their
   Framer) and positions in a per-dataset isotropic frame
   (:func:`coordinate_frame`: subtract the training minimum, divide by the longest
   side, so positions lie in [0, 1] and distances stay proportional to metres).
2. **Expert training** (Alg. 2, :func:`train_expert`): on each source dataset a
   specialized network S_i (updated with J_MAE only) and a surrogate teacher G_i trained
   as a WGAN-GP generator against a critic C_i on Z^E_{S_i}, with J_MAE through S_i's
   regressor (eq. 2) and J_Sim (eq. 1). Without the teacher this *is* stand-alone
   training (:func:`train_standalone`): the specialized network follows the very same
   trajectory, because the teacher, critic and their noise use separate random streams.
3. **Expert distilling** (§3.2, :func:`distill`): a fresh target network trained with
   eq. 12, λ̄1 J_MAE + λ̄2 J_Sim + λ̄3 J_MI + λ̄4 J_FI, against the frozen teachers.
   bAaT never receives J_FI.
4. **Transfer baselines** of Table 1 (:func:`sequential_transfer` (*) and
   :func:`collective_transfer` (**)), after Klus et al. (ref. [17]): per-dataset
   encoders map each dataset's anchors to a common width, a shared network is
   pre-trained on the sources (one after the other, or all together), then fine-tuned
   on the target with a new target encoder.
5. **Drivers** for the notebooks (:func:`run_table1`, :func:`run_ablation`,
   :func:`run_source_relevance`, :func:`run_target_fraction`), which return test-set
   errors in metres per (target, model, variant).

Choices the paper leaves open are marked [I] in the docstrings and collected in
:data:`RECONSTRUCTION_NOTES`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from wiloc_core.errors import ParameterError
from wiloc_core.methods import surrogate_losses as L
from wiloc_core.metrics import positioning_errors
from wiloc_core.models.fingerprint_nets import ARCHITECTURES, RssNormalizer, build_net
from wiloc_core.models.surrogate import Critic, MICritic, SurrogateTeacher
from wiloc_core.seeding import rng

__all__ = [
    "RECONSTRUCTION_NOTES",
    "CONSTRAINT_SETS",
    "Domain",
    "TrainSettings",
    "coordinate_frame",
    "make_domain",
    "train_expert",
    "train_standalone",
    "distill",
    "distillation_loss",
    "sequential_transfer",
    "collective_transfer",
    "evaluate",
    "FrameworkRun",
    "run_table1",
    "run_ablation",
    "run_source_relevance",
    "run_target_fraction",
]

#: Where this implementation had to choose because the paper does not say.
RECONSTRUCTION_NOTES = {
    "teacher input": "teachers are conditioned on the sample's normalised position plus "
                     "16-d noise (Alg. 2 writes G(Noise), but eqs. 1, 2 and 4 pair the k-th "
                     "generated representation with sample k)",
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
}

#: Constraint sets of Table 2 (ablation) by row suffix.
CONSTRAINT_SETS = {
    "+": ("sim",),
    "⋆": ("mi",),
    "++": ("sim", "mi"),
    "+++": ("sim", "mi", "fi"),
}


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


@dataclass
class TrainSettings:
    """Optimisation settings shared by every phase (paper §4.1: Adam, B = 128).

    Attributes
    ----------
    epochs : int
    lr : float
    batch_size : int
    critic_steps : int
        Critic updates per generator update in expert training (WGAN-GP: 5).
    gp_weight : float
        Gradient-penalty weight (WGAN-GP: 10).
    lambdas : tuple of 4 floats
        λ1..λ4 of eq. 12 before normalisation.
    power_iters : int
        Power-iteration steps for J_FI.
    """

    epochs: int = 10
    lr: float = 1e-3
    batch_size: int = 128
    critic_steps: int = 5
    gp_weight: float = 10.0
    lambdas: tuple = L.PAPER_LAMBDAS
    power_iters: int = 10

    def __post_init__(self):
        if int(self.epochs) < 1:
            raise ParameterError("epochs", "an integer >= 1", self.epochs)
        if int(self.batch_size) < 2:
            raise ParameterError("batch_size", "an integer >= 2", self.batch_size)


def _batches(n: int, batch_size: int, gen: np.random.Generator):
    """Shuffled mini-batch indices for one epoch; a last batch of 1 is merged away."""
    order = gen.permutation(n)
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < 2:
        starts.pop()
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else n
        yield torch.from_numpy(order[start:stop])


def _tensors(domain: Domain):
    return torch.from_numpy(domain.x_train), torch.from_numpy(domain.y_train)


def _new_net(arch: str, domain: Domain, seed: int, net_sizes: dict | None):
    torch.manual_seed(int(seed))
    net = build_net(arch, domain.n_aps, **(net_sizes or {}).get(arch, {}))
    net.set_coordinate_frame(domain.offset, domain.scale)
    return net


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


def train_expert(arch: str, domain: Domain, settings: TrainSettings, *, seed: int = 0,
                 with_teacher: bool = True, net_sizes: dict | None = None,
                 betas=(1.0, 1.0, 1.0), adversarial_weight: float = 1.0) -> Expert:
    """Expert training of Alg. 2 on one source dataset.

    Per mini-batch (X, Y): S_i(X) gives (Z^F, Z^E, Ŷ); the critic C_i takes
    ``critic_steps`` steps on ``E[C(G(Y, noise))] - E[C(Z^E_S)] + gp_weight · gp``; then
    the teacher takes one step on
    ``β2 J_MAE(R_S(Z^E_G), Y) + β3 J_Sim(Z^E_S, Z^E_G) - adversarial_weight · E[C(Z^E_G)]``
    (β1 J_MAE(S) of line 24 has no gradient with respect to G and is left out), the
    gradient flowing through S_i's frozen regressor into G only; finally S_i takes one
    step on J_MAE(Ŷ, Y) (line 26). The regressor judges teacher samples in eval mode.

    With ``with_teacher=False`` only the last step runs: stand-alone training.

    Parameters
    ----------
    arch : one of :data:`~wiloc_core.models.fingerprint_nets.ARCHITECTURES`
    domain : Domain
    settings : TrainSettings
    seed : int
        Seeds the network (``seed``), teacher and critic (``seed + 1``), their noise
        (``seed + 2``), dropout (``seed + 3``) and the batch order (``seed``).
    net_sizes : dict, optional
        ``{arch: constructor kwargs}``.

    Returns
    -------
    Expert
        ``history`` holds per-epoch means of ``"s_mae"`` (normalised units) and, with a
        teacher, ``"g_mae"``, ``"sim"``, ``"critic"``.
    """
    start = time.perf_counter()
    net = _new_net(arch, domain, seed, net_sizes)
    teacher = critic = None
    if with_teacher:
        torch.manual_seed(int(seed) + 1)
        teacher, critic = SurrogateTeacher(net.z_dim), Critic(net.z_dim)
        opt_g = torch.optim.Adam(teacher.parameters(), lr=settings.lr, betas=(0.5, 0.9))
        opt_c = torch.optim.Adam(critic.parameters(), lr=settings.lr, betas=(0.5, 0.9))
        noise = torch.Generator().manual_seed(int(seed) + 2)
    opt_s = torch.optim.Adam(net.parameters(), lr=settings.lr)
    torch.manual_seed(int(seed) + 3)
    order = rng(seed)
    x, y = _tensors(domain)
    history = {k: [] for k in (["s_mae", "g_mae", "sim", "critic"] if with_teacher
                               else ["s_mae"])}
    net.train()
    for _ in range(int(settings.epochs)):
        sums = dict.fromkeys(history, 0.0)
        n_batches = 0
        for idx in _batches(len(x), settings.batch_size, order):
            xb, yb = x[idx], y[idx]
            _, z_e, y_hat = net(xb)
            loss_s = L.j_mae(y_hat, yb)
            if with_teacher:
                real = z_e.detach()
                for _ in range(int(settings.critic_steps)):
                    with torch.no_grad():
                        fake = teacher(yb, generator=noise)[1]
                    loss_c = (L.critic_loss(critic(real), critic(fake))
                              + settings.gp_weight * L.gradient_penalty(critic, real, fake,
                                                                        generator=noise))
                    opt_c.zero_grad()
                    loss_c.backward()
                    opt_c.step()
                fake = teacher(yb, generator=noise)[1]
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
            opt_s.zero_grad()
            loss_s.backward()
            opt_s.step()
            sums["s_mae"] += loss_s.item()
            n_batches += 1
        for k in history:
            history[k].append(sums[k] / max(n_batches, 1))
    net.eval()
    if teacher is not None:
        teacher.eval()
        critic.eval()
    return Expert(arch, domain.name, net, teacher, critic, history,
                  time.perf_counter() - start)


def train_standalone(arch: str, domain: Domain, settings: TrainSettings, *, seed: int = 0,
                     net_sizes: dict | None = None) -> nn.Module:
    """Stand-alone training: the specialized network with J_MAE only (eq. 2, first term)."""
    return train_expert(arch, domain, settings, seed=seed, with_teacher=False,
                        net_sizes=net_sizes).net


# -----------------------------------------------------------------------------------
# Expert distilling (§3.2, eq. 12)
# -----------------------------------------------------------------------------------
def distill(arch: str, domain: Domain, teachers: list[SurrogateTeacher], settings: TrainSettings,
            *, constraints=("sim", "mi", "fi"), seed: int = 0, net_sizes: dict | None = None,
            history: dict | None = None) -> nn.Module:
    """Train a fresh target network with eq. 12 against frozen surrogate teachers.

    .. math:: J = \\bar\\lambda_1 J_{MAE} + \\bar\\lambda_2 \\sum_i J_{Sim}(Z^E_S, Z^E_{G_i})
              + \\bar\\lambda_3 J_{MI} + \\bar\\lambda_4 J_{FI}

    Each teacher G_i receives the target batch's normalised positions (and fresh noise),
    so its k-th representation is paired with the k-th target sample. J_MI uses one
    global critic Ψθ (trained jointly, maximising the same estimate); J_FI compares the
    extractor's spectral-norm proxy with each teacher's (eq. 11). J_FI is skipped for
    bAaT (paper Tab. 1 note ++). The network starts from the same initial weights as
    stand-alone training with the same seed, so the comparison is paired.

    Parameters
    ----------
    constraints : iterable of {"sim", "mi", "fi"}
    history : dict, optional
        Filled with per-epoch means of ``"mae"``, ``"sim"``, ``"mi"``, ``"fi"``.

    Returns
    -------
    FingerprintNet in eval mode.
    """
    constraints = set(constraints)
    unknown = constraints - {"sim", "mi", "fi"}
    if unknown:
        raise ParameterError("constraints", "a subset of {'sim', 'mi', 'fi'}", sorted(unknown))
    if arch == "bAaT":
        constraints.discard("fi")
    if constraints and not teachers:
        raise ParameterError("teachers", "at least one surrogate teacher", 0)
    net = _new_net(arch, domain, seed, net_sizes)
    params = list(net.parameters())
    psi = None
    if "mi" in constraints:
        torch.manual_seed(int(seed) + 1)
        psi = MICritic(net.z_dim)
        params += list(psi.parameters())
    for t in teachers:
        t.eval()
        for p in t.parameters():
            p.requires_grad_(False)
        if t.extractor[-1].out_features != net.z_dim:
            raise ParameterError("teachers", f"teachers of width {net.z_dim} ({arch})",
                                 t.extractor[-1].out_features)
    lam = L.normalised_weights(settings.lambdas)
    opt = torch.optim.Adam(params, lr=settings.lr)
    noise = torch.Generator().manual_seed(int(seed) + 2)
    torch.manual_seed(int(seed) + 3)
    order = rng(seed)
    x, y = _tensors(domain)
    log = history if history is not None else {}
    for k in ("mae", "sim", "mi", "fi"):
        log.setdefault(k, [])
    net.train()
    for _ in range(int(settings.epochs)):
        sums, n_batches = dict.fromkeys(("mae", "sim", "mi", "fi"), 0.0), 0
        for idx in _batches(len(x), settings.batch_size, order):
            loss, terms = distillation_loss(net, psi, teachers, x[idx], y[idx], constraints,
                                            lam, settings.power_iters, noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for k, v in terms.items():
                sums[k] += v.item()
            n_batches += 1
        for k in sums:
            log[k].append(sums[k] / max(n_batches, 1) if k in terms else float("nan"))
    return net.eval()


def distillation_loss(net, psi, teachers, xb: torch.Tensor, yb: torch.Tensor, constraints,
                      lam, power_iters: int = 10, generator: torch.Generator | None = None):
    """Eq. 12 on one batch: ``(loss, terms)`` with terms ``{"mae", "sim", "mi", "fi"}``.

    Parameters
    ----------
    net : FingerprintNet
    psi : MICritic or None (needed when "mi" in constraints)
    teachers : list of frozen SurrogateTeacher
    xb : [B, n_aps] dBm; yb : [B, 2] normalised positions
    constraints : set of {"sim", "mi", "fi"}
    lam : 4 normalised weights (λ̄1..λ̄4)
    generator : torch.Generator for the teachers' noise, shuffles and power iteration
    """
    z_f, z_e, y_hat = net(xb)
    with torch.no_grad():
        modeled = [t(yb, generator=generator) for t in teachers] if constraints else []
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

    @torch.no_grad()
    def predict_xy(self, name: str, domain: Domain, batch_size: int = 1024) -> np.ndarray:
        self.eval()
        x = torch.from_numpy(np.array(domain.x_test, dtype=np.float32))
        y = torch.cat([self(name, x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        return domain.offset + domain.scale * y.double().numpy()


def _fit_encoded(model: EncodedNet, domains: list[Domain], settings: TrainSettings,
                 order: np.random.Generator) -> None:
    """Train on one or several domains jointly: each step sums J_MAE over one batch of each."""
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    data = [_tensors(d) for d in domains]
    model.train()
    for _ in range(int(settings.epochs)):
        iters = [list(_batches(len(x), settings.batch_size, order)) for x, _ in data]
        for step in range(max(len(it) for it in iters)):
            loss = 0.0
            for d, (x, y), it in zip(domains, data, iters, strict=True):
                idx = it[step % len(it)]
                loss = loss + L.j_mae(model(d.name, x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def _encoded(arch, sources, target, n_common, seed, net_sizes):
    torch.manual_seed(int(seed))
    model = EncodedNet(arch, n_common, net_sizes)
    for d in [*sources, target]:
        model.add_encoder(d.name, d.n_aps)
    return model


def sequential_transfer(arch: str, sources: list[Domain], target: Domain,
                        settings_of: Callable[[str], TrainSettings], *, n_common: int = 256,
                        seed: int = 0, net_sizes: dict | None = None) -> np.ndarray:
    """(*) Sequential transfer: pre-train on each source in turn, then fine-tune on the target.

    Every stage trains all weights (shared body, regressor and that dataset's encoder)
    with J_MAE for the dataset's epochs. Returns the target test errors in metres.
    """
    model = _encoded(arch, sources, target, n_common, seed, net_sizes)
    order = rng(seed)
    for d in [*sources, target]:
        _fit_encoded(model, [d], settings_of(d.name), order)
    return positioning_errors(model.predict_xy(target.name, target), target.xy_test)


def collective_transfer(arch: str, sources: list[Domain], target: Domain,
                        settings_of: Callable[[str], TrainSettings], *, n_common: int = 256,
                        seed: int = 0, net_sizes: dict | None = None) -> np.ndarray:
    """(**) Collective transfer (Klus et al.): pre-train on all sources at once, each
    through its own encoder (every step sums one batch per source, for the largest
    source epoch count), then fine-tune on the target. Returns target errors in metres."""
    model = _encoded(arch, sources, target, n_common, seed, net_sizes)
    order = rng(seed)
    joint = settings_of(sources[0].name)
    epochs = max(settings_of(d.name).epochs for d in sources)
    _fit_encoded(model, sources, TrainSettings(**{**joint.__dict__, "epochs": epochs}), order)
    _fit_encoded(model, [target], settings_of(target.name), order)
    return positioning_errors(model.predict_xy(target.name, target), target.xy_test)


def evaluate(net, domain: Domain) -> np.ndarray:
    """Test-set 2-D errors in metres, float64 [m]."""
    if domain.x_test is None:
        raise ParameterError("domain", f"a dataset with a test split ({domain.name} has none)")
    return positioning_errors(net.predict_xy(domain.x_test), domain.xy_test)


# -----------------------------------------------------------------------------------
# Drivers used by the notebooks
# -----------------------------------------------------------------------------------
def settings_from(cfg: dict) -> Callable[[str], TrainSettings]:
    """``name -> TrainSettings`` from a profile dict (``epochs``/``lr`` per dataset)."""
    def of(name: str) -> TrainSettings:
        return TrainSettings(
            epochs=int(cfg["epochs"][name]), lr=float(cfg["lr"][name]),
            batch_size=int(cfg["batch_size"]), critic_steps=int(cfg["critic_steps"]),
            gp_weight=float(cfg["gp_weight"]), lambdas=tuple(cfg["lambdas"]),
            power_iters=int(cfg["power_iters"]))
    return of


@dataclass
class FrameworkRun:
    """Errors of one experiment: ``errors[(target, model, variant)]`` in metres.

    ``variant`` is ``"standalone"``, ``"+++"`` (``"++"`` for bAaT), ``"*"``, ``"**"``,
    or an ablation / source / fraction label. ``seconds`` holds wall-clock times per
    stage; ``experts`` the trained experts by (model, dataset).
    """

    errors: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    experts: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)

    def row_label(self, model: str, variant: str) -> str:
        """Paper-style row name: ``DNN``, ``DNN*``, ``DNN+++``, ``bAaT++``."""
        return model if variant == "standalone" else f"{model}{variant}"


def full_variant(model: str) -> str:
    """The fully enhanced variant's suffix: ``+++``, or ``++`` for bAaT (no J_FI)."""
    return "++" if model == "bAaT" else "+++"


def _expert(run: FrameworkRun, model, domains, name, of, seed, net_sizes, with_teacher=True):
    key = (model, name)
    if key not in run.experts:
        expert = train_expert(model, domains[name], of(name), seed=seed, net_sizes=net_sizes,
                              with_teacher=with_teacher)
        run.experts[key] = expert
        run.seconds[f"expert {model} {name}"] = expert.seconds
        run.histories[f"expert {model} {name}"] = expert.history
    return run.experts[key]


def _timed(run, label, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    run.seconds[label] = time.perf_counter() - start
    return out


def _check_models(models):
    bad = [m for m in models if m not in ARCHITECTURES]
    if bad:
        raise ParameterError("models", f"names from {ARCHITECTURES}", bad)


def _start(models, cfg, progress):
    """What every driver begins with: checked models, settings per dataset, a progress
    callback, an empty run and the optional network sizes."""
    _check_models(models)
    return settings_from(cfg), progress or (lambda _msg: None), FrameworkRun(), cfg.get("net_sizes")


def _record_standalone(run, model, domains, target, of, seed, net_sizes):
    """The target's own expert is the stand-alone model (see :func:`train_expert`)."""
    expert = _expert(run, model, domains, target, of, seed, net_sizes)
    run.errors[(target, model, "standalone")] = evaluate(expert.net, domains[target])


def _teachers(run, model, domains, names, of, seed, net_sizes):
    return [_expert(run, model, domains, s, of, seed, net_sizes).teacher for s in names]


def run_table1(domains: dict[str, Domain], targets, sources: dict, models, cfg: dict, *,
               seed: int = 0, variants=("standalone", "+++", "*", "**"),
               progress: Callable[[str], None] | None = None) -> FrameworkRun:
    """Table 1 / Fig. 2: every model stand-alone, fully enhanced, (*) and (**) per target.

    Parameters
    ----------
    domains : dict name -> Domain
        Every target and source.
    targets : list of str
    sources : dict target -> list of source names
    models : list of architecture names
    cfg : dict
        Profile settings (``epochs``, ``lr`` per dataset, ``batch_size``, ...).
    variants : subset of ("standalone", "+++", "*", "**")
        ``"+++"`` means the fully enhanced version (``++`` for bAaT).

    The stand-alone target model is the specialized network of the expert training on
    the target (identical to stand-alone training, see :func:`train_expert`), so a
    dataset that is both a target and a source is trained once.
    """
    of, say, run, net_sizes = _start(models, cfg, progress)
    n_common = int(cfg["n_common"])
    for model in models:
        for target in targets:
            src = list(sources[target])
            if "standalone" in variants:
                _record_standalone(run, model, domains, target, of, seed, net_sizes)
                say(f"{model} on {target}: stand-alone done")
            if "+++" in variants:
                teachers = _teachers(run, model, domains, src, of, seed, net_sizes)
                hist: dict = {}
                net = _timed(run, f"distill {model} {target}", distill, model, domains[target],
                             teachers, of(target), seed=seed, net_sizes=net_sizes, history=hist)
                run.histories[f"distill {model} {target}"] = hist
                run.errors[(target, model, full_variant(model))] = evaluate(net, domains[target])
                say(f"{model} on {target}: {full_variant(model)} done")
            if "*" in variants:
                run.errors[(target, model, "*")] = _timed(
                    run, f"* {model} {target}", sequential_transfer, model,
                    [domains[s] for s in src], domains[target], of, n_common=n_common,
                    seed=seed, net_sizes=net_sizes)
                say(f"{model} on {target}: * done")
            if "**" in variants:
                run.errors[(target, model, "**")] = _timed(
                    run, f"** {model} {target}", collective_transfer, model,
                    [domains[s] for s in src], domains[target], of, n_common=n_common,
                    seed=seed, net_sizes=net_sizes)
                say(f"{model} on {target}: ** done")
    return run


def run_ablation(domains, targets, sources, models, cfg, *, seed=0, rows=tuple(CONSTRAINT_SETS),
                 progress=None) -> FrameworkRun:
    """Table 2: stand-alone and each constraint set of :data:`CONSTRAINT_SETS` per model."""
    of, say, run, net_sizes = _start(models, cfg, progress)
    for model in models:
        for target in targets:
            _record_standalone(run, model, domains, target, of, seed, net_sizes)
            teachers = _teachers(run, model, domains, sources[target], of, seed, net_sizes)
            for row in rows:
                if model == "bAaT" and row == "+++":
                    continue  # identical to ++ without J_FI
                net = _timed(run, f"{row} {model} {target}", distill, model, domains[target],
                             teachers, of(target), constraints=CONSTRAINT_SETS[row], seed=seed,
                             net_sizes=net_sizes)
                run.errors[(target, model, row)] = evaluate(net, domains[target])
                say(f"{model} on {target}: {row} done")
    return run


def run_source_relevance(domains, targets, sources, models, cfg, *, seed=0,
                         progress=None) -> FrameworkRun:
    """Table 3: the fully enhanced model with each single source, and with all of them.

    Variants are ``"[<source>]"`` and ``"[all]"``.
    """
    of, say, run, net_sizes = _start(models, cfg, progress)
    for model in models:
        for target in targets:
            _record_standalone(run, model, domains, target, of, seed, net_sizes)
            sets = [[s] for s in sources[target]] + [list(sources[target])]
            for chosen in sets:
                label = f"[{chosen[0]}]" if len(chosen) == 1 else "[all]"
                teachers = _teachers(run, model, domains, chosen, of, seed, net_sizes)
                net = distill(model, domains[target], teachers, of(target), seed=seed,
                              net_sizes=net_sizes)
                run.errors[(target, model, label)] = evaluate(net, domains[target])
                say(f"{model} on {target}: {label} done")
    return run


def run_target_fraction(datasets: dict, source_domains: dict, cases, sources, models, cfg, *,
                        seed=0, rounds: int = 1, progress=None) -> dict:
    """Table 4: stand-alone vs fully enhanced with only a fraction of the target's training set.

    Parameters
    ----------
    datasets : dict name -> FingerprintDataset
        The targets (subsampled here, round by round).
    source_domains : dict name -> Domain
        Sources (their teachers are trained once and reused in every round).
    cases : list of (target name, fraction)
    rounds : int
        Repetitions with different random subsets (seed + round).

    Returns
    -------
    dict (target, fraction, model, variant) -> list of MAE (m), one per round.
    """
    of, say, run, net_sizes = _start(models, cfg, progress)
    out: dict = {}
    for model in models:
        for target, fraction in cases:
            teachers = _teachers(run, model, source_domains, sources[target], of, seed, net_sizes)
            for r in range(int(rounds)):
                dom = make_domain(datasets[target], fraction=fraction, seed=seed + 1000 + r)
                st = of(target)
                alone = train_standalone(model, dom, st, seed=seed + r, net_sizes=net_sizes)
                full = distill(model, dom, teachers, st, seed=seed + r, net_sizes=net_sizes)
                for variant, net in (("standalone", alone), (full_variant(model), full)):
                    out.setdefault((target, fraction, model, variant), []).append(
                        float(evaluate(net, dom).mean()))
            say(f"{model} on {target} at {fraction:g}: {rounds} rounds done")
    return out

"""Cross-environment joint semi-supervised and transfer learning (paper 000, §III-B, Fig. 3).

AlHajri, Shubair and Chafii localise a VNA receiver from one CTF sweep with the CNN
of Fig. 2 (:class:`~wiloc_core.models.ctf_cnn.CtfCnn`). When the *target*
environment has few labelled sweeps, they borrow a CNN trained in a data-rich
*source* environment and pseudo-label unlabelled target sweeps, in six stages:

1. :func:`stage1_train_g1` - train g1 on the labelled source data, eq. (5);
2. :func:`stage2_finetune_g2` - fine-tune a copy of g1 on the labelled target data, eq. (6);
3. :func:`stage3_refine_g4` - refinement model g4 = g3 on top of g2, eq. (7);
4. :func:`stage4_select_nearest` - the k unlabelled target sweeps closest (Euclidean,
   CTF space) to the labelled ones;
5. :func:`stage5_pseudo_label` - pseudo-labels of those sweeps from g2 and g4;
6. :func:`stage6_retrain_g5` - retrain from g1 on labelled + pseudo-labelled data, eq. (8).

Stages 4-6 are repeated for a growing k and the g5 with the smallest *validation*
RMSE (eq. 9) is kept (:func:`run_proposed`). The *conventional* baseline trains the
CNN from scratch on the labelled target data only (:func:`train_conventional`).

The comparison is not like for like: the proposed method selects its model on a
labelled validation set, its stage 6 takes more steps (:func:`step_budget`), and its
input standardisation is refitted on the target. Our *fair control*
(:func:`train_conventional_selected`) gives the conventional CNN the same validation
selection and step budget. The chapter's tables become report records and prose
numbers in :mod:`wiloc_core.methods.ctf_records`, which reads only the per-seed run
tables, so a committed run is re-evaluated by the same code without retraining. Every network of the chapter is one task of
the experiment engine (:class:`CtfExperiment`, :func:`task_conventional`,
:func:`task_proposed`, :func:`task_control`), cached under :data:`VERSION`.

Readings of points the paper leaves open [I]
--------------------------------------------
* **Loss.** Eqs. (5)-(8) print a Euclidean norm but the text calls the loss a mean
  square error; we minimise the batch mean of the squared Euclidean error
  ``(1/B) sum_i ||g(RF_i) - C_i||^2`` (labels standardised per coordinate), which is
  also what the RMSE of eq. (9) measures. Eq. (8) is the sum of that mean over the
  labelled batch and over the pseudo-labelled batch.
* **Stage 3.** g3 cannot take g2's 2-D output as its input if, as the paper says, it
  is "initialized with g1" (a CNN on 601 x 2 inputs). We read ``g3(g2(RF))`` as a
  fresh copy of g1's fully connected head (FC 4032 -> 100, ReLU, dropout, linear
  100 -> 2) placed on top of g2's frozen convolutional trunk and trained on the
  labelled target data: g4 = g3 o trunk(g2). It re-learns the position read-out from
  g2's target-adapted features, starting from the source read-out.
* **Stage 5.** The pseudo-label is the mean of the g2 and g4 estimates.
* **Stage 4.** Distance of an unlabelled sweep = Euclidean distance in raw CTF space
  (601 x 2 values) to its *nearest* labelled sweep; the k smallest are taken.
* **Normalisation.** Every network standardises its inputs with one mean and standard
  deviation of its own labelled training CTFs; labels are standardised with g1's
  statistics for g2, g4 and g5 (the grids are alike) and with their own for the
  conventional CNN.
* **k schedule.** k grows as multiples of the number of labelled sweeps (e.g. 1x, 2x,
  4x), capped at the unlabelled pool.
* **Validation.** The paper keeps 25 % "for testing and validation"; we split it into a
  validation part (choice of k) and a test part (every reported RMSE).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from wiloc_core import metrics, training
from wiloc_core.chapter import paper_value_or_nan
from wiloc_core.data.ctf import CtfData, CtfSplit, make_split
from wiloc_core.errors import ParameterError
from wiloc_core.experiment import Cache, Task, digest_data, run_sweep
from wiloc_core.models.ctf_cnn import CtfCnn, CtfCnnConfig, as_tensor
from wiloc_core.training import (
    EarlyStopping,
    batch_indices,
    describe_device,
    isolated_torch_rng,
    resolve_device,
)

#: Version of this module's trained results, part of every cache key (the engine,
#: :mod:`wiloc_core.experiment`). Bump it whenever a change here, in the CNN
#: (:mod:`wiloc_core.models.ctf_cnn`) or in the splitter (:func:`make_split`) can change
#: a trained network or an RMSE; edits that cannot (docstrings, tables, prose) keep it.
VERSION = 1

__all__ = [
    "TrainSettings",
    "RefinedModel",
    "TransferResult",
    "squared_error_loss",
    "fit",
    "stage1_train_g1",
    "stage2_finetune_g2",
    "stage3_refine_g4",
    "stage4_select_nearest",
    "stage5_pseudo_label",
    "stage6_retrain_g5",
    "train_conventional",
    "step_budget",
    "train_conventional_selected",
    "k_schedule",
    "run_proposed",
    "CtfExperiment",
    "conventional_rmse_table",
    "run_transfer",
    "transfer_matrix",
    "crossing_fraction",
    "fig4_table",
    "table1_view",
    "table2_view",
    "n_total_from_runs",
    "data_digest",
    "chapter_tasks",
    "VERSION",
    "task_conventional",
    "task_proposed",
    "task_control",
    "DEFAULT_SOURCES",
    "size_label",
]

#: Source environment used for each target in Table II (the paper names only
#: Lobby -> Lab, for Fig. 4); our choice for the others [I].
DEFAULT_SOURCES = {"Lab": "Lobby", "Narrow Corridor": "Lab", "Lobby": "Lab",
                   "Sports Hall": "Lobby"}


@dataclass(frozen=True)
class TrainSettings(training.TrainSettings):
    """The shared :class:`wiloc_core.training.TrainSettings` plus stage 3's epoch count.

    Every stage trains with Adam (§III-A) in this module's loop of eqs. (5)-(8)
    (:func:`fit`), which runs a fixed number of gradient steps. It reads ``epochs``
    (passes over the larger of the labelled / pseudo-labelled sets), ``lr`` (the paper
    gives none; 1e-3 is Adam's default), ``batch_size`` (per set for eq. 8),
    ``min_steps`` (so that tiny labelled sets, 2.5 % = 49 sweeps, are not left after a
    handful of steps), ``weight_decay``, ``device`` and ``progress``. The shared
    early-stopping fields (``patience``, ``val_fraction``, ``min_delta``) are not used:
    the paper trains for fixed epochs, and the fair control
    (:func:`train_conventional_selected`) selects on the chapter's own validation split.

    Parameters
    ----------
    head_epochs : int >= 1 or None
        Epochs of stage 3 (only the head is trained; cheap). None: ``epochs``.
    """

    head_epochs: int | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.head_epochs is not None and int(self.head_epochs) < 1:
            raise ParameterError("head_epochs", "an integer >= 1 or None", self.head_epochs)

    @classmethod
    def from_settings(cls, cfg: dict) -> TrainSettings:
        """The settings of a profile (:func:`wiloc_core.profiles.settings`) or of a run's
        saved parameters: ``epochs``, ``lr``, ``batch_size``, ``min_steps``."""
        return cls(epochs=int(cfg["epochs"]), lr=float(cfg["lr"]),
                   batch_size=int(cfg["batch_size"]), min_steps=int(cfg["min_steps"]))


# ------------------------------------------------------------------ training machinery
def _seed_for(*parts) -> int:
    """A 31-bit seed from ints, floats and strings, stable across runs and machines."""
    entropy = list(repr(parts).encode())
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)


def squared_error_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Batch mean of squared Euclidean errors, the loss of eqs. (5)-(7).

    Parameters
    ----------
    pred, target : torch.Tensor, float32, shape [B, 2]
        Standardised positions.

    Returns
    -------
    torch.Tensor, scalar
        ``(1/B) sum_i ||pred_i - target_i||^2``.
    """
    return ((pred - target) ** 2).sum(dim=1).mean()


def _endless_batches(n: int, batch_size: int, g: np.random.Generator):
    """Endless stream of index batches (:func:`wiloc_core.training.batch_indices`).

    Each pass is one ``g.permutation(n)``, drawn when the pass starts: the labelled and
    pseudo-labelled streams of eq. (8) share ``g``, so their passes interleave their
    draws exactly as the committed runs did.
    """
    while True:
        yield from batch_indices(n, batch_size, g)


def _n_steps(n: int, settings: TrainSettings, epochs: int) -> int:
    return max(epochs * int(np.ceil(n / settings.batch_size)), settings.min_steps)


def fit(predict_std, parameters, X, y_std, settings: TrainSettings, seed, *, X_pseudo=None,
        y_pseudo_std=None, epochs: int | None = None, modules=(), steps: int | None = None,
        callback=None) -> list[float]:
    """Minimise eq. (5)/(6)/(7), or eq. (8) when pseudo-labelled data are given, with Adam.

    The paper's loop: a fixed number of steps, one labelled (and one pseudo-labelled)
    batch per step, no early stopping. Batches come from
    :func:`wiloc_core.training.batch_indices` (a NumPy generator seeded with ``seed``),
    dropout from torch's generators seeded with ``seed`` inside
    :func:`wiloc_core.training.isolated_torch_rng`; the data are moved to the device of
    ``settings.device`` (:func:`wiloc_core.training.resolve_device`), where the modules
    must already be.

    Parameters
    ----------
    predict_std : callable
        Maps a float32 batch (same leading axis as ``X``) to standardised positions
        [B, 2].
    parameters : iterable of torch.nn.Parameter
        What Adam updates (on the device of ``settings.device``).
    X : torch.Tensor, float32, shape [n, ...]
        Labelled inputs (any device).
    y_std : torch.Tensor, float32, shape [n, 2]
        Standardised labels.
    settings : TrainSettings
    seed : int
        Drives batch order and dropout.
    X_pseudo, y_pseudo_std : torch.Tensor, optional
        Pseudo-labelled inputs and standardised pseudo-labels (eq. 8).
    epochs : int, optional
        Overrides ``settings.epochs``.
    modules : sequence of torch.nn.Module
        Put in training mode during the fit and in eval mode after it.
    steps : int, optional
        Number of gradient steps; by default ``epochs`` passes over the larger set
        (at least ``settings.min_steps``).
    callback : callable, optional
        Called as ``callback(step)`` after each step (1-based), e.g. to evaluate a
        validation set; it must leave the modules in training mode.

    Returns
    -------
    list of float
        Mean loss of each epoch (for "the stage improves its own loss" checks).
    """
    epochs = settings.epochs if epochs is None else int(epochs)
    n_l = int(X.shape[0])
    n_p = 0 if X_pseudo is None else int(X_pseudo.shape[0])
    if n_l < 2:
        raise ParameterError("X", "at least 2 labelled samples", n_l)
    device = resolve_device(settings.device)
    g = np.random.default_rng(seed)
    steps = _n_steps(max(n_l, n_p), settings, epochs) if steps is None else int(steps)
    if steps < 1:
        raise ParameterError("steps", "a positive number of gradient steps", steps)
    steps_per_epoch = max(1, steps // epochs)
    labelled = _endless_batches(n_l, settings.batch_size, g)
    pseudo = _endless_batches(n_p, settings.batch_size, g) if n_p >= 2 else None
    X, y_std = X.to(device), y_std.to(device)
    if pseudo is not None:
        X_pseudo, y_pseudo_std = X_pseudo.to(device), y_pseudo_std.to(device)
    params = list(parameters)
    opt = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    history, running = [], []
    for m in modules:
        m.train()
    with isolated_torch_rng(seed, None, device), \
            training.progress_bar(steps, "eq. (5)-(8) steps", settings.progress, unit="step") as bar:
        for step in range(steps):
            idx = next(labelled).to(device)
            loss = squared_error_loss(predict_std(X[idx]), y_std[idx])
            if pseudo is not None:
                jdx = next(pseudo).to(device)
                loss = loss + squared_error_loss(predict_std(X_pseudo[jdx]), y_pseudo_std[jdx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running.append(float(loss.detach()))
            bar.update()
            if callback is not None:
                callback(step + 1)
            if (step + 1) % steps_per_epoch == 0 or step + 1 == steps:
                history.append(float(np.mean(running)))
                running = []
    for m in modules:
        m.eval()
    return history


def _standardise_labels(net, y) -> torch.Tensor:
    return (as_tensor(y) - net.y_mean) / net.y_scale


def _fit_cnn(net: CtfCnn, X, y, settings, seed, X_pseudo=None, y_pseudo=None) -> list[float]:
    """Train every parameter of ``net`` on standardised labels (eqs. 5, 6 and 8).

    The network trains on ``settings.device`` and is left on the CPU.
    """
    xp = None if X_pseudo is None else as_tensor(X_pseudo)
    yp = None if y_pseudo is None else _standardise_labels(net, y_pseudo)
    y_std = _standardise_labels(net, y)
    net.to(resolve_device(settings.device))

    def predict_std(batch):
        return net.head(net.trunk(batch))

    history = fit(predict_std, net.parameters(), as_tensor(X), y_std,
                  settings, seed, X_pseudo=xp, y_pseudo_std=yp, modules=[net])
    net.cpu()
    net.loss_history = history
    return history


@torch.no_grad()
def _positions(net: nn.Module, X) -> np.ndarray:
    """``net.predict(X)`` (positions [n, 2], float64, cm) wherever ``net`` lives."""
    first = next(net.parameters(), None)
    if first is None or first.device.type == "cpu":
        return net.predict(X)
    was_training = net.training
    net.eval()
    xt = as_tensor(X)
    out = [net(xt[i:i + 512].to(first.device)).cpu() for i in range(0, len(xt), 512)]
    net.train(was_training)
    return torch.cat(out).double().numpy() if out else np.zeros((0, 2))


def _check_xy(X, y, name="X"):
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 3 or y.shape != (X.shape[0], 2):
        raise ParameterError(name, "CTFs [n, n_freq, 2] with labels [n, 2]",
                             f"shapes {X.shape} and {y.shape}")
    return X, y


def _new_cnn(config, seed) -> CtfCnn:
    """A CtfCnn whose initial weights are drawn from torch's generator seeded with ``seed``."""
    with isolated_torch_rng(seed, None):
        return CtfCnn(config)


# ------------------------------------------------------------------ the six stages
def stage1_train_g1(X_source, y_source, settings: TrainSettings, seed: int = 0,
                    config: CtfCnnConfig | dict | None = None) -> CtfCnn:
    """Stage 1: train g1 from random weights on the labelled source data, eq. (5).

    Parameters
    ----------
    X_source : array_like, float32, shape [n_s, 601, 2]
        Source CTFs RF_s^l (real, imaginary).
    y_source : array_like, float, shape [n_s, 2], cm
        Source positions C_s.
    settings : TrainSettings
    seed : int
        Initialisation, batch order and dropout.
    config : CtfCnnConfig or dict, optional
        CNN sizes; the paper's by default.

    Returns
    -------
    CtfCnn
        g1 in eval mode, with ``loss_history`` (per-epoch loss) attached.
    """
    X, y = _check_xy(X_source, y_source, "X_source")
    net = _new_cnn(config, seed).set_normalization(X, y)
    _fit_cnn(net, X, y, settings, seed)
    return net


def train_conventional(X, y, settings: TrainSettings, seed: int = 0,
                       config: CtfCnnConfig | dict | None = None) -> CtfCnn:
    """Conventional CNN: trained from scratch on the labelled target data only (§IV).

    Same as :func:`stage1_train_g1` (eq. 5) on the target's labelled sweeps.
    """
    return stage1_train_g1(X, y, settings, seed, config)


def step_budget(n_labelled: int, n_pool: int, settings: TrainSettings,
                k_multiples=(1, 2, 4)) -> dict:
    """Gradient steps of the conventional CNN and of the proposed method's stage 6.

    Stage 6 (eq. 8) draws one labelled and one pseudo-labelled batch per step and runs
    ``epochs`` passes over the *larger* of the two sets, so with k = 4 n_l pseudo-labels
    it takes up to four times the steps (and labelled passes) of the conventional CNN,
    which sees the n_l labelled sweeps only. Stages 4-6 run once per k.

    Parameters
    ----------
    n_labelled : int
        Labelled target sweeps n_l.
    n_pool : int
        Unlabelled training sweeps (the pool stage 4 selects from).
    settings : TrainSettings
    k_multiples : sequence of float

    Returns
    -------
    dict
        ``conventional`` (steps of the conventional CNN), ``stage6`` (list, steps of
        each g5, one per k of :func:`k_schedule`), ``stage6_max``, ``stage6_total``
        (the budget of the fair control, :func:`train_conventional_selected`) and
        ``pass_ratio`` (``stage6_max / conventional``: how many more passes over the
        labelled sweeps the best-trained g5 gets).
    """
    conventional = _n_steps(int(n_labelled), settings, settings.epochs)
    ks = k_schedule(int(n_labelled), int(n_pool), k_multiples)
    stage6 = [_n_steps(max(int(n_labelled), k), settings, settings.epochs)
              for k in ks]
    most = max(stage6, default=0)
    return {"conventional": conventional, "stage6": stage6, "stage6_max": most,
            "stage6_total": int(sum(stage6)), "pass_ratio": most / conventional}


def train_conventional_selected(X, y, X_val, y_val, settings: TrainSettings, seed: int = 0, *,
                                n_steps: int, eval_every: int,
                                config: CtfCnnConfig | dict | None = None) -> CtfCnn:
    """Fair control (ours): the conventional CNN with the proposed method's advantages.

    The proposed method picks its g5 by validation RMSE and trains it for up to
    :func:`step_budget` ``["stage6_total"]`` steps in all; the conventional CNN of §IV
    sees neither the validation set nor that budget. This control trains the same CNN
    from scratch on the labelled target sweeps only (eq. 5), for ``n_steps`` steps,
    measures the validation RMSE (eq. 9) every ``eval_every`` steps and at the end, and
    keeps the weights with the least validation RMSE.

    Parameters
    ----------
    X, y : labelled target CTFs [n_l, 601, 2] and positions [n_l, 2] cm
    X_val, y_val : validation CTFs [n_v, 601, 2] and positions [n_v, 2] cm
    settings : TrainSettings
    seed : int
    n_steps : int
        Gradient steps (the proposed method's stage-6 total).
    eval_every : int
        Steps between two validation checks (the conventional CNN's own length).
    config : CtfCnnConfig or dict, optional

    Returns
    -------
    CtfCnn
        The selected network (eval mode), with ``val_history`` (list of
        ``{"step", "val_rmse"}``) and ``best_step`` attached.
    """
    X, y = _check_xy(X, y)
    X_val, y_val = _check_xy(X_val, y_val, "X_val")
    if int(eval_every) < 1:
        raise ParameterError("eval_every", "a positive number of steps", eval_every)
    n_steps = int(n_steps)
    net = _new_cnn(config, seed).set_normalization(X, y)
    best = EarlyStopping({"net": net}, patience=None)   # checks count as its epochs
    history = []

    def check(step):
        if step % int(eval_every) and step != n_steps:
            return
        val = metrics.rmse(_positions(net, X_val), y_val)   # restores training mode
        history.append({"step": step, "val_rmse": val})
        best.update(step, val)

    def predict_std(batch):
        return net.head(net.trunk(batch))

    y_std = _standardise_labels(net, y)
    net.to(resolve_device(settings.device))
    net.loss_history = fit(predict_std, net.parameters(), as_tensor(X), y_std,
                           settings, seed, steps=n_steps, callback=check, modules=[net])
    best_step = best.restore(n_steps)
    net.cpu().eval()
    net.val_history, net.best_step = history, best_step
    return net


def _from_g1(g1: CtfCnn, X) -> CtfCnn:
    """A copy of g1 whose input standardisation is refitted to the target CTFs ``X``."""
    net = copy.deepcopy(g1)
    net.set_normalization(X=X)
    return net


def stage2_finetune_g2(g1: CtfCnn, X_l, y_l, settings: TrainSettings, seed: int = 0) -> CtfCnn:
    """Stage 2: fine-tune a copy of g1 on the labelled target data, eq. (6) -> g2.

    Parameters
    ----------
    g1 : CtfCnn
        Output of stage 1 (not modified).
    X_l : array_like, float32, shape [n_l, 601, 2]
        Labelled target CTFs RF_t^l.
    y_l : array_like, float, shape [n_l, 2], cm
        Their positions C_t.

    Returns
    -------
    CtfCnn
        g2 (eval mode), all layers trained, initialised with g1.
    """
    X, y = _check_xy(X_l, y_l, "X_l")
    g2 = _from_g1(g1, X)
    _fit_cnn(g2, X, y, settings, seed)
    return g2


class RefinedModel(nn.Module):
    """g4 = g3 o trunk(g2): a g1-initialised FC head on g2's frozen conv trunk (eq. 7).

    Parameters
    ----------
    g2 : CtfCnn
        Provides the frozen convolutional trunk and the label standardisation.
    g1 : CtfCnn
        Provides the initial weights of the head g3 (FC, dropout, output layer).

    forward(x): float32 [B, 601, 2] -> [B, 2] cm.
    """

    def __init__(self, g2: CtfCnn, g1: CtfCnn):
        super().__init__()
        self.g2 = copy.deepcopy(g2).eval()
        for p in self.g2.parameters():
            p.requires_grad_(False)
        self.fc = copy.deepcopy(g1.fc)
        self.dropout = copy.deepcopy(g1.dropout)
        self.out = copy.deepcopy(g1.out)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """g2's flattened feature map mu [B, 4032] (eval mode, no gradient)."""
        self.g2.eval()
        with torch.no_grad():
            return self.g2.trunk(x)

    def head(self, mu: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(torch.relu(self.fc(mu))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) * self.g2.y_scale + self.g2.y_mean

    @torch.no_grad()
    def predict(self, X, batch_size: int = 512) -> np.ndarray:
        """Positions [n, 2] (float64, cm) in eval mode."""
        self.eval()
        xt = as_tensor(X)
        out = [self(xt[i:i + batch_size]) for i in range(0, len(xt), batch_size)]
        return torch.cat(out).double().numpy()


def stage3_refine_g4(g1: CtfCnn, g2: CtfCnn, X_l, y_l, settings: TrainSettings,
                     seed: int = 0) -> RefinedModel:
    """Stage 3: train the refinement head g3 on g2's features, eq. (7) -> g4.

    Minimises ``(1/n_l) sum ||g3(trunk_g2(RF_t^l)) - C_t||^2`` over g3's weights only;
    g3 starts from g1's FC and output layers (see the module notes for this reading).

    Returns
    -------
    RefinedModel
        g4 (eval mode), with ``loss_history`` attached.
    """
    X, y = _check_xy(X_l, y_l, "X_l")
    g4 = RefinedModel(g2, g1)
    mu = g4.features(as_tensor(X))
    y_std = _standardise_labels(g2, y)
    g4.to(resolve_device(settings.device))
    head_params = [p for m in (g4.fc, g4.out) for p in m.parameters()]
    head_epochs = getattr(settings, "head_epochs", None)  # the shared settings have none
    epochs = head_epochs if head_epochs is not None else settings.epochs
    g4.loss_history = fit(g4.head, head_params, mu, y_std, settings, seed,
                          epochs=epochs, modules=[g4.fc, g4.dropout, g4.out])
    g4.cpu().eval()
    return g4


def stage4_select_nearest(X_unlabelled, X_labelled, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Stage 4: the k unlabelled sweeps closest to the labelled set in CTF space.

    The distance of an unlabelled sweep u to the labelled set is
    ``d(u) = min_l ||RF_u - RF_l||_2`` over all 601 x 2 values; the k sweeps with the
    smallest d are selected, nearest first (ties by index).

    Parameters
    ----------
    X_unlabelled : array_like, float, shape [n_u, ...]
    X_labelled : array_like, float, shape [n_l, ...]
    k : int, 0 <= k <= n_u

    Returns
    -------
    index : numpy.ndarray, int64, shape [k]
        Rows of ``X_unlabelled``, sorted by increasing distance.
    distance : numpy.ndarray, float64, shape [k]
    """
    U = np.asarray(X_unlabelled, dtype=np.float64).reshape(len(X_unlabelled), -1)
    L = np.asarray(X_labelled, dtype=np.float64).reshape(len(X_labelled), -1)
    if U.shape[1] != L.shape[1] or L.shape[0] == 0:
        raise ParameterError("X_labelled", f"a non-empty set of {U.shape[1]}-value inputs",
                             L.shape)
    if not 0 <= int(k) <= U.shape[0]:
        raise ParameterError("k", f"an integer in [0, {U.shape[0]}]", k)
    d2 = (U**2).sum(1)[:, None] - 2.0 * U @ L.T + (L**2).sum(1)[None, :]
    nearest = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    order = np.lexsort((np.arange(U.shape[0]), nearest))[:int(k)]
    return order.astype(np.int64), nearest[order]


def stage5_pseudo_label(g2: CtfCnn, g4: RefinedModel, X_selected) -> np.ndarray:
    """Stage 5: pseudo-labels = mean of the g2 and g4 estimates.

    Parameters
    ----------
    X_selected : array_like, float32, shape [k, 601, 2]

    Returns
    -------
    numpy.ndarray, float64, shape [k, 2], cm
    """
    if len(X_selected) == 0:
        return np.zeros((0, 2))
    return 0.5 * (g2.predict(X_selected) + g4.predict(X_selected))


def stage6_retrain_g5(g1: CtfCnn, X_l, y_l, X_pseudo, y_pseudo, settings: TrainSettings,
                      seed: int = 0) -> CtfCnn:
    """Stage 6: retrain from g1 on labelled + pseudo-labelled data, eq. (8) -> g5.

    Minimises ``mean ||g(RF_t^l) - C_t||^2 + mean ||g(RF_t^u-bar) - C_t^u-bar||^2``
    starting from a copy of g1.

    Parameters
    ----------
    X_l, y_l : labelled target CTFs [n_l, 601, 2] and positions [n_l, 2] cm
    X_pseudo, y_pseudo : selected unlabelled CTFs [k, 601, 2] and pseudo-labels [k, 2] cm

    Returns
    -------
    CtfCnn
        g5 (eval mode).
    """
    X, y = _check_xy(X_l, y_l, "X_l")
    Xp, yp = _check_xy(X_pseudo, y_pseudo, "X_pseudo")
    g5 = _from_g1(g1, X)
    _fit_cnn(g5, X, y, settings, seed, Xp if len(Xp) else None, yp if len(yp) else None)
    return g5


# ------------------------------------------------------------------ the whole pipeline
@dataclass
class TransferResult:
    """Outcome of :func:`run_proposed` for one target, source and training size.

    Attributes
    ----------
    g_final : CtfCnn
        The g5 with the least validation RMSE.
    g2, g4 : CtfCnn, RefinedModel
    chosen_k : int
    history : list of dict
        One row per k tried: ``k``, ``val_rmse`` (cm) and ``pseudo_rmse`` (cm, the error
        of the pseudo-labels against the hidden true positions, a diagnostic only).
    pseudo_index : numpy.ndarray, int64
        Sample indices (into the target dataset) pseudo-labelled for the chosen k.
    """

    g_final: CtfCnn
    g2: CtfCnn
    g4: RefinedModel
    chosen_k: int
    history: list = field(default_factory=list)
    pseudo_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def k_schedule(n_labelled: int, n_pool: int, multiples) -> list[int]:
    """Growing k values: multiples of the labelled-set size, capped at the pool, unique."""
    ks = sorted({min(int(round(m * n_labelled)), n_pool) for m in multiples})
    return [k for k in ks if k > 0]


def run_proposed(g1: CtfCnn, data: CtfData, split: CtfSplit, fraction: float,
                 settings: TrainSettings, k_multiples=(1, 2, 4), seed: int = 0) -> TransferResult:
    """Stages 2-6 for one target environment and training fraction (Fig. 3).

    Parameters
    ----------
    g1 : CtfCnn
        Stage-1 model of the source environment.
    data : CtfData
        Target environment (only its ``X`` and ``y`` are read).
    split : CtfSplit
        Target split: labelled = ``split.labelled(fraction)``, unlabelled pool =
        ``split.unlabelled(fraction)``; ``split.val`` chooses k; ``split.test`` is
        never touched here.
    fraction : float
        Labelled training fraction of all target data (e.g. 0.025).
    k_multiples : sequence of float
        k values as multiples of the number of labelled sweeps.

    Returns
    -------
    TransferResult
    """
    lab, pool = split.labelled(fraction), split.unlabelled(fraction)
    held_out = np.concatenate([split.val, split.test])
    if np.intersect1d(pool, held_out).size or np.intersect1d(lab, held_out).size:
        raise ParameterError("split", "training indices disjoint from validation and test",
                             "overlap")
    X_l, y_l = data.X[lab], data.y[lab]
    g2 = stage2_finetune_g2(g1, X_l, y_l, settings, _seed_for(seed, "g2", fraction))
    g4 = stage3_refine_g4(g1, g2, X_l, y_l, settings, _seed_for(seed, "g4", fraction))
    order, _ = stage4_select_nearest(data.X[pool], X_l, pool.size)
    ranked = pool[order]
    ks = k_schedule(lab.size, pool.size, k_multiples)
    pseudo_all = stage5_pseudo_label(g2, g4, data.X[ranked[:max(ks, default=0)]])
    best, history = None, []
    for k in ks:
        chosen = ranked[:k]
        g5 = stage6_retrain_g5(g1, X_l, y_l, data.X[chosen], pseudo_all[:k], settings,
                               _seed_for(seed, "g5", fraction, k))
        val = metrics.rmse(g5.predict(data.X[split.val]), data.y[split.val])
        history.append({"k": k, "val_rmse": val,
                        "pseudo_rmse": metrics.rmse(pseudo_all[:k], data.y[chosen])})
        if best is None or val < best[0]:
            best = (val, k, g5, chosen)
    if best is None:  # no unlabelled data: stages 4-6 have nothing to add
        return TransferResult(g2, g2, g4, 0, history)
    return TransferResult(best[2], g2, g4, best[1], history, np.sort(best[3]))


# ------------------------------------------------------------------ experiment drivers
class CtfExperiment:
    """Shared splits and trained networks for the chapter's tables and figures.

    The conventional CNN at 75 % of an environment is also that environment's g1
    when it serves as a source, and the conventional RMSE at 10 % appears in both
    Table I and Table II; each is one network, trained once.

    Seeds: the split of environment ``env`` under seed ``s`` is drawn with a seed
    derived from ``(s, "split", env)``; every network gets its own derived seed
    (stage name, environment, fraction, k), so results do not depend on the order in
    which tables are computed, nor on the process that trains them.

    Every network is one task of the experiment engine (:mod:`wiloc_core.experiment`):
    :func:`task_conventional`, :func:`task_proposed` (stages 2-6, with its source's g1
    as data) and :func:`task_control`. :meth:`precompute` runs them as sweeps, serially,
    on local worker processes (joblib) or on a Dask cluster; the tables then read the
    results. With a ``cache`` every result is kept there (safe files, atomic writes),
    keyed by the task's parameters, a digest of its data (the environment's arrays, and
    g1's weights for a proposed pipeline), :data:`VERSION` and the torch / NumPy
    versions: a stopped run resumes where it stopped, and a full-profile run can be
    spread over several sittings or machines.

    Parameters
    ----------
    datasets : dict
        Environment name -> :class:`CtfData`.
    settings : TrainSettings
        Its ``progress`` is ignored by the tasks (the sweeps draw a bar per task).
    split_kind : {"sample", "position"}
    test_fraction, val_fraction : float
        See :func:`wiloc_core.data.ctf.make_split`.
    source_fraction : float
        Labelled fraction of the source environment for g1 (paper: its 75 %).
    config : CtfCnnConfig or dict, optional
    source_experiment : CtfExperiment, optional
        Take every g1 from this experiment (e.g. reuse the sample-split sources in a
        position-split experiment: how the *source* was split does not touch the
        target's test set).
    cache : Cache or path-like, optional
        Result store of the tasks (None: memory only).
    """

    def __init__(self, datasets: dict[str, CtfData], settings: TrainSettings, *,
                 split_kind: str = "sample", test_fraction: float = 0.25,
                 val_fraction: float = 0.2, source_fraction: float = 0.75, config=None,
                 source_experiment: CtfExperiment | None = None, cache=None):
        if not isinstance(settings, TrainSettings):
            raise ParameterError("settings", "a ctf_transfer.TrainSettings", type(settings).__name__)
        self.source_experiment = source_experiment
        self.cache = cache if cache is None or isinstance(cache, Cache) else Cache(cache)
        self.datasets = dict(datasets)
        self.settings = settings
        self.split_kind = split_kind
        self.test_fraction = test_fraction
        self.val_fraction = val_fraction
        self.source_fraction = source_fraction
        self.config = config
        self._splits: dict = {}
        self._arrays: dict = {}
        self._digests: dict = {}
        self._conventional: dict = {}
        self._proposed: dict = {}
        self._control: dict = {}
        self._devices: set[str] = set()
        #: How the sweeps of this experiment went: one dict per sweep (backend, hits,
        #: computed, seconds).
        self.sweeps: list[dict] = []

    def _data(self, env: str) -> CtfData:
        if env not in self.datasets:
            raise ParameterError("environment", f"one of {sorted(self.datasets)}", env)
        return self.datasets[env]

    def split(self, env: str, seed: int) -> CtfSplit:
        key = (env, seed)
        if key not in self._splits:
            self._splits[key] = _env_split(self._data(env).position_id, env, seed,
                                           self._split_params())
        return self._splits[key]

    # -- tasks ------------------------------------------------------------------------
    def _split_params(self) -> dict:
        return {"kind": self.split_kind, "test_fraction": self.test_fraction,
                "val_fraction": self.val_fraction}

    def _common(self) -> dict:
        return {"split": self._split_params(),
                "settings": dataclasses.replace(self.settings, progress=False),
                "config": _config_dict(self.config)}

    def _env_arrays(self, env: str) -> tuple[dict, str]:
        """The arrays a task needs of ``env`` (one object per environment) and their digest."""
        if env not in self._arrays:
            d = self._data(env)
            self._arrays[env] = {"X": d.X, "y": d.y, "position_id": d.position_id}
            self._digests[env] = digest_data(self._arrays[env])
        return self._arrays[env], self._digests[env]

    def _conventional_task(self, env, fraction, seed) -> Task:
        arrays, digest = self._env_arrays(env)
        params = {"env": env, "fraction": fraction, "seed": seed, **self._common()}
        return Task.create(task_conventional, params, data=arrays, data_digest=digest,
                           name=f"conventional {env} {size_label(fraction)} seed {seed}")

    def _control_task(self, env, fraction, seed, k_multiples) -> Task:
        arrays, digest = self._env_arrays(env)
        params = {"env": env, "fraction": fraction, "seed": seed,
                  "k_multiples": list(k_multiples), **self._common()}
        return Task.create(task_control, params, data=arrays, data_digest=digest,
                           name=f"control {env} {size_label(fraction)} seed {seed}")

    def _proposed_task(self, target, source, fraction, seed, k_multiples) -> Task:
        arrays, digest = self._env_arrays(target)
        g1 = self.g1(source, seed)
        data = {"target": arrays, "g1": g1.state_dict()}
        data_digest = digest_data({"target": digest, "g1": _state_digest(g1)})
        params = {"target": target, "source": source, "fraction": fraction, "seed": seed,
                  "k_multiples": list(k_multiples), **self._common()}
        return Task.create(task_proposed, params, data=data, data_digest=data_digest,
                           name=f"proposed {target} <- {source} {size_label(fraction)} seed {seed}")

    def _run(self, jobs, *, backend=None, n_jobs: int = 1, scheduler=None,
             progress=True) -> None:
        """Run ``jobs`` (``(store, key, args, task)``) as one sweep; file the results."""
        if not jobs:
            return
        results = run_sweep([task for *_, task in jobs], backend=backend, n_jobs=n_jobs,
                            scheduler=scheduler, cache=self.cache, progress=progress)
        self.sweeps.append({"backend": results.backend, "hits": results.hits,
                            "computed": results.computed, "seconds": results.seconds})
        for (store, key, args, _), value in zip(jobs, results, strict=True):
            self._devices.add(value["device"])
            store[key] = self._unpack(store, args, value)

    def _unpack(self, store, args, value):
        if store is self._proposed:
            return _transfer_result(value, self.config), float(value["rmse"])
        net = _cnn_from_state(value["net"], self.config)
        if store is self._control:
            net.val_history, net.best_step = value["val_history"], value["best_step"]
        return net, float(value["rmse"])

    def devices(self) -> list[str]:
        """The devices this experiment's networks were trained on (as their tasks recorded)."""
        devices = set(self._devices)
        if self.source_experiment is not None:
            devices |= set(self.source_experiment.devices())
        return sorted(devices)

    # -- the networks -----------------------------------------------------------------
    def conventional(self, env: str, fraction: float, seed: int) -> tuple[CtfCnn, float]:
        """The conventional CNN on ``fraction`` of ``env`` and its test RMSE (cm)."""
        key = _conventional_key(env, fraction, seed)
        if key not in self._conventional:
            self._run([(self._conventional, key, (env, fraction, seed),
                        self._conventional_task(env, fraction, seed))],
                      backend="serial", progress=False)
        return self._conventional[key]

    def g1(self, source: str, seed: int) -> CtfCnn:
        """Stage 1: the conventional CNN on ``source_fraction`` of the source."""
        if self.source_experiment is not None:
            return self.source_experiment.g1(source, seed)
        return self.conventional(source, self.source_fraction, seed)[0]

    def proposed(self, target: str, source: str, fraction: float, seed: int,
                 k_multiples=(1, 2, 4)) -> tuple[TransferResult, float]:
        """Stages 1-6 for (target, source, fraction) and the final model's test RMSE."""
        if target == source:
            raise ParameterError("source", f"an environment other than the target {target!r}",
                                 source)
        key = _proposed_key(target, source, fraction, seed, k_multiples)
        if key not in self._proposed:
            self._run([(self._proposed, key, (target, source, fraction, seed),
                        self._proposed_task(target, source, fraction, seed, k_multiples))],
                      backend="serial", progress=False)
        return self._proposed[key]

    def controlled(self, env: str, fraction: float, seed: int,
                   k_multiples=(1, 2, 4)) -> tuple[CtfCnn, float]:
        """The fair control at ``fraction`` of ``env`` and its test RMSE (cm).

        :func:`train_conventional_selected` with the step budget of the proposed
        method's stage 6 for the same labelled set and k schedule
        (:func:`step_budget`), validation checks every conventional-length run of
        steps, on this experiment's validation split.
        """
        key = _control_key(env, fraction, seed, k_multiples)
        if key not in self._control:
            self._run([(self._control, key, (env, fraction, seed),
                        self._control_task(env, fraction, seed, k_multiples))],
                      backend="serial", progress=False)
        return self._control[key]

    def precompute(self, conventional=(), proposed=(), k_multiples=(1, 2, 4),
                   n_jobs: int = 1, control=(), *, backend: str | None = None,
                   scheduler: str | None = None, progress: bool | None = True) -> None:
        """Train the listed networks ahead of the tables, as sweeps of the engine.

        Two sweeps: first every network that needs no other (conventional CNNs, each
        source's g1 among them, and the fair controls), then the proposed pipelines,
        each with its source's g1. Every network draws its initialisation, batch order
        and dropout from its own derived seed (see the class notes) and its task runs
        with one torch thread, so the results are the same whatever the backend and
        the number of workers; only the wall time changes.

        Parameters
        ----------
        conventional : iterable of (env, fraction, seed)
        proposed : iterable of (target, source, fraction, seed)
        k_multiples : sequence of float
        n_jobs : int >= 1
            Local worker processes (joblib, or a local Dask cluster); 1: in this process.
        control : iterable of (env, fraction, seed)
            Fair controls (:meth:`controlled`) with the step budget of ``k_multiples``.
        backend : {"serial", "joblib", "dask"}, optional
            Default: ``"dask"`` when a scheduler is known, else ``"joblib"`` when
            ``n_jobs > 1``, else ``"serial"`` (:func:`wiloc_core.experiment.run_sweep`).
        scheduler : str, optional
            Dask scheduler address (``"tcp://host:8786"``); default ``$WILOC_SCHEDULER``.
        progress : bool or None
            A task progress bar per sweep (terminals and Jupyter only).
        """
        n_jobs = int(n_jobs)
        if n_jobs < 1:
            raise ParameterError("n_jobs", "an integer >= 1", n_jobs)
        run = {"backend": backend, "n_jobs": n_jobs, "scheduler": scheduler,
               "progress": progress}
        proposed = list(proposed)
        sources = {(s, sd) for _, s, _, sd in proposed}
        if self.source_experiment is not None:
            self.source_experiment.precompute(
                [(s, self.source_experiment.source_fraction, sd) for s, sd in sorted(sources)],
                **run)
            g1_args = []
        else:
            g1_args = [(s, self.source_fraction, sd) for s, sd in sorted(sources)]
        first, seen = [], set()
        for args in [*conventional, *g1_args]:
            key = _conventional_key(*args)
            if key not in self._conventional and key not in seen:
                seen.add(key)
                first.append((self._conventional, key, args, self._conventional_task(*args)))
        for args in control:
            key = _control_key(*args, k_multiples)
            if key not in self._control and key not in seen:
                seen.add(key)
                first.append((self._control, key, args, self._control_task(*args, k_multiples)))
        # large training sets first, so that no worker is left with a long job at the end
        self._run(sorted(first, key=lambda job: -float(job[2][1])), **run)
        second = []
        for args in proposed:
            key = _proposed_key(*args, k_multiples)
            if key not in self._proposed and key not in seen:
                seen.add(key)
                second.append((self._proposed, key, args, self._proposed_task(*args, k_multiples)))
        self._run(sorted(second, key=lambda job: -float(job[2][2])), **run)


def _conventional_key(env, fraction, seed) -> tuple:
    """Memory key of a conventional CNN (fractions compared to 6 decimals)."""
    return (env, round(float(fraction), 6), seed)


def _proposed_key(target, source, fraction, seed, k_multiples) -> tuple:
    """Memory key of one proposed pipeline."""
    return (target, source, round(float(fraction), 6), seed, tuple(k_multiples))


def _control_key(env, fraction, seed, k_multiples) -> tuple:
    """Memory key of one fair control (its budget follows the k schedule)."""
    return (env, round(float(fraction), 6), seed, tuple(k_multiples))


# ------------------------------------------------------------------ the engine's tasks
# Module-level functions of (data, **params): any worker imports them by name. Each
# returns plain values and state dicts (CPU tensors), never modules.

def _env_split(position_id, env: str, seed: int, split: dict) -> CtfSplit:
    """The split of environment ``env`` under seed ``seed`` (seed derived from both)."""
    return make_split(position_id, kind=split["kind"], test_fraction=split["test_fraction"],
                      val_fraction=split["val_fraction"], seed=_seed_for(seed, "split", env))


@contextmanager
def _deterministic(settings: TrainSettings):
    """Deterministic torch algorithms for one task, restoring the caller's choice.

    On CUDA only warn (some kernels have no deterministic version); on the CPU the
    chapter's numbers are bit-for-bit repeatable.
    """
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    cuda = resolve_device(settings.device).type == "cuda"
    torch.use_deterministic_algorithms(True, warn_only=cuda)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


def _config_dict(config) -> dict:
    if isinstance(config, CtfCnnConfig):
        return config.to_dict()
    return CtfCnnConfig(**(config or {})).to_dict()


def _state(net: nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in net.state_dict().items()}


def _state_digest(net: nn.Module) -> str:
    return digest_data(_state(net))


def _cnn_from_state(state: dict, config) -> CtfCnn:
    net = CtfCnn(_config_dict(config))
    net.load_state_dict(state)
    return net.eval()


def _transfer_result(value: dict, config) -> TransferResult:
    """A :class:`TransferResult` from :func:`task_proposed`'s value."""
    g_final = _cnn_from_state(value["g_final"], config)
    g2 = _cnn_from_state(value["g2"], config)
    g4 = RefinedModel(g2, g2)
    g4.fc.load_state_dict(value["g4_fc"])
    g4.out.load_state_dict(value["g4_out"])
    return TransferResult(g_final, g2, g4.eval(), int(value["chosen_k"]), list(value["history"]),
                          np.asarray(value["pseudo_index"], dtype=np.int64))


def task_conventional(data: dict, *, env: str, fraction: float, seed: int, split: dict,
                      settings: TrainSettings, config: dict) -> dict:
    """Task: the conventional CNN (eq. 5) on ``fraction`` of one environment.

    Parameters
    ----------
    data : dict
        ``"X"`` [n, 601, 2] float32 CTFs, ``"y"`` [n, 2] positions (cm),
        ``"position_id"`` [n] of the environment.
    env : str
        Its name (enters the split's and the network's seeds).
    fraction, seed : labelled fraction and run seed.
    split : dict
        ``kind``, ``test_fraction``, ``val_fraction`` of :func:`make_split`.
    settings : TrainSettings
    config : dict
        CNN sizes.

    Returns
    -------
    dict
        ``"net"`` (state dict), ``"rmse"`` (test RMSE, cm) and ``"device"``.
    """
    s = _env_split(data["position_id"], env, seed, split)
    lab = s.labelled(fraction)
    with _deterministic(settings):
        net = train_conventional(data["X"][lab], data["y"][lab], settings,
                                 _seed_for(seed, "conventional", env, fraction), config)
        rmse = metrics.rmse(net.predict(data["X"][s.test]), data["y"][s.test])
    return {"net": _state(net), "rmse": rmse, "device": describe_device(settings.device)}


def task_control(data: dict, *, env: str, fraction: float, seed: int, k_multiples, split: dict,
                 settings: TrainSettings, config: dict) -> dict:
    """Task: the fair control (:func:`train_conventional_selected`) on one environment.

    Parameters as :func:`task_conventional`, plus ``k_multiples``, which set the step
    budget (:func:`step_budget`).

    Returns
    -------
    dict
        ``"net"``, ``"rmse"`` (test, cm), ``"device"``, ``"best_step"`` and
        ``"val_history"``.
    """
    s = _env_split(data["position_id"], env, seed, split)
    lab = s.labelled(fraction)
    budget = step_budget(lab.size, s.unlabelled(fraction).size, settings, k_multiples)
    with _deterministic(settings):
        net = train_conventional_selected(
            data["X"][lab], data["y"][lab], data["X"][s.val], data["y"][s.val], settings,
            _seed_for(seed, "control", env, fraction),
            n_steps=max(budget["stage6_total"], budget["conventional"]),
            eval_every=budget["conventional"], config=config)
        rmse = metrics.rmse(net.predict(data["X"][s.test]), data["y"][s.test])
    return {"net": _state(net), "rmse": rmse, "device": describe_device(settings.device),
            "best_step": int(net.best_step), "val_history": net.val_history}


def task_proposed(data: dict, *, target: str, source: str, fraction: float, seed: int,
                  k_multiples, split: dict, settings: TrainSettings, config: dict) -> dict:
    """Task: stages 2-6 (:func:`run_proposed`) for one target, source and fraction.

    Parameters
    ----------
    data : dict
        ``"target"``: the target's arrays (as :func:`task_conventional`); ``"g1"``: the
        state dict of the source's stage-1 network.
    target, source : str
    fraction, seed, k_multiples, split, settings, config : as :func:`task_conventional`.

    Returns
    -------
    dict
        ``"g_final"``, ``"g2"``, ``"g4_fc"``, ``"g4_out"`` (state dicts), ``"chosen_k"``,
        ``"history"``, ``"pseudo_index"``, ``"rmse"`` (test RMSE of g_final, cm) and
        ``"device"``.
    """
    arrays = data["target"]
    s = _env_split(arrays["position_id"], target, seed, split)
    g1 = _cnn_from_state(data["g1"], config)
    with _deterministic(settings):
        result = run_proposed(g1, SimpleNamespace(X=arrays["X"], y=arrays["y"]), s, fraction,
                              settings, k_multiples, _seed_for(seed, "proposed", target, source))
        rmse = metrics.rmse(result.g_final.predict(arrays["X"][s.test]), arrays["y"][s.test])
    return {"g_final": _state(result.g_final), "g2": _state(result.g2),
            "g4_fc": _state(result.g4.fc), "g4_out": _state(result.g4.out),
            "chosen_k": int(result.chosen_k), "history": result.history,
            "pseudo_index": np.asarray(result.pseudo_index, dtype=np.int64), "rmse": rmse,
            "device": describe_device(settings.device)}


def _data_digest(data: CtfData) -> str:
    h = hashlib.sha256()
    for array in (data.X, data.y, data.position_id):
        a = np.ascontiguousarray(array)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def chapter_tasks(environments, sources, table1_fractions, table2_fractions, fig4_fractions,
                  matrix_fraction, seeds, target_env, source_env):
    """Every network the CTF-transfer chapter trains, for :meth:`CtfExperiment.precompute`.

    Parameters
    ----------
    environments : list of str
    sources : dict
        Table II source per target.
    table1_fractions, table2_fractions, fig4_fractions : list of float
    matrix_fraction : float
        0 skips the target x source matrix.
    seeds : list of int
    target_env, source_env : str
        The Fig. 4 pair; Fig. 4 also needs the conventional CNN at 75 %.

    Returns
    -------
    conventional : list of (env, fraction, seed)
    proposed : list of (target, source, fraction, seed)
    control : list of (env, fraction, seed)
        The fair controls of Table II.
    """
    conventional, proposed, control = [], [], []
    for seed in seeds:
        conventional += [(env, f, seed) for env in environments for f in table1_fractions]
        conventional += [(t, f, seed) for t in environments for f in table2_fractions]
        proposed += [(t, sources[t], f, seed) for t in environments for f in table2_fractions]
        control += [(t, f, seed) for t in environments for f in table2_fractions]
        if matrix_fraction > 0:
            conventional += [(t, matrix_fraction, seed) for t in environments]
            proposed += [(t, s, matrix_fraction, seed) for t in environments
                         for s in environments if s != t]
        conventional += [(target_env, f, seed) for f in [0.75, *fig4_fractions]]
        proposed += [(target_env, source_env, f, seed) for f in fig4_fractions]
    return conventional, proposed, control


def conventional_rmse_table(experiment: CtfExperiment, environments, fractions, seeds):
    """Table I: conventional-CNN test RMSE (eq. 9) per environment, fraction and seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``environment``, ``fraction`` (0-1), ``seed``, ``n_train``, ``rmse_cm``.
    """
    import pandas as pd

    rows = []
    for env in environments:
        for fraction in fractions:
            for seed in seeds:
                _, rmse = experiment.conventional(env, fraction, seed)
                rows.append({"environment": env, "fraction": float(fraction), "seed": seed,
                             "n_train": experiment.split(env, seed).n_labelled(fraction),
                             "rmse_cm": rmse})
    return pd.DataFrame(rows)


def run_transfer(experiment: CtfExperiment, pairs, fractions, seeds, k_multiples=(1, 2, 4),
                 control: bool = False):
    """Table II: conventional vs proposed test RMSE and accuracy gain.

    Parameters
    ----------
    experiment : CtfExperiment
    pairs : iterable of (target, source)
    fractions : iterable of float
        Labelled fractions of the target.
    seeds : iterable of int
    k_multiples : sequence of float
    control : bool
        Add the fair control (:meth:`CtfExperiment.controlled`): ``control_cm`` and
        ``control_gain_pct`` (gain of the proposed method over the control).

    Returns
    -------
    pandas.DataFrame
        Columns ``target``, ``source``, ``fraction``, ``seed``, ``n_train``,
        ``conventional_cm``, ``proposed_cm``, ``gain_pct`` (:func:`metrics.accuracy_gain`),
        ``chosen_k``, ``g2_cm`` (test RMSE of the fine-tuned g2, for the ablation),
        ``n_val`` (validation sweeps), ``n_pool`` (unlabelled pool), and the control's
        columns when asked for.
    """
    import pandas as pd

    rows = []
    for target, source in pairs:
        for fraction in fractions:
            for seed in seeds:
                _, conv = experiment.conventional(target, fraction, seed)
                result, prop = experiment.proposed(target, source, fraction, seed, k_multiples)
                data, split = experiment.datasets[target], experiment.split(target, seed)
                g2 = metrics.rmse(result.g2.predict(data.X[split.test]), data.y[split.test])
                row = {"target": target, "source": source, "fraction": float(fraction),
                       "seed": seed, "n_train": split.n_labelled(fraction),
                       "conventional_cm": conv, "proposed_cm": prop,
                       "gain_pct": metrics.accuracy_gain(conv, prop),
                       "chosen_k": result.chosen_k, "g2_cm": g2, "n_val": int(split.val.size),
                       "n_pool": int(split.unlabelled(fraction).size)}
                if control:
                    _, ctrl = experiment.controlled(target, fraction, seed, k_multiples)
                    row.update(control_cm=ctrl, control_gain_pct=metrics.accuracy_gain(ctrl, prop))
                rows.append(row)
    return pd.DataFrame(rows)


def transfer_matrix(experiment: CtfExperiment, environments, fraction: float, seeds,
                    k_multiples=(1, 2, 4)):
    """Every target x source pair at one fraction: mean accuracy gain over seeds.

    Returns
    -------
    pandas.DataFrame
        Index = target, columns = source, values = mean gain (%); the diagonal is NaN.
    """
    pairs = [(t, s) for t in environments for s in environments if s != t]
    table = run_transfer(experiment, pairs, [fraction], seeds, k_multiples)
    matrix = table.groupby(["target", "source"])["gain_pct"].mean().unstack("source")
    return matrix.reindex(index=list(environments), columns=list(environments))


def fig4_table(experiment: CtfExperiment, target: str, source: str, fractions, seeds,
               k_multiples=(1, 2, 4), bar_fraction: float = 0.75):
    """Fig. 4: accuracy gain of both methods over the conventional CNN at 75 %, per seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``fraction``, ``seed``, ``bar_cm`` (test RMSE of the conventional CNN at
        ``bar_fraction``), ``conventional_gain`` and ``proposed_gain`` (%,
        :func:`metrics.accuracy_gain` over the bar).
    """
    import pandas as pd

    rows = []
    for seed in seeds:
        _, bar = experiment.conventional(target, bar_fraction, seed)
        for fraction in fractions:
            _, conv = experiment.conventional(target, fraction, seed)
            _, prop = experiment.proposed(target, source, fraction, seed, k_multiples)
            rows.append({"fraction": float(fraction), "seed": seed, "bar_cm": bar,
                         "conventional_gain": metrics.accuracy_gain(bar, conv),
                         "proposed_gain": metrics.accuracy_gain(bar, prop)})
    return pd.DataFrame(rows)


def table1_view(table1_runs, environments=None):
    """Table I as printed: per environment, the paper's RMSE beside our mean and sd per size."""
    t1 = table1_runs.groupby(["environment", "fraction"])["rmse_cm"].agg(["mean", "std"]).reset_index()
    t1["paper"] = [paper_value_or_nan("000", "Table I", r.environment, size_label(r.fraction))
                   for r in t1.itertuples()]
    view = t1.pivot(index="environment", columns="fraction", values=["paper", "mean", "std"])
    order = list(environments) if environments is not None else list(
        dict.fromkeys(table1_runs["environment"]))
    view = view.reindex(order)
    view = view[[(stat, f) for f in sorted(t1.fraction.unique(), reverse=True)
                 for stat in ("paper", "mean", "std")]]
    view.columns = [f"{'ours' if stat == 'mean' else stat} {size_label(f)}" for stat, f in view.columns]
    return view


def table2_view(table2_runs):
    """Table II per (target, source, size): mean RMSEs, mean gain and its sd, the paper's gain.

    With the fair control's columns when ``table2_runs`` has them (``control_cm``, and
    ``control_gain_pct``: the proposed method's gain over the control).
    """
    columns = ["conventional_cm", *(["control_cm"] if "control_cm" in table2_runs else []),
               "proposed_cm", "gain_pct",
               *(["control_gain_pct"] if "control_gain_pct" in table2_runs else []),
               "g2_cm", "chosen_k"]
    keys = ["target", "source", "fraction"]
    view = table2_runs.groupby(keys, sort=False)[columns].mean().reset_index()
    view.insert(view.columns.get_loc("gain_pct") + 1, "gain_std",
                table2_runs.groupby(keys, sort=False)["gain_pct"].std().to_numpy())
    view["paper gain"] = [paper_value_or_nan("000", "Table II", r.target,
                                             f"Accuracy Gain {size_label(r.fraction)}")
                          for r in view.itertuples()]
    view.insert(2, "size_pct", 100 * view.pop("fraction"))
    return view


def n_total_from_runs(table1_runs) -> int:
    """Sweeps per environment of a run, from its Table I training sizes.

    ``n_train = round(fraction x n_total)`` for every row: the smallest ``n_total``
    consistent with all rows (for runs whose tables predate ``n_val`` / ``n_pool``).
    """
    rows = table1_runs[["fraction", "n_train"]].drop_duplicates()
    big = rows.loc[rows["fraction"].idxmax()]
    guess = int(round(big["n_train"] / big["fraction"]))
    for n in range(max(guess - 3, 1), guess + 4):
        if all(int(round(f * n)) == int(k) for f, k in zip(rows["fraction"], rows["n_train"], strict=True)):
            return n
    raise ParameterError("table1_runs", "training sizes round(fraction x n_total) of one n_total",
                         rows.to_dict("records"))


def data_digest(data: CtfData) -> str:
    """sha256 of one environment's arrays (CTFs, positions, position ids), for provenance."""
    return _data_digest(data)


def crossing_fraction(fractions, gains) -> float:
    """Smallest training fraction from which the gain stays >= 0 (linear interpolation).

    Used for Fig. 4: the gain of the proposed method over the conventional CNN at
    75 % crosses zero where the proposed method "replicates" the 75 % accuracy
    (paper: at 40 %).

    Parameters
    ----------
    fractions : array_like, shape [m]
        Training fractions, any order.
    gains : array_like, shape [m]
        Gain (%) at each fraction.

    Returns
    -------
    float
        The fraction where the interpolated gain curve last crosses zero from below;
        the smallest fraction if all gains are >= 0; NaN if the largest fraction's gain
        is negative.
    """
    f = np.asarray(fractions, dtype=float)
    gain = np.asarray(gains, dtype=float)
    if f.shape != gain.shape or f.ndim != 1 or f.size == 0:
        raise ParameterError("gains", "one gain per fraction (1-D)", (f.shape, gain.shape))
    order = np.argsort(f)
    f, gain = f[order], gain[order]
    if gain[-1] < 0:
        return float("nan")
    below = np.flatnonzero(gain < 0)
    if below.size == 0:
        return float(f[0])
    i = below[-1]
    return float(f[i] + (f[i + 1] - f[i]) * (0 - gain[i]) / (gain[i + 1] - gain[i]))


def size_label(fraction: float) -> str:
    """``0.025 -> "2.5%"`` (the paper's column spelling)."""
    return f"{100 * float(fraction):g}%"

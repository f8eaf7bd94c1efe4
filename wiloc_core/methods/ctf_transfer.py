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
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from wiloc_core import metrics
from wiloc_core.data.ctf import CtfData, CtfSplit, make_split
from wiloc_core.errors import ParameterError
from wiloc_core.models import checkpoint
from wiloc_core.models.ctf_cnn import CtfCnn, CtfCnnConfig, as_tensor

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
    "k_schedule",
    "run_proposed",
    "CtfExperiment",
    "conventional_rmse_table",
    "run_transfer",
    "transfer_matrix",
    "crossing_fraction",
    "chapter_tasks",
    "DEFAULT_SOURCES",
]

#: Source environment used for each target in Table II (the paper names only
#: Lobby -> Lab, for Fig. 4); our choice for the others [I].
DEFAULT_SOURCES = {"Lab": "Lobby", "Narrow Corridor": "Lab", "Lobby": "Lab",
                   "Sports Hall": "Lobby"}


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings shared by every stage (Adam, §III-A).

    Parameters
    ----------
    epochs : int
        Passes over the (larger of the labelled / pseudo-labelled) training set.
    lr : float
        Adam learning rate (the paper does not give one; 1e-3 is Adam's default).
    batch_size : int
        Mini-batch size (per set for eq. 8).
    min_steps : int
        Lower bound on gradient steps, so that tiny labelled sets (2.5 % = 49 sweeps)
        are not left after a handful of steps.
    weight_decay : float
        Adam L2 penalty.
    head_epochs : int or None
        Epochs of stage 3 (only the head is trained; cheap). None: ``epochs``.
    """

    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 32
    min_steps: int = 0
    weight_decay: float = 0.0
    head_epochs: int | None = None

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(name, "a positive integer", getattr(self, name))
        if self.min_steps < 0:
            raise ParameterError("min_steps", "an integer >= 0", self.min_steps)
        if not self.lr > 0:
            raise ParameterError("lr", "a learning rate > 0", self.lr)


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


def _batches(n: int, batch_size: int, g: np.random.Generator):
    """Endless stream of index batches of size min(n, batch_size), reshuffled each pass.

    A trailing batch of a single sample is merged into the previous one (batch
    normalisation needs two samples).
    """
    b = min(n, batch_size)
    while True:
        perm = g.permutation(n)
        cuts = list(range(0, n, b))
        if n - cuts[-1] < 2 and len(cuts) > 1:
            cuts.pop()
        for i, start in enumerate(cuts):
            stop = cuts[i + 1] if i + 1 < len(cuts) else n
            yield perm[start:stop]


def _n_steps(n: int, settings: TrainSettings, epochs: int) -> int:
    return max(epochs * int(np.ceil(n / settings.batch_size)), settings.min_steps)


def fit(predict_std, parameters, X, y_std, settings: TrainSettings, seed, *, X_pseudo=None,
        y_pseudo_std=None, epochs: int | None = None, modules=()) -> list[float]:
    """Minimise eq. (5)/(6)/(7), or eq. (8) when pseudo-labelled data are given, with Adam.

    Parameters
    ----------
    predict_std : callable
        Maps a float32 batch (same leading axis as ``X``) to standardised positions
        [B, 2].
    parameters : iterable of torch.nn.Parameter
        What Adam updates.
    X : torch.Tensor, float32, shape [n, ...]
        Labelled inputs.
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
    g = np.random.default_rng(seed)
    steps = _n_steps(max(n_l, n_p), settings, epochs)
    steps_per_epoch = max(1, steps // epochs)
    labelled = _batches(n_l, settings.batch_size, g)
    pseudo = _batches(n_p, settings.batch_size, g) if n_p >= 2 else None
    params = list(parameters)
    opt = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    history, running = [], []
    for m in modules:
        m.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for step in range(steps):
            idx = torch.as_tensor(next(labelled))
            loss = squared_error_loss(predict_std(X[idx]), y_std[idx])
            if pseudo is not None:
                jdx = torch.as_tensor(next(pseudo))
                loss = loss + squared_error_loss(predict_std(X_pseudo[jdx]), y_pseudo_std[jdx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running.append(float(loss.detach()))
            if (step + 1) % steps_per_epoch == 0 or step + 1 == steps:
                history.append(float(np.mean(running)))
                running = []
    for m in modules:
        m.eval()
    return history


def _standardise_labels(net, y) -> torch.Tensor:
    return (as_tensor(y) - net.y_mean) / net.y_scale


def _fit_cnn(net: CtfCnn, X, y, settings, seed, X_pseudo=None, y_pseudo=None) -> list[float]:
    """Train every parameter of ``net`` on standardised labels (eqs. 5, 6 and 8)."""
    xp = None if X_pseudo is None else as_tensor(X_pseudo)
    yp = None if y_pseudo is None else _standardise_labels(net, y_pseudo)

    def predict_std(batch):
        return net.head(net.trunk(batch))

    history = fit(predict_std, net.parameters(), as_tensor(X), _standardise_labels(net, y),
                  settings, seed, X_pseudo=xp, y_pseudo_std=yp, modules=[net])
    net.loss_history = history
    return history


def _check_xy(X, y, name="X"):
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 3 or y.shape != (X.shape[0], 2):
        raise ParameterError(name, "CTFs [n, n_freq, 2] with labels [n, 2]",
                             f"shapes {X.shape} and {y.shape}")
    return X, y


def _new_cnn(config, seed) -> CtfCnn:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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
    head_params = [p for m in (g4.fc, g4.out) for p in m.parameters()]
    epochs = settings.head_epochs if settings.head_epochs is not None else settings.epochs
    g4.loss_history = fit(g4.head, head_params, mu, _standardise_labels(g2, y), settings, seed,
                          epochs=epochs, modules=[g4.fc, g4.dropout, g4.out])
    g4.eval()
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
        Target environment.
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
    """Shared splits and cached models for the chapter's tables and figures.

    The conventional CNN at 75 % of an environment is also that environment's g1
    when it serves as a source, and the conventional RMSE at 10 % appears in both
    Table I and Table II; caching keeps them one model each.

    Seeds: the split of environment ``env`` under seed ``s`` is drawn with a seed
    derived from ``(s, "split", env)``; every network gets its own derived seed
    (stage name, environment, fraction, k), so results do not depend on the order in
    which tables are computed.

    Disk cache: with ``cache_dir`` every trained network is also written there (safe
    checkpoints, atomic writes) under a digest of everything that determines it - the
    data, split, settings, CNN sizes, seed and the source code of this module, the CNN
    and the splitter. A run that is stopped half-way resumes where it stopped, and a
    full-profile run can be spread over several sittings; any code change starts afresh.

    Parameters
    ----------
    datasets : dict
        Environment name -> :class:`CtfData`.
    settings : TrainSettings
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
    cache_dir : path-like, optional
        Folder of the disk cache (None: memory only).
    """

    def __init__(self, datasets: dict[str, CtfData], settings: TrainSettings, *,
                 split_kind: str = "sample", test_fraction: float = 0.25,
                 val_fraction: float = 0.2, source_fraction: float = 0.75, config=None,
                 source_experiment: CtfExperiment | None = None, cache_dir=None):
        self.source_experiment = source_experiment
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.datasets = dict(datasets)
        self.settings = settings
        self.split_kind = split_kind
        self.test_fraction = test_fraction
        self.val_fraction = val_fraction
        self.source_fraction = source_fraction
        self.config = config
        self._splits: dict = {}
        self._conventional: dict = {}
        self._proposed: dict = {}

    def _data(self, env: str) -> CtfData:
        if env not in self.datasets:
            raise ParameterError("environment", f"one of {sorted(self.datasets)}", env)
        return self.datasets[env]

    def split(self, env: str, seed: int) -> CtfSplit:
        key = (env, seed)
        if key not in self._splits:
            self._splits[key] = make_split(
                self._data(env).position_id, kind=self.split_kind,
                test_fraction=self.test_fraction, val_fraction=self.val_fraction,
                seed=_seed_for(seed, "split", env))
        return self._splits[key]

    def conventional(self, env: str, fraction: float, seed: int) -> tuple[CtfCnn, float]:
        """The conventional CNN on ``fraction`` of ``env`` and its test RMSE (cm)."""
        key = _conventional_key(env, fraction, seed)
        if key not in self._conventional:
            path = self._cache_path("conventional", key)
            cached = _read_conventional(path, self.config)
            if cached is None:
                data, split = self._data(env), self.split(env, seed)
                lab = split.labelled(fraction)
                net = train_conventional(data.X[lab], data.y[lab], self.settings,
                                         _seed_for(seed, "conventional", env, fraction),
                                         self.config)
                rmse = metrics.rmse(net.predict(data.X[split.test]), data.y[split.test])
                cached = (net, rmse)
                _write_conventional(path, net, rmse)
            self._conventional[key] = cached
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
            source_exp = self.source_experiment or self
            g1_key = source_exp._cache_parts("conventional", (source, source_exp.source_fraction,
                                                              seed))
            path = self._cache_path("proposed", key, g1=g1_key)
            cached = _read_proposed(path, self.config)
            if cached is None:
                data, split = self._data(target), self.split(target, seed)
                result = run_proposed(self.g1(source, seed), data, split, fraction,
                                      self.settings, k_multiples,
                                      _seed_for(seed, "proposed", target, source))
                rmse = metrics.rmse(result.g_final.predict(data.X[split.test]),
                                    data.y[split.test])
                cached = (result, rmse)
                _write_proposed(path, result, rmse, self.config)
            self._proposed[key] = cached
        return self._proposed[key]

    def _cache_parts(self, kind: str, key) -> dict:
        """Everything that determines the network behind ``key`` (JSON-able)."""
        return {"kind": kind, "key": list(key), "data": _data_digest(self._data(key[0])),
                **self.describe(), "config": _config_dict(self.config), "code": _code_digest()}

    def _cache_path(self, kind: str, key, **more) -> Path | None:
        if self.cache_dir is None:
            return None
        parts = {**self._cache_parts(kind, key), **more}
        text = json.dumps(parts, sort_keys=True)
        return self.cache_dir / f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:32]}.pt"

    def precompute(self, conventional=(), proposed=(), k_multiples=(1, 2, 4),
                   n_jobs: int = 1) -> None:
        """Train the listed networks ahead of the tables, in ``n_jobs`` worker processes.

        Every network draws its initialisation, batch order and dropout from its own
        derived seed (see the class notes), so the cache ends up holding the same models
        and RMSEs whatever ``n_jobs`` is; only the wall time changes. Workers are forked
        (POSIX only) and each uses one torch thread; with ``n_jobs=1`` the networks are
        trained here, in order.

        Parameters
        ----------
        conventional : iterable of (env, fraction, seed)
        proposed : iterable of (target, source, fraction, seed)
            The g1 of every source is trained first (in the same pool), then the
            proposed pipelines.
        k_multiples : sequence of float
        n_jobs : int >= 1
        """
        n_jobs = int(n_jobs)
        if n_jobs < 1:
            raise ParameterError("n_jobs", "an integer >= 1", n_jobs)
        proposed = list(proposed)
        g1_keys = [] if self.source_experiment is not None else [
            (s, self.source_fraction, sd) for _, s, _, sd in proposed]
        conv = {_conventional_key(*args): args for args in [*conventional, *g1_keys]}
        prop = {_proposed_key(*args, k_multiples): (*args, tuple(k_multiples))
                for args in proposed}
        # (train here, train in a worker, cache, tasks, position of the fraction in a key)
        stages = [(self.conventional, _pool_conventional, self._conventional, conv, 1),
                  (self.proposed, _pool_proposed, self._proposed, prop, 2)]
        for train, pool_task, cache, tasks, at in stages:
            # large training sets first, so that no worker is left with a long job at the end
            missing = sorted((key for key in tasks if key not in cache), key=lambda k: -k[at])
            if n_jobs == 1:
                for key in missing:
                    train(*tasks[key])
            else:
                self._run_pool(pool_task, [tasks[key] for key in missing], n_jobs, cache)

    def _run_pool(self, task, arguments, n_jobs, cache) -> None:
        """Run ``task`` on every argument tuple in forked workers; file results in ``cache``."""
        import multiprocessing

        global _POOL_EXPERIMENT
        if not arguments:
            return
        _POOL_EXPERIMENT = self
        try:
            with multiprocessing.get_context("fork").Pool(
                    min(n_jobs, len(arguments)), initializer=torch.set_num_threads,
                    initargs=(1,)) as pool:
                for key, value in pool.imap_unordered(task, arguments, chunksize=1):
                    cache[key] = value
        finally:
            _POOL_EXPERIMENT = None

    def describe(self) -> dict:
        return {"settings": asdict(self.settings), "split_kind": self.split_kind,
                "test_fraction": self.test_fraction, "val_fraction": self.val_fraction,
                "source_fraction": self.source_fraction}


def _conventional_key(env, fraction, seed) -> tuple:
    """Cache key of a conventional CNN (fractions compared to 6 decimals)."""
    return (env, round(float(fraction), 6), seed)


def _proposed_key(target, source, fraction, seed, k_multiples) -> tuple:
    """Cache key of one proposed pipeline."""
    return (target, source, round(float(fraction), 6), seed, tuple(k_multiples))


# ------------------------------------------------------------------ disk cache
_CODE_DIGEST: str | None = None


def _code_digest() -> str:
    """sha256 of the source files whose code shapes a trained network."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        from wiloc_core.data import ctf as ctf_data
        from wiloc_core.models import ctf_cnn

        h = hashlib.sha256()
        for module in (ctf_data, ctf_cnn):
            h.update(Path(module.__file__).read_bytes())
        h.update(Path(__file__).read_bytes())
        _CODE_DIGEST = h.hexdigest()
    return _CODE_DIGEST


def _data_digest(data: CtfData) -> str:
    h = hashlib.sha256()
    for array in (data.X, data.y, data.position_id):
        a = np.ascontiguousarray(array)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class _Bundle(nn.Module):
    """The networks of one proposed run, saved as one checkpoint (g4 = its head on g2)."""

    def __init__(self, g_final: CtfCnn, g2: CtfCnn, g4: RefinedModel):
        super().__init__()
        self.g_final, self.g2 = g_final, g2
        self.g4_fc, self.g4_out = g4.fc, g4.out


def _config_dict(config) -> dict:
    if isinstance(config, CtfCnnConfig):
        return config.to_dict()
    return CtfCnnConfig(**(config or {})).to_dict()


def _write_conventional(path: Path | None, net: CtfCnn, rmse: float) -> None:
    if path is not None:
        checkpoint.save_checkpoint(path, net, architecture="ctf-cnn-cached",
                                   config=net.config, extra={"rmse": rmse})


def _read_conventional(path: Path | None, config):
    if path is None or not path.is_file():
        return None
    net = CtfCnn(_config_dict(config))
    ckpt = checkpoint.load_checkpoint(path, net, architecture="ctf-cnn-cached",
                                      config=net.config)
    return net.eval(), float(ckpt.extra["rmse"])


def _empty_bundle(config) -> _Bundle:
    cfg = _config_dict(config)
    return _Bundle(CtfCnn(cfg), CtfCnn(cfg), RefinedModel(CtfCnn(cfg), CtfCnn(cfg)))


def _write_proposed(path: Path | None, result: TransferResult, rmse: float, config) -> None:
    if path is None:
        return
    bundle = _Bundle(result.g_final, result.g2, result.g4)
    extra = {"rmse": rmse, "chosen_k": int(result.chosen_k), "history": result.history,
             "pseudo_index": [int(i) for i in result.pseudo_index]}
    checkpoint.save_checkpoint(path, bundle, architecture="ctf-transfer-result",
                               config=_config_dict(config), extra=extra)


def _read_proposed(path: Path | None, config):
    if path is None or not path.is_file():
        return None
    bundle = _empty_bundle(config)
    ckpt = checkpoint.load_checkpoint(path, bundle, architecture="ctf-transfer-result",
                                      config=_config_dict(config))
    bundle.eval()
    g4 = RefinedModel(bundle.g2, bundle.g2)
    g4.fc, g4.out = bundle.g4_fc, bundle.g4_out
    extra = ckpt.extra
    result = TransferResult(bundle.g_final, bundle.g2, g4.eval(), int(extra["chosen_k"]),
                            list(extra["history"]),
                            np.asarray(extra["pseudo_index"], dtype=np.int64))
    return result, float(extra["rmse"])


#: The experiment a forked worker of :meth:`CtfExperiment.precompute` trains for.
_POOL_EXPERIMENT: CtfExperiment | None = None


def _pool_conventional(args):
    return _conventional_key(*args), _POOL_EXPERIMENT.conventional(*args)


def _pool_proposed(args):
    return _proposed_key(*args), _POOL_EXPERIMENT.proposed(*args)


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
    """
    conventional, proposed = [], []
    for seed in seeds:
        conventional += [(env, f, seed) for env in environments for f in table1_fractions]
        conventional += [(t, f, seed) for t in environments for f in table2_fractions]
        proposed += [(t, sources[t], f, seed) for t in environments for f in table2_fractions]
        if matrix_fraction > 0:
            conventional += [(t, matrix_fraction, seed) for t in environments]
            proposed += [(t, s, matrix_fraction, seed) for t in environments
                         for s in environments if s != t]
        conventional += [(target_env, f, seed) for f in [0.75, *fig4_fractions]]
        proposed += [(target_env, source_env, f, seed) for f in fig4_fractions]
    return conventional, proposed


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


def run_transfer(experiment: CtfExperiment, pairs, fractions, seeds, k_multiples=(1, 2, 4)):
    """Table II: conventional vs proposed test RMSE and accuracy gain.

    Parameters
    ----------
    experiment : CtfExperiment
    pairs : iterable of (target, source)
    fractions : iterable of float
        Labelled fractions of the target.
    seeds : iterable of int
    k_multiples : sequence of float

    Returns
    -------
    pandas.DataFrame
        Columns ``target``, ``source``, ``fraction``, ``seed``, ``n_train``,
        ``conventional_cm``, ``proposed_cm``, ``gain_pct`` (:func:`metrics.accuracy_gain`),
        ``chosen_k``, ``g2_cm`` (test RMSE of the fine-tuned g2, for the ablation).
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
                rows.append({"target": target, "source": source, "fraction": float(fraction),
                             "seed": seed, "n_train": split.n_labelled(fraction),
                             "conventional_cm": conv, "proposed_cm": prop,
                             "gain_pct": metrics.accuracy_gain(conv, prop),
                             "chosen_k": result.chosen_k, "g2_cm": g2})
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

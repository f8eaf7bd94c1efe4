"""LoFi benchmark (paper 002, §IV-B/C): windows, inputs, training, Table II and Fig. 4.

The pipeline, as the authors' code does it (github.com/RS2002/LoFi: ``train_conv.py``,
``train_series.py``, ``model.py``), with our
choices marked:

1. **Split** each person's CSI sequence in time: first 90 % of the frames train, last
   10 % test (:func:`time_split`, applied to frames *before* windowing, so that no
   window straddles the cut).
2. **Windows** of 100 frames (about 1 s at 100 Hz); the target of a window is the
   **mean position over its frames** in metres (the authors' current code; their first
   commit used the last frame, see :func:`windows`). The authors draw 2000 random
   windows per epoch; here a fixed set of windows at a stride is used (ours).
3. **Inputs** (§IV-B): conv nets see the subcarrier correlation matrix F = M^T M
   (:func:`correlation_matrix`), series nets the amplitude standardised per subcarrier
   over the window (:func:`standardise`).
4. **Training** (:func:`train_and_test`): loss MSE(x) + MSE(y), Adam lr 1e-3 (CSI-BERT
   5e-4), weight decay 0.01, batch 64, 200 epochs (paper), best epoch chosen on a
   validation share of the *training* windows (the authors select on test; ours per the
   recommendation of §2.4). The authors clip the backbone's gradient norm at 3.0; the
   shared training layer has no clipping, so it is not reproduced (a known difference).
   CSI-BERT is trained from scratch (no masked pretraining).
5. **Table II** (:func:`table2_row`): mean and std of the 2-D error (m), region
   accuracy with 6, 4 and 2 classes (region grid: :data:`REGION_GRIDS`, a
   reconstruction, §2.7), model size; Fig. 4: :func:`error_cdf`.
"""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng

VERSION = 1
"""Version of the training task (:func:`train_task`): part of every cache key."""

AREA_M = (1.8, 4.8)
"""Paper 002 §IV-A: the movement area, x in [0, 1.8] m, y in [0, 4.8] m."""

WINDOW = 100
"""Frames per window (about 1 s at 100 Hz; authors' dataset.py)."""

PAD_VALUE = -1000.0
"""Marker of a lost packet or an unlabelled frame in the authors' files."""


# -- windows and splits ----------------------------------------------------------------------
def _positive_int(name: str, value, least: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < least:
        raise ParameterError(name, f"an integer >= {least}", value)
    return int(value)


def windows(csi_amplitude, positions, length: int = WINDOW, stride: int = 10,
            target: str = "mean", pad_value: float | None = PAD_VALUE):
    """Sliding windows of one CSI sequence and the target position of each.

    Parameters
    ----------
    csi_amplitude : array_like, float, shape (n, n_sc)
        CSI magnitude per frame and subcarrier (n_sc = 52 on the ESP32-S3).
    positions : array_like, float, shape (n, 2), m
        Per-frame (x, y) labels; rows equal to ``pad_value`` (or NaN) are unlabelled.
    length : int
        Frames per window (100).
    stride : int
        Frames between window starts (ours; the authors draw random starts).
    target : {"mean", "last", "centre"}
        ``"mean"``: the mean of the window's positions, what the authors' current code
        trains on (§2.0); ``"last"``: the last frame (their first commit); ``"centre"``:
        frame ``length // 2`` (a commented-out alternative in their code).
    pad_value : float or None
        Windows with any unlabelled frame are dropped, as the authors redraw them.

    Returns
    -------
    X : numpy.ndarray, float32 (m, length, n_sc)
    y : numpy.ndarray, float64 (m, 2), m
    starts : numpy.ndarray, int64 (m,)
        First frame of each window.
    """
    a = np.asarray(csi_amplitude, dtype=np.float64)
    p = np.asarray(positions, dtype=np.float64)
    if a.ndim != 2 or p.shape != (a.shape[0], 2):
        raise ParameterError("csi_amplitude, positions", "shapes (n, n_sc) and (n, 2)",
                             f"{a.shape} and {p.shape}")
    length, stride = _positive_int("length", length), _positive_int("stride", stride)
    if target not in ("mean", "last", "centre"):
        raise ParameterError("target", "'mean', 'last' or 'centre'", target)
    n = a.shape[0]
    starts = np.arange(0, max(n - length + 1, 0), stride, dtype=np.int64)
    bad = np.isnan(p).any(axis=1)
    if pad_value is not None:
        bad |= (p == pad_value).any(axis=1)
    bad_run = np.concatenate([[0], np.cumsum(bad)])
    starts = starts[bad_run[starts + length] == bad_run[starts]]
    idx = starts[:, None] + np.arange(length)
    if target == "mean":
        y = p[idx].mean(axis=1)
    else:
        y = p[idx[:, -1] if target == "last" else idx[:, length // 2]]
    return a[idx].astype(np.float32), y.reshape(-1, 2), starts


def time_split(n_windows, train_fraction: float = 0.9):
    """Chronological split: the first ``train_fraction`` of each sequence trains.

    Parameters
    ----------
    n_windows : int or sequence of int
        Length of one sequence, or of each of several sequences laid end to end (one per
        person, as in the LoFi files). The authors split each person's frames (§2.0);
        split frames before windowing so that no window straddles the cut.
    train_fraction : float in (0, 1)
        0.9 in the authors' code.

    Returns
    -------
    train, test : numpy.ndarray, int64
        Indices in time order; per sequence of length n the first
        ``floor(train_fraction * n)`` go to ``train``.
    """
    if not 0 < float(train_fraction) < 1:
        raise ParameterError("train_fraction", "a share in (0, 1)", train_fraction)
    lengths = np.atleast_1d(np.asarray(n_windows))
    if lengths.ndim != 1 or (lengths < 0).any() or (lengths != np.round(lengths)).any():
        raise ParameterError("n_windows", "a length >= 0 or a list of them", n_windows)
    train, test, offset = [], [], 0
    for n in lengths.astype(np.int64):
        cut = int(np.floor(float(train_fraction) * n))
        train.append(np.arange(offset, offset + cut))
        test.append(np.arange(offset + cut, offset + n))
        offset += int(n)
    return np.concatenate(train).astype(np.int64), np.concatenate(test).astype(np.int64)


# -- inputs (§IV-B, §2.1) ---------------------------------------------------------------------
def correlation_matrix(window, normalise: bool = False):
    """Subcarrier correlation matrix F = M^T M / T of one window or a stack (paper §IV-B).

    Parameters
    ----------
    window : array_like, float, shape (..., T, S)
        CSI magnitude M (raw, as the paper recommends; §2.1).
    normalise : bool
        False: F / T (the paper's F up to the constant 1/T, ours, which keeps the input
        near the amplitude squared for any window length). True: divide by
        sqrt(F_ii F_jj), the cosine similarity of the subcarriers' time series (unit
        diagonal; ours, an option).

    Returns
    -------
    numpy.ndarray, float32, shape (..., S, S)
        Symmetric.
    """
    m = np.asarray(window, dtype=np.float64)
    if m.ndim < 2:
        raise ParameterError("window", "an array (..., T, S)", m.shape)
    f = np.einsum("...ti,...tj->...ij", m, m) / m.shape[-2]
    if normalise:
        d = np.sqrt(np.clip(np.diagonal(f, axis1=-2, axis2=-1), 1e-24, None))
        f = f / (d[..., :, None] * d[..., None, :])
    return f.astype(np.float32)


def standardise(window, pad_value: float | None = None, seed=None, eps: float = 1e-8):
    """Standardise each subcarrier over the time axis of each window (paper §IV-B).

    (M - mean_t) / (std_t + eps), as the authors' ``--norm`` (§2.1). With ``pad_value``
    (CSI-BERT on files with lost packets, §2.5) mean and std come from the other frames
    and padded frames become N(0, 1) draws from ``seed``.

    Parameters
    ----------
    window : array_like, float, shape (..., T, S)
    pad_value : float, optional
        A frame whose every subcarrier equals it is a pad.
    seed : int or numpy.random.Generator
        Only for pads.

    Returns
    -------
    numpy.ndarray, float32, shape (..., T, S)
    """
    m = np.asarray(window, dtype=np.float64)
    if m.ndim < 2:
        raise ParameterError("window", "an array (..., T, S)", m.shape)
    if pad_value is None:
        return ((m - m.mean(axis=-2, keepdims=True))
                / (m.std(axis=-2, keepdims=True) + eps)).astype(np.float32)
    pad = (m == pad_value).all(axis=-1, keepdims=True)
    keep = ~pad
    count = np.maximum(keep.sum(axis=-2, keepdims=True), 1)
    mean = np.where(keep, m, 0.0).sum(axis=-2, keepdims=True) / count
    var = np.where(keep, (m - mean) ** 2, 0.0).sum(axis=-2, keepdims=True) / count
    z = (m - mean) / (np.sqrt(var) + eps)
    noise = make_rng(seed).standard_normal(m.shape)
    return np.where(pad, noise, z).astype(np.float32)


def prepare(name: str, X, *, normalise_correlation: bool = False, pad_value=None, seed=0):
    """Network input for windows ``X`` (n, T, S): F for conv nets, standardised M else.

    Returns float32 (n, S, S) for ``cnn``/``resnet18``, (n, T, S) for the series nets.
    """
    from wiloc_core.models.lofi_nets import CONV_MODELS, MODEL_NAMES

    if name not in MODEL_NAMES:
        raise ParameterError("name", f"one of {MODEL_NAMES}", name)
    if name in CONV_MODELS:
        return correlation_matrix(X, normalise=normalise_correlation)
    return standardise(X, pad_value=pad_value, seed=seed)


# -- training ---------------------------------------------------------------------------------
def paper_settings(name: str, *, epochs: int = 200, device: str = "auto", progress: bool = False):
    """The paper's optimisation settings for one network (§IV-C, §2.4-2.5).

    Adam, lr 1e-3 (CSI-BERT fine-tuning: 5e-4), weight decay 0.01, batch 64, ``epochs``
    (paper 200), best epoch on 10 % of the training windows, no early stop (patience
    None). Returns a :class:`~wiloc_core.training.TrainSettings`.
    """
    from wiloc_core.training import TrainSettings

    lr = 5e-4 if name == "csi-bert" else 1e-3
    return TrainSettings(epochs=epochs, lr=lr, batch_size=64, weight_decay=0.01, patience=None,
                         val_fraction=0.1, device=device, progress=progress)


def xy_loss(pred, target):
    """MSE(x) + MSE(y) (m²): the authors' regression loss, a batch mean."""
    return ((pred - target) ** 2).mean(dim=0).sum()


def _peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux: the process's high-water mark, never lowered.
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


@dataclass
class BenchRun:
    """What :func:`train_and_test` returns for one network.

    Attributes
    ----------
    name : str
    pred : numpy.ndarray
        float64 (n_test, 2) positions (m), or int64 (n_test,) regions for a classifier.
    history : list of dict
        Per epoch ``epoch``, ``train_loss``, ``val_loss`` (loss units: m² or nats).
    fit : dict
        :class:`~wiloc_core.training.FitResult` as a dict (best epoch, device, seconds).
    n_params : int
        Trainable parameters of backbone + head.
    n_params_backbone : int
    peak_memory_bytes : int
        CUDA: ``torch.cuda.max_memory_allocated`` during training and testing. CPU: the
        growth of the process's peak resident set size (``resource`` ru_maxrss) over
        the run, 0 when an earlier peak was higher: a lower bound, coarser than the
        paper's "GPU Occupation".
    memory_kind : {"cuda_max_allocated", "cpu_peak_rss_delta"}
    """

    name: str
    pred: np.ndarray
    history: list
    fit: dict
    n_params: int
    n_params_backbone: int
    peak_memory_bytes: int
    memory_kind: str


def _measure(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        return lambda: ("cuda_max_allocated", int(torch.cuda.max_memory_allocated(device)))
    before = _peak_rss_bytes()
    return lambda: ("cpu_peak_rss_delta", max(0, _peak_rss_bytes() - before))


def train_task(data: dict, *, name: str, settings: dict, seed: int, model_kw: dict,
               n_classes: int | None = None, prep: dict | None = None,
               grad_clip: float | None = None) -> dict:
    """One network trained and tested: a task of the experiment engine.

    Parameters
    ----------
    data : dict
        ``train_x`` (n, T, S) raw windows, ``train_y`` (n, 2) m or (n,) region labels,
        ``test_x`` (m, T, S).
    name : one of :data:`~wiloc_core.models.lofi_nets.MODEL_NAMES`
    settings : dict
        :class:`~wiloc_core.training.TrainSettings` fields.
    seed : int
        Weights, validation split, batch order, dropout and pad noise.
    model_kw : dict
        Extra arguments of :func:`~wiloc_core.models.lofi_nets.build`.
    n_classes : int, optional
        Train a region classifier (cross-entropy, ``train_y`` int labels) instead.
    prep : dict, optional
        Keyword arguments of :func:`prepare`.
    grad_clip : float, optional
        L2 norm the backbone's gradients are clipped to before each step, the head left
        alone (the authors' code: 3.0); None: no clipping.

    Returns
    -------
    dict
        The fields of :class:`BenchRun`.
    """
    import torch

    from wiloc_core.models import lofi_nets
    from wiloc_core.training import TrainSettings, fit, predict, resolve_device, seeded_init

    s = TrainSettings(**settings)
    prep = dict(prep or {})
    Xtr = prepare(name, data["train_x"], seed=seed, **prep)
    Xte = prepare(name, data["test_x"], seed=seed + 1, **prep)
    n_out = 2 if n_classes is None else int(n_classes)
    net = seeded_init(lofi_nets.build, seed, name, Xtr.shape[1:], n_outputs=n_out, **model_kw)
    device = resolve_device(s.device)
    done = _measure(device)
    if n_classes is None:
        y, loss = np.asarray(data["train_y"], dtype=np.float32), xy_loss
    else:
        y, loss = np.asarray(data["train_y"], dtype=np.int64), torch.nn.functional.cross_entropy
    result = fit(net, Xtr, y, s, seed=seed, loss=loss, grad_clip=grad_clip,
                 clip_parameters=net.backbone.parameters() if grad_clip is not None else None)
    out = predict(net, Xte, batch_size=256)
    kind, peak = done()
    pred = out.astype(np.float64) if n_classes is None else out.argmax(axis=1).astype(np.int64)
    return {"name": name, "pred": pred, "history": result.history, "fit": result.to_dict(),
            "n_params": lofi_nets.parameter_count(net),
            "n_params_backbone": lofi_nets.parameter_count(net.backbone),
            "peak_memory_bytes": peak, "memory_kind": kind}


def train_and_test(name: str, train, test, settings=None, seed: int = 0, cache=None, *,
                   model_kw: dict | None = None, n_classes: int | None = None,
                   prep: dict | None = None, grad_clip: float | None = None) -> BenchRun:
    """Train one benchmark network on ``train`` and predict ``test``, through the cache.

    Parameters
    ----------
    name : one of :data:`~wiloc_core.models.lofi_nets.MODEL_NAMES`
    train : (X, y)
        Raw windows float (n, T, S) (:func:`windows`) and targets: positions (n, 2) m,
        or region labels (n,) when ``n_classes`` is given (:func:`region_labels`).
    test : X or (X, y)
        Test windows (m, T, S); targets, if given, are not used.
    settings : TrainSettings, optional
        Default :func:`paper_settings` of ``name``.
    seed : int
    cache : Cache or path-like, optional
        Experiment-engine cache (:func:`wiloc_core.experiment.run_sweep`); the key holds
        the network, settings (without ``progress``), seed, options, a digest of the
        data and :data:`VERSION`.
    model_kw, n_classes, prep, grad_clip
        See :func:`train_task`.

    Returns
    -------
    BenchRun
    """
    from wiloc_core.experiment import Task, run_sweep

    settings = paper_settings(name) if settings is None else settings
    test_x = test[0] if isinstance(test, tuple | list) else test
    data = {"train_x": np.asarray(train[0], dtype=np.float32), "train_y": np.asarray(train[1]),
            "test_x": np.asarray(test_x, dtype=np.float32)}
    params = {"name": name, "settings": {k: v for k, v in asdict(settings).items()
                                         if k != "progress"},
              "seed": int(seed), "model_kw": dict(model_kw or {}), "n_classes": n_classes,
              "prep": dict(prep or {})}
    if grad_clip is not None:  # absent when off, so runs without clipping keep their keys
        params["grad_clip"] = float(grad_clip)
    task = Task.create(train_task, params, data=data, name=f"LoFi {name}, seed {seed}")
    out = run_sweep([task], backend="serial", cache=cache, progress=False)[0]
    return BenchRun(name=out["name"], pred=np.asarray(out["pred"]), history=list(out["history"]),
                    fit=dict(out["fit"]), n_params=int(out["n_params"]),
                    n_params_backbone=int(out["n_params_backbone"]),
                    peak_memory_bytes=int(out["peak_memory_bytes"]),
                    memory_kind=str(out["memory_kind"]))


# -- Table II ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionGrid:
    """A rectangular grid of regions over the LoFi area (paper 002 Table II, §2.7).

    ``x_cuts`` and ``y_cuts`` are the interior boundaries (m). A position's region is
    ``iy * (len(x_cuts) + 1) + ix``; positions outside the area fall in the nearest
    edge region.
    """

    x_cuts: tuple = ()
    y_cuts: tuple = ()

    @property
    def n_classes(self) -> int:
        return (len(self.x_cuts) + 1) * (len(self.y_cuts) + 1)

    def label(self, xy) -> np.ndarray:
        """Region index, int64 (n,), of positions (n, 2) in metres."""
        p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ix = np.searchsorted(np.asarray(self.x_cuts, dtype=np.float64), p[:, 0], side="right")
        iy = np.searchsorted(np.asarray(self.y_cuts, dtype=np.float64), p[:, 1], side="right")
        return (iy * (len(self.x_cuts) + 1) + ix).astype(np.int64)


REGION_GRIDS = {
    6: RegionGrid(x_cuts=(0.9,), y_cuts=(1.6, 3.2)),
    4: RegionGrid(x_cuts=(0.9,), y_cuts=(2.4,)),
    2: RegionGrid(x_cuts=(), y_cuts=(2.4,)),
}
"""Region grids of the 1.8 m x 4.8 m area: **a reconstruction** (the paper and the
authors' code give none, §2.7). 6 classes: 2 x 3 cells of 0.9 m x 1.6 m (x cut at
0.9 m, y cuts at 1.6 and 3.2 m); 4 classes: 2 x 2 cells of 0.9 m x 2.4 m; 2 classes:
the long axis halved at y = 2.4 m. A window's region is that of its target position."""


def region_labels(xy, n_classes: int, regions=None) -> np.ndarray:
    """Region index (n,) of positions (n, 2) m in the ``n_classes`` grid of ``regions``."""
    grids = REGION_GRIDS if regions is None else regions
    if n_classes not in grids:
        raise ParameterError("n_classes", f"one of {sorted(grids)}", n_classes)
    return grids[n_classes].label(xy)


def region_accuracy(pred, true, grid: RegionGrid, pred_labels=None) -> float:
    """Share of windows placed in the right region (0-1).

    The true region is that of ``true`` (n, 2) m. The predicted one is ``pred_labels``
    (n,) from a separately trained classifier when given (the reading of §2.7), else
    the region of the regressed position ``pred`` (n, 2) m.
    """
    truth = grid.label(true)
    guess = grid.label(pred) if pred_labels is None else np.asarray(pred_labels).ravel()
    if guess.shape != truth.shape:
        raise ParameterError("pred_labels", f"{truth.size} labels", guess.shape)
    return float(np.mean(guess == truth))


def errors_m(pred, true) -> np.ndarray:
    """2-D Euclidean errors (m), float64 (n,)."""
    from wiloc_core.metrics import positioning_errors

    return positioning_errors(pred, true)


def table2_row(pred, true, regions=None, *, n_params: int | None = None,
               class_pred: dict | None = None, peak_memory_bytes: int | None = None) -> dict:
    """One column of paper 002 Table II for one method.

    Parameters
    ----------
    pred, true : array_like, float (n, 2), m
        Predicted and target positions of the test windows.
    regions : dict {K: RegionGrid}, optional
        Default :data:`REGION_GRIDS` (6, 4 and 2 classes).
    n_params : int, optional
        Trainable parameters ("Model Size").
    class_pred : dict {K: int array (n,)}, optional
        Region predictions of separately trained K-class classifiers; for a K without
        one, the region of ``pred`` is used.
    peak_memory_bytes : int, optional

    Returns
    -------
    dict
        ``error_mean_m``, ``error_std_m`` (population std over windows; the authors
        average per-batch stds, which differs slightly), ``acc_K`` for each K (0-1),
        ``n_params``, ``size_mb`` (float32 parameters, 4 bytes each, MB = 1e6 bytes;
        ours), ``peak_memory_gb`` (1e9 bytes).
    """
    grids = REGION_GRIDS if regions is None else regions
    e = errors_m(pred, true)
    row = {"error_mean_m": float(np.mean(e)), "error_std_m": float(np.std(e))}
    for k, grid in sorted(grids.items(), reverse=True):
        labels = None if class_pred is None else class_pred.get(k)
        row[f"acc_{k}"] = region_accuracy(pred, true, grid, labels)
    row["n_params"] = None if n_params is None else int(n_params)
    row["size_mb"] = None if n_params is None else 4.0 * int(n_params) / 1e6
    row["peak_memory_gb"] = None if peak_memory_bytes is None else peak_memory_bytes / 1e9
    return row


def error_cdf(pred, true):
    """Fig. 4 of paper 002: sorted 2-D errors (m) and their cumulative share (0-1].

    Returns ``(x, F)``, float64 (n,) each; plot with ``step(x, F, where="post")``.
    """
    from wiloc_core.metrics import ecdf

    return ecdf(errors_m(pred, true))


# -- weighted k-NN baseline ---------------------------------------------------------------------
def knn_features(X) -> np.ndarray:
    """Mean amplitude of each subcarrier over the window: (n, T, S) -> float64 (n, S)."""
    return np.asarray(X, dtype=np.float64).mean(axis=-2)


def knn_row(train, test_x, k_candidates=(1, 3, 5, 9, 15, 25), holdout_fraction: float = 0.1):
    """Weighted k-NN positions of the test windows (a classic baseline; not in the paper).

    Features: :func:`knn_features`; neighbours weighted by inverse distance
    (:class:`wiloc_core.methods.knn.WeightedKNN`). ``k`` is chosen on the last
    ``holdout_fraction`` of the training windows in time order (ours: a random hold-out
    would put overlapping windows on both sides), then the model is refitted on all
    training windows.

    Parameters
    ----------
    train : (X (n, T, S), y (n, 2) m), windows in time order
    test_x : float (m, T, S)

    Returns
    -------
    pred : numpy.ndarray, float64 (m, 2), m
    k : int
    val_errors : dict {k: mean hold-out error (m)}
    """
    from wiloc_core.methods.knn import WeightedKNN

    x, y = knn_features(train[0]), np.asarray(train[1], dtype=np.float64)
    fit_idx, val_idx = time_split(len(x), 1.0 - float(holdout_fraction))
    if len(fit_idx) < 1 or len(val_idx) < 1:
        raise ParameterError("train", "enough windows for a hold-out", len(x))
    scores = {}
    for k in sorted({int(k) for k in k_candidates if 1 <= int(k) <= len(fit_idx)}):
        model = WeightedKNN(k).fit(x[fit_idx], y[fit_idx])
        scores[k] = float(np.mean(errors_m(model.predict(x[val_idx])[0], y[val_idx])))
    if not scores:
        raise ParameterError("k_candidates", f"some k in [1, {len(fit_idx)}]", k_candidates)
    best = min(scores, key=lambda k: (scores[k], k))
    pred = WeightedKNN(best).fit(x, y).predict(knn_features(test_x))[0]
    return pred, best, scores

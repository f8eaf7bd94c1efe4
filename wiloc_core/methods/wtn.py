"""WiFi Trilateration Net (paper 004): scan steps, sequences, end-to-end training.

The paper's pipeline, step by step (§3):

1. *Scan step*: 10 range readings per AP, failed ones excluded, averaged
   (:func:`steps_from_rttset`, :func:`simulate_room`; the averaging itself is
   :func:`wiloc_core.methods.trilateration.scan_steps`).
2. *Sequence*: T consecutive scan steps of one AP feed the recurrent compensation
   network (:func:`to_sequences`; missing steps carry the last range forward,
   :func:`fill_missing`).
3. *End to end*: compensation and positioning are trained together on
   :math:`L_\\text{total} = L_\\text{comp} + L_\\text{pos}` (eqs. 2-4,
   :class:`wiloc_core.models.wtn.WtnLoss`), with the shared training layer
   (:func:`train_wtn`).

How sequences are formed is **our reconstruction**. The paper's room has 200
measurements per position in time order. The real rooms of Feng et al. have 60 scans
per reference point and no time stamps: a scan step there is 10 rows of one reference
point, and a sequence is T = 6 such steps (all 60 rows). The test set takes the rows
in file order; the training set additionally draws random regroupings of each
point's 60 rows (``draws``), so the network sees more sequences than there are
points. In the simulated room a scan step is one 802.11mc burst of 11 FTM frames (10
round trips) from the scene simulator's RTT sensor.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from wiloc_core.errors import ParameterError
from wiloc_core.methods import trilateration as tri
from wiloc_core.seeding import rng as make_rng

RANGE_LIMITS_M = (1.0, 20.0)
"""Paper 004 §4.1: ranges normalised to 1-20 m, stored as integer centimetres."""

SPLIT_PARTS = (6.4, 1.6, 2.0)
"""Paper 004 §4.1: train : validation : test."""

VERSION = 1
"""Version of the training task (:func:`train_task`): part of every cache key."""


# -- scan steps -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RangeSteps:
    """Scan steps of one room and split, grouped by reference point.

    Attributes
    ----------
    ranges : numpy.ndarray, float64, shape (n_points, S, A), m
        Scan-step ranges (2-D, on the floor plane); NaN where a step had no reading.
    rss : numpy.ndarray, float64, shape (n_points, S, A), dBm
        Scan-step mean RSS; NaN where not heard.
    xy : numpy.ndarray, float64, shape (n_points, 2), m
        Reference points.
    anchors : numpy.ndarray, float64, shape (A, 2), m
        AP positions.
    name : str
        Room name.
    kind : {"real", "simulated"}
    """

    ranges: np.ndarray
    rss: np.ndarray
    xy: np.ndarray
    anchors: np.ndarray
    name: str
    kind: str

    @property
    def n_points(self) -> int:
        return int(self.xy.shape[0])

    @property
    def n_steps(self) -> int:
        """Scan steps per reference point S."""
        return int(self.ranges.shape[1])

    @property
    def n_aps(self) -> int:
        return int(self.anchors.shape[0])

    @property
    def true_ranges(self) -> np.ndarray:
        """Geometric 2-D distance of each point to each AP, float64 (n_points, A), m."""
        return np.linalg.norm(self.xy[:, None, :] - self.anchors[None], axis=2)

    def flat(self):
        """Every scan step as a row: ranges (N, A), rss (N, A), xy (N, 2), true ranges (N, A).

        ``N = n_points * S``, point-major (all steps of point 0 first).
        """
        n, s, a = self.ranges.shape
        rep = np.repeat(np.arange(n), s)
        return (self.ranges.reshape(n * s, a), self.rss.reshape(n * s, a), self.xy[rep],
                self.true_ranges[rep])

    def points(self, index) -> RangeSteps:
        """The steps of a subset of reference points."""
        index = np.asarray(index)
        return replace(self, ranges=self.ranges[index], rss=self.rss[index], xy=self.xy[index])


def _mean_steps(values, per_step):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return tri.scan_steps(values, per_step)


def steps_from_rttset(data, *, per_step: int = tri.READINGS_PER_STEP, draws: int = 0,
                      seed=None) -> RangeSteps:
    """Scan steps from an :class:`~wiloc_core.data.rtt.RttSet` (one row = one reading).

    Parameters
    ----------
    data : RttSet
        Every reference point must have the same number of rows, a multiple of
        ``per_step`` (60 in the real files).
    per_step : int
        Readings per scan step (paper: 10).
    draws : int
        0: the rows in file order only. k > 0: the file order followed by k random
        regroupings of each point's rows (training augmentation, our choice).
    seed : int or numpy.random.Generator
        Draws the regroupings.

    Returns
    -------
    RangeSteps
        ``S = (1 + draws) * rows_per_point / per_step`` steps per point.
    """
    points, inverse = np.unique(data.xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    if counts.min() != counts.max() or counts[0] % per_step:
        raise ParameterError("data", f"the same number of rows (a multiple of {per_step}) at "
                             f"every reference point of {data.source}",
                             f"{counts.min()}..{counts.max()} rows")
    rows = np.stack([np.flatnonzero(inverse == i) for i in range(len(points))])   # (P, R)
    g = make_rng(seed)
    orders = [rows] + [np.take_along_axis(rows, g.permuted(np.tile(np.arange(rows.shape[1]),
                                                                    (len(rows), 1)), axis=1), 1)
                       for _ in range(int(draws))]
    order = np.concatenate(orders, axis=1)                                        # (P, R')
    return RangeSteps(ranges=_mean_steps(data.rtt_m[order], per_step),
                      rss=_mean_steps(data.rss_dbm[order], per_step), xy=points,
                      anchors=np.asarray(data.ap_xy, dtype=np.float64), name=data.room, kind="real")


def store_like_paper(ranges_m) -> np.ndarray:
    """Clip ranges to 1-20 m and round to whole centimetres, as the paper stores them (§4.1)."""
    r = np.asarray(ranges_m, dtype=np.float64)
    return np.round(np.clip(r, *RANGE_LIMITS_M) * 100.0) / 100.0


def simulate_room(name: str = "wtn-room", *, n_steps: int = 200, max_order: int = 2,
                  seed=0) -> RangeSteps:
    """Scan steps of every grid position of a simulated RTT room (the scene simulator's sensor).

    Each scan step is one 802.11mc burst of the preset's ``burst_size`` FTM frames
    (11 frames, 10 round trips) averaged over its successful round trips
    (:func:`wiloc_core.sim.sensors.rtt.rtt_bursts`), stored like the paper's data
    (:func:`store_like_paper`) and projected onto the floor plane with the known AP
    height (:func:`~wiloc_core.methods.trilateration.horizontal_ranges`).

    Parameters
    ----------
    name : str
        A preset with an RTT sensor (``"wtn-room"``: 4 APs, 1170 positions).
    n_steps : int
        Scan steps per position (paper: 200 measurements per position).
    max_order : int
        Wall-reflection order of the ray tracer.
    seed : int

    Returns
    -------
    RangeSteps
        ``kind = "simulated"``.
    """
    from wiloc_core.sim.paths import trace
    from wiloc_core.sim.presets import preset
    from wiloc_core.sim.sensors.rtt import rtt_bursts

    g = make_rng(seed)
    p = preset(name, seed=g)
    if p.sensor != "rtt":
        raise ParameterError("name", "a preset with an RTT sensor (e.g. 'wtn-room')", name)
    s = p.settings
    ranges, rss = [], []
    for ap in p.aps:
        paths = trace(p.scene.with_tx(ap), p.receivers, max_order=max_order)
        bursts = rtt_bursts(paths, n_bursts=int(n_steps), burst_size=s["burst_size"],
                            bandwidth_hz=s["bandwidth_hz"], seed=g)
        stored = store_like_paper(bursts.distance_m)
        ranges.append(tri.horizontal_ranges(stored, ap[2] - p.receivers[:, 2:3]))
        rss.append(np.where(bursts.success, bursts.rss_dbm[:, None], np.nan))
    return RangeSteps(ranges=np.stack(ranges, axis=-1), rss=np.stack(rss, axis=-1),
                      xy=p.receivers[:, :2].copy(), anchors=p.aps[:, :2].copy(), name=name,
                      kind="simulated")


def split_points(n_points: int, parts=SPLIT_PARTS, seed=0):
    """Disjoint random index sets of reference points in the ratio ``parts``.

    Returns
    -------
    tuple of numpy.ndarray, int64
        One sorted index array per part (train, validation, test for the paper's 6.4 :
        1.6 : 2).
    """
    parts = np.asarray(parts, dtype=np.float64)
    order = make_rng(seed).permutation(int(n_points))
    cuts = np.round(np.cumsum(parts)[:-1] / parts.sum() * n_points).astype(int)
    return tuple(np.sort(p) for p in np.split(order, cuts))


# -- sequences ------------------------------------------------------------------------------
def fill_missing(ranges, fallback) -> tuple[np.ndarray, np.ndarray]:
    """Carry the last valid range forward (the first ones backward) along the steps.

    Parameters
    ----------
    ranges : array_like, shape (N, T, A), m
        NaN where a scan step failed.
    fallback : array_like, shape (A,), m
        Used where an AP has no reading in the whole sequence.

    Returns
    -------
    filled : numpy.ndarray, float64, shape (N, T, A), m
    valid : numpy.ndarray, float64, shape (N, T, A)
        1 where the step had its own reading.
    """
    r = np.asarray(ranges, dtype=np.float64)
    valid = np.isfinite(r)
    t_idx = np.where(valid, np.arange(r.shape[1])[None, :, None], -1)
    last = np.maximum.accumulate(t_idx, axis=1)
    first = np.argmax(valid, axis=1)[:, None, :]                      # first valid step
    take = np.where(last >= 0, last, first)
    filled = np.take_along_axis(r, take, axis=1)
    filled = np.where(np.isfinite(filled), filled, np.asarray(fallback, dtype=np.float64))
    return filled, valid.astype(np.float64)


def to_sequences(steps: RangeSteps, seq_len: int, fallback):
    """Cut every point's scan steps into sequences of ``seq_len`` steps.

    Returns
    -------
    X : numpy.ndarray, float32, shape (N, T, A, 2)
        Range (m, missing steps filled) and validity flag, as the WTN reads them.
    Y : numpy.ndarray, float32, shape (N, T, A + 2)
        True ranges (m) and position (m) at every step.
    raw : numpy.ndarray, float64, shape (N, T, A), m
        The measured ranges with NaN (for the baselines on the same steps).
    """
    n, s, a = steps.ranges.shape
    t = int(seq_len)
    if t < 1 or s < t:
        raise ParameterError("seq_len", f"1 ... {s} scan steps ({steps.name} has {s} per point)", t)
    k = s // t
    raw = steps.ranges[:, :k * t].reshape(n * k, t, a)
    filled, valid = fill_missing(raw, fallback)
    X = np.stack([filled, valid], axis=-1).astype(np.float32)
    target = np.concatenate([steps.true_ranges, steps.xy], axis=1)     # (n, A+2)
    Y = np.repeat(np.broadcast_to(target[:, None, :], (n, t, a + 2)), k, axis=0).astype(np.float32)
    return X, Y, raw


# -- training --------------------------------------------------------------------------------
@dataclass(frozen=True)
class WtnSettings:
    """How one WTN is built and trained (values come from the chapter's profile).

    Attributes
    ----------
    width : int
        Recurrent width (Fig. 7: 64 ... 1024).
    hidden : int
        Hidden width of the positioning network (ours; the paper gives none).
    seq_len : int
        Scan steps per sequence T.
    epochs, lr, batch_size, patience : training (:class:`~wiloc_core.training.TrainSettings`).
    draws : int
        Random regroupings per training point (real rooms; see :func:`steps_from_rttset`).
    min_steps : int
        Fewest gradient steps (raises the epoch cap for tiny training sets).
    device : str
        ``"auto"``: CUDA when present.
    progress : bool
    """

    width: int = 1024
    hidden: int = 64
    seq_len: int = 6
    epochs: int = 3000
    lr: float = 1e-3
    batch_size: int = 64
    patience: int | None = None
    draws: int = 4
    min_steps: int = 0
    device: str = "auto"
    progress: bool = True

    def train_settings(self):
        from wiloc_core.training import TrainSettings

        return TrainSettings(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                             patience=self.patience, val_fraction=0.0, min_steps=self.min_steps,
                             device=self.device, progress=self.progress)


@dataclass
class WtnRun:
    """A trained WTN and what its training did.

    Attributes
    ----------
    net : WiFiTrilaterationNet
    fit : FitResult
    history : list of dict
        Per epoch: ``epoch``, ``train_comp``, ``train_pos``, ``train_total`` (eqs. 2-4
        on the training sequences, m) and ``val_range_error``, ``val_position_error``
        (mean Euclidean error of the range vector and of the position on the
        validation sequences, m; Fig. 8).
    fallback : numpy.ndarray, shape (A,), m
        Range used for an AP silent over a whole sequence (training mean).
    """

    net: object
    fit: object
    history: list = field(default_factory=list)
    fallback: np.ndarray | None = None


def _fallback(steps: RangeSteps) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nan_to_num(np.nanmean(steps.ranges, axis=(0, 1)), nan=10.0)


@torch.no_grad()
def _losses(net, X, Y, device, batch_size=1024):
    from wiloc_core.models.wtn import wtn_losses

    comp = pos = 0.0
    for s in range(0, len(X), batch_size):
        xb = torch.from_numpy(X[s:s + batch_size]).to(device)
        yb = torch.from_numpy(Y[s:s + batch_size]).to(device)
        c, p = wtn_losses(net(xb), yb, net.n_aps)
        comp += float(c) * len(xb)
        pos += float(p) * len(xb)
    return comp / len(X), pos / len(X)


def build_net(steps: RangeSteps, settings: WtnSettings, seed: int):
    """A WTN for a room, its position frame from the training points, weights from ``seed``."""
    from wiloc_core.models.wtn import WiFiTrilaterationNet
    from wiloc_core.training import seeded_init

    origin = steps.xy.mean(axis=0)
    scale = float(np.max(np.abs(steps.xy - origin))) or 1.0
    return seeded_init(WiFiTrilaterationNet, seed, steps.n_aps, width=settings.width,
                       hidden=settings.hidden, range_scale_m=RANGE_LIMITS_M[1],
                       origin_m=tuple(origin), scale_m=scale)


def train_wtn(train: RangeSteps, val: RangeSteps, settings: WtnSettings, *, seed: int,
              net=None) -> WtnRun:
    """Train a WTN end to end on eq. (4); keep the epoch with the least validation loss.

    Parameters
    ----------
    train, val : RangeSteps
        Training steps (with their augmentation draws) and validation steps.
    settings : WtnSettings
    seed : int
        Weights (:func:`~wiloc_core.training.seeded_init`), batch order.
    net : WiFiTrilaterationNet, optional
        Start from this network (fine-tuning) instead of a fresh one.

    Returns
    -------
    WtnRun
    """
    from wiloc_core.models.wtn import WtnLoss
    from wiloc_core.training import fit, resolve_device

    fallback = _fallback(train)
    X, Y, _ = to_sequences(train, settings.seq_len, fallback)
    Xv, Yv, _ = to_sequences(val, settings.seq_len, fallback)
    net = net if net is not None else build_net(train, settings, seed)
    device = resolve_device(settings.device)
    sub = make_rng(seed).choice(len(X), size=min(len(X), 1024), replace=False)
    history = []

    def record(epoch_record):
        net.eval()
        comp, pos = _losses(net, X[sub], Y[sub], device)
        v_comp, v_pos = _losses(net, Xv, Yv, device)
        history.append({"epoch": epoch_record["epoch"], "train_comp": comp, "train_pos": pos,
                        "train_total": comp + pos, "val_range_error": v_comp,
                        "val_position_error": v_pos})
        net.train()

    result = fit(net, X, Y, settings.train_settings(), seed=seed, loss=WtnLoss(train.n_aps),
                 X_val=Xv, y_val=Yv, callback=record)
    return WtnRun(net=net, fit=result, history=history, fallback=fallback)


def _steps_data(steps: RangeSteps) -> dict:
    return {"ranges": steps.ranges, "rss": steps.rss, "xy": steps.xy, "anchors": steps.anchors}


def _steps_from_data(data: dict, name: str) -> RangeSteps:
    return RangeSteps(ranges=np.asarray(data["ranges"]), rss=np.asarray(data["rss"]),
                      xy=np.asarray(data["xy"]), anchors=np.asarray(data["anchors"]), name=name,
                      kind="")


def train_task(data: dict, *, settings: dict, seed: int) -> dict:
    """:func:`train_wtn` as a task of the experiment engine (:mod:`wiloc_core.experiment`).

    Parameters
    ----------
    data : dict
        ``"fit"`` and ``"val"``: dicts of ``ranges``, ``rss``, ``xy``, ``anchors`` (the
        arrays of a :class:`RangeSteps`); optionally ``"init"``: the state of a
        compensation stage to start from (:func:`compensation_state`).
    settings : dict
        :class:`WtnSettings` fields.
    seed : int

    Returns
    -------
    dict
        ``state`` (the network's weights), ``history``, ``fit`` (the
        :class:`~wiloc_core.training.FitResult` as a dict) and ``fallback`` (A,) m.
    """
    s = WtnSettings(**settings)
    fit_steps, val_steps = _steps_from_data(data["fit"], "fit"), _steps_from_data(data["val"], "val")
    net = build_net(fit_steps, s, seed)
    if data.get("init") is not None:
        net.load_state_dict({**net.state_dict(), **data["init"]})
    run = train_wtn(fit_steps, val_steps, s, seed=seed, net=net)
    return {"state": {k: v.detach().cpu() for k, v in run.net.state_dict().items()},
            "history": run.history, "fit": run.fit.to_dict(), "fallback": run.fallback}


def compensation_state(net) -> dict:
    """The weights of a WTN's compensation stage (recurrent network and read-out)."""
    return {k: v.detach().cpu() for k, v in net.state_dict().items()
            if k.startswith(("rnn.", "readout."))}


def train_cached(fit_steps: RangeSteps, val_steps: RangeSteps, settings: WtnSettings, *, seed: int,
                 cache=None, init: dict | None = None) -> WtnRun:
    """:func:`train_wtn` through the experiment engine: a result in ``cache`` is reused.

    ``init`` is a compensation state (:func:`compensation_state`) to fine-tune from. The
    cache key holds the settings (without ``progress``), the seed, a digest of the data
    and :data:`VERSION`.
    """
    from wiloc_core.experiment import Task, run_sweep
    from wiloc_core.training import FitResult

    params = {k: v for k, v in asdict(settings).items() if k != "progress"}
    data = {"fit": _steps_data(fit_steps), "val": _steps_data(val_steps)}
    if init is not None:
        data["init"] = init
    task = Task.create(train_task, {"settings": params, "seed": int(seed)}, data=data,
                       name=f"WTN width {settings.width}, seed {seed}")
    out = run_sweep([task], backend="serial", cache=cache, progress=False)[0]
    net = build_net(fit_steps, settings, seed)
    net.load_state_dict(out["state"])
    net.eval()
    return WtnRun(net=net, fit=FitResult(**out["fit"]), history=list(out["history"]),
                  fallback=np.asarray(out["fallback"]))


def predict(run: WtnRun, steps: RangeSteps, seq_len: int):
    """Compensated ranges and positions of every scan step, in :meth:`RangeSteps.flat` order.

    Returns
    -------
    ranges : numpy.ndarray, float64, shape (N, A), m
    xy : numpy.ndarray, float64, shape (N, 2), m
        ``N = n_points * (S // seq_len) * seq_len`` (trailing steps that do not fill a
        sequence are dropped; none in this chapter's data).
    """
    from wiloc_core.training import predict as net_predict

    X, _, _ = to_sequences(steps, seq_len, run.fallback)
    out = net_predict(run.net, X).astype(np.float64)
    a = steps.n_aps
    return out[..., :a].reshape(-1, a), out[..., a:].reshape(-1, 2)


def transfer_compensation(source_net, target_net):
    """Copy the recurrent compensation stage of ``source_net`` into ``target_net``.

    The compensation network is shared by every AP, so it transfers between rooms with
    different numbers of APs; the positioning network depends on the room's geometry
    and keeps its own initial weights. Returns ``target_net``.
    """
    target_net.rnn.load_state_dict(source_net.rnn.state_dict())
    target_net.readout.load_state_dict(source_net.readout.state_dict())
    return target_net


# -- evaluation -------------------------------------------------------------------------------
def select_knn(train: RangeSteps, k_candidates=(1, 3, 5, 9, 15), rss_weights=(0.0, 0.5, 1.0),
               *, val_fraction: float = 0.2, seed=0) -> tri.WeightedKnn:
    """Weighted k-NN with ``k`` and the RSS weight chosen on held-out training points.

    A share ``val_fraction`` of the training reference points (never the test points)
    is held out; the pair with the least mean error on their scan steps is kept and the
    returned model is fitted on every training step.
    """
    fit_idx, val_idx = split_points(train.n_points, (1 - val_fraction, val_fraction), seed)
    r, rss, xy, _ = train.points(fit_idx).flat()
    rv, rssv, xyv, _ = train.points(val_idx).flat()
    scores = {}
    for w in rss_weights:
        model = tri.WeightedKnn(max(k_candidates), w).fit(r, rss, xy)
        idx, dist = model.neighbours(rv, rssv)
        for k in k_candidates:
            scores[(k, w)] = float(np.mean(errors(model.vote(idx, dist, k), xyv)))
    k, w = min(scores, key=scores.get)
    r, rss, xy, _ = train.flat()
    return tri.WeightedKnn(k, w).fit(r, rss, xy)


def baseline_positions(train: RangeSteps, test: RangeSteps, *, knn=None,
                       grid_m: float = 0.2) -> dict[str, np.ndarray]:
    """Positions of every test scan step (flat order) by the Table 1 baselines.

    Returns
    -------
    dict
        ``"LS (Gauss-Newton)"``, ``"LS (closed form)"``, ``"LS + per-AP bias"``,
        ``"Euclidean distance"``, ``"weighted k-NN (RTT+RSS)"`` -> float64 (N, 2) m
        (NaN where fewer than 3 APs answered, for the range-based methods).
    """
    r_tr, rss_tr, xy_tr, d_tr = train.flat()
    r_te, rss_te, _, _ = test.flat()
    a = test.anchors
    bias = tri.RangeBias.fit(r_tr, d_tr)
    knn = knn if knn is not None else select_knn(train)
    grid = tri.candidate_grid(np.vstack([train.xy, test.xy]), spacing_m=grid_m)
    return {
        "LS (Gauss-Newton)": tri.least_squares_gauss_newton(r_te, a),
        "LS (closed form)": tri.least_squares_closed_form(r_te, a),
        "LS + per-AP bias": tri.least_squares_gauss_newton(bias.apply(r_te), a),
        "Euclidean distance": tri.euclidean_distance_method(r_te, a, grid),
        "weighted k-NN (RTT+RSS)": knn.predict(r_te, rss_te),
    }


def errors(pred_xy, true_xy) -> np.ndarray:
    """2-D errors (m), float64 (N,); NaN where the method gave no position."""
    return np.linalg.norm(np.asarray(pred_xy) - np.asarray(true_xy), axis=1)


def room_crlb(train: RangeSteps, test: RangeSteps) -> tuple[float, np.ndarray]:
    """The room's Cramér–Rao floor: RMS over test points of the 2-D bound (m).

    The range noise per AP is the spread of the training scan-step ranges around their
    per-AP bias (:func:`~wiloc_core.methods.trilateration.range_noise_std`).

    Returns
    -------
    (float, numpy.ndarray)
        The RMS bound (m) and sigma per AP (m).
    """
    r_tr, _, _, d_tr = train.flat()
    sigma = tri.range_noise_std(r_tr, d_tr)
    bound = tri.crlb_rmse(test.anchors, test.xy, sigma)
    return float(np.sqrt(np.mean(bound**2))), sigma

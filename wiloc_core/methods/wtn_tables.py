"""The WTN chapter's experiments and tables (paper 004): rooms, Table 1, Figs. 6-8, transfer.

The method itself is in :mod:`wiloc_core.methods.wtn` and
:mod:`wiloc_core.methods.trilateration`; this module runs it on the chapter's rooms
and shapes the results into the page's tables. The notebook only configures, calls
these functions and plots.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from wiloc_core.errors import DatasetNotFoundError, ParameterError
from wiloc_core.methods import trilateration as tri
from wiloc_core.methods import wtn

REAL_ROOMS = ("lecture_theatre", "office", "corridor")
SIM_ROOM = "wtn-room"
ROOM_LABELS = {"lecture_theatre": "lecture theatre", "office": "office", "corridor": "corridor",
               SIM_ROOM: "simulated room"}
BASELINES = ("LS (Gauss-Newton)", "LS (closed form)", "LS + per-AP bias", "Euclidean distance",
             "weighted k-NN (RTT+RSS)")
WTN = "WTN"
WTN_LS = "WTN compensation + LS"
METHODS = BASELINES + (WTN, WTN_LS)
DATA_SOURCES = ("auto", "real", "simulated")


# -- rooms -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Room:
    """One room's splits, ready for every method.

    Attributes
    ----------
    name : str
        ``"lecture_theatre"``, ``"office"``, ``"corridor"`` or ``"wtn-room"``.
    kind : {"real", "simulated"}
    note : str
        Why a real room is simulated (empty otherwise).
    train : RangeSteps
        Every training point, steps in measurement order (baselines, CRLB).
    fit : RangeSteps
        The WTN's training points (train minus validation), with augmentation draws.
    val : RangeSteps
        Validation points (WTN epoch selection, Fig. 8).
    test : RangeSteps
    seq_len : int
        Scan steps per WTN sequence.
    """

    name: str
    kind: str
    note: str
    train: wtn.RangeSteps
    fit: wtn.RangeSteps
    val: wtn.RangeSteps
    test: wtn.RangeSteps
    seq_len: int

    @property
    def label(self) -> str:
        base = ROOM_LABELS.get(self.name, self.name)
        return base if self.kind == "real" or self.name == SIM_ROOM else f"{base} (simulated stand-in)"


def _simulated_room(name, cfg, seed, note="") -> Room:
    steps = wtn.simulate_room(SIM_ROOM, n_steps=cfg["sim_steps"], max_order=cfg["sim_max_order"],
                              seed=seed)
    fit_idx, val_idx, test_idx = wtn.split_points(steps.n_points, wtn.SPLIT_PARTS, seed)
    train_idx = np.sort(np.concatenate([fit_idx, val_idx]))
    return Room(name=name, kind="simulated", note=note, train=steps.points(train_idx),
                fit=steps.points(fit_idx), val=steps.points(val_idx), test=steps.points(test_idx),
                seq_len=cfg["seq_len_sim"])


def _real_room(name, cfg, seed) -> Room:
    from wiloc_core.data import load_rtt

    train_set, test_set = load_rtt(name, "train"), load_rtt(name, "test")
    train = wtn.steps_from_rttset(train_set)
    augmented = wtn.steps_from_rttset(train_set, draws=cfg["draws"], seed=seed)
    parts = (1 - cfg["val_fraction"], cfg["val_fraction"])
    fit_idx, val_idx = wtn.split_points(train.n_points, parts, seed)
    return Room(name=name, kind="real", note="", train=train, fit=augmented.points(fit_idx),
                val=train.points(val_idx), test=wtn.steps_from_rttset(test_set),
                seq_len=cfg["seq_len_real"])


def load_room(name: str, data_source: str, cfg: dict, seed: int = 0) -> Room:
    """A room by name from ``data_source``.

    Parameters
    ----------
    name : str
        One of :data:`REAL_ROOMS` or :data:`SIM_ROOM`.
    data_source : {"auto", "real", "simulated"}
        ``"auto"``: the real files when found (``WILOC_DATA``), else a simulated stand-in
        (said on the page); ``"real"``: the files or an error; ``"simulated"``: stand-ins.
        The simulated room is always simulated.
    cfg : dict
        The chapter's settings (``sim_steps``, ``sim_max_order``, ``seq_len_real``,
        ``seq_len_sim``, ``draws``, ``val_fraction``).
    seed : int
    """
    if data_source not in DATA_SOURCES:
        raise ParameterError("data_source", f"one of {DATA_SOURCES}", data_source)
    if name == SIM_ROOM:
        return _simulated_room(name, cfg, seed)
    if name not in REAL_ROOMS:
        raise ParameterError("rooms", f"names from {REAL_ROOMS + (SIM_ROOM,)}", name)
    stand_in_seed = seed + 1 + REAL_ROOMS.index(name)
    if data_source == "simulated":
        return _simulated_room(name, cfg, stand_in_seed, "data_source = 'simulated'")
    try:
        return _real_room(name, cfg, seed)
    except DatasetNotFoundError as error:
        if data_source == "real":
            raise
        return _simulated_room(name, cfg, stand_in_seed, str(error).split(";")[0])


def wtn_settings(cfg: dict, *, width: int | None = None, epochs: int | None = None,
                 seq_len: int, progress: bool = True) -> wtn.WtnSettings:
    """The WTN settings of a profile (``width`` / ``epochs`` override the profile's)."""
    return wtn.WtnSettings(width=int(width or cfg["width"]), hidden=cfg["hidden"], seq_len=seq_len,
                           epochs=int(epochs or cfg["epochs"]), lr=cfg["lr"],
                           batch_size=cfg["batch_size"], patience=cfg["patience"],
                           draws=cfg["draws"], min_steps=cfg["min_steps"],
                           device=cfg.get("device", "auto"), progress=progress)


# -- one room ------------------------------------------------------------------------------------
@dataclass
class RoomResult:
    """Everything Table 1 and Figs. 6-8 need from one room (one WTN seed).

    Attributes
    ----------
    errors : dict
        Method name -> 2-D error of every test scan step (m), float64 (N,).
    range_rmse : dict
        ``"raw"`` and ``"compensated"`` per-AP range RMSE on the test steps (m).
    crlb_noise, crlb_total : float
        RMS Cramér–Rao bound over the test points (m) for the scan-step noise alone and
        for the whole range error spread (bias removed).
    sigma_noise, sigma_total : numpy.ndarray, shape (A,), m
    run : WtnRun
    """

    room: Room
    seed: int
    errors: dict
    range_rmse: dict
    crlb_noise: float
    crlb_total: float
    sigma_noise: np.ndarray
    sigma_total: np.ndarray
    run: object = None
    extra: dict = field(default_factory=dict)


def scan_step_noise(steps: wtn.RangeSteps) -> np.ndarray:
    """Per-AP standard deviation of a point's scan steps around their own mean (m), (A,).

    This is the part of the range error that changes from step to step; the rest (a
    bias per point and AP, from multipath and the devices) stays put while the device
    stands still.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        dev = steps.ranges - np.nanmean(steps.ranges, axis=1, keepdims=True)
    n = np.sum(np.isfinite(steps.ranges), axis=(0, 1))
    dof = n - np.sum(np.any(np.isfinite(steps.ranges), axis=1), axis=0)
    return np.sqrt(np.nansum(dev**2, axis=(0, 1)) / np.maximum(dof, 1))


def evaluate_room(room: Room, cfg: dict, seed: int, *, knn=None, run=None,
                  progress: bool = True, cache=None) -> RoomResult:
    """Train a WTN on a room (unless ``run`` is given) and score it against the baselines.

    ``cache`` (an :class:`~wiloc_core.experiment.Cache`) keeps the trained network, so a
    rerun with the same settings, seed and data trains nothing.
    """
    settings = wtn_settings(cfg, seq_len=room.seq_len, progress=progress)
    if run is None:
        run = wtn.train_cached(room.fit, room.val, settings, seed=seed, cache=cache)
    _, _, xy, true_r = room.test.flat()
    knn = knn if knn is not None else wtn.select_knn(room.train, cfg["knn_k"], cfg["knn_rss_weights"],
                                                     seed=seed)
    positions = wtn.baseline_positions(room.train, room.test, knn=knn)
    ranges, positions[WTN] = wtn.predict(run, room.test, room.seq_len)
    positions[WTN_LS] = tri.least_squares_gauss_newton(ranges, room.test.anchors)
    errors = {name: wtn.errors(p, xy) for name, p in positions.items()}
    raw = room.test.flat()[0]
    range_rmse = {"raw": float(np.sqrt(np.nanmean((raw - true_r) ** 2))),
                  "compensated": float(np.sqrt(np.mean((ranges - true_r) ** 2)))}
    crlb_total, sigma_total = wtn.room_crlb(room.train, room.test)
    sigma_noise = scan_step_noise(room.train)
    crlb_noise = float(np.sqrt(np.mean(tri.crlb_rmse(room.test.anchors, room.test.xy,
                                                     np.maximum(sigma_noise, 1e-3)) ** 2)))
    return RoomResult(room=room, seed=seed, errors=errors, range_rmse=range_rmse,
                      crlb_noise=crlb_noise, crlb_total=crlb_total, sigma_noise=sigma_noise,
                      sigma_total=sigma_total, run=run)


# -- tables ------------------------------------------------------------------------------------
def table1_runs(results: list[RoomResult]) -> pd.DataFrame:
    """One row per (room, method, seed): mean, median, P95 and RMSE of the 2-D error (m)."""
    rows = []
    for r in results:
        for method, e in r.errors.items():
            ok = e[np.isfinite(e)]
            rows.append({"room": r.room.name, "data_kind": r.room.kind, "method": method,
                         "seed": r.seed, "mean_m": float(np.mean(ok)),
                         "median_m": float(np.median(ok)), "p95_m": float(np.percentile(ok, 95)),
                         "rmse_m": float(np.sqrt(np.mean(ok**2))),
                         "located_share": float(ok.size / e.size)})
        for floor, value in (("CRLB (scan-step noise)", r.crlb_noise),
                             ("CRLB (range error spread)", r.crlb_total)):
            rows.append({"room": r.room.name, "data_kind": r.room.kind, "method": floor,
                         "seed": r.seed, "rmse_m": value})
    return pd.DataFrame(rows)


def table1_view(runs: pd.DataFrame, rooms) -> pd.DataFrame:
    """Table 1: methods as rows, per room the mean and P95 error (m), means over seeds."""
    means = runs.groupby(["method", "room"], sort=False)[["mean_m", "p95_m", "rmse_m"]].mean()
    order = list(dict.fromkeys(runs["method"]))
    out = pd.DataFrame(index=order)
    for room in rooms:
        label = ROOM_LABELS.get(room, room)
        sub = means.xs(room, level="room")
        out[f"{label} mean"] = sub["mean_m"]
        out[f"{label} P95"] = sub["p95_m"]
        floor = sub.index.str.startswith("CRLB")
        out.loc[sub.index[floor], f"{label} mean"] = sub.loc[floor, "rmse_m"]
    out.index.name = "method"
    return out


def width_sweep(room: Room, cfg: dict, widths, seeds, *, progress: bool = True,
                done: dict | None = None, cache=None) -> tuple[pd.DataFrame, dict]:
    """Fig. 7: positioning and ranging RMSE on the test steps against recurrent width.

    ``done`` maps (width, seed) to an already trained :class:`~wiloc_core.methods.wtn.WtnRun`
    (e.g. Table 1's), which is reused. Returns the table and every run by (width, seed).
    """
    runs, rows = dict(done or {}), []
    _, _, xy, true_r = room.test.flat()
    for width in widths:
        for seed in seeds:
            if (width, seed) not in runs:
                settings = wtn_settings(cfg, width=width, seq_len=room.seq_len, progress=progress)
                runs[(width, seed)] = wtn.train_cached(room.fit, room.val, settings, seed=seed,
                                                       cache=cache)
            ranges, pos = wtn.predict(runs[(width, seed)], room.test, room.seq_len)
            e = wtn.errors(pos, xy)
            rows.append({"width": int(width), "seed": seed,
                         "positioning_rmse_m": float(np.sqrt(np.mean(e**2))),
                         "ranging_rmse_m": float(np.sqrt(np.mean((ranges - true_r) ** 2))),
                         "mean_error_m": float(np.mean(e))})
    return pd.DataFrame(rows), runs


def history_frame(result: RoomResult) -> pd.DataFrame:
    """Figs. 6 and 8: the per-epoch losses and validation errors of one room's WTN."""
    frame = pd.DataFrame(result.run.history)
    frame.insert(0, "room", result.room.name)
    frame.insert(1, "seed", result.seed)
    return frame


def compensated_ls(run: wtn.WtnRun, source_seq_len: int, target: Room) -> np.ndarray:
    """Positions of ``target``'s test steps: a WTN's compensation stage, then least squares.

    The compensation network is shared by all APs and sees one AP's ranges at a time, so
    it applies to a room with other APs; the positioning stage does not, and least
    squares with the target's AP positions takes its place.
    """
    import torch

    seq_len = min(source_seq_len, target.seq_len)
    X, _, _ = wtn.to_sequences(target.test, seq_len, wtn._fallback(target.train))
    with torch.no_grad():
        first = next(run.net.parameters())
        ranges = run.net.compensate(torch.from_numpy(X).to(first.device)).cpu().numpy()
    return tri.least_squares_gauss_newton(ranges.reshape(-1, target.test.n_aps).astype(np.float64),
                                          target.test.anchors)


def cross_room(results: dict[str, list[RoomResult]], rooms) -> pd.DataFrame:
    """Train in one room, test in another: LS on ranges compensated by each room's WTN.

    Returns
    -------
    pandas.DataFrame
        Columns ``trained_in`` (a room, or ``"none (raw ranges)"``), ``tested_in``,
        ``seed``, ``mean_m``.
    """
    rows = []
    for target in rooms:
        room = results[target][0].room
        _, _, xy, _ = room.test.flat()
        raw = tri.least_squares_gauss_newton(room.test.flat()[0], room.test.anchors)
        rows.append({"trained_in": "none (raw ranges)", "tested_in": target, "seed": -1,
                     "mean_m": float(np.nanmean(wtn.errors(raw, xy)))})
        for source in rooms:
            for r in results[source]:
                e = wtn.errors(compensated_ls(r.run, r.room.seq_len, room)[:len(xy)], xy)
                rows.append({"trained_in": source, "tested_in": target, "seed": r.seed,
                             "mean_m": float(np.nanmean(e))})
    return pd.DataFrame(rows)


def cross_room_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean error (m) with rows = room the compensation was trained in, columns = test room."""
    view = frame.groupby(["trained_in", "tested_in"], sort=False)["mean_m"].mean().unstack()
    view = view.rename(index=ROOM_LABELS, columns=ROOM_LABELS)
    view.columns.name = "tested in"
    return view


def few_labels(room: Room, fraction: float, seed: int) -> Room:
    """The room with only ``fraction`` of its WTN training points (at least 3), drawn by ``seed``."""
    n = max(3, int(round(fraction * room.fit.n_points)))
    keep = np.sort(np.random.default_rng(seed).choice(room.fit.n_points, size=n, replace=False))
    return replace(room, fit=room.fit.points(keep))


def fine_tune(room: Room, source: wtn.WtnRun, cfg: dict, fraction: float, seed: int, *,
              progress: bool = True, cache=None) -> dict:
    """Sim-pretrained compensation + fine-tuning on ``fraction`` of a room, against that
    fraction alone (same epochs, same seed).

    Returns
    -------
    dict
        ``room``, ``seed``, ``points`` (training points used), ``alone_m`` and
        ``pretrained_m`` (mean 2-D test error of the WTN, m), and ``alone_ls_m`` and
        ``pretrained_ls_m`` (its compensation stage followed by least squares, m).
    """
    small = few_labels(room, fraction, seed)
    settings = wtn_settings(cfg, epochs=cfg["finetune_epochs"], seq_len=room.seq_len,
                            progress=progress)
    _, _, xy, _ = room.test.flat()
    out = {"room": room.name, "seed": seed, "points": small.fit.n_points}
    alone = wtn.train_cached(small.fit, small.val, settings, seed=seed, cache=cache)
    tuned = wtn.train_cached(small.fit, small.val, settings, seed=seed, cache=cache,
                             init=wtn.compensation_state(source.net))
    for name, run in (("alone", alone), ("pretrained", tuned)):
        ranges, pos = wtn.predict(run, room.test, room.seq_len)
        out[f"{name}_m"] = float(np.mean(wtn.errors(pos, xy)))
        ls = tri.least_squares_gauss_newton(ranges, room.test.anchors)
        out[f"{name}_ls_m"] = float(np.nanmean(wtn.errors(ls, xy)))
    return out


# -- the page's benchmark and report records ---------------------------------------------------
METHOD_KEYS = {"LS (Gauss-Newton)": "ls", "LS (closed form)": "ls_closed", "LS + per-AP bias": "ls_bias",
               "Euclidean distance": "euclid", "weighted k-NN (RTT+RSS)": "knn", WTN: "wtn",
               WTN_LS: "wtn_ls"}
"""Short glue-key names of the methods."""

TARGETS_M = {"lecture_theatre": 0.55, "office": 0.65, "corridor": 0.65}
"""Mean 2-D error this book set itself as the target of its best model per real room (m);
ours, not the paper's (the paper has one room and reports WTN's error there)."""

CRLB_FACTOR = 1.5
"""Our bar: the best model's RMSE within this factor of the room's Cramér–Rao bound."""


def benchmark(runs: pd.DataFrame, results: dict[str, list[RoomResult]]) -> pd.DataFrame:
    """Per real room: the best method by mean error (means over seeds), against our targets
    and the two Cramér–Rao bounds (RMSE over bound)."""
    rows = []
    for room, rs in results.items():
        if room not in TARGETS_M:
            continue
        sub = runs[(runs["room"] == room) & runs["method"].isin(METHODS)]
        means = sub.groupby("method")[["mean_m", "rmse_m"]].mean()
        best = means["mean_m"].idxmin()
        noise = float(np.mean([r.crlb_noise for r in rs]))
        total = float(np.mean([r.crlb_total for r in rs]))
        rows.append({"room": ROOM_LABELS[room], "data": rs[0].room.kind, "best method": best,
                     "mean_m": means.loc[best, "mean_m"], "rmse_m": means.loc[best, "rmse_m"],
                     "WTN mean_m": means.loc[WTN, "mean_m"], "target_m": TARGETS_M[room],
                     "meets target": bool(means.loc[best, "mean_m"] <= TARGETS_M[room]),
                     "RMSE / CRLB (scan-step noise)": means.loc[best, "rmse_m"] / noise,
                     "RMSE / CRLB (range error spread)": means.loc[best, "rmse_m"] / total})
    return pd.DataFrame(rows)


def _per_seed(results, room, method):
    return [float(np.nanmean(r.errors[method])) for r in results[room]]


def _by_kind(results, rooms):
    kinds = {}
    for room in rooms:
        kinds.setdefault(results[room][0].room.kind, []).append(room)
    return kinds


def report_records(res, results: dict[str, list[RoomResult]], sweep: pd.DataFrame,
                   finetune: pd.DataFrame, cfg: dict) -> None:
    """Add the chapter's paper values and claims to ``res`` (a ResultSet)."""
    for room in ("lecture_theatre", SIM_ROOM):
        if room not in results:
            continue
        wtn_err = _per_seed(results, room, WTN)
        ls_err = _per_seed(results, room, "LS (Gauss-Newton)")
        res.compare("004", "Table 1", "WTN", "error", float(np.mean(wtn_err)),
                    data_kind=results[room][0].room.kind,
                    effect=[a - b for a, b in zip(ls_err, wtn_err, strict=True)],
                    note=f"{ROOM_LABELS[room]}: mean 2-D test error; effect: least squares minus WTN")
    kind = results[cfg["sweep_room"]][0].room.kind
    widths = sorted(sweep["width"].unique())
    by = sweep.set_index(["width", "seed"])
    seeds = sorted(sweep["seed"].unique())
    for column, paper_column in (("positioning_rmse_m", "positioning RMSE (converged)"),
                                 ("ranging_rmse_m", "ranging RMSE (converged)")):
        widest = [by.loc[(widths[-1], s), column] for s in seeds]
        # A converged RMSE is a magnitude, judged as one; the width trend is judged by the
        # claims 004-fig7-width-lowers-error and -saturates below.
        res.compare("004", "Fig. 7", "WTN", paper_column, float(np.mean(widest)), data_kind=kind,
                    n_seeds=len(seeds),
                    note=f"{ROOM_LABELS[cfg['sweep_room']]}, width {widths[-1]} (the widest "
                         f"swept; the paper's converged value is at width 1024)")
    if len(widths) > 1:
        pos = {w: [by.loc[(w, s), "positioning_rmse_m"] for s in seeds] for w in widths}
        res.claim("004-fig7-width-lowers-error",
                  {f"{ROOM_LABELS[cfg['sweep_room']]}, width {widths[0]} vs {widths[-1]}":
                   [a - b for a, b in zip(pos[widths[0]], pos[widths[-1]], strict=True)]},
                  data_kind=kind, evidence="test positioning RMSE per seed")
        res.claim("004-fig7-width-saturates",
                  {f"{ROOM_LABELS[cfg['sweep_room']]}, width {widths[-2]} to {widths[-1]}":
                   [100 * (a - b) / a for a, b in zip(pos[widths[-2]], pos[widths[-1]], strict=True)]},
                  data_kind=kind, evidence="relative change of the test positioning RMSE per seed")
    for data_kind, rooms in _by_kind(results, list(results)).items():
        wtn_cells, knn_cells = {}, {}
        for room in rooms:
            w = _per_seed(results, room, WTN)
            for base in ("LS (Gauss-Newton)", "Euclidean distance"):
                wtn_cells[f"{ROOM_LABELS[room]} / {base}"] = [
                    b - a for a, b in zip(w, _per_seed(results, room, base), strict=True)]
            knn_cells[ROOM_LABELS[room]] = [
                b - a for a, b in zip(w, _per_seed(results, room, "weighted k-NN (RTT+RSS)"), strict=True)]
        res.claim("004-table1-beats-toa", wtn_cells, data_kind=data_kind,
                  evidence="mean 2-D test error per seed")
        res.claim("004-ours-beats-knn", knn_cells, data_kind=data_kind,
                  evidence="mean 2-D test error per seed")
    if len(finetune):
        for data_kind, rooms in _by_kind(results, list(finetune["room"].unique())).items():
            cells = {ROOM_LABELS[room]: (finetune[finetune["room"] == room]["alone_m"]
                                         - finetune[finetune["room"] == room]["pretrained_m"]).tolist()
                     for room in rooms}
            res.claim("004-ours-sim-pretraining-helps", cells, data_kind=data_kind,
                      evidence=f"{100 * cfg['finetune_fraction']:g} % of the training points")

"""Chapter 30's experiment glue: LoFi (paper 002) on the simulator's ``lofi-room``.

The chapter simulates a walk whose truth is known, labels it the way LoFi does and
trains the benchmark networks on those labels:

1. :func:`simulate_session`: one walk in the preset's 1.8 m x 4.8 m area, the ESP32's
   CSI at 100 Hz with bursty loss (the person on the track in the ray tracer) and the
   true positions at the CSI clock and at a jittered webcam clock (26 Hz, paper §IV-A).
2. Labels (§III-A, eqs. 1-3): :func:`view_table` (label error per view against the
   paper's three values), :func:`detector_table` (detectors on a short clip),
   :func:`misclick_table` (a reference corner clicked off).
3. Signal side (§III-B/C): :func:`loss_summary` (eq. 4 against the true loss),
   :func:`holdout_fill_error` (filling scored on packets we hide), :func:`csi_grid`,
   :func:`alignment_check` (eq. 5, closed form against measured).
4. Table II and Fig. 4: :func:`frame_labels`, :func:`split_windows`,
   :func:`run_benchmark` (six networks and weighted k-NN, trained on camera labels or on
   the true positions), :func:`table2`, :func:`cdf_curves`; :func:`report_records` writes
   the values and claims the report judges.

Positions handed to the networks are in the area's own frame (x in [0, 1.8] m, y in
[0, 4.8] m, as the LoFi files and :data:`~wiloc_core.methods.lofi_bench.REGION_GRIDS`);
the simulator's are in room coordinates. Test windows are always scored against the
true positions (ours: the paper scores against its camera labels).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wiloc_core.errors import ParameterError
from wiloc_core.methods import lofi_align as la
from wiloc_core.methods import lofi_bench as lb

PAPER = "002"
TABLE2_ROWS = {"cnn": "CNN", "resnet18": "ResNet18", "rnn": "RNN", "gru": "GRU",
               "lstm": "LSTM", "csi-bert": "CSI-BERT", "knn": "weighted k-NN",
               "centre": "mean training position"}
"""Our model names -> the rows of paper 002 Table II in the registry (k-NN and the mean
training position are ours)."""
BASELINES = ("knn", "centre")
"""Rows of ours that are not networks: weighted k-NN and the answer that ignores the CSI."""
PAPER_VIEWS = ("camera view 1", "camera view 2", "camera view 3")
"""Registry rows of the paper's per-view label errors (§IV-A); matched to our views by
position only (the paper gives no camera poses)."""
LARGE = ("resnet18", "csi-bert")
"""The two networks the paper finds best (§IV-C)."""


# -- the walk ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Session:
    """One simulated walk in ``lofi-room``.

    Attributes
    ----------
    packet_times_s : numpy.ndarray, float64 (n_packets,), s
        Nominal send times of every packet (lost ones included), 1 / rate apart.
    packet_xy : numpy.ndarray, float64 (n_packets, 2), m (room frame)
        True position at each packet.
    csi : CsiFrames
        What the ESP32 reports (received packets only, jittered timestamps).
    frame_times_s : numpy.ndarray, float64 (n_frames,), s
        Webcam timestamps on the same clock.
    frame_xy : numpy.ndarray, float64 (n_frames, 2), m (room frame)
        True position at each frame.
    area : tuple
        (x_min, y_min, x_max, y_max) of the walking area, m.
    """

    packet_times_s: np.ndarray
    packet_xy: np.ndarray
    csi: object
    frame_times_s: np.ndarray
    frame_xy: np.ndarray
    area: tuple

    @property
    def rate_hz(self) -> float:
        return float(self.csi.rate_hz)

    def clip(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Frame times (k,) and true positions (k, 2) of the first ``seconds`` s."""
        keep = self.frame_times_s < float(seconds)
        return self.frame_times_s[keep], self.frame_xy[keep]


def simulate_session(duration_s: float, *, frame_rate_hz: float = 26.0, seed: int = 0,
                     **csi_kwargs) -> Session:
    """A person walking in ``lofi-room`` for ``duration_s`` s, seen by CSI and a webcam.

    The walk, the CSI (100 Hz, Gilbert-Elliott loss, timestamp jitter) and the scene's
    clutter come from :func:`wiloc_core.sim.presets.simulate_walk_csi` with ``seed``;
    the webcam clock (:func:`wiloc_core.vision.frame_times`) from ``seed + 1``. Positions
    at the frame times are interpolated from the 100 Hz track.
    """
    from wiloc_core.sim.presets import preset, simulate_walk_csi
    from wiloc_core.vision import frame_times

    if not float(duration_s) > 0:
        raise ParameterError("duration_s", "a walk longer than 0 s", duration_s)
    frames, t_s, xy = simulate_walk_csi("lofi-room", duration_s=float(duration_s),
                                        seed=int(seed), **csi_kwargs)
    ft = frame_times(float(duration_s), float(frame_rate_hz), seed=int(seed) + 1)
    ft = ft[ft <= t_s[-1]]
    fxy = np.column_stack([np.interp(ft, t_s, xy[:, 0]), np.interp(ft, t_s, xy[:, 1])])
    area = tuple(float(v) for v in preset("lofi-room", seed=int(seed)).walk_area)
    return Session(t_s, xy, frames, ft, fxy, area)


def to_area(xy, area) -> np.ndarray:
    """Room-frame positions (n, 2) m -> the area's own frame (origin at its corner)."""
    return np.asarray(xy, dtype=np.float64) - np.asarray(area[:2], dtype=np.float64)


def mean_speed(session: Session) -> float:
    """Mean walking speed over the session (m/s), pauses included."""
    step = np.linalg.norm(np.diff(session.packet_xy, axis=0), axis=1)
    return float(step.sum() / (session.packet_times_s[-1] - session.packet_times_s[0]))


# -- labels (§III-A) ----------------------------------------------------------------------------
def view_table(result) -> pd.DataFrame:
    """Per-view label error of a :class:`~wiloc_core.vision.LabelResult` (eqs. 1-3).

    Returns one row per view: ``view``, ``paper_view`` (the paper's view at the same
    position in the list), ``frames``, ``detection_rate`` (0-1), ``mean_error_cm``,
    ``median_error_cm``, ``p90_error_cm`` (over detected frames).
    """
    rows = []
    for v, name in enumerate(result.views):
        e = result.errors_cm[v]
        found = e[np.isfinite(e)]
        rows.append({"view": name, "paper_view": PAPER_VIEWS[v] if v < len(PAPER_VIEWS) else "",
                     "frames": int(e.size), "detection_rate": float(np.isfinite(e).mean()),
                     "mean_error_cm": float(found.mean()) if found.size else np.nan,
                     "median_error_cm": float(np.median(found)) if found.size else np.nan,
                     "p90_error_cm": float(np.percentile(found, 90)) if found.size else np.nan})
    return pd.DataFrame(rows)


def detector_table(times_s, xy, cameras, detectors, *, weights=None, seed: int = 0
                   ) -> pd.DataFrame:
    """Each detector of eq. 1 on the same clip: detection rate, label error and speed.

    Parameters
    ----------
    times_s, xy : (n,), (n, 2) m
        Frame times and true positions of the clip.
    cameras : list of Camera
    detectors : list of str
        Names of :data:`wiloc_core.vision.DETECTORS`; one that cannot run here (YOLO
        without a weights file) gets a row with its reason and NaN numbers.

    Returns
    -------
    pandas.DataFrame
        ``detector``, ``ran`` (bool), ``note``, ``detection_rate`` (0-1, all views),
        ``mean_error_cm`` (detected frames), ``frames_per_s`` (wall time).
    """
    from wiloc_core.vision import available_detectors, label_views

    why = available_detectors(weights)
    rows = []
    for name in detectors:
        if name not in why:
            raise ParameterError("detectors", f"names from {sorted(why)}", name)
        if why[name] is not None:
            rows.append({"detector": name, "ran": False, "note": why[name],
                         "detection_rate": np.nan, "mean_error_cm": np.nan,
                         "frames_per_s": np.nan})
            continue
        r = label_views(times_s, xy, cameras, detector=name, weights=weights, seed=seed,
                        track=True)
        e = r.errors_cm[np.isfinite(r.errors_cm)]
        rows.append({"detector": name, "ran": True, "note": "",
                     "detection_rate": float(np.isfinite(r.errors_cm).mean()),
                     "mean_error_cm": float(e.mean()) if e.size else np.nan,
                     "frames_per_s": r.frames_per_s})
    return pd.DataFrame(rows)


def misclick_table(cameras, offsets_px, *, area=None, step_m: float = 0.3) -> pd.DataFrame:
    """Floor error from clicking one reference corner ``offset`` px off (eq. 2).

    For each view, offset and corner, :func:`wiloc_core.vision.misclick_floor_error` over
    a grid of the area (``step_m`` apart) and 8 click directions; the row averages the
    four corners.

    Returns
    -------
    pandas.DataFrame
        ``view``, ``offset_px``, ``mean_error_cm``, ``max_error_cm``.
    """
    from wiloc_core.vision import LOFI_AREA, area_corners, misclick_floor_error

    area = LOFI_AREA if area is None else area
    floor = area_corners(area)
    gx = np.arange(area[0], area[2] + 1e-9, step_m)
    gy = np.arange(area[1], area[3] + 1e-9, step_m)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    rows = []
    for cam in cameras:
        pixels = cam.project(np.column_stack([floor, np.zeros(4)]))
        for off in offsets_px:
            e = np.stack([misclick_floor_error(pixels, floor, grid, float(off), corner=c)
                          for c in range(4)])
            rows.append({"view": cam.name, "offset_px": float(off),
                         "mean_error_cm": 100.0 * float(e.mean()),
                         "max_error_cm": 100.0 * float(e.max())})
    return pd.DataFrame(rows)


# -- signal side (§III-B, §III-C) ------------------------------------------------------------------
def loss_summary(frames) -> dict:
    """Eq. 4 against the simulator's truth: packets sent, lost, and lost as eq. 4 counts.

    ``frames`` is a :class:`~wiloc_core.sim.sensors.csi.CsiFrames`. Returns ``sent``,
    ``received``, ``lost_true``, ``lost_eq4`` (sum of eq. 4 over the received timestamps,
    plus none before the first or after the last), ``lost_fraction`` (0-1).
    """
    counts = la.lost_packet_counts(frames.timestamp_s, frames.rate_hz)
    inner = frames.lost[frames.seq[0]:frames.seq[-1] + 1]
    return {"sent": int(frames.lost.size), "received": int(frames.seq.size),
            "lost_true": int(frames.lost.sum()), "lost_between": int(inner.sum()),
            "lost_eq4": int(counts.sum()), "lost_fraction": float(frames.lost.mean())}


def _hidden_rows(n: int, burst: int, n_gaps: int, g: np.random.Generator) -> np.ndarray:
    """Start rows of ``n_gaps`` bursts of ``burst`` rows, apart and off the ends."""
    slots = np.arange(1, n - burst - 1, burst + 2)
    if slots.size == 0:
        raise ParameterError("burst", f"bursts shorter than the {n} received packets", burst)
    starts = g.choice(slots, size=min(int(n_gaps), slots.size), replace=False)
    return (np.sort(starts)[:, None] + np.arange(burst)).ravel()


def holdout_fill_error(frames, bursts, *, n_gaps: int = 20, methods=la.METHODS,
                       seed: int = 0) -> pd.DataFrame:
    """How well each filling method restores packets we hide (§III-B).

    Bursts of ``burst`` consecutive *received* packets are hidden, filled by
    :func:`~wiloc_core.methods.lofi_align.interpolate_lost` from the rest, and compared
    with what was received. Error: mean |(|Ĥ| − |H|)| over hidden packets and
    subcarriers, relative to the mean |H| (%), the amplitude being what LoFi's
    networks see.

    Returns
    -------
    pandas.DataFrame
        ``burst_packets``, ``method``, ``amplitude_error_pct``, ``n_hidden``.
    """
    t, csi = np.asarray(frames.timestamp_s, float), np.asarray(frames.csi, complex)
    rows = []
    for burst in bursts:
        g = np.random.default_rng([int(seed), int(burst)])
        hide = _hidden_rows(t.size, int(burst), n_gaps, g)
        lost = np.zeros(t.size, bool)
        lost[hide] = True
        values = np.where(lost[:, None], np.nan + 0j, csi)
        scale = float(np.abs(csi).mean())
        for method in methods:
            filled = la.interpolate_lost(t, values, lost, method)
            err = np.abs(np.abs(filled[hide]) - np.abs(csi[hide])).mean() / scale
            rows.append({"burst_packets": int(burst), "method": method,
                         "amplitude_error_pct": 100.0 * float(err), "n_hidden": int(hide.size)})
    return pd.DataFrame(rows)


def csi_grid(frames, method: str = "pchip"):
    """Received CSI on eq. 4's regular grid, lost packets filled; a ``FilledCsi``."""
    return la.fill_lost_packets(frames.timestamp_s, frames.csi, frames.rate_hz, method)


def true_positions(session: Session, times_s) -> np.ndarray:
    """True positions (n, 2) m (room frame) at CSI times ``times_s`` (n,) s."""
    t = np.asarray(times_s, float)
    return np.column_stack([np.interp(t, session.packet_times_s, session.packet_xy[:, 0]),
                            np.interp(t, session.packet_times_s, session.packet_xy[:, 1])])


def alignment_check(session: Session, csi_times_s, frame_rate_hz: float) -> pd.DataFrame:
    """Eq. 5 alone: the label error of matching each CSI time to a camera frame.

    Both rules of :func:`~wiloc_core.methods.lofi_align.align_to_frames` are applied to
    perfect (true) frame positions; the measured mean distance between a CSI frame's
    true position and its matched frame's is set beside the closed form
    ``v / (4 f_1)`` (``nearest``) or ``v / (2 f_1)`` (``next``) at the session's mean
    speed ``v``.

    Returns
    -------
    pandas.DataFrame
        ``rule``, ``speed_mps``, ``closed_form_mm``, ``measured_mm``, ``matched``.
    """
    t = np.asarray(csi_times_s, float)
    truth = true_positions(session, t)
    v = mean_speed(session)
    rows = []
    for rule, factor in (("nearest", 1.0), ("next", 2.0)):
        a = la.align_to_frames(t, session.frame_times_s, rule=rule)
        labels = la.aligned_labels(a, session.frame_xy)
        d = np.linalg.norm(labels - truth, axis=1)
        rows.append({"rule": rule, "speed_mps": v,
                     "closed_form_mm": 1e3 * factor * la.alignment_label_error(v, frame_rate_hz),
                     "measured_mm": 1e3 * float(np.nanmean(d)),
                     "matched": float(a.matched.mean())})
    return pd.DataFrame(rows)


# -- Table II ------------------------------------------------------------------------------------
def frame_labels(session: Session, csi_times_s, camera_xy) -> dict:
    """Per-CSI-frame labels, area frame (m): ``true`` (n, 2) and ``camera`` (n, 2).

    ``camera_xy`` (n_frames, 2) are one view's labels at the session's frame times (NaN
    where nothing was detected); each CSI frame takes its nearest frame's (eq. 5).
    """
    t = np.asarray(csi_times_s, float)
    a = la.align_to_frames(t, session.frame_times_s, rule="nearest")
    camera = la.aligned_labels(a, camera_xy)
    return {"true": to_area(true_positions(session, t), session.area),
            "camera": to_area(camera, session.area)}


def split_windows(amplitude, train_xy, true_xy, *, length: int = lb.WINDOW, stride: int = 10,
                  train_fraction: float = 0.9):
    """Time split of the frames (authors: 90/10), then windows on each side.

    Parameters
    ----------
    amplitude : float (n, n_sc)
        CSI magnitude per frame.
    train_xy : float (n, 2), m
        Labels the training windows use (camera labels or the truth; NaN rows drop
        their windows).
    true_xy : float (n, 2), m
        The truth: the targets of the test windows.

    Returns
    -------
    train : (X (m, length, n_sc), y (m, 2))
    test : (X (k, length, n_sc), y (k, 2))
    """
    a = np.asarray(amplitude, float)
    tr, te = lb.time_split(a.shape[0], train_fraction)
    Xtr, ytr, _ = lb.windows(a[tr], np.asarray(train_xy)[tr], length, stride)
    Xte, yte, _ = lb.windows(a[te], np.asarray(true_xy)[te], length, stride)
    if len(Xtr) < 2 or len(Xte) < 1:
        raise ParameterError("duration_s", "a walk long enough for training and test windows",
                             f"{len(Xtr)} / {len(Xte)} windows")
    return (Xtr, ytr), (Xte, yte)


def train_settings(name: str, cfg: dict, device: str = "auto"):
    """:func:`~wiloc_core.methods.lofi_bench.paper_settings` with the profile's epochs."""
    s = lb.paper_settings(name, epochs=int(cfg["epochs"]), device=device)
    return dataclasses.replace(s, patience=cfg["patience"])


def run_benchmark(train, test, cfg: dict, seeds, *, labels: str, models=None, cache=None,
                  device: str = "auto", knn: bool = True):
    """Train every network (and weighted k-NN) on ``train`` and score it on ``test``.

    Parameters
    ----------
    train, test : (X, y)
        From :func:`split_windows`; ``test[1]`` are true positions (m, area frame).
    cfg : dict
        The chapter's settings (``models``, ``model_kw``, ``epochs``, ``patience``).
    seeds : list of int
    labels : {"camera", "true"}
        Tag of the rows.
    models : list of str, optional
        Default ``cfg["models"]``.
    knn : bool
        Add the weighted k-NN row and the ``centre`` row, which answers the mean training
        position for every window: the error of a model that learned nothing from the CSI.

    Returns
    -------
    runs : pandas.DataFrame
        One row per (model, seed): ``labels``, ``model``, ``seed`` and the fields of
        :func:`~wiloc_core.methods.lofi_bench.table2_row` (accuracies 0-1), plus
        ``p_le_1m`` (0-1), ``seconds``. k-NN has no seed (one row, seed -1).
    errors : dict
        ``(labels, model, seed)`` -> float (k,) test errors, m.
    """
    rows, errors = [], {}
    y_true = np.asarray(test[1], float)

    def add(model, seed, pred, **extra):
        e = lb.errors_m(pred, y_true)
        errors[(labels, model, int(seed))] = e
        rows.append({"labels": labels, "model": model, "seed": int(seed),
                     **lb.table2_row(pred, y_true, **extra),
                     "p_le_1m": float(np.mean(e <= 1.0))})

    for name in (cfg["models"] if models is None else models):
        for seed in seeds:
            run = lb.train_and_test(name, train, test[0], train_settings(name, cfg, device),
                                    seed=int(seed), cache=cache,
                                    model_kw=dict(cfg["model_kw"].get(name, {})),
                                    grad_clip=cfg.get("grad_clip"))
            add(name, seed, run.pred, n_params=run.n_params,
                peak_memory_bytes=run.peak_memory_bytes)
            rows[-1]["seconds"] = float(run.fit.get("seconds", np.nan))
    if knn:
        pred, _, _ = lb.knn_row(train, test[0])
        add("knn", -1, pred)
        centre = np.nanmean(np.asarray(train[1], float), axis=0)
        add("centre", -1, np.tile(centre, (len(y_true), 1)))
    return pd.DataFrame(rows), errors


def table2(runs: pd.DataFrame) -> pd.DataFrame:
    """Table II from :func:`run_benchmark` rows: means over seeds per (labels, model).

    Errors in m, accuracies and ``p_le_1m`` in %, ``n_params`` and ``peak_memory_gb`` as
    measured, ``n_seeds``.
    """
    if not len(runs):
        return pd.DataFrame()
    order = {m: i for i, m in enumerate(TABLE2_ROWS)}
    pct = ["acc_6", "acc_4", "acc_2", "p_le_1m"]
    out = runs.assign(**{c: 100.0 * runs[c] for c in pct})
    cols = ["error_mean_m", "error_std_m", *pct, "n_params", "peak_memory_gb"]
    out = out.groupby(["labels", "model"], sort=False)[cols].mean()
    out["n_seeds"] = runs.groupby(["labels", "model"], sort=False).size()
    out = out.reset_index()
    out["row"] = out["model"].map(TABLE2_ROWS)
    return out.sort_values(["labels", "model"], key=lambda s: s.map(order) if s.name == "model"
                           else s).reset_index(drop=True)


def errors_frame(errors: dict) -> pd.DataFrame:
    """The test errors of :func:`run_benchmark` as a long table (``labels``, ``model``,
    ``seed``, ``error_m``), so that Fig. 4 can be redrawn from a saved run."""
    rows = [pd.DataFrame({"labels": kind, "model": model, "seed": int(seed),
                          "error_m": np.asarray(e, float)})
            for (kind, model, seed), e in errors.items()]
    if not rows:
        return pd.DataFrame(columns=["labels", "model", "seed", "error_m"])
    return pd.concat(rows, ignore_index=True)


def errors_from_frame(frame: pd.DataFrame) -> dict:
    """Inverse of :func:`errors_frame`: ``(labels, model, seed)`` -> float (k,) m."""
    return {(str(k), str(m), int(s)): g["error_m"].to_numpy(float)
            for (k, m, s), g in frame.groupby(["labels", "model", "seed"], sort=False)}


def cdf_curves(errors: dict, labels: str = "camera") -> dict:
    """Fig. 4: ``{model: (x (k,) m, F (k,))}``, the errors of all seeds pooled."""
    pooled: dict = {}
    for (kind, model, _), e in errors.items():
        if kind == labels:
            pooled.setdefault(model, []).append(np.asarray(e))
    from wiloc_core.metrics import ecdf

    return {m: ecdf(np.concatenate(v)) for m, v in pooled.items()}


def label_cost(runs: pd.DataFrame) -> pd.DataFrame:
    """Per model trained both ways: mean error on camera labels, on the truth, and the cost.

    Returns ``model``, ``camera_m``, ``true_m``, ``cost_m`` (camera minus true), means
    over the seeds both runs share.
    """
    runs = runs[runs["model"] != "centre"]  # it reads no CSI: nothing to learn from labels
    per = runs.pivot_table(index=["model", "seed"], columns="labels", values="error_mean_m")
    if not {"camera", "true"} <= set(per.columns):
        return pd.DataFrame(columns=["model", "camera_m", "true_m", "cost_m"])
    per = per.dropna(subset=["camera", "true"])
    out = per.groupby("model").mean()
    out = out.rename(columns={"camera": "camera_m", "true": "true_m"})
    out["cost_m"] = out["camera_m"] - out["true_m"]
    order = list(TABLE2_ROWS)
    return out.reset_index()[["model", "camera_m", "true_m", "cost_m"]].sort_values(
        "model", key=lambda s: s.map(order.index)).reset_index(drop=True)


# -- beyond the paper: does filling lost packets help the networks? -------------------------------
FILL_VARIANTS = ("received", *la.METHODS)
"""How the CSI reaches the windows: ``"received"`` keeps only the packets that arrived (a
window of 100 then spans the gaps, LoFi's processing before eq. 4), the others fill eq. 4's
grid with :func:`~wiloc_core.methods.lofi_align.interpolate_lost`."""


def amplitude_series(frames, fill: str) -> tuple[np.ndarray, np.ndarray]:
    """CSI times (n,) s and amplitude (n, n_sc) for one of :data:`FILL_VARIANTS`."""
    if fill == "received":
        return np.asarray(frames.timestamp_s, float), np.abs(np.asarray(frames.csi))
    if fill not in la.METHODS:
        raise ParameterError("fill_compare", f"entries from {FILL_VARIANTS}", fill)
    grid = csi_grid(frames, fill)
    return grid.timestamps_s, np.abs(grid.csi)


def fill_effect(session: Session, camera_xy, cfg: dict, seeds, *, cache=None,
                device: str = "auto") -> pd.DataFrame:
    """The networks ``cfg["fill_models"]`` trained on camera labels once per way of treating
    lost packets (``cfg["fill_compare"]``, :data:`FILL_VARIANTS`), tested on the truth.

    Each variant has its own frames, hence its own windows: the same walk and split
    fraction, but a "received" window covers more time than a filled one.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`run_benchmark` plus ``fill`` and ``n_train_windows``.
    """
    split = {"length": cfg["window"], "stride": cfg["stride"],
             "train_fraction": cfg["train_fraction"]}
    out = []
    for fill in cfg["fill_compare"]:
        t, amplitude = amplitude_series(session.csi, fill)
        labels = frame_labels(session, t, camera_xy)
        train, test = split_windows(amplitude, labels["camera"], labels["true"], **split)
        runs, _ = run_benchmark(train, test, cfg, seeds, labels="camera",
                                models=cfg["fill_models"], cache=cache, device=device, knn=False)
        out.append(runs.assign(fill=fill, n_train_windows=len(train[0])))
    return pd.concat(out, ignore_index=True)


def fill_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean test error (m) per model (rows) and fill variant (columns), means over seeds."""
    table = runs.pivot_table(index="model", columns="fill", values="error_mean_m",
                             aggfunc="mean")
    order = [f for f in FILL_VARIANTS if f in table.columns]
    return table[order].reindex([m for m in TABLE2_ROWS if m in table.index])


# -- the report ----------------------------------------------------------------------------------
def _per_seed(runs, **match) -> dict:
    part = runs
    for k, v in match.items():
        part = part[part[k] == v]
    return {int(s): float(e) for s, e in zip(part["seed"], part["error_mean_m"], strict=True)}


def report_records(res, *, views: pd.DataFrame, runs: pd.DataFrame) -> None:
    """Record the chapter's values and claims in ``res``; the report judges them.

    Values (simulated, magnitudes): the label error per view (paper §IV-A), Table II's
    error mean and std, region accuracies, model size (camera-trained networks, means
    over seeds), and Fig. 4's share of errors below 1 m. Claims: ``002-table2-below-1m``,
    ``002-table2-resnet-bert-lowest`` (when both large networks and another ran),
    ``002-ours-camera-labels-cost`` (networks trained both ways).
    """
    kind = "simulated"
    for _, row in views.iterrows():
        if row["paper_view"] and np.isfinite(row["mean_error_cm"]):
            res.compare(PAPER, "Text §IV-A", row["paper_view"], "mean label error",
                        row["mean_error_cm"], data_kind=kind,
                        note=f"Our view '{row['view']}' (camera poses are ours).")
    cam = runs[(runs["labels"] == "camera") & ~runs["model"].isin(BASELINES)]
    if not len(cam):
        return
    t2 = table2(cam)
    columns = {"error_mean_m": "Error Mean", "error_std_m": "Error Std",
               "acc_6": "Accuracy 6 classes", "acc_4": "Accuracy 4 classes",
               "acc_2": "Accuracy 2 classes", "n_params": "Model Size"}
    for _, row in t2.iterrows():
        for field, column in columns.items():
            res.compare(PAPER, "Table II", row["row"], column, row[field], data_kind=kind,
                        n_seeds=int(row["n_seeds"]))
        res.compare(PAPER, "Fig. 4", row["row"], "P(error<=1 m)", row["p_le_1m"],
                    data_kind=kind, n_seeds=int(row["n_seeds"]))
    res.claim("002-table2-below-1m",
              [{"label": TABLE2_ROWS[m], "values": list(_per_seed(cam, model=m).values())}
               for m in cam["model"].unique()], data_kind=kind,
              evidence="Mean test error against the true positions, per seed (m).")
    present = set(cam["model"])
    others = [m for m in TABLE2_ROWS if m in present and m not in LARGE]
    if set(LARGE) <= present and others:
        big = [_per_seed(cam, model=m) for m in LARGE]
        best = {s: min(big[0][s], big[1][s]) for s in big[0] if s in big[1]}
        cells = []
        for m in others:
            mine = _per_seed(cam, model=m)
            cells.append({"label": TABLE2_ROWS[m],
                          "values": [mine[s] - best[s] for s in sorted(best) if s in mine]})
        res.claim("002-table2-resnet-bert-lowest", cells, data_kind=kind,
                  evidence="Mean error minus the lower of ResNet18's and CSI-BERT's, per seed (m).")
    cells = []
    for m in runs.loc[(runs["labels"] == "true") & (runs["model"] != "centre"), "model"].unique():
        a = _per_seed(runs, labels="camera", model=m)
        b = _per_seed(runs, labels="true", model=m)
        shared = sorted(set(a) & set(b))
        if shared:
            cells.append({"label": TABLE2_ROWS[m], "values": [a[s] - b[s] for s in shared],
                          "deterministic": m == "knn"})
    if cells:
        res.claim("002-ours-camera-labels-cost", cells, data_kind=kind,
                  evidence="Mean test error when trained on camera labels minus on the truth (m).")

"""The EVAL chapter's experiments (paper 003 Figs. 4, 6, 7, 8, and two sweeps of ours).

The receiver chain is :mod:`wiloc_core.phy`, the packets and features are
:mod:`wiloc_core.data.eval_packets` and the classifiers
:mod:`wiloc_core.methods.eval_classifiers`; this module splits the packets, runs every
training as a cached task of the experiment engine (:mod:`wiloc_core.experiment`) and
shapes the results into the page's tables. The notebook only configures, calls these
functions and plots.

**Splits.** Each class is one recording: its packets in time order, the first
``n_train`` for training and the last ``n_test`` for testing (the paper's 4000 and 1000
per label, §IV). EVS calibration (eq. 24, reconstructed in
:func:`wiloc_core.phy.calibrate`) runs on each split separately with a causal moving
average over the last ``window`` packets, as a receiver running online would: no test
packet enters a training feature, and no feature sees a later packet.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from wiloc_core.data import eval_packets as ep
from wiloc_core.errors import ParameterError
from wiloc_core.methods import eval_classifiers as ec

#: Bump when a change alters any cached accuracy.
VERSION = 1
#: The six baselines of Fig. 8, in the paper's order.
CLASSIC = ("lr", "dt", "rf", "svm", "knn", "nb")
METHOD_LABELS = {"dnn": "EVAL DNN", "lr": "logistic regression", "dt": "decision tree",
                 "rf": "random forest", "svm": "SVM", "knn": "k-NN", "nb": "naive Bayes"}
FEATURE_LABELS = {"csi_amplitude": "CSI amplitude", "csi_phase": "CSI phase",
                  "evs_amplitude": "EVS amplitude", "evs_phase": "EVS phase"}
EVS_FEATURES = ("evs_amplitude", "evs_phase")
CSI_FEATURES = ("csi_amplitude", "csi_phase")
#: Methods whose predictions do not depend on the seed (scikit-learn defaults).
SEED_FREE = ("lr", "svm", "knn", "nb")
_DATASET_FIELDS = tuple(f.name for f in fields(ep.EvalDataset))


# -- packets and splits ----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Splits:
    """Training and test receptions of every class, split in time.

    Attributes
    ----------
    train, test : wiloc_core.data.eval_packets.EvalDataset
        Rows class by class, in time order within a class.
    snr_db : float
        SNR the packets were simulated at (dB).
    """

    train: ep.EvalDataset
    test: ep.EvalDataset
    snr_db: float

    def head(self, n_train: int, n_test: int) -> Splits:
        """The first ``n_train`` training and ``n_test`` test packets of every class."""
        return Splits(first_per_class(self.train, n_train), first_per_class(self.test, n_test),
                      self.snr_db)


def select(data: ep.EvalDataset, rows) -> ep.EvalDataset:
    """The rows ``rows`` (indices or a boolean mask) of every field."""
    return ep.EvalDataset(*(getattr(data, f)[rows] for f in _DATASET_FIELDS))


def first_per_class(data: ep.EvalDataset, n: int) -> ep.EvalDataset:
    """The first ``n`` rows of each class (all of them where a class has fewer)."""
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ParameterError("n", "a positive number of packets per class", n)
    rank = _rank_in_class(data.label)
    return select(data, rank < n)


def _rank_in_class(label: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each class, in row order."""
    rank = np.empty(label.size, dtype=np.int64)
    for c in np.unique(label):
        rows = np.flatnonzero(label == c)
        rank[rows] = np.arange(rows.size)
    return rank


def simulate_splits(n_train: int, n_test: int, *, snr_db: float = 25.0, seed: int = 0,
                    known_order: bool = False, **simulate) -> Splits:
    """Simulate ``n_train + n_test`` packets per class and split each class in time.

    Parameters
    ----------
    n_train, n_test : int >= 1
        Packets per class (paper: 4000 and 1000).
    snr_db : float
        SNR of the link (dB).
    seed : int
        The packets' seed (:func:`wiloc_core.data.eval_packets.simulate_eval_dataset`).
    known_order : bool
        Give the receiver the modulation order instead of classifying it (eq. 18).
    **simulate
        Further arguments of ``simulate_eval_dataset`` (``n_symbols``, ``cfo_max_hz``...).

    Returns
    -------
    Splits
    """
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ParameterError(name, "a positive number of packets per class", n)
    data = ep.simulate_eval_dataset(int(n_train) + int(n_test), snr_db=snr_db, seed=seed,
                                    known_order=known_order, **simulate)
    is_train = _rank_in_class(data.label) < n_train
    return Splits(select(data, is_train), select(data, ~is_train), float(snr_db))


def features(splits: Splits, *, beta_amplitude: float, beta_phase: float,
             window: int, form: str = "mix") -> tuple[dict, dict]:
    """CSI and calibrated EVS features of both splits, each split calibrated on its own.

    ``form`` is the reading of eq. 24 (:func:`wiloc_core.phy.calibrate`).

    Returns
    -------
    train, test : dict
        :data:`wiloc_core.data.eval_packets.FEATURES` -> float32 (n, 52).
    """
    kw = {"beta_amplitude": beta_amplitude, "beta_phase": beta_phase, "window": int(window),
          "form": form}
    return ep.eval_features(splits.train, **kw), ep.eval_features(splits.test, **kw)


def reception_quality(splits: Splits) -> dict:
    """How the receiver fared on the test packets: SNR, modulation and symbol errors."""
    t = splits.test
    n_points = 48 * ep.N_SYMBOLS
    return {"snr_db": splits.snr_db,
            "measured_snr_db": float(10 * np.log10(np.mean(t.snr))),
            "order_correct_pct": 100 * float(np.mean(t.order == ep.ORDER)),
            "symbol_error_rate": float(np.mean(t.symbol_errors) / n_points)}


# -- one training as a task ------------------------------------------------------------------
def accuracy_task(data: dict, *, method: str, seed: int, settings: dict | None = None) -> dict:
    """Train one classifier and score it: a task of the experiment engine.

    Parameters
    ----------
    data : dict
        ``x_train`` float32 (n_train, d), ``y_train`` int64 (n_train,), ``x_test``,
        ``y_test``.
    method : {"dnn", "lr", "dt", "rf", "svm", "knn", "nb"}
    seed : int
    settings : dict, optional
        :class:`wiloc_core.training.TrainSettings` fields for the DNN.

    Returns
    -------
    dict
        ``accuracy`` (%, test), ``per_class`` (% per class, length 26) and ``seconds``.
    """
    import time

    from wiloc_core.training import TrainSettings

    started = time.perf_counter()
    train_settings = TrainSettings(**settings) if settings else None
    pred = ec.fit_predict(data["x_train"], data["y_train"], data["x_test"], method=method,
                          seed=int(seed), settings=train_settings)
    y = np.asarray(data["y_test"])
    hit = pred == y
    per_class = [100 * float(hit[y == c].mean()) if np.any(y == c) else float("nan")
                 for c in range(ec.N_CLASSES)]
    return {"accuracy": 100 * float(hit.mean()), "per_class": per_class,
            "seconds": time.perf_counter() - started}


@dataclass(frozen=True)
class Job:
    """One training to run: which feature of which features, which method and seed."""

    feature: str
    method: str
    seed: int
    train: dict
    test: dict
    y_train: np.ndarray
    y_test: np.ndarray
    tags: dict


def dnn_settings(cfg: dict) -> dict:
    """TrainSettings fields of the EVAL DNN under a profile (``progress`` off in tasks)."""
    return {"epochs": int(cfg["epochs"]), "lr": float(cfg["lr"]),
            "batch_size": int(cfg["batch_size"]), "patience": cfg["patience"],
            "val_fraction": float(cfg["val_fraction"]), "device": "auto", "progress": False}


def run_jobs(jobs: list[Job], cfg: dict, *, cache=None, n_jobs: int = 1,
             progress: bool = True) -> pd.DataFrame:
    """Run every job through the experiment engine; one row per job.

    Returns
    -------
    pandas.DataFrame
        The jobs' ``tags``, ``feature``, ``method``, ``seed``, ``accuracy`` (%) and
        ``seconds`` (wall time of the training, only for provenance).
    """
    from wiloc_core.experiment import Task, run_sweep

    if not jobs:
        return pd.DataFrame()
    tasks = []
    for j in jobs:
        params = {"method": j.method, "seed": int(j.seed)}
        if j.method == "dnn":
            params["settings"] = dnn_settings(cfg)
        data = {"x_train": j.train[j.feature], "y_train": j.y_train,
                "x_test": j.test[j.feature], "y_test": j.y_test}
        tasks.append(Task.create(accuracy_task, params, data=data,
                                 name=f"EVAL {j.method} on {j.feature}, seed {j.seed}"))
    out = run_sweep(tasks, n_jobs=n_jobs, cache=cache, progress=progress)
    rows = [{**j.tags, "feature": j.feature, "method": j.method, "seed": int(j.seed),
             "accuracy": float(o["accuracy"]), "seconds": float(o["seconds"])}
            for j, o in zip(jobs, out, strict=True)]
    return pd.DataFrame(rows)


def _jobs(train, test, splits, feature_names, methods, seeds, **tags) -> list[Job]:
    return [Job(f, m, s, train, test, splits.train.label, splits.test.label, dict(tags))
            for f in feature_names for m in methods
            for s in (seeds[:1] if m in SEED_FREE else seeds)]


# -- the experiments -------------------------------------------------------------------------
def beta_sweep_jobs(splits: Splits, cfg: dict, seeds) -> list[Job]:
    """Fig. 6: the DNN on EVS amplitude and phase for every beta of ``cfg["betas"]``.

    Runs on the first ``cfg["sweep_n_train"]`` / ``cfg["sweep_n_test"]`` packets of
    each class of ``splits``.
    """
    splits = splits.head(cfg["sweep_n_train"], cfg["sweep_n_test"])
    jobs = []
    for beta in cfg["betas"]:
        train, test = features(splits, beta_amplitude=beta, beta_phase=beta, window=cfg["window"],
                               form=cfg["calibration_form"])
        jobs += _jobs(train, test, splits, EVS_FEATURES, ["dnn"], seeds, beta=float(beta))
    return jobs


def chosen_features(splits: Splits, cfg: dict, *, window: int | None = None):
    """Features at the paper's chosen betas (4 for amplitude, 6 for phase)."""
    return features(splits, beta_amplitude=cfg["beta_amplitude"], beta_phase=cfg["beta_phase"],
                    window=cfg["window"] if window is None else window,
                    form=cfg["calibration_form"])


def feature_jobs(splits: Splits, cfg: dict, seeds, train=None, test=None) -> list[Job]:
    """Fig. 7: the same DNN fed each of the four features."""
    if train is None:
        train, test = chosen_features(splits, cfg)
    return _jobs(train, test, splits, ep.FEATURES, ["dnn"], seeds)


def classic_jobs(splits: Splits, cfg: dict, seeds, train=None, test=None) -> list[Job]:
    """Fig. 8: the six baselines on the features of ``cfg["classic_features"]``.

    The training rows may be capped per class (``cfg["classic_max_train"]``) for the
    methods whose cost grows faster than the data (the SVM's kernel matrix).
    """
    if train is None:
        train, test = chosen_features(splits, cfg)
    jobs = []
    for method in cfg["classic_methods"]:
        cap = cfg["classic_max_train"].get(method) if cfg.get("classic_max_train") else None
        if cap:
            keep = _rank_in_class(splits.train.label) < int(cap)
            tr = {k: v[keep] for k, v in train.items()}
            part = Splits(select(splits.train, keep), splits.test, splits.snr_db)
        else:
            tr, part = train, splits
        jobs += _jobs(tr, test, part, cfg["classic_features"], [method],
                      list(seeds)[:int(cfg["classic_seeds"])],
                      train_per_class=int(cap) if cap else int(np.bincount(splits.train.label).max()))
    return jobs


def window_jobs(splits: Splits, cfg: dict, seeds) -> list[Job]:
    """Ours: the DNN on calibrated EVS against the number of packets averaged, N_P.

    Runs on the first ``cfg["sweep_n_train"]`` / ``cfg["sweep_n_test"]`` packets of
    each class of ``splits``.
    """
    splits = splits.head(cfg["sweep_n_train"], cfg["sweep_n_test"])
    jobs = []
    for window in cfg["windows"]:
        train, test = chosen_features(splits, cfg, window=int(window))
        jobs += _jobs(train, test, splits, EVS_FEATURES, ["dnn"], seeds, window=int(window))
    return jobs


def snr_splits(cfg: dict, seed: int) -> list[Splits]:
    """Ours: smaller recordings of every class at each SNR of ``cfg["snrs_db"]``."""
    return [simulate_splits(cfg["snr_n_train"], cfg["snr_n_test"], snr_db=float(snr),
                            seed=seed + 1000 + i)
            for i, snr in enumerate(cfg["snrs_db"])]


def snr_jobs(per_snr: list[Splits], cfg: dict, seeds) -> list[Job]:
    """Ours: the DNN on all four features at each SNR."""
    jobs = []
    for splits in per_snr:
        train, test = chosen_features(splits, cfg)
        jobs += _jobs(train, test, splits, ep.FEATURES, ["dnn"], seeds, snr_db=splits.snr_db)
    return jobs


# -- tables ----------------------------------------------------------------------------------
def mean_std(runs: pd.DataFrame, by) -> pd.DataFrame:
    """Mean and sample standard deviation of the accuracy over seeds (sd 0 for one run)."""
    g = runs.groupby(by, sort=False)["accuracy"]
    out = pd.DataFrame({"accuracy_mean": g.mean(), "accuracy_std": g.std(ddof=1).fillna(0.0),
                        "runs": g.size()}).reset_index()
    return out


def feature_view(runs: pd.DataFrame) -> pd.DataFrame:
    """Fig. 7 as a table: one row per feature, in the paper's order."""
    out = mean_std(runs, ["feature"])
    out["feature"] = out["feature"].map(FEATURE_LABELS)
    return out


def classic_view(classic: pd.DataFrame, eval_runs: pd.DataFrame, eval_feature: str) -> pd.DataFrame:
    """Fig. 8 as a table: method x feature accuracy (mean over runs), EVAL's row first.

    Columns follow the order of :data:`wiloc_core.data.eval_packets.FEATURES`; a method
    not run on a feature has NaN there.
    """
    table = classic.groupby(["method", "feature"])["accuracy"].mean().unstack("feature")
    table = table.reindex(index=[m for m in CLASSIC if m in table.index],
                          columns=[f for f in ep.FEATURES if f in table.columns])
    table.index = [METHOD_LABELS[m] for m in table.index]
    table.columns = [FEATURE_LABELS[c] for c in table.columns]
    dnn = eval_runs[eval_runs["feature"] == eval_feature]["accuracy"].mean()
    row = pd.DataFrame({FEATURE_LABELS[eval_feature]: [dnn]}, index=["EVAL (DNN)"])
    out = pd.concat([row, table])[list(table.columns)]
    out.index.name = "method"
    return out


def best_beta(sweep: pd.DataFrame, feature: str) -> float:
    """The swept beta with the highest mean accuracy for ``feature`` (ties: the smallest)."""
    g = sweep[sweep["feature"] == feature].groupby("beta")["accuracy"].mean()
    return float(g[g == g.max()].index.min())


def spectra(data: ep.EvalDataset, classes, n_packets: int) -> dict:
    """Fig. 4: |raw EVS| over subcarrier and time for the first packets of two classes.

    Returns
    -------
    dict
        class index -> float64 (n_packets, 52): amplitude of the raw EVS (eq. 23).
    """
    out = {}
    for c in classes:
        rows = np.flatnonzero(data.label == c)[:n_packets]
        out[int(c)] = np.abs(data.evs[rows])
    return out


# -- records for the report ------------------------------------------------------------------
def _per_seed(runs: pd.DataFrame, **where) -> pd.Series:
    """Accuracy per seed of the rows matching ``where`` (column -> value)."""
    m = np.ones(len(runs), dtype=bool)
    for k, v in where.items():
        m &= (runs[k] == v).to_numpy()
    return runs[m].set_index("seed")["accuracy"].sort_index()


def _paired(a: pd.Series, b: pd.Series) -> list[float]:
    """a - b over the seeds both have."""
    common = a.index.intersection(b.index)
    return [float(a[s] - b[s]) for s in common]


def report_records(res, *, sweep: pd.DataFrame, feats: pd.DataFrame, classic: pd.DataFrame,
                   windows: pd.DataFrame, snrs: pd.DataFrame, cfg: dict) -> None:
    """Record the chapter's compared values and claims in ``res`` (the report judges them).

    Every accuracy is simulated: values are magnitudes, claims get verdicts (see
    :mod:`wiloc_core.verdicts`). Claim quantities are differences of accuracies in
    percentage points, one per seed.
    """
    data_kind = "simulated"
    for feature, column in (("evs_amplitude", "EVS amplitude"), ("evs_phase", "EVS phase")):
        if len(sweep):
            res.compare("003", "Fig. 6", column, "best calibration parameter",
                        best_beta(sweep, feature), unit="", data_kind=data_kind,
                        note="The swept beta with the highest mean test accuracy.")
    if len(sweep):
        chosen = {"evs_amplitude": cfg["beta_amplitude"], "evs_phase": cfg["beta_phase"]}
        cells, over = [], []
        top = float(sweep["beta"].max())
        for feature, beta in chosen.items():
            at = _per_seed(sweep, feature=feature, beta=float(beta))
            cells.append({"label": FEATURE_LABELS[feature],
                          "values": _paired(at, _per_seed(sweep, feature=feature, beta=0.0))})
            over.append({"label": f"{FEATURE_LABELS[feature]}, beta {beta:g} vs {top:g}",
                         "values": _paired(at, _per_seed(sweep, feature=feature, beta=top))})
        if all(c["values"] for c in cells):
            res.claim("003-fig6-calibration-helps", cells, data_kind=data_kind,
                      evidence="Accuracy at the chosen beta minus at beta 0 (no calibration), pp.")
        if all(c["values"] for c in over):
            res.claim("003-fig6-oversmoothing", over, data_kind=data_kind,
                      evidence="Accuracy at the chosen beta minus at the largest swept beta, pp.")
    if len(feats):
        acc = {f: _per_seed(feats, feature=f) for f in ep.FEATURES}
        res.claim("003-fig7-evs-phase-beats-csi-phase",
                  {"EVS phase - CSI phase": _paired(acc["evs_phase"], acc["csi_phase"])},
                  data_kind=data_kind, evidence="DNN test accuracy difference, pp.")
        res.claim("003-fig7-evs-amplitude-slightly-beats-csi-amplitude",
                  {"EVS amplitude - CSI amplitude": _paired(acc["evs_amplitude"],
                                                            acc["csi_amplitude"])},
                  data_kind=data_kind, evidence="DNN test accuracy difference, pp.")
        res.claim("003-fig7-evs-phase-beats-evs-amplitude",
                  {"EVS phase - EVS amplitude": _paired(acc["evs_phase"], acc["evs_amplitude"])},
                  data_kind=data_kind, evidence="DNN test accuracy difference, pp.")
    if len(classic):
        _classic_claims(res, classic, feats, cfg, data_kind)
    if len(windows):
        top, one = int(windows["window"].max()), int(windows["window"].min())
        cells = [{"label": FEATURE_LABELS[f],
                  "values": _paired(_per_seed(windows, feature=f, window=top),
                                    _per_seed(windows, feature=f, window=one))}
                 for f in EVS_FEATURES]
        res.claim("003-ours-averaging-helps", cells, data_kind=data_kind,
                  evidence=f"Accuracy with N_P = {top} minus with N_P = {one}, pp.")
    if len(snrs):
        cells = [{"label": f"{s:g} dB",
                  "values": _paired(_per_seed(snrs, feature="evs_phase", snr_db=s),
                                    _per_seed(snrs, feature="csi_phase", snr_db=s))}
                 for s in sorted(snrs["snr_db"].unique())]
        res.claim("003-ours-evs-phase-wins-at-every-snr", cells, data_kind=data_kind,
                  evidence="EVS phase minus CSI phase accuracy at each swept SNR, pp.")


def _classic_claims(res, classic, feats, cfg, data_kind):
    amp_minus_phase = []
    for m in cfg["classic_methods"]:
        a = _per_seed(classic, method=m, feature="csi_amplitude")
        p = _per_seed(classic, method=m, feature="csi_phase")
        if len(a) and len(p):
            amp_minus_phase.append({"label": METHOD_LABELS[m], "values": _paired(a, p),
                                    "deterministic": m in SEED_FREE})
    if amp_minus_phase:
        res.claim("003-fig8-csi-phase-below-amplitude", amp_minus_phase, data_kind=data_kind,
                  evidence="Classic method's accuracy on CSI amplitude minus on CSI phase, pp.")
    if not len(feats):
        return
    eval_acc = _per_seed(feats, feature=cfg["eval_feature"])
    beats, same_input = [], []
    for m in cfg["classic_methods"]:
        rows = classic[(classic["method"] == m) & classic["feature"].isin(CSI_FEATURES)]
        if len(rows):
            best = float(rows.groupby("feature")["accuracy"].mean().max())
            beats.append({"label": METHOD_LABELS[m], "values": [float(v) - best for v in eval_acc]})
        own = classic[(classic["method"] == m) & (classic["feature"] == cfg["eval_feature"])]
        if len(own):
            same_input.append({"label": METHOD_LABELS[m],
                               "values": [float(v) - float(own["accuracy"].mean()) for v in eval_acc]})
    if beats:
        res.claim("003-fig8-eval-beats-classic", beats, data_kind=data_kind,
                  evidence="EVAL's accuracy minus the classic method's best on CSI amplitude or "
                           "phase, pp (per EVAL seed).")
    if same_input:
        res.claim("003-ours-dnn-beats-classic-on-evs", same_input, data_kind=data_kind,
                  evidence="EVAL's accuracy minus the classic method's on the same calibrated "
                           "EVS feature, pp (per EVAL seed).")

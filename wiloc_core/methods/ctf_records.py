"""Paper 000's chapter numbers from its per-seed run tables: report records and prose.

Everything here reads the per-seed run tables of :mod:`wiloc_core.methods.ctf_transfer`
(``table1_runs``, ``table2_runs``, ``fig4_runs``), never trained networks, so that the
chapter's own run and a committed run become report records and prose numbers through
the same code (:func:`report_records`, :func:`story_values`), and a committed run is
re-evaluated without retraining (:func:`reevaluate_committed`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from wiloc_core import metrics
from wiloc_core.chapter import has_paper_value
from wiloc_core.errors import ParameterError
from wiloc_core.methods.ctf_transfer import (
    TrainSettings,
    crossing_fraction,
    size_label,
    step_budget,
)


def _seeds(frame) -> list[int]:
    return sorted(int(s) for s in frame["seed"].unique())


def _per_seed(frame, column: str) -> list[float]:
    """``column`` of ``frame`` ordered by seed (one row per seed)."""
    ordered = frame.sort_values("seed")
    if ordered["seed"].duplicated().any():
        raise ParameterError("runs table", "one row per seed in every cell", "repeated seeds")
    return [float(v) for v in ordered[column]]


def fig4_crossings(fig4_runs, never: float = 100.0) -> list[float]:
    """Per seed: the training size (%) from which the proposed method beats the 75 % bar.

    :func:`crossing_fraction` of that seed's ``proposed_gain`` curve; a seed whose curve
    stays below zero at its largest size counts as ``never`` (the claim registry's
    convention for "never within the sizes tried").

    Returns
    -------
    list of float, one per seed (ordered by seed), in %.
    """
    out = []
    for _, part in fig4_runs.groupby("seed", sort=True):
        crossing = crossing_fraction(part["fraction"].to_numpy(), part["proposed_gain"].to_numpy())
        out.append(100 * crossing if np.isfinite(crossing) else float(never))
    return out


def table1_degradation_cells(table1_runs) -> list[dict]:
    """Claim cells of ``000-table1-degrades``: per environment and pair of neighbouring sizes,
    RMSE at the smaller size minus RMSE at the larger size, one value per seed (cm)."""
    cells = []
    for env, part in table1_runs.groupby("environment", sort=False):
        fractions = sorted(part["fraction"].unique(), reverse=True)
        for larger, smaller in zip(fractions, fractions[1:], strict=False):
            big = part[part.fraction == larger].set_index("seed")["rmse_cm"]
            small = part[part.fraction == smaller].set_index("seed")["rmse_cm"]
            seeds = sorted(set(big.index) & set(small.index))
            cells.append({"label": f"{env} {size_label(larger)} to {size_label(smaller)}",
                          "values": [float(small[s] - big[s]) for s in seeds]})
    return cells


def _table2_cells(table2_runs, column: str) -> dict[str, list[float]]:
    """``{"<target> <size>": per-seed values of column}`` in table order."""
    cells = {}
    for (target, fraction), part in table2_runs.groupby(["target", "fraction"], sort=False):
        cells[f"{target} {size_label(fraction)}"] = _per_seed(part, column)
    return cells


def report_records(res, table1_runs, table2_runs, fig4_runs, *,
                   fig4_pair: str = "Lab target, Lobby source") -> list[dict]:
    """Add the chapter's report records to ``res``: Table I, Table II, Fig. 4 and the claims.

    The one code path from the per-seed run tables to records, used by the notebook
    and by :func:`reevaluate_committed`. Values are means over seeds with their
    per-seed *effect* (positive = the paper's direction); claims get their registered
    cells (:mod:`wiloc_core.claims`); the report judges both (:mod:`wiloc_core.verdicts`).

    Parameters
    ----------
    res : wiloc_core.results.ResultSet
    table1_runs : DataFrame
        ``environment``, ``fraction``, ``seed``, ``rmse_cm`` (:func:`conventional_rmse_table`).
    table2_runs : DataFrame
        :func:`run_transfer`'s columns; with ``control_gain_pct`` the fair-control claim
        (ours) is recorded too.
    fig4_runs : DataFrame
        ``fraction``, ``seed``, ``conventional_gain``, ``proposed_gain`` (%, over the
        conventional CNN at 75 %).
    fig4_pair : str
        Label of Fig. 4's (target, source) pair.

    Returns
    -------
    list of dict
        The records added (also in ``res.records``).
    """
    start = len(res.records)
    # Table I: effect = RMSE at this size minus RMSE at the largest size (positive: the
    # conventional CNN degrades as the paper says).
    for env, part in table1_runs.groupby("environment", sort=False):
        largest = part["fraction"].max()
        base = part[part.fraction == largest].set_index("seed")["rmse_cm"]
        for fraction in sorted(part["fraction"].unique(), reverse=True):
            if not has_paper_value("000", "Table I", env, size_label(fraction)):
                continue
            cell = part[part.fraction == fraction]
            values = _per_seed(cell, "rmse_cm")
            effect = None if fraction == largest else [
                float(v - base[s]) for s, v in zip(_seeds(cell), values, strict=True)]
            res.compare("000", "Table I", env, size_label(fraction), float(np.mean(values)),
                        effect=effect, n_seeds=len(values),
                        note=f"mean over seeds {_seeds(cell)}"
                        + ("" if effect is None else f"; effect: RMSE minus RMSE at "
                           f"{size_label(largest)}, per seed"))
    # Table II: effect of Proposed and Accuracy Gain = conventional minus proposed, per seed.
    for (target, fraction), part in table2_runs.groupby(["target", "fraction"], sort=False):
        size = size_label(fraction)
        if not has_paper_value("000", "Table II", target, f"Proposed {size}"):
            continue
        conv, prop = _per_seed(part, "conventional_cm"), _per_seed(part, "proposed_cm")
        gain = _per_seed(part, "gain_pct")
        diff = [c - p for c, p in zip(conv, prop, strict=True)]
        note = f"source {part['source'].iloc[0]}; mean over seeds {_seeds(part)}"
        res.compare("000", "Table II", target, f"Conventional {size}", float(np.mean(conv)),
                    n_seeds=len(conv), note=note)
        res.compare("000", "Table II", target, f"Proposed {size}", float(np.mean(prop)),
                    effect=diff, note=note + "; effect: conventional minus proposed RMSE (cm)")
        res.compare("000", "Table II", target, f"Accuracy Gain {size}", float(np.mean(gain)),
                    effect=gain, note=note + "; effect: the gain itself (%)")
    gains = _table2_cells(table2_runs, "gain_pct")
    if gains:
        best = max(gains, key=lambda label: np.mean(gains[label]))
        res.compare("000", "Abstract", "Proposed", "max accuracy gain", float(np.mean(gains[best])),
                    effect=gains[best], note=f"largest mean gain over Table II's cells: {best}")
    # Fig. 4: per-seed size at which the proposed method reaches the 75 % bar.
    crossings = fig4_crossings(fig4_runs)
    sizes = ", ".join(f"{100 * f:g}" for f in sorted(fig4_runs["fraction"].unique()))
    never = "a seed that never reaches the bar counts as 100 %"
    res.compare("000", "Fig. 4", "Proposed", "training fraction matching conventional 75%",
                float(np.mean(crossings)), effect=[75.0 - c for c in crossings],
                note=f"{fig4_pair}; sizes tried {sizes} %; {never}; effect: 75 % minus the "
                     "crossing, per seed")
    # Claims (registry rows 000-*).
    res.claim("000-table1-degrades", table1_degradation_cells(table1_runs),
              evidence="test RMSE, smaller minus larger neighbouring size, per environment and seed")
    res.claim("000-table2-beats-conventional", gains,
              evidence="accuracy gain of the proposed method over the conventional CNN, per "
                       "(target, size) and seed")
    res.claim("000-max-gain-43", gains, evidence="the Table II cell with the largest mean gain")
    res.claim("000-fig4-40-matches-75", {fig4_pair: crossings},
              evidence=f"training size (%) at which the proposed curve reaches the 75 % bar; {never}")
    if "control_gain_pct" in table2_runs:
        res.claim("000-beats-matched-control", _table2_cells(table2_runs, "control_gain_pct"),
                  evidence="accuracy gain of the proposed method over the conventional CNN "
                           "with the same validation-based selection and step budget (ours)")
    return res.records[start:]


def sample_split_sizes(n_total: int, test_fraction: float = 0.25,
                       val_fraction: float = 0.2) -> dict:
    """Sizes of :func:`wiloc_core.data.ctf.make_split`'s sample split, without the data.

    Returns ``{"train", "val", "test"}`` (sweeps) for ``n_total`` sweeps, rounded as the
    splitter rounds.
    """
    held = int(round(test_fraction * n_total))
    val = int(round(val_fraction * held))
    return {"train": int(n_total) - held, "val": val, "test": held - val}


def asymmetry_table(table2_runs, settings: TrainSettings, k_multiples, *,
                    n_total: int | None = None):
    """The proposed method's advantages over the conventional CNN, per Table II size.

    Parameters
    ----------
    table2_runs : DataFrame
        With ``n_train`` and either ``n_val`` / ``n_pool`` (this chapter's runs) or
        neither, when ``n_total`` gives the sample split's sizes (older committed runs).
    settings : TrainSettings
    k_multiples : sequence of float
    n_total : int, optional
        Sweeps per environment, for tables without ``n_val`` / ``n_pool``.

    Returns
    -------
    DataFrame
        One row per labelled fraction: ``size_pct``, ``n_labelled``, ``n_val``,
        ``val_ratio`` (validation sweeps per labelled sweep: the proposed method selects
        its model on them, the conventional CNN never sees them), ``conventional_steps``,
        ``stage6_max_steps``, ``pass_ratio`` (stage 6's largest g5 over the conventional
        CNN's steps) and ``budget_ratio`` (all stage-6 steps over the conventional CNN's:
        the budget of the fair control).
    """
    import pandas as pd

    rows = []
    for fraction, part in table2_runs.groupby("fraction", sort=True):
        n_l = int(part["n_train"].iloc[0])
        if "n_val" in part and "n_pool" in part:
            n_val, n_pool = int(part["n_val"].iloc[0]), int(part["n_pool"].iloc[0])
        elif n_total is not None:
            sizes = sample_split_sizes(n_total)
            n_val, n_pool = sizes["val"], sizes["train"] - n_l
        else:
            raise ParameterError("n_total", "the number of sweeps per environment for a "
                                 "table without n_val / n_pool", None)
        budget = step_budget(n_l, n_pool, settings, k_multiples)
        rows.append({"fraction": float(fraction), "size_pct": 100 * float(fraction),
                     "n_labelled": n_l, "n_val": n_val, "val_ratio": n_val / n_l,
                     "conventional_steps": budget["conventional"],
                     "stage6_max_steps": budget["stage6_max"],
                     "stage6_total_steps": budget["stage6_total"],
                     "pass_ratio": budget["pass_ratio"],
                     "budget_ratio": budget["stage6_total"] / budget["conventional"]})
    return pd.DataFrame(rows)


def fig4_by_size(fig4_runs):
    """Fig. 4 per training size: in how many seeds the proposed method beats the conventional CNN.

    Both gains are over the same bar (the conventional CNN at 75 %), so the proposed
    method has the lower RMSE exactly when its gain is the larger.

    Returns
    -------
    DataFrame
        ``fraction``, ``size_pct``, ``n_seeds``, ``n_better`` (seeds where the proposed
        RMSE is lower), ``rmse_difference_cm`` (mean over seeds of conventional minus
        proposed RMSE).
    """
    import pandas as pd

    rows = []
    for fraction, part in fig4_runs.groupby("fraction", sort=True):
        diff = (part["proposed_gain"] - part["conventional_gain"]) * part["bar_cm"] / 100
        rows.append({"fraction": float(fraction), "size_pct": 100 * float(fraction),
                     "n_seeds": int(len(part)), "n_better": int((diff > 0).sum()),
                     "rmse_difference_cm": float(diff.mean())})
    return pd.DataFrame(rows)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def fig4_text(by_size) -> str:
    """One sentence on every Fig. 4 size: where the proposed method wins, and in how many seeds."""
    groups: list[tuple[str, list[str]]] = []
    for row in by_size.itertuples():
        n, k = row.n_seeds, row.n_better
        if n == 1:
            outcome = "lower" if k else "higher"
            phrase = f"the {outcome} RMSE (one seed)"
        elif k == n:
            phrase = f"the lower RMSE in all {n} seeds"
        elif k == 0:
            phrase = f"the higher RMSE in all {n} seeds"
        else:
            phrase = f"the lower RMSE in {k} of {n} seeds"
        if groups and groups[-1][0] == phrase:
            groups[-1][1].append(f"{row.size_pct:g}")
        else:
            groups.append((phrase, [f"{row.size_pct:g}"]))
    parts = [f"{phrase} at {_join(sizes)} %" for phrase, sizes in groups]
    return "the proposed method has " + "; ".join(parts)


def crossing_text(crossings: list[float], never: float = 100.0) -> str:
    """Where the proposed curve reaches the 75 % bar, from :func:`fig4_crossings`."""
    reached = [c for c in crossings if c < never]
    n = len(crossings)
    if not reached:
        return ("nowhere in the sizes tried, in " + ("the one seed" if n == 1 else f"none of the {n} seeds")
                + " (its RMSE stays above the bar)")
    where = ", ".join(f"{c:.0f} %" for c in reached)
    return f"in {len(reached)} of {n} seeds, at {where}"


def story_values(table1_runs, table2_runs, fig4_runs, asymmetries, *, target_env: str) -> dict:
    """The numbers and phrases the chapter's prose quotes, from one run's tables.

    Returns
    -------
    dict
        key -> ``(value, unit)``; the notebook glues them (:mod:`wiloc_core.committed`).
    """
    t1 = table1_runs[table1_runs.environment == target_env].groupby("fraction")["rmse_cm"].mean()
    cells = table2_runs.groupby(["target", "fraction"], sort=False)
    gain = cells["gain_pct"].mean()
    losing: dict[str, list[str]] = {}
    for (target, fraction), g in gain.items():
        if g <= 0:
            losing.setdefault(target, []).append(f"{100 * fraction:g}")
    losses = [f"the {t} at {_join(sizes)} %" for t, sizes in losing.items()]
    won_everywhere = int(cells["gain_pct"].apply(lambda g: bool((g > 0).all())).sum())
    smallest = asymmetries.loc[asymmetries["fraction"].idxmin()]
    most = asymmetries.loc[asymmetries["pass_ratio"].idxmax()]
    values = {
        "n_seeds": (int(table2_runs["seed"].nunique()), ""),
        "t1_target_max_cm": (float(t1.iloc[-1]), "cm"),
        "t1_target_min_cm": (float(t1.iloc[0]), "cm"),
        "t1_max_fraction": (100 * float(t1.index[-1]), "%"),
        "t1_min_fraction": (100 * float(t1.index[0]), "%"),
        "t2_improved": (int((gain > 0).sum()), ""),
        "t2_won_every_seed": (won_everywhere, ""),
        "t2_cells": (int(len(gain)), ""),
        "t2_max_gain": (float(gain.max()), "%"),
        "t2_min_gain": (float(gain.min()), "%"),
        "t2_losses_text": ("; ".join(losses) if losses else "no cell", ""),
        "t2_mean_pseudo_gain": (metrics.accuracy_gain(float(table2_runs["g2_cm"].mean()),
                                                      float(table2_runs["proposed_cm"].mean())), "%"),
        "asym_small_size": (float(smallest["size_pct"]), "%"),
        "asym_small_labelled": (int(smallest["n_labelled"]), ""),
        "asym_small_val": (int(smallest["n_val"]), ""),
        "asym_val_ratio": (float(smallest["val_ratio"]), ""),
        "asym_pass_ratio": (float(most["pass_ratio"]), ""),
        "asym_pass_size": (float(most["size_pct"]), "%"),
        "asym_budget_ratio": (float(asymmetries["budget_ratio"].max()), ""),
        "fig4_text": (fig4_text(fig4_by_size(fig4_runs)), ""),
        "crossing_text": (crossing_text(fig4_crossings(fig4_runs)), ""),
    }
    return values


def reevaluate_committed(folder) -> list[dict]:
    """Rebuild a committed run's ``report.json`` from its committed tables (no retraining).

    Reads ``summary.json`` (profile, seed, data kind, parameters) and the per-seed tables
    ``table1_runs.csv``, ``table2_runs.csv`` and ``fig4_runs.csv``, builds the records
    with :func:`report_records` (the notebook's own code path), writes ``report.json``
    and ``paper_vs_ours.csv`` (the statuses), and adds a ``reevaluated`` entry to
    ``provenance.json``, keeping every other field. The run tables are not touched.

    Parameters
    ----------
    folder : path-like
        ``results/10-ctf-transfer`` or a copy of it.

    Returns
    -------
    list of dict
        The rebuilt records.
    """
    from datetime import UTC, datetime

    import pandas as pd

    from wiloc_core import atomic
    from wiloc_core.display import paper_vs_ours
    from wiloc_core.results import ResultSet, git_commit

    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    params = summary.get("parameters", {})
    res = ResultSet(summary["notebook"], profile=summary["profile"], seed=summary["seed"],
                    data_kind=summary["data_kind"], parameters=params,
                    overrides=summary.get("overrides"), out_dir=folder)
    tables = {name: pd.read_csv(folder / f"{name}.csv")
              for name in ("table1_runs", "table2_runs", "fig4_runs")}
    pair = f"{params.get('target_env', 'Lab')} target, {params.get('source_env', 'Lobby')} source"
    records = report_records(res, tables["table1_runs"], tables["table2_runs"],
                             tables["fig4_runs"], fig4_pair=pair)
    atomic.write_json(folder / "report.json", records)
    buffer = paper_vs_ours(records).to_csv(index=False, float_format="%.6g", lineterminator="\n")
    atomic.write_text(folder / "paper_vs_ours.csv", buffer)
    provenance_file = folder / "provenance.json"
    provenance = json.loads(provenance_file.read_text()) if provenance_file.exists() else {}
    commit, dirty = git_commit()
    provenance["reevaluated"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "what": "report.json and paper_vs_ours.csv rebuilt from the committed run tables "
                "(table1_runs, table2_runs, fig4_runs) with the report records v2; no network "
                "was retrained and no run table changed",
        "by": "wiloc_core.methods.ctf_records.reevaluate_committed",
        "commit": commit, "dirty": dirty}
    atomic.write_json(provenance_file, provenance)
    return records


def control_values(table2_runs) -> dict:
    """Prose numbers of the fair control (runs with ``control_cm``), key -> ``(value, unit)``."""
    cells = table2_runs.groupby(["target", "fraction"], sort=False)
    over_control = cells["control_gain_pct"].mean()
    control_vs_conv = metrics.accuracy_gain(float(table2_runs["conventional_cm"].mean()),
                                            float(table2_runs["control_cm"].mean()))
    return {"control_beaten": (int((over_control > 0).sum()), ""),
            "control_cells": (int(len(over_control)), ""),
            "control_min_gain": (float(over_control.min()), "%"),
            "control_max_gain": (float(over_control.max()), "%"),
            "control_over_conventional": (control_vs_conv, "%")}

"""Small display helpers shared by every chapter: data-kind notes, paper-vs-ours tables,
captions of committed runs, and whether live widgets may run."""

from __future__ import annotations

import os

#: Set to ``1`` by :func:`wiloc_core.runner.run_notebook` for the kernel it starts: the
#: notebook runs unattended (Papermill, CI), so it must not build live widgets.
BATCH_ENV = "WILOC_BATCH"


def interactive_session() -> bool:
    """Whether a person drives this kernel (JupyterLab), so live widgets may be built.

    Under Papermill a live ``ipywidgets`` explorer can leave the kernel and the client
    both idle for good (nbclient issue 312), so batch runs (``WILOC_BATCH=1``, set by
    ``wiloc run``) show the static figure beside the explorer and skip the widgets.
    """
    return os.environ.get(BATCH_ENV, "").strip() in ("", "0")


def data_kind_note(sources: dict[str, str], notes: dict[str, str] | None = None):
    """A visible admonition saying which datasets on the page are real and which simulated.

    Parameters
    ----------
    sources : dict
        Dataset name -> ``"real"`` or ``"simulated"``.
    notes : dict, optional
        Dataset name -> why it is simulated (e.g. "UJI1.mat not found in WILOC_DATA").

    Returns
    -------
    IPython.display.Markdown
        A MyST ``important`` admonition when any dataset is simulated, a ``note`` otherwise.
    """
    from IPython.display import Markdown

    simulated = [name for name, kind in sources.items() if kind == "simulated"]
    real = [name for name, kind in sources.items() if kind == "real"]
    if not simulated:
        body = ("All numbers on this page come from **real measurements**: "
                + ", ".join(real) + ".")
        return Markdown(f":::{{note}}\n{body}\n:::\n")
    lines = ["Some datasets on this page are **simulated stand-ins**, because the real "
             "files were not found (set `WILOC_DATA` or run `wiloc data fetch NAME`). "
             "Numbers computed from them are not comparable with the paper's.", ""]
    for name in simulated:
        reason = (notes or {}).get(name, "")
        lines.append(f"- **{name}**: simulated" + (f" ({reason})" if reason else ""))
    for name in real:
        lines.append(f"- **{name}**: real")
    return Markdown(":::{important}\n" + "\n".join(lines) + "\n:::\n")


def paper_vs_ours(records: list[dict]):
    """A DataFrame of report records: the paper's value beside ours, with the status."""
    from wiloc_core import report

    frame = report.report_frame(report.evaluate(records))
    return frame[["item", "row", "column", "unit", "paper_value", "ours", "difference_pct",
                  "status", "data_kind"]]


def committed_caption(provenance: dict) -> str:
    """A caption saying exactly which run a committed result comes from, read from its provenance.

    Names the profile label (``custom`` with its overrides when the run was modified), the
    seed, commit (and whether the tree had uncommitted changes), date, machine and the
    versions of the packages that can change a number. Missing fields read ``?``.
    """
    label = provenance.get("profile", "?")
    base = provenance.get("base_profile")
    overrides = provenance.get("overrides") or {}
    profile = f"`{label}`" + (f" (from `{base}`)" if base and base != label else "")
    parts = [f"**Committed run** (not this page's run): profile {profile}"]
    if overrides:
        changed = "; ".join(f"`{name}` {v.get('preset')!r} → {v.get('run')!r}"
                            if isinstance(v, dict) else f"`{name}`"
                            for name, v in sorted(overrides.items()))
        parts.append(f"overrides: {changed}")
    parts.append(f"seed {provenance.get('seed', '?')}")
    commit = f"commit `{str(provenance.get('commit', '?'))[:10]}`"
    if provenance.get("dirty"):
        commit += " with uncommitted changes"
    parts += [commit, str(provenance.get("date", "?")), str(provenance.get("machine", "?"))]
    packages = provenance.get("packages") or {}
    shown = [f"{name} {version}" for name, version in packages.items() if version != "absent"]
    if shown:
        parts.append(", ".join(shown))
    return ", ".join(parts) + "."


def committed_table(stem: str, name: str, current_profile: str):
    """The committed version of a table, captioned with the provenance of its run.

    Returns ``None`` when this page already runs the full profile or nothing is committed,
    so a quick page can show the paper-protocol numbers next to its own without mixing
    them: the caption (:func:`committed_caption`) names the profile label, overrides,
    commit, date, machine and package versions of the committed run.

    Returns
    -------
    (IPython.display.Markdown, pandas.DataFrame) or None
    """
    import json

    import pandas as pd
    from IPython.display import Markdown

    from wiloc_core import paths

    folder = paths.committed_results_dir() / stem
    table_file = folder / f"{name}.csv"
    if current_profile == "full" or not table_file.exists():
        return None
    provenance_file = folder / "provenance.json"
    provenance = json.loads(provenance_file.read_text()) if provenance_file.exists() else {}
    return Markdown(committed_caption(provenance)), pd.read_csv(table_file)

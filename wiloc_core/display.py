"""Small display helpers shared by every chapter: data-kind notes and paper-vs-ours tables."""

from __future__ import annotations


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


def committed_table(stem: str, name: str, current_profile: str):
    """The committed full-profile version of a table, labelled with its provenance.

    Returns ``None`` when this page already runs the full profile or nothing is committed,
    so a quick page can show the paper-protocol numbers next to its own without mixing
    them: the caption names the profile, commit and date.

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
    caption = (f"**Committed full-profile run** (not this page's run): profile "
               f"`{provenance.get('profile', '?')}`, seed {provenance.get('seed', '?')}, commit "
               f"`{str(provenance.get('commit', '?'))[:10]}`, {provenance.get('date', '?')}, "
               f"{provenance.get('machine', '?')}.")
    return Markdown(caption), pd.read_csv(table_file)

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

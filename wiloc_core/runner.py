"""Execute notebooks with Papermill and record how long each took.

A notebook source is a MyST Markdown file in ``notebooks/`` (the source of truth,
paired with jupytext). :func:`run_notebook` converts it to ``build/notebooks/<stem>.ipynb``,
executes that with Papermill into ``build/executed/<stem>.ipynb`` (the book is built from
these) and records the wall time in ``build/timings.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from wiloc_core import atomic, paths
from wiloc_core.errors import ParameterError, WilocError

#: Tags on Papermill's injected cell: collapsed in the book, still visible to a curious reader.
INJECTED_CELL_TAGS = ("injected-parameters", "hide-input")
#: Per-cell time limit (s). Papermill and nbclient's default of none/30 s suits neither profile.
#: Per-cell time limit of a quick-profile run (catches hangs in CI). A full-profile cell
#: may train for hours, so full runs have no limit unless one is given.
DEFAULT_CELL_TIMEOUT_S = 1800


class NotebookFailed(WilocError):
    """A notebook raised in one of its cells."""

    def __init__(self, notebook, cell_index, exec_count, ename, evalue, source_line=""):
        self.notebook = str(notebook)
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        where = f"code cell [{exec_count}]" if exec_count else f"cell {cell_index}"
        message = f"{self.notebook}: failed in {where}: {ename}: {evalue}"
        if source_line:
            message += f" (cell starts: {source_line!r}; partial output kept in build/executed/)"
        super().__init__(message)


@dataclass
class RunResult:
    stem: str
    executed: Path
    results: Path
    seconds: float


def notebook_sources() -> list[Path]:
    """Every chapter source in ``notebooks/``, in book order (file-name order)."""
    return sorted(paths.notebooks_dir().glob("[0-9][0-9]-*.md"))


def resolve_notebook(name) -> Path:
    """A notebook source from a path, a file name or a stem (``00-fingerprint-datasets``)."""
    candidate = Path(name)
    if candidate.suffix == ".ipynb":
        candidate = candidate.with_suffix(".md")
    if candidate.is_file():
        return candidate.resolve()
    by_stem = paths.notebooks_dir() / f"{candidate.stem}.md"
    if by_stem.is_file():
        return by_stem
    matches = [p for p in notebook_sources() if p.stem.startswith(candidate.stem)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(p.stem for p in notebook_sources())
    raise ParameterError("notebook", f"a notebook in notebooks/ ({known})", str(name))


def parse_parameter_value(text: str):
    """Command-line parameter values: JSON when it parses (numbers, lists, null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _to_ipynb(source: Path, target: Path) -> Path:
    import jupytext

    notebook = jupytext.read(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    return target


def _tag_injected_cell(executed: Path) -> None:
    """Give Papermill's injected-parameters cell the tags the book needs."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            cell["metadata"]["tags"] = list(dict.fromkeys([*tags, *INJECTED_CELL_TAGS]))
    atomic.write_text(executed, nbformat.writes(notebook))


def _failure_from(error, source: Path, executed: Path) -> NotebookFailed:
    """Turn Papermill's error into one that names the failing cell and how it starts.

    The failing cell is found by its execution count, because Papermill adds an error
    banner cell to the partial output notebook, shifting every index by one.
    """
    exec_count = getattr(error, "exec_count", None)
    first_line = ""
    try:
        import nbformat

        for cell in nbformat.read(executed, as_version=4).cells:
            if cell.cell_type == "code" and cell.get("execution_count") == exec_count:
                first_line = cell.source.strip().splitlines()[0][:80]
                break
    except Exception:  # the partial notebook may be unreadable; the error still stands
        pass
    return NotebookFailed(source, getattr(error, "cell_index", None), exec_count,
                          getattr(error, "ename", type(error).__name__),
                          getattr(error, "evalue", str(error)), first_line)


def run_notebook(notebook, parameters: dict | None = None, *, profile: str | None = None,
                 progress: bool = True, cell_timeout_s: int | None = None) -> RunResult:
    """Execute one notebook with Papermill.

    Parameters
    ----------
    notebook : path or str
        Source ``.md`` path, file name or stem.
    parameters : dict, optional
        Values for the notebook's ``parameters`` cell (e.g. ``{"seed": 1}``).
    profile : {"quick", "full"}, optional
        Shorthand for ``parameters["profile"]``.
    progress : bool
        Show Papermill's per-cell progress bar (tqdm).
    cell_timeout_s : int, optional
        Per-cell time limit in seconds. Default: :data:`DEFAULT_CELL_TIMEOUT_S` for the
        quick profile, none for the full profile.

    Returns
    -------
    RunResult
        Paths of the executed notebook and its results, and the wall time (s).

    Raises
    ------
    NotebookFailed
        Naming the failing cell; the partly executed notebook is kept for inspection.
    """
    import papermill

    source = resolve_notebook(notebook)
    stem = source.stem
    parameters = dict(parameters or {})
    if profile is not None:
        parameters["profile"] = profile
    if cell_timeout_s is None and parameters.get("profile", "quick") != "full":
        cell_timeout_s = DEFAULT_CELL_TIMEOUT_S
    build = paths.build_dir()
    ipynb = _to_ipynb(source, build / "notebooks" / f"{stem}.ipynb")
    executed = build / "executed" / f"{stem}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(ipynb), str(executed), parameters=parameters, progress_bar=progress,
            cwd=str(paths.notebooks_dir()), kernel_name="python3",
            execution_timeout=cell_timeout_s, log_output=False,
        )
    except papermill.PapermillExecutionError as error:
        raise _failure_from(error, source, executed) from None
    seconds = time.perf_counter() - started
    _tag_injected_cell(executed)
    record_timing(stem, seconds, parameters.get("profile", "quick"))
    _add_notebook_time(paths.results_dir(stem) / "provenance.json", seconds)
    return RunResult(stem, executed, paths.results_dir(stem), seconds)


def _add_notebook_time(provenance_file: Path, seconds: float) -> None:
    """Add the whole notebook's wall time to the provenance a notebook wrote (if it wrote one)."""
    try:
        provenance = json.loads(provenance_file.read_text())
    except (OSError, json.JSONDecodeError):
        return
    provenance["notebook_seconds"] = round(seconds, 2)
    atomic.write_json(provenance_file, provenance)


def record_timing(stem: str, seconds: float, profile: str) -> None:
    """Update ``build/timings.json``: seconds per notebook (with its profile) and the total."""
    path = paths.build_dir() / "timings.json"
    try:
        timings = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        timings = {}
    notebooks = timings.get("notebooks", {})
    notebooks[stem] = {"seconds": round(seconds, 2), "profile": profile}
    timings["notebooks"] = notebooks
    timings["total_seconds"] = round(sum(v["seconds"] for v in notebooks.values()), 2)
    atomic.write_json(path, timings)


def run_all(profile: str = "quick", parameters: dict | None = None, progress: bool = False,
            only=None) -> list[RunResult]:
    """Execute every chapter (or those named in ``only``) in book order; stop at the first failure."""
    sources = notebook_sources()
    if only:
        wanted = {resolve_notebook(n) for n in only}
        sources = [s for s in sources if s in wanted]
    results = []
    for source in sources:
        print(f"[wiloc] running {source.stem} ({profile})", flush=True)
        result = run_notebook(source, parameters, profile=profile, progress=progress)
        print(f"[wiloc] {source.stem}: {result.seconds:.1f} s", flush=True)
        results.append(result)
    return results

"""Execute notebooks with Papermill and record how long each took.

A notebook source is a MyST Markdown file in ``notebooks/`` (the source of truth,
paired with jupytext). :func:`run_notebook` converts it to ``build/notebooks/<stem>.ipynb``,
executes that with Papermill into ``build/executed/<stem>.ipynb`` (the book is built from
these) and records the wall time in ``build/timings.json``.

Two rules keep a run honest and unattended:

- The kernel runs with ``WILOC_BATCH=1`` (:data:`wiloc_core.display.BATCH_ENV`), so
  notebooks build no live widgets (:func:`wiloc_core.display.interactive_session`), and a
  quick run has a per-cell time limit: a stuck cell fails naming the chapter and the cell.
- Every parameter given to the run is recorded in ``provenance.json``
  (``injected_parameters``). One that changes results (not in
  :data:`wiloc_core.profiles.EXECUTION_PARAMETERS`) and differs from the notebook's own
  default is an override: the run's label becomes ``custom`` in ``summary.json``,
  ``report.json`` and ``provenance.json`` (:func:`label_run`), so it is never judged and
  never committed as a full run.
"""

from __future__ import annotations

import ast
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wiloc_core import atomic, paths
from wiloc_core.display import BATCH_ENV
from wiloc_core.errors import ParameterError, WilocError
from wiloc_core.profiles import EXECUTION_PARAMETERS

#: Tags on Papermill's injected cell: collapsed in the book, still visible to a curious reader.
INJECTED_CELL_TAGS = ("injected-parameters", "hide-input")
#: Per-cell time limit of a quick-profile run (s): every quick notebook takes about a minute
#: in all, so a cell still running after five is stuck, and CI learns which one in minutes.
#: A full-profile cell may train for hours, so full runs have no limit unless one is given.
DEFAULT_CELL_TIMEOUT_S = 300


class NotebookFailed(WilocError):
    """A notebook raised in one of its cells, or one of its cells ran past the time limit."""

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
    label: str = "quick"


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


#: Python spellings of JSON's literals that a reader types on the command line; left as
#: strings, ``"False"`` would be truthy.
_PYTHON_LITERALS = {"True": True, "False": False, "None": None}


def parse_parameter_value(text: str):
    """Command-line parameter values: JSON when it parses (numbers, lists, null), Python's
    ``True`` / ``False`` / ``None`` as themselves, else a string."""
    if text in _PYTHON_LITERALS:
        return _PYTHON_LITERALS[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def notebook_defaults(source) -> dict:
    """The values of a notebook's ``parameters`` cell (literals only), name -> value.

    Parameters
    ----------
    source : path
        A MyST Markdown or ``.ipynb`` notebook.
    """
    import jupytext

    for cell in jupytext.read(source).cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            defaults = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign):
                    value = ast.literal_eval(node.value)
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            defaults[target.id] = value
            return defaults
    return {}


def _same(a, b) -> bool:
    """Parameter values compared as JSON numbers do: 1 == 1.0, tuples as lists."""
    def norm(v):
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        return v
    return norm(a) == norm(b)


def custom_parameters(parameters: dict, defaults: dict, preset: dict | None = None) -> dict:
    """The injected parameters that make a run custom, name -> ``{"preset", "run"}``.

    A parameter counts when it is not an execution parameter
    (:data:`~wiloc_core.profiles.EXECUTION_PARAMETERS`: seed, profile, n_jobs, ...), the
    notebook declares it, and its value differs from what the notebook would use without
    it: its default, or, for a default of ``None`` ("the profile's value"), the value in
    ``preset`` (:func:`preset_for`). Where ``preset`` lacks the name, any value given for
    a ``None`` default counts. A name the notebook does not declare changes nothing
    (Papermill warns about it) and is only recorded.
    """
    changed = {}
    for name, value in parameters.items():
        if name in EXECUTION_PARAMETERS or name not in defaults:
            continue
        reference = defaults[name]
        if reference is None and preset and name in preset:
            reference = preset[name]
        if not _same(value, reference):
            changed[name] = {"preset": reference, "run": value}
    return changed


def preset_for(stem: str, profile) -> dict | None:
    """The profile settings of a chapter (``00-fingerprint-datasets`` -> its preset), or None."""
    from wiloc_core import profiles

    chapter = stem.split("-", 1)[-1]
    try:
        return profiles.settings(chapter, str(profile))
    except ParameterError:
        return None


def label_run(results: Path, parameters: dict, custom: dict, *, since: float = 0.0) -> str:
    """Record the injected parameters and make the run ``custom`` when any changed results.

    Rewrites (atomically) ``summary.json``, ``report.json`` and ``provenance.json`` in
    ``results`` when the notebook wrote them during this run (modified at or after
    ``since``, a ``time.time()``): ``provenance.json`` gets ``injected_parameters``; when
    ``custom`` (:func:`custom_parameters`) is not empty, its entries join the notebook's
    own ``overrides`` (the notebook's records win: they know the preset) and the profile
    label of the summary, of every report record and of the provenance becomes
    ``custom``, with ``base_profile`` keeping the preset's name.

    Returns
    -------
    str
        The run's label: ``custom`` or the profile the notebook recorded (``"?"`` when it
        wrote no summary).
    """
    def fresh(name):
        path = results / name
        try:
            if path.stat().st_mtime < since:
                return path, None
            return path, json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return path, None

    summary_file, summary = fresh("summary.json")
    report_file, records = fresh("report.json")
    provenance_file, provenance = fresh("provenance.json")
    label = summary.get("profile", "?") if isinstance(summary, dict) else "?"
    overrides = dict(custom)
    for part in (provenance, summary):
        if isinstance(part, dict):
            overrides.update(part.get("overrides") or {})
    if overrides:
        label = "custom"
    if isinstance(provenance, dict):
        provenance["injected_parameters"] = parameters
    for part, path in ((summary, summary_file), (provenance, provenance_file)):
        if not isinstance(part, dict):
            continue
        if overrides:
            if part.get("profile") != "custom":
                part["base_profile"] = part.get("base_profile") or part.get("profile")
            part["profile"] = "custom"
            part["overrides"] = overrides
        if overrides or path is provenance_file:  # an unmodified summary stays byte-identical
            atomic.write_json(path, part)
    if overrides and isinstance(records, list):
        for record in records:
            record["profile"] = "custom"
        atomic.write_json(report_file, records)
    return label


@contextmanager
def _batch_environment():
    """``WILOC_BATCH=1`` for the kernels started inside (they inherit this environment)."""
    before = os.environ.get(BATCH_ENV)
    os.environ[BATCH_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(BATCH_ENV, None)
        else:
            os.environ[BATCH_ENV] = before


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


def _timeout_from(source: Path, executed: Path, limit_s) -> NotebookFailed:
    """Name the cell that ran past the limit: the last one Papermill started.

    Papermill marks every cell ``completed`` when execution stops, but only cells that
    ran have a ``start_time``, so the timed-out cell is the last code cell that has one.
    """
    cell_index, exec_count, first_line = None, None, ""
    try:
        import nbformat

        for index, cell in enumerate(nbformat.read(executed, as_version=4).cells):
            if cell.cell_type == "code" and cell.get("metadata", {}).get("papermill", {}).get(
                    "start_time"):
                cell_index, exec_count = index, cell.get("execution_count")
                first_line = (cell.source.strip().splitlines() or [""])[0][:80]
    except Exception:  # the partial notebook may be unreadable; the timeout still stands
        pass
    return NotebookFailed(source, cell_index, exec_count, "CellTimeoutError",
                          f"the cell ran longer than the {limit_s} s per-cell limit "
                          f"(stuck? pass a larger cell_timeout_s if it is just slow)",
                          first_line)


def run_notebook(notebook, parameters: dict | None = None, *, profile: str | None = None,
                 progress: bool = True, cell_timeout_s: int | None = None) -> RunResult:
    """Execute one notebook with Papermill.

    Parameters
    ----------
    notebook : path or str
        Source ``.md`` path, file name or stem.
    parameters : dict, optional
        Values for the notebook's ``parameters`` cell (e.g. ``{"seed": 1}``).
    profile : {"quick", "full", "paper"}, optional
        Shorthand for ``parameters["profile"]``.
    progress : bool
        Show Papermill's per-cell progress bar (tqdm).
    cell_timeout_s : int, optional
        Per-cell time limit in seconds. Default: :data:`DEFAULT_CELL_TIMEOUT_S` for the
        quick profile, none for the full and paper profiles.

    Returns
    -------
    RunResult
        Paths of the executed notebook and its results, the wall time (s) and the run's
        label (``custom`` when a parameter changed results, :func:`label_run`).

    Raises
    ------
    NotebookFailed
        Naming the chapter and the failing (or timed-out) cell; the partly executed
        notebook is kept for inspection.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError

    source = resolve_notebook(notebook)
    stem = source.stem
    parameters = dict(parameters or {})
    if profile is not None:
        parameters["profile"] = profile
    if cell_timeout_s is None and parameters.get("profile", "quick") not in ("full", "paper"):
        cell_timeout_s = DEFAULT_CELL_TIMEOUT_S
    defaults = notebook_defaults(source)
    preset = preset_for(stem, parameters.get("profile", defaults.get("profile", "quick")))
    custom = custom_parameters(parameters, defaults, preset)
    build = paths.build_dir()
    ipynb = _to_ipynb(source, build / "notebooks" / f"{stem}.ipynb")
    executed = build / "executed" / f"{stem}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    started_at = time.time()
    started = time.perf_counter()
    try:
        with _batch_environment():
            papermill.execute_notebook(
                str(ipynb), str(executed), parameters=parameters, progress_bar=progress,
                cwd=str(paths.notebooks_dir()), kernel_name="python3",
                execution_timeout=cell_timeout_s, log_output=False,
            )
    except papermill.PapermillExecutionError as error:
        raise _failure_from(error, source, executed) from None
    except CellTimeoutError:
        raise _timeout_from(source, executed, cell_timeout_s) from None
    seconds = time.perf_counter() - started
    _tag_injected_cell(executed)
    results = paths.results_dir(stem)
    # Files older than this run are another run's (the notebook saved nothing): left alone.
    # A second of slack for file systems with coarse timestamps.
    label = label_run(results, parameters, custom, since=started_at - 1.0)
    if label == "?":
        label = "custom" if custom else parameters.get("profile", "quick")
    record_timing(stem, seconds, label)
    _add_notebook_time(results / "provenance.json", seconds)
    return RunResult(stem, executed, results, seconds, label)


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
            only=None, cell_timeout_s: int | None = None) -> list[RunResult]:
    """Execute every chapter (or those named in ``only``) in book order; stop at the first failure."""
    sources = notebook_sources()
    if only:
        wanted = {resolve_notebook(n) for n in only}
        sources = [s for s in sources if s in wanted]
    results = []
    for source in sources:
        print(f"[wiloc] running {source.stem} ({profile})", flush=True)
        result = run_notebook(source, parameters, profile=profile, progress=progress,
                              cell_timeout_s=cell_timeout_s)
        label = "" if result.label == profile else f" (labelled {result.label})"
        print(f"[wiloc] {source.stem}: {result.seconds:.1f} s{label}", flush=True)
        results.append(result)
    return results

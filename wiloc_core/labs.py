"""Course labs from one source: ``labs/<stem>.md`` -> student notebook, autograder, book page.

Each lab is one *master* notebook, MyST Markdown like the chapters, written in otter-grader's
format (raw cells ``# ASSIGNMENT CONFIG``, ``# BEGIN QUESTION`` ... ``# END QUESTION``, solution
and test blocks, ``# HIDDEN`` tests; see ``/labs`` and otter's documentation). The pipeline is

    labs/<stem>.md  --jupytext-->  build/labs/masters/<stem>.ipynb
        --nbclient (solutions and every test run)-->  build/executed/<stem>.ipynb  (book page)
        --otter assign (run_tests: false)-->                    build/labs/<stem>/student/
                                                                build/labs/<stem>/autograder/

Every test runs once, on the solution, when the master is executed (a failing check stops
the build); the masters set otter's ``run_tests: false`` so that ``otter assign`` does not run
them all a second time. The slow test grades otter's solution copy with the generated
autograder and expects full marks.

The executed master lands next to the chapters' executed notebooks, so ``wiloc_core.book``
lists the lab right after its chapter (``00-fingerprint-datasets-lab`` sorts after
``00-fingerprint-datasets``): exercises are sphinx-exercise directives, solutions fold
(``:class: dropdown``), test cells are tagged ``remove-cell`` and otter's markers are raw
cells (not rendered) or comments stripped from the page's copy.

Needs the ``labs`` extra (``pip install -e '.[labs]'``: otter-grader, sphinx-exercise).

Examples
--------
From the shell (``make labs``)::

    python -m wiloc_core.labs            # every lab; non-zero exit when a check fails
    python -m wiloc_core.labs 00-fingerprint-datasets-lab --check-student
    python -m wiloc_core.labs --jobs 2   # two labs at a time

Each built lab records what it was built from (``build/labs/<stem>/built-from.json``: a
digest of its master and of the library's sources), so a later check can reuse a build
that is current (:func:`current_build`) instead of building it again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wiloc_core import atomic, paths
from wiloc_core.errors import WilocError

#: Seconds one lab's master may take to execute (each lab is meant to run in seconds).
EXECUTE_TIMEOUT_S = 180
#: Seconds ``otter assign`` may take for one lab (it runs the tests on the solution again).
ASSIGN_TIMEOUT_S = 300
#: Seconds grading one submission may take.
GRADE_TIMEOUT_S = 300
#: File in ``build/labs/<stem>/`` that records what the build was made from.
STAMP_NAME = "built-from.json"


class LabError(WilocError):
    """A lab cannot be built or checked; the message says which lab and why."""


@dataclass(frozen=True)
class LabBuild:
    """Where one lab's outputs are."""

    stem: str
    master: Path      # the master as .ipynb (solutions, tests)
    executed: Path    # the executed master, shown in the book
    student: Path     # the student notebook (build/labs/<stem>/student/<stem>.ipynb)
    autograder: Path  # the autograder zip (build/labs/<stem>/autograder/*.zip)
    seconds: float


def labs_dir() -> Path:
    """``labs/`` at the repository root: one master ``.md`` per lab."""
    return paths.repo_root() / "labs"


def lab_sources(folder: Path | None = None) -> list[Path]:
    """The lab masters (``NN-...-lab.md``) in file-name order."""
    folder = Path(folder) if folder is not None else labs_dir()
    return sorted(p for p in folder.glob("*.md") if p.stem[:2].isdigit())


def resolve_lab(name: str | Path) -> Path:
    """A lab master from a path, file name or stem."""
    candidate = Path(name)
    if candidate.is_file():
        return candidate
    for source in lab_sources():
        if name in (source.name, source.stem):
            return source
    raise LabError(f"no lab named {name!r} in {labs_dir()} "
                   f"(known: {', '.join(s.stem for s in lab_sources()) or 'none'})")


def _env() -> dict:
    """The environment for subprocesses: this Python's folder first on PATH (kernels, otter)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _run(command: list[str], what: str, timeout_s: float, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise LabError(f"{what}: still running after {timeout_s:.0f} s, stopped") from None
    output = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        raise LabError(f"{what} failed (exit {done.returncode}):\n{output[-4000:]}")
    return output


def to_ipynb(master: Path, target: Path) -> Path:
    """Convert a MyST master to ``.ipynb`` (otter assign reads notebooks only)."""
    import jupytext

    notebook = jupytext.read(master)
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")
    return target


def execute(notebook: Path, target: Path, cwd: Path, timeout_s: float = EXECUTE_TIMEOUT_S,
            allow_errors: bool = False) -> Path:
    """Run a notebook top to bottom with nbclient (per-cell and overall time limits).

    Raises
    ------
    LabError
        When a cell raises (unless ``allow_errors``) or the notebook runs too long.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=int(timeout_s), kernel_name="python3",
                            allow_errors=allow_errors, resources={"metadata": {"path": str(cwd)}})
    started = time.perf_counter()
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = _env()["PATH"]  # the kernel is started with this process's environment
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        raise LabError(f"{notebook.name}: a cell failed:\n{str(error)[-3000:]}") from None
    finally:
        os.environ["PATH"] = before
    if time.perf_counter() - started > timeout_s:
        raise LabError(f"{notebook.name}: ran longer than {timeout_s:.0f} s")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


_MARKER_LINE = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$")
_MARKER_SUFFIX = re.compile(r"\s*# (SOLUTION|IGNORE)\s*$")


def _strip_markers(executed: Path) -> None:
    """Drop otter's comment markers from the code cells of the book's copy."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines = [_MARKER_SUFFIX.sub("", ln) for ln in cell.source.splitlines()
                     if not _MARKER_LINE.match(ln)]
            cell.source = "\n".join(lines)
    nbformat.write(nb, executed)


def build_lab(master: Path | str, out_dir: Path | str | None = None,
              executed_dir: Path | str | None = None) -> LabBuild:
    """Build one lab: the executed master (book page), student notebook and autograder.

    Parameters
    ----------
    master : path or str
        ``labs/<stem>.md`` (or its stem).
    out_dir : Path, optional
        Where ``student/`` and ``autograder/`` go; default ``build/labs/<stem>``.
    executed_dir : Path, optional
        Where the executed master goes; default ``build/executed`` (the book's pages).

    Raises
    ------
    LabError
        When the master's solution fails one of its own checks (in the executed master or in
        ``otter assign``'s re-run), or a step runs past its time limit.
    """
    started = time.perf_counter()
    master = resolve_lab(master)
    stem = master.stem
    build = paths.build_dir()
    out_dir = Path(out_dir) if out_dir is not None else build / "labs" / stem
    executed_dir = Path(executed_dir) if executed_dir is not None else build / "executed"
    ipynb = to_ipynb(master, build / "labs" / "masters" / f"{stem}.ipynb")
    executed = execute(ipynb, executed_dir / f"{stem}.ipynb", cwd=ipynb.parent)
    _strip_markers(executed)
    if out_dir.exists():
        import shutil

        shutil.rmtree(out_dir)
    otter = Path(sys.executable).with_name("otter")
    command = [str(otter)] if otter.is_file() else [sys.executable, "-m", "otter"]
    _run([*command, "assign", str(ipynb), str(out_dir)], f"otter assign {stem}",
         ASSIGN_TIMEOUT_S, cwd=ipynb.parent)
    student = out_dir / "student" / f"{stem}.ipynb"
    zips = sorted((out_dir / "autograder").glob("*.zip"))
    if not student.is_file() or not zips:
        raise LabError(f"otter assign {stem}: no student notebook or autograder zip in {out_dir}")
    seconds = time.perf_counter() - started
    atomic.write_json(out_dir / STAMP_NAME, {"source": source_digest(master), "seconds": seconds,
                                             "executed": str(executed)})
    return LabBuild(stem, ipynb, executed, student, zips[-1], seconds)


def source_digest(master: Path) -> str:
    """sha256 over a lab master's bytes and every ``wiloc_core`` source file it may call."""
    h = hashlib.sha256(Path(master).read_bytes())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def current_build(master: Path | str, build: Path | str | None = None) -> LabBuild | None:
    """The lab's existing build under ``build`` (default ``build/``) when it was made from
    the master and library sources as they are now; None otherwise (never built, stale,
    or incomplete)."""
    master = resolve_lab(master)
    build = Path(build) if build is not None else paths.build_dir()
    out_dir = build / "labs" / master.stem
    try:
        stamp = json.loads((out_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("source") != source_digest(master):
        return None
    ipynb = build / "labs" / "masters" / f"{master.stem}.ipynb"
    executed = Path(str(stamp.get("executed", "")))
    student = out_dir / "student" / f"{master.stem}.ipynb"
    zips = sorted((out_dir / "autograder").glob("*.zip"))
    if not (ipynb.is_file() and executed.is_file() and student.is_file() and zips):
        return None
    return LabBuild(master.stem, ipynb, executed, student, zips[-1], float(stamp["seconds"]))


_GRADE = """
import json, sys
from otter.api import grade_submission
results = grade_submission(sys.argv[1], sys.argv[2], quiet=True)
print("WILOC-GRADE " + json.dumps({"score": results.total, "possible": results.possible}))
"""


def grade(notebook: Path, autograder_zip: Path, timeout_s: float = GRADE_TIMEOUT_S) -> tuple[float, float]:
    """Grade a notebook with otter (no Docker), in a subprocess; returns (score, possible)."""
    output = _run([sys.executable, "-c", _GRADE, str(notebook), str(autograder_zip)],
                  f"grading {notebook.name}", timeout_s, cwd=Path(notebook).parent)
    line = next((ln for ln in output.splitlines() if ln.startswith("WILOC-GRADE ")), None)
    if line is None:
        raise LabError(f"grading {notebook.name}: no score in the output:\n{output[-2000:]}")
    found = json.loads(line.removeprefix("WILOC-GRADE "))
    return float(found["score"]), float(found["possible"])


def check_student(lab: LabBuild, timeout_s: float = EXECUTE_TIMEOUT_S,
                  with_solution: bool = False) -> tuple[float, ...]:
    """Run the student notebook top to bottom (it must not crash) and grade it.

    Grading runs in subprocesses, at the same time as the student copy's own run (otter
    executes the notebook it grades afresh, so neither waits for the other).

    Parameters
    ----------
    lab : LabBuild
    timeout_s : float
        Time limit of the student copy's run.
    with_solution : bool
        Also grade otter's solution copy (``autograder/<stem>.ipynb``) with the same
        autograder.

    Returns
    -------
    (score, possible) or (score, possible, solution_score)
        A fresh student copy is expected to score below ``possible``, the solution copy
        ``possible``.
    """
    import concurrent.futures as cf
    import shutil

    with tempfile.TemporaryDirectory(prefix=f"wiloc-{lab.stem}-") as tmp:
        work = Path(tmp) / "student"
        shutil.copytree(lab.student.parent, work)
        graded_copy = Path(tmp) / "graded" / lab.student.name
        graded_copy.parent.mkdir()
        shutil.copy2(lab.student, graded_copy)
        solved = Path(tmp) / "solved" / lab.student.name
        if with_solution:
            solved.parent.mkdir()
            shutil.copy2(lab.autograder.parent / lab.student.name, solved)
        with cf.ThreadPoolExecutor(max_workers=2) as pool:
            student_grade = pool.submit(grade, graded_copy, lab.autograder)
            solution_grade = pool.submit(grade, solved, lab.autograder) if with_solution else None
            execute(work / lab.student.name, work / lab.student.name, cwd=work,
                    timeout_s=timeout_s)
            score, possible = student_grade.result()
            if solution_grade is None:
                return score, possible
            return score, possible, solution_grade.result()[0]


def _check_one(source: Path, reuse_from: Path | None, fallback_build: Path,
               with_solution: bool) -> dict:
    """Worker of :func:`check_labs`: one lab's build (reused or made) and its checks."""
    lab = current_build(source, reuse_from) if reuse_from is not None else None
    if lab is None:
        os.environ["WILOC_BUILD"] = str(fallback_build)  # this worker process only
        lab = build_lab(source)
    score, possible, *solution = check_student(lab, with_solution=with_solution)
    return {"lab": lab, "score": score, "possible": possible,
            "solution_score": solution[0] if solution else None}


def check_labs(sources: Sequence[Path], *, reuse_from: Path | None, fallback_build: Path,
               jobs: int = 2, with_solution: bool = True,
               on_result: Callable[[str, dict], None] | None = None) -> dict[str, dict]:
    """Build (or reuse) and check several labs, ``jobs`` at a time, each in its own process.

    Parameters
    ----------
    sources : sequence of Path
        Lab masters.
    reuse_from : Path, optional
        A build folder whose current builds (:func:`current_build`) are checked as they are;
        None builds every lab afresh.
    fallback_build : Path
        Where a lab without a current build is built.
    jobs : int
    with_solution : bool
        Also grade otter's solution copy (see :func:`check_student`).
    on_result : callable, optional
        Called with each lab's stem and result (as returned below) as soon as it is known,
        in the order of ``sources``.

    Returns
    -------
    dict
        stem -> ``{"lab": LabBuild, "score", "possible", "solution_score"}`` (solution_score
        None without ``with_solution``), or ``{"error": message}`` for a lab whose build or
        check failed.
    """
    import concurrent.futures as cf
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no forked kernels or threads
    out = {}
    with cf.ProcessPoolExecutor(max_workers=max(1, int(jobs)), mp_context=context) as pool:
        futures = {Path(s).stem: pool.submit(_check_one, Path(s), reuse_from, Path(fallback_build),
                                             with_solution)
                   for s in sources}
        for stem, future in futures.items():  # in source order; each step has its own time limit
            try:
                out[stem] = future.result()
            except LabError as exc:
                out[stem] = {"error": str(exc)}
            if on_result is not None:
                on_result(stem, out[stem])
    return out


def _build_line(lab: LabBuild) -> str:
    """The line ``main`` prints for a built lab."""
    return f"[wiloc.labs] {lab.stem}: {lab.seconds:.1f} s -> {lab.student.parent.parent}"


def _build_one(source: Path) -> str:
    """Build one lab: the line ``main`` prints."""
    return _build_line(build_lab(source))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wiloc_core.labs [LAB ...] [--check-student] [--jobs N]``: build the labs."""
    parser = argparse.ArgumentParser(prog="python -m wiloc_core.labs", description=main.__doc__)
    parser.add_argument("labs", nargs="*", help="lab stems or files (default: every lab)")
    parser.add_argument("--check-student", action="store_true",
                        help="also run each student notebook and grade it")
    parser.add_argument("--jobs", type=int, default=1,
                        help="labs built at the same time, each in its own process (default 1)")
    args = parser.parse_args(argv)
    try:
        sources = [resolve_lab(n) for n in args.labs] if args.labs else lab_sources()
        if args.jobs < 1:
            raise LabError(f"--jobs: expected an integer >= 1, got {args.jobs}")
        if args.check_student:
            return _check_students(sources, args.jobs)
        if args.jobs == 1 or len(sources) < 2:
            for source in sources:
                print(_build_one(source), flush=True)
        else:
            import concurrent.futures as cf
            import multiprocessing

            context = multiprocessing.get_context("spawn")  # no forked kernels or threads
            with cf.ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
                futures = [pool.submit(_build_one, s) for s in sources]
                for future in futures:  # in source order; each step has its own time limit
                    print(future.result(), flush=True)
    except LabError as exc:
        print(f"wiloc.labs: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_students(sources: Sequence[Path], jobs: int) -> int:
    """``main --check-student``: build each lab afresh in ``build/`` (:func:`check_labs`), run
    and grade its student copy; a line per lab, an error on stderr per failed lab."""
    def report(stem: str, result: dict) -> None:
        if "error" in result:
            print(f"wiloc.labs: error: {result['error']}", file=sys.stderr, flush=True)
        else:
            print(f"{_build_line(result['lab'])}; student copy scores "
                  f"{result['score']:g}/{result['possible']:g}", flush=True)

    results = check_labs(sources, reuse_from=None, fallback_build=paths.build_dir(), jobs=jobs,
                         with_solution=False, on_result=report)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

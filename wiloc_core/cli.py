"""The ``wiloc`` command: rerun chapters, inspect datasets, print the reproduction report.

Examples
--------
::

    wiloc run 00-fingerprint-datasets -p seed 1 --profile full
    wiloc run --all --profile quick
    wiloc data list --json
    wiloc report --json
    wiloc book --strict
    wiloc results commit 00-fingerprint-datasets
    wiloc results reevaluate 10-ctf-transfer
    wiloc cache status --last 10
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from wiloc_core.errors import WilocError
from wiloc_core.profiles import PROFILE_NAMES


def _cmd_run(args) -> int:
    from wiloc_core import runner

    parameters = {name: runner.parse_parameter_value(value) for name, value in args.parameter}
    if args.all:
        runner.run_all(args.profile or "quick", parameters, progress=not args.no_progress,
                       cell_timeout_s=args.cell_timeout)
        return 0
    if not args.notebook:
        print("wiloc run: name a NOTEBOOK or pass --all", file=sys.stderr)
        return 2
    result = runner.run_notebook(args.notebook, parameters, profile=args.profile,
                                 progress=not args.no_progress, cell_timeout_s=args.cell_timeout)
    print(f"executed: {result.executed}\nresults:  {result.results}\n"
          f"profile:  {result.label}\ntime:     {result.seconds:.1f} s")
    return 0


def _format_value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "holds" if value else "fails"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


#: Columns of the text report, in order.
REPORT_TEXT_COLUMNS = ["paper", "kind", "item", "row", "column", "paper_value", "ours", "unit",
                       "status", "claim", "profile", "data_kind", "origin"]


def _report_lines(records: list[dict], split: list[dict]) -> list[str]:
    """The text report: one line per record, then the counts per data kind x profile x origin."""
    rows = [[_format_value(r.get(c) if c != "claim" else r.get("claim_origin") or None)
             for c in REPORT_TEXT_COLUMNS] for r in records]
    widths = [min(40, max(len(c), *(len(row[i]) for row in rows)))
              for i, c in enumerate(REPORT_TEXT_COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(REPORT_TEXT_COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines += ["", "Counts by data kind x profile x origin (never added across them):"]
    for group in split:
        counts = ", ".join(f"{group[s]} {s}" for s in _statuses() if group[s])
        lines.append(f"  {group['data_kind']:<9}  {group['profile']:<6}  {group['origin']:<9}  "
                     f"{group['rows']:>4} rows: {counts}")
    return lines


def _statuses():
    from wiloc_core import verdicts

    return verdicts.STATUSES


def _write_lines(lines) -> None:
    """Print lines; a reader that closes the pipe early (``wiloc report | head``) ends it quietly."""
    import os

    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that flush is silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _cmd_report(args) -> int:
    """Print the reproduction report, filtered, with counts split by data kind x profile x origin."""
    from pathlib import Path

    from wiloc_core import report

    records = report.collect_records(
        build_results=Path(args.build_results) if args.build_results else None,
        committed=Path(args.committed) if args.committed else None)
    paper = args.paper.zfill(3) if args.paper and args.paper.isdigit() else args.paper
    wanted = {"paper": paper, "profile": args.profile, "data_kind": args.data_kind,
              "origin": args.origin}
    selected = report.select(records, **wanted)
    if args.json:
        keep = report.REPORT_COLUMNS + ["kind", "claim_id", "effect", "cells"]
        _write_lines([json.dumps([{k: r.get(k) for k in keep if k in r or k in report.REPORT_COLUMNS}
                                  for r in selected], indent=2)])
        return 0
    if not records:
        _write_lines(["No results yet: run `make book` or `wiloc run NOTEBOOK` first."])
        return 0
    filters = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in wanted.items() if v is not None)
    if not selected:
        _write_lines([f"No report rows match {filters} (of {len(records)} rows in all)."])
        return 0
    lines = _report_lines(selected, report.split_counts(selected))
    if filters:
        lines.insert(0, f"Rows with {filters}:")
    _write_lines(lines)
    return 0


def _cmd_book(args) -> int:
    from wiloc_core import book

    html = book.build_book(strict=args.strict)
    print(f"book: {html}")
    return 0


def commit_refusals(source, *, allow_dirty: bool = False) -> list[str]:
    """Why the run in ``source`` (``build/results/<stem>``) may not be committed; empty if it may.

    Only an unmodified full-profile run made by ``wiloc run`` is committed: summary and
    provenance say ``full`` with no overrides, every report record says ``full``, no
    injected parameter changed results (:func:`wiloc_core.runner.custom_parameters`), and
    the tree had no uncommitted changes (unless ``allow_dirty``), so the caption drawn
    from its provenance describes the code that made it.
    """
    from wiloc_core import runner

    def load(name):
        try:
            return json.loads((source / name).read_text())
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as error:
            return error

    summary, provenance, records = (load(n) for n in ("summary.json", "provenance.json",
                                                      "report.json"))
    problems = []
    for name, part in (("summary.json", summary), ("provenance.json", provenance)):
        if part is None:
            problems.append(f"{source / name}: not found; run the notebook with `wiloc run` first")
        elif not isinstance(part, dict):
            problems.append(f"{source / name}: not a JSON object ({part})")
        else:
            if part.get("profile") != "full":
                problems.append(f"{source / name}: field 'profile': expected 'full', found "
                                f"{part.get('profile')!r}")
            if part.get("overrides"):
                problems.append(f"{source / name}: field 'overrides': expected none, found "
                                f"{', '.join(sorted(part['overrides']))}")
    if isinstance(records, list):
        labels = sorted({str(r.get("profile")) for r in records if r.get("profile") != "full"})
        if labels:
            problems.append(f"{source / 'report.json'}: records with profile {', '.join(labels)}")
    elif records is not None:
        problems.append(f"{source / 'report.json'}: not a JSON list")
    if isinstance(provenance, dict):
        injected = provenance.get("injected_parameters")
        if injected is None:
            problems.append(f"{source / 'provenance.json'}: no 'injected_parameters': "
                            "not run by `wiloc run`")
        else:
            try:
                defaults = runner.notebook_defaults(runner.resolve_notebook(source.name))
            except WilocError:  # no such notebook: every injected setting counts
                defaults = dict.fromkeys(injected, object())
            custom = runner.custom_parameters(injected, defaults,
                                              runner.preset_for(source.name, "full"))
            if custom:
                problems.append(f"{source / 'provenance.json'}: injected parameters change results: "
                                f"{', '.join(sorted(custom))}")
        if provenance.get("dirty") and not allow_dirty:
            problems.append(f"{source / 'provenance.json'}: run from a tree with uncommitted "
                            f"changes (commit {str(provenance.get('commit'))[:10]}); commit and "
                            "rerun, or pass --allow-dirty")
    return problems


#: Chapters whose committed report records can be rebuilt from their committed tables:
#: stem -> "module:function" taking the results folder (the notebook's own record code).
REEVALUATORS = {"10-ctf-transfer": "wiloc_core.methods.ctf_records:reevaluate_committed"}


def _cmd_results_reevaluate(args) -> int:
    """Rebuild results/STEM/report.json from results/STEM's tables (statuses only; nothing retrained)."""
    import importlib

    from wiloc_core import paths

    folder = paths.committed_results_dir() / args.stem
    if not (folder / "summary.json").is_file():
        print(f"wiloc results reevaluate: {folder}: no committed run (summary.json missing)",
              file=sys.stderr)
        return 2
    module, function = REEVALUATORS[args.stem].split(":")
    records = getattr(importlib.import_module(module), function)(folder)
    print(f"re-evaluated {len(records)} records in {folder}")
    return 0


#: What a committed run keeps of the run it replaces: its file -> the kept copy's name.
PREVIOUS_RUN_FILES = {"report.json": "previous_report.json",
                      "provenance.json": "previous_provenance.json"}


def _keep_previous_run(target, staging) -> None:
    """Copy the records and provenance of the committed run being replaced (if any) into
    the new run's folder, so that a page can show how its verdicts moved
    (:func:`wiloc_core.committed.verdict_moves`); only the last run before is kept."""
    for name, kept in PREVIOUS_RUN_FILES.items():
        if (target / name).is_file():
            shutil.copyfile(target / name, staging / kept)


def _cmd_results_commit(args) -> int:
    """Copy an unmodified full-profile run from build/results into the committed results/ folder."""
    from wiloc_core import paths

    source = paths.results_dir(args.stem)
    problems = commit_refusals(source, allow_dirty=args.allow_dirty)
    if problems:
        print(f"wiloc results commit: refusing {source}: only unmodified full-profile runs "
              "are committed", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    target = paths.committed_results_dir() / args.stem
    staging = target.with_name(f".{args.stem}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    # PNG figures suffice for the book; SVG copies would only bloat the repository.
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(
        "*.svg", "*.tmp", *PREVIOUS_RUN_FILES.values()))
    _keep_previous_run(target, staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    print(f"committed results: {target}")
    return 0


def _when(iso: str | None) -> str:
    """``2026-12-02T06:17:03+00:00`` -> ``2026-12-02 06:17 UTC`` (``-`` when unknown)."""
    return "-" if not iso else f"{iso[:10]} {iso[11:16]} UTC"


def _cmd_cache_status(args) -> int:
    """Print what a task cache holds: finished results, sittings and tasks in progress."""
    from pathlib import Path

    from wiloc_core.experiment import Cache

    cache = Cache(Path(args.root) if args.root else None)
    status = cache.status()
    if args.json:
        print(json.dumps({"root": str(cache.root), **status,
                          "sittings": cache.sittings(r["key"] for r in status["results"])},
                         indent=2))
        return 0
    results = status["results"]
    hours = sum(r["seconds"] if r["total_seconds"] is None else r["total_seconds"]
                for r in results) / 3600
    print(f"cache: {cache.root}\n{len(results)} results, {hours:.1f} h of computing"
          + (f"; the last {min(args.last, len(results))}:" if results and args.last else ""))
    for r in results[-args.last:] if args.last else []:
        total = r["seconds"] if r["total_seconds"] is None else r["total_seconds"]
        print(f"  {_when(r['finished_at'])}  {r['task'] or r['key'][:12]:<40} {total:8.0f} s")
    for sitting in cache.sittings(r["key"] for r in results):
        wall = "-" if sitting["wall_s"] is None else f"{sitting['wall_s'] / 3600:.1f} h"
        print(f"sitting {sitting['host'] or '(not recorded)'} pid {sitting['pid'] or '-'} from "
              f"{_when(sitting['started'])}: {sitting['tasks']} results, "
              f"{sitting['task_seconds'] / 3600:.1f} h of computing, {wall} wall")
    print(f"in progress: {len(status['in_progress'])}")
    for task in status["in_progress"]:
        loops = "; ".join(
            f"{loop['file']}: unreadable ({loop['error']})" if "error" in loop else
            f"{loop['file']}: epoch {loop['epoch']}{' (done)' if loop['finished'] else ''}, "
            f"{loop['seconds']:.0f} s, saved {_when(loop['saved_at'])}"
            for loop in task["loops"]) or "no loop saved yet"
        print(f"  {task['task'] or '(unnamed)'} [{task['key'][:10]}]: {loops}")
    for bad in status["unreadable"]:
        print(f"unreadable: {bad['file']}: {bad['error']}")
    return 0


def _cmd_cache_merge(args) -> int:
    """Merge another task store into this one (results, and checkpoints further along)."""
    from pathlib import Path

    from wiloc_core.experiment import Cache

    source = Path(args.source)
    if not source.is_dir():
        print(f"wiloc cache merge: {source}: not a folder (expected a task cache such as "
              "build/cache/tasks)", file=sys.stderr)
        return 2
    cache = Cache(Path(args.root) if args.root else None)
    counts = cache.merge_from(Cache(source))
    print(f"merged {source} into {cache.root}: {counts['results']} results and "
          f"{counts['checkpoints']} checkpoints copied, {counts['pruned']} finished "
          "checkpoints deleted")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiloc", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute a notebook with Papermill")
    run.add_argument("notebook", nargs="?", help="notebook stem, file name or path")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="set a parameter (JSON values parse)")
    run.add_argument("--profile", choices=PROFILE_NAMES, default=None)
    run.add_argument("--all", action="store_true", help="run every chapter in book order")
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                     help="per-cell time limit (default: 300 s quick, none full)")
    run.set_defaults(func=_cmd_run)

    rep = sub.add_parser("report", help="the reproduction report",
                         description="Every regenerated value and checked claim with its status; "
                                     "counts are split by data kind x profile x origin.")
    rep.add_argument("--json", action="store_true", help="the records as JSON")
    rep.add_argument("--paper", help="only this paper (000 ... 004)")
    rep.add_argument("--profile", choices=("quick", "full", "paper", "custom"),
                     help="only rows of this profile")
    rep.add_argument("--data-kind", choices=("real", "simulated"), help="only real or simulated data")
    rep.add_argument("--origin", choices=("build", "committed"),
                     help="only this build's runs or the committed ones")
    rep.add_argument("--build-results", metavar="DIR", help="this build's results (default build/results)")
    rep.add_argument("--committed", metavar="DIR", help="committed results (default results/)")
    rep.set_defaults(func=_cmd_report)

    bk = sub.add_parser("book", help="build the Jupyter Book from the executed notebooks")
    bk.add_argument("--strict", action="store_true", help="warnings are errors")
    bk.set_defaults(func=_cmd_book)

    res = sub.add_parser("results", help="manage committed full-profile results")
    res_sub = res.add_subparsers(dest="action", required=True)
    commit = res_sub.add_parser("commit", help="copy an unmodified full run from build/results/STEM "
                                "into results/STEM")
    commit.add_argument("stem")
    commit.add_argument("--allow-dirty", action="store_true",
                        help="accept a run made from a tree with uncommitted changes")
    commit.set_defaults(func=_cmd_results_commit)
    again = res_sub.add_parser("reevaluate", help="rebuild a committed run's report records from its "
                               "committed tables, without retraining")
    again.add_argument("stem", choices=sorted(REEVALUATORS))
    again.set_defaults(func=_cmd_results_reevaluate)

    cache = sub.add_parser("cache", help="inspect the task cache of multi-sitting runs")
    cache_sub = cache.add_subparsers(dest="action", required=True)
    status = cache_sub.add_parser(
        "status", help="finished results, sittings and tasks cut off mid-training",
        description="What a task cache holds (default build/cache/tasks, following "
                    "WILOC_BUILD): its results, the sittings that computed them, and the "
                    "checkpoints of tasks a run will resume.")
    status.add_argument("--root", metavar="DIR", help="the cache folder")
    status.add_argument("--last", type=int, default=10, metavar="N",
                        help="list the N most recent results (0: none; default 10)")
    status.add_argument("--json", action="store_true", help="everything, as JSON")
    status.set_defaults(func=_cmd_cache_status)
    merge = cache_sub.add_parser(
        "merge", help="bring another task store's results and checkpoints into this one",
        description="Copy the results SOURCE holds and this cache lacks, and the checkpoints "
                    "of unfinished tasks where SOURCE's are further along; delete checkpoints "
                    "of tasks now finished. A run that outlives a machine travels this way, "
                    "through storage outside the repository (the cache holds network weights).")
    merge.add_argument("source", metavar="SOURCE", help="the task store to read")
    merge.add_argument("--root", metavar="DIR",
                       help="the store to write (default build/cache/tasks)")
    merge.set_defaults(func=_cmd_cache_merge)

    try:
        from wiloc_core.data import cli as data_cli
    except ImportError:  # pragma: no cover - the data layer is part of the package
        data_cli = None
    if data_cli is not None:
        data_cli.add_subparser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WilocError as error:
        print(f"wiloc: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

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
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from wiloc_core.errors import WilocError


def _cmd_run(args) -> int:
    from wiloc_core import runner

    parameters = {name: runner.parse_parameter_value(value) for name, value in args.parameter}
    if args.all:
        runner.run_all(args.profile, parameters, progress=not args.no_progress)
        return 0
    if not args.notebook:
        print("wiloc run: name a NOTEBOOK or pass --all", file=sys.stderr)
        return 2
    result = runner.run_notebook(args.notebook, parameters, profile=args.profile,
                                 progress=not args.no_progress)
    print(f"executed: {result.executed}\nresults:  {result.results}\ntime:     {result.seconds:.1f} s")
    return 0


def _format_value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "holds" if value else "fails"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cmd_report(args) -> int:
    from wiloc_core import report

    records = report.collect_records()
    if args.json:
        keep = report.REPORT_COLUMNS + ["kind", "direction_holds"]
        print(json.dumps([{k: r.get(k) for k in keep} for r in records], indent=2))
        return 0
    if not records:
        print("No results yet: run `make book` or `wiloc run NOTEBOOK` first.")
        return 0
    columns = ["paper", "item", "row", "column", "paper_value", "ours", "unit", "status",
               "profile", "data_kind", "origin"]
    rows = [[_format_value(r.get(c)) for c in columns] for r in records]
    widths = [min(40, max(len(c), *(len(row[i]) for row in rows))) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))
    counts = report.status_counts(records)
    print("\n" + ", ".join(f"{n} {status}" for status, n in counts.items()))
    return 0


def _cmd_book(args) -> int:
    from wiloc_core import book

    html = book.build_book(strict=args.strict)
    print(f"book: {html}")
    return 0


def _cmd_results_commit(args) -> int:
    """Copy a full-profile run from build/results into the committed results/ folder."""
    from wiloc_core import paths

    source = paths.results_dir(args.stem)
    summary_file = source / "summary.json"
    if not summary_file.exists():
        print(f"wiloc results: {summary_file}: not found; run the notebook first", file=sys.stderr)
        return 2
    summary = json.loads(summary_file.read_text())
    if summary.get("profile") != "full" and not args.allow_quick:
        print(f"wiloc results: {summary_file}: field 'profile': expected 'full', found "
              f"{summary.get('profile')!r} (pass --allow-quick to commit it anyway)", file=sys.stderr)
        return 2
    target = paths.committed_results_dir() / args.stem
    staging = target.with_name(f".{args.stem}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    # PNG figures suffice for the book; SVG copies would only bloat the repository.
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("*.svg", "*.tmp"))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    print(f"committed results: {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiloc", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute a notebook with Papermill")
    run.add_argument("notebook", nargs="?", help="notebook stem, file name or path")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="set a parameter (JSON values parse)")
    run.add_argument("--profile", choices=("quick", "full"), default=None)
    run.add_argument("--all", action="store_true", help="run every chapter in book order")
    run.add_argument("--no-progress", action="store_true")
    run.set_defaults(func=_cmd_run)

    rep = sub.add_parser("report", help="the reproduction report")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=_cmd_report)

    bk = sub.add_parser("book", help="build the Jupyter Book from the executed notebooks")
    bk.add_argument("--strict", action="store_true", help="warnings are errors")
    bk.set_defaults(func=_cmd_book)

    res = sub.add_parser("results", help="manage committed full-profile results")
    res_sub = res.add_subparsers(dest="action", required=True)
    commit = res_sub.add_parser("commit", help="copy build/results/STEM into results/STEM")
    commit.add_argument("stem")
    commit.add_argument("--allow-quick", action="store_true")
    commit.set_defaults(func=_cmd_results_commit)

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

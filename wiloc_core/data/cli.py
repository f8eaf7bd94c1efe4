"""The ``wiloc data`` subcommand: ``list``, ``info``, ``verify`` and ``fetch``.

Exit codes: 0 success, 1 a hash mismatch found by ``verify``, 2 a usage or data error
(printed as one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys

from wiloc_core.errors import WilocError

ACTIONS = ("list", "info", "verify", "fetch")
EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 2


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Register ``data`` on an ``argparse`` sub-parser collection.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``data`` parser; its ``func`` default is :func:`run`.
    """
    parser = subparsers.add_parser("data", help="list, describe, verify and fetch datasets",
                                   description="Datasets of the data manifest (data/manifest.json).")
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument("target", nargs="?", default=None,
                        help="dataset name (e.g. UJI1) or, for info, a file path")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(func=run)
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _emit(args, payload, lines) -> None:
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        for line in lines:
            print(line)


def _entries(target):
    from .manifest import get_entry, load_manifest

    return [get_entry(target)] if target else list(load_manifest().values())


def _do_list(args) -> int:
    from .summary import local_status

    rows = [local_status(entry) for entry in _entries(args.target)]
    lines = [f"{r['name']:<28} {r['kind']:<12} {r['where'] or 'missing':<11} {r['path'] or ''}" for r in rows]
    _emit(args, rows, lines)
    return EXIT_OK


def _do_info(args) -> int:
    from . import lofi
    from .summary import describe

    if not args.target:
        raise WilocError("info needs a dataset name or a file path")
    if lofi.kind_of(args.target) is not None:
        info = lofi.describe_lofi(args.target)
        _emit(args, info, [lofi.summary_line(info)])
        return EXIT_OK
    info = describe(args.target)
    _emit(args, info, [f"{key}: {value}" for key, value in info.items()])
    return EXIT_OK


def _do_verify(args) -> int:
    from .summary import local_status

    rows = [local_status(entry, check_hash=True) for entry in _entries(args.target)]
    lines = []
    for row in rows:
        line = f"{row['name']:<28} {row['sha256']:<9} {row['path'] or ''}"
        if row["sha256"] == "mismatch":
            line += f" (expected {row['expected']}, actual {row['actual']})"
        lines.append(line)
    _emit(args, rows, lines)
    return EXIT_MISMATCH if any(r["sha256"] == "mismatch" for r in rows) else EXIT_OK


def _do_fetch(args) -> int:
    from .download import fetch

    if not args.target:
        raise WilocError("fetch needs a dataset name (see `wiloc data list`)")
    found = fetch(args.target)
    payload = {"name": found.entry.name, "path": str(found.path), "where": found.where}
    _emit(args, payload, [f"{found.entry.name}: {found.path} ({found.where})"])
    return EXIT_OK


_HANDLERS = {"list": _do_list, "info": _do_info, "verify": _do_verify, "fetch": _do_fetch}


def run(args: argparse.Namespace) -> int:
    """Run one ``wiloc data`` action; errors become one stderr line and exit code 2."""
    try:
        return _HANDLERS[args.action](args)
    except (WilocError, OSError) as error:
        print(f"wiloc data {args.action}: {_one_line(error)}", file=sys.stderr)
        return EXIT_ERROR


def main(argv=None) -> int:
    """Stand-alone entry point: ``python -m wiloc_core.data.cli list``."""
    parser = argparse.ArgumentParser(prog="wiloc")
    add_subparser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

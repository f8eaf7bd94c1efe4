"""Run every benchmark module and write ``build/bench.json``.

Usage: ``python -m benchmarks [NAME ...]`` (module names without ``bench_``).
Targets are recorded next to the figures, not asserted: a slow run is a finding
to read, not a failing test.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

from wiloc_core import atomic, paths


def main(argv: list[str]) -> int:
    package = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(package)])
                   if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if n.removeprefix("bench_") in argv or n in argv]
    out = paths.build_dir() / "bench.json"
    try:
        figures = json.loads(out.read_text())
    except (OSError, json.JSONDecodeError):
        figures = {}
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"[bench] {name}", flush=True)
        for key, record in module.run().items():
            figures[key] = record
            target = record.get("target")
            flag = "" if target is None else f"  (target ≤ {target:g})"
            if record.get("target_min") is not None:
                flag = f"  (target ≥ {record['target_min']:g})"
            print(f"  {key}: {record['value']:.4g} {record['unit']}{flag}", flush=True)
    atomic.write_json(out, figures)
    print(f"[bench] wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

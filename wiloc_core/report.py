"""The reproduction report: every regenerated paper value beside the paper's.

Records come from two places and are never mixed silently: each keeps its
``profile`` and its ``origin``:

- ``build``: ``build/results/<notebook>/report.json`` from runs on this machine
  (usually the quick profile);
- ``committed``: ``results/<notebook>/report.json``, full-profile runs committed with
  their provenance so that readers see them without rerunning.

A record's status is one of :data:`STATUSES`: a value within the registry's relative
tolerance of the paper's is "reproduced within tolerance"; outside it, a value whose
qualitative effect holds (``direction_holds``) is "direction reproduced"; anything else
is "not reproduced". A claim is "direction reproduced" when it holds in our run.
"""

from __future__ import annotations

import json
from pathlib import Path

from wiloc_core import paths
from wiloc_core.errors import DataFormatError

STATUSES = ("reproduced within tolerance", "direction reproduced", "not reproduced")
ORIGINS = ("build", "committed")
REPORT_COLUMNS = ["paper", "item", "row", "column", "unit", "paper_value", "ours",
                  "difference_pct", "status", "profile", "seed", "data_kind", "origin",
                  "notebook", "commit", "date", "note"]


def classify(kind: str, ours, paper_value, tolerance: float | None,
             direction_holds: bool | None) -> str:
    """The status of one record (see the module docstring)."""
    if kind == "claim":
        return STATUSES[1] if ours else STATUSES[2]
    if paper_value is not None and tolerance is not None:
        scale = abs(paper_value) if paper_value != 0 else 1.0
        if abs(ours - paper_value) <= tolerance * scale:
            return STATUSES[0]
    return STATUSES[1] if direction_holds else STATUSES[2]


def _read_json(path: Path, expected: str):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataFormatError(path, "(whole file)", expected, f"invalid JSON ({error})") from None


def _records_under(root: Path, origin: str) -> list[dict]:
    records = []
    for report_file in sorted(root.glob("*/report.json")):
        items = _read_json(report_file, "a JSON list of report records")
        if not isinstance(items, list):
            raise DataFormatError(report_file, "(top level)", "a list of records", type(items).__name__)
        provenance_file = report_file.with_name("provenance.json")
        provenance = _read_json(provenance_file, "provenance JSON") if provenance_file.exists() else {}
        for item in items:
            records.append({**item, "origin": origin, "commit": provenance.get("commit", ""),
                            "date": provenance.get("date", "")})
    return records


def evaluate(records: list[dict]) -> list[dict]:
    """Add the paper's value, the difference (%) and the status to each record."""
    from wiloc_core import paper_values

    out = []
    for record in records:
        entry = None
        if record["kind"] == "value":
            entry = paper_values.paper_entry(record["paper"], record["item"], record["row"],
                                             record["column"])
        paper_value = entry["value"] if entry else None
        ours = record["ours"]
        difference = None
        if entry and paper_value not in (None, 0) and ours is not None:
            difference = round(100.0 * (ours - paper_value) / abs(paper_value), 2)
        status = classify(record["kind"], ours, paper_value,
                          entry.get("tolerance") if entry else None, record.get("direction_holds"))
        out.append({"origin": "build", "commit": "", "date": "", **record,
                    "paper_value": paper_value, "difference_pct": difference, "status": status})
    return out


def collect_records(build_results: Path | None = None, committed: Path | None = None) -> list[dict]:
    """All records of this build and of the committed full-profile runs, with their status."""
    build_results = build_results or paths.build_dir() / "results"
    committed = committed or paths.committed_results_dir()
    records = _records_under(build_results, "build") + _records_under(committed, "committed")
    out = evaluate(records)
    out.sort(key=lambda r: (r["paper"], r["item"], str(r["row"]), str(r["column"]),
                            r["profile"], r["origin"]))
    return out


def report_frame(records: list[dict] | None = None):
    """The report as a pandas DataFrame with :data:`REPORT_COLUMNS`."""
    import pandas as pd

    records = collect_records() if records is None else records
    frame = pd.DataFrame(records, columns=REPORT_COLUMNS)
    return frame


def status_counts(records: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for record in records:
        counts[record["status"]] += 1
    return counts

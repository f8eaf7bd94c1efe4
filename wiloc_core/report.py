"""The reproduction report: every regenerated paper value and checked claim, judged.

Records come from two places and are never mixed silently: each keeps its
``profile``, its ``data_kind`` and its ``origin``:

- ``build``: ``build/results/<notebook>/report.json`` from runs on this machine
  (usually the quick profile);
- ``committed``: ``results/<notebook>/report.json``, full-profile runs committed with
  their provenance so that readers see them without rerunning.

Statuses follow one set of rules, :mod:`wiloc_core.verdicts`: only unmodified full or
paper runs are judged, only real data can reproduce a number, a reversed effect is
never reproduced and an effect must beat the seed-to-seed noise. Values are compared
with :mod:`wiloc_core.paper_values`, claims with :mod:`wiloc_core.claims`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from wiloc_core import paths, verdicts
from wiloc_core.errors import DataFormatError

STATUSES = verdicts.STATUSES
ORIGINS = ("build", "committed")
DATA_KINDS = ("real", "simulated")
#: How counts are split: never one number across these.
SPLIT_BY = ("data_kind", "profile", "origin")
REPORT_COLUMNS = ["paper", "kind", "item", "row", "column", "unit", "paper_value", "ours",
                  "difference_pct", "effect_mean", "n_seeds", "status", "claim_origin", "profile",
                  "seed", "data_kind", "origin", "notebook", "commit", "date", "note"]


def _read_json(path: Path, expected: str):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataFormatError(path, "(whole file)", expected, f"invalid JSON ({error})") from None


def _check_record(record, source) -> None:
    kind = record.get("kind")
    if kind not in ("value", "claim"):
        raise DataFormatError(source, "kind", "'value' or 'claim'", repr(kind))
    needed = ("paper", "profile", "data_kind") + (("item", "row", "column", "ours") if kind == "value"
                                                    else ("claim_id", "cells"))
    for field in needed:
        if field not in record:
            raise DataFormatError(source, field, f"a field of every {kind} record", "nothing")
    if record["profile"] not in verdicts.PROFILE_LABELS:
        raise DataFormatError(source, "profile", f"one of {verdicts.PROFILE_LABELS}", repr(record["profile"]))
    if record["data_kind"] not in DATA_KINDS:
        raise DataFormatError(source, "data_kind", f"one of {DATA_KINDS}", repr(record["data_kind"]))


def _records_under(root: Path, origin: str) -> list[dict]:
    records = []
    for report_file in sorted(root.glob("*/report.json")):
        items = _read_json(report_file, "a JSON list of report records")
        if not isinstance(items, list):
            raise DataFormatError(report_file, "(top level)", "a list of records", type(items).__name__)
        provenance_file = report_file.with_name("provenance.json")
        provenance = _read_json(provenance_file, "provenance JSON") if provenance_file.exists() else {}
        for item in items:
            _check_record(item, report_file)
            records.append({**item, "origin": origin, "commit": provenance.get("commit", ""),
                            "date": provenance.get("date", "")})
    return records


def _evaluate_value(record: dict) -> dict:
    from wiloc_core import paper_values

    entry = paper_values.paper_entry(record["paper"], record["item"], record["row"], record["column"])
    paper_value, ours = entry["value"], record["ours"]
    difference = None
    if paper_value != 0 and ours is not None:
        difference = round(100.0 * (ours - paper_value) / abs(paper_value), 2)
    effect = record.get("effect")
    return {"paper_value": paper_value, "difference_pct": difference,
            "effect_mean": verdicts.mean(effect) if effect else None,
            "n_seeds": len(effect) if effect else record.get("n_seeds"),
            "status": verdicts.status(record, paper_value, entry["tolerance"]),
            "claim_origin": ""}


def _evaluate_claim(record: dict) -> dict:
    from wiloc_core import claims

    row = claims.claim(record["claim_id"])
    cells = record["cells"]
    band = (f"> {row['low']:g}" if row["test"] == "greater" else f"< {row['high']:g}"
            if row["test"] == "less" else f"{row['low']:g} to {row['high']:g}")
    return {"item": row["where"], "row": row["sentence"], "column": f"{row['test']} {band}",
            "unit": row["unit"], "paper_value": None, "difference_pct": None,
            "ours": _claim_summary(row, cells), "effect_mean": None,
            "n_seeds": max((len(c["values"]) for c in cells), default=0),
            "status": verdicts.status(record, claim=row), "claim_origin": row["origin"]}


def _claim_summary(row: dict, cells: list[dict]):
    """The claim's quantity in one number: the mean of the decisive cell."""
    if not cells:
        return None
    means = [verdicts.mean(c["values"]) for c in cells]
    if row["test"] in ("greater", "max_between"):
        return max(means) if row["test"] == "max_between" else min(means)
    if row["test"] == "less":
        return max(means)
    return min(means, key=lambda m: min(abs(m - row["low"]), abs(m - row["high"])))


def evaluate(records: list[dict]) -> list[dict]:
    """Add the paper's value, the difference (%) and the status to each record."""
    out = []
    for record in records:
        extra = _evaluate_value(record) if record["kind"] == "value" else _evaluate_claim(record)
        out.append({"origin": "build", "commit": "", "date": "", **record, **extra})
    return out


def collect_records(build_results: Path | None = None, committed: Path | None = None) -> list[dict]:
    """All records of this build and of the committed full-profile runs, with their status."""
    build_results = build_results or paths.build_dir() / "results"
    committed = committed or paths.committed_results_dir()
    records = _records_under(build_results, "build") + _records_under(committed, "committed")
    out = evaluate(records)
    out.sort(key=lambda r: (r["paper"], r["kind"] == "claim", r["item"], str(r["row"]),
                            str(r["column"]), r["profile"], r["origin"]))
    return out


def select(records: list[dict], *, paper: str | None = None, profile: str | None = None,
           data_kind: str | None = None, origin: str | None = None) -> list[dict]:
    """The records matching every given filter (``None`` keeps all)."""
    wanted = {"paper": paper, "profile": profile, "data_kind": data_kind, "origin": origin}
    return [r for r in records if all(v is None or str(r.get(k)) == str(v) for k, v in wanted.items())]


def report_frame(records: list[dict] | None = None):
    """The report as a pandas DataFrame with :data:`REPORT_COLUMNS`."""
    import pandas as pd

    records = collect_records() if records is None else records
    return pd.DataFrame(records, columns=REPORT_COLUMNS)


def status_counts(records: list[dict]) -> dict[str, int]:
    """How many records have each status (every status listed, zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for record in records:
        counts[record["status"]] += 1
    return counts


def split_counts(records: list[dict], by=SPLIT_BY) -> list[dict]:
    """Status counts per combination of ``by`` (data kind × profile × origin by default).

    Returns
    -------
    list of dict
        One row per combination present, with the ``by`` fields, ``rows`` and one count
        per status; sorted so that committed, full and real rows come first.
    """
    groups: dict[tuple, Counter] = {}
    for record in records:
        key = tuple(record.get(field) for field in by)
        groups.setdefault(key, Counter())[record["status"]] += 1
    order = {"committed": 0, "build": 1, "full": 0, "paper": 0, "custom": 2, "quick": 3,
             "real": 0, "simulated": 1}
    rows = []
    for key in sorted(groups, key=lambda k: [order.get(str(v), 9) for v in k] + list(map(str, k))):
        counts = groups[key]
        rows.append({**dict(zip(by, key, strict=True)), "rows": sum(counts.values()),
                     **{status: counts.get(status, 0) for status in STATUSES}})
    return rows


def scoreboard(records: list[dict]) -> list[dict]:
    """Per paper: counts of each status among *judged* records (full or paper profile).

    The landing page and the report page show this table; quick and custom rows are
    counted apart (``not judged``), and the split by data kind is kept.
    """
    rows = []
    for paper in sorted({r["paper"] for r in records}):
        for data_kind in DATA_KINDS:
            part = [r for r in records if r["paper"] == paper and r["data_kind"] == data_kind]
            if not part:
                continue
            counts = status_counts(part)
            rows.append({"paper": paper, "data_kind": data_kind, "rows": len(part), **counts})
    return rows

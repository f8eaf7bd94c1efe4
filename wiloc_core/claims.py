"""Registry of the papers' claims, and of the few claims this book adds itself.

A *claim* is a qualitative statement with a testable quantity: "reducing the training
data raises the RMSE", "the gain reaches up to 43 %". Each is transcribed once into
``wiloc_core/registry/claims.csv``; notebooks compute the quantity and record it with
:meth:`wiloc_core.results.ResultSet.claim`, and the report judges it with
:func:`wiloc_core.verdicts.judge_claim`. No notebook types a claim, a band or a verdict.

Columns
-------
``paper``
    ``"000"`` ... ``"004"``.
``claim_id``
    Unique key, ``"<paper>-<short-name>"``.
``origin``
    ``"paper"`` for a claim the paper makes (``sentence`` quotes it), ``"ours"`` for a
    check this book adds (such as "beats weighted k-NN"); the report labels those as ours.
``where``
    Where the paper makes it (section, table, figure).
``sentence``
    The paper's sentence (``origin = paper``) or our statement (``origin = ours``).
``quantity``
    What a notebook measures to test it, in words, with the unit.
``test``, ``low``, ``high``
    ``greater`` (above ``low``), ``less`` (below ``high``), ``between`` or
    ``max_between`` (in ``[low, high]``); see :mod:`wiloc_core.verdicts`. Where the
    paper states a band, the band is the paper's; where it states a single number, the
    note says which tolerance made it a band.
``unit``, ``note``
"""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path

from wiloc_core.errors import DataFormatError
from wiloc_core.verdicts import CLAIM_TESTS

CLAIMS_PATH = Path(__file__).parent / "registry" / "claims.csv"
COLUMNS = ("paper", "claim_id", "origin", "where", "sentence", "quantity", "test", "low",
           "high", "unit", "note")
PAPERS = ("000", "001", "002", "003", "004")
ORIGINS = ("paper", "ours")


def _number(path, line, field, text):
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(path, field, f"a number or empty (line {line})", repr(text)) from None
    if not math.isfinite(value):
        raise DataFormatError(path, field, f"a finite number (line {line})", repr(text))
    return value


def read_claims(path: str | Path) -> dict[str, dict]:
    """Read and validate a claims CSV file.

    Returns
    -------
    dict
        ``claim_id`` -> row (``low`` and ``high`` as float or None), in file order.

    Raises
    ------
    DataFormatError
        Naming the file, the field and the line: a missing column, an unknown paper,
        origin or test, an empty sentence or quantity, a repeated id, an id that does
        not start with its paper, or a band the test needs but the row lacks.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataFormatError(path, "<file>", "a readable UTF-8 CSV file", repr(error)) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataFormatError(path, missing[0], f"columns {list(COLUMNS)}", f"columns {list(header)}")
    claims: dict[str, dict] = {}
    for line, raw in enumerate(rows, start=2):
        row = {c: (raw[c] or "").strip() for c in COLUMNS}
        for field, allowed in (("paper", PAPERS), ("origin", ORIGINS), ("test", CLAIM_TESTS)):
            if row[field] not in allowed:
                raise DataFormatError(path, field, f"one of {list(allowed)} (line {line})", repr(row[field]))
        for field in ("claim_id", "where", "sentence", "quantity"):
            if not row[field]:
                raise DataFormatError(path, field, f"a non-empty string (line {line})", "''")
        if not row["claim_id"].startswith(row["paper"] + "-"):
            raise DataFormatError(path, "claim_id", f"an id starting with '{row['paper']}-' (line {line})",
                                  repr(row["claim_id"]))
        if row["claim_id"] in claims:
            raise DataFormatError(path, "claim_id", f"a unique id (line {line})", repr(row["claim_id"]))
        row["low"] = _number(path, line, "low", row["low"])
        row["high"] = _number(path, line, "high", row["high"])
        needs = {"greater": ("low",), "less": ("high",), "between": ("low", "high"),
                 "max_between": ("low", "high")}[row["test"]]
        for field in needs:
            if row[field] is None:
                raise DataFormatError(path, field, f"a number for test '{row['test']}' (line {line})", "''")
        if row["low"] is not None and row["high"] is not None and row["low"] > row["high"]:
            raise DataFormatError(path, "low", f"low <= high (line {line})", f"{row['low']} > {row['high']}")
        claims[row["claim_id"]] = row
    return claims


@functools.lru_cache(maxsize=1)
def _cached() -> dict[str, dict]:
    return read_claims(CLAIMS_PATH)


def claim(claim_id: str) -> dict:
    """One claim's registry row (a copy).

    Raises
    ------
    KeyError
        If the id is not in the registry; the message lists the paper's ids.
    """
    claims = _cached()
    if claim_id not in claims:
        paper = claim_id.split("-", 1)[0]
        known = [c for c in claims if c.startswith(paper + "-")]
        raise KeyError(f"no claim {claim_id!r} in {CLAIMS_PATH.name}; claims of paper {paper}: {known}")
    return dict(claims[claim_id])


def claims(paper: str | None = None, origin: str | None = None) -> list[dict]:
    """Registry rows, optionally of one paper and/or one origin, in file order."""
    return [dict(row) for row in _cached().values()
            if (paper is None or row["paper"] == paper) and (origin is None or row["origin"] == origin)]

"""The claims registry (wiloc_core/registry/claims.csv) and its validation."""

from __future__ import annotations

import csv
import io
import re

import pytest

from wiloc_core import claims
from wiloc_core.errors import DataFormatError

GOOD = {"paper": "000", "claim_id": "000-demo", "origin": "paper", "where": "§IV, Table I",
        "sentence": "It is evident that less data degrades performance.",
        "quantity": "RMSE difference (cm), one value per seed.", "test": "greater",
        "low": "0", "high": "", "unit": "cm", "note": ""}


def _write(tmp_path, rows, columns=claims.COLUMNS):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    path = tmp_path / "claims.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _error(tmp_path, rows, **kwargs) -> DataFormatError:
    path = _write(tmp_path, rows, **kwargs)
    with pytest.raises(DataFormatError) as info:
        claims.read_claims(path)
    assert str(path) in str(info.value), "the error must name the file"
    return info.value


def test_a_good_file_reads_with_numbers_and_none(tmp_path):
    rows = [GOOD, {**GOOD, "claim_id": "000-band", "test": "between", "low": "11", "high": "20"}]
    read = claims.read_claims(_write(tmp_path, rows))
    assert list(read) == ["000-demo", "000-band"]
    assert read["000-demo"]["low"] == 0.0 and read["000-demo"]["high"] is None
    assert (read["000-band"]["low"], read["000-band"]["high"]) == (11.0, 20.0)


@pytest.mark.parametrize("change, field, line", [
    ({"test": "above"}, "test", 3),
    ({"test": "greater", "low": ""}, "low", 3),                    # band the test needs
    ({"test": "less", "high": ""}, "high", 3),
    ({"test": "between", "low": "1", "high": ""}, "high", 3),
    ({"test": "max_between", "low": "", "high": "5"}, "low", 3),
    ({"test": "between", "low": "9", "high": "5"}, "low", 3),      # low above high
    ({"low": "ten"}, "low", 3),                                    # not a number
    ({"low": "nan"}, "low", 3),
    ({"claim_id": "000-demo"}, "claim_id", 3),                     # duplicate id
    ({"claim_id": "001-demo"}, "claim_id", 3),                     # id of another paper
    ({"paper": "007", "claim_id": "007-x"}, "paper", 3),           # unknown paper
    ({"paper": "0"}, "paper", 3),
    ({"origin": "mine"}, "origin", 3),                             # unknown origin
    ({"origin": ""}, "origin", 3),
    ({"sentence": " "}, "sentence", 3),
    ({"quantity": ""}, "quantity", 3),
    ({"where": ""}, "where", 3),
])
def test_bad_rows_name_file_field_and_line(tmp_path, change, field, line):
    second = {**GOOD, "claim_id": "000-second", **change}
    error = _error(tmp_path, [GOOD, second])
    assert error.field == field
    assert f"line {line}" in str(error), str(error)


def test_missing_column_is_named(tmp_path):
    columns = [c for c in claims.COLUMNS if c != "quantity"]
    error = _error(tmp_path, [GOOD], columns=columns)
    assert error.field == "quantity"


def test_unreadable_file(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataFormatError, match=re.escape(str(path))):
        claims.read_claims(path)


# ------------------------------------------------------------------------------------
# The real registry
# ------------------------------------------------------------------------------------


def test_the_registry_reads_and_every_id_is_unique_and_prefixed():
    rows = claims.read_claims(claims.CLAIMS_PATH)
    assert rows, "the claims registry is empty"
    for claim_id, row in rows.items():
        assert claim_id.startswith(row["paper"] + "-")
        assert row["origin"] in claims.ORIGINS


def test_every_paper_claim_quotes_a_sentence_and_every_single_number_band_says_why():
    for row in claims.claims(origin="paper"):
        assert len(row["sentence"]) > 20, row["claim_id"]
        if row["test"] in ("between", "max_between") and row["low"] != row["high"]:
            assert row["note"], f"{row['claim_id']}: a band needs a note saying where it comes from"


def test_lookup_and_filters():
    first = claims.claims()[0]
    assert claims.claim(first["claim_id"]) == first
    copy = claims.claim(first["claim_id"])
    copy["low"] = -123.0
    assert claims.claim(first["claim_id"])["low"] != -123.0, "claim() must return a copy"
    assert all(r["paper"] == "000" for r in claims.claims(paper="000"))
    assert all(r["origin"] == "ours" for r in claims.claims(origin="ours"))
    with pytest.raises(KeyError, match="claims of paper 000"):
        claims.claim("000-no-such-claim")

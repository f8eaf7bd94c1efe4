import json

import numpy as np
import pandas as pd
import pytest

from wiloc_core import paper_values, report
from wiloc_core.errors import DataFormatError, ParameterError
from wiloc_core.results import ResultSet

FAKE_ENTRY = {"value": 10.0, "unit": "m", "better": "lower", "tolerance": 0.1, "note": ""}


@pytest.fixture
def fake_registry(monkeypatch):
    def entry(paper, item, row, column):
        if (paper, item, row, column) != ("001", "Table 1", "DNN", "MAE"):
            raise KeyError((paper, item, row, column))
        return dict(FAKE_ENTRY)

    monkeypatch.setattr(paper_values, "paper_entry", entry)


@pytest.mark.parametrize("kind, ours, paper, tol, direction, expected", [
    ("value", 10.5, 10.0, 0.1, None, "reproduced within tolerance"),
    ("value", 11.0, 10.0, 0.1, None, "reproduced within tolerance"),  # boundary included
    ("value", 12.0, 10.0, 0.1, True, "direction reproduced"),
    ("value", 12.0, 10.0, 0.1, False, "not reproduced"),
    ("value", 12.0, 10.0, 0.1, None, "not reproduced"),
    ("value", 0.05, 0.0, 0.1, None, "reproduced within tolerance"),  # absolute when paper is 0
    ("claim", True, None, None, True, "direction reproduced"),
    ("claim", False, None, None, False, "not reproduced"),
])
def test_classify(kind, ours, paper, tol, direction, expected):
    assert report.classify(kind, ours, paper, tol, direction) == expected


def _result_set(tmp_path, profile="quick", seed=3):
    res = ResultSet("07-demo", profile=profile, seed=seed, data_kind="real",
                    parameters={"k": np.int64(3)}, out_dir=tmp_path / "07-demo")
    res.table("errors", pd.DataFrame({"model": ["a", "b"], "mae": [1.0, 2.5]}))
    res.value("mae_a", np.float64(1.0), unit="m")
    res.compare("001", "Table 1", "DNN", "MAE", 10.4)
    res.claim("001", "§4.2", "enhanced beats stand-alone", True, evidence="4 of 4 models")
    return res


def test_result_set_writes_every_file(tmp_path, fake_registry):
    out = _result_set(tmp_path).save()
    assert (out / "errors.csv").read_text() == "model,mae\na,1\nb,2.5\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["values"] == {"mae_a": {"value": 1.0, "unit": "m"}}
    assert summary["parameters"] == {"k": 3} and summary["seed"] == 3
    records = json.loads((out / "report.json").read_text())
    assert [r["kind"] for r in records] == ["value", "claim"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert set(provenance) >= {"commit", "date", "machine", "profile", "seed", "duration_s"}
    assert not list(out.glob("*.tmp"))


def test_same_inputs_give_identical_files_except_provenance(tmp_path, fake_registry):
    first = _result_set(tmp_path / "a").save()
    second = _result_set(tmp_path / "b").save()
    for name in ("errors.csv", "summary.json", "report.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_unknown_registry_key_is_refused(tmp_path, fake_registry):
    res = ResultSet("07-demo", profile="quick", seed=0, data_kind="real", out_dir=tmp_path)
    with pytest.raises(KeyError):
        res.compare("001", "Table 1", "DNN", "MAE 75th", 1.0)


def test_timings_go_to_provenance_not_to_the_summary(tmp_path, fake_registry):
    res = _result_set(tmp_path)
    res.timing("stage_seconds/Table 2", np.float64(12.5))
    res.timing("full_cpu_hours", 3.0, unit="h")
    out = res.save()
    summary = json.loads((out / "summary.json").read_text())
    assert "stage_seconds/Table 2" not in summary["values"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["timings"] == {"stage_seconds/Table 2": {"value": 12.5, "unit": "s"},
                                     "full_cpu_hours": {"value": 3.0, "unit": "h"}}


def test_bad_data_kind(tmp_path):
    with pytest.raises(ParameterError, match="data_kind"):
        ResultSet("x", profile="quick", seed=0, data_kind="measured", out_dir=tmp_path)


def test_collect_keeps_build_and_committed_apart(tmp_path, fake_registry):
    _result_set(tmp_path / "build").save()
    _result_set(tmp_path / "committed", profile="full").save()
    records = report.collect_records(tmp_path / "build", tmp_path / "committed")
    values = [r for r in records if r["kind"] == "value"]
    assert {(r["origin"], r["profile"]) for r in values} == {("build", "quick"), ("committed", "full")}
    assert all(r["paper_value"] == 10.0 and r["status"] == "reproduced within tolerance"
               for r in values)
    assert values[0]["difference_pct"] == pytest.approx(4.0)
    frame = report.report_frame(records)
    assert list(frame.columns) == report.REPORT_COLUMNS and len(frame) == 4


def test_corrupt_report_file_names_the_file(tmp_path):
    bad = tmp_path / "build" / "x"
    bad.mkdir(parents=True)
    (bad / "report.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="report.json"):
        report.collect_records(tmp_path / "build", tmp_path / "none")


def test_committed_table_is_shown_only_beside_a_quick_run(tmp_path, monkeypatch):
    from wiloc_core import display, paths

    folder = tmp_path / "07-demo"
    folder.mkdir()
    (folder / "errors.csv").write_text("model,mae\na,1.5\n")
    (folder / "provenance.json").write_text(json.dumps(
        {"profile": "full", "seed": 0, "commit": "0123456789abcdef", "date": "2026-01-01"}))
    monkeypatch.setattr(paths, "committed_results_dir", lambda: tmp_path)
    caption, frame = display.committed_table("07-demo", "errors", "quick")
    assert "full" in caption.data and "0123456789" in caption.data
    assert frame.to_dict("records") == [{"model": "a", "mae": 1.5}]
    assert display.committed_table("07-demo", "errors", "full") is None
    assert display.committed_table("07-demo", "missing", "quick") is None

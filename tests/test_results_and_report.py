"""ResultSet files and the reproduction report (wiloc_core.results, wiloc_core.report).

Every report test works on hand-made records written to temporary folders, read back
with ``report.collect_records(build_results=..., committed=...)``: the report never
depends on what ``build/`` or ``results/`` hold at the time.
"""

import json

import numpy as np
import pandas as pd
import pytest

from wiloc_core import claims, paper_values, report, verdicts
from wiloc_core.errors import DataFormatError, ParameterError
from wiloc_core.results import ResultSet

FAKE_ENTRY = {"value": 10.0, "unit": "m", "better": "lower", "tolerance": 0.1, "note": ""}
CLEAR = [1.0, 1.1, 0.9]
REVERSED = [-1.0, -1.2, -0.8]


@pytest.fixture
def fake_registry(monkeypatch):
    def entry(paper, item, row, column):
        if (paper, item, row, column) != ("001", "Table 1", "DNN", "MAE"):
            raise KeyError((paper, item, row, column))
        return dict(FAKE_ENTRY)

    monkeypatch.setattr(paper_values, "paper_entry", entry)


OURS_CLAIM = {"paper": "001", "claim_id": "001-beats-knn", "origin": "ours", "where": "Table 1",
              "sentence": "Every model beats weighted k-NN.",
              "quantity": "k-NN MAE minus model MAE (m), one value per seed.", "test": "greater",
              "low": 0.0, "high": None, "unit": "m", "note": ""}


@pytest.fixture
def with_ours_claim(monkeypatch):
    """The real claims registry plus one claim of origin 'ours' (the registry may have none)."""
    rows = {**claims.read_claims(claims.CLAIMS_PATH), OURS_CLAIM["claim_id"]: dict(OURS_CLAIM)}
    monkeypatch.setattr(claims, "_cached", lambda: rows)


def _result_set(tmp_path, profile="quick", seed=3, data_kind="real", overrides=None):
    res = ResultSet("07-demo", profile=profile, seed=seed, data_kind=data_kind,
                    parameters={"k": np.int64(3)}, out_dir=tmp_path / "07-demo",
                    overrides=overrides)
    res.table("errors", pd.DataFrame({"model": ["a", "b"], "mae": [1.0, 2.5]}))
    res.value("mae_a", np.float64(1.0), unit="m")
    res.compare("001", "Table 1", "DNN", "MAE", 10.4, effect=np.array(CLEAR))
    return res


# ------------------------------------------------------------------------------------
# ResultSet
# ------------------------------------------------------------------------------------


def test_result_set_writes_every_file(tmp_path, fake_registry):
    res = _result_set(tmp_path)
    res.claim("000-table1-degrades", {"Lab 75->50": [1.0, 2.0, 1.5]}, evidence="demo")
    out = res.save()
    assert (out / "errors.csv").read_text() == "model,mae\na,1\nb,2.5\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["values"] == {"mae_a": {"value": 1.0, "unit": "m"}}
    assert summary["parameters"] == {"k": 3} and summary["seed"] == 3
    records = json.loads((out / "report.json").read_text())
    assert [r["kind"] for r in records] == ["value", "claim"]
    assert records[0]["effect"] == CLEAR and records[0]["n_seeds"] == 3
    assert records[1]["cells"] == [{"label": "Lab 75->50", "values": [1.0, 2.0, 1.5],
                                    "deterministic": False}]
    provenance = json.loads((out / "provenance.json").read_text())
    assert set(provenance) >= {"commit", "date", "machine", "profile", "seed", "duration_s",
                               "packages", "data", "base_profile", "overrides"}
    assert not list(out.glob("*.tmp"))


def test_overrides_make_a_custom_run(tmp_path, fake_registry):
    res = _result_set(tmp_path, profile="full", overrides={"epochs": {"preset": 200, "run": 5}})
    assert res.profile == "custom" and res.base_profile == "full"
    out = res.save()
    assert json.loads((out / "report.json").read_text())[0]["profile"] == "custom"
    records = report.collect_records(tmp_path, tmp_path / "none")
    assert records[0]["status"] == verdicts.NOT_JUDGED


def test_same_inputs_give_identical_files_except_provenance(tmp_path, fake_registry):
    first = _result_set(tmp_path / "a").save()
    second = _result_set(tmp_path / "b").save()
    for name in ("errors.csv", "summary.json", "report.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_unknown_registry_keys_are_refused(tmp_path, fake_registry):
    res = ResultSet("07-demo", profile="quick", seed=0, data_kind="real", out_dir=tmp_path)
    with pytest.raises(KeyError):
        res.compare("001", "Table 1", "DNN", "MAE 75th", 1.0)
    with pytest.raises(KeyError, match="no claim"):
        res.claim("000-no-such-claim", {"a": [1.0]})


def test_bad_effects_and_cells_are_refused(tmp_path, fake_registry):
    res = ResultSet("07-demo", profile="quick", seed=0, data_kind="real", out_dir=tmp_path)
    with pytest.raises(ParameterError, match="effect"):
        res.compare("001", "Table 1", "DNN", "MAE", 1.0, effect=[1.0, float("nan")])
    with pytest.raises(ParameterError):
        res.claim("000-table1-degrades", {"a": []})
    with pytest.raises(ParameterError):
        res.claim("000-table1-degrades", [])


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


# ------------------------------------------------------------------------------------
# Hand-made report records
# ------------------------------------------------------------------------------------


def _write_records(root, stem, records, provenance=None):
    folder = root / stem
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(records))
    if provenance is not None:
        (folder / "provenance.json").write_text(json.dumps(provenance))
    return folder


def value(ours, *, profile="full", data_kind="real", effect=None, paper="000", item="Table I",
          row="Lab", column="75%", notebook="10-ctf-transfer"):
    record = {"kind": "value", "paper": paper, "item": item, "row": row, "column": column,
              "ours": ours, "unit": "cm", "profile": profile, "seed": 0, "data_kind": data_kind,
              "notebook": notebook, "note": ""}
    if effect is not None:
        record["effect"] = effect
        record["n_seeds"] = len(effect)
    return record


def claim(claim_id, cells, *, profile="full", data_kind="real", notebook="10-ctf-transfer"):
    if isinstance(cells, dict):
        cells = [{"label": k, "values": v, "deterministic": False} for k, v in cells.items()]
    return {"kind": "claim", "paper": claim_id.split("-")[0], "claim_id": claim_id, "cells": cells,
            "unit": "", "profile": profile, "seed": 0, "data_kind": data_kind,
            "notebook": notebook, "note": "hand-made"}


def _evaluate_one(record):
    return report.evaluate([record])[0]


# Lab 75 % of Table I is 8.46 cm in the registry, with a relative tolerance of 10 %.
@pytest.mark.parametrize("record, expected", [
    (value(8.5), verdicts.REPRODUCED),
    (value(8.5, effect=CLEAR), verdicts.REPRODUCED),
    (value(8.5, data_kind="simulated"), verdicts.MAGNITUDE),                  # within, simulated
    (value(8.5, data_kind="simulated", effect=CLEAR), verdicts.MAGNITUDE),
    (value(8.5, effect=REVERSED), verdicts.NOT_REPRODUCED),                   # within, reversed
    (value(12.0, effect=CLEAR), verdicts.DIRECTION),                          # beats the noise
    (value(12.0, effect=[3.0, -2.0, 0.5]), verdicts.INCONCLUSIVE),            # inside the noise
    (value(12.0, effect=[0.01]), verdicts.INCONCLUSIVE),                      # one seed, small
    (value(12.0, effect=[-0.01]), verdicts.NOT_REPRODUCED),                   # one seed, reversed
    (value(12.0), verdicts.NOT_REPRODUCED),
    (value(8.5, profile="quick"), verdicts.NOT_JUDGED),
    (value(8.5, profile="custom"), verdicts.NOT_JUDGED),
    (value(8.5, profile="paper"), verdicts.REPRODUCED),
])
def test_evaluate_values(record, expected):
    out = _evaluate_one(record)
    assert out["status"] == expected
    assert out["paper_value"] == 8.46
    assert out["difference_pct"] == pytest.approx(round(100 * (record["ours"] - 8.46) / 8.46, 2))
    if "effect" in record:
        assert out["effect_mean"] == pytest.approx(np.mean(record["effect"]))
        assert out["n_seeds"] == len(record["effect"])


@pytest.mark.parametrize("record, expected", [
    # greater 0: RMSE grows as the training data shrink, in every cell
    (claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9], "b": [2.0, 2.1, 1.9]}), verdicts.HOLDS),
    (claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9], "b": [3.0, -2.0, 0.5]}), verdicts.INCONCLUSIVE),
    (claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9], "b": [-1.0, -1.1, -0.9]}),
     verdicts.NOT_REPRODUCED),
    (claim("000-table1-degrades", {"a": [1.0]}), verdicts.INCONCLUSIVE),               # one seed
    (claim("000-table1-degrades", [{"label": "n", "values": [4.0], "deterministic": True}]),
     verdicts.HOLDS),                                                                   # a count
    (claim("000-table1-degrades", [{"label": "n", "values": [0.0], "deterministic": True}]),
     verdicts.NOT_REPRODUCED),
    (claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9]}, data_kind="simulated"), verdicts.HOLDS),
    (claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9]}, profile="quick"), verdicts.NOT_JUDGED),
    (claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9]}, profile="custom"), verdicts.NOT_JUDGED),
    # max_between 38.7..47.3: "up to 43 %" needs the largest cell in the band
    (claim("000-max-gain-43", {"a": [30.0, 31.0, 29.0], "b": [43.0, 42.0, 44.0]}), verdicts.HOLDS),
    (claim("000-max-gain-43", {"a": [30.0, 31.0, 29.0]}), verdicts.NOT_REPRODUCED),
    (claim("000-max-gain-43", {"a": [43.0, 30.0, 56.0]}), verdicts.INCONCLUSIVE),
    # between 30..50
    (claim("000-fig4-40-matches-75", {"lab": [40.0, 40.0, 40.0]}), verdicts.HOLDS),
    (claim("000-fig4-40-matches-75", {"lab": [40.0, 30.0, 100.0]}), verdicts.NOT_REPRODUCED),
    (claim("000-fig4-40-matches-75", {"lab": [45.0, 30.0, 50.0]}), verdicts.INCONCLUSIVE),
])
def test_evaluate_claims(record, expected):
    out = _evaluate_one(record)
    row = claims.claim(record["claim_id"])
    assert out["status"] == expected
    assert out["claim_origin"] == "paper"
    assert out["item"] == row["where"] and out["row"] == row["sentence"]
    assert out["column"].startswith(row["test"])
    assert out["paper_value"] is None


def test_claim_columns_state_the_band():
    out = {r["claim_id"]: r for r in report.evaluate([
        claim("000-table1-degrades", {"a": [1.0, 2.0]}),
        claim("000-max-gain-43", {"a": [40.0, 41.0], "b": [10.0, 11.0]})])}
    assert out["000-table1-degrades"]["column"] == "greater > 0"
    assert out["000-max-gain-43"]["column"] == "max_between 38.7 to 47.3"
    assert out["000-max-gain-43"]["ours"] == pytest.approx(40.5)  # the decisive (largest) cell


def test_claims_of_our_own_are_labelled_ours(with_ours_claim):
    out = _evaluate_one(claim("001-beats-knn", {"UJI1": [1.0, 1.2, 0.8]}, notebook="20-msta"))
    assert out["claim_origin"] == "ours" and out["status"] == verdicts.HOLDS
    assert report.report_frame([out]).loc[0, "claim_origin"] == "ours"


# ------------------------------------------------------------------------------------
# collect_records, select, counts, scoreboard
# ------------------------------------------------------------------------------------


@pytest.fixture
def two_origins(tmp_path, with_ours_claim):
    """Build: a quick run on real data. Committed: a full run on simulated data and on real data."""
    build, committed = tmp_path / "build", tmp_path / "committed"
    _write_records(build, "10-ctf-transfer", [
        value(8.5, profile="quick", data_kind="simulated"),
        claim("000-table1-degrades", {"a": [1.0]}, profile="quick", data_kind="simulated")])
    _write_records(build, "20-msta", [
        claim("001-beats-knn", {"UJI1": [1.0]}, profile="quick", notebook="20-msta")])
    _write_records(committed, "10-ctf-transfer", [
        value(8.5, data_kind="simulated"),
        value(8.5, data_kind="simulated", effect=REVERSED, row="Narrow Corridor", column="30%"),
        claim("000-table1-degrades", {"a": [1.0, 1.1, 0.9]}, data_kind="simulated"),
        claim("000-max-gain-43", {"a": [30.0, 31.0, 29.0]}, data_kind="simulated")],
        provenance={"commit": "0123456789abcdef", "date": "2026-11-30T10:00:00+00:00",
                    "profile": "full", "seed": 0})
    _write_records(committed, "20-msta", [
        claim("001-beats-knn", {"UJI1": [1.0, 1.2, 0.8]}, notebook="20-msta")],
        provenance={"commit": "fedcba9876543210", "date": "2026-11-29T10:00:00+00:00",
                    "profile": "full", "seed": 0})
    return report.collect_records(build_results=build, committed=committed)


def test_collect_keeps_build_and_committed_apart(two_origins):
    records = two_origins
    assert len(records) == 8
    assert {(r["origin"], r["profile"]) for r in records} == {("build", "quick"), ("committed", "full")}
    build = [r for r in records if r["origin"] == "build"]
    assert all(r["status"] == verdicts.NOT_JUDGED and r["commit"] == "" for r in build)
    committed = [r for r in records if r["origin"] == "committed"]
    assert {r["commit"] for r in committed if r["notebook"] == "10-ctf-transfer"} == {"0123456789abcdef"}
    statuses = sorted(r["status"] for r in committed)
    assert statuses == sorted([verdicts.MAGNITUDE, verdicts.MAGNITUDE, verdicts.HOLDS,
                               verdicts.NOT_REPRODUCED, verdicts.HOLDS])
    frame = report.report_frame(records)
    assert list(frame.columns) == report.REPORT_COLUMNS and len(frame) == len(records)


def test_simulated_committed_values_are_never_reproduced(two_origins):
    simulated = [r for r in two_origins if r["kind"] == "value" and r["data_kind"] == "simulated"]
    assert simulated and not any(r["status"] in (verdicts.REPRODUCED, verdicts.DIRECTION)
                                 for r in simulated)


def test_select_filters_on_every_field(two_origins):
    records = two_origins
    assert {r["paper"] for r in report.select(records, paper="001")} == {"001"}
    assert len(report.select(records, paper="001")) == 2
    assert len(report.select(records, profile="quick")) == 3
    assert len(report.select(records, data_kind="real")) == 2
    assert len(report.select(records, origin="committed", data_kind="simulated")) == 4
    assert report.select(records, paper="004") == []
    assert report.select(records) == records


def test_status_counts_list_every_status(two_origins):
    counts = report.status_counts(two_origins)
    assert list(counts) == list(verdicts.STATUSES)
    assert sum(counts.values()) == len(two_origins)
    assert counts[verdicts.NOT_JUDGED] == 3 and counts[verdicts.REPRODUCED] == 0


def test_split_counts_never_add_profiles_kinds_or_origins(two_origins):
    rows = report.split_counts(two_origins)
    keys = [(r["data_kind"], r["profile"], r["origin"]) for r in rows]
    assert len(keys) == len(set(keys))
    # real before simulated; within each, committed full runs before this build's quick runs
    assert keys == [("real", "full", "committed"), ("real", "quick", "build"),
                    ("simulated", "full", "committed"), ("simulated", "quick", "build")]
    assert sum(r["rows"] for r in rows) == len(two_origins)
    for row in rows:
        assert row["rows"] == sum(row[s] for s in verdicts.STATUSES)
        if row["profile"] == "quick":
            assert row["rows"] == row[verdicts.NOT_JUDGED]


def test_scoreboard_per_paper_and_data_kind(two_origins):
    board = report.scoreboard(two_origins)
    assert [(r["paper"], r["data_kind"]) for r in board] == [("000", "simulated"), ("001", "real")]
    ctf = board[0]
    assert ctf["rows"] == 6 and ctf[verdicts.MAGNITUDE] == 2 and ctf[verdicts.NOT_JUDGED] == 2
    assert ctf[verdicts.REPRODUCED] == 0 and ctf[verdicts.NOT_REPRODUCED] == 1


def test_corrupt_report_file_names_the_file(tmp_path):
    bad = tmp_path / "build" / "x"
    bad.mkdir(parents=True)
    (bad / "report.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="report.json"):
        report.collect_records(tmp_path / "build", tmp_path / "none")


@pytest.mark.parametrize("change, field", [
    ({"profile": "fast"}, "profile"),
    ({"data_kind": "measured"}, "data_kind"),
    ({"kind": "verdict"}, "kind"),
])
def test_bad_records_name_file_and_field(tmp_path, change, field):
    _write_records(tmp_path / "build", "10-ctf-transfer", [{**value(8.5), **change}])
    with pytest.raises(DataFormatError) as info:
        report.collect_records(tmp_path / "build", tmp_path / "none")
    assert info.value.field == field and "report.json" in str(info.value)


def test_old_claim_records_are_refused(tmp_path):
    """A claim without claim_id (the format before the registry) is an error, not a verdict."""
    old = {"kind": "claim", "paper": "000", "item": "Table I", "row": "text", "column": "verdict",
           "ours": True, "direction_holds": True, "profile": "full", "data_kind": "real"}
    _write_records(tmp_path / "build", "10-ctf-transfer", [old])
    with pytest.raises(DataFormatError, match="claim_id"):
        report.collect_records(tmp_path / "build", tmp_path / "none")


# ------------------------------------------------------------------------------------
# `wiloc report`
# ------------------------------------------------------------------------------------


def _cli_dirs(tmp_path, two_origins_dirs=None):
    build, committed = tmp_path / "build", tmp_path / "committed"
    return ["--build-results", str(build), "--committed", str(committed)]


@pytest.fixture
def report_dirs(tmp_path, two_origins):
    """The folders of the two_origins fixture, as `wiloc report` options."""
    return _cli_dirs(tmp_path)


def test_cli_report_prints_rows_and_split_counts_never_a_total(report_dirs, capsys):
    from wiloc_core import cli

    assert cli.main(["report", *report_dirs]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["paper", "kind", "item"]
    counts = out.split("never added across them):", 1)[1].strip().splitlines()
    assert [line.split()[:3] for line in counts] == [
        ["real", "full", "committed"], ["real", "quick", "build"],
        ["simulated", "full", "committed"], ["simulated", "quick", "build"]]
    assert "1 claim holds" in counts[0] and "1 not judged" in counts[1]
    assert "8 rows" not in out, "the report must not print one count over every row"
    assert "ours" in out  # the claim we add ourselves is labelled


@pytest.mark.parametrize("options, rows, groups", [
    (["--paper", "001"], 2, 2),
    (["--paper", "1", "--profile", "full"], 1, 1),          # paper numbers are zero-padded
    (["--profile", "quick"], 3, 2),
    (["--data-kind", "simulated", "--origin", "committed"], 4, 1),
    (["--paper", "000", "--data-kind", "real"], 0, 0),
])
def test_cli_report_filters(report_dirs, capsys, options, rows, groups):
    from wiloc_core import cli

    assert cli.main(["report", *report_dirs, *options]) == 0
    out = capsys.readouterr().out
    if rows == 0:
        assert out.startswith("No report rows match paper 000, data kind real")
        return
    body, counts = out.split("Counts by data kind", 1)
    assert body.startswith("Rows with ")
    assert len([line for line in body.splitlines()[2:] if line.strip()]) == rows
    assert len([line for line in counts.splitlines()[1:] if line.strip()]) == groups
    assert cli.main(["report", *report_dirs, *options, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == rows
    assert {"paper", "status", "profile", "data_kind", "origin", "claim_origin"} <= set(records[0])


def test_cli_report_rejects_unknown_filter_values(report_dirs, capsys):
    from wiloc_core import cli

    with pytest.raises(SystemExit):
        cli.main(["report", *report_dirs, "--data-kind", "measured"])
    assert "invalid choice" in capsys.readouterr().err


def test_cli_report_with_no_results(tmp_path, capsys):
    from wiloc_core import cli

    assert cli.main(["report", *_cli_dirs(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("No results yet")


def test_cli_report_ends_quietly_when_the_reader_closes_the_pipe(tmp_path):
    """`wiloc report | head` must exit 0 without a BrokenPipeError traceback."""
    import subprocess
    import sys

    many = [value(8.5 + i / 1000, profile="quick") for i in range(1500)]
    _write_records(tmp_path / "build", "10-ctf-transfer", many)
    command = [sys.executable, "-m", "wiloc_core.cli", "report", *_cli_dirs(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()  # like `head -1`: stop reading after one line
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 0, stderr
    assert first.startswith(b"paper")
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_changes_under_results_do_not_make_a_run_dirty(tmp_path, monkeypatch):
    """Committed results are outputs: editing them leaves the tree clean; editing code does not."""
    import subprocess

    from wiloc_core import paths
    from wiloc_core.results import git_commit

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True,
                       env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                            "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(tmp_path)})

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.csv").write_text("x\n1\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "init")
    monkeypatch.setattr(paths, "repo_root", lambda: tmp_path)
    (tmp_path / "results" / "a.csv").write_text("x\n2\n")
    commit, dirty = git_commit()
    assert len(commit) == 40 and not dirty
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit()[1] is True


def test_training_devices_go_to_provenance_only(tmp_path):
    """Where networks trained is provenance, like the machine: never summary or tables."""
    from wiloc_core.results import ResultSet

    res = ResultSet("07-demo", profile="quick", seed=0, data_kind="real", out_dir=tmp_path)
    assert res.devices(["cpu", "cuda:0 (NVIDIA H200)", "cpu"]) == ["cpu", "cuda:0 (NVIDIA H200)"]
    res.save()
    assert json.loads((tmp_path / "provenance.json").read_text())["devices"] == [
        "cpu", "cuda:0 (NVIDIA H200)"]
    assert "cuda" not in (tmp_path / "summary.json").read_text()


def test_sittings_go_to_provenance_only(tmp_path):
    from wiloc_core.results import ResultSet

    res = ResultSet("07-demo", profile="full", seed=0, data_kind="real", out_dir=tmp_path)
    sitting = {"host": "hostA", "pid": 11, "started": "2026-12-01T10:00:00+00:00", "tasks": 2,
               "task_seconds": 6500.0, "wall_s": 7200.0, "last_finished": "2026-12-01T12:00:00+00:00"}
    res.sittings([sitting])
    res.save()
    assert json.loads((tmp_path / "provenance.json").read_text())["sittings"] == [sitting]
    assert "hostA" not in (tmp_path / "summary.json").read_text()

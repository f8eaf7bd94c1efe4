"""The ``wiloc data`` subcommand."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wiloc_core.data import cli
from wiloc_core.data import resolve as resolve_module
from wiloc_core.paths import repo_root

_ORIGINAL_WILOC_DATA = os.environ.get("WILOC_DATA", "").strip()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("WILOC_DATA", str(empty))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "cache"))
    resolve_module.clear_hash_cache()
    return empty


@pytest.fixture
def real_data(monkeypatch) -> Path:
    """The real data folder: WILOC_DATA, else ../shared/data next to the repository."""
    folder = Path(_ORIGINAL_WILOC_DATA) if _ORIGINAL_WILOC_DATA else repo_root().parent / "shared" / "data"
    if not folder.is_dir():
        pytest.skip(f"real data unavailable: {folder} does not exist (set WILOC_DATA to the data folder)")
    monkeypatch.setenv("WILOC_DATA", str(folder))
    return folder


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_subparser_registers_data_with_a_handler():
    parser = argparse.ArgumentParser(prog="wiloc")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", "verify", "UJI1", "--json"])
    assert (args.action, args.target, args.json, args.func) == ("verify", "UJI1", True, cli.run)


def test_list_json_reports_missing_files(capsys):
    code, out, _ = _run(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 12
    assert all(row["where"] is None for row in rows)


def test_list_and_verify_real_files(real_data, capsys):
    code, out, _ = _run(capsys, "list")
    assert code == 0 and "UJI1" in out and "WILOC_DATA" in out
    code, out, _ = _run(capsys, "verify", "--json")
    assert code == 0 and {row["sha256"] for row in json.loads(out)} == {"ok"}


def test_verify_reports_a_mismatch_with_exit_code_1(isolated, capsys):
    (isolated / "AP_positions.txt").write_text("not the positions\n")
    code, out, _ = _run(capsys, "verify")
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("rtt_ap_positions"))
    assert "mismatch" in line and "expected 80145de8" in line
    assert "missing" in out


def test_info_on_real_dataset_json(real_data, capsys):
    code, out, _ = _run(capsys, "info", "TUT5", "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["train_shape"], info["test_shape"], info["where"], info["sha256"]) == (
        [446, 489], [982, 489], "WILOC_DATA", "ok")
    assert info["floors"] == [0, 1, 2] and len(info["extent_m"]) == 2


def test_info_on_a_bad_file_prints_one_line_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "broken.mat"
    bad.write_bytes(b"definitely not a MATLAB file" * 10)
    code, out, err = _run(capsys, "info", str(bad))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "(file)" in lines[0]


def test_info_on_a_bad_file_has_no_traceback_in_a_real_process(tmp_path):
    import scipy.io

    bad = tmp_path / "nodb.mat"
    scipy.io.savemat(bad, {"something_else": [[1.0]]})
    result = subprocess.run([sys.executable, "-m", "wiloc_core.data.cli", "info", str(bad)],
                            capture_output=True, text=True, cwd=repo_root(), timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "'database'" in result.stderr and str(bad) in result.stderr


def test_info_and_fetch_without_target_and_unknown_names(capsys):
    for argv in (["info"], ["fetch"], ["info", "NOT_A_DATASET"], ["fetch", "LIB1"]):
        code, _, err = _run(capsys, *argv)
        assert code == 2 and len(err.strip().splitlines()) == 1, argv

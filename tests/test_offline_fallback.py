"""Without real data, the fingerprint chapter runs on simulated stand-ins and says so on the page."""

import json

import pytest

from wiloc_core import runner

STEM = "00-fingerprint-datasets"


@pytest.mark.slow
def test_fingerprint_chapter_falls_back_to_simulated_data(tmp_path, monkeypatch):
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("WILOC_DATA", str(empty))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "no-cache"))
    monkeypatch.setenv("WILOC_BUILD", str(tmp_path / "build"))
    result = runner.run_notebook(STEM, {"seed": 0}, profile="quick", progress=False)
    summary = json.loads((result.results / "summary.json").read_text())
    assert summary["data_kind"] == "simulated"
    assert json.loads((result.results / "report.json").read_text()) == []  # nothing compared
    page = result.executed.read_text()
    assert ":::{important}" in page and "simulated stand-ins" in page

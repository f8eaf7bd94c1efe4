"""The runner and the `wiloc` command, on tiny notebooks executed for real by Papermill."""

import json

import pytest

from wiloc_core import cli, runner

TINY = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Tiny

```{code-cell} ipython3
:tags: [parameters]

profile = "quick"
seed = 0
divisor = 1
```

```{code-cell} ipython3
answer = 10 / divisor
print("answer", answer, profile)
```
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "50-tiny.md"
    path.write_text(TINY)
    return path


def test_run_injects_parameters_and_records_time(tiny, isolated_build):
    result = runner.run_notebook(tiny, {"divisor": 4}, profile="full", progress=False)
    text = result.executed.read_text()
    assert "answer 2.5 full" in text
    executed = json.loads(text)
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "hide-input" in injected[0]["metadata"]["tags"]
    timings = json.loads((isolated_build / "timings.json").read_text())
    assert timings["notebooks"]["50-tiny"]["profile"] == "full"
    assert timings["total_seconds"] == timings["notebooks"]["50-tiny"]["seconds"]


@pytest.mark.parametrize("profile, given, expected", [
    ("quick", None, runner.DEFAULT_CELL_TIMEOUT_S),
    ("full", None, None),  # full-profile cells train for hours
    ("full", 60, 60),
])
def test_cell_time_limit_depends_on_the_profile(tiny, isolated_build, monkeypatch, profile,
                                               given, expected):
    import papermill

    seen = {}

    def fake_execute(source, executed, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    with pytest.raises(RuntimeError, match="stop here"):
        runner.run_notebook(tiny, profile=profile, progress=False, cell_timeout_s=given)
    assert seen["execution_timeout"] == expected


def test_cli_failure_names_the_cell(tiny, isolated_build, capsys):
    code = cli.main(["run", str(tiny), "-p", "divisor", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "ZeroDivisionError" in err and "cell" in err and "answer = 10 / divisor" in err


def test_parameter_values_parse_as_json_or_text():
    assert runner.parse_parameter_value("3") == 3
    assert runner.parse_parameter_value("[1, 2]") == [1, 2]
    assert runner.parse_parameter_value("null") is None
    assert runner.parse_parameter_value("manhattan") == "manhattan"


def test_unknown_notebook_is_a_clear_error(capsys):
    assert cli.main(["run", "no-such-notebook", "--no-progress"]) == 1
    assert "parameter 'notebook'" in capsys.readouterr().err


def test_report_json_has_the_documented_fields(isolated_build, capsys, monkeypatch, tmp_path):
    from wiloc_core import paths

    monkeypatch.setattr(paths, "committed_results_dir", lambda: tmp_path / "none")
    folder = isolated_build / "results" / "07-demo"
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps([{
        "kind": "claim", "paper": "001", "item": "§4.2", "row": "a claim", "column": "verdict",
        "ours": True, "unit": "", "profile": "quick", "seed": 0, "data_kind": "real",
        "notebook": "07-demo", "note": "", "direction_holds": True}]))
    assert cli.main(["report", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert {"paper", "item", "row", "column", "unit", "paper_value", "ours", "profile",
            "data_kind", "status"} <= set(record)
    assert record["status"] == "direction reproduced" and record["paper"] == "001"


def _fake_results(build, profile):
    folder = build / "results" / "07-demo"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"profile": profile}))
    (folder / "table.csv").write_text("a\n1\n")
    (folder / "figure.svg").write_text("<svg/>")
    return folder


def test_results_commit_copies_a_full_run_without_svg(isolated_build, monkeypatch, tmp_path):
    from wiloc_core import paths

    monkeypatch.setattr(paths, "committed_results_dir", lambda: tmp_path / "committed")
    _fake_results(isolated_build, "full")
    assert cli.main(["results", "commit", "07-demo"]) == 0
    assert sorted(p.name for p in (tmp_path / "committed" / "07-demo").iterdir()) == [
        "summary.json", "table.csv"]


def test_results_commit_refuses_a_quick_run(isolated_build, monkeypatch, tmp_path, capsys):
    from wiloc_core import paths

    monkeypatch.setattr(paths, "committed_results_dir", lambda: tmp_path / "committed")
    _fake_results(isolated_build, "quick")
    assert cli.main(["results", "commit", "07-demo"]) == 2
    assert "expected 'full'" in capsys.readouterr().err
    assert not (tmp_path / "committed").exists()


def test_notebook_time_is_added_to_provenance(tmp_path):
    provenance = tmp_path / "provenance.json"
    provenance.write_text(json.dumps({"commit": "abc", "duration_s": 1.0}))
    runner._add_notebook_time(provenance, 12.345)
    assert json.loads(provenance.read_text()) == {"commit": "abc", "duration_s": 1.0,
                                                  "notebook_seconds": 12.35}
    runner._add_notebook_time(tmp_path / "missing.json", 1.0)  # no provenance: nothing to do
    assert not (tmp_path / "missing.json").exists()

"""The runner and the `wiloc` command, on tiny notebooks executed for real by Papermill."""

import hashlib
import json
import os
import time
from importlib import metadata

import pytest

from wiloc_core import cli, display, runner

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
    assert result.label == "custom"  # divisor differs from the notebook's default
    assert timings["notebooks"]["50-tiny"]["profile"] == "custom"
    assert timings["total_seconds"] == timings["notebooks"]["50-tiny"]["seconds"]


@pytest.mark.parametrize("profile, given, expected", [
    ("quick", None, runner.DEFAULT_CELL_TIMEOUT_S),
    ("full", None, None),  # full-profile cells train for hours
    ("paper", None, None),
    ("full", 60, 60),
    ("quick", 2, 2),
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


def test_quick_cell_limit_is_a_few_minutes():
    assert 60 <= runner.DEFAULT_CELL_TIMEOUT_S <= 300


SLEEPY = TINY.replace("answer = 10 / divisor", "import time\ntime.sleep(60)  # stuck")


def test_a_stuck_cell_fails_naming_the_chapter_and_the_cell(tmp_path, isolated_build, capsys):
    path = tmp_path / "51-sleepy.md"
    path.write_text(SLEEPY)
    started = time.perf_counter()
    code = cli.main(["run", str(path), "--no-progress", "--cell-timeout", "2"])
    elapsed = time.perf_counter() - started
    err = capsys.readouterr().err
    assert code == 1
    assert "51-sleepy.md" in err and "code cell [2]" in err and "import time" in err
    assert "2 s per-cell limit" in err
    assert elapsed < 40, f"a 2 s limit took {elapsed:.0f} s to end the run"


def test_timeout_is_a_notebook_failure(tmp_path, isolated_build):
    path = tmp_path / "51-sleepy.md"
    path.write_text(SLEEPY)
    with pytest.raises(runner.NotebookFailed, match="CellTimeoutError") as failure:
        runner.run_notebook(path, progress=False, cell_timeout_s=3)
    assert failure.value.cell_index == 2 and failure.value.ename == "CellTimeoutError"


def test_cli_failure_names_the_cell(tiny, isolated_build, capsys):
    code = cli.main(["run", str(tiny), "-p", "divisor", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "ZeroDivisionError" in err and "cell" in err and "answer = 10 / divisor" in err


def test_parameter_values_parse_as_json_or_text():
    assert runner.parse_parameter_value("3") == 3
    assert runner.parse_parameter_value("[1, 2]") == [1, 2]
    assert runner.parse_parameter_value("null") is None
    assert runner.parse_parameter_value("False") is False
    assert runner.parse_parameter_value("True") is True and runner.parse_parameter_value("None") is None
    assert runner.parse_parameter_value("false") is False and runner.parse_parameter_value("lobby") == "lobby"
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
        "kind": "value", "paper": "001", "item": "Table 1", "row": "DNN",
        "column": "UJIIndoorLoc MAE", "ours": 14.0, "unit": "m", "profile": "quick", "seed": 0,
        "data_kind": "real", "notebook": "07-demo", "note": ""}]))
    assert cli.main(["report", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert {"paper", "item", "row", "column", "unit", "paper_value", "ours", "profile",
            "data_kind", "status"} <= set(record)
    # Within tolerance, but a quick run is never judged.
    assert record["status"] == "not judged (quick or custom run)" and record["paper"] == "001"


# -- honest labels: injected parameters, custom runs, provenance --------------------------

RESULTS = TINY.replace('divisor = 1\n```', 'divisor = 1\ndataset = None\n```').replace(
    'answer = 10 / divisor\nprint("answer", answer, profile)', """\
from wiloc_core.data.resolve import locate, record_read
from wiloc_core.display import interactive_session
from wiloc_core.results import ResultSet

res = ResultSet("52-results", profile=profile, seed=seed, data_kind="simulated",
                parameters={"divisor": divisor})
if dataset:
    locate(dataset)
else:
    record_read("demo-simulated", "ab" * 32)
res.value("answer", 10 / divisor)
res.value("interactive", interactive_session())
res.compare("001", "Table 1", "DNN", "UJIIndoorLoc MAE", 10 / divisor)
res.save()""")


@pytest.fixture
def results_notebook(tmp_path):
    path = tmp_path / "52-results.md"
    path.write_text(RESULTS)
    assert "res.save()" in RESULTS and "dataset = None" in RESULTS
    return path


def _read(folder, name):
    return json.loads((folder / name).read_text())


def test_batch_runs_build_no_live_widgets(results_notebook, isolated_build, monkeypatch):
    monkeypatch.delenv(display.BATCH_ENV, raising=False)
    result = runner.run_notebook(results_notebook, profile="full", progress=False)
    assert _read(result.results, "summary.json")["values"]["interactive"]["value"] is False
    assert display.BATCH_ENV not in os.environ  # only the kernel's environment had it
    assert display.interactive_session()  # a person's kernel (no WILOC_BATCH) builds them
    monkeypatch.setenv(display.BATCH_ENV, "1")
    assert not display.interactive_session()


def test_unmodified_run_keeps_its_profile_and_records_what_was_injected(results_notebook,
                                                                      isolated_build):
    # seed is an execution parameter; divisor = 1 is the notebook's own default.
    result = runner.run_notebook(results_notebook, {"seed": 3, "divisor": 1}, profile="full",
                                 progress=False)
    assert result.label == "full"
    summary = _read(result.results, "summary.json")
    provenance = _read(result.results, "provenance.json")
    assert summary["profile"] == "full" and summary["overrides"] == {}
    assert provenance["injected_parameters"] == {"seed": 3, "divisor": 1, "profile": "full"}
    assert provenance["profile"] == "full"
    assert all(r["profile"] == "full" for r in _read(result.results, "report.json"))


def test_a_changed_parameter_makes_the_run_custom_everywhere(results_notebook, isolated_build):
    result = runner.run_notebook(results_notebook, {"divisor": 4}, profile="full", progress=False)
    assert result.label == "custom"
    for name in ("summary.json", "provenance.json"):
        part = _read(result.results, name)
        assert part["profile"] == "custom" and part["base_profile"] == "full", name
        assert part["overrides"] == {"divisor": {"preset": 1, "run": 4}}, name
    (record,) = _read(result.results, "report.json")
    assert record["profile"] == "custom"
    assert _read(result.results, "provenance.json")["injected_parameters"]["divisor"] == 4
    timings = json.loads((isolated_build / "timings.json").read_text())
    assert timings["notebooks"]["52-results"]["profile"] == "custom"


def test_custom_parameters_rule():
    defaults = {"profile": "quick", "seed": 0, "n_sweeps": None, "snr_db": 30.0, "k": [1, 2]}
    assert runner.custom_parameters({"profile": "full", "seed": 4, "n_jobs": 2}, defaults) == {}
    assert runner.custom_parameters({"snr_db": 30, "k": (1, 2)}, defaults) == {}
    assert runner.custom_parameters({"n_sweeps": 10, "snr_db": 20.0}, defaults) == {
        "n_sweeps": {"preset": None, "run": 10}, "snr_db": {"preset": 30.0, "run": 20.0}}
    assert runner.custom_parameters({"not_declared": 1}, defaults) == {}
    # With the profile's settings, a None default compares against the preset value.
    preset = {"n_sweeps": 10}
    assert runner.custom_parameters({"n_sweeps": 10.0}, defaults, preset) == {}
    assert runner.custom_parameters({"n_sweeps": 3}, defaults, preset) == {
        "n_sweeps": {"preset": 10, "run": 3}}
    assert runner.preset_for("01-radio-channel", "full")["n_sweeps"] == 10
    assert runner.preset_for("99-reproduction-report", "full") is None


def test_label_run_keeps_the_notebooks_own_overrides_and_leaves_stale_files(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    own = {"n_sweeps": {"preset": 3, "run": 5}}
    for name in ("summary.json", "provenance.json"):
        (folder / name).write_text(json.dumps(
            {"profile": "custom", "base_profile": "quick", "overrides": own}))
    (folder / "report.json").write_text(json.dumps([{"profile": "custom"}]))
    injected = {"n_sweeps": 5, "profile": "quick"}
    custom = {"n_sweeps": {"preset": None, "run": 5}}
    assert runner.label_run(folder, injected, custom) == "custom"
    assert _read(folder, "summary.json")["overrides"] == own  # the notebook knows the preset
    assert _read(folder, "summary.json")["base_profile"] == "quick"
    assert _read(folder, "provenance.json")["injected_parameters"] == injected
    before = (folder / "summary.json").read_text()
    # Files older than the run are another run's: left alone (the run is still custom).
    assert runner.label_run(folder, {"x": 1}, {"x": {}}, since=time.time() + 60) == "custom"
    assert runner.label_run(folder, {"seed": 1}, {}, since=time.time() + 60) == "?"
    assert (folder / "summary.json").read_text() == before


def test_provenance_holds_package_versions_and_data_digests(results_notebook, isolated_build,
                                                            monkeypatch):
    """A real small file through the data layer when WILOC_DATA has it, else record_read."""
    from wiloc_core import paths
    from wiloc_core.data import resolve
    from wiloc_core.errors import DatasetNotFoundError

    folder = os.environ.get("WILOC_DATA") or str(paths.repo_root().parent / "shared" / "data")
    monkeypatch.setenv("WILOC_DATA", folder)
    try:
        located = resolve.locate("rtt_ap_positions")
    except DatasetNotFoundError:
        located = None
    parameters = {"dataset": "rtt_ap_positions"} if located else {}
    result = runner.run_notebook(results_notebook, parameters, profile="full", progress=False)
    provenance = _read(result.results, "provenance.json")
    assert provenance["packages"]["numpy"] == metadata.version("numpy")
    assert provenance["packages"]["wiloc"] == metadata.version("wiloc")
    if located:
        digest = hashlib.sha256(located.path.read_bytes()).hexdigest()
        assert provenance["data"] == {"rtt_ap_positions": digest}
    else:
        assert provenance["data"] == {"demo-simulated": "ab" * 32}
    assert provenance["notebook_seconds"] > 0 and provenance["commit"]


# -- wiloc results commit: only unmodified full runs --------------------------------------

def _fake_results(build, profile="full", *, overrides=None, injected=None, dirty=False,
                  provenance=True, record_profile=None):
    folder = build / "results" / "07-demo"
    folder.mkdir(parents=True)
    overrides = overrides or {}
    (folder / "summary.json").write_text(json.dumps({"profile": profile, "overrides": overrides}))
    (folder / "report.json").write_text(json.dumps([{"profile": record_profile or profile}]))
    if provenance:
        record = {"profile": profile, "overrides": overrides, "commit": "0123456789abcdef",
                  "dirty": dirty, "seed": 0}
        if injected is not False:
            record["injected_parameters"] = injected or {"profile": profile}
        (folder / "provenance.json").write_text(json.dumps(record))
    (folder / "table.csv").write_text("a\n1\n")
    (folder / "figure.svg").write_text("<svg/>")
    return folder


@pytest.fixture
def committed(monkeypatch, tmp_path):
    from wiloc_core import paths

    monkeypatch.setattr(paths, "committed_results_dir", lambda: tmp_path / "committed")
    return tmp_path / "committed"


def test_results_commit_copies_a_full_run_without_svg(isolated_build, committed):
    _fake_results(isolated_build, "full", injected={"profile": "full", "seed": 2, "n_jobs": 2})
    assert cli.main(["results", "commit", "07-demo"]) == 0
    assert sorted(p.name for p in (committed / "07-demo").iterdir()) == [
        "provenance.json", "report.json", "summary.json", "table.csv"]


@pytest.mark.parametrize("kwargs, expected", [
    ({"profile": "quick"}, "summary.json: field 'profile': expected 'full', found 'quick'"),
    ({"profile": "paper"}, "expected 'full', found 'paper'"),
    ({"profile": "custom", "overrides": {"epochs": {"preset": 40, "run": 2}}},
     "field 'overrides': expected none, found epochs"),
    ({"overrides": {"epochs": {"preset": 40, "run": 2}}}, "field 'overrides'"),
    ({"injected": {"profile": "full", "epochs": 2}}, "injected parameters change results: epochs"),
    ({"injected": False}, "not run by `wiloc run`"),
    ({"provenance": False}, "provenance.json: not found"),
    ({"record_profile": "custom"}, "report.json: records with profile custom"),
    ({"dirty": True}, "uncommitted changes"),
])
def test_results_commit_refuses_what_is_not_an_unmodified_full_run(
        isolated_build, committed, capsys, kwargs, expected):
    _fake_results(isolated_build, **kwargs)
    assert cli.main(["results", "commit", "07-demo"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "only unmodified full-profile runs" in err
    assert not committed.exists()


def test_results_commit_takes_a_dirty_tree_only_when_told(isolated_build, committed):
    _fake_results(isolated_build, dirty=True)
    assert cli.main(["results", "commit", "07-demo", "--allow-dirty"]) == 0
    assert (committed / "07-demo" / "table.csv").exists()


def test_results_commit_has_no_allow_quick(isolated_build, committed):
    _fake_results(isolated_build, "quick")
    with pytest.raises(SystemExit):
        cli.main(["results", "commit", "07-demo", "--allow-quick"])
    assert not committed.exists()


def test_results_commit_judges_injected_parameters_against_the_full_preset(isolated_build):
    # 01-radio-channel declares snr_db = None: the full preset's 30 dB is not a change.
    folder = isolated_build / "results" / "01-radio-channel"
    folder.mkdir(parents=True)
    for snr_db, expected in ((30, []), (20.0, ["change results: snr_db"])):
        for name in ("summary.json", "provenance.json"):
            (folder / name).write_text(json.dumps({
                "profile": "full", "overrides": {},
                "injected_parameters": {"profile": "full", "snr_db": snr_db, "n_jobs": 2}}))
        problems = cli.commit_refusals(folder)
        assert len(problems) == len(expected)
        assert all(e in p for e, p in zip(expected, problems, strict=True))


def test_committed_caption_comes_from_provenance(tmp_path):
    from wiloc_core import committed

    (tmp_path / "07-demo").mkdir()
    (tmp_path / "07-demo" / "summary.json").write_text(json.dumps({"data_kind": "real", "seed": 1}))
    (tmp_path / "07-demo" / "provenance.json").write_text(json.dumps({
        "profile": "custom", "base_profile": "full", "seed": 1, "commit": "0123456789abcdef",
        "dirty": True, "date": "2026-01-02T03:04:05+00:00", "machine": "vm (x86_64, 2 cores)",
        "overrides": {"epochs": {"preset": 40, "run": 2}},
        "packages": {"numpy": "2.1.0", "torch": "absent"}}))
    caption = committed.load("07-demo", tmp_path).caption()
    assert "custom-profile run" in caption and "`epochs` 40 → 2" in caption
    assert "commit `0123456789` with uncommitted changes" in caption
    assert "2026-01-02" in caption and "vm (x86_64, 2 cores)" in caption
    assert "numpy 2.1.0" in caption and "torch" not in caption


def test_notebook_time_is_added_to_provenance(tmp_path):
    provenance = tmp_path / "provenance.json"
    provenance.write_text(json.dumps({"commit": "abc", "duration_s": 1.0}))
    runner._add_notebook_time(provenance, 12.345)
    assert json.loads(provenance.read_text()) == {"commit": "abc", "duration_s": 1.0,
                                                  "notebook_seconds": 12.35}
    runner._add_notebook_time(tmp_path / "missing.json", 1.0)  # no provenance: nothing to do
    assert not (tmp_path / "missing.json").exists()


def test_results_reevaluate_rebuilds_records_of_a_copy(tmp_path, monkeypatch):
    """`wiloc results reevaluate` rebuilds report.json from the committed tables only."""
    import shutil

    from wiloc_core import cli, paths

    committed = paths.committed_results_dir() / "10-ctf-transfer"
    root = tmp_path / "results"
    shutil.copytree(committed, root / "10-ctf-transfer")
    (root / "10-ctf-transfer" / "report.json").write_text("[]")
    monkeypatch.setattr(paths, "committed_results_dir", lambda: root)
    assert cli.main(["results", "reevaluate", "10-ctf-transfer"]) == 0
    rebuilt = json.loads((root / "10-ctf-transfer" / "report.json").read_text())
    assert rebuilt == json.loads((committed / "report.json").read_text())
    assert cli.main(["results", "reevaluate", "10-ctf-transfer"]) == 0
    shutil.rmtree(root / "10-ctf-transfer")
    (root / "10-ctf-transfer").mkdir()
    assert cli.main(["results", "reevaluate", "10-ctf-transfer"]) == 2


def test_results_commit_keeps_the_replaced_runs_records_once(isolated_build, committed):
    import shutil

    _fake_results(isolated_build, "full")
    assert cli.main(["results", "commit", "07-demo"]) == 0
    first = json.loads((committed / "07-demo" / "report.json").read_text())
    shutil.rmtree(isolated_build / "results" / "07-demo")
    _fake_results(isolated_build, "full", injected={"profile": "full", "seed": 1})
    assert cli.main(["results", "commit", "07-demo"]) == 0
    kept = committed / "07-demo"
    assert json.loads((kept / "previous_report.json").read_text()) == first
    assert json.loads((kept / "previous_provenance.json").read_text())["commit"] == "0123456789abcdef"
    # a third commit keeps only the second run, never a chain of older ones
    shutil.rmtree(isolated_build / "results" / "07-demo")
    folder = _fake_results(isolated_build, "full")
    (folder / "previous_report.json").write_text("[]")  # a stray copy in the build is ignored
    assert cli.main(["results", "commit", "07-demo"]) == 0
    assert json.loads((kept / "previous_report.json").read_text()) == first

"""Committed runs and the page story: which run the prose describes, glued once per key."""

import json

import pandas as pd
import pytest

from wiloc_core import committed
from wiloc_core.errors import DataFormatError
from wiloc_core.results import ResultSet

PROVENANCE = {"commit": "0123456789abcdef", "dirty": False, "date": "2026-11-23T13:56:14+00:00",
              "machine": "vm (x86_64, 2 cores, Linux)", "profile": "full", "seed": 0,
              "duration_s": 3600.0,
              "reevaluated": {"date": "2026-12-01T10:00:00+00:00", "commit": "fedcba9876543210"}}


def _commit(root, stem="07-demo", provenance=PROVENANCE):
    folder = root / stem
    folder.mkdir(parents=True)
    summary = {"notebook": stem, "profile": "full", "seed": 0, "data_kind": "simulated",
               "parameters": {"n_seeds": 3},
               "values": {"gain": {"value": 12.5, "unit": "%"}, "share": {"value": 96.6, "unit": "%"}}}
    (folder / "summary.json").write_text(json.dumps(summary))
    if provenance is not None:
        (folder / "provenance.json").write_text(json.dumps(provenance))
    pd.DataFrame({"size": [0.1, 0.4], "rmse_cm": [40.0, 20.0]}).to_csv(folder / "runs.csv", index=False)
    return folder


def _res(tmp_path, profile="quick", overrides=None):
    return ResultSet("07-demo", profile=profile, seed=0, data_kind="simulated",
                     out_dir=tmp_path / "build", overrides=overrides)


class Glue:
    """Stands in for myst-nb's glue: records every key."""

    def __init__(self):
        self.glued = {}

    def __call__(self, name, value):
        assert name not in self.glued
        self.glued[name] = value


def test_load_reads_summary_tables_and_provenance(tmp_path):
    _commit(tmp_path)
    run = committed.load("07-demo", root=tmp_path)
    assert run.profile == "full" and run.seeds == [0, 1, 2]
    assert run.values(["gain", "missing"]) == {"gain": (12.5, "%")}
    assert run.table("runs").rmse_cm.tolist() == [40.0, 20.0]
    assert run.has_table("runs") and not run.has_table("other")
    with pytest.raises(DataFormatError, match="other"):
        run.table("other")
    assert run.records() == []
    assert committed.load("08-none", root=tmp_path) is None


def test_caption_comes_from_provenance_only(tmp_path):
    _commit(tmp_path)
    caption = committed.load("07-demo", root=tmp_path).caption()
    for text in ("full-profile", "seeds [0, 1, 2]", "`0123456789`", "2026-11-23T13:56:14+00:00",
                 "vm (x86_64, 2 cores, Linux)", "60 min", "re-evaluated on 2026-12-01",
                 "`fedcba9876`", "no network was retrained"):
        assert text in caption, text
    custom = {**PROVENANCE, "profile": "custom", "dirty": True}
    custom.pop("reevaluated")
    _commit(tmp_path, "08-custom", custom)
    caption = committed.load("08-custom", root=tmp_path).caption()
    assert caption.startswith("Committed custom-profile run") and "uncommitted changes" in caption
    assert "re-evaluated" not in caption


def test_story_describes_the_committed_run_beside_a_quick_build(tmp_path):
    _commit(tmp_path)
    run = committed.load("07-demo", root=tmp_path)
    res = _res(tmp_path)
    glue = Glue()
    story = committed.Story(res, run, glue=glue)
    assert story.uses_committed and "committed full run, 3 seeds" == story.label
    assert "describe the committed run" in story.caption()
    assert story.table("runs", "build frame").rmse_cm.tolist() == [40.0, 20.0]
    story.glue({"gain": (3.0, "%"), "quick_only": 1},
               {"gain": (12.5, "%"), "share": run.values(["share"])["share"]})
    # plain keys: the committed run; build_ keys: this build; nothing from the build unprefixed
    assert glue.glued == {"build_gain": 3.0, "build_quick_only": 1, "gain": 12.5, "share": 96.6}
    assert story.origin["gain"] == "committed" and story.origin["build_gain"] == "build"
    # the build's summary holds its own values under the plain keys
    assert res.values == {"gain": {"value": 3.0, "unit": "%"}, "quick_only": {"value": 1, "unit": ""}}


def test_story_describes_the_build_when_it_is_full_or_nothing_is_committed(tmp_path):
    _commit(tmp_path)
    run = committed.load("07-demo", root=tmp_path)
    for res, run_ in ((_res(tmp_path, "full"), run), (_res(tmp_path), None)):
        glue = Glue()
        story = committed.Story(res, run_, glue=glue)
        assert not story.uses_committed and story.table("runs", "build frame") == "build frame"
        story.glue({"gain": 3.0}, {"gain": 12.5})
        assert glue.glued == {"build_gain": 3.0, "gain": 3.0}
    # a custom run is not judged either: the committed run stays authoritative
    custom = _res(tmp_path, "full", overrides={"epochs": {"preset": 40, "run": 4}})
    story = committed.Story(custom, run, glue=Glue())
    assert story.uses_committed and "custom" in story.caption()


def test_no_key_is_glued_twice(tmp_path):
    _commit(tmp_path)
    run = committed.load("07-demo", root=tmp_path)
    story = committed.Story(_res(tmp_path), run, glue=Glue())
    story.glue({"gain": 3.0}, {"gain": 12.5})
    with pytest.raises(ValueError, match="gain"):
        story.glue({"gain": 4.0}, {})
    res = _res(tmp_path)
    res.value("gain", 1.0, glue=False)
    with pytest.raises(ValueError, match="already a value"):
        committed.Story(res, run, glue=Glue()).glue({"gain": 3.0}, {"gain": 12.5})


def test_claim_statuses_are_glue_keys():
    records = [{"kind": "claim", "claim_id": "000-max-gain-43", "status": "not reproduced"},
               {"kind": "value", "status": "magnitude only (simulated)"}]
    assert committed.claim_statuses(records) == {"status_000_max_gain_43": "not reproduced"}


def test_the_ctf_chapter_has_a_committed_run_with_current_records():
    run = committed.load("10-ctf-transfer")
    assert run is not None and run.profile == "full"
    records = run.records()
    assert records and all(r["origin"] == "committed" for r in records)
    assert "reevaluated" in run.provenance


def _png(folder, name):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(folder / f"{name}.png")
    plt.close(fig)


def test_committed_figures_are_shown_in_place_of_the_build_s(tmp_path):
    import matplotlib.pyplot as plt
    from IPython.display import Image, Markdown

    folder = _commit(tmp_path)
    _png(folder, "curve")
    run = committed.load("07-demo", root=tmp_path)
    assert run.has_figure("curve") and not run.has_figure("other")
    assert isinstance(run.image("curve"), Image)
    with pytest.raises(DataFormatError, match="other"):
        run.image("other")
    shown = []
    story = committed.Story(_res(tmp_path), run, glue=Glue())
    fig, _ = plt.subplots()
    story.show_figure("curve", fig, display=lambda *items: shown.extend(items))
    # the build's figure is saved and closed; the committed PNG is shown, captioned
    assert (tmp_path / "build" / "curve.png").is_file() and not plt.fignum_exists(fig.number)
    assert isinstance(shown[0], Image) and isinstance(shown[1], Markdown)
    assert "committed full run, 3 seeds" in shown[1].data and "07-demo/curve.png" in shown[1].data
    assert isinstance(story.build_image("curve"), Image)
    # a full build describes itself: its own figure is shown
    shown.clear()
    own = committed.Story(_res(tmp_path, "full"), run, glue=Glue())
    fig, _ = plt.subplots()
    own.show_figure("curve", fig, display=lambda *items: shown.extend(items))
    assert shown == [fig]


def test_glue_summary_reads_the_committed_values_under_the_same_keys(tmp_path):
    _commit(tmp_path)
    run = committed.load("07-demo", root=tmp_path)
    glue = Glue()
    committed.Story(_res(tmp_path), run, glue=glue).glue_summary({"gain": (3.0, "%"), "new": 1.0})
    # "new" is not in the committed summary: glued only with the build_ prefix
    assert glue.glued == {"build_gain": 3.0, "build_new": 1.0, "gain": 12.5}
    glue = Glue()
    committed.Story(_res(tmp_path, "full"), run, glue=glue).glue_summary({"gain": 3.0})
    assert glue.glued == {"build_gain": 3.0, "gain": 3.0}


def test_label_and_caption_read_well_for_a_short_one_seed_run(tmp_path):
    provenance = {**PROVENANCE, "duration_s": 9.5}
    provenance.pop("reevaluated")
    folder = _commit(tmp_path, provenance=provenance)
    summary = json.loads((folder / "summary.json").read_text())
    summary["parameters"] = {}
    (folder / "summary.json").write_text(json.dumps(summary))
    run = committed.load("07-demo", root=tmp_path)
    assert committed.Story(_res(tmp_path), run, glue=Glue()).label == "committed full run, 1 seed"
    assert ", 10 s." in run.caption() and "min" not in run.caption()


def _value_record(ours):
    return {"kind": "value", "paper": "000", "item": "Table I", "row": "Lab", "column": "75%",
            "ours": ours, "unit": "cm", "profile": "full", "data_kind": "real", "seed": 0,
            "notebook": "07-demo"}


def test_verdict_moves_sets_the_replaced_run_beside_this_one(tmp_path):
    folder = _commit(tmp_path)
    (folder / "report.json").write_text(json.dumps([_value_record(8.5)]))  # paper: 8.46 cm
    run = committed.load("07-demo", root=tmp_path)
    assert committed.verdict_moves(run) is None  # nothing kept of an earlier run
    (folder / "previous_report.json").write_text(json.dumps([_value_record(30.0)]))
    (folder / "previous_provenance.json").write_text(json.dumps({"commit": "abc"}))
    moves = committed.verdict_moves(run)
    row = moves.iloc[0]
    assert row["record"] == "Table I · Lab · 75%" and bool(row["moved"])
    assert row["status before"] != row["status now"]
    assert (row["ours before"], row["ours now"]) == (30.0, 8.5)
    assert run.previous_provenance == {"commit": "abc"}


def test_caption_warns_when_simulated_data_came_from_an_older_simulator(tmp_path):
    from wiloc_core.sim import SIMULATOR_VERSION

    _commit(tmp_path, provenance={**PROVENANCE, "simulator_version": SIMULATOR_VERSION - 1})
    old = committed.load("07-demo", root=tmp_path)
    assert old.simulator_version == SIMULATOR_VERSION - 1
    assert f"simulator version {SIMULATOR_VERSION - 1}" in old.caption()
    _commit(tmp_path, "08-demo", provenance={**PROVENANCE, "simulator_version": SIMULATOR_VERSION})
    assert "simulator version" not in committed.load("08-demo", root=tmp_path).caption()
    _commit(tmp_path, "09-demo", provenance=PROVENANCE)  # no version, commit unknown to git
    unknown = committed.load("09-demo", root=tmp_path)
    assert unknown.simulator_version is None and unknown.simulator_note() == ""


def test_a_run_without_a_recorded_version_gets_it_from_the_commit_history(tmp_path):
    from wiloc_core.sim import SIMULATOR_VERSIONS

    introduced = SIMULATOR_VERSIONS[2][0]
    if committed._is_ancestor(introduced, introduced) is None:
        pytest.skip("this checkout has no git history")
    _commit(tmp_path, provenance={**PROVENANCE, "commit": introduced})
    assert committed.load("07-demo", root=tmp_path).simulator_version == 2
    _commit(tmp_path, "08-demo", provenance={**PROVENANCE, "commit": introduced + "~1"})
    assert committed.load("08-demo", root=tmp_path).simulator_version == 1

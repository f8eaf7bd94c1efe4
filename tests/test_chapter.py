"""The chapter helper: one dataset-name map, the prologue, custom labels, claims, effects."""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest

from wiloc_core import chapter, verdicts
from wiloc_core.errors import ChecksumError, DatasetNotFoundError, ParameterError
from wiloc_core.paper_values import entries
from wiloc_core.results import ResultSet


def test_one_name_map_covers_every_dataset_paper_001_names():
    columns = entries(paper="001", item="Table 1")["column"]
    named = {c.rsplit(" ", 1)[0] for c in columns if c.endswith(" MAE")}
    assert named == set(chapter.PAPER_NAMES.values())
    assert chapter.paper_name("UJI1") == "UJIIndoorLoc"
    assert chapter.paper_name("TUT3") == "Tampere"
    assert chapter.paper_name("TUT5") == "TUT5"  # not in the paper: keeps our name


def test_chapter_key_and_preset():
    assert chapter.chapter_key("20-surrogate-teachers") == "surrogate-teachers"
    with pytest.raises(ParameterError):
        chapter.chapter_key("surrogate-teachers")
    full = chapter.preset("21-surrogate-ablations", "full")
    assert full["fraction_rounds"] == 10 and full["overrides"] == {}


def test_glue_keys_are_distinct_for_the_papers_suffixes():
    labels = ["DNN", "DNN+", "DNN++", "DNN+++", "DNN⋆", "DNN*", "DNN**", "DNN [both]"]
    keys = [chapter.glue_key("UJI1", label, "mae") for label in labels]
    assert len(set(keys)) == len(keys)
    assert chapter.glue_key("UJI1", "DNN+++", "mae") == "uji1_dnnppp_mae"
    assert chapter.glue_key("TUT3", "10", "DNN", "mae") == "tut3_10_dnn_mae"
    assert all(k.replace("_", "").isalnum() for k in keys)


def test_registry_look_up_gives_the_value_or_nan():
    assert chapter.paper_value_or_nan("001", "Table 1", "DNN", "UJIIndoorLoc MAE") == 14.04
    assert math.isnan(chapter.paper_value_or_nan("001", "Table 3", "DNN [TUT5]", "Tampere MAE"))
    assert chapter.has_paper_value("001", "Table 1", "DNN+++", "Tampere MAE")
    assert not chapter.has_paper_value("001", "Table 1", "DNN+++", "TUT5 MAE")


def test_effect_takes_the_papers_sign_and_keeps_one_value_per_seed():
    assert chapter.effect(2.06, [1.0, -0.5]) == [1.0, -0.5]
    assert chapter.effect(-14.32, [3.0, 1.0]) == [-3.0, -1.0]  # paper: the variant is worse
    assert chapter.effect(1.0, 0.25) == [0.25]
    assert chapter.effect(1.0, np.float32(0.5)) == [0.5]
    assert chapter.effect(-1.0, np.array([1.0, 2.0])) == [-1.0, -2.0]
    assert chapter.effect(0.0, [1.0]) is None
    assert chapter.effect(math.nan, [1.0]) is None


def test_start_labels_a_run_with_an_override_custom(tmp_path):
    ch = chapter.start("00-fingerprint-datasets", "quick", seed=3, data_source="simulated",
                       load=lambda cfg: cfg["knn_targets"][1:], out_dir=tmp_path,
                       metric="manhattan", k_candidates=None)
    assert list(ch.datasets) == ["TUT3"] and ch.kinds == {"TUT3": "simulated"}
    assert ch.res.profile == "custom" and ch.res.base_profile == "quick"
    assert ch.res.overrides == {"metric": {"preset": "euclidean", "run": "manhattan"}}
    assert ch.res.data_kind == "simulated" and ch.res.seed == 3
    assert ch.res.parameters["data_source"] == "simulated" and "overrides" not in ch.res.parameters
    text = chapter.run_description(ch.res)
    assert "**custom**" in text and "`metric`" in text and "never judged" in text


def test_start_without_overrides_keeps_the_profile(tmp_path):
    ch = chapter.start("00-fingerprint-datasets", "quick", data_source="simulated",
                       load=["UTS", "UTS"], out_dir=tmp_path, metric="euclidean")
    assert list(ch.datasets) == ["UTS"]  # repeated names load once
    assert ch.res.profile == "quick" and ch.res.overrides == {}  # the preset's own value
    assert chapter.run_description(ch.res).startswith("This page was produced with the **quick**")
    with pytest.raises(ParameterError):
        chapter.start("00-fingerprint-datasets", "quick", data_source="simulated",
                      out_dir=tmp_path, metrics="manhattan")  # a typo is caught


def test_page_data_kind(tmp_path):
    loaded = chapter.load_datasets(["UTS"], "simulated")
    assert chapter.page_data_kind(loaded) == "simulated"


def test_data_source_folder_must_exist_and_hold_the_file(tmp_path):
    with pytest.raises(ParameterError):
        chapter.load_datasets(["UTS"], str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFoundError):
        chapter.load_datasets(["UTS"], str(tmp_path))


def test_data_source_folder_checks_the_sha256(tmp_path):
    from wiloc_core.data.manifest import get_entry

    entry = get_entry("TUT3")
    (tmp_path / entry.filename).write_bytes(b"not the file")
    with pytest.raises(ChecksumError):
        chapter.load_datasets(["TUT3"], str(tmp_path))


def test_data_source_folder_reads_the_real_file(tmp_path):
    from wiloc_core.data.manifest import get_entry
    from wiloc_core.data.resolve import find_local

    found = find_local(get_entry("TUT3"))
    if found is None:
        pytest.skip("the real TUT3 file is not available (set WILOC_DATA)")
    shutil.copy(found.path, tmp_path / found.path.name)
    loaded = chapter.load_datasets(["TUT3"], str(tmp_path))
    assert loaded["TUT3"].source_kind == "real"


def _records(profile, values, claim_id="001-fig2-enhanced-beats-standalone", tmp_path=None):
    res = ResultSet("20-surrogate-teachers", profile=profile, seed=0, data_kind="real",
                    out_dir=tmp_path)
    res.claim(claim_id, {"DNN on UJI1": values}, evidence="hand-made")
    return res.records


@pytest.mark.parametrize("profile, values, status", [
    ("full", [-0.4], verdicts.NOT_REPRODUCED),   # reversed: fails even with one seed
    ("full", [0.4], verdicts.INCONCLUSIVE),      # one seed: the noise is unknown
    ("full", [0.5, 0.6, 0.55], verdicts.HOLDS),  # well above the noise
    ("quick", [0.5, 0.6, 0.55], verdicts.NOT_JUDGED),
])
def test_claims_table_takes_its_status_from_the_rules(tmp_path, profile, values, status):
    table = chapter.claims_table(_records(profile, values, tmp_path=tmp_path))
    assert list(table.columns) == chapter.CLAIM_COLUMNS
    assert table.loc[0, "status"] == status
    assert table.loc[0, "origin"] == "paper" and table.loc[0, "where"] == "§4.2, Fig. 2"
    assert table.loc[0, "test"] == "greater > 0 m"
    assert f"[{len(values)}]" in table.loc[0, "ours"]


def test_claims_table_labels_our_claims_and_saves_without_status(tmp_path):
    records = _records("full", [0.5], "001-ours-standalone-beats-knn", tmp_path)
    records.append({"kind": "value"})  # value records are ignored
    table = chapter.claims_table(records, with_status=False)
    assert "status" not in table.columns and table.loc[0, "origin"] == "ours"


def test_every_claim_the_fingerprint_chapters_record_is_registered():
    from wiloc_core import claims, paths

    ids = set()
    for stem in ("20-surrogate-teachers", "21-surrogate-ablations"):
        text = (paths.repo_root() / "notebooks" / f"{stem}.md").read_text()
        ids |= set(re.findall(r'"(001-[a-z0-9-]+)"', text))
    assert len(ids) >= 10
    for claim_id in ids:
        assert claims.claim(claim_id)["paper"] == "001"


FINGERPRINT_CHAPTERS = ("00-fingerprint-datasets", "20-surrogate-teachers", "21-surrogate-ablations")


@pytest.mark.parametrize("stem", FINGERPRINT_CHAPTERS)
def test_every_result_changing_parameter_is_a_preset_key_left_at_none(stem):
    """Changing such a parameter must make the run custom, so its default is None."""
    import ast

    from wiloc_core import paths
    from wiloc_core.profiles import EXECUTION_PARAMETERS

    text = (paths.repo_root() / "notebooks" / f"{stem}.md").read_text()
    cell = re.search(r"```\{code-cell\} ipython3\n:tags: \[parameters\]\n(.*?)```", text, re.S).group(1)
    preset = chapter.preset(stem, "quick")
    # data_source is recorded as every record's data kind (real or simulated), not an override
    for node in ast.parse(cell).body:
        name = node.targets[0].id
        if name in EXECUTION_PARAMETERS or name == "data_source":
            continue
        assert name in preset, f"{stem}: parameter {name!r} is not a setting of its profile"
        assert ast.literal_eval(node.value) is None, f"{stem}: parameter {name!r} must default to None"

import pytest

from wiloc_core import profiles
from wiloc_core.errors import ParameterError


def test_every_chapter_has_both_profiles_with_the_same_keys():
    for chapter in profiles.chapters():
        quick = profiles.settings(chapter, "quick")
        full = profiles.settings(chapter, "full")
        assert set(quick) == set(full), chapter
        assert quick["profile"] == "quick" and full["profile"] == "full"


def test_a_paper_profile_has_the_keys_of_full_and_the_papers_epochs_without_early_stopping():
    with_paper = [c for c in profiles.chapters() if "paper" in profiles._PRESETS[c]]
    assert {"surrogate-teachers", "surrogate-ablations"} <= set(with_paper)
    for chapter in with_paper:
        full, paper = profiles.settings(chapter, "full"), profiles.settings(chapter, "paper")
        assert set(full) == set(paper), chapter
    for chapter in ("surrogate-teachers", "surrogate-ablations"):
        full, paper = profiles.settings(chapter, "full"), profiles.settings(chapter, "paper")
        assert paper["epochs"] == full["epochs"] and paper["patience"] is None
        assert set(paper["models"]) == {"DNN", "CNNLoc", "BayesCNN", "bAaT"}
    with pytest.raises(ParameterError, match="profile"):
        profiles.settings("fingerprint-datasets", "paper")


def test_override_replaces_and_none_keeps_the_profile_value():
    base = profiles.settings("fingerprint-datasets", "quick")
    changed = profiles.settings("fingerprint-datasets", "quick", max_train_samples=10,
                                k_candidates=None)
    assert changed["max_train_samples"] == 10
    assert changed["k_candidates"] == base["k_candidates"]


def test_settings_are_copies():
    first = profiles.settings("fingerprint-datasets", "quick")
    first["k_candidates"].append(999)
    assert 999 not in profiles.settings("fingerprint-datasets", "quick")["k_candidates"]


@pytest.mark.parametrize("chapter, profile, overrides, name", [
    ("fingerprint-datasets", "medium", {}, "profile"),
    ("no-such-chapter", "quick", {}, "chapter"),
    ("fingerprint-datasets", "quick", {"max_trian_samples": 5}, "max_trian_samples"),
])
def test_bad_settings_name_the_parameter(chapter, profile, overrides, name):
    with pytest.raises(ParameterError, match=name):
        profiles.settings(chapter, profile, **overrides)


def test_execution_parameters_are_never_settings():
    for chapter in profiles.chapters():
        for profile in ("quick", "full"):
            keys = set(profiles.settings(chapter, profile)) - {"profile", "overrides"}
            assert not keys & set(profiles.EXECUTION_PARAMETERS), chapter


def test_radio_channel_override_makes_a_custom_run_and_the_preset_value_does_not():
    full = profiles.settings("radio-channel", "full", n_sweeps=None, snr_db=None)
    assert full["overrides"] == {} and profiles.run_label(full) == "full"
    same = profiles.settings("radio-channel", "full", n_sweeps=10, snr_db=30)
    assert same["overrides"] == {} and profiles.run_label(same) == "full"
    changed = profiles.settings("radio-channel", "full", snr_db=20.0, explorer_preset="lobby")
    assert changed["snr_db"] == 20.0 and profiles.run_label(changed) == "custom"
    assert changed["overrides"] == {"snr_db": {"preset": 30.0, "run": 20.0},
                                    "explorer_preset": {"preset": "laboratory", "run": "lobby"}}

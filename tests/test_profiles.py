import pytest

from wiloc_core import profiles
from wiloc_core.errors import ParameterError


def test_every_chapter_has_both_profiles_with_the_same_keys():
    for chapter in profiles.chapters():
        quick = profiles.settings(chapter, "quick")
        full = profiles.settings(chapter, "full")
        assert set(quick) == set(full), chapter
        assert quick["profile"] == "quick" and full["profile"] == "full"


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

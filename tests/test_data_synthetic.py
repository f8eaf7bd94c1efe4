"""Simulated fingerprint stand-ins: deterministic, valid, labelled as simulated."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.data import NOT_DETECTED, PathLossModel, load_fingerprints, synthetic_fingerprints
from wiloc_core.data.fingerprints import check_rss
from wiloc_core.data.synthetic import PROFILES, simulate_rss
from wiloc_core.errors import ParameterError


@pytest.fixture(autouse=True)
def no_real_data(monkeypatch, tmp_path):
    monkeypatch.setenv("WILOC_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "cache"))


def _arrays(dataset):
    return [getattr(s, k) for s in (dataset.train, dataset.test) for k in ("rss", "xy", "height", "floor", "building")]


def test_same_seed_same_data_different_seed_different_data():
    first, again, other = (synthetic_fingerprints("TUT5", seed=s) for s in (7, 7, 8))
    for a, b in zip(_arrays(first), _arrays(again), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.train.rss, other.train.rss)


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_is_valid_small_and_labelled(name):
    dataset = synthetic_fingerprints(name, seed=0)
    profile = PROFILES[name]
    assert dataset.source_kind == "simulated" and "Simulated" in dataset.note and dataset.name == name
    assert dataset.train.rss.shape == (profile.n_train, profile.n_aps)
    assert dataset.test.rss.shape == (profile.n_test, profile.n_aps)
    assert 300 <= profile.n_train + profile.n_test <= 2000
    for split in (dataset.train, dataset.test):
        check_rss("sim", "rss", split.rss)  # same validation as real files
        detected = split.rss[split.rss != NOT_DETECTED]
        assert detected.min() >= -100 and np.array_equal(detected, np.round(detected))
        assert set(np.unique(split.floor)) <= set(profile.floors)
        assert set(np.unique(split.building)) <= set(range(len(profile.buildings)))
        assert 0.02 < split.detected_fraction_per_sample.mean() < 0.6


def test_path_loss_law_without_shadowing():
    model = PathLossModel(shadowing_db=0.0)
    ap_xyz, ap_floor = np.array([[0.0, 0.0, 0.0]]), np.array([0])
    rx = np.array([[1.0, 0, 0], [10.0, 0, 0], [100.0, 0, 0], [10.0, 0, 0], [1000.0, 0, 0]])
    rx_floor = np.array([0, 0, 0, 2, 0])
    rss = simulate_rss(np.random.default_rng(0), ap_xyz, ap_floor, np.array([True]), np.array([-35.0]),
                       rx, rx_floor, model)[:, 0]
    # -35 dBm at 1 m, 30 dB per decade (n = 3), 15 dB per floor, below -100 dBm -> not detected
    np.testing.assert_array_equal(rss, [-35.0, -65.0, -95.0, -95.0, NOT_DETECTED])
    outside = simulate_rss(np.random.default_rng(0), ap_xyz, ap_floor, np.array([False]), np.array([-35.0]),
                           rx[:1], rx_floor[:1], model)
    assert outside[0, 0] == -35.0 - model.outer_wall_db


def test_sizes_can_be_overridden_and_are_checked():
    assert synthetic_fingerprints("UJI1", n_train=50, n_test=10).train.n_samples == 50
    with pytest.raises(ParameterError):
        synthetic_fingerprints("UJI1", n_train=-1)
    with pytest.raises(ParameterError, match="name"):
        synthetic_fingerprints("NOPE")


def test_load_fingerprints_modes_without_real_data():
    simulated = load_fingerprints("TUT3", source="simulated", seed=1)
    auto = load_fingerprints("TUT3", source="auto", seed=1)
    np.testing.assert_array_equal(simulated.test.rss, auto.test.rss)
    assert auto.source_kind == "simulated" and "No local copy" in auto.note and "WILOC_DATA" in auto.note
    with pytest.raises(ParameterError, match="source"):
        load_fingerprints("TUT3", source="maybe")
    with pytest.raises(ParameterError, match="fingerprint"):
        load_fingerprints("rtt_office_train")

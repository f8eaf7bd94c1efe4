"""Simulated fingerprint stand-ins: deterministic, valid, labelled as simulated, and made by
the scene simulator's RSS sensor."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.data import NOT_DETECTED, PathLossModel, load_fingerprints, synthetic_fingerprints
from wiloc_core.data import synthetic as synthetic_module
from wiloc_core.data.fingerprints import check_rss
from wiloc_core.data.synthetic import AP_ABOVE_FLOOR_M, PROFILES, ap_scene, scan
from wiloc_core.errors import ParameterError
from wiloc_core.sim.paths import trace
from wiloc_core.sim.scene import wavelength
from wiloc_core.sim.sensors import rss as rss_sensor


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


def _one_ap(model, rx, rx_floor, inside=True, seed=0):
    return scan(np.array([[0.0, 0.0, 0.0]]), np.array([0]), np.array([inside]), np.array([-35.0]),
                rx, rx_floor, model, seed=seed)[:, 0]


def test_path_loss_law_without_shadowing():
    model = PathLossModel(shadowing_db=0.0)
    rx = np.array([[1.0, 0, 0], [10.0, 0, 0], [100.0, 0, 0], [10.0, 0, 0], [1000.0, 0, 0]])
    rx_floor = np.array([0, 0, 0, 2, 0])
    rss = _one_ap(model, rx, rx_floor)
    # -35 dBm at 1 m, 30 dB per decade (n = 3), 15 dB per floor, below -100 dBm -> not detected
    np.testing.assert_array_equal(rss, [-35.0, -65.0, -95.0, -95.0, NOT_DETECTED])
    outside = _one_ap(model, rx[:1], rx_floor[:1], inside=False)
    assert outside[0] == -35.0 - model.outer_wall_db


def test_scan_is_the_scene_simulators_rss_sensor():
    """Column j of a scan is rss_dbm of trace(ap_scene(AP j)), same shadowing draws."""
    model = PathLossModel()
    gen = np.random.default_rng(5)
    ap = gen.uniform(0, 40, size=(3, 3))
    ap_floor, ap_inside, power = np.array([0, 1, 2]), np.array([True, False, True]), np.array([-40.0, -35.0, -33.0])
    rx = np.column_stack([gen.uniform(0, 40, size=(50, 2)), np.zeros(50)])
    rx_floor = gen.integers(0, 3, size=50)
    got = scan(ap, ap_floor, ap_inside, power, rx, rx_floor, model, seed=11)
    expected_gen = np.random.default_rng(11)
    tx_at_1m = 20 * np.log10(float(wavelength(model.carrier_hz)) / (4 * np.pi))
    for j in range(3):
        loss = 15.0 * np.abs(rx_floor - ap_floor[j]) + (0.0 if ap_inside[j] else 10.0)
        reading = rss_sensor.rss_dbm(trace(ap_scene(ap[j], model), rx, max_order=0),
                                     tx_power_dbm=power[j] - tx_at_1m, shadowing_sigma_db=4.0, quantize=True,
                                     sensitivity_dbm=-100.0, penetration_loss_db=loss, seed=expected_gen)
        np.testing.assert_array_equal(got[:, j], np.where(np.isnan(reading), NOT_DETECTED, reading))
    assert (got == NOT_DETECTED).any() and (got != NOT_DETECTED).any()


def test_the_sensor_refuses_a_negative_penetration_loss():
    paths = trace(ap_scene([0.0, 0.0, 0.0], PathLossModel()), [[5.0, 0.0, 0.0], [9.0, 0.0, 0.0]], max_order=0)
    free = rss_sensor.rss_dbm(paths)
    np.testing.assert_allclose(rss_sensor.rss_dbm(paths, penetration_loss_db=[0.0, 15.0]), free - [0.0, 15.0])
    with pytest.raises(ParameterError, match="penetration_loss_db"):
        rss_sensor.rss_dbm(paths, penetration_loss_db=[0.0, -1.0])


def test_the_stand_in_is_built_from_sensor_readings_only(monkeypatch):
    calls = []

    def spy(paths, **kwargs):
        reading = rss_sensor.rss_dbm(paths, **kwargs)
        calls.append(reading)
        return reading

    monkeypatch.setattr(synthetic_module, "rss_dbm", spy)
    dataset = synthetic_fingerprints("LIB1", seed=3, n_train=40, n_test=30)
    n_aps = PROFILES["LIB1"].n_aps
    assert len(calls) == 2 * n_aps  # one sensor call per AP and split
    train = np.column_stack(calls[:n_aps])
    np.testing.assert_array_equal(dataset.train.rss, np.where(np.isnan(train), NOT_DETECTED, train))
    test = np.column_stack(calls[n_aps:])
    np.testing.assert_array_equal(dataset.test.rss, np.where(np.isnan(test), NOT_DETECTED, test))


@pytest.mark.parametrize("name", list(PROFILES))
def test_positions_lie_inside_the_simulated_buildings(name):
    dataset = synthetic_fingerprints(name, seed=4)
    profile, model = PROFILES[name], PathLossModel()
    for split in (dataset.train, dataset.test):
        x0, y0, width, depth = np.asarray(profile.buildings, dtype=float)[split.building].T
        x, y = split.xy.T
        assert np.all((x >= x0) & (x <= x0 + width) & (y >= y0) & (y <= y0 + depth))
        np.testing.assert_allclose(split.height, split.floor * model.floor_height_m)
    assert AP_ABOVE_FLOOR_M < model.floor_height_m  # APs hang below the next floor


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

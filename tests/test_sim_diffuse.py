"""Diffuse tail (room electromagnetics), TGn calibration and the RTT room rebuild."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.sim import channel, presets
from wiloc_core.sim.calibration import (
    FLOOR_PARTITION,
    PARTITION_CANDIDATES,
    calibrate_partition,
    floor_slope_spread,
    partition_sweep,
    preset_dispersion,
)
from wiloc_core.sim.diffuse import (
    random_incidence_absorption,
    reverberation_time,
    room_diffuse_field,
)
from wiloc_core.sim.paths import KIND_CODES, attenuate, trace
from wiloc_core.sim.scene import SPEED_OF_LIGHT, Room, Scene, wavelength
from wiloc_core.sim.sensors import rtt
from wiloc_core.sim.tgn import TGN_MODELS, tgn_model

ROOM = Room(10.0, 8.0, 3.0)
TX = np.array([2.0, 2.0, 1.5])


def _scene(seed=0, **kwargs):
    field = room_diffuse_field(ROOM, 2.4e9, absorption=0.5, seed=seed, **kwargs)
    return Scene(ROOM, TX, diffuse=field)


def test_reverberation_time_closed_forms():
    # Sabine 4V/(c S eta) and Eyring -4V/(c S ln(1-eta)) for a 10 x 8 x 3 m room.
    v, s = 240.0, 268.0
    assert reverberation_time(v, s, 0.5, formula="sabine") == pytest.approx(
        4 * v / (SPEED_OF_LIGHT * s * 0.5), rel=1e-12)
    assert reverberation_time(v, s, 0.5) == pytest.approx(
        4 * v / (SPEED_OF_LIGHT * s * np.log(2)), rel=1e-12)
    # Eyring is shorter, and equals Sabine for weak absorption.
    assert reverberation_time(v, s, 0.5) < reverberation_time(v, s, 0.5, formula="sabine")
    assert reverberation_time(v, s, 1e-4) == pytest.approx(
        reverberation_time(v, s, 1e-4, formula="sabine"), rel=1e-4)
    with pytest.raises(ParameterError, match="absorption"):
        reverberation_time(v, s, 1.0)


def test_wall_absorption_bounds():
    assert random_incidence_absorption(Room(5, 5, 3, default="absorber"), 2.4e9) == pytest.approx(
        1.0, abs=1e-3)
    assert random_incidence_absorption(Room(5, 5, 3, default="metal"), 2.4e9) < 0.01
    concrete = random_incidence_absorption(Room(5, 5, 3), 2.4e9)
    assert 0.6 < concrete < 0.95


def test_diffuse_power_matches_room_electromagnetics():
    # Sum of component powers = integral of p(tau) from the direct delay: c lambda^2 T
    # exp(-tau_d / T) / (8 pi V), within the stratification error.
    scene = _scene(density_per_ns=2.0)
    field = scene.diffuse
    rx = np.array([[8.0, 6.0, 1.2], [3.0, 2.5, 1.5], [5.0, 4.0, 2.0]])
    paths = trace(scene, rx, max_order=0)
    diffuse = paths.kind == KIND_CODES["diffuse"]
    got = np.sum(paths.a[:, diffuse] ** 2, axis=1)
    lam = wavelength(2.4e9)
    t_rev = field.reverberation_s
    tau_d = paths.distance_m / SPEED_OF_LIGHT
    expected = SPEED_OF_LIGHT * lam**2 * t_rev / (8 * np.pi * 240.0) * np.exp(-tau_d / t_rev)
    np.testing.assert_allclose(got, expected, rtol=0.15)


def test_diffuse_tail_starts_at_the_direct_delay_and_is_deterministic():
    scene = _scene(seed=3)
    rx = np.array([[7.0, 5.0, 1.5], [9.5, 7.5, 0.5]])
    paths = trace(scene, rx)
    diffuse = paths.kind == KIND_CODES["diffuse"]
    early = paths.tau[:, diffuse] < (paths.distance_m / SPEED_OF_LIGHT)[:, None]
    assert np.all(paths.a[:, diffuse][early] == 0)
    again = trace(_scene(seed=3), rx)
    np.testing.assert_array_equal(paths.a, again.a)
    other = trace(_scene(seed=4), rx)
    assert not np.allclose(paths.a[:, diffuse], other.a[:, diffuse])


def test_switch_off_gives_the_specular_model():
    rx = [[7.0, 5.0, 1.5]]
    with_tail = trace(_scene(), rx, max_order=2, diffuse=False)
    plain = trace(Scene(ROOM, TX), rx, max_order=2)
    np.testing.assert_array_equal(with_tail.a, plain.a)
    np.testing.assert_array_equal(with_tail.tau, plain.tau)


def test_diffuse_channel_is_reciprocal():
    scene = _scene(seed=1)
    rx = np.array([7.0, 5.5, 1.2])
    f = channel.frequency_grid(2.4e9, 100e6, 201)
    forward = channel.ctf(trace(scene, rx), f)
    backward = channel.ctf(trace(scene.with_tx(rx), TX), f)
    np.testing.assert_allclose(forward, backward, rtol=0, atol=1e-12 * np.abs(forward).max())


def test_diffuse_field_decorrelates_over_half_a_wavelength():
    # Plane waves from uniform directions: correlation sin(kd)/(kd), 1 at d -> 0 and
    # ~0 beyond half a wavelength (Andersen et al. 2007: the diffuse field is isotropic).
    scene = _scene(seed=2)
    f = channel.frequency_grid(2.4e9, 20e6, 64)
    g = np.random.default_rng(0)
    refs = np.column_stack([g.uniform(4, 8, 40), g.uniform(3, 6, 40), np.full(40, 1.5)])

    def rho(dx):
        p0 = trace(scene, refs, max_order=0).select("diffuse")
        p1 = trace(scene, refs + [dx, 0, 0], max_order=0).select("diffuse")
        h0, h1 = channel.ctf(p0, f), channel.ctf(p1, f)
        # Ensemble correlation over positions (a per-link normalisation would be blind
        # to the common complex factor of a nearly flat 20 MHz channel).
        return np.abs(np.vdot(h0, h1)) / np.linalg.norm(h0) / np.linalg.norm(h1)

    lam = float(wavelength(2.4e9))
    assert rho(0.01 * lam) > 0.95
    assert rho(2.0 * lam) < 0.35


def test_tgn_tap_profiles_reproduce_their_nominal_delay_spreads():
    # Computed from the tap powers of IEEE 802.11-03/940r4: 15.6, 33.4, 50.0, 99.0, 148.9 ns.
    for name, expected in zip("BCDEF", (15.6, 33.4, 50.0, 99.0, 148.9), strict=True):
        assert tgn_model(name).rms_delay_spread_ns == pytest.approx(expected, abs=0.2)
    assert TGN_MODELS["B"].k_factor_db < 0 < TGN_MODELS["D"].k_first_tap_db
    loss = tgn_model("D").path_loss_db([5.0, 10.0, 100.0], 2.4e9)
    assert loss[1] - loss[0] == pytest.approx(20 * np.log10(2), abs=1e-9)
    assert loss[2] - loss[1] == pytest.approx(35.0, abs=1e-9)
    with pytest.raises(ParameterError, match="tgn_class"):
        tgn_model("G")


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_preset_delay_spread_is_within_half_of_its_tgn_class(name):
    stats = preset_dispersion(name, n_links=60, seed=0)
    nominal = tgn_model(stats["tgn_class"]).nominal_rms_ns
    assert 0.5 * nominal <= stats["rms_ns"] <= 1.5 * nominal, stats
    # In-room LOS path-loss slopes: ITU-R P.1238 site-general office/corridor LOS give
    # 1.46-1.63; the reverberant floor keeps ours below free space.
    assert 0.9 <= stats["slope"] <= 2.0, stats


@pytest.mark.parametrize("name", presets.PRESET_NAMES)
def test_preset_floor_slope_within_tgn_range(name):
    # TGn's 2-then-3.5 describes links across a building: the preset's room on a floor of
    # copies of it with the calibrated partition (in-room slopes stay below 2, above),
    # judged against the seed-to-seed spread.
    lo, hi = tgn_model(presets.TGN_CLASS[name][0]).slope_range
    mean, std = floor_slope_spread(name, seed=0, partition=FLOOR_PARTITION)
    assert 0 < std < 0.3
    assert lo - 2 * std <= mean <= hi + 2 * std


def test_floor_partition_is_the_one_the_rule_picks():
    sweep = partition_sweep(partitions=PARTITION_CANDIDATES, n_links=200, seed=0)
    assert calibrate_partition(sweep) == FLOOR_PARTITION
    # the lightest wall leaves the sports hall's floor flatter than free space: the sweep
    # must be able to tell the candidates apart
    light = {r["preset"]: r for r in sweep if r["partition"] == "plasterboard"}
    assert not light["sports-hall"]["inside"]


def _sweep_row(preset, partition, inside):
    return {"preset": preset, "partition": partition, "slope": 2.5 if inside else 4.0,
            "slope_std": 0.1, "tgn_slope_min": 2.0, "tgn_slope_max": 3.5, "inside": inside}


def test_calibrate_partition_counts_presets_inside_and_breaks_ties_by_order():
    sweep = [_sweep_row("a", "glass", True), _sweep_row("b", "glass", False),
             _sweep_row("a", "brick", True), _sweep_row("b", "brick", True),
             _sweep_row("a", None, True), _sweep_row("b", None, True)]
    assert calibrate_partition(sweep) == "brick"
    assert calibrate_partition(sweep, candidates=("brick", "glass")) == "brick"
    tie = [_sweep_row("a", "glass", True), _sweep_row("a", "brick", True)]
    assert calibrate_partition(tie) == "glass"            # listed before brick
    assert calibrate_partition(tie, candidates=("brick", "glass")) == "brick"
    with pytest.raises(ParameterError, match="sweep"):
        calibrate_partition([_sweep_row("a", None, True)])


def test_diffuse_tail_raises_delay_spread_of_ctf_rooms():
    with_tail = preset_dispersion("lobby", n_links=40, seed=1)
    without = preset_dispersion("lobby", n_links=40, seed=1, diffuse=False)
    assert with_tail["rms_ns"] > 2 * without["rms_ns"]
    assert with_tail["k_db"] < without["k_db"]


def test_attenuate_weakens_only_the_named_kinds():
    paths = trace(_scene(), [[7.0, 5.0, 1.5], [3.0, 6.0, 1.5]], max_order=1)
    out = attenuate(paths, [20.0, 0.0])
    assert out.a[0, 0] == pytest.approx(paths.a[0, 0] / 10)
    np.testing.assert_array_equal(out.a[1], paths.a[1])
    np.testing.assert_array_equal(out.a[0, 1:], paths.a[0, 1:])
    assert out.loss_db[0, 0] == pytest.approx(20.0)
    with pytest.raises(ParameterError, match="loss_db"):
        attenuate(paths, -1.0)


def test_rtt_burst_failures_are_opt_in_and_at_the_set_rate():
    paths = trace(Scene(None, [0, 0, 1.5]), [[5.0, 0, 1.5]], max_order=0)
    plain = rtt.rtt_bursts(paths, n_bursts=50, seed=1)
    explicit = rtt.rtt_bursts(paths, n_bursts=50, seed=1, burst_fail_prob=0.0)
    np.testing.assert_array_equal(plain.samples_m, explicit.samples_m)
    many = rtt.rtt_bursts(paths, n_bursts=4000, seed=2, fail_prob=0.0, burst_fail_prob=0.2)
    assert np.mean(~many.success) == pytest.approx(0.2, abs=0.03)
    with pytest.raises(ParameterError, match="burst_fail_prob"):
        rtt.rtt_bursts(paths, burst_fail_prob=1.0)


def test_rebuilt_room_puts_nlos_bias_above_los():
    from wiloc_core.sim import rtt_rooms

    xy = np.repeat(np.array([[3.0, 1.0], [6.0, 2.0], [9.0, 3.0], [12.0, 1.5]]), 2, axis=0)
    los = np.tile([[True, False]], (len(xy), 1))
    fake = SimpleNamespace(room="office", xy=xy, ap_xy=np.array([[0.6, 3.0], [15.0, 3.0]]),
                           los=los, rtt_m=np.zeros((len(xy), 2)), rss_dbm=np.zeros((len(xy), 2)))
    links = rtt_rooms.room_links(fake, bandwidth_hz=40e6, nlos_loss_db=25.0)
    bias = links.first_m - links.true_m
    assert np.median(bias[:, 1]) > np.median(bias[:, 0])
    params = rtt_rooms.RttSensorParams(noise_std_m=0.3)
    err, err_los, _ = rtt_rooms.simulate_ranges(links, params, n_scans=5, seed=0)
    assert err.shape == (4 * 5, 2) and err_los[:, 0].all() and not err_los[:, 1].any()
    groups = {r["group"] for r in rtt_rooms.error_stats(err, err_los)}
    assert groups == {"LOS", "NLOS"}


def test_rebuilt_rooms_hold_the_measured_geometry(real_data):
    from wiloc_core.data.rtt import load_rtt
    from wiloc_core.sim import rtt_rooms

    for room in rtt_rooms.ROOMS:
        m = load_rtt(room, "train")
        scene, aps, offset = rtt_rooms.build_room(room, m.ap_xy)
        assert np.all(scene.room.contains(aps))
        rp = np.column_stack([m.reference_points + offset, np.full(len(m.reference_points), 1.2)])
        assert np.all(scene.room.contains(rp)), room


def test_rtt_sensor_fitted_on_training_files_holds_on_test_files(real_data):
    # One grid point near the full profile's optimum keeps this test short; the fit still
    # sets the offset, power and failure rate from the training files alone.
    from wiloc_core.data.rtt import load_rtt
    from wiloc_core.sim import rtt_rooms

    rooms = tuple(rtt_rooms.ROOMS)
    params, _, _ = rtt_rooms.fit_rtt_sensor(
        [load_rtt(r, "train") for r in rooms], bandwidths_hz=(80e6,), nlos_losses_db=(30.0,),
        diffuse_scales=(0.5,), noise_stds_m=(0.2,), fail_rss_dbm=(-90.0,), n_scans=4)
    for room in rooms:
        m = load_rtt(room, "test")
        links = rtt_rooms.room_links(m, bandwidth_hz=params.bandwidth_hz,
                                     nlos_loss_db=params.nlos_loss_db,
                                     diffuse_scale=params.diffuse_scale)
        err, los, _ = rtt_rooms.simulate_ranges(links, params, n_scans=8, seed=1)
        real_err, real_los = rtt_rooms.measured_errors(m)
        for row in rtt_rooms.distances(err, los, real_err, real_los):
            # Full-profile fit: 0.20-0.30 m (LOS, corridor), 0.63 m (office NLOS).
            assert row["wasserstein_m"] < (0.45 if row["group"] == "LOS" else 0.9), (room, row)
        sim = {r["group"]: r for r in rtt_rooms.error_stats(err, los)}
        for r in rtt_rooms.error_stats(real_err, real_los):
            assert abs(sim[r["group"]]["median_m"] - r["median_m"]) < 0.5, (room, r["group"])


def test_scan_failures_can_differ_per_link():
    from wiloc_core.sim.sensors.rtt import bursts_from_first_path

    n = 3000
    kw = {"n_bursts": n, "burst_size": 4, "noise_std_m": 0.1, "fail_prob": 0.0,
          "fail_rss_dbm": -200.0, "seed": 3}
    out = bursts_from_first_path([5.0, 5.0], [-60.0, -60.0], [5.0, 5.0],
                                 burst_fail_prob=[0.0, 0.3], **kw)
    failed = ~np.isfinite(out.distance_m)
    assert failed[0].mean() == 0.0
    assert abs(failed[1].mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)
    with pytest.raises(ParameterError, match="burst_fail_prob"):
        bursts_from_first_path([5.0, 5.0], [-60.0, -60.0], [5.0, 5.0],
                               burst_fail_prob=[0.1, 0.2, 0.3], **kw)
    with pytest.raises(ParameterError, match="burst_fail_prob"):
        bursts_from_first_path([5.0], [-60.0], [5.0], burst_fail_prob=[1.0], **kw)


def test_rtt_room_params_fail_nlos_links_at_their_own_rate():
    from wiloc_core.sim import rtt_rooms

    links = rtt_rooms.RoomLinks(room="x", rp_xy=np.zeros((2, 2)), los=np.array([[True, False]] * 2),
                                first_m=np.full((2, 2), 4.0), true_m=np.full((2, 2), 4.0),
                                rss0_dbm=np.full((2, 2), -40.0))
    params = rtt_rooms.RttSensorParams(burst_fail_prob=0.0, nlos_burst_fail_prob=0.5,
                                       fail_rss_dbm=-200.0)
    err, los, _ = rtt_rooms.simulate_ranges(links, params, n_scans=2000, seed=0)
    assert np.isfinite(err[los]).all()
    assert abs(np.mean(~np.isfinite(err[~los])) - 0.5) < 0.03
    plain = rtt_rooms.RttSensorParams(burst_fail_prob=0.0, fail_rss_dbm=-200.0)
    assert rtt_rooms.burst_fail_probs(links, plain) == 0.0


def test_person_effect_vanishes_for_a_transparent_person_and_blocking_costs_power(monkeypatch):
    from dataclasses import replace

    from wiloc_core.sim import calibration

    effect = calibration.person_effect("lofi-room", n_positions=12)
    assert effect["n_positions"] == 12 and effect["person_loss_db"] == 8.0
    assert effect["blocked_ray_power_db"] < -1.0      # the body on the direct path
    assert effect["band_power_db_p5"] <= effect["band_power_db_p50"] <= effect["band_power_db_p95"]
    real_preset = calibration.preset

    def ghost(name, *, seed=0):
        p = real_preset(name, seed=seed)
        return replace(p, person=replace(p.person, loss_db=0.0, rcs_m2=0.0))

    monkeypatch.setattr(calibration, "preset", ghost)
    none = calibration.person_effect("eval-room")
    assert none["n_positions"] == 25                   # EVAL's spots
    for key in ("band_power_db_p5", "band_power_db_p95", "amplitude_db_p95",
                "blocked_band_power_db", "blocked_ray_power_db"):
        assert none[key] == pytest.approx(0.0, abs=1e-9), key
    with pytest.raises(ParameterError, match="name"):
        calibration.person_positions("laboratory")

"""CTF evaluation, impulse response, dispersion statistics and presets."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.sim import channel, presets
from wiloc_core.sim.channel import _sum_direct, _sum_uniform
from wiloc_core.sim.paths import PathSet, trace
from wiloc_core.sim.scene import SPEED_OF_LIGHT, Room, Scene, random_clutter


def _two_path(delay_s=40e-9, ratio=0.5, n_links=1):
    a = np.tile([1.0, ratio], (n_links, 1))
    tau = np.tile([10e-9, 10e-9 + delay_s], (n_links, 1))
    z = np.zeros_like(a)
    return PathSet(a, tau, z, np.array([0, 1], np.int8), np.array([0, 1], np.int16), z,
                   np.ones((n_links, 3)), np.zeros(3), 2.4e9)


def test_uniform_grid_factorisation_matches_direct_sum():
    room = Room(6.0, 5.0, 3.0)
    scene = Scene(room, [1, 1, 1.5], scatterers=random_clutter(room, 1.0, seed=2))
    paths = trace(scene, [[4, 3, 1.5], [2, 4, 1.0]], max_order=2)
    f = channel.frequency_grid(2.4e9, 100e6, 601)
    np.testing.assert_allclose(_sum_uniform(paths.gain, paths.tau, f),
                               _sum_direct(paths.gain, paths.tau, f), rtol=0, atol=1e-14)
    # A non-uniform grid takes the direct route and agrees with it.
    g = np.sort(f[::7] + np.linspace(0, 1e3, len(f[::7])))
    np.testing.assert_allclose(channel.ctf(paths, g), _sum_direct(paths.gain, paths.tau, g))


def test_two_path_ctf_closed_form_and_impulse_peaks():
    paths = _two_path()
    f = channel.frequency_grid(2.4e9, 100e6, 601)
    H = channel.ctf(paths, f)[0]
    expected = np.exp(-2j * np.pi * f * 10e-9) + 0.5 * np.exp(-2j * np.pi * f * 50e-9)
    np.testing.assert_allclose(H, expected, atol=1e-12)
    h, t = channel.impulse_response(H[None], f, window="hann", oversample=8)
    mag = np.abs(h[0])
    first = np.argmax(mag)
    assert t[first] == pytest.approx(10e-9, abs=t[1])
    assert mag[first] == pytest.approx(1.0, abs=0.02)
    late = np.argmax(np.where(t > 30e-9, mag, 0))
    assert t[late] == pytest.approx(50e-9, abs=t[1])
    assert mag[late] == pytest.approx(0.5, abs=0.02)


def test_delay_spread_of_two_paths():
    # Powers 1 and r^2 at excess delays 0 and D: tau_rms = D r / (1 + r^2).
    d, r = 40e-9, 0.5
    assert channel.delay_spread(_two_path(d, r))[0] == pytest.approx(d * r / (1 + r**2))
    assert channel.delay_spread(_two_path(d, r), threshold_db=-3)[0] == 0.0


def test_coherence_bandwidth_of_two_paths():
    # |R(df)| = |1 + r^2 exp(-j 2 pi df D)| / (1 + r^2) reaches its minimum at df = 1/(2D).
    d, r = 100e-9, 1.0
    # A wide band (100 fringe periods) keeps the finite-band bias of R well below 1 %.
    f = channel.frequency_grid(2.4e9, 1e9, 4001)
    H = channel.ctf(_two_path(d, r), f)
    bc = channel.coherence_bandwidth(H, f, level=0.5)
    # |cos(pi df D)| = 0.5 at df = 1 / (3 D).
    assert bc == pytest.approx(1 / (3 * d), rel=0.01)


def test_frequency_grid_defaults_and_errors():
    f = channel.frequency_grid()
    assert f.size == 601 and f[1] - f[0] == pytest.approx(100e6 / 600)
    paths = _two_path()
    with pytest.raises(ParameterError, match="freqs_hz"):
        channel.ctf(paths, [])
    with pytest.raises(ParameterError, match="freqs_hz"):
        channel.ctf(paths, [2.41e9, 2.40e9])
    with pytest.raises(ParameterError, match="freqs_hz"):
        channel.ctf(paths, [2.40e9, np.nan])


def test_mean_delay_spread_increases_from_sports_hall_to_lab():
    spreads = []
    for name in presets.CTF_ENVIRONMENTS:   # sports hall, lobby, corridor, laboratory
        paths = trace(presets.preset(name, seed=0).scene, presets.preset(name).receivers,
                      max_order=2)
        spreads.append(channel.delay_spread(paths, threshold_db=-20).mean())
    assert np.all(np.diff(spreads) > 0), spreads


def test_spatial_correlation_decays_with_displacement():
    data = presets.simulate_ctf_environment("laboratory", n_sweeps=1, seed=0)
    H = channel.ctf(data.paths, data.freqs_hz)
    _, rho, counts = channel.spatial_correlation(H, data.positions, [0.1, 0.15, 0.5, 1.0, 2.5])
    assert counts.min() > 0
    assert rho[0] > rho[-1]


def test_presets_build_with_documented_sizes():
    sizes = {name: presets.preset(name).receivers.shape[0] for name in presets.PRESET_NAMES}
    for name in presets.CTF_ENVIRONMENTS:
        assert sizes[name] == 196
        p = presets.preset(name)
        assert p.freqs_hz.size == 601
        step = np.diff(np.unique(p.receivers[:, 0]))
        np.testing.assert_allclose(step, 0.125)
        assert "grid" in p.sources and "paper 000" in p.sources["grid"]
    assert sizes["wtn-room"] == 1170 and presets.preset("wtn-room").aps.shape == (4, 3)
    assert presets.preset("eval-room").spots.shape == (25, 2)
    assert presets.preset("eval-room").scene.carrier_hz == 5.22e9
    area = presets.preset("lofi-room").walk_area
    assert (area[2] - area[0], area[3] - area[1]) == pytest.approx((1.8, 4.8))
    for name in presets.PRESET_NAMES:
        p = presets.preset(name)
        assert np.all(p.scene.room.contains(p.receivers))
        assert all(v for v in p.sources.values())
    with pytest.raises(ParameterError, match="preset"):
        presets.preset("kitchen")


def test_same_seed_gives_identical_ctf_dataset():
    a = presets.simulate_ctf_environment("lobby", n_sweeps=2, seed=5)
    b = presets.simulate_ctf_environment("lobby", n_sweeps=2, seed=5)
    c = presets.simulate_ctf_environment("lobby", n_sweeps=2, seed=6)
    np.testing.assert_array_equal(a.ctf, b.ctf)
    assert not np.array_equal(a.ctf, c.ctf)
    assert a.ctf.shape == (196, 2, 601) and a.ctf.dtype == np.complex64


def test_los_delay_equals_distance_over_c():
    p = presets.preset("laboratory")
    paths = trace(p.scene, p.receivers[:5], max_order=1)
    np.testing.assert_allclose(paths.tau[:, 0] * SPEED_OF_LIGHT, paths.distance_m, rtol=1e-12)

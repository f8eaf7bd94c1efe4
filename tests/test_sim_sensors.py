"""Sensors on the same paths: VNA, RSS, RTT, CSI, OFDM."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.errors import ParameterError
from wiloc_core.sim import channel, presets
from wiloc_core.sim.paths import trace
from wiloc_core.sim.scene import Person, Room, Scene
from wiloc_core.sim.sensors import csi, ofdm, rss, rtt, vna
from wiloc_core.sim.trajectory import random_walk

FREE = Scene(None, [0.0, 0.0, 1.2], carrier_hz=2.4e9)


def _line(distances, z=1.2):
    d = np.asarray(distances, dtype=float)
    return np.column_stack([d, np.zeros_like(d), np.full_like(d, z)])


# -- VNA ---------------------------------------------------------------------------------
def test_vna_noise_has_the_configured_snr():
    paths = trace(FREE, _line([2.0, 5.0]))
    f = channel.frequency_grid()
    snr = 100.0
    sweeps = vna.vna_sweeps(paths, f, n_sweeps=40, snr=snr, seed=0, dtype=np.complex128)
    H = channel.ctf(paths, f)
    noise = sweeps - H[:, None, :]
    measured = np.mean(np.abs(H) ** 2, axis=1) / np.mean(np.abs(noise) ** 2, axis=(1, 2))
    np.testing.assert_allclose(measured, snr, rtol=0.03)
    assert sweeps.shape == (2, 40, 601)


def test_vna_bad_parameters():
    paths = trace(FREE, _line([2.0]))
    f = channel.frequency_grid()
    for bad in (-10.0, 0.0, np.nan):
        with pytest.raises(ParameterError, match="snr"):
            vna.vna_sweeps(paths, f, snr=bad)
    with pytest.raises(ParameterError, match="freqs_hz"):
        vna.vna_sweeps(paths, np.array([]))
    with pytest.raises(ParameterError, match="freqs_hz"):
        vna.vna_sweeps(paths, f[::-1])
    with pytest.raises(ParameterError, match="n_sweeps"):
        vna.vna_sweeps(paths, f, n_sweeps=0)


# -- RSS ---------------------------------------------------------------------------------
@pytest.mark.parametrize("exponent", [2.0, 3.0])
def test_rss_slope_follows_the_configured_exponent(exponent):
    scene = Scene(None, [0.0, 0.0, 1.2], path_loss_exponent=exponent)
    d = np.geomspace(1.0, 40.0, 600)
    rng = np.random.default_rng(1)
    theta = rng.uniform(0, 2 * np.pi, d.size)
    rx = np.column_stack([d * np.cos(theta), d * np.sin(theta), np.full(d.size, 1.2)])
    values = rss.rss_dbm(trace(scene, rx), shadowing_sigma_db=4.0, seed=3)
    p0, n = rss.fit_log_distance(d, values)
    assert n == pytest.approx(exponent, abs=0.15)
    # Intercept: tx power + Friis at 1 m (40.05 dB at 2.4 GHz, Friis 1946).
    assert p0 == pytest.approx(20.0 - 40.05, abs=1.0)


def test_rss_shadowing_statistics_and_correlation():
    xy = np.column_stack([np.arange(2000) * 0.1, np.zeros(2000)])
    iid = rss.shadowing_db(xy[:500], 6.0, seed=0)
    assert np.std(iid) == pytest.approx(6.0, rel=0.1)
    corr = rss.shadowing_db(xy[:400], 6.0, decorrelation_m=2.0, seed=0)
    lag = int(2.0 / 0.1)
    rho = np.corrcoef(corr[:-lag], corr[lag:])[0, 1]
    assert 0.1 < rho < 0.7   # exp(-1) = 0.37 expected, wide band for one realisation


# -- RTT ---------------------------------------------------------------------------------
def test_rtt_is_unbiased_in_free_space():
    d = np.linspace(1.0, 30.0, 30)
    bursts = rtt.rtt_bursts(trace(FREE, _line(d)), n_bursts=40, seed=2)
    assert np.max(np.abs(bursts.bias_m)) < 0.01
    err = bursts.distance_m - d[:, None]
    sem = np.nanstd(err) / np.sqrt(np.sum(np.isfinite(err)))
    assert abs(np.nanmean(err)) < 4 * sem
    assert bursts.n_attempted == 7
    assert np.all(bursts.n_successful <= 7)


def test_rtt_nlos_bias_is_positive():
    room = Room(10.0, 8.0, 3.0)
    scene = Scene(room, [1.0, 4.0, 1.2])
    rx = np.column_stack([np.linspace(3.5, 9.0, 12), np.full(12, 4.0), np.full(12, 1.2)])
    blocked = scene.with_people([Person(2.0, 4.0, loss_db=25.0, radius_m=0.3)])
    los = rtt.rtt_bursts(trace(scene, rx, max_order=2), seed=0)
    nlos = rtt.rtt_bursts(trace(blocked, rx, max_order=2), seed=0)
    assert np.all(nlos.rss_dbm < los.rss_dbm)
    assert nlos.bias_m.mean() > 0.5
    assert nlos.bias_m.mean() > los.bias_m.mean()


def test_rtt_failures_rise_at_weak_signal_and_are_reported():
    bursts = rtt.rtt_bursts(trace(FREE, _line([2.0, 3000.0])), n_bursts=200, seed=4,
                            fail_rss_dbm=-60.0)
    ok = bursts.n_successful.mean(axis=1)
    assert ok[0] > ok[1]
    failed = ~bursts.success
    assert np.all(np.isnan(bursts.distance_m[failed]))
    with pytest.raises(ParameterError, match="burst_size"):
        rtt.rtt_bursts(trace(FREE, _line([2.0])), burst_size=1)


# -- CSI ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("loss_rate", "burst"), [(0.05, 4.0), (0.2, 1.5), (0.01, 10.0)])
def test_gilbert_elliott_loss_rate_and_burst_length(loss_rate, burst):
    lost = csi.gilbert_elliott_loss(400_000, loss_rate, burst, seed=7)
    assert lost.mean() == pytest.approx(loss_rate, rel=0.1)
    edges = np.diff(np.concatenate([[0], lost.astype(int), [0]]))
    runs = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]
    assert runs.mean() == pytest.approx(burst, rel=0.1)


def test_gilbert_elliott_rejects_bad_parameters():
    with pytest.raises(ParameterError, match="loss_rate"):
        csi.gilbert_elliott_loss(10, 1.2, 2.0)
    with pytest.raises(ParameterError, match="mean_burst"):
        csi.gilbert_elliott_loss(10, 0.1, 0.5)


def test_esp32_csi_frames():
    p = presets.preset("lofi-room")
    _, xy = random_walk(p.walk_area, 20.0, 100.0, seed=1)
    scene = p.scene.with_people([p.person.moved(*xy[0])])
    paths = trace(scene, p.receivers[0], people_xy=xy[:, None, :])
    frames = csi.esp32_csi(paths, loss_rate=0.05, mean_burst=3.0, seed=3)
    n = len(xy)
    assert frames.lost.shape == (n,)
    assert frames.csi.shape == (n - frames.lost.sum(), 56)
    assert np.all(np.abs(frames.csi.real) <= 128) and np.all(frames.csi.real == np.round(frames.csi.real))
    assert np.all(np.diff(frames.seq) > 0) and np.all(np.diff(frames.timestamp_s) >= 0)
    buf = frames.esp32_buffer()
    assert buf.shape == (len(frames.csi), 128) and buf.dtype == np.int8
    # Subcarrier k = -28 sits at FFT bin 36: entries (imag, real) at bytes 72, 73.
    assert buf[0, 72] == int(frames.csi[0, 0].imag) and buf[0, 73] == int(frames.csi[0, 0].real)
    # After AGC compensation the magnitude follows the true |H| (up to one scale).
    H = np.abs(channel.ctf(paths, p.scene.carrier_hz + frames.subcarriers * 312.5e3))[frames.seq]
    comp = np.abs(frames.compensated())
    scale = np.median(comp / H)
    assert np.median(np.abs(comp / H / scale - 1)) < 0.1
    with pytest.raises(ParameterError, match="fmt"):
        csi.subcarrier_indices("he20")
    assert csi.subcarrier_indices("lltf").size == 52


def test_walk_csi_same_seed_identical():
    a = presets.simulate_walk_csi(duration_s=5.0, seed=9)
    b = presets.simulate_walk_csi(duration_s=5.0, seed=9)
    np.testing.assert_array_equal(a[0].csi, b[0].csi)
    np.testing.assert_array_equal(a[2], b[2])
    _, xy = a[1], a[2]
    area = presets.preset("lofi-room").walk_area
    assert np.all((xy[:, 0] >= area[0]) & (xy[:, 0] <= area[2]))
    speed = np.linalg.norm(np.diff(xy, axis=0), axis=1) * 100.0
    assert speed.max() <= 2.0 + 1e-9


# -- OFDM --------------------------------------------------------------------------------
def test_ofdm_taps_single_path_on_a_sample_is_one_tap():
    d = 10 * 299_792_458.0 / 20e6      # 10 samples of 50 ns
    paths = trace(FREE, _line([d]))
    taps, t0 = ofdm.channel_taps(paths, reference="zero", n_taps=16)
    expected = paths.gain[0, 0] * np.exp(-2j * np.pi * paths.carrier_hz * paths.tau[0, 0])
    assert taps[0, 10] == pytest.approx(expected, rel=1e-9)
    assert np.max(np.abs(np.delete(taps[0], 10))) < 1e-12 * abs(expected)


def test_ofdm_taps_reproduce_the_csi_channel():
    p = presets.preset("eval-room")
    paths = trace(p.scene, p.receivers, max_order=2)
    taps, t0 = ofdm.channel_taps(paths)
    k = csi.subcarrier_indices("lltf")
    dft = taps @ np.exp(-2j * np.pi * np.outer(np.arange(taps.shape[1]), k) / 64)
    H = channel.ctf(paths, paths.carrier_hz + k * 312.5e3) * np.exp(2j * np.pi * np.outer(t0, k * 312.5e3))
    assert np.max(np.abs(dft - H)) / np.max(np.abs(H)) < 0.02
    # Through apply_channel, one OFDM symbol with a cyclic prefix comes out as H * X.
    rng = np.random.default_rng(0)
    X = np.zeros(64, complex)
    X[np.mod(k, 64)] = rng.choice([-1, 1], k.size)
    sym = np.fft.ifft(X)
    cp = 32
    y = ofdm.apply_channel(np.concatenate([sym[-cp:], sym]), taps)[0, cp:]
    Y = np.fft.fft(y)[np.mod(k, 64)]
    assert np.max(np.abs(Y - dft[0] * X[np.mod(k, 64)])) < 1e-9

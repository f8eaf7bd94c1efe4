"""Simulated EVAL packets (wiloc_core.data.eval_packets), the preamble sync steps
(wiloc_core.phy.sync) and the receiver front end of the OFDM sensor."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core import phy
from wiloc_core.data import eval_packets as ep
from wiloc_core.errors import ParameterError
from wiloc_core.sim.sensors.ofdm import receiver_front_end

CLEAN = {"snr_db": np.inf, "cfo_max_hz": 0.0, "drift_rad": 0.0}


@pytest.fixture(scope="module")
def taps():
    return ep.class_taps()


def test_same_seed_same_packets_and_classes_drawn_independently():
    a = ep.simulate_eval_packets(3, classes=[0, 25], seed=4)
    b = ep.simulate_eval_packets(3, classes=[0, 25], seed=4)
    for field in ("samples", "label", "symbols", "cfo_hz", "noise_var"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = ep.simulate_eval_packets(3, classes=[0, 25], seed=5)
    assert not np.array_equal(a.samples, c.samples)
    alone = ep.simulate_eval_packets(3, classes=[25], seed=4)
    np.testing.assert_array_equal(alone.samples, a.samples[a.label == 25])


def test_labels_cover_the_26_classes_in_order():
    p = ep.simulate_eval_packets(2, **CLEAN)
    assert len(ep.CLASS_NAMES) == 26 and ep.CLASS_NAMES[ep.EMPTY] == "empty"
    np.testing.assert_array_equal(p.label, np.repeat(np.arange(26), 2))
    assert p.samples.shape == (52, phy.frame_length(ep.N_SYMBOLS))
    assert p.symbols.shape == (52, ep.N_SYMBOLS, 48) and p.order == 16
    with pytest.raises(ParameterError, match="classes"):
        ep.simulate_eval_packets(2, classes=[26])
    with pytest.raises(ParameterError, match="n_per_class"):
        ep.simulate_eval_packets(0)


def test_the_channel_fits_the_guard_interval_and_the_person_changes_it(taps):
    assert taps.shape == (26, ep.N_TAPS) and ep.N_TAPS <= phy.CP_LEN + 1
    change = np.linalg.norm(taps - taps[ep.EMPTY], axis=1) / np.linalg.norm(taps[ep.EMPTY])
    assert change[ep.EMPTY] == 0 and change[:25].min() > 0.01
    # Spots 11-15 (the middle row, y = 3 m) stand on the TX-RX line: the LOS is blocked.
    power = ep.signal_power(taps)
    assert np.all(power[10:15] < 0.7 * power[ep.EMPTY])


def test_empty_room_and_person_packets_differ_beyond_noise():
    d = ep.simulate_eval_dataset(30, classes=[12, ep.EMPTY], snr_db=25.0, seed=1)
    amp = np.abs(d.csi)
    a, b = amp[d.label == 12], amp[d.label == ep.EMPTY]
    stderr = np.sqrt(a.var(axis=0) / len(a) + b.var(axis=0) / len(b))
    assert np.median(np.abs(a.mean(axis=0) - b.mean(axis=0)) / stderr) > 10


@pytest.mark.parametrize("snr_db", [10.0, 20.0, 30.0])
def test_snr_measured_on_the_preamble_is_the_one_asked(snr_db):
    p = ep.simulate_eval_packets(8, snr_db=snr_db, seed=2)
    measured = 10 * np.log10(np.mean(phy.preamble_snr(p.samples)))
    assert measured == pytest.approx(snr_db, abs=0.3)


def _pilot_referenced_channel(taps, label) -> np.ndarray:
    """H_k e^{-j arg sum_p H_p}: what the EVS of a noiseless link is, shape (n, 52)."""
    h = np.fft.fft(taps[label], phy.N_FFT, axis=-1)[:, phy.fft_bins(phy.USED_K)]
    return h * np.exp(-1j * np.angle(h[:, phy.PILOT_POS].sum(axis=1, keepdims=True)))


def test_noiseless_packets_decode_exactly_and_their_evs_is_the_channel(taps):
    """No noise: the EVS (eqs. 20-23 as rebuilt in wiloc_core.phy.evs) is the channel of the
    scene's taps with its phase measured from the pilots' common phase, exactly, with or
    without carrier offset and random start phase: the offset is removed. (The equalised
    error vectors X-tilde / X-hat - 1, the previous reading, are zero here instead.)"""
    p = ep.simulate_eval_packets(2, **CLEAN)
    rx = ep.receive_packets(p.samples, p.n_symbols)
    np.testing.assert_array_equal(rx.data_symbols, p.symbols)
    assert np.all(rx.order == 16)
    np.testing.assert_allclose(rx.evs, _pilot_referenced_channel(taps, p.label), atol=1e-12)
    assert np.abs(phy.equalized_error_vectors(rx.equalized, rx.reference)).max() < 1e-12
    # A carrier offset alone is removed by the preamble estimate and the pilots.
    q = ep.simulate_eval_packets(2, snr_db=np.inf, cfo_max_hz=100e3, drift_rad=0.0)
    rx = ep.receive_packets(q.samples, q.n_symbols)
    np.testing.assert_array_equal(rx.data_symbols, q.symbols)
    np.testing.assert_allclose(rx.evs, _pilot_referenced_channel(taps, q.label), atol=1e-9)
    assert np.max(np.abs(phy.preamble_offset(q.samples) - q.cfo_hz)) < 1e-6


def test_evs_phase_keeps_the_location_that_the_csi_phase_loses():
    """25 dB, random carrier offsets, start phases and drift, 60 packets per class: per
    subcarrier the EVS phase barely moves within a class (mean resultant length > 0.99)
    and its circular mean differs between classes by many standard errors; the CSI phase
    is spread by the offsets (resultant length < 0.4)."""
    classes = [0, 12, ep.EMPTY]
    d = ep.simulate_eval_dataset(60, classes=classes, snr_db=25.0, seed=11)
    mean, se = {}, {}
    for c in classes:
        z = np.exp(1j * np.angle(d.evs[d.label == c]))
        m = z.mean(axis=0)
        r = np.abs(m)
        assert r.min() > 0.99
        assert np.abs(np.exp(1j * np.angle(d.csi[d.label == c])).mean(axis=0)).max() < 0.4
        rho2 = np.mean((z * np.conj(m / r)) ** 2, axis=0).real
        mean[c], se[c] = np.angle(m), np.sqrt((1 - rho2) / (2 * r**2) / len(z))
    for a, b in ((0, 12), (0, ep.EMPTY), (12, ep.EMPTY)):
        diff = np.abs(np.angle(np.exp(1j * (mean[a] - mean[b]))))
        assert np.median(diff / np.hypot(se[a], se[b])) > 10, (a, b)


def test_preamble_offset_error_matches_the_closed_form_at_25_db():
    p = ep.simulate_eval_packets(4, snr_db=25.0, drift_rad=0.0, seed=3)
    err = phy.preamble_offset(p.samples) - p.cfo_hz
    # The fine estimate's phase, arg of a sum of 64 products r2 r1*, has a standard
    # deviation of 1 / sqrt(64 SNR) rad at high SNR, i.e. F_s / (2 pi 64 sqrt(64 SNR)) Hz
    # (about 350 Hz at 25 dB; 104 packets estimate it within about 15 %).
    theory = 20e6 / (2 * np.pi * 64 * np.sqrt(64 * 10**2.5))
    rms = np.sqrt(np.mean(err**2))
    assert 0.6 * theory < rms < 1.4 * theory


def test_features_shapes_dtypes_and_calibration():
    d = ep.simulate_eval_dataset(6, classes=[0, 7, ep.EMPTY], snr_db=20.0, seed=6)
    assert len(d) == 18 and d.csi.shape == (18, 52) and d.evs.shape == (18, 52)
    f = ep.eval_features(d)
    assert tuple(f) == ep.FEATURES
    for name, x in f.items():
        assert x.shape == (18, 52) and x.dtype == np.float32, name
        assert np.all(np.isfinite(x))
    assert np.all(np.abs(f["csi_phase"]) <= np.pi + 1e-6)
    raw = ep.eval_features(d, beta_amplitude=0.0, beta_phase=0.0)
    np.testing.assert_allclose(raw["evs_amplitude"], np.abs(d.evs), rtol=1e-6)
    # beta -> large: every packet of a class gets (nearly) the class's mean raw EVS.
    smooth = ep.eval_features(d, beta_amplitude=1e9)["evs_amplitude"]
    for c in (0, 7, ep.EMPTY):
        rows = d.label == c
        np.testing.assert_allclose(smooth[rows], np.abs(d.evs[rows].mean(axis=0))[None]
                                   .repeat(rows.sum(), 0), rtol=1e-5)


def test_noiseless_features_evs_amplitude_is_the_csi_amplitude():
    """The paper (§IV, on Fig. 7): the CSI amplitude (eq. 13) equals the EVS amplitude
    (eq. 22) once the offset's exponential term is removed; without noise they agree."""
    d = ep.simulate_eval_dataset(2, classes=[3, ep.EMPTY], **CLEAN)
    f = ep.eval_features(d)
    assert np.max(f["csi_amplitude"]) > 0
    np.testing.assert_allclose(f["evs_amplitude"], f["csi_amplitude"], rtol=1e-5)
    assert d.symbol_errors.sum() == 0


def test_dataset_in_blocks_equals_the_packets_path():
    kw = {"classes": [1, ep.EMPTY], "snr_db": 15.0, "seed": 9}
    a = ep.simulate_eval_dataset(3, **kw)
    b = ep.reception_dataset(ep.simulate_eval_packets(3, **kw))
    for field in ("csi", "evs", "label", "order", "snr", "symbol_errors"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_receiver_front_end_offset_drift_and_noise():
    y = np.ones((2, 800), dtype=complex)
    r = receiver_front_end(y, cfo_hz=[0.0, 1e3], phase_rad=[0.5, 0.0])
    np.testing.assert_allclose(r[0], np.exp(0.5j))
    np.testing.assert_allclose(np.angle(r[1, 100] / r[1, 0]), 2 * np.pi * 1e3 * 100 / 20e6)
    drift = receiver_front_end(y, drift_rad=0.1, seed=0)
    steps = np.diff(np.unwrap(np.angle(drift[:, ::80]), axis=1), axis=1)
    assert 0.02 < steps.std() < 0.3
    noisy = receiver_front_end(np.zeros((1, 100_000)), noise_var=0.5, seed=1)
    assert np.var(noisy) == pytest.approx(0.5, rel=0.02)
    with pytest.raises(ParameterError, match="noise_var"):
        receiver_front_end(y, noise_var=-1.0)

"""The 802.11 OFDM PHY layer and the EVAL receiver chain (wiloc_core.phy)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.special import erfc

from wiloc_core import phy
from wiloc_core.errors import ParameterError

#: Pilot polarity p_0..p_126 as published in IEEE 802.11-2020 §17.3.5.10 (+ = +1, - = -1).
PUBLISHED_POLARITY = (
    "++++---+----++-+--++-++-++++++-+++-++--+++-+---+-+--+--+++++--++--+-+-++---++----"
    "+--+-++++-+-+-+-----+-++-+-+++--+---+++-------"
)
#: Noise variance per time sample that gives Es/N0 = 1 per data subcarrier
#: (the receiver's FFT scaling maps time noise sigma^2 to sigma^2 * 52 / 64 per subcarrier).
UNIT_ESN0_NOISE = phy.N_FFT / phy.USED_K.size


def _noise_var(esn0_db: float) -> float:
    return UNIT_ESN0_NOISE / 10 ** (esn0_db / 10)


# -- layering ------------------------------------------------------------------------------
def test_phy_imports_nothing_of_the_simulator():
    code = ("import sys, wiloc_core.phy; "
            "bad = [m for m in sys.modules if m.startswith('wiloc_core.sim')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sensors_take_their_numerology_from_the_phy_layer():
    from wiloc_core.sim.sensors import csi, ofdm, rss, vna

    assert csi.subcarrier_indices is phy.subcarrier_indices
    assert csi.subcarrier_frequencies is phy.subcarrier_frequencies
    assert csi.N_FFT == phy.N_FFT and csi.SUBCARRIER_SPACING_HZ == phy.SUBCARRIER_SPACING_HZ
    assert ofdm.SAMPLE_RATE_HZ == phy.SAMPLE_RATE_HZ
    assert vna.check_snr is phy.check_snr and csi.check_snr is phy.check_snr
    assert rss.subcarrier_frequencies is phy.subcarrier_frequencies


# -- numerology ------------------------------------------------------------------------------
def test_subcarrier_maps_of_20_mhz():
    assert phy.USED_K.size == 52 and phy.DATA_K.size == 48
    np.testing.assert_array_equal(phy.USED_K[phy.PILOT_POS], [-21, -7, 7, 21])
    assert 0 not in phy.USED_K and set(phy.DATA_K).isdisjoint(phy.PILOT_K)
    assert phy.subcarrier_indices("ht20").size == 56
    assert phy.SUBCARRIER_SPACING_HZ * phy.N_FFT == phy.SAMPLE_RATE_HZ
    assert phy.SYMBOL_LEN / phy.SAMPLE_RATE_HZ == pytest.approx(4e-6)
    np.testing.assert_array_equal(phy.fft_bins([-26, -1, 1, 26]), [38, 63, 1, 26])
    with pytest.raises(ParameterError, match="fmt"):
        phy.subcarrier_indices("he20")


# -- pilots --------------------------------------------------------------------------------
def _scrambler_by_recurrence(n: int) -> np.ndarray:
    """x^7 + x^4 + 1 written as a recurrence on the output: b_n = b_{n-7} xor b_{n-4},
    with the seven bits before the first output all ones (the all-ones state)."""
    b = [1] * 7
    for _ in range(n):
        b.append(b[-7] ^ b[-4])
    return np.array(b[7:], dtype=np.uint8)


def test_polarity_sequence_is_the_scrambler_output():
    np.testing.assert_array_equal(phy.scrambler_bits(300), _scrambler_by_recurrence(300))
    np.testing.assert_array_equal(phy.POLARITY, 1 - 2 * _scrambler_by_recurrence(127).astype(float))
    np.testing.assert_array_equal(phy.POLARITY[:8], [1, 1, 1, 1, -1, -1, -1, 1])
    published = np.array([1.0 if c == "+" else -1.0 for c in PUBLISHED_POLARITY])
    np.testing.assert_array_equal(phy.POLARITY, published)


def test_scrambler_is_maximal_length_and_pilots_follow_the_polarity():
    bits = phy.scrambler_bits(254)
    np.testing.assert_array_equal(bits[:127], bits[127:])
    assert bits[:127].sum() == 64  # an m-sequence of period 127 has 64 ones
    pilots = phy.pilot_symbols(130)
    np.testing.assert_array_equal(pilots[0], np.array([1, 1, 1, -1]) * phy.POLARITY[1])
    np.testing.assert_array_equal(pilots[127], pilots[0])  # p_128 = p_1
    np.testing.assert_array_equal(pilots[:, 0], phy.pilot_polarity(np.arange(1, 131)))
    with pytest.raises(ParameterError, match="state"):
        phy.scrambler_bits(4, state=0)


# -- constellations --------------------------------------------------------------------------
@pytest.mark.parametrize("order", phy.ORDERS)
def test_constellation_has_unit_power_and_is_gray(order):
    pts = phy.points(order)
    assert np.mean(np.abs(pts) ** 2) == pytest.approx(1.0, abs=1e-12)
    assert np.unique(np.round(pts, 12)).size == order
    d = np.abs(pts[:, None] - pts[None, :])
    nearest = np.isclose(d, phy.min_distance(order))
    label = np.arange(order)
    differing = np.array([[bin(a ^ b).count("1") for b in label] for a in label])
    assert np.all(differing[nearest] == 1)  # neighbours differ in exactly one bit


def test_sixteen_qam_table_of_the_standard():
    # I from b0 b1, Q from b2 b3: 00 -> -3, 01 -> -1, 11 -> +1, 10 -> +3, times 1/sqrt(10).
    bits = np.array([0, 0, 1, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(phy.map_bits(bits, 16), np.array([-3 + 3j, -1 + 1j]) / np.sqrt(10))


@pytest.mark.parametrize("order", phy.ORDERS)
def test_map_demap_round_trip(order):
    g = np.random.default_rng(0)
    bits = g.integers(0, 2, size=(3, 48 * phy.bits_per_symbol(order)))
    np.testing.assert_array_equal(phy.demap_hard(phy.map_bits(bits, order), order), bits)


def test_gray_map_matches_commpy():
    """scikit-commpy's square QAM uses the same per-axis Gray code; its PSK(2) maps 0 -> +1,
    the opposite of 802.11's BPSK (0 -> -1), so BPSK is compared up to that sign."""
    modulation = pytest.importorskip("commpy.modulation",
                                     reason="scikit-commpy is not installed (dev extra)")
    for order in (4, 16, 64):
        b = phy.bits_per_symbol(order)
        bits = ((np.arange(order)[:, None] >> np.arange(b - 1, -1, -1)) & 1).ravel()
        theirs = modulation.QAMModem(order).modulate(bits) * phy.K_MOD[order]
        np.testing.assert_allclose(phy.map_bits(bits, order), theirs, atol=1e-12)
    np.testing.assert_allclose(phy.map_bits([0, 1], 2),
                               -modulation.PSKModem(2).modulate(np.array([0, 1])), atol=1e-12)


def test_mapping_rejects_bad_input():
    with pytest.raises(ParameterError, match="order"):
        phy.map_bits([0, 1, 1], 8)
    with pytest.raises(ParameterError, match="bits"):
        phy.map_bits([0, 1, 1], 16)
    with pytest.raises(ParameterError, match="bits"):
        phy.map_bits([0, 2], 4)


# -- preamble and transmitter --------------------------------------------------------------------
def test_preamble_fields():
    s, ltf = phy.stf(), phy.ltf()
    assert s.shape == ltf.shape == (160,)
    np.testing.assert_allclose(s[16:], s[:-16], atol=1e-12)  # 0.8 us periodicity
    np.testing.assert_allclose(ltf[32:96], ltf[96:], atol=1e-12)  # two identical symbols
    np.testing.assert_allclose(ltf[:32], ltf[-32:], atol=1e-12)  # GI2 = the symbol's tail
    assert np.mean(np.abs(s) ** 2) == pytest.approx(1.0)
    assert np.mean(np.abs(ltf) ** 2) == pytest.approx(1.0)
    assert phy.LTF_USED.sum() == 10
    np.testing.assert_array_equal(phy.LTF_USED[phy.PILOT_POS], [1, -1, 1, 1])


def test_transmitter_layout_and_seed():
    a = phy.transmit(3, 5, 64, seed=7)
    b = phy.transmit(3, 5, 64, seed=7)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.samples.shape == (3, phy.frame_length(5)) == (3, 320 + 5 * 80)
    body = a.samples[:, 320:].reshape(3, 5, 80)
    np.testing.assert_allclose(body[..., :16], body[..., -16:])  # cyclic prefix
    assert np.mean(np.abs(a.samples[:, 320:]) ** 2) == pytest.approx(1.0, rel=0.05)
    with pytest.raises(ParameterError, match="n_symbols"):
        phy.transmit(1, 0)


# -- receiver chain ------------------------------------------------------------------------------
@pytest.mark.parametrize("order", phy.ORDERS)
def test_clean_link_returns_the_symbols_and_the_unit_channel_as_evs(order):
    """No channel, noise or offset: H_k = 1, so the EVS (the channel seen on the DATA
    symbols, phase from the pilots) is exactly 1 and the equalised error vectors 0."""
    tx = phy.transmit(8, 12, order, seed=1)
    rx = phy.receive(tx.samples, 12)
    np.testing.assert_array_equal(rx.order, order)
    np.testing.assert_array_equal(rx.data_symbols, tx.symbols)
    np.testing.assert_array_equal(phy.demap_hard(rx.data_symbols, order).reshape(tx.bits.shape),
                                  tx.bits)
    np.testing.assert_allclose(rx.equalized, tx.grid, atol=1e-12)
    np.testing.assert_allclose(rx.csi, 1.0, atol=1e-12)
    np.testing.assert_allclose(rx.phase, 0.0, atol=1e-12)
    np.testing.assert_allclose(rx.evs, 1.0, atol=1e-12)
    assert np.abs(phy.equalized_error_vectors(rx.equalized, rx.reference)).max() < 1e-12


def test_clean_multipath_inside_the_cyclic_prefix_is_equalised_exactly():
    """A 12-tap channel (shorter than the 16-sample prefix) through the simulator's OFDM
    sensor, no noise, no offset: the LTF estimate equals the channel's DFT H_k, and the EVS
    is H_k rotated by minus the pilots' common phase arg sum_p H_p (its phase reference)."""
    from wiloc_core.sim.sensors.ofdm import apply_channel

    g = np.random.default_rng(13)
    taps = phy.complex_normal((5, 12), g) * np.exp(-np.arange(12) / 3)
    tx = phy.transmit(5, 8, 64, seed=14)
    rx = phy.receive(apply_channel(tx.samples, taps), 8)
    h = np.fft.fft(taps, phy.N_FFT)[:, phy.fft_bins(phy.USED_K)]
    np.testing.assert_allclose(rx.csi, h, atol=1e-12)
    np.testing.assert_array_equal(rx.order, 64)
    np.testing.assert_array_equal(rx.data_symbols, tx.symbols)
    theta_p = np.angle(h[:, phy.PILOT_POS].sum(axis=1, keepdims=True))
    np.testing.assert_allclose(rx.evs, h * np.exp(-1j * theta_p), atol=1e-9)
    np.testing.assert_allclose(np.abs(rx.evs), np.abs(rx.csi), atol=1e-9)  # same amplitude
    assert np.abs(phy.equalized_error_vectors(rx.equalized, rx.reference)).max() < 1e-9


def test_pilots_remove_a_per_symbol_phase_that_the_csi_keeps():
    """The RFO model of eqs. 7-8: a random phase per OFDM symbol, common to its subcarriers.
    The pilot estimate (eq. 14) recovers it relative to the LTF and the CSI phase carries
    the LTF's offset; the EVS is the channel with its phase taken from the pilots, the same
    for every draw of the offsets, and the equalised error vectors are zero."""
    g = np.random.default_rng(3)
    tx = phy.transmit(6, 10, 16, seed=2)
    ltf, data = phy.ofdm_demodulate(tx.samples, 10)
    h = np.exp(1j * g.uniform(-np.pi, np.pi, 52)) * g.uniform(0.3, 2.0, 52)
    phi_ltf = g.uniform(-np.pi, np.pi, (6, 1))
    phi = g.uniform(-np.pi, np.pi, (6, 10))
    csi = phy.ltf_channel_estimate(ltf * h * np.exp(1j * phi_ltf)[..., None])
    y = data * h * np.exp(1j * phi)[..., None]
    est = phy.pilot_phase(y, csi)
    np.testing.assert_allclose(np.angle(np.exp(1j * (est - (phi - phi_ltf)))), 0.0, atol=1e-12)
    np.testing.assert_allclose(csi, h * np.exp(1j * phi_ltf), atol=1e-12)
    eq = phy.equalize(y, csi, est)
    ref = phy.reference_symbols(eq, np.full(6, 16))
    np.testing.assert_array_equal(ref, tx.grid)
    theta_p = np.angle(h[phy.PILOT_POS].sum())          # the EVS's phase reference
    psi = phy.pilot_common_phase(y)
    np.testing.assert_allclose(np.angle(np.exp(1j * (psi - phi - theta_p))), 0.0, atol=1e-12)
    evs = phy.error_vector_spectrum(phy.raw_error_vectors(y, ref))
    np.testing.assert_allclose(evs, np.broadcast_to(h * np.exp(-1j * theta_p), evs.shape),
                               atol=1e-12)
    # With the chain's eq. 14 phase instead, Y e^{-j phi-hat} / X-hat is the CSI again,
    # the LTF's offset included: that phase reference would not remove the RFO.
    np.testing.assert_allclose(
        phy.error_vector_spectrum(phy.raw_error_vectors(y, ref, phase=est)), csi, atol=1e-12)
    assert np.abs(phy.error_vector_spectrum(phy.equalized_error_vectors(eq, ref))).max() < 1e-12


@pytest.mark.parametrize("offset_hz", [-20e3, 2e3, 45e3])
def test_injected_frequency_offset_is_recovered(offset_hz):
    """A carrier offset applied to the samples, at 30 dB Es/N0, 40 DATA symbols: the slope of
    the pilot phases gives it back within 250 Hz per packet and 40 Hz on the mean of 20
    packets. (The estimate's std is about 6 Hz at 2 kHz and 50 Hz at 45 kHz, where the
    inter-carrier interference of an uncorrected offset adds to the noise; 250 Hz is 0.6 %
    of 45 kHz and 0.1 % of the +-40 ppm tolerance at 5.22 GHz.)"""
    tx = phy.transmit(20, 40, 16, seed=4)
    y = phy.frequency_shift(tx.samples, offset_hz, phase_rad=1.0)
    y = phy.awgn(y, _noise_var(30.0), seed=5)
    ltf, data = phy.ofdm_demodulate(y, 40)
    est = phy.frequency_offset_from_phase(phy.pilot_phase(data, phy.ltf_channel_estimate(ltf)))
    np.testing.assert_allclose(est, offset_hz, atol=250.0)
    assert abs(np.mean(est) - offset_hz) < 40.0


def test_frequency_offset_recovered_from_exact_phases():
    n = np.arange(30)
    phase = np.angle(np.exp(1j * (0.3 + 2 * np.pi * 7e3 * 4e-6 * n)))
    assert phy.frequency_offset_from_phase(phase) == pytest.approx(7e3, rel=1e-12)


@pytest.mark.parametrize("order", phy.ORDERS)
def test_kmeans_identifies_each_order_on_clean_constellations(order):
    g = np.random.default_rng(order)
    pts = phy.points(order)
    symbols = pts[g.integers(0, order, size=(10, 480))]
    np.testing.assert_array_equal(phy.classify_modulation(symbols), order)
    scores = phy.kmeans_scores(symbols)
    assert scores[:, phy.ORDERS.index(order)].max() < 1e-9
    assert np.all(scores[:, : phy.ORDERS.index(order)] > 0.05)  # fewer clusters fit badly


@pytest.mark.parametrize("order", phy.ORDERS)
def test_kmeans_identifies_each_order_at_25_db(order):
    tx = phy.transmit(40, 20, order, seed=6)
    rx = phy.receive(phy.awgn(tx.samples, _noise_var(25.0), seed=7), 20)
    np.testing.assert_array_equal(rx.order, order)


def _ser_16qam(esn0: np.ndarray) -> np.ndarray:
    """Symbol error rate of Gray 16-QAM over AWGN with coherent detection (closed form):
    1 - (1 - p)^2 with p = 2 (1 - 1/4) Q(sqrt(3 Es/N0 / 15)) per axis."""
    q = 0.5 * erfc(np.sqrt(3 * esn0 / 15) / np.sqrt(2))
    return 1 - (1 - 1.5 * q) ** 2


@pytest.mark.parametrize("esn0_db", [10.0, 13.0, 16.0])
def test_16qam_symbol_error_rate_matches_the_closed_form(esn0_db):
    """OFDM frames through AWGN, the receiver's FFT, ZF equalisation and hard decisions with
    the true channel (H = 1, no offset: the closed form assumes coherent detection), 480 000
    symbols: within 10 % of the closed form (the counting error is below 2 %)."""
    tx = phy.transmit(500, 20, 16, seed=8)
    y = phy.awgn(tx.samples, _noise_var(esn0_db), seed=9)
    _, data = phy.ofdm_demodulate(y, 20)
    eq = phy.equalize(data, np.ones(52), np.zeros(data.shape[:-1]))
    decided = phy.hard_decision(eq[..., phy.DATA_POS], 16)
    ser = np.mean(decided != tx.symbols)
    assert ser == pytest.approx(_ser_16qam(10 ** (esn0_db / 10)), rel=0.10)


def test_full_chain_pays_for_its_two_ltf_symbols():
    """With the LTF estimate and pilot phase instead of the true channel, the SER rises above
    the coherent closed form but stays below it at a 1.76 dB lower SNR times 1.5 (averaging
    two LTF symbols leaves channel-estimate noise of half the data noise)."""
    esn0_db = 13.0
    tx = phy.transmit(500, 20, 16, seed=10)
    rx = phy.receive(phy.awgn(tx.samples, _noise_var(esn0_db), seed=11), 20, order=16)
    ser = np.mean(rx.data_symbols != tx.symbols)
    esn0 = 10 ** (esn0_db / 10)
    assert _ser_16qam(esn0) * 1.2 < ser < 1.5 * _ser_16qam(esn0 / 1.5)


# -- error vector spectrum -----------------------------------------------------------------------
def test_evs_phase_is_stable_across_random_offsets_while_the_csi_phase_is_not():
    """One channel, 40 packets at 30 dB Es/N0, each with its own carrier offset (up to
    5 kHz, tracked by the pilots) and start phase: the EVS phase of every subcarrier
    keeps its value from packet to packet (mean resultant length near 1), the CSI phase
    is spread over the circle by the LTF's offset (near 0)."""
    from wiloc_core.sim.sensors.ofdm import apply_channel

    g = np.random.default_rng(21)
    taps = phy.complex_normal((1, 8), g) * np.exp(-np.arange(8) / 2)
    tx = phy.transmit(40, 20, 16, seed=22)
    y = phy.frequency_shift(apply_channel(tx.samples, taps), g.uniform(-5e3, 5e3, 40),
                            phase_rad=g.uniform(-np.pi, np.pi, 40))
    rx = phy.receive(phy.awgn(y, _noise_var(30.0), seed=23), 20, order=16)
    h = np.fft.fft(taps[0], phy.N_FFT)[phy.fft_bins(phy.USED_K)]
    spread = {k: np.abs(np.mean(np.exp(1j * np.angle(z)), axis=0))
              for k, z in (("evs", rx.evs), ("csi", rx.csi))}
    assert spread["evs"].min() > 0.99 and spread["csi"].max() < 0.5
    expected = h * np.exp(-1j * np.angle(h[phy.PILOT_POS].sum()))
    np.testing.assert_allclose(rx.evs.mean(axis=0), expected, atol=0.05 * np.abs(h).max())


def test_raw_error_vectors_reject_a_zero_reference():
    with pytest.raises(ParameterError, match="reference"):
        phy.raw_error_vectors(np.ones((1, 2, 52)), np.zeros((1, 2, 52)))
    with pytest.raises(ParameterError, match="reference"):
        phy.equalized_error_vectors(np.ones((1, 2, 52)), np.zeros((1, 2, 52)))


# -- EVS calibration -----------------------------------------------------------------------------
def test_calibration_blends_raw_and_time_average():
    g = np.random.default_rng(12)
    evs = g.standard_normal((50, 52)) + 1j * g.standard_normal((50, 52))
    np.testing.assert_allclose(phy.calibrate(evs, 0.0), evs)
    np.testing.assert_allclose(phy.calibrate(evs, 1e9), np.broadcast_to(evs.mean(0), evs.shape),
                               atol=1e-7)
    beta = 4.0
    np.testing.assert_allclose(phy.calibrate(evs, beta),
                               (evs + beta * evs.mean(0)) / (1 + beta))
    moving = phy.calibrate(evs, beta, window=5)
    np.testing.assert_allclose(moving[10], (evs[10] + beta * evs[6:11].mean(0)) / (1 + beta))
    np.testing.assert_allclose(moving[1], (evs[1] + beta * evs[:2].mean(0)) / (1 + beta))
    # averaging shrinks the noise: the spread across packets falls as beta grows
    assert np.std(phy.calibrate(evs, 6.0), axis=0).mean() < 0.2 * np.std(evs, axis=0).mean()
    with pytest.raises(ParameterError, match="beta"):
        phy.calibrate(evs, -1.0)
    with pytest.raises(ParameterError, match="window"):
        phy.calibrate(evs, 1.0, window=0)


def test_features_and_errors_name_the_field():
    amp, ph = phy.amplitude_phase(np.array([2j, -1.0]))
    np.testing.assert_allclose(amp, [2, 1])
    np.testing.assert_allclose(ph, [np.pi / 2, np.pi])
    with pytest.raises(ParameterError, match="samples"):
        phy.receive(np.zeros((1, 100), complex), 4)
    with pytest.raises(ParameterError, match="csi"):
        phy.equalize(np.ones((1, 2, 52)), np.zeros(52), np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="order"):
        phy.hard_decision(np.ones(3), 8)
    with pytest.raises(ParameterError, match="snr"):
        phy.check_snr(0.0)


def test_calibration_moving_average_reading():
    """The second reading of eq. 24: beta packets averaged, causally."""
    rng = np.random.default_rng(5)
    evs = rng.normal(size=(12, 4)) + 1j * rng.normal(size=(12, 4))
    np.testing.assert_allclose(phy.calibrate(evs, 1.0, form="moving_average"), evs)
    out = phy.calibrate(evs, 3.0, form="moving_average")
    np.testing.assert_allclose(out[5], evs[3:6].mean(axis=0))
    np.testing.assert_allclose(out[0], evs[0])
    np.testing.assert_allclose(out[1], evs[:2].mean(axis=0))
    with pytest.raises(ParameterError, match="form"):
        phy.calibrate(evs, 3.0, form="other")

"""ESP32-style 802.11n HT20 channel state information (CSI).

A CSI frame is the channel of eq. (1) sampled on the occupied subcarriers
``f_c + k * 312.5 kHz`` (IEEE 802.11-2020 §17.3.2, §19.3) and then distorted the way a
commodity receiver distorts it (Xie, Li and Li, MobiCom 2015; the ESP-IDF Wi-Fi guide, 'Channel State Information'):

.. math:: \\hat H_{n,k} = Q_8\\left( 10^{g_n/20} \\left[ H_{n,k}
          e^{j(\\beta_n - 2\\pi k \\delta_n / 64)} + W_{n,k} \\right] \\right)

- ``beta_n ~ U[-pi, pi)``: random common phase per packet (residual CFO and PLL
  start phase; Xie et al. 2015);
- ``delta_n``: timing offset in samples (packet-detection delay plus the SFO slope),
  a linear phase slope of -2 pi delta / 64 per subcarrier (Speth et al., IEEE Trans. Commun. 47(11), 1999);
- ``W``: receiver noise at a given SNR;
- ``g_n``: automatic gain control in integer dB steps that keeps the CSI magnitude
  near a target, with hysteresis and occasional jumps; reported per packet so it
  can be compensated (the gain-compensation API of Espressif's esp-csi; the jump
  process is our assumption);
- ``Q_8``: rounding to int8 for the real and imaginary parts (ESP-IDF Wi-Fi guide);
- packet loss from a Gilbert-Elliott two-state Markov chain, parameterised by the
  long-run loss rate and the mean burst length (our assumption: a few % at
  100 Hz, bursty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.phy.noise import check_snr
from wiloc_core.phy.numerology import (  # noqa: F401  (subcarrier_frequencies: re-exported)
    N_FFT,
    SUBCARRIER_SPACING_HZ,
    subcarrier_frequencies,
    subcarrier_indices,
)
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.channel import ctf
from wiloc_core.sim.paths import PathSet


def gilbert_elliott_loss(n_packets: int, loss_rate: float, mean_burst: float, *,
                         seed=None) -> np.ndarray:
    """Bursty packet loss from a two-state (good / bad) Markov chain.

    Packets are lost in the bad state and received in the good state. With
    transition probabilities p (good -> bad) and r (bad -> good) the stationary loss
    rate is p / (p + r) and bad runs last 1 / r packets on average, so

    .. math:: r = 1 / \\bar b, \\qquad p = \\frac{\\epsilon\\, r}{1 - \\epsilon}

    for a loss rate epsilon and mean burst length b-bar. The chain starts in its
    stationary distribution.

    Parameters
    ----------
    n_packets : int
    loss_rate : float in [0, 1)
    mean_burst : float >= 1, packets
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, bool, shape (n_packets,)
        True where the packet is lost.
    """
    if not 0 <= loss_rate < 1:
        raise ParameterError("loss_rate", "a probability in [0, 1)", loss_rate)
    if not mean_burst >= 1:
        raise ParameterError("mean_burst", "a mean burst length >= 1 packet", mean_burst)
    g = make_rng(seed)
    lost = np.zeros(int(n_packets), dtype=bool)
    if loss_rate == 0 or n_packets == 0:
        return lost
    r = 1.0 / mean_burst
    p = loss_rate * r / (1 - loss_rate)
    if p >= 1:
        raise ParameterError("mean_burst", "a burst length compatible with the loss rate "
                             "(loss_rate / (1 - loss_rate) <= mean_burst)", mean_burst)
    # Alternate geometric sojourns: good runs have mean 1/p, bad runs mean 1/r.
    bad = g.random() < loss_rate
    pos = 0
    while pos < n_packets:
        n_runs = max(16, int(2 * (n_packets - pos) * p) + 16)
        good_runs = g.geometric(p, size=n_runs)
        bad_runs = g.geometric(r, size=n_runs)
        runs = np.stack([bad_runs, good_runs] if bad else [good_runs, bad_runs], axis=1).ravel()
        states = np.tile([bad, not bad], n_runs)
        ends = pos + np.cumsum(runs)
        starts = ends - runs
        for s, e, st in zip(starts, ends, states, strict=True):
            if s >= n_packets:
                break
            if st:
                lost[s:min(e, n_packets)] = True
        pos = int(ends[-1])
    return lost


def _agc_gain_db(power_db, target_db, *, hysteresis_db, jump_prob, g):
    """Integer-dB AGC gain per packet: re-centres when off by more than the hysteresis."""
    ideal = target_db - power_db
    gain = np.empty(len(power_db), dtype=np.int16)
    jumps = g.random(len(power_db)) < jump_prob
    steps = g.choice(np.array([-2, -1, 1, 2]), size=len(power_db))
    current = int(np.round(ideal[0])) if len(ideal) else 0
    for n, want in enumerate(ideal):
        if abs(want - current) > hysteresis_db:
            current = int(np.round(want))
        elif jumps[n]:
            current = int(np.clip(current + steps[n], np.floor(want - hysteresis_db),
                                  np.ceil(want + hysteresis_db)))
        gain[n] = current
    return gain


@dataclass(frozen=True)
class CsiFrames:
    """Received CSI frames (lost packets removed).

    Attributes
    ----------
    csi : numpy.ndarray, complex64, shape (n_received, n_sc)
        Integer-valued (int8 range) real and imaginary parts, AGC gain applied.
    subcarriers : numpy.ndarray, int64, shape (n_sc,)
        Subcarrier indices k, ascending.
    timestamp_s : numpy.ndarray, float64, shape (n_received,), s
    seq : numpy.ndarray, int64, shape (n_received,)
        Index of each received packet in the transmitted sequence.
    rssi_dbm : numpy.ndarray, int16, shape (n_received,), dBm
    agc_gain_db : numpy.ndarray, int16, shape (n_received,), dB
        Gain applied to each packet; multiply by 10**(-gain/20) to compensate.
    lost : numpy.ndarray, bool, shape (n_packets,)
        Loss mask over all transmitted packets.
    rate_hz : float
        Nominal packet rate.
    """

    csi: np.ndarray
    subcarriers: np.ndarray
    timestamp_s: np.ndarray
    seq: np.ndarray
    rssi_dbm: np.ndarray
    agc_gain_db: np.ndarray
    lost: np.ndarray
    rate_hz: float

    def compensated(self) -> np.ndarray:
        """CSI with the AGC gain removed; complex64 (n_received, n_sc)."""
        return (self.csi * 10 ** (-self.agc_gain_db[:, None] / 20)).astype(np.complex64)

    def esp32_buffer(self) -> np.ndarray:
        """The frames as ESP32 CSI buffers of one 20 MHz LTF field.

        64 entries in FFT order (k = 0..31 then -32..-1), two int8 each, imaginary
        first then real (ESP-IDF Wi-Fi guide, 'Channel State Information'); unused bins are 0.

        Returns
        -------
        numpy.ndarray, int8, shape (n_received, 128)
        """
        buf = np.zeros((len(self.csi), N_FFT, 2), dtype=np.int8)
        bins = np.mod(self.subcarriers, N_FFT)
        buf[:, bins, 0] = self.csi.imag.astype(np.int8)
        buf[:, bins, 1] = self.csi.real.astype(np.int8)
        return buf.reshape(len(self.csi), 2 * N_FFT)


def esp32_csi(paths: PathSet, *, rate_hz: float = 100.0, fmt: str = "ht20", snr: float = 10**2.5,
              timing_offset_samples: tuple = (0.0, 0.3), loss_rate: float = 0.02,
              mean_burst: float = 3.0, target_rms: float = 20.0, hysteresis_db: float = 3.0,
              agc_jump_prob: float = 0.01, tx_power_dbm: float = 20.0,
              timestamp_jitter_s: float = 1e-3, seed=None) -> CsiFrames:
    """Simulate the CSI an ESP32 reports for a sequence of packets.

    Parameters
    ----------
    paths : PathSet
        One link per packet (e.g. ``trace(scene, rx, people_xy=track)`` for a person
        walking along ``track`` sampled at ``rate_hz``).
    rate_hz : float
        Packet rate (Hz); Espressif's router example and LoFi use 100 Hz
        (paper 002 §IV).
    fmt : {"ht20", "lltf"}
        56 (HT-LTF) or 52 (L-LTF) subcarriers.
    snr : float
        Linear SNR per subcarrier (> 0); default 25 dB (assumption).
    timing_offset_samples : (float, float)
        Mean and standard deviation of the per-packet timing offset delta (samples of
        50 ns); the phase slope is -2 pi delta / 64 per subcarrier.
    loss_rate, mean_burst : float
        Gilbert-Elliott loss parameters, see :func:`gilbert_elliott_loss`.
    target_rms : float
        RMS magnitude (int8 counts) the AGC aims for.
    hysteresis_db : float
        AGC re-centres when the ideal gain is off by more than this (dB).
    agc_jump_prob : float
        Per-packet probability of a spontaneous +-1 or +-2 dB gain step.
    tx_power_dbm : float
        Transmit power for the RSSI field (dBm).
    timestamp_jitter_s : float
        Standard deviation of the receive-time jitter (s).
    seed : int or numpy.random.Generator

    Returns
    -------
    CsiFrames
    """
    snr = check_snr(snr)
    if not rate_hz > 0:
        raise ParameterError("rate_hz", "a positive packet rate (Hz)", rate_hz)
    g = make_rng(seed)
    n = paths.n_links
    k = subcarrier_indices(fmt)
    H = ctf(paths, paths.carrier_hz + k * SUBCARRIER_SPACING_HZ)
    power_db = 10 * np.log10(np.maximum(np.mean(np.abs(H) ** 2, axis=1), 1e-30))
    sigma = np.sqrt(10 ** (power_db / 10) / snr / 2)[:, None]
    noise = g.standard_normal((n, k.size, 2)).view(np.complex128)[..., 0]
    beta = g.uniform(-np.pi, np.pi, size=n)
    delta = g.normal(timing_offset_samples[0], timing_offset_samples[1], size=n)
    rot = np.exp(1j * (beta[:, None] - 2 * np.pi * np.outer(delta, k) / N_FFT))
    gain_db = _agc_gain_db(power_db, 20 * np.log10(target_rms), hysteresis_db=hysteresis_db,
                           jump_prob=agc_jump_prob, g=g)
    Y = (H * rot + sigma * noise) * 10 ** (gain_db[:, None] / 20)
    q = np.clip(np.round(Y.real), -128, 127) + 1j * np.clip(np.round(Y.imag), -128, 127)
    lost = gilbert_elliott_loss(n, loss_rate, mean_burst, seed=g)
    t = np.arange(n) / rate_hz + g.normal(0.0, timestamp_jitter_s, size=n)
    t = np.maximum.accumulate(t)
    rssi = np.round(tx_power_dbm + power_db + g.normal(0.0, 1.0, size=n)).astype(np.int16)
    keep = ~lost
    return CsiFrames(q[keep].astype(np.complex64), k, t[keep], np.nonzero(keep)[0], rssi[keep],
                     gain_db[keep], lost, float(rate_hz))

"""Time-domain channel for OFDM baseband (I/Q) simulation.

A transmitter sampling at F_s = 20 MHz (IEEE 802.11-2020 §17.3.2) sees the channel of eq. (1)
as a discrete-time filter. For a band-limited system every path l contributes a
sampled, delayed interpolation pulse (band-limited tap interpolation):

.. math:: h[n] = \\sum_l a_l e^{j\\theta_l} e^{-j 2\\pi f_c \\tau_l}
          \\,\\mathrm{sinc}\\!\\left(\\frac{n T_s + t_0 - \\tau_l}{T_s}\\right) w(n T_s + t_0 - \\tau_l),

with T_s = 1/F_s, a reference delay t_0 (the receiver's timing synchronisation)
and a Hann taper w of half-width ``half_width`` samples that limits the sinc tails.
Its DTFT at subcarrier k is H(f_c + k Delta f) exp(j 2 pi k Delta f t_0) to within the
taper's passband ripple, i.e. the same channel the CSI sensor sees.

:func:`receiver_front_end` then adds what the receiver's oscillator and noise do to
each packet: a carrier frequency offset and start phase per packet, a per-symbol phase
drift and AWGN (the I/Q packets of paper 003, :mod:`wiloc_core.data.eval_packets`).
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.phy.noise import check_snr
from wiloc_core.phy.numerology import SAMPLE_RATE_HZ
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.paths import PathSet


def channel_taps(paths: PathSet, *, sample_rate_hz: float = SAMPLE_RATE_HZ, n_taps: int | None = None,
                 pre_samples: int = 8, half_width: int = 16, reference: str = "first"):
    """Discrete-time channel taps of every link.

    Parameters
    ----------
    paths : PathSet
    sample_rate_hz : float
        F_s (Hz); 20 MHz for 802.11 HT20 / non-HT 20 MHz.
    n_taps : int, optional
        Filter length; default covers the largest delay spread of all links plus
        ``pre_samples`` and ``half_width`` samples of pulse tails.
    pre_samples : int
        Samples kept before the reference delay (precursor of the first pulse).
    half_width : int
        Half-width of the tapered sinc in samples.
    reference : {"first", "zero"}
        ``"first"``: t_0 = first path delay - pre_samples T_s (timing synchronised
        to the first arrival); ``"zero"``: t_0 = 0 (absolute delays; the first path
        then sits at tau_0 / T_s samples).

    Returns
    -------
    taps : numpy.ndarray, complex128, shape (n_links, n_taps)
    t0_s : numpy.ndarray, float64, shape (n_links,), s
        Delay of tap 0.
    """
    if not sample_rate_hz > 0:
        raise ParameterError("sample_rate_hz", "a positive sample rate (Hz)", sample_rate_hz)
    ts = 1.0 / sample_rate_hz
    if reference == "first":
        t0 = paths.tau.min(axis=1) - pre_samples * ts
    elif reference == "zero":
        t0 = np.zeros(paths.n_links)
    else:
        raise ParameterError("reference", "'first' or 'zero'", reference)
    rel = (paths.tau - t0[:, None]) / ts
    if n_taps is None:
        n_taps = int(np.ceil(rel.max())) + half_width + 1
    if not (isinstance(n_taps, int | np.integer) and n_taps >= 1):
        raise ParameterError("n_taps", "a positive integer", n_taps)
    gain = paths.gain * np.exp(-2j * np.pi * paths.carrier_hz * paths.tau)
    taps = np.zeros((paths.n_links, n_taps), dtype=np.complex128)
    block = max(1, 2_000_000 // (paths.n_paths * n_taps))
    n = np.arange(n_taps)
    for i in range(0, paths.n_links, block):
        x = n[None, None, :] - rel[i:i + block, :, None]
        taper = np.where(np.abs(x) < half_width, 0.5 + 0.5 * np.cos(np.pi * x / half_width), 0.0)
        taps[i:i + block] = np.einsum("lp,lpn->ln", gain[i:i + block], np.sinc(x) * taper)
    return taps, t0


def apply_channel(x, taps, *, snr: float = np.inf, cfo_hz: float = 0.0,
                  sample_rate_hz: float = SAMPLE_RATE_HZ, seed=None) -> np.ndarray:
    """Pass baseband samples through the channel taps, add CFO and noise.

    .. math:: y[n] = e^{j 2\\pi \\Delta f\\, n / F_s} \\sum_m h[m]\\, x[n - m] + w[n]

    Parameters
    ----------
    x : array_like, complex, shape (n_samples,) or (n_links, n_samples)
        Transmitted baseband samples (e.g. an 802.11 packet at 20 MS/s).
    taps : array_like, complex, shape (n_links, n_taps)
    snr : float
        Linear SNR of the received signal per sample (> 0; ``inf`` = noiseless).
    cfo_hz : float
        Carrier frequency offset (Hz); +-40 ppm relative TX-RX is the 802.11
        tolerance (Speth et al., IEEE Trans. Commun. 47(11), 1999).
    sample_rate_hz : float
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, complex128, shape (n_links, n_samples)
        The first n_samples received samples of each link.
    """
    snr = check_snr(snr)
    x = np.atleast_2d(np.asarray(x, dtype=np.complex128))
    h = np.atleast_2d(np.asarray(taps, dtype=np.complex128))
    n = x.shape[-1]
    size = int(2 ** np.ceil(np.log2(n + h.shape[-1] - 1)))
    y = np.fft.ifft(np.fft.fft(x, size) * np.fft.fft(h, size), axis=-1)[:, :n]
    if cfo_hz:
        y = y * np.exp(2j * np.pi * cfo_hz * np.arange(n) / sample_rate_hz)
    if np.isfinite(snr):
        g = make_rng(seed)
        sigma = np.sqrt(np.mean(np.abs(y) ** 2, axis=-1, keepdims=True) / snr / 2)
        y = y + sigma * g.standard_normal(y.shape + (2,)).view(np.complex128)[..., 0]
    return y


def receiver_front_end(y, *, noise_var=0.0, cfo_hz=0.0, phase_rad=0.0, drift_rad: float = 0.0,
                       symbol_len: int = 80, sample_rate_hz: float = SAMPLE_RATE_HZ,
                       seed=None) -> np.ndarray:
    """What the receiver's oscillator and noise do to each received packet.

    .. math:: r_p[m] = y_p[m]\\, e^{j(2\\pi \\Delta f_p m / F_s + \\theta_p
              + \\varphi_p(m))} + w_p[m]

    - Delta f_p, theta_p: carrier frequency offset and start phase of packet p;
    - phi_p(m): phase drift, a Wiener process stepping by N(0, ``drift_rad``^2) every
      ``symbol_len`` samples (one OFDM symbol), interpolated linearly in between, so
      each symbol sees a common phase error that its pilots can track (paper 003
      eqs. 7-8: the RFO term of each symbol);
    - w_p: circularly-symmetric white Gaussian noise of variance ``noise_var[p]``.

    Parameters
    ----------
    y : array_like, complex, shape (n_packets, n_samples)
        Packets after the channel (:func:`apply_channel`).
    noise_var : float or array_like, shape (n_packets,)
        Noise power per complex sample (>= 0).
    cfo_hz, phase_rad : float or array_like, shape (n_packets,)
        Delta f_p (Hz) and theta_p (rad).
    drift_rad : float
        Standard deviation of the drift per symbol (rad, >= 0).
    symbol_len : int
        Samples per drift step (80: one 4 us symbol at 20 MS/s).
    sample_rate_hz : float
    seed : int or numpy.random.Generator
        Draws the drift, then the noise.

    Returns
    -------
    numpy.ndarray, complex128, shape (n_packets, n_samples)
    """
    y = np.atleast_2d(np.asarray(y, dtype=np.complex128))
    n_packets, n = y.shape
    noise_var = np.broadcast_to(np.asarray(noise_var, dtype=float), (n_packets,))
    if np.any(~(noise_var >= 0)):
        raise ParameterError("noise_var", "non-negative noise powers", float(np.min(noise_var)))
    if not drift_rad >= 0:
        raise ParameterError("drift_rad", "a non-negative phase step (rad)", drift_rad)
    g = make_rng(seed)
    m = np.arange(n)
    phase = (2 * np.pi * np.asarray(cfo_hz, dtype=float).reshape(-1, 1) * m / sample_rate_hz
             + np.asarray(phase_rad, dtype=float).reshape(-1, 1))
    if drift_rad > 0:
        n_steps = n // symbol_len + 2
        walk = np.cumsum(g.normal(0.0, drift_rad, (n_packets, n_steps)), axis=1)
        walk -= walk[:, :1]
        pos = m / symbol_len
        lo = pos.astype(np.int64)
        frac = pos - lo
        phase = phase + walk[:, lo] * (1 - frac) + walk[:, lo + 1] * frac
    r = y * np.exp(1j * phase)
    if np.any(noise_var > 0):
        w = g.standard_normal((n_packets, n, 2)).view(np.complex128)[..., 0]
        r = r + np.sqrt(noise_var / 2)[:, None] * w
    return r

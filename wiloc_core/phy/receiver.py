"""Receiver steps of the EVAL chain (paper 003 §III-B, §III-C) for 20 MHz non-HT OFDM.

The paper's equations did not survive text extraction; each function states the form
rebuilt here from the paper's text and standard 802.11 OFDM receiver practice
(IEEE 802.11-2020 §17.3.3 for the L-LTF, §17.3.5.10 for pilots).

Signal model after the FFT of OFDM symbol n (paper eqs. 7-8): on used subcarrier k,

.. math:: Y_{n,k} = H_k X_{n,k} e^{j\\phi_n} + W_{n,k},

where phi_n is the random frequency offset (RFO) phase of symbol n, common to all
subcarriers of that symbol (a residual carrier frequency offset makes it grow by
2 pi Delta f T_sym per symbol).

Frame timing is assumed known (packets start at sample ``start``); packet detection
belongs to the reader of recordings.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

from .numerology import CP_LEN, N_FFT, PILOT_POS, SAMPLE_RATE_HZ, SYMBOL_LEN, USED_K, fft_bins
from .pilots import pilot_symbols
from .preamble import FIELD_LEN, LTF_GI_LEN, LTF_USED
from .transmitter import PREAMBLE_LEN, TIME_SCALE

_USED_BINS = fft_bins(USED_K)
#: Start of the first L-LTF symbol's FFT window, in samples from the frame start.
LTF_START = FIELD_LEN + LTF_GI_LEN


def _fft_used(windows: np.ndarray) -> np.ndarray:
    """FFT of 64-sample windows, scaled back to the transmitted grid, on ``USED_K``."""
    return np.fft.fft(windows, axis=-1)[..., _USED_BINS] / TIME_SCALE


def ofdm_demodulate(samples, n_symbols: int, *, start=0) -> tuple[np.ndarray, np.ndarray]:
    """The two L-LTF symbols and the DATA symbols of each frame, in frequency.

    Each DATA symbol's cyclic prefix is dropped and its 64-sample body transformed.

    Parameters
    ----------
    samples : array_like, complex, shape (..., n_samples)
        Baseband at 20 MS/s; a frame starts (with its L-STF) at ``start``.
    n_symbols : int >= 1
        DATA symbols per frame.
    start : int
        Sample index of the frame start.

    Returns
    -------
    ltf : numpy.ndarray, complex128, shape (..., 2, 52)
        Received L-LTF symbols on ``USED_K``.
    data : numpy.ndarray, complex128, shape (..., n_symbols, 52)
        Received DATA symbols on ``USED_K``.
    """
    x = np.asarray(samples, dtype=np.complex128)
    if not (isinstance(n_symbols, int | np.integer) and n_symbols >= 1):
        raise ParameterError("n_symbols", "a positive integer", n_symbols)
    end = start + PREAMBLE_LEN + SYMBOL_LEN * n_symbols
    if x.shape[-1] < end:
        raise ParameterError("samples", f"at least {end} samples for a frame of {n_symbols} "
                             f"DATA symbols starting at sample {start}", x.shape[-1])
    ltf = x[..., start + LTF_START:start + LTF_START + 2 * N_FFT]
    ltf = ltf.reshape(x.shape[:-1] + (2, N_FFT))
    data = x[..., start + PREAMBLE_LEN:end].reshape(x.shape[:-1] + (n_symbols, SYMBOL_LEN))
    return _fft_used(ltf), _fft_used(data[..., CP_LEN:])


def ltf_channel_estimate(ltf) -> np.ndarray:
    """Channel state information from the L-LTF symbols (paper eqs. 9-13).

    Rebuilt form: the sample average over the N_L received training symbols, each
    divided by the known training value L_k = +-1 (so dividing is multiplying):

    .. math:: \\hat H_k = \\frac{1}{N_L} \\sum_{l=1}^{N_L} Y^{L}_{l,k} L_k
              \\approx H_k e^{j\\bar\\phi_L} + \\frac{1}{N_L}\\sum_l W_{l,k} L_k,

    where phi-bar_L is the RFO phase during the LTF (eq. 13: the estimate carries it,
    which is why the CSI phase wanders from packet to packet). N_L = 2 in 802.11.

    Parameters
    ----------
    ltf : array_like, complex, shape (..., n_ltf, 52)
        Received training symbols on ``USED_K``.

    Returns
    -------
    numpy.ndarray, complex128, shape (..., 52)
        H-hat on ``USED_K``.
    """
    y = np.asarray(ltf, dtype=np.complex128)
    return y.mean(axis=-2) * LTF_USED


def pilot_phase(data, csi, *, first_polarity: int = 1) -> np.ndarray:
    """Common phase of each DATA symbol from its four pilots (paper eq. 14).

    Rebuilt form (the pilot-aided estimator of the paper's ref. [21], Sourour et al.,
    and of the standard receiver): correlate the received pilots with the channel
    estimate times the known pilot values P_{n,k} = (1, 1, 1, -1) p_{n+1},

    .. math:: \\hat\\phi_n = \\arg \\sum_{k \\in \\mathcal P} Y_{n,k}\\,
              \\hat H_k^{*} P_{n,k}^{*},

    so that e^{j phi-hat_n} is the n-th diagonal entry of the RFO matrix. Because
    H-hat carries the LTF's phase, phi-hat_n is the RFO phase relative to the LTF.

    Parameters
    ----------
    data : array_like, complex, shape (..., n_symbols, 52)
        Received DATA symbols on ``USED_K``.
    csi : array_like, complex, shape (..., 52)
        H-hat from :func:`ltf_channel_estimate`.
    first_polarity : int
        Polarity index of the first symbol (1 for DATA symbols).

    Returns
    -------
    numpy.ndarray, float64, shape (..., n_symbols), rad in (-pi, pi]
    """
    y = np.asarray(data, dtype=np.complex128)[..., PILOT_POS]
    h = np.asarray(csi, dtype=np.complex128)[..., None, PILOT_POS]
    p = pilot_symbols(y.shape[-2], first_polarity)
    return np.angle(np.sum(y * np.conj(h) * p, axis=-1))


def equalize(data, csi, phase) -> np.ndarray:
    """Zero-forcing equalisation with the RFO removed (paper eqs. 15-17).

    Rebuilt form: the ZF equaliser is the diagonal matrix of 1 / H-hat_k (eq. 16), and
    the RFO matrix of :func:`pilot_phase` is inverted per symbol (eq. 15):

    .. math:: \\tilde X_{n,k} = \\frac{Y_{n,k}\\, e^{-j\\hat\\phi_n}}{\\hat H_k}
              = X_{n,k} \\frac{H_k e^{j\\phi_n}}{\\hat H_k e^{j\\hat\\phi_n}}
              + \\frac{W_{n,k}}{\\hat H_k e^{j\\hat\\phi_n}} \\quad (17).

    Parameters
    ----------
    data : array_like, complex, shape (..., n_symbols, 52)
    csi : array_like, complex, shape (..., 52)
        Must be non-zero on every subcarrier.
    phase : array_like, float, shape (..., n_symbols), rad

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_symbols, 52)
    """
    y = np.asarray(data, dtype=np.complex128)
    h = np.asarray(csi, dtype=np.complex128)
    if np.any(h == 0):
        raise ParameterError("csi", "a channel estimate that is non-zero on every subcarrier",
                             "a zero")
    return y * np.exp(-1j * np.asarray(phase, dtype=float))[..., None] / h[..., None, :]


def frequency_offset_from_phase(phase, *, sample_rate_hz: float = SAMPLE_RATE_HZ) -> np.ndarray:
    """Residual carrier frequency offset from the per-symbol pilot phases.

    A residual offset Delta f advances the common phase by 2 pi Delta f T_sym from one
    symbol to the next (T_sym = 80 / F_s = 4 us). The phases are unwrapped along the
    symbol axis and the slope fitted by least squares:

    .. math:: \\widehat{\\Delta f} = \\frac{\\hat b}{2\\pi T_{sym}}, \\qquad
              \\hat b = \\arg\\min_{a, b} \\sum_n (\\hat\\phi_n - a - b n)^2.

    Unambiguous for |Delta f| < 1 / (2 T_sym) = 125 kHz.

    Parameters
    ----------
    phase : array_like, float, shape (..., n_symbols), rad; n_symbols >= 2
    sample_rate_hz : float

    Returns
    -------
    numpy.ndarray, float64, shape (...), Hz
    """
    phi = np.unwrap(np.asarray(phase, dtype=float), axis=-1)
    n = phi.shape[-1]
    if n < 2:
        raise ParameterError("phase", "at least two symbols along the last axis", n)
    t = np.arange(n) - (n - 1) / 2
    slope = (phi * t).sum(axis=-1) / (t * t).sum()
    return slope * sample_rate_hz / (2 * np.pi * SYMBOL_LEN)

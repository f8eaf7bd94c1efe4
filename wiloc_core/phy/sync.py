"""Packet detection, timing and carrier-frequency-offset estimation from the legacy preamble.

IEEE 802.11-2020 §17.3.3: the L-STF repeats every 16 samples (0.8 us) ten times, the
L-LTF carries two identical 64-sample symbols after a 32-sample guard. A receiver
uses the first for detection and a coarse frequency offset, the second for symbol
timing and a fine offset, before the pilot-based tracking of each DATA symbol
(:func:`wiloc_core.phy.receiver.pilot_phase`) removes what is left.

Steps, each vectorised over the whole recording or over all candidate packets:

1. Delay-and-correlate metric at lag 16 (the detector of Schmidl and Cox, IEEE Trans.
   Commun. 45(12), 1997, at the STF's period):

   .. math:: C[n] = \\sum_{m=0}^{W-1} r[n+m+16]\\, r^*[n+m], \\qquad
             M[n] = \\frac{|C[n]|}{\\sqrt{P_0[n] P_{16}[n]}}, \\qquad
             P_d[n] = \\sum_{m=0}^{W-1} |r[n+m+d]|^2.

   M, a correlation coefficient in [0, 1], is near SNR / (1 + SNR) while the window
   lies in the STF and near 0 in noise or OFDM data, so a run of M above a threshold
   marks a packet. Normalising by the energy of both windows (not only the later one,
   as in Schmidl and Cox) makes it independent of the received level and keeps it
   small at a packet's end, where a strong early window meets a noise-only late one.
2. Coarse offset from the STF: a CFO Delta f turns the lag-16 product by
   2 pi Delta f 16 / F_s, so Delta f_c = arg C / (2 pi 16 / F_s), unambiguous within
   +-625 kHz.
3. Timing from the L-LTF: after removing Delta f_c, the received samples are
   cross-correlated with the known 64-sample LTF symbol; both copies must match, so
   the statistic is |X[t]|^2 + |X[t + 64]|^2. The first arrival is the earliest lag
   within a few samples before the peak whose statistic is within ``first_path_db``
   of it (the strongest path need not be the first), and the FFT window is placed
   ``backoff`` samples earlier still, inside the guard interval, so that the channel's
   precursor does not reach into the next symbol.
4. Fine offset from two windows of the L-LTF, 64 samples apart (both inside its
   periodic part, after the channel's transient):
   Delta f_f = arg sum r[t+64+m] r*[t+m] / (2 pi 64 / F_s), within +-156 kHz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

from .numerology import N_FFT, SAMPLE_RATE_HZ
from .preamble import FIELD_LEN, LTF_GI_LEN, ltf

#: STF period (samples).
STF_PERIOD = 16
#: Start of the first L-LTF symbol's FFT window, in samples from the frame start.
LTF_SYMBOL_START = FIELD_LEN + LTF_GI_LEN
_LTF_SYMBOL = ltf()[LTF_GI_LEN:LTF_GI_LEN + N_FFT]
#: Lags searched on each side of the LTF position expected from the coarse start.
_SEARCH = 96


def stf_metric(samples, *, window: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Delay-and-correlate metric at the STF's 16-sample period (step 1).

    Parameters
    ----------
    samples : array_like, complex, shape (n_samples,)
        Baseband at 20 MS/s.
    window : int
        W, products summed (samples).

    Returns
    -------
    metric : numpy.ndarray, float64, shape (n_samples - 16 - W + 1,)
        M[n] in [0, 1].
    corr : numpy.ndarray, complex128, same shape
        C[n] (its angle gives the coarse offset).
    """
    x = np.asarray(samples, dtype=np.complex128)
    if x.ndim != 1 or x.size < window + STF_PERIOD:
        raise ParameterError("samples", f"a 1-D recording of at least {window + STF_PERIOD} "
                             "samples", x.shape)
    corr = _moving_sum(x[STF_PERIOD:] * np.conj(x[:-STF_PERIOD]), window)
    power = _moving_sum(x.real ** 2 + x.imag ** 2, window)
    early, late = power[:-STF_PERIOD], power[STF_PERIOD:]
    c2 = corr.real ** 2 + corr.imag ** 2
    metric = np.sqrt(c2 / np.maximum(early * late, np.finfo(float).tiny))
    return np.minimum(metric, 1.0), corr


def _moving_sum(v: np.ndarray, window: int) -> np.ndarray:
    """Sums of ``window`` consecutive values along the last axis (length n - window + 1)."""
    c = np.cumsum(v, axis=-1)
    out = np.empty(c.shape[:-1] + (c.shape[-1] - window + 1,), dtype=c.dtype)
    out[..., 0] = c[..., window - 1]
    np.subtract(c[..., window:], c[..., :-window], out=out[..., 1:])
    return out


def rotation(cfo_hz, n_samples: int, *, sample_rate_hz: float = SAMPLE_RATE_HZ) -> np.ndarray:
    """Phasors exp(-j 2 pi Delta f m / F_s), m = 0..n_samples-1, that remove an offset.

    Computed as the product of a coarse and a fine table (m = 64 q + r), so that only
    n / 64 + 64 complex exponentials per row are evaluated.

    Parameters
    ----------
    cfo_hz : array_like, shape (n_rows,), Hz
    n_samples : int

    Returns
    -------
    numpy.ndarray, complex128, shape (n_rows, n_samples)
    """
    f = np.asarray(cfo_hz, dtype=float).reshape(-1, 1, 1) * (-2 * np.pi / sample_rate_hz)
    n_blocks = -(-int(n_samples) // N_FFT)
    coarse = np.exp(1j * f * (N_FFT * np.arange(n_blocks))[:, None])
    fine = np.exp(1j * f * np.arange(N_FFT)[None, :])
    return (coarse * fine).reshape(f.shape[0], n_blocks * N_FFT)[:, :n_samples]


def _runs(above: np.ndarray, min_run: int, dead: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of runs of True at least ``min_run`` long, ``dead`` apart."""
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = stops - starts >= min_run
    starts, lengths = starts[keep], (stops - starts)[keep]
    chosen, last = [], -np.inf
    for i, s in enumerate(starts):     # one loop step per packet, not per sample
        if s - last >= dead:
            chosen.append(i)
            last = s
    chosen = np.asarray(chosen, dtype=np.int64)
    return starts[chosen], lengths[chosen]


@dataclass(frozen=True)
class Detection:
    """Packets found in a recording.

    Attributes
    ----------
    start : numpy.ndarray, int64, shape (n_packets,)
        Sample index of each frame start (L-STF), as used for the FFT windows.
    cfo_hz : numpy.ndarray, float64, shape (n_packets,), Hz
        Estimated carrier frequency offset (coarse from the STF plus fine from the LTF).
    metric : numpy.ndarray, float64, shape (n_packets,)
        Normalised LTF cross-correlation at the chosen timing (1 for a clean packet).
    """

    start: np.ndarray
    cfo_hz: np.ndarray
    metric: np.ndarray

    def __len__(self) -> int:
        return int(self.start.size)


def _windows(x: np.ndarray, first: np.ndarray, length: int) -> np.ndarray:
    idx = first[:, None] + np.arange(length)
    return x[np.clip(idx, 0, x.size - 1)]


def detect_packets(samples, *, frame_len: int, threshold: float = 0.5, window: int = 64,
                   min_run: int = 32, ltf_threshold: float = 0.5, first_path_db: float = 20.0,
                   backoff: int = 3, sample_rate_hz: float = SAMPLE_RATE_HZ) -> Detection:
    """Find 802.11 frames, their timing and frequency offsets (steps 1-4).

    Parameters
    ----------
    samples : array_like, complex, shape (n_samples,)
        Baseband recording at 20 MS/s.
    frame_len : int
        Samples per frame (packets closer than this are one packet); frames that would
        run past the end of the recording are dropped.
    threshold : float in (0, 1)
        Threshold on M (0.5: detects down to about 0 dB SNR).
    window : int
        W of the STF metric.
    min_run : int
        Samples M must stay above ``threshold`` (the clean plateau is 160 - 16 - W long).
    ltf_threshold : float in (0, 1)
        Least normalised LTF cross-correlation to accept a candidate (rejects tones and
        other periodic interference that passes the STF test).
    first_path_db : float
        How far below the strongest LTF match the first arrival may be (dB).
    backoff : int
        Samples the FFT window is moved before the first arrival.
    sample_rate_hz : float

    Returns
    -------
    Detection
    """
    x = np.asarray(samples, dtype=np.complex128)
    metric, corr = stf_metric(x, window=window)
    runs, lengths = _runs(metric > threshold, min_run, frame_len)
    if runs.size == 0:
        empty = np.zeros(0)
        return Detection(np.zeros(0, np.int64), empty, empty)
    # Coarse offset from the middle of the STF plateau (step 2).
    mid = runs + np.minimum(lengths, FIELD_LEN - STF_PERIOD - window) // 2
    coarse = np.angle(corr[mid]) * sample_rate_hz / (2 * np.pi * STF_PERIOD)
    # LTF search region around where the coarse start puts it (step 3).
    first = runs + LTF_SYMBOL_START - _SEARCH
    n_lags = 2 * _SEARCH + 1
    seg = _windows(x, first, n_lags + 2 * N_FFT)
    seg = seg * rotation(coarse, seg.shape[1], sample_rate_hz=sample_rate_hz)
    views = np.lib.stride_tricks.sliding_window_view(seg, N_FFT, axis=-1)
    xc = views @ np.conj(_LTF_SYMBOL)
    energy = _moving_sum(seg.real ** 2 + seg.imag ** 2, N_FFT)
    stat = np.abs(xc[:, :n_lags]) ** 2 + np.abs(xc[:, N_FFT:N_FFT + n_lags]) ** 2
    peak = np.argmax(stat, axis=1)
    rows = np.arange(peak.size)
    # Earliest lag within 8 samples before the peak that is close enough to it.
    before = np.clip(peak[:, None] - np.arange(8, -1, -1), 0, None)
    close = stat[rows[:, None], before] >= stat[rows, peak][:, None] * 10 ** (-first_path_db / 10)
    t_first = before[rows, np.argmax(close, axis=1)]
    ref = np.sum(np.abs(_LTF_SYMBOL) ** 2)
    quality = np.sqrt(stat[rows, peak] / (ref * (energy[rows, peak] + energy[rows, peak + N_FFT])))
    # Fine offset from two LTF windows 64 apart (step 4), placed 16 samples before the
    # chosen timing so that both lie in the periodic part of the L-LTF whatever the
    # channel's length (up to the 32-sample guard).
    lag = np.clip(t_first - backoff - STF_PERIOD, 0, None)
    a = views[rows, lag]
    b = views[rows, lag + N_FFT]
    fine = np.angle(np.sum(b * np.conj(a), axis=-1)) * sample_rate_hz / (2 * np.pi * N_FFT)
    start = first + t_first - backoff - LTF_SYMBOL_START
    ok = (quality >= ltf_threshold) & (start >= 0) & (start + frame_len <= x.size)
    return Detection(start[ok].astype(np.int64), (coarse + fine)[ok], quality[ok])


def frames_at(samples, start, frame_len: int, cfo_hz=None, *,
              sample_rate_hz: float = SAMPLE_RATE_HZ) -> np.ndarray:
    """Cut frames out of a recording and remove their frequency offsets.

    Parameters
    ----------
    samples : array_like, complex, shape (n_samples,)
    start : array_like of int, shape (n_packets,)
        Frame starts; each frame must lie inside the recording.
    frame_len : int
    cfo_hz : array_like, shape (n_packets,), Hz, optional
        Offsets to remove (``None``: none), each with phase 0 at its frame start.
    sample_rate_hz : float

    Returns
    -------
    numpy.ndarray, complex128, shape (n_packets, frame_len)
    """
    x = np.asarray(samples, dtype=np.complex128)
    start = np.asarray(start, dtype=np.int64)
    if start.size and (start.min() < 0 or start.max() + frame_len > x.size):
        raise ParameterError("start", f"frame starts in [0, {x.size - frame_len}]",
                             (int(start.min()), int(start.max())))
    frames = x[start[:, None] + np.arange(frame_len)]
    if cfo_hz is not None:
        frames *= rotation(cfo_hz, frame_len, sample_rate_hz=sample_rate_hz)
    return frames


def preamble_offset(frames, *, sample_rate_hz: float = SAMPLE_RATE_HZ) -> np.ndarray:
    """Carrier offset of time-aligned frames from their preamble (steps 2 and 4).

    Coarse from the last 144 lag-16 products of the STF (its first 16 samples may hold
    the channel's transient), fine from the two LTF symbols after removing the coarse
    one; the sum is returned.

    Parameters
    ----------
    frames : array_like, complex, shape (n_packets, n_samples >= 320)
        Frames starting at their L-STF.
    sample_rate_hz : float

    Returns
    -------
    numpy.ndarray, float64, shape (n_packets,), Hz
    """
    y = np.atleast_2d(np.asarray(frames, dtype=np.complex128))
    s = y[:, STF_PERIOD:FIELD_LEN]
    coarse = np.angle(np.sum(s[:, STF_PERIOD:] * np.conj(s[:, :-STF_PERIOD]), axis=-1))
    coarse = coarse * sample_rate_hz / (2 * np.pi * STF_PERIOD)
    t = np.arange(LTF_SYMBOL_START, LTF_SYMBOL_START + 2 * N_FFT)
    seg = y[:, t] * np.exp(-2j * np.pi * coarse[:, None] * t / sample_rate_hz)
    fine = np.angle(np.sum(seg[:, N_FFT:] * np.conj(seg[:, :N_FFT]), axis=-1))
    return coarse + fine * sample_rate_hz / (2 * np.pi * N_FFT)


def preamble_snr(frames) -> np.ndarray:
    """Signal-to-noise ratio of each frame measured on its two L-LTF symbols.

    The two symbols carry the same signal s (up to a common rotation by a frequency
    offset) and independent noise of power N each, so

    .. math:: S = \\frac{1}{64}\\Big|\\sum_m r_2[m]\\, r_1^*[m]\\Big|, \\qquad
              S + N = \\frac{1}{128} \\sum_m \\big(|r_1[m]|^2 + |r_2[m]|^2\\big),

    and SNR = S / N. (S is biased upward by about N / sqrt(64) at low SNR.)

    Parameters
    ----------
    frames : array_like, complex, shape (n_packets, n_samples >= 320)
        Frames starting at their L-STF.

    Returns
    -------
    numpy.ndarray, float64, shape (n_packets,), linear
    """
    y = np.atleast_2d(np.asarray(frames, dtype=np.complex128))
    r1 = y[:, LTF_SYMBOL_START:LTF_SYMBOL_START + N_FFT]
    r2 = y[:, LTF_SYMBOL_START + N_FFT:LTF_SYMBOL_START + 2 * N_FFT]
    signal = np.abs(np.sum(r2 * np.conj(r1), axis=-1)) / N_FFT
    total = (np.sum(np.abs(r1) ** 2, axis=-1) + np.sum(np.abs(r2) ** 2, axis=-1)) / (2 * N_FFT)
    noise = np.maximum(total - signal, np.finfo(float).tiny)
    return signal / noise

"""Legacy short and long training fields (L-STF, L-LTF) of 20 MHz 802.11 OFDM.

IEEE 802.11-2020 §17.3.3 (PHY preamble). The L-STF occupies every fourth subcarrier
(k = +-4, ..., +-24) with sqrt(13/6) (1 + j) s_k, so its time signal repeats every 16
samples; ten repetitions fill 8 us. The L-LTF carries +-1 on all 52 used subcarriers;
in time it is a 32-sample guard (the last half of the 64-sample symbol) followed by
two copies of the symbol, 8 us in all. The windowing the standard allows at field
boundaries is not applied.

Time signals use the scaling x = IFFT(X) N_FFT / sqrt(N_used) with N_used = 52, so
every field has unit mean power (see :mod:`wiloc_core.phy.transmitter`).
"""

from __future__ import annotations

import numpy as np

from .numerology import N_FFT, USED_K, fft_bins

_STF_K = np.array([-24, -20, -16, -12, -8, -4, 4, 8, 12, 16, 20, 24])
_STF_SIGN = np.array([1, -1, 1, -1, -1, 1, -1, -1, 1, 1, 1, 1], dtype=float)
_LTF_NEG = [1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1, 1, 1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1]
_LTF_POS = [1, -1, -1, 1, 1, -1, 1, -1, 1, -1, -1, -1, -1, -1, 1, 1, -1, -1, 1, -1, 1, -1, 1, 1, 1, 1]

#: L-LTF values L_k on ``USED_K`` (k = -26..-1, 1..26), float64 of +-1, shape (52,).
LTF_USED = np.array(_LTF_NEG + _LTF_POS, dtype=float)
LTF_USED.setflags(write=False)
#: Length of each preamble field in samples (8 us at 20 MS/s).
FIELD_LEN = 160
#: Guard interval of the L-LTF (GI2, 1.6 us) in samples.
LTF_GI_LEN = 32


def _time(grid: np.ndarray) -> np.ndarray:
    return np.fft.ifft(grid) * (N_FFT / np.sqrt(USED_K.size))


def stf_grid() -> np.ndarray:
    """L-STF in FFT order; complex128, shape (64,)."""
    grid = np.zeros(N_FFT, dtype=np.complex128)
    grid[fft_bins(_STF_K)] = np.sqrt(13 / 6) * (1 + 1j) * _STF_SIGN
    return grid


def ltf_grid() -> np.ndarray:
    """L-LTF in FFT order; complex128, shape (64,)."""
    grid = np.zeros(N_FFT, dtype=np.complex128)
    grid[fft_bins(USED_K)] = LTF_USED
    return grid


def stf() -> np.ndarray:
    """L-STF time samples (ten 16-sample periods); complex128, shape (160,)."""
    period = _time(stf_grid())
    return np.tile(period, FIELD_LEN // N_FFT + 1)[:FIELD_LEN]


def ltf() -> np.ndarray:
    """L-LTF time samples (32-sample guard, then two 64-sample symbols); complex128, (160,)."""
    sym = _time(ltf_grid())
    return np.concatenate([sym[-LTF_GI_LEN:], sym, sym])


def legacy_preamble() -> np.ndarray:
    """L-STF followed by L-LTF, 16 us; complex128, shape (320,)."""
    return np.concatenate([stf(), ltf()])

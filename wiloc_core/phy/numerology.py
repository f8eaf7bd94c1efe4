"""Numerology and subcarrier maps of 20 MHz IEEE 802.11 OFDM (non-HT and HT).

IEEE Std 802.11-2020 §17.3.2 (timing-related parameters of the OFDM PHY) and
§19.3 (HT): a 20 MHz channel is sampled at F_s = 20 MS/s and split by a 64-point
FFT into subcarriers 312.5 kHz apart. An OFDM symbol is a 16-sample cyclic prefix
(0.8 us guard interval) followed by the 64-sample FFT period (3.2 us), 4 us in all.

Subcarrier index k is relative to DC. Arrays here list the used subcarriers in
ascending k ("used order"); :func:`fft_bins` gives their positions in the output of
``numpy.fft.fft`` ("FFT order", bin = k mod 64).

Non-HT (802.11a/g, §17.3.5.9, §17.3.5.10): k = -26..-1, 1..26 are used (52); the pilots sit at
k = -21, -7, +7, +21 and the other 48 carry data. HT20 (802.11n, §19.3) uses
k = -28..-1, 1..28 (56) with the same four pilot positions.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

#: FFT size of a 20 MHz channel.
N_FFT = 64
#: Sample rate of a 20 MHz channel (Hz).
SAMPLE_RATE_HZ = 20e6
#: Subcarrier spacing F_s / N_FFT (Hz).
SUBCARRIER_SPACING_HZ = 312.5e3
#: Cyclic prefix (normal guard interval) in samples (0.8 us).
CP_LEN = 16
#: One OFDM symbol with its cyclic prefix, in samples (4 us).
SYMBOL_LEN = N_FFT + CP_LEN
#: Pilot subcarriers, ascending.
PILOT_K = np.array([-21, -7, 7, 21])
#: Base pilot values at ``PILOT_K`` before the polarity p_n (§17.3.5.10).
PILOT_VALUES = np.array([1.0, 1.0, 1.0, -1.0])

_EDGE = {"ht20": 28, "lltf": 26}


def subcarrier_indices(fmt: str = "ht20") -> np.ndarray:
    """Occupied subcarrier indices k (relative to DC), ascending; int64.

    ``"ht20"``: HT-LTF, k = -28..-1, 1..28 (56 values); ``"lltf"``: legacy LTF and
    non-HT data symbols, k = -26..-1, 1..26 (52 values). IEEE 802.11-2020 §17.3.5.10
    and §19.3; the same ranges as the ESP-IDF Wi-Fi guide's CSI tables.
    """
    edge = _EDGE.get(fmt)
    if edge is None:
        raise ParameterError("fmt", "'ht20' (56 subcarriers) or 'lltf' (52 subcarriers)", fmt)
    k = np.arange(-edge, edge + 1)
    return k[k != 0]


def subcarrier_frequencies(carrier_hz: float, fmt: str = "ht20") -> np.ndarray:
    """RF frequencies ``f_c + k * 312.5 kHz`` of the occupied subcarriers; float64, Hz."""
    return carrier_hz + subcarrier_indices(fmt) * SUBCARRIER_SPACING_HZ


def fft_bins(k) -> np.ndarray:
    """Positions of subcarriers ``k`` in FFT order (bin = k mod 64); int64, same shape."""
    return np.mod(np.asarray(k, dtype=np.int64), N_FFT)


#: The 52 used subcarriers of a non-HT symbol, ascending.
USED_K = subcarrier_indices("lltf")
#: Positions of the pilots within ``USED_K`` (shape (4,)).
PILOT_POS = np.searchsorted(USED_K, PILOT_K)
#: Positions of the 48 data subcarriers within ``USED_K``.
DATA_POS = np.setdiff1d(np.arange(USED_K.size), PILOT_POS)
#: The 48 data subcarriers, ascending.
DATA_K = USED_K[DATA_POS]

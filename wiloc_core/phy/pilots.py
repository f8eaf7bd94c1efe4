"""The 802.11 scrambler sequence and the pilot polarity sequence p_0 ... p_126.

IEEE 802.11-2020 §17.3.5.5 (PHY DATA scrambler) defines the length-127 frame-synchronous
scrambler with generator polynomial S(x) = x^7 + x^4 + 1: the next output bit is the
XOR of the register bits 7 and 4 steps back, and it is also shifted in. §17.3.5.9
and §17.3.5.10 draw the polarity of the four pilots of OFDM symbol n from the
sequence p_n that the same scrambler produces from the all-ones state, with bit 0 ->
+1 and bit 1 -> -1 (the standard's published start is 1, 1, 1, 1, -1, -1, -1, 1, ...).
The SIGNAL symbol takes p_0, DATA symbol n = 0, 1, ... takes p_{n+1}.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

from .numerology import PILOT_VALUES

#: Period of the scrambler and of the polarity sequence.
PERIOD = 127


def scrambler_bits(n_bits: int, state: int = 0b1111111) -> np.ndarray:
    """Output of the x^7 + x^4 + 1 scrambler (§17.3.5.5) from a 7-bit initial state.

    Parameters
    ----------
    n_bits : int >= 0
    state : int in 1..127
        Initial register, x^1 (the most recent bit) in the least significant position;
        all ones (127) for the pilot polarity.

    Returns
    -------
    numpy.ndarray, uint8, shape (n_bits,)
    """
    if not 1 <= int(state) <= 127:
        raise ParameterError("state", "a non-zero 7-bit scrambler state (1..127)", state)
    if not int(n_bits) >= 0:
        raise ParameterError("n_bits", "a non-negative number of bits", n_bits)
    reg = [(int(state) >> i) & 1 for i in range(7)]  # reg[i] = bit output i + 1 steps back
    out = np.empty(int(n_bits), dtype=np.uint8)
    for n in range(int(n_bits)):
        bit = reg[6] ^ reg[3]  # x^7 and x^4 taps
        out[n] = bit
        reg = [bit] + reg[:6]
    return out


def _polarity() -> np.ndarray:
    return 1.0 - 2.0 * scrambler_bits(PERIOD).astype(np.float64)


#: p_0 ... p_126 as +-1 (float64, shape (127,)).
POLARITY = _polarity()
POLARITY.setflags(write=False)


def pilot_polarity(n) -> np.ndarray:
    """p_n for any symbol counts ``n`` (periodic with 127); float64 of +-1, shape of ``n``."""
    return POLARITY[np.mod(np.asarray(n, dtype=np.int64), PERIOD)]


def pilot_symbols(n_symbols: int, first: int = 1) -> np.ndarray:
    """Pilot values of ``n_symbols`` consecutive OFDM symbols at k = -21, -7, 7, 21.

    Symbol n carries (1, 1, 1, -1) p_{n + first} (§17.3.5.10); ``first = 1`` for the
    DATA symbols of a non-HT frame (its SIGNAL symbol takes p_0).

    Returns
    -------
    numpy.ndarray, float64, shape (n_symbols, 4)
    """
    return pilot_polarity(np.arange(n_symbols) + first)[:, None] * PILOT_VALUES

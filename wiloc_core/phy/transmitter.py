"""A 20 MHz non-HT 802.11 OFDM transmitter: bits -> points -> OFDM symbols -> samples.

IEEE 802.11-2020 §17.3.5.10 (OFDM modulation): each DATA symbol puts 48 points on the
data subcarriers and the four pilots (1, 1, 1, -1) p_{n+1} on k = -21, -7, 7, 21,
leaves DC and the guard subcarriers empty, and is sent as the inverse FFT of that
grid with the last 16 samples copied in front as cyclic prefix. The frame is the
legacy preamble (L-STF, L-LTF; §17.3.3) followed by the DATA symbols.

What is left out, because the error vector spectrum does not need it: the SIGNAL
symbol (its place in the pilot polarity sequence is kept: DATA symbol n uses
p_{n+1}), the SERVICE field, scrambling, convolutional coding and interleaving of
the payload bits (random bits are mapped directly), and edge windowing.

Scaling: x = IFFT(X) N_FFT / sqrt(52), so a symbol of unit-power points has unit
mean sample power, and the receiver's FFT scaled by sqrt(52) / N_FFT returns X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng

from .constellation import bits_per_symbol, check_order, map_bits
from .numerology import CP_LEN, DATA_POS, N_FFT, PILOT_POS, SYMBOL_LEN, USED_K, fft_bins
from .pilots import pilot_symbols
from .preamble import legacy_preamble

#: Samples before the first DATA symbol (L-STF + L-LTF).
PREAMBLE_LEN = 320
#: Scale from the frequency grid to time samples.
TIME_SCALE = N_FFT / np.sqrt(USED_K.size)


def symbol_grid(data, *, first_polarity: int = 1) -> np.ndarray:
    """Used-subcarrier grid of DATA symbols: data points plus pilots.

    Parameters
    ----------
    data : array_like, complex, shape (..., n_symbols, 48)
        Points on the data subcarriers, ascending k.
    first_polarity : int
        Index into p_n of the first symbol (1 for DATA symbols after SIGNAL).

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_symbols, 52)
        Values on ``USED_K`` (k = -26..-1, 1..26).
    """
    data = np.asarray(data, dtype=np.complex128)
    if data.ndim < 2 or data.shape[-1] != DATA_POS.size:
        raise ParameterError("data", "an array of shape (..., n_symbols, 48)", data.shape)
    grid = np.empty(data.shape[:-1] + (USED_K.size,), dtype=np.complex128)
    grid[..., DATA_POS] = data
    grid[..., PILOT_POS] = pilot_symbols(data.shape[-2], first_polarity)
    return grid


def ofdm_modulate(grid) -> np.ndarray:
    """OFDM symbols with cyclic prefix from used-subcarrier grids.

    Parameters
    ----------
    grid : array_like, complex, shape (..., n_symbols, 52)
        Values on ``USED_K``.

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_symbols * 80)
        Baseband samples at 20 MS/s, symbol after symbol.
    """
    grid = np.asarray(grid, dtype=np.complex128)
    full = np.zeros(grid.shape[:-1] + (N_FFT,), dtype=np.complex128)
    full[..., fft_bins(USED_K)] = grid
    body = np.fft.ifft(full, axis=-1) * TIME_SCALE
    with_cp = np.concatenate([body[..., -CP_LEN:], body], axis=-1)
    return with_cp.reshape(grid.shape[:-2] + (-1,))


@dataclass(frozen=True)
class Packets:
    """Transmitted packets (all of one modulation and length).

    Attributes
    ----------
    samples : numpy.ndarray, complex128, shape (n_packets, 320 + 80 n_symbols)
        Baseband samples at 20 MS/s: preamble, then DATA symbols.
    bits : numpy.ndarray, uint8, shape (n_packets, n_symbols, 48 log2 M)
    symbols : numpy.ndarray, complex128, shape (n_packets, n_symbols, 48)
        Points on the data subcarriers.
    grid : numpy.ndarray, complex128, shape (n_packets, n_symbols, 52)
        Data and pilots on ``USED_K``.
    order : int
        Modulation order M.
    """

    samples: np.ndarray
    bits: np.ndarray
    symbols: np.ndarray
    grid: np.ndarray
    order: int

    @property
    def n_symbols(self) -> int:
        return self.symbols.shape[1]


def transmit(n_packets: int, n_symbols: int, order: int = 16, *, seed=None) -> Packets:
    """Random-payload packets: legacy preamble plus ``n_symbols`` DATA symbols.

    Parameters
    ----------
    n_packets : int >= 1
    n_symbols : int >= 1
        DATA symbols per packet (4 us each).
    order : {2, 4, 16, 64}
        Modulation order of the data subcarriers.
    seed : int or numpy.random.Generator
        Draws the payload bits.

    Returns
    -------
    Packets
    """
    order = check_order(order)
    for name, value in (("n_packets", n_packets), ("n_symbols", n_symbols)):
        if not (isinstance(value, int | np.integer) and value >= 1):
            raise ParameterError(name, "a positive integer", value)
    g = make_rng(seed)
    b = bits_per_symbol(order)
    bits = g.integers(0, 2, size=(n_packets, n_symbols, DATA_POS.size * b), dtype=np.uint8)
    symbols = map_bits(bits, order)
    grid = symbol_grid(symbols)
    data = ofdm_modulate(grid)
    samples = np.concatenate([np.broadcast_to(legacy_preamble(), (n_packets, PREAMBLE_LEN)), data],
                             axis=-1)
    return Packets(samples, bits, symbols, grid, order)


def frame_length(n_symbols: int) -> int:
    """Samples in a frame of ``n_symbols`` DATA symbols: 320 + 80 n_symbols."""
    return PREAMBLE_LEN + SYMBOL_LEN * int(n_symbols)

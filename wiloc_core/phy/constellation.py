"""Gray-mapped BPSK, QPSK, 16-QAM and 64-QAM of 802.11 OFDM, and hard decisions.

IEEE 802.11-2020 §17.3.5.8 (subcarrier modulation mapping): the bits of one
subcarrier, in transmit order b0 b1 ..., are split in two halves; the first half
selects the in-phase level and the second the quadrature level (BPSK: b0 alone,
Q = 0). On each axis the L = sqrt(M) levels -(L-1), ..., -1, +1, ..., L-1 carry the
binary-reflected Gray code of their index, most significant bit first
(16-QAM: 00 -> -3, 01 -> -1, 11 -> +1, 10 -> +3), so neighbouring levels differ in
one bit. The points are scaled by K_mod (1, 1/sqrt 2, 1/sqrt 10, 1/sqrt 42) to unit
average power over the constellation.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

#: Modulation orders M of 802.11 OFDM: BPSK, QPSK, 16-QAM, 64-QAM.
ORDERS = (2, 4, 16, 64)
NAMES = {2: "BPSK", 4: "QPSK", 16: "16-QAM", 64: "64-QAM"}
#: Normalisation factor K_mod of each order (§17.3.5.8).
K_MOD = {2: 1.0, 4: 1 / np.sqrt(2), 16: 1 / np.sqrt(10), 64: 1 / np.sqrt(42)}


def check_order(order) -> int:
    """The modulation order as an int from ``ORDERS``."""
    if order not in ORDERS:
        raise ParameterError("order", f"a modulation order in {ORDERS}", order)
    return int(order)


def bits_per_symbol(order) -> int:
    """log2(M): 1, 2, 4 or 6 bits per subcarrier."""
    return int(np.log2(check_order(order)))


def _axis_levels(order: int) -> tuple[int, int]:
    """Levels per axis (in-phase, quadrature): (2, 1) for BPSK, (sqrt M, sqrt M) else."""
    return (2, 1) if order == 2 else (int(round(np.sqrt(order))),) * 2


def axis_levels(order) -> np.ndarray:
    """The normalised amplitude levels of one axis, ascending; float64, shape (L,).

    For BPSK this is the in-phase axis; its quadrature axis has the single level 0.
    """
    order = check_order(order)
    n_levels = _axis_levels(order)[0]
    return (2 * np.arange(n_levels) - (n_levels - 1)) * K_MOD[order]


def _gray_to_index(n_bits: int) -> np.ndarray:
    """Table: value of a Gray-coded bit group -> level index (inverse Gray code)."""
    index = np.arange(2 ** n_bits)
    table = np.empty_like(index)
    table[index ^ (index >> 1)] = index
    return table


def _bits_to_int(bits: np.ndarray) -> np.ndarray:
    """Integers from bit groups along the last axis, most significant (first) bit first."""
    weights = 1 << np.arange(bits.shape[-1] - 1, -1, -1)
    return (bits.astype(np.int64) * weights).sum(axis=-1)


def map_bits(bits, order) -> np.ndarray:
    """Map bits to constellation points (§17.3.5.8).

    Parameters
    ----------
    bits : array_like of 0/1, shape (..., n * log2(M))
        Bits in transmit order; each consecutive group of log2(M) bits is one point.
    order : {2, 4, 16, 64}

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n)
        Unit-average-power points.
    """
    order = check_order(order)
    bits = np.asarray(bits)
    b = bits_per_symbol(order)
    if bits.shape[-1] % b:
        raise ParameterError("bits", f"a last axis that is a multiple of {b} bits for M = {order}",
                             bits.shape)
    if np.any((bits != 0) & (bits != 1)):
        raise ParameterError("bits", "values 0 or 1", np.unique(bits)[:4])
    groups = bits.reshape(bits.shape[:-1] + (-1, b))
    levels = axis_levels(order)
    if order == 2:
        return levels[groups[..., 0]].astype(np.complex128)
    half = b // 2
    table = _gray_to_index(half)
    i = levels[table[_bits_to_int(groups[..., :half])]]
    q = levels[table[_bits_to_int(groups[..., half:])]]
    return i + 1j * q


def points(order) -> np.ndarray:
    """All M points, indexed by the integer whose binary digits b0 b1 ... they carry.

    Returns
    -------
    numpy.ndarray, complex128, shape (M,)
    """
    order = check_order(order)
    b = bits_per_symbol(order)
    value = np.arange(order)
    bits = (value[:, None] >> np.arange(b - 1, -1, -1)) & 1
    return map_bits(bits, order).reshape(order)


def min_distance(order) -> float:
    """Smallest distance between two points of the normalised constellation."""
    order = check_order(order)
    return 2.0 * K_MOD[order]


def _nearest_level(x: np.ndarray, order: int) -> np.ndarray:
    """Index of the nearest axis level, for values in units of the normalised axis."""
    n_levels = _axis_levels(order)[0]
    return np.clip(np.rint((x / K_MOD[order] + n_levels - 1) / 2), 0, n_levels - 1).astype(np.int64)


def hard_decision(symbols, order) -> np.ndarray:
    """Nearest constellation point of each symbol (the paper's eq. 19).

    Square constellations are products of per-axis levels, so the nearest point is the
    nearest level on each axis; BPSK decides on the in-phase axis alone.

    Parameters
    ----------
    symbols : array_like, complex, shape (..., n)
        Equalised symbols.
    order : int or array_like of int, broadcasting to ``symbols.shape``
        Modulation order per symbol (or per packet, as ``order[:, None]``).

    Returns
    -------
    numpy.ndarray, complex128, same shape as ``symbols``
    """
    x = np.asarray(symbols, dtype=np.complex128)
    order = np.asarray(order)
    for m in np.unique(order):
        check_order(int(m))
    # Per-symbol scale K_mod and levels per axis L, so all orders decide in one pass.
    scale = np.select([order == m for m in ORDERS], [K_MOD[m] for m in ORDERS])
    n_levels = np.select([order == m for m in ORDERS], [_axis_levels(m)[0] for m in ORDERS])
    top = n_levels - 1

    def level(v):
        return (2 * np.clip(np.rint((v / scale + top) / 2), 0, top) - top) * scale

    return level(x.real) + 1j * np.where(order == 2, 0.0, level(x.imag))


def demap_hard(symbols, order) -> np.ndarray:
    """Bits of the nearest point of each symbol (inverse of :func:`map_bits`).

    Parameters
    ----------
    symbols : array_like, complex, shape (..., n)
    order : {2, 4, 16, 64}

    Returns
    -------
    numpy.ndarray, uint8, shape (..., n * log2(M))
    """
    order = check_order(order)
    x = np.asarray(symbols, dtype=np.complex128)
    b = bits_per_symbol(order)
    if order == 2:
        return _nearest_level(x.real, 2).astype(np.uint8)
    half = b // 2
    gray = np.arange(2 ** half) ^ (np.arange(2 ** half) >> 1)
    shifts = np.arange(half - 1, -1, -1)
    i_bits = (gray[_nearest_level(x.real, order)][..., None] >> shifts) & 1
    q_bits = (gray[_nearest_level(x.imag, order)][..., None] >> shifts) & 1
    return np.concatenate([i_bits, q_bits], axis=-1).reshape(x.shape[:-1] + (-1,)).astype(np.uint8)

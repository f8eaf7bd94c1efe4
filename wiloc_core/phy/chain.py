"""The whole EVAL receiver chain on frames of 20 MHz non-HT OFDM (paper 003 §III-B to §III-D).

samples -> FFT of L-LTF and DATA symbols -> CSI (eqs. 9-13) -> pilot phase per symbol
(eq. 14) -> zero-forcing equalisation without the RFO (eqs. 15-17) -> k-means
modulation classification (eq. 18) -> hard decisions (eq. 19) -> raw error vectors
of the received symbols against the decisions, with the pilots' common phase removed,
and the packet's raw EVS (eqs. 20-23, rebuilt in :mod:`wiloc_core.phy.evs`). Calibration across packets (eq. 24) is left to
the caller (:func:`wiloc_core.phy.evs.calibrate`), since it needs the packets' order
in time. Every step is vectorised over packets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classify import classify_modulation
from .constellation import ORDERS, check_order, hard_decision
from .evs import error_vector_spectrum, raw_error_vectors
from .numerology import DATA_POS, PILOT_POS
from .pilots import pilot_symbols
from .receiver import equalize, ltf_channel_estimate, ofdm_demodulate, pilot_phase


@dataclass(frozen=True)
class Reception:
    """What the receiver chain extracts from each frame.

    Attributes
    ----------
    csi : numpy.ndarray, complex128, shape (n_packets, 52)
        L-LTF channel estimate H-hat on ``USED_K``.
    phase : numpy.ndarray, float64, shape (n_packets, n_symbols), rad
        Pilot phase phi-hat_n of every DATA symbol.
    equalized : numpy.ndarray, complex128, shape (n_packets, n_symbols, 52)
        X-tilde on ``USED_K`` (data and pilots).
    order : numpy.ndarray, int64, shape (n_packets,)
        Modulation order chosen by k-means (or the one given).
    reference : numpy.ndarray, complex128, shape (n_packets, n_symbols, 52)
        X-hat: hard decisions on data subcarriers, known pilot values on pilots.
    evs : numpy.ndarray, complex128, shape (n_packets, 52)
        Raw error vector spectrum (eq. 23) on ``USED_K``: the channel estimated on the
        DATA symbols, phase measured from the pilots' common phase (RFO removed).
    """

    csi: np.ndarray
    phase: np.ndarray
    equalized: np.ndarray
    order: np.ndarray
    reference: np.ndarray
    evs: np.ndarray

    @property
    def data_symbols(self) -> np.ndarray:
        """Decided points on the 48 data subcarriers; complex128 (n_packets, n_symbols, 48)."""
        return self.reference[..., DATA_POS]


def reference_symbols(equalized, order) -> np.ndarray:
    """X-hat on all used subcarriers: eq. 19 on data subcarriers, known pilots on pilots.

    Parameters
    ----------
    equalized : array_like, complex, shape (n_packets, n_symbols, 52)
    order : array_like of int, shape (n_packets,)

    Returns
    -------
    numpy.ndarray, complex128, shape (n_packets, n_symbols, 52)
    """
    x = np.asarray(equalized, dtype=np.complex128)
    ref = np.empty_like(x)
    ref[..., DATA_POS] = hard_decision(x[..., DATA_POS], np.asarray(order)[:, None, None])
    ref[..., PILOT_POS] = pilot_symbols(x.shape[-2])
    return ref


def receive(samples, n_symbols: int, *, start: int = 0, order: int | None = None,
            orders=ORDERS) -> Reception:
    """Run the EVAL receiver chain on time-aligned frames.

    Parameters
    ----------
    samples : array_like, complex, shape (n_packets, n_samples)
        Baseband at 20 MS/s, each row one frame starting (L-STF) at ``start``.
    n_symbols : int
        DATA symbols per frame.
    start : int
        Sample index of the frame start.
    order : {2, 4, 16, 64}, optional
        Known modulation order (e.g. from the SIGNAL field); ``None`` classifies it.
    orders : sequence of int
        Candidate orders for the classifier.

    Returns
    -------
    Reception

    Examples
    --------
    >>> from wiloc_core import phy
    >>> tx = phy.transmit(4, 10, 16, seed=0)
    >>> rx = phy.receive(tx.samples, 10)
    >>> rx.order.tolist(), bool((rx.data_symbols == tx.symbols).all()), rx.evs.shape
    ([16, 16, 16, 16], True, (4, 52))
    >>> bool(abs(rx.evs - 1).max() < 1e-12)   # no channel (H = 1): the EVS is H
    True
    """
    x = np.atleast_2d(np.asarray(samples, dtype=np.complex128))
    ltf, data = ofdm_demodulate(x, n_symbols, start=start)
    csi = ltf_channel_estimate(ltf)
    phase = pilot_phase(data, csi)
    eq = equalize(data, csi, phase)
    if order is None:
        chosen = classify_modulation(eq[..., DATA_POS], orders)
    else:
        chosen = np.full(x.shape[0], check_order(order), dtype=np.int64)
    ref = reference_symbols(eq, chosen)
    evs = error_vector_spectrum(raw_error_vectors(data, ref))
    return Reception(csi, phase, eq, chosen, ref, evs)

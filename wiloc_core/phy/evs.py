"""Error vector spectrum (EVS) of equalised OFDM symbols (paper 003 eqs. 20-24, 5).

The paper's equations did not survive text extraction; the forms rebuilt here follow
its text: the EVS is "the Euclidean distance and phase rotation between the equalised
and reference symbols", it "eliminates the RFO", it is zero for an ideal link, and a
packet's raw EVS is the mean over its data symbols (eq. 23).
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError


def raw_error_vectors(equalized, reference) -> np.ndarray:
    """Error vector of every equalised symbol relative to its reference (eqs. 20-22).

    Rebuilt form: the error vector divided by the reference point,

    .. math:: \\epsilon_{n,k} = \\frac{\\tilde X_{n,k} - \\hat X_{n,k}}{\\hat X_{n,k}}
              = \\frac{\\tilde X_{n,k}}{\\hat X_{n,k}} - 1.

    Dividing by the reference removes the data ("the reference symbol is eliminated
    by the estimated reference symbol"), so symbols carrying different points can be
    averaged. With eq. 17 and correct decisions (X-hat = X),

    .. math:: \\epsilon_{n,k} = \\frac{H_k}{\\hat H_k} e^{j(\\phi_n - \\hat\\phi_n)} - 1
              + \\frac{W_{n,k}}{\\hat H_k \\hat X_{n,k} e^{j\\hat\\phi_n}} \\quad (22):

    the per-symbol RFO phi_n is cancelled by the pilot estimate phi-hat_n, and what is
    left is the mismatch between the channel seen by the data and the LTF estimate,
    plus noise scaled by 1 / |H-hat_k|. Its modulus is the Euclidean distance
    |X-tilde - X-hat| relative to |X-hat|, and arg(1 + epsilon) is the rotation from
    reference to equalised symbol. It is exactly zero for a noiseless, offset-free link.

    Parameters
    ----------
    equalized : array_like, complex, shape (..., n_symbols, n_sc)
        X-tilde from :func:`wiloc_core.phy.receiver.equalize`.
    reference : array_like, complex, shape (..., n_symbols, n_sc)
        X-hat: hard decisions on data subcarriers, known values on pilots; non-zero.

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_symbols, n_sc)
    """
    x = np.asarray(equalized, dtype=np.complex128)
    ref = np.asarray(reference, dtype=np.complex128)
    if np.any(ref == 0):
        raise ParameterError("reference", "non-zero reference points", "a zero")
    return x / ref - 1.0


def error_vector_spectrum(raw) -> np.ndarray:
    """A packet's raw EVS: the mean error vector over its symbols (eq. 23).

    .. math:: e_k = \\frac{1}{N_D} \\sum_{n=1}^{N_D} \\epsilon_{n,k}

    Parameters
    ----------
    raw : array_like, complex, shape (..., n_symbols, n_sc)

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_sc)
    """
    return np.asarray(raw, dtype=np.complex128).mean(axis=-2)


def calibrate(evs, beta: float, *, window: int | None = None) -> np.ndarray:
    """Calibrated EVS across packets with parameter beta (eq. 24, reconstructed).

    Eq. 24 is missing from the paper's text. Its description: a calibration that
    reduces the noise in the raw EVS, written with the number of packets N_P and a
    parameter beta; "the second term dominates with the increment of beta, causing
    EVS to approximate the time average of the raw EVS"; it "does not work" at the
    smallest beta, and too large a beta over-smooths. The form reconstructed from
    that: a convex combination of the packet's own raw EVS and the time average of
    the raw EVS over N_P packets, weighted 1 : beta,

    .. math:: \\bar e_{p,k} = \\frac{1}{1 + \\beta} e_{p,k}
              + \\frac{\\beta}{1 + \\beta} \\frac{1}{N_P} \\sum_{p'} e_{p',k},

    so beta = 0 returns the raw EVS and beta -> infinity the time average.

    Parameters
    ----------
    evs : array_like, complex, shape (n_packets, n_sc)
        Raw EVS of consecutive packets of one recording, in time order.
    beta : float >= 0
        Calibration parameter (the paper settles on 4 for amplitude, 6 for phase).
    window : int, optional
        N_P. ``None``: the time average over all given packets. An int: a causal
        moving average over the current packet and the ``window - 1`` before it
        (fewer at the start), as a receiver running online would compute it.

    Returns
    -------
    numpy.ndarray, complex128, shape (n_packets, n_sc)
    """
    e = np.asarray(evs, dtype=np.complex128)
    if e.ndim != 2:
        raise ParameterError("evs", "an array of shape (n_packets, n_sc)", e.shape)
    if not (np.isfinite(beta) and beta >= 0):
        raise ParameterError("beta", "a finite calibration parameter >= 0", beta)
    if window is None:
        average = np.broadcast_to(e.mean(axis=0), e.shape)
    else:
        if not (isinstance(window, int | np.integer) and window >= 1):
            raise ParameterError("window", "a positive number of packets N_P", window)
        csum = np.cumsum(np.vstack([np.zeros((1, e.shape[1]), e.dtype), e]), axis=0)
        stop = np.arange(1, len(e) + 1)
        begin = np.maximum(stop - window, 0)
        average = (csum[stop] - csum[begin]) / (stop - begin)[:, None]
    return (e + beta * average) / (1.0 + beta)


def amplitude_phase(z) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude and phase of complex features (eq. 5: e = A e^{j theta}).

    Parameters
    ----------
    z : array_like, complex, any shape
        EVS or CSI.

    Returns
    -------
    amplitude : numpy.ndarray, float64, same shape
    phase : numpy.ndarray, float64, same shape, rad in (-pi, pi]
    """
    z = np.asarray(z, dtype=np.complex128)
    return np.abs(z), np.angle(z)

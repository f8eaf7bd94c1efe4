"""Error vector spectrum (EVS) of OFDM data symbols (paper 003 eqs. 20-24, 5).

The paper's equations did not survive text extraction; the definition here is rebuilt
from its text (§III-D, §IV), which says, in our paraphrase:

* the EVS is a channel estimate made from the DATA symbols: the packet's raw EVS is the
  mean over its N_D data symbols, "a similar processing method to the sample average
  used for CSI" (eq. 10 averages Y / L over the N_L training symbols), and because N_D
  exceeds N_L the EVS "can accomplish more accurate channel estimation than CSI";
  Fig. 4 is read as recovering "the distortion of each subcarrier" to "obtain the
  channel characteristics";
* the amplitude of the CSI (eq. 13) is the same as that of the EVS (eq. 22) once the
  exponential (offset) term is removed (§IV, Fig. 7), so the EVS keeps |H_k|;
* the error vector removes the random frequency offset (RFO), which is why the EVS
  phase is "more stable and reliable" than the CSI phase (text after eq. 22, Fig. 7);
  the pilots are what "track the phase variations and remove the RFO" of each DATA
  symbol (§III-B);
* the data are removed by dividing by the hard-decided reference symbol ("once the
  reference symbol has been eliminated by the estimated reference symbol", eq. 22),
  which needs the modulation classifier and hard decisions (eqs. 18-19).

Reconstruction (:func:`raw_error_vectors`): on every used subcarrier k of DATA symbol n,
the received symbol with its RFO phase removed, relative to its decided reference,

.. math:: \\epsilon_{n,k} = \\frac{Y_{n,k}\\, e^{-j\\hat\\psi_n}}{\\hat X_{n,k}}, \\qquad
          \\hat\\psi_n = \\arg \\sum_{p \\in \\mathcal P} Y_{n,p} P_{n,p}^{*},

and e_k is its mean over the symbols (eq. 23). With Y = H X e^{j phi_n} + W (eqs. 7-8)
and correct decisions, psi-hat_n = phi_n + theta_P with theta_P = arg sum_p H_p, so

.. math:: \\epsilon_{n,k} = H_k e^{-j\\theta_P}
          + \\frac{W_{n,k} e^{-j\\hat\\psi_n}}{\\hat X_{n,k}}:

the channel on subcarrier k with its phase measured from the pilots' common phase
theta_P. The offset phi_n (random start phase, carrier offset, drift) cancels exactly,
while the CSI H-hat_k = H_k e^{j phi_L} (eq. 13) keeps the LTF's phi_L; the amplitudes
agree, |e_k| = |H_k| = |H-hat_k| without noise. The per-symbol noise term, scaled by
1 / |X-hat|, is what the paper says dominates eq. 22 and what calibration (eq. 24)
averages out.

Why not the chain's pilot phase phi-hat_n of eq. 14 (:func:`~wiloc_core.phy.receiver.
pilot_phase`): it is measured against the CSI, phi-hat_n = phi_n - phi_L, so
Y e^{-j phi-hat_n} / X-hat = H_k e^{j phi_L} would be the CSI again, offset included.
Why not the equalised ratio X-tilde / X-hat - 1 (the previous reading, kept as
:func:`equalized_error_vectors`): the ZF equaliser divides H_k out, so that ratio
carries no channel at all, only the LTF estimate's noise and the data noise; its
amplitude cannot equal the CSI amplitude and its phase carries no location.

An "error vector" here is thus the distortion of the RFO-corrected received symbol
relative to the ideal constellation point, without channel equalisation: its modulus
is the gain |Y| / |X-hat| and its argument the rotation from reference to received
symbol (the paper's "Euclidean distance and phase rotation degree").
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError

from .numerology import USED_K
from .receiver import pilot_phase


def pilot_common_phase(data, *, first_polarity: int = 1) -> np.ndarray:
    """Common phase of each DATA symbol from its four pilots alone (the EVS's RFO estimate).

    .. math:: \\hat\\psi_n = \\arg \\sum_{p \\in \\mathcal P} Y_{n,p} P_{n,p}^{*}
              = \\phi_n + \\arg \\sum_p H_p \\quad\\text{(no noise)},

    unlike :func:`~wiloc_core.phy.receiver.pilot_phase`, which correlates with the
    CSI and so measures the offset relative to the LTF's.

    Parameters
    ----------
    data : array_like, complex, shape (..., n_symbols, 52)
        Received DATA symbols on ``USED_K``.
    first_polarity : int
        Polarity index of the first symbol (1 for DATA symbols).

    Returns
    -------
    numpy.ndarray, float64, shape (..., n_symbols), rad in (-pi, pi]
    """
    # The same correlation as pilot_phase with a flat unit channel in place of H-hat.
    return pilot_phase(data, np.ones(len(USED_K)), first_polarity=first_polarity)


def _check_reference(reference) -> np.ndarray:
    ref = np.asarray(reference, dtype=np.complex128)
    if np.any(ref == 0):
        raise ParameterError("reference", "non-zero reference points", "a zero")
    return ref


def raw_error_vectors(data, reference, *, phase=None) -> np.ndarray:
    """Error vector of every received symbol relative to its reference (eqs. 20-22).

    .. math:: \\epsilon_{n,k} = Y_{n,k}\\, e^{-j\\hat\\psi_n} / \\hat X_{n,k}

    (see the module docstring for the reconstruction and the text behind it). Exactly
    H_k e^{-j arg sum_p H_p} for a noiseless link with correct decisions, whatever the
    per-symbol offset phase.

    Parameters
    ----------
    data : array_like, complex, shape (..., n_symbols, 52)
        Y: received DATA symbols on ``USED_K`` (not equalised).
    reference : array_like, complex, shape (..., n_symbols, 52)
        X-hat: hard decisions on data subcarriers, known values on pilots; non-zero.
    phase : array_like, float, shape (..., n_symbols), optional
        psi-hat_n in rad; default :func:`pilot_common_phase` of ``data``.

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_symbols, 52)
    """
    y = np.asarray(data, dtype=np.complex128)
    ref = _check_reference(reference)
    psi = pilot_common_phase(y) if phase is None else np.asarray(phase, dtype=float)
    return y * np.exp(-1j * psi)[..., None] / ref


def equalized_error_vectors(equalized, reference) -> np.ndarray:
    """Relative error of the ZF-equalised symbols, X-tilde / X-hat - 1 (previous reading).

    .. math:: \\frac{\\tilde X_{n,k}}{\\hat X_{n,k}} - 1
              = \\frac{H_k e^{j\\phi_n}}{\\hat H_k e^{j\\hat\\phi_n}} - 1
              + \\frac{W_{n,k}}{\\hat H_k \\hat X_{n,k} e^{j\\hat\\phi_n}}.

    The textbook error vector (EVM) of the equalised constellation: zero for a
    noiseless link, and free of the channel, since the equaliser divides H_k out. Not
    the EVS of the chain (see the module docstring); kept for link-quality checks.

    Parameters
    ----------
    equalized : array_like, complex, shape (..., n_symbols, n_sc)
        X-tilde from :func:`wiloc_core.phy.receiver.equalize`.
    reference : array_like, complex, shape (..., n_symbols, n_sc)
        X-hat; non-zero.

    Returns
    -------
    numpy.ndarray, complex128, shape (..., n_symbols, n_sc)
    """
    x = np.asarray(equalized, dtype=np.complex128)
    return x / _check_reference(reference) - 1.0


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


def calibrate(evs, beta: float, *, window: int | None = None, form: str = "mix") -> np.ndarray:
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

    The description fits a second reading as well, ``form="moving_average"``: beta
    itself is the number of packets averaged (the causal mean of the packet and the
    ``round(beta) - 1`` before it; beta <= 1 returns the raw EVS), and ``window`` is
    ignored.

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
    form : {"mix", "moving_average"}
        Which reading of eq. 24 (see above).

    Returns
    -------
    numpy.ndarray, complex128, shape (n_packets, n_sc)
    """
    e = np.asarray(evs, dtype=np.complex128)
    if e.ndim != 2:
        raise ParameterError("evs", "an array of shape (n_packets, n_sc)", e.shape)
    if not (np.isfinite(beta) and beta >= 0):
        raise ParameterError("beta", "a finite calibration parameter >= 0", beta)
    if form not in CALIBRATION_FORMS:
        raise ParameterError("form", f"one of {CALIBRATION_FORMS}", form)
    if form == "moving_average":
        return _causal_mean(e, max(1, int(round(beta))))
    if window is None:
        average = np.broadcast_to(e.mean(axis=0), e.shape)
    else:
        if not (isinstance(window, int | np.integer) and window >= 1):
            raise ParameterError("window", "a positive number of packets N_P", window)
        average = _causal_mean(e, int(window))
    return (e + beta * average) / (1.0 + beta)


#: Readings of the reconstructed eq. 24 (:func:`calibrate`).
CALIBRATION_FORMS = ("mix", "moving_average")


def _causal_mean(e: np.ndarray, window: int) -> np.ndarray:
    """Mean of each row and the ``window - 1`` rows before it (fewer at the start)."""
    csum = np.cumsum(np.vstack([np.zeros((1, e.shape[1]), e.dtype), e]), axis=0)
    stop = np.arange(1, len(e) + 1)
    begin = np.maximum(stop - window, 0)
    return (csum[stop] - csum[begin]) / (stop - begin)[:, None]


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

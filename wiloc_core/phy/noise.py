"""Signal-to-noise checks, complex Gaussian noise and frequency offsets.

Shared by the PHY layer and the simulator's sensors, so that no sensor has to
import another for them.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng

from .numerology import SAMPLE_RATE_HZ


def check_snr(snr, name: str = "snr") -> float:
    """A linear power ratio > 0 (use ``10 ** (snr_db / 10)`` for decibels)."""
    value = float(snr)
    if not (np.isfinite(value) or value == np.inf) or value <= 0:
        raise ParameterError(name, "a positive SNR as a linear power ratio (10**(dB/10))", snr)
    return value


def complex_normal(shape, g: np.random.Generator) -> np.ndarray:
    """Circularly-symmetric complex Gaussian samples of unit variance; complex128, ``shape``."""
    return g.standard_normal(tuple(shape) + (2,)).view(np.complex128)[..., 0] / np.sqrt(2)


def awgn(x, noise_var: float, *, seed=None) -> np.ndarray:
    """Add circularly-symmetric complex white Gaussian noise of variance ``noise_var``.

    Parameters
    ----------
    x : array_like, complex, any shape
    noise_var : float
        Noise power per complex sample (>= 0); real and imaginary parts carry half.
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, complex128, same shape as ``x``
    """
    if not noise_var >= 0:
        raise ParameterError("noise_var", "a non-negative noise power", noise_var)
    x = np.asarray(x, dtype=np.complex128)
    if noise_var == 0:
        return x.copy()
    return x + np.sqrt(noise_var) * complex_normal(x.shape, make_rng(seed))


def frequency_shift(x, offset_hz, *, sample_rate_hz: float = SAMPLE_RATE_HZ,
                    phase_rad=0.0) -> np.ndarray:
    """Apply a carrier frequency offset to baseband samples along the last axis.

    .. math:: y[m] = x[m]\\, e^{j(2\\pi \\Delta f\\, m / F_s + \\theta_0)}

    Parameters
    ----------
    x : array_like, complex, shape (..., n_samples)
    offset_hz : float or array_like broadcasting to ``x.shape[:-1]``
        Delta f (Hz).
    sample_rate_hz : float
        F_s (Hz).
    phase_rad : float or array_like broadcasting to ``x.shape[:-1]``
        Phase theta_0 at sample 0 (rad).

    Returns
    -------
    numpy.ndarray, complex128, same shape as ``x``
    """
    x = np.asarray(x, dtype=np.complex128)
    m = np.arange(x.shape[-1])
    f = np.asarray(offset_hz, dtype=float)[..., None]
    theta = np.asarray(phase_rad, dtype=float)[..., None]
    return x * np.exp(1j * (2 * np.pi * f * m / sample_rate_hz + theta))

"""Vector network analyser: repeated S21 sweeps of the channel transfer function.

The CTF paper measured S21 between two omnidirectional antennas with a VNA,
601 points over 100 MHz at 2.4 GHz, 10 consecutive sweeps per grid position in a
static room (paper 000 §II-A/B). A sweep here is the noise-free CTF of eq. (1)
plus circularly-symmetric complex Gaussian measurement noise; the SNR is the mean
channel power of a position over its sweep band divided by the noise power per
frequency point, so every position is measured at the same SNR.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.phy.noise import check_snr
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.channel import check_frequencies, ctf
from wiloc_core.sim.paths import PathSet


def add_noise(H, snr, *, seed=None, axis=-1) -> np.ndarray:
    """Add complex Gaussian noise at a linear SNR relative to the mean power along ``axis``.

    Noise variance per sample: ``sigma^2 = mean(|H|^2, axis) / snr``; real and
    imaginary parts each carry sigma^2 / 2.

    Parameters
    ----------
    H : array_like, complex, any shape
    snr : float
        Linear power ratio, > 0; ``inf`` adds nothing.
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, complex128, same shape as ``H``
    """
    snr = check_snr(snr)
    H = np.asarray(H, dtype=np.complex128)
    if np.isinf(snr):
        return H.copy()
    g = make_rng(seed)
    sigma = np.sqrt(np.mean(np.abs(H) ** 2, axis=axis, keepdims=True) / snr / 2)
    noise = g.standard_normal(H.shape + (2,)).view(np.complex128)[..., 0]
    return H + sigma * noise


def vna_sweeps(paths: PathSet, freqs_hz, *, n_sweeps: int = 10, snr: float = 1e3,
               phase_drift_rad: float = 0.0, seed=None, dtype=np.complex64) -> np.ndarray:
    """Repeated VNA sweeps of S21 for every link.

    Parameters
    ----------
    paths : PathSet
        n_links receiver positions.
    freqs_hz : array_like, shape (n_f,), Hz
        Sweep grid, non-empty and strictly increasing; 601 points over 100 MHz
        (:func:`wiloc_core.sim.channel.frequency_grid`) reproduces paper 000.
    n_sweeps : int
        Sweeps per position (paper 000: 10).
    snr : float
        Linear SNR per frequency point (> 0; default 30 dB, our assumption for a
        calibrated VNA with a short link).
    phase_drift_rad : float
        Standard deviation of a common phase offset per sweep (cable and
        oscillator drift between sweeps; 0 = ideal instrument).
    seed : int or numpy.random.Generator
    dtype : numpy complex dtype of the result

    Returns
    -------
    numpy.ndarray, complex, shape (n_links, n_sweeps, n_f)
        Measured S21 (linear, dimensionless).
    """
    f = check_frequencies(freqs_hz)
    if not (isinstance(n_sweeps, int | np.integer) and n_sweeps >= 1):
        raise ParameterError("n_sweeps", "a positive integer", n_sweeps)
    snr = check_snr(snr)
    if not phase_drift_rad >= 0:
        raise ParameterError("phase_drift_rad", "a non-negative standard deviation", phase_drift_rad)
    g = make_rng(seed)
    H = ctf(paths, f)[:, None, :]
    out = add_noise(np.broadcast_to(H, (paths.n_links, n_sweeps, f.size)), snr, seed=g)
    if phase_drift_rad > 0:
        out *= np.exp(1j * g.normal(0.0, phase_drift_rad, size=(paths.n_links, n_sweeps, 1)))
    return out.astype(dtype, copy=False)

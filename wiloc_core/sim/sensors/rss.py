"""Received signal strength (RSS / RSSI) from the same multipath components.

The local-mean received power is the incoherent sum of the path powers,

.. math:: P_r = P_t + G_t + G_r + 10 \\log_{10} \\sum_l a_l^2 + X_\\sigma \\quad [\\mathrm{dBm}],

(``mode="incoherent"``), or the band average of |H(f)|^2 over the occupied
subcarriers of one Wi-Fi channel, which keeps small-scale fading
(``mode="wideband"``). With free-space spreading the sum falls 20 dB per decade;
a scene's ``path_loss_exponent`` n makes it 10 n dB per decade, the log-distance
model (Rappaport, Wireless Communications, §4.9). X_sigma is log-normal shadowing, N(0, sigma^2) in dB,
optionally spatially correlated with an exponential (Gudmundson) correlation
exp(-d / d_corr) between links (Gudmundson, Electronics Letters 27(23), 1991; typical sigma 4-8 dB,
d_corr 1-5 m are our assumption).
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.phy.numerology import subcarrier_frequencies
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.channel import ctf
from wiloc_core.sim.paths import PathSet


def shadowing_db(positions, sigma_db: float, *, decorrelation_m: float | None = None,
                 seed=None) -> np.ndarray:
    """Log-normal shadowing in dB at each position.

    Parameters
    ----------
    positions : array_like, shape (n, 2 or 3), metres
    sigma_db : float
        Standard deviation (dB, >= 0).
    decorrelation_m : float, optional
        Distance at which the correlation falls to 1/e; ``None`` draws
        independent values.
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, float64, shape (n,), dB
    """
    if not sigma_db >= 0:
        raise ParameterError("sigma_db", "a non-negative standard deviation (dB)", sigma_db)
    p = np.atleast_2d(np.asarray(positions, dtype=float))
    g = make_rng(seed)
    z = g.standard_normal(len(p))
    if decorrelation_m is None or sigma_db == 0:
        return sigma_db * z
    if not decorrelation_m > 0:
        raise ParameterError("decorrelation_m", "a positive distance (m)", decorrelation_m)
    d = np.linalg.norm(p[:, None, :2] - p[None, :, :2], axis=-1)
    cov = np.exp(-d / decorrelation_m) + 1e-9 * np.eye(len(p))
    return sigma_db * (np.linalg.cholesky(cov) @ z)


def rss_dbm(paths: PathSet, *, tx_power_dbm: float = 20.0, antenna_gain_dbi: float = 0.0,
            shadowing_sigma_db: float = 0.0, decorrelation_m: float | None = None,
            mode: str = "incoherent", subcarrier_freqs_hz=None, quantize: bool = False,
            sensitivity_dbm: float | None = None, penetration_loss_db=0.0,
            seed=None) -> np.ndarray:
    """Received power in dBm for every link.

    Parameters
    ----------
    paths : PathSet
    tx_power_dbm : float
        Transmit power (dBm); 20 dBm = 100 mW is a common AP setting (assumption).
    antenna_gain_dbi : float
        Sum of TX and RX antenna gains (dBi).
    shadowing_sigma_db : float
        Log-normal shadowing standard deviation (dB).
    decorrelation_m : float, optional
        Spatial decorrelation distance of the shadowing (m), see :func:`shadowing_db`.
    mode : {"incoherent", "wideband"}
        Incoherent path-power sum, or the mean |H|^2 over ``subcarrier_freqs_hz``.
    subcarrier_freqs_hz : array_like, optional
        Frequencies for ``mode="wideband"``; default: the 56 HT20 subcarriers around
        the scene carrier.
    quantize : bool
        Round to integer dBm as drivers report RSSI.
    sensitivity_dbm : float, optional
        Values below this floor are returned as NaN (not detected).
    penetration_loss_db : float or array_like, shape (n_links,)
        Loss of obstacles the traced paths do not contain (floor slabs, an outer
        wall between an AP outside and a receiver inside: the floor and wall
        attenuation factors of Seidel & Rappaport 1992), dB >= 0, applied before
        quantisation and the sensitivity floor.
    seed : int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, float64, shape (n_links,), dBm
    """
    if mode == "incoherent":
        power = paths.power()
    elif mode == "wideband":
        if subcarrier_freqs_hz is None:
            subcarrier_freqs_hz = subcarrier_frequencies(paths.carrier_hz, "ht20")
        power = np.mean(np.abs(ctf(paths, subcarrier_freqs_hz)) ** 2, axis=1)
    else:
        raise ParameterError("mode", "'incoherent' or 'wideband'", mode)
    loss = np.broadcast_to(np.asarray(penetration_loss_db, dtype=float), power.shape)
    if np.any(~(loss >= 0)):
        raise ParameterError("penetration_loss_db", "non-negative losses (dB), one per link or one for all",
                             np.asarray(penetration_loss_db).min())
    out = tx_power_dbm + antenna_gain_dbi + 10 * np.log10(np.maximum(power, 1e-30)) - loss
    if shadowing_sigma_db:
        out = out + shadowing_db(paths.rx, shadowing_sigma_db, decorrelation_m=decorrelation_m,
                                 seed=seed)
    if quantize:
        out = np.round(out)
    if sensitivity_dbm is not None:
        out = np.where(out < sensitivity_dbm, np.nan, out)
    return out


def fit_log_distance(distance_m, rss, d0_m: float = 1.0):
    """Least-squares fit of ``rss = P0 - 10 n log10(d / d0)``.

    Returns
    -------
    p0_dbm, n : float, float
        Intercept at d0 and path-loss exponent.
    """
    d = np.asarray(distance_m, dtype=float)
    y = np.asarray(rss, dtype=float)
    ok = np.isfinite(y) & (d > 0)
    x = -10 * np.log10(d[ok] / d0_m)
    slope, intercept = np.polyfit(x, y[ok], 1)
    return float(intercept), float(slope)

"""Wi-Fi round-trip-time ranging (IEEE 802.11mc fine timing measurement).

Ranging: d = c ((t4 - t1) - (t3 - t2)) / 2 (WTN eq. (1); IEEE 802.11-2020 §11.21.6). The time of
flight a chip measures is the delay of the *first detected path* of the band-limited
channel impulse response, so this module

1. builds the impulse response of each link over the ranging bandwidth from the
   same multipath components as every other sensor (Hann-windowed band, IFFT);
2. takes the first local maximum above ``threshold_db`` of the strongest one
   (a leading-edge detector) and refines it by parabolic interpolation; merging of
   nearby paths within 1/B and a blocked direct path both bias this distance
   upwards, which is the multipath/NLOS bias (of the order of +0.5 ... +3 m NLOS, B. K. P. Horn's FTM RTT measurement notes, MIT);
3. draws each round trip with Gaussian timing noise that grows as the RSS drops
   (a Cramer-Rao-like 1/SNR variance law, Gezici et al., IEEE Signal Process. Mag. 2005), adds a device offset,
   quantises the RTT to the clock resolution (0.2-0.4 ns, Horn's FTM RTT notes),
   and fails it with a probability that rises below a weak-signal threshold
   (our assumption);
4. reports bursts 802.11mc-style: ``burst_size`` FTM frames give ``burst_size - 1``
   RTTs, the report holds their mean, their standard deviation and the numbers of
   attempted and successful measurements (Android RangingRequest / RangingResult API).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.channel import ctf, impulse_response
from wiloc_core.sim.paths import PathSet
from wiloc_core.sim.scene import SPEED_OF_LIGHT
from wiloc_core.sim.sensors.rss import rss_dbm


def first_path_delay(paths: PathSet, *, bandwidth_hz: float = 20e6, threshold_db: float = -12.0,
                     step_s: float = 1e-9, spacing_hz: float = 312.5e3) -> np.ndarray:
    """Delay of the first detected path of each link (s); float64 (n_links,).

    Parameters
    ----------
    paths : PathSet
    bandwidth_hz : float
        Ranging bandwidth B (20, 40, 80 MHz for 802.11 FTM); the delay resolution
        is about 1/B (50 ns = 15 m at 20 MHz).
    threshold_db : float
        Detection threshold relative to the strongest peak (dB, < 0).
    step_s : float
        Delay grid step before interpolation (s).
    spacing_hz : float
        Frequency spacing of the sampled band; delays wrap at 1/spacing (3.2 us).
    """
    if not bandwidth_hz > 0:
        raise ParameterError("bandwidth_hz", "a positive bandwidth (Hz)", bandwidth_hz)
    if not threshold_db < 0:
        raise ParameterError("threshold_db", "a negative threshold (dB)", threshold_db)
    n_half = int(round(bandwidth_hz / spacing_hz / 2))
    freqs = paths.carrier_hz + np.arange(-n_half, n_half + 1) * spacing_hz
    oversample = max(1, int(np.ceil(1.0 / (spacing_hz * freqs.size * step_s))))
    h, delays = impulse_response(ctf(paths, freqs), freqs, window="hann", oversample=oversample)
    mag = np.abs(h)
    before, after = np.roll(mag, 1, axis=1), np.roll(mag, -1, axis=1)
    peak = (mag >= before) & (mag > after)
    strong = mag**2 >= mag.max(axis=1, keepdims=True) ** 2 * 10 ** (threshold_db / 10)
    idx = np.argmax(peak & strong, axis=1)
    rows = np.arange(len(mag))
    m0, mm, mp = mag[rows, idx], before[rows, idx], after[rows, idx]
    denom = mm - 2 * m0 + mp
    frac = np.where(denom != 0, 0.5 * (mm - mp) / np.where(denom != 0, denom, 1.0), 0.0)
    dt = delays[1] - delays[0]
    tau = (idx + frac) * dt
    # The IFFT period is 1/spacing: a first path found in the last half period is
    # the wrapped image of a negative-delay sidelobe; unwrap it.
    period = 1.0 / spacing_hz
    return np.where(tau > period / 2, tau - period, tau)


@dataclass(frozen=True)
class RttBursts:
    """802.11mc ranging reports.

    Attributes
    ----------
    distance_m : numpy.ndarray, float64, shape (n_links, n_bursts), m
        Mean of the successful RTT distances of each burst; NaN if none succeeded.
    std_m : numpy.ndarray, float64, shape (n_links, n_bursts), m
        Their standard deviation (0 with one success, NaN with none).
    n_successful : numpy.ndarray, int64, shape (n_links, n_bursts)
    n_attempted : int
        RTTs attempted per burst (burst_size - 1).
    samples_m : numpy.ndarray, float64, shape (n_links, n_bursts, n_attempted), m
        Individual RTT distances, NaN where the measurement failed.
    true_distance_m : numpy.ndarray, float64, shape (n_links,), m
    first_path_m : numpy.ndarray, float64, shape (n_links,), m
        Noise-free first-detected-path distance (includes the multipath bias).
    rss_dbm : numpy.ndarray, float64, shape (n_links,), dBm
    """

    distance_m: np.ndarray
    std_m: np.ndarray
    n_successful: np.ndarray
    n_attempted: int
    samples_m: np.ndarray
    true_distance_m: np.ndarray
    first_path_m: np.ndarray
    rss_dbm: np.ndarray

    @property
    def success(self) -> np.ndarray:
        """STATUS_SUCCESS per burst (at least one RTT); bool (n_links, n_bursts)."""
        return self.n_successful > 0

    @property
    def bias_m(self) -> np.ndarray:
        """Noise-free ranging bias first_path - true distance (m); (n_links,)."""
        return self.first_path_m - self.true_distance_m


def rtt_bursts(paths: PathSet, *, n_bursts: int = 1, burst_size: int = 8,
               bandwidth_hz: float = 20e6, threshold_db: float = -12.0,
               noise_std_m: float = 0.4, reference_rss_dbm: float = -75.0,
               resolution_s: float = 0.3e-9, device_offset_m: float = 0.0,
               fail_prob: float = 0.05, fail_rss_dbm: float = -85.0,
               tx_power_dbm: float = 20.0, burst_fail_prob: float = 0.0,
               burst_fail_rss_dbm: float | None = None, seed=None) -> RttBursts:
    """Simulate FTM ranging bursts for every link.

    Parameters
    ----------
    paths : PathSet
        One link per (position, AP) pair.
    n_bursts : int
        Bursts (reports) per link.
    burst_size : int
        FTM frames per burst (Android default 8, range 2-31; Android RangingRequest); a
        burst yields burst_size - 1 RTTs.
    bandwidth_hz, threshold_db : float
        First-path detector, see :func:`first_path_delay`.
    noise_std_m : float
        One-way distance noise per RTT at strong signal (m); 0.384 m is the FTM-ns3
        wired 20 MHz fit (Horn's FTM RTT notes).
    reference_rss_dbm : float
        RSS at which the noise variance has doubled; variance scales as
        1 + 10**((reference - rss)/10).
    resolution_s : float
        RTT timestamp resolution (s); 0 disables quantisation.
    device_offset_m : float
        Constant initiator/responder offset (m; HORN reports +0.2 ... +1.5 m).
    fail_prob : float
        Failure probability of one RTT at strong signal.
    fail_rss_dbm : float
        RSS at which half of the RTTs fail (logistic, 2 dB scale).
    tx_power_dbm : float
        Transmit power used for the RSS (dBm).
    burst_fail_prob : float or array_like of shape (n_links,)
        Probability that a whole burst fails (STATUS_FAIL: the responder missed the
        request), at strong signal, for every link or per link; 0 (the default) draws no
        extra random numbers.
    burst_fail_rss_dbm : float, optional
        RSS at which half of the bursts fail (logistic, 2 dB scale); ``None``: no
        RSS dependence of burst failures.
    seed : int or numpy.random.Generator

    Returns
    -------
    RttBursts
    """
    if not (isinstance(burst_size, int | np.integer) and burst_size >= 2):
        raise ParameterError("burst_size", "an integer >= 2 FTM frames", burst_size)
    if not (isinstance(n_bursts, int | np.integer) and n_bursts >= 1):
        raise ParameterError("n_bursts", "a positive integer", n_bursts)
    if not noise_std_m >= 0:
        raise ParameterError("noise_std_m", "a non-negative standard deviation (m)", noise_std_m)
    if not 0 <= fail_prob < 1:
        raise ParameterError("fail_prob", "a probability in [0, 1)", fail_prob)
    if not 0 <= burst_fail_prob < 1:
        raise ParameterError("burst_fail_prob", "a probability in [0, 1)", burst_fail_prob)
    g = make_rng(seed)
    first = first_path_delay(paths, bandwidth_hz=bandwidth_hz, threshold_db=threshold_db)
    rss = rss_dbm(paths, tx_power_dbm=tx_power_dbm)
    return bursts_from_first_path(
        first * SPEED_OF_LIGHT, rss, paths.distance_m, n_bursts=n_bursts, burst_size=burst_size,
        noise_std_m=noise_std_m, reference_rss_dbm=reference_rss_dbm, resolution_s=resolution_s,
        device_offset_m=device_offset_m, fail_prob=fail_prob, fail_rss_dbm=fail_rss_dbm,
        burst_fail_prob=burst_fail_prob, burst_fail_rss_dbm=burst_fail_rss_dbm, seed=g)


def bursts_from_first_path(first_m, rss, true_m, *, n_bursts: int = 1, burst_size: int = 8,
                           noise_std_m: float = 0.4, reference_rss_dbm: float = -75.0,
                           resolution_s: float = 0.3e-9, device_offset_m: float = 0.0,
                           fail_prob: float = 0.05, fail_rss_dbm: float = -85.0,
                           burst_fail_prob: float = 0.0, burst_fail_rss_dbm: float | None = None,
                           seed=None) -> RttBursts:
    """Steps 3-4 of the module docstring for precomputed first-path distances.

    :func:`rtt_bursts` calls this after the first-path detector; a calibration that
    varies only the noise, offset and failure settings calls it directly and skips
    the detector. Parameters as in :func:`rtt_bursts`.

    Parameters
    ----------
    first_m : array_like, float64, shape (n_links,), m
        Noise-free first-detected-path distance.
    rss : array_like, float64, shape (n_links,), dBm
    true_m : array_like, float64, shape (n_links,), m

    Returns
    -------
    RttBursts
    """
    g = make_rng(seed)
    first = np.asarray(first_m, dtype=float)
    rss = np.asarray(rss, dtype=float)
    n_rtt = burst_size - 1
    shape = (first.size, n_bursts, n_rtt)
    sigma = noise_std_m * np.sqrt(1 + 10 ** ((reference_rss_dbm - rss) / 10))
    rtt = 2 * (first + device_offset_m)[:, None, None] / SPEED_OF_LIGHT
    rtt = rtt + 2 * sigma[:, None, None] / SPEED_OF_LIGHT * g.standard_normal(shape)
    if resolution_s > 0:
        rtt = np.round(rtt / resolution_s) * resolution_s
    samples = SPEED_OF_LIGHT * rtt / 2
    p_fail = fail_prob + (1 - fail_prob) / (1 + np.exp(-(fail_rss_dbm - rss) / 2.0))
    failed = g.random(shape) < p_fail[:, None, None]
    burst_p = np.asarray(burst_fail_prob, dtype=float)
    if burst_p.ndim and burst_p.shape != first.shape:
        raise ParameterError("burst_fail_prob", f"a probability or one per link {first.shape}",
                             burst_p.shape)
    if not np.all((burst_p >= 0) & (burst_p < 1)):
        raise ParameterError("burst_fail_prob", "probabilities in [0, 1)", burst_fail_prob)
    if np.any(burst_p > 0) or burst_fail_rss_dbm is not None:
        p_burst = np.broadcast_to(burst_p, first.shape).astype(float)
        if burst_fail_rss_dbm is not None:
            p_burst = p_burst + (1 - p_burst) / (1 + np.exp(-(burst_fail_rss_dbm - rss) / 2.0))
        failed = failed | (g.random(shape[:2]) < p_burst[:, None])[..., None]
    samples = np.where(failed, np.nan, samples)
    n_ok = np.sum(~failed, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(samples, axis=-1)
        std = np.where(n_ok >= 2, np.nanstd(samples, axis=-1, ddof=1), np.where(n_ok == 1, 0.0,
                                                                                 np.nan))
    return RttBursts(mean, std, n_ok, n_rtt, samples, np.asarray(true_m, dtype=float), first, rss)

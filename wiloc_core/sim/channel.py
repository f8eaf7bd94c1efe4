"""Channel transfer function, impulse response and dispersion statistics.

All functions take a :class:`~wiloc_core.sim.paths.PathSet` or a sampled CTF and are
vectorised over links (receiver positions or time snapshots) and frequencies.
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.sim.paths import PathSet

#: Links per block when evaluating exponentials; bounds the temporary memory.
_BLOCK_ELEMENTS = 2_000_000


def frequency_grid(center_hz: float = 2.4e9, span_hz: float = 100e6, n_points: int = 601):
    """Uniform frequency grid ``f_m = f_c + (m - (N-1)/2) * span / (N-1)``.

    The default is the VNA grid of the CTF paper: 601 points over 100 MHz around
    2.4 GHz, spacing 166.667 kHz (paper 000 §II-B).

    Returns
    -------
    numpy.ndarray, float64, shape (n_points,), Hz
    """
    if not (isinstance(n_points, int | np.integer) and n_points >= 1):
        raise ParameterError("n_points", "a positive integer", n_points)
    if not (span_hz >= 0 and center_hz > 0):
        raise ParameterError("span_hz", "span >= 0 and center > 0 (Hz)", (center_hz, span_hz))
    if n_points == 1:
        return np.array([float(center_hz)])
    return center_hz + np.linspace(-span_hz / 2, span_hz / 2, n_points)


def check_frequencies(freqs_hz, name: str = "freqs_hz") -> np.ndarray:
    """Validate a frequency grid: 1-D, non-empty, finite, strictly increasing."""
    f = np.asarray(freqs_hz, dtype=float)
    if f.ndim != 1 or f.size == 0:
        raise ParameterError(name, "a non-empty 1-D frequency grid (Hz)", f.shape)
    if not np.all(np.isfinite(f)):
        raise ParameterError(name, "finite frequencies", "NaN or inf")
    if f.size > 1 and not np.all(np.diff(f) > 0):
        raise ParameterError(name, "strictly increasing frequencies", "an unsorted grid")
    return f


def ctf(paths: PathSet, freqs_hz, *, reference_hz: float | None = None,
        per_frequency_spreading: bool = False, dtype=np.complex128) -> np.ndarray:
    """Channel transfer function, eq. (1) of paper 000.

    .. math:: H(f) = \\sum_l a_l \\exp[-j(2\\pi f \\tau_l - \\theta_l)]

    Parameters
    ----------
    paths : PathSet
        n_links links with n_paths paths each.
    freqs_hz : array_like, shape (n_f,), Hz
        Non-empty, strictly increasing. Absolute RF frequencies keep the carrier
        phase 2 pi f tau (what a VNA measures).
    reference_hz : float, optional
        If given, evaluate at ``f - reference_hz`` (baseband CSI as an OFDM
        receiver reports it) while keeping the amplitudes.
    per_frequency_spreading : bool
        Scale each a_l by f_c / f, the exact Friis 1/f dependence (+-2 % over
        100 MHz at 2.4 GHz). ``False`` keeps eq. (1) exactly.
    dtype : numpy complex dtype

    Returns
    -------
    numpy.ndarray, complex, shape (n_links, n_f)

    Notes
    -----
    Paths whose delay is the same on every link (the static paths of a moving-person
    trace) share one exponential table and are summed by a matrix product; the
    others are evaluated link by link in blocks.
    """
    f = check_frequencies(freqs_hz)
    fe = f - reference_hz if reference_hz is not None else f
    gain = paths.gain
    static = np.ptp(paths.tau, axis=0) == 0 if paths.n_links > 1 else np.zeros(paths.n_paths, bool)
    out = np.zeros((paths.n_links, f.size), dtype=np.complex128)
    if np.any(static):
        table = np.exp(-2j * np.pi * np.outer(paths.tau[0, static], fe))
        out += gain[:, static] @ table
    dyn = ~static
    if np.any(dyn):
        g, tau = gain[:, dyn], paths.tau[:, dyn]
        uniform = fe.size > 2 and np.allclose(np.diff(fe), fe[1] - fe[0], rtol=1e-9, atol=0)
        evaluate = _sum_uniform if uniform else _sum_direct
        block = max(1, _BLOCK_ELEMENTS // (tau.shape[1] * (int(np.sqrt(fe.size)) + 1 if uniform
                                                            else fe.size)))
        for i in range(0, paths.n_links, block):
            out[i:i + block] += evaluate(g[i:i + block], tau[i:i + block], fe)
    if per_frequency_spreading:
        out *= paths.carrier_hz / f
    return out.astype(dtype, copy=False)


def _sum_direct(g, tau, f):
    """sum_p g_p exp(-j 2 pi f tau_p) for (L, P) gains and delays; (L, F)."""
    return np.einsum("lp,lpf->lf", g, np.exp(np.multiply.outer(tau, -2j * np.pi * f)))


def _sum_uniform(g, tau, f):
    """The same sum on a uniform grid f_m = f_0 + m df, with m = i K + k factored.

    exp(-j 2 pi (f_0 + (iK + k) df) tau) = exp(-j 2 pi f_0 tau) exp(-j 2 pi i K df tau)
    exp(-j 2 pi k df tau), so each path needs only about 2 sqrt(F) exponentials and the
    sum over paths becomes a batched matrix product (L, I, P) x (L, P, K).
    """
    n = f.size
    df = (f[-1] - f[0]) / (n - 1)
    k = int(np.ceil(np.sqrt(n)))
    i = -(-n // k)
    w = -2j * np.pi * tau
    coarse = np.exp(np.multiply.outer(w * (k * df), np.arange(i)))   # (L, P, I)
    fine = np.exp(np.multiply.outer(w * df, np.arange(k)))            # (L, P, K)
    lead = g * np.exp(w * f[0])                                        # (L, P)
    # einsum's own loop: a batched BLAS matmul of many small complex matrices is slower
    # here, and oversubscribes threads on a busy machine.
    out = np.einsum("lpi,lpk->lik", coarse * lead[..., None], fine)     # (L, I, K)
    return out.reshape(len(g), i * k)[:, :n]


def impulse_response(H, freqs_hz, *, window: str = "hann", oversample: int = 4):
    """Band-limited channel impulse response by inverse FFT of a sampled CTF.

    The CTF on N uniform frequencies with spacing df gives the impulse response on
    delays t_k = k / (oversample * N * df), k = 0 ... oversample * N - 1, unambiguous
    up to 1/df (6 us for the VNA grid of paper 000 §II-B); the delay resolution is
    about 1/B (10 ns for B = 100 MHz). A window lowers the sidelobes at the cost of a
    wider main lobe.

    Parameters
    ----------
    H : array_like, complex, shape (..., n_f)
    freqs_hz : array_like, shape (n_f,), uniform grid
    window : {"hann", "rect"}
    oversample : int
        Zero-padding factor (>= 1).

    Returns
    -------
    h : numpy.ndarray, complex128, shape (..., oversample * n_f)
        Complex baseband impulse response, normalised so that a single path of
        amplitude a gives a peak of about a (window gain removed).
    delays_s : numpy.ndarray, float64, shape (oversample * n_f,), s
    """
    f = check_frequencies(freqs_hz)
    if f.size < 2:
        raise ParameterError("freqs_hz", "at least two frequencies for an impulse response", 1)
    df = np.diff(f)
    if not np.allclose(df, df[0], rtol=1e-6):
        raise ParameterError("freqs_hz", "a uniform frequency grid", "non-uniform spacing")
    if window == "hann":
        w = np.hanning(f.size + 2)[1:-1]
    elif window == "rect":
        w = np.ones(f.size)
    else:
        raise ParameterError("window", "'hann' or 'rect'", window)
    n = int(oversample) * f.size
    # The IFFT is taken relative to the first frequency, so delay t maps to bin t*n*df
    # and the phase term exp(-j 2 pi f_0 tau) stays in h (baseband convention).
    h = np.fft.ifft(np.asarray(H) * w, n=n, axis=-1) * n / w.sum()
    return h, np.arange(n) / (n * df[0])


def delay_moments(paths: PathSet, *, threshold_db: float | None = None):
    """Mean excess delay and rms delay spread from the path powers.

    .. math:: \\bar\\tau = \\frac{\\sum_l a_l^2 \\tau_l}{\\sum_l a_l^2},\\qquad
              \\tau_{rms} = \\sqrt{\\frac{\\sum_l a_l^2 \\tau_l^2}{\\sum_l a_l^2} - \\bar\\tau^2}

    (the moments of the power delay profile of a ray sum).

    Parameters
    ----------
    paths : PathSet
    threshold_db : float, optional
        Dynamic range: paths weaker than the strongest path of their link by more
        than ``-threshold_db`` dB are left out, as measured power delay profiles are
        cut at a threshold below their peak (e.g. -20 dB; ITU-R P.1407 practice).
        ``None`` uses every path.

    Returns
    -------
    mean_excess_s, rms_s : numpy.ndarray, float64, shape (n_links,), s
        The mean excess delay is measured from the first path of each link.
    """
    p = paths.a**2
    if threshold_db is not None:
        if not threshold_db < 0:
            raise ParameterError("threshold_db", "a negative dynamic range (dB)", threshold_db)
        p = np.where(p >= p.max(axis=1, keepdims=True) * 10 ** (threshold_db / 10), p, 0.0)
    total = p.sum(axis=1)
    if np.any(total <= 0):
        raise ParameterError("paths", "links with non-zero received power", "a link without power")
    rel = paths.tau - paths.tau.min(axis=1, keepdims=True)
    mean = (p * rel).sum(axis=1) / total
    second = (p * rel**2).sum(axis=1) / total
    return mean, np.sqrt(np.maximum(second - mean**2, 0.0))


def delay_spread(paths: PathSet, *, threshold_db: float | None = None) -> np.ndarray:
    """RMS delay spread (s) of each link; float64 (n_links,). See :func:`delay_moments`."""
    return delay_moments(paths, threshold_db=threshold_db)[1]


def frequency_correlation(H) -> np.ndarray:
    """Normalised frequency autocorrelation R(k df), averaged over links.

    .. math:: R(k) = \\frac{\\sum_{links} \\sum_m H_m^* H_{m+k}}{\\sum_{links} \\sum_m |H_m|^2}
              \\frac{N}{N - k}

    Parameters
    ----------
    H : array_like, complex, shape (n_links, n_f)

    Returns
    -------
    numpy.ndarray, complex128, shape (n_f,)
        R[k] for lag k = 0 ... n_f - 1 (R[0] = 1).
    """
    H = np.atleast_2d(np.asarray(H))
    n = H.shape[-1]
    spec = np.fft.fft(H, n=2 * n, axis=-1)
    acf = np.fft.ifft(np.abs(spec) ** 2, axis=-1)[:, :n].sum(axis=0)
    acf = acf * n / (n - np.arange(n))
    return acf / acf[0].real


def coherence_bandwidth(H, freqs_hz, *, level: float = 0.5) -> float:
    """Coherence bandwidth: the smallest lag where |R(df)| falls below ``level``.

    With ``level = 0.5`` the textbook rule of thumb is B_c ~ 1 / (5 tau_rms).
    Returns ``inf`` if the correlation never drops below the level within the grid
    (a flat channel over the measured band).

    Parameters
    ----------
    H : array_like, complex, shape (n_links, n_f)
    freqs_hz : array_like, shape (n_f,), uniform grid, Hz
    level : float in (0, 1)

    Returns
    -------
    float, Hz (linear interpolation between lags)
    """
    f = check_frequencies(freqs_hz)
    if not 0 < level < 1:
        raise ParameterError("level", "a correlation level in (0, 1)", level)
    r = np.abs(frequency_correlation(H))
    below = np.nonzero(r < level)[0]
    if below.size == 0:
        return float("inf")
    k = below[0]
    df = f[1] - f[0]
    frac = (r[k - 1] - level) / (r[k - 1] - r[k])
    return float((k - 1 + frac) * df)


def spatial_correlation(H, positions, bin_edges_m):
    """CTF correlation versus receiver displacement.

    For every pair of links (i, j) the correlation coefficient of their CTFs over
    frequency, with each CTF's mean removed,

    .. math:: \\rho_{ij} = \\frac{|\\sum_m \\tilde H_{i,m}^* \\tilde H_{j,m}|}
                             {\\|\\tilde H_i\\| \\|\\tilde H_j\\|},

    is averaged over the pairs whose horizontal distance falls in each bin.

    Parameters
    ----------
    H : array_like, complex, shape (n_links, n_f)
    positions : array_like, shape (n_links, 2 or 3), metres
    bin_edges_m : array_like, shape (n_bins + 1,), metres

    Returns
    -------
    centres_m : numpy.ndarray, float64, shape (n_bins,)
    rho : numpy.ndarray, float64, shape (n_bins,)
        Mean |rho| per bin (NaN for an empty bin).
    counts : numpy.ndarray, int64, shape (n_bins,)
    """
    H = np.asarray(H)
    Hc = H - H.mean(axis=1, keepdims=True)
    Hn = Hc / np.linalg.norm(Hc, axis=1, keepdims=True)
    rho = np.abs(Hn.conj() @ Hn.T)
    p = np.asarray(positions, dtype=float)[:, :2]
    dist = np.linalg.norm(p[:, None] - p[None], axis=-1)
    iu = np.triu_indices(len(p), k=1)
    d, r = dist[iu], rho[iu]
    edges = np.asarray(bin_edges_m, dtype=float)
    idx = np.digitize(d, edges) - 1
    n_bins = len(edges) - 1
    ok = (idx >= 0) & (idx < n_bins)
    counts = np.bincount(idx[ok], minlength=n_bins)
    sums = np.bincount(idx[ok], weights=r[ok], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return 0.5 * (edges[1:] + edges[:-1]), mean, counts

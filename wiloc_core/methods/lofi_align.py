"""LoFi's signal pipeline: count lost packets, fill them, align CSI to camera frames.

Paper 002 (LoFi), §III-B and §III-C, steps 5 and 6 of its Fig. 1:

1. :func:`lost_packet_counts` counts the packets lost between consecutive CSI
   timestamps from the nominal ping rate ``f_2`` (eq. 4);
2. :func:`insert_lost_packets` and :func:`interpolate_lost` put a row where each lost
   packet would have been and fill it (:func:`fill_lost_packets` does both);
3. :func:`align_to_frames` gives every CSI frame the camera frame nearest in time
   (eq. 5), and :func:`aligned_labels` its position;
4. :func:`alignment_label_error` is the mean label error that nearest-frame alignment
   alone adds for a person walking at constant speed.

Times are seconds on one clock; CSI arrays are complex, shape (n, n_sc).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError

METHODS = ("linear", "pchip")
RULES = ("nearest", "next")


def _times(name: str, values) -> np.ndarray:
    values = np.asarray(values, float)
    if values.ndim != 1 or not np.isfinite(values).all():
        raise ParameterError(name, "a 1-D array of finite times in seconds", f"shape {values.shape}")
    return values


def _positive(name: str, value) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(name, "a positive number", value)
    return float(value)


# --- eq. 4: lost packets ------------------------------------------------------------


def lost_packet_counts(timestamps_s, rate_hz: float) -> np.ndarray:
    """Packets lost between consecutive CSI timestamps, paper 002 eq. 4.

    ``k_i = max(round((t_{i+1} − t_i)·f_2 − 1), 0)``.

    ``round`` is Python's (and the LoFi code's) round-half-to-even: a gap of 2.5
    periods gives ``round(1.5) = 2`` lost packets and a gap of 3.5 periods gives
    ``round(2.5) = 2``. Duplicated timestamps (Δt = 0) and backward clock jumps
    (Δt < 0, e.g. a restarted or wrapped ESP32 counter) give ``round(≤ −1) < 0``,
    which the ``max`` turns into 0. A forward clock jump is counted as lost packets,
    as eq. 4 does; :func:`find_gaps` flags such gaps.

    Parameters
    ----------
    timestamps_s : array_like, shape (n,)
        Receive times in seconds (the ESP32 local clock in LoFi).
    rate_hz : float
        Nominal packet rate ``f_2`` (100 Hz in LoFi).

    Returns
    -------
    ndarray, int64, shape (n − 1,)
        ``k_i`` for the gap after packet ``i``.
    """
    t = _times("timestamps_s", timestamps_s)
    rate = _positive("rate_hz", rate_hz)
    return np.maximum(np.rint(np.diff(t) * rate - 1.0), 0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Gaps:
    """Each gap between consecutive timestamps, classified.

    Attributes
    ----------
    lost : ndarray, int64, shape (n − 1,)
        Eq. 4 counts, set to 0 where ``jump`` is True.
    duplicate : ndarray, bool, shape (n − 1,)
        ``0 ≤ Δt < 0.5/f_2``: the same packet logged twice, or two packets closer
        than half a period.
    backward : ndarray, bool, shape (n − 1,)
        ``Δt < 0``: the clock went back.
    jump : ndarray, bool, shape (n − 1,)
        The eq. 4 count exceeds ``max_lost``: taken as a clock jump (or the end of a
        recording), not as lost packets.
    """

    lost: np.ndarray
    duplicate: np.ndarray
    backward: np.ndarray
    jump: np.ndarray


def find_gaps(timestamps_s, rate_hz: float, max_lost: int | None = None) -> Gaps:
    """Classify every gap: lost packets (eq. 4), duplicates, clock jumps.

    Parameters
    ----------
    timestamps_s : array_like, shape (n,)
        Seconds.
    rate_hz : float
        Nominal packet rate ``f_2``.
    max_lost : int, optional
        Largest believable burst of lost packets; a gap whose eq. 4 count exceeds it
        is flagged as ``jump`` and counts 0. None: no gap is a jump (pure eq. 4).

    Returns
    -------
    Gaps
    """
    t = _times("timestamps_s", timestamps_s)
    rate = _positive("rate_hz", rate_hz)
    counts = lost_packet_counts(t, rate)
    delta = np.diff(t)
    jump = counts > max_lost if max_lost is not None else np.zeros(counts.shape, bool)
    return Gaps(lost=np.where(jump, 0, counts), duplicate=(delta >= 0) & (delta < 0.5 / rate),
                backward=delta < 0, jump=jump)


# --- filling lost packets -------------------------------------------------------------


def insert_lost_packets(timestamps_s, csi, rate_hz: float, max_lost: int | None = None):
    """Insert a NaN row for each packet eq. 4 counts as lost.

    The ``k`` rows of a gap get evenly spaced times ``t_i + j·Δt/(k + 1)``,
    ``j = 1..k``, as in LoFi's processing. Gaps flagged as jumps by
    :func:`find_gaps` (``max_lost``) get no rows.

    Parameters
    ----------
    timestamps_s : array_like, shape (n,)
    csi : array_like, complex, shape (n, n_sc)
    rate_hz : float
        Nominal rate ``f_2``.
    max_lost : int, optional
        See :func:`find_gaps`.

    Returns
    -------
    times : ndarray, float64, shape (m,)
        ``m = n + Σ k_i``.
    csi : ndarray, complex128, shape (m, n_sc)
        NaN in the inserted rows.
    lost : ndarray, bool, shape (m,)
        True for the inserted rows.
    """
    t = _times("timestamps_s", timestamps_s)
    values = np.asarray(csi, complex)
    if values.ndim != 2 or values.shape[0] != t.shape[0]:
        raise ParameterError("csi", f"shape ({t.shape[0]}, n_sc)", values.shape)
    counts = find_gaps(t, rate_hz, max_lost).lost
    # Row i of the input lands after all rows inserted before it.
    position = np.arange(t.shape[0]) + np.concatenate([[0], np.cumsum(counts)])
    total = t.shape[0] + int(counts.sum())
    times = np.empty(total)
    out = np.full((total, values.shape[1]), np.nan + 0j)
    lost = np.ones(total, bool)
    times[position], out[position], lost[position] = t, values, False
    gap = np.repeat(np.arange(counts.shape[0]), counts)
    step = np.concatenate([np.arange(1, k + 1) for k in counts]) if counts.sum() else np.zeros(0)
    times[lost] = t[gap] + step * np.diff(t)[gap] / (counts[gap] + 1)
    return times, out, lost


def _linear(x: np.ndarray, y: np.ndarray, xq: np.ndarray) -> np.ndarray:
    upper = np.clip(np.searchsorted(x, xq), 1, x.shape[0] - 1)
    weight = ((xq - x[upper - 1]) / (x[upper] - x[upper - 1]))[:, None]
    return y[upper - 1] * (1.0 - weight) + y[upper] * weight


def _pchip_polar(x: np.ndarray, y: np.ndarray, xq: np.ndarray) -> np.ndarray:
    from scipy.interpolate import PchipInterpolator  # lazy

    amplitude = PchipInterpolator(x, np.abs(y), axis=0)(xq)
    phase = PchipInterpolator(x, np.unwrap(np.angle(y), axis=0), axis=0)(xq)
    return amplitude * np.exp(1j * phase)


def interpolate_lost(timestamps_s, csi, lost, method: str = "pchip") -> np.ndarray:
    """Fill the rows of lost packets from the received ones.

    ``"linear"`` interpolates real and imaginary parts linearly in time (exact for a
    CSI that changes linearly; LoFi's ``wiloc_linear.pkl`` does the same on
    magnitudes). Across a gap in which the phase turns, the chord between two points
    on a circle passes inside it, so linear filling shrinks the amplitude.

    ``"pchip"`` interpolates amplitude and time-unwrapped phase, each with a
    piecewise-cubic Hermite (PCHIP) interpolant. It follows curvature (C¹, third
    order on smooth data) where linear filling cuts corners, keeps the amplitude
    from shrinking when the phase turns, and, being monotone between samples, never
    overshoots: no negative amplitudes or ringing across long bursts, which a cubic
    spline can produce. The phase is unwrapped over received packets, so a phase
    that turns by more than π across one gap is ambiguous (LoFi's features use the
    amplitude only).

    Rows before the first or after the last received packet stay NaN (no
    extrapolation). Received rows with a repeated time keep only the first for the
    interpolant.

    Parameters
    ----------
    timestamps_s : array_like, shape (m,)
        Non-decreasing over the received rows.
    csi : array_like, complex, shape (m, n_sc)
        Received rows must be finite; lost rows are ignored.
    lost : array_like, bool, shape (m,)
    method : {"pchip", "linear"}, default "pchip"

    Returns
    -------
    ndarray, complex128, shape (m, n_sc)
        ``csi`` with the lost rows between received ones filled.
    """
    if method not in METHODS:
        raise ParameterError("method", "'linear' or 'pchip'", method)
    t = _times("timestamps_s", timestamps_s)
    values = np.array(csi, complex)
    lost = np.asarray(lost, bool)
    if values.ndim != 2 or values.shape[0] != t.shape[0] or lost.shape != t.shape:
        raise ParameterError("csi/lost", f"shapes ({t.shape[0]}, n_sc) and ({t.shape[0]},)",
                             (values.shape, lost.shape))
    received = np.flatnonzero(~lost)
    if received.size < 2 or not lost.any():
        return values
    x, keep = np.unique(t[received], return_index=True)
    if np.any(np.diff(t[received]) < 0):
        raise ParameterError("timestamps_s", "non-decreasing times over received rows")
    inside = lost & (t > x[0]) & (t < x[-1])
    fill = _linear if method == "linear" else _pchip_polar
    values[inside] = fill(x, values[received[keep]], t[inside])
    return values


@dataclass(frozen=True, eq=False)
class FilledCsi:
    """CSI on the regular grid that eq. 4 implies, lost packets filled.

    Attributes
    ----------
    timestamps_s : ndarray, float64, shape (m,)
    csi : ndarray, complex128, shape (m, n_sc)
    filled : ndarray, bool, shape (m,)
        True for rows that were lost and are interpolated.
    """

    timestamps_s: np.ndarray
    csi: np.ndarray
    filled: np.ndarray


def fill_lost_packets(timestamps_s, csi, rate_hz: float, method: str = "pchip",
                      max_lost: int | None = None) -> FilledCsi:
    """Insert the packets eq. 4 counts as lost and interpolate them (paper 002 §III-B).

    Parameters
    ----------
    timestamps_s : array_like, shape (n,)
    csi : array_like, complex, shape (n, n_sc)
    rate_hz : float
        Nominal rate ``f_2``.
    method : {"pchip", "linear"}, default "pchip"
        See :func:`interpolate_lost`.
    max_lost : int, optional
        See :func:`find_gaps`.

    Returns
    -------
    FilledCsi
    """
    times, values, lost = insert_lost_packets(timestamps_s, csi, rate_hz, max_lost)
    return FilledCsi(timestamps_s=times, csi=interpolate_lost(times, values, lost, method), filled=lost)


# --- eq. 5: alignment to camera frames ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class Alignment:
    """Camera frame of each CSI frame.

    Attributes
    ----------
    index : ndarray, int64, shape (n,)
        Index into the frame times given; −1 where unmatched.
    offset_s : ndarray, float64, shape (n,)
        ``t_i − T_m`` in seconds; NaN where unmatched.
    """

    index: np.ndarray
    offset_s: np.ndarray

    @property
    def matched(self) -> np.ndarray:
        return self.index >= 0


def _nearest(t: np.ndarray, frames: np.ndarray) -> np.ndarray:
    upper = np.clip(np.searchsorted(frames, t, side="left"), 1, frames.shape[0] - 1)
    lower = upper - 1
    take_lower = (t - frames[lower]) <= (frames[upper] - t)  # a tie goes to the earlier frame
    return np.where(take_lower, lower, upper) if frames.shape[0] > 1 else np.zeros_like(upper)


def align_to_frames(signal_times_s, frame_times_s, rule: str = "nearest",
                    max_offset_s: float | None = None) -> Alignment:
    """Match every CSI frame to a camera frame (paper 002 eq. 5).

    ``rule="nearest"`` is eq. 5, ``m = argmin |t_i − T|``. When two frames are
    equally near, the earlier one wins; among frames with the same time, the first
    in the given order (both as ``numpy.argmin`` on sorted times). CSI frames before
    the first or after the last image get the first or last image.

    ``rule="next"`` is what the LoFi code does instead: the first frame with
    ``T_m ≥ t_i``; CSI frames after the last image are unmatched. Its offsets lie in
    (−1/f_1, 0], which biases labels toward the future by half a frame period.

    Parameters
    ----------
    signal_times_s : array_like, shape (n,)
        CSI times ``t_i``, seconds, on the same clock as the frames.
    frame_times_s : array_like, shape (n_frames,)
        Image times ``T``, seconds, in any order.
    rule : {"nearest", "next"}, default "nearest"
    max_offset_s : float, optional
        Matches with ``|offset|`` above this are unmatched (index −1).

    Returns
    -------
    Alignment
    """
    if rule not in RULES:
        raise ParameterError("rule", "'nearest' or 'next'", rule)
    t = _times("signal_times_s", signal_times_s)
    frames = _times("frame_times_s", frame_times_s)
    if frames.size == 0:
        raise ParameterError("frame_times_s", "at least one frame time")
    order = np.argsort(frames, kind="stable")
    ordered = frames[order]
    if rule == "nearest":
        position = _nearest(t, ordered)
    else:
        position = np.searchsorted(ordered, t, side="left")
    matched = position < ordered.shape[0]
    position = np.minimum(position, ordered.shape[0] - 1)
    # Equal frame times: take the first of them, as argmin does.
    position = np.searchsorted(ordered, ordered[position], side="left")
    offset = t - ordered[position]
    if max_offset_s is not None:
        matched &= np.abs(offset) <= max_offset_s
    index = np.where(matched, order[position], -1)
    return Alignment(index=index.astype(np.int64), offset_s=np.where(matched, offset, np.nan))


def aligned_labels(alignment: Alignment, frame_positions) -> np.ndarray:
    """Positions of the matched camera frames: the labels of the CSI frames.

    Parameters
    ----------
    alignment : Alignment
    frame_positions : array_like, shape (n_frames, d)
        Position per image (metres).

    Returns
    -------
    ndarray, float64, shape (n, d)
        NaN rows for unmatched CSI frames.
    """
    positions = np.asarray(frame_positions, float)
    labels = positions[np.maximum(alignment.index, 0)]
    labels[~alignment.matched] = np.nan
    return labels


def alignment_label_error(speed_mps: float, frame_rate_hz: float) -> float:
    """Mean label error that nearest-frame alignment (eq. 5) alone adds, metres.

    A person walking straight at constant speed ``v`` is at distance ``v·|u|`` from
    the position in the matched image, where ``u = t_i − T_m`` is the alignment
    offset. With the CSI and camera clocks unrelated, ``u`` is uniform on
    ``[−T/2, T/2]`` for frame period ``T = 1/f_1``, so ``E|u| = T/4`` and the mean
    error is ``v·T/4 = v/(4·f_1)`` (root mean square ``v·T/√12``). For LoFi,
    v = 1 m/s and f_1 = 26 Hz give 9.6 mm; ``rule="next"`` doubles it (E|u| = T/2).

    Parameters
    ----------
    speed_mps : float
        Walking speed, m/s.
    frame_rate_hz : float
        Camera frame rate ``f_1``.

    Returns
    -------
    float
        Mean error, metres.
    """
    return abs(float(speed_mps)) / (4.0 * _positive("frame_rate_hz", frame_rate_hz))

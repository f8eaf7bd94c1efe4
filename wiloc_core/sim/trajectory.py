"""Walking trajectories of a person in a rectangular area.

A random-waypoint walk with pauses: the walker picks a uniformly random waypoint
in the area, walks to it in a straight line at a speed drawn around
``speed_mps`` (normal human walking is about 1-1.4 m/s; our default 1.0 m/s for
walking in a small room), and with probability ``pause_prob`` stands still for an
exponentially distributed time before the next leg. LoFi's volunteers walked
forward, backward and stood in a 1.8 m x 4.8 m area for 5 min each (paper 002 §IV).
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng


def random_walk(area, duration_s: float, rate_hz: float = 100.0, *, speed_mps: float = 1.0,
                speed_std_mps: float = 0.2, pause_prob: float = 0.3, mean_pause_s: float = 2.0,
                start=None, seed=None):
    """Positions of a walker sampled at ``rate_hz``.

    Parameters
    ----------
    area : (x_min, y_min, x_max, y_max)
        Walking area (m).
    duration_s : float
        Length of the walk (s, > 0).
    rate_hz : float
        Sampling rate (Hz).
    speed_mps, speed_std_mps : float
        Mean and spread of the walking speed per leg (m/s); speeds are clipped to
        [0.2, 2.0] m/s.
    pause_prob : float
        Probability of standing still after a leg.
    mean_pause_s : float
        Mean standing time (s).
    start : (float, float), optional
        Start position; default the centre of the area.
    seed : int or numpy.random.Generator

    Returns
    -------
    t_s : numpy.ndarray, float64, shape (n,), s
    xy : numpy.ndarray, float64, shape (n, 2), m
    """
    x0, y0, x1, y1 = (float(v) for v in area)
    if not (x1 > x0 and y1 > y0):
        raise ParameterError("area", "(x_min, y_min, x_max, y_max) with max > min", area)
    if not (duration_s > 0 and rate_hz > 0):
        raise ParameterError("duration_s/rate_hz", "positive values", (duration_s, rate_hz))
    if not speed_mps > 0:
        raise ParameterError("speed_mps", "a positive speed (m/s)", speed_mps)
    g = make_rng(seed)
    here = np.array(start if start is not None else ((x0 + x1) / 2, (y0 + y1) / 2), dtype=float)
    times, points = [0.0], [here]
    t = 0.0
    while t < duration_s:
        target = g.uniform((x0, y0), (x1, y1))
        speed = float(np.clip(g.normal(speed_mps, speed_std_mps), 0.2, 2.0))
        t += np.linalg.norm(target - here) / speed
        times.append(t)
        points.append(target)
        here = target
        if g.random() < pause_prob:
            t += g.exponential(mean_pause_s)
            times.append(t)
            points.append(here)
    times = np.asarray(times)
    points = np.asarray(points)
    t_s = np.arange(int(round(duration_s * rate_hz))) / rate_hz
    xy = np.stack([np.interp(t_s, times, points[:, 0]), np.interp(t_s, times, points[:, 1])], -1)
    return t_s, xy

"""Calibration of the simulated rooms against the IEEE 802.11 TGn models.

For each preset, :func:`preset_dispersion` traces links from the preset's
transmitter to receivers spread over its room and reports the three numbers a TGn
model fixes (Erceg et al., IEEE 802.11-03/940r4):

- RMS delay spread of the ray powers (every path, diffuse tail included), the second
  central moment of the power delay profile;
- K-factor: direct-path power over all other power (dB);
- path-loss slope n of the local-mean power, :math:`P = P_0 - 10 n \\log_{10} d`.

The slope inside one room falls below free space's 2 (the reverberant field is nearly
flat). TGn's slopes (2, then 3.5 beyond a breakpoint) describe links across a building,
so :func:`preset_floor_slope` also fits the slope over a floor of copies of the room
(:mod:`wiloc_core.sim.building`), with one partition material for every floor or with
the room's own walls. The partition is the floor model's one free parameter:
:func:`partition_sweep` tries the candidates on every preset and
:func:`calibrate_partition` keeps the one that puts the most presets inside TGn's range
(:data:`FLOOR_PARTITION`). :func:`tgn_comparison` sets them beside the preset's TGn class
(:data:`wiloc_core.sim.presets.TGN_CLASS`).
"""

from __future__ import annotations

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim import building
from wiloc_core.sim.channel import delay_spread
from wiloc_core.sim.paths import KIND_CODES, PathSet, trace
from wiloc_core.sim.presets import PRESET_NAMES, TGN_CLASS, preset
from wiloc_core.sim.sensors.rss import fit_log_distance
from wiloc_core.sim.tgn import tgn_model

#: Interior walls tried between the rooms of a floor, lightest first (their one-way loss
#: at 2.4 GHz rises along the list, :data:`wiloc_core.sim.building.WALL_THICKNESS_M`).
PARTITION_CANDIDATES = ("plasterboard", "chipboard", "glass", "brick", "concrete")

#: The partition of every floor: the one parameter of the floor model that no room fixes,
#: fitted once for all presets by :func:`calibrate_partition` over
#: :func:`partition_sweep` (a fit against TGn's range, not a prediction of it).
FLOOR_PARTITION = "brick"


def room_receivers(room, tx, n: int, *, height_m: float = 1.5, min_distance_m: float = 1.0,
                   margin_m: float = 0.3, seed=None) -> np.ndarray:
    """Receivers drawn uniformly over the room's floor plan at one height.

    Receivers closer than ``min_distance_m`` (horizontally) to ``tx`` are redrawn.

    Returns
    -------
    numpy.ndarray, float64, shape (n, 3), m
    """
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ParameterError("n", "an integer >= 2 receivers", n)
    g = make_rng(seed)
    lo = np.array([margin_m, margin_m])
    hi = np.array([room.width - margin_m, room.depth - margin_m])
    out = np.empty((0, 2))
    while len(out) < n:
        xy = g.uniform(lo, hi, size=(2 * n, 2))
        xy = xy[np.linalg.norm(xy - np.asarray(tx)[:2], axis=1) >= min_distance_m]
        out = np.vstack([out, xy])
    return np.column_stack([out[:n], np.full(n, height_m)])


def k_factor_db(paths: PathSet) -> np.ndarray:
    """Direct-path power over the power of every other path (dB); float64 (n_links,)."""
    p = paths.a**2
    los = np.where(paths.kind == KIND_CODES["los"], p, 0.0).sum(axis=1)
    rest = p.sum(axis=1) - los
    return 10 * np.log10(np.maximum(los, 1e-300) / np.maximum(rest, 1e-300))


def dispersion(paths: PathSet) -> dict:
    """RMS delay spread, K-factor and path-loss slope of a set of links.

    Returns
    -------
    dict
        ``rms_ns`` (mean over links), ``rms_ns_p10``/``rms_ns_p90``, ``k_db`` (median over
        links), ``slope`` (path-loss exponent n of the total power), ``n_links``.
    """
    rms = delay_spread(paths) * 1e9
    k = k_factor_db(paths)
    _, slope = fit_log_distance(paths.distance_m, 10 * np.log10(paths.power()))
    return {"rms_ns": float(rms.mean()), "rms_ns_p10": float(np.percentile(rms, 10)),
            "rms_ns_p90": float(np.percentile(rms, 90)), "k_db": float(np.median(k)),
            "slope": float(slope), "n_links": int(paths.n_links)}


def preset_dispersion(name: str, *, n_links: int = 200, max_order: int = 2, diffuse: bool = True,
                      seed=0) -> dict:
    """Dispersion statistics of a preset's room (see the module docstring).

    Receivers are drawn over the whole room at the preset's receiver height (at least
    1 m from the transmitter), so the statistics describe the room rather than the
    paper's small measurement grid.

    Parameters
    ----------
    name : one of :data:`~wiloc_core.sim.presets.PRESET_NAMES`
    n_links : int
    max_order : int
        Wall-reflection order of the image method.
    diffuse : bool
        Include the diffuse tail.
    seed : int
        Draws the preset (clutter, tail) and the receivers.

    Returns
    -------
    dict, see :func:`dispersion`, plus ``tgn_class``.
    """
    if name not in PRESET_NAMES:
        raise ParameterError("name", f"one of {PRESET_NAMES}", name)
    paths = preset_paths(name, n_links=n_links, max_order=max_order, diffuse=diffuse, seed=seed)
    return {**dispersion(paths), "tgn_class": TGN_CLASS[name][0]}


def tgn_comparison(names=PRESET_NAMES, *, n_links: int = 200, max_order: int = 2,
                   seed=0, partition=FLOOR_PARTITION) -> list[dict]:
    """One row per preset: its statistics beside its TGn class's values.

    Returns
    -------
    list of dict
        Keys ``preset``, ``tgn_class``, ``rms_ns``, ``tgn_rms_ns`` (nominal),
        ``rms_ratio``, ``k_db``, ``tgn_k_db`` (LOS over all other power of the class
        profile), ``slope`` (in-room), ``floor_slope`` (``partition`` between the rooms),
        ``floor_slope_own_walls`` (each the mean over seeds, with ``_std``; the floors
        get 2 ``n_links`` receivers, as they hold nine rooms),
        ``tgn_slope_min``, ``tgn_slope_max``,
        ``reverberation_ns``, ``absorption``.
    """
    rows = []
    for name in names:
        stats = preset_dispersion(name, n_links=n_links, max_order=max_order, seed=seed)
        floor = {}
        for key, part in (("floor_slope", partition), ("floor_slope_own_walls", None)):
            floor[key], floor[f"{key}_std"] = floor_slope_spread(
                name, n_links=2 * n_links, partition=part, max_order=max_order, seed=seed)
        model = tgn_model(stats["tgn_class"])
        field = preset(name, seed=seed).scene.diffuse
        rows.append({
            "preset": name, "tgn_class": model.name, "rms_ns": stats["rms_ns"],
            "tgn_rms_ns": model.nominal_rms_ns, "rms_ratio": stats["rms_ns"] / model.nominal_rms_ns,
            "k_db": stats["k_db"], "tgn_k_db": model.k_factor_db, "slope": stats["slope"],
            **floor,
            "tgn_slope_min": model.slope_range[0], "tgn_slope_max": model.slope_range[1],
            "reverberation_ns": field.reverberation_s * 1e9, "absorption": field.absorption})
    return rows


def binned_pdp(paths: PathSet, *, bin_s: float = 10e-9, n_bins: int = 40) -> np.ndarray:
    """Power delay profile in delay bins, averaged over links, normalised to unit sum.

    Excess delays are measured from each link's first path; bin i holds the ray powers
    with excess delay in [i bin_s, (i + 1) bin_s), the tap spacing of the TGn models
    (10 ns) by default. Power beyond the last bin is dropped.

    Returns
    -------
    numpy.ndarray, float64, shape (n_bins,)
        Mean power per bin over links, divided by its sum.
    """
    if not (bin_s > 0 and isinstance(n_bins, int | np.integer) and n_bins >= 1):
        raise ParameterError("bin_s, n_bins", "a positive bin width (s) and bin count", (bin_s, n_bins))
    excess = paths.tau - paths.tau.min(axis=1, keepdims=True)
    idx = np.floor(excess / bin_s).astype(np.int64)
    keep = idx < n_bins
    p = paths.a**2 / paths.power()[:, None]
    out = np.bincount(idx[keep], weights=p[keep], minlength=n_bins)[:n_bins]
    return out / out.sum()


def preset_paths(name: str, *, n_links: int = 200, max_order: int = 2, diffuse: bool = True,
                 seed=0) -> PathSet:
    """The links of :func:`preset_dispersion` (room-wide receivers), for plots."""
    p = preset(name, seed=seed)
    height = float(np.median(p.receivers[:, 2]))
    rx = room_receivers(p.scene.room, p.scene.tx, n_links, height_m=height,
                        seed=make_rng([int(seed), 7]))
    return trace(p.scene, rx, max_order=max_order, diffuse=diffuse)


def preset_floor_slope(name: str, *, n_links: int = 400, partition=FLOOR_PARTITION, rings: int = 1,
                       max_order: int = 2, seed=0) -> float:
    """Path-loss slope n over a floor of copies of a preset's room.

    Receivers are drawn over the whole floor (:func:`wiloc_core.sim.building.floor_receivers`,
    (2 rings + 1)^2 rooms) at the preset's receiver height; their local-mean power is
    :func:`wiloc_core.sim.building.floor_power`.

    Parameters
    ----------
    name : one of :data:`~wiloc_core.sim.presets.PRESET_NAMES`
    n_links : int
    partition : str, Material or None
        Material of every wall between rooms; ``None`` keeps the room's own walls.
    rings : int
        Rooms on each side of the preset's room.
    max_order : int
    seed : int
        Draws the preset and the receivers.

    Returns
    -------
    float, the exponent n of P = P0 - 10 n log10(d)
    """
    if name not in PRESET_NAMES:
        raise ParameterError("name", f"one of {PRESET_NAMES}", name)
    p = preset(name, seed=seed)
    floor = building.Floor(p.scene.room, rings=rings, partition=partition)
    rx = building.floor_receivers(floor, p.scene.tx, n_links,
                                  height_m=float(np.median(p.receivers[:, 2])),
                                  seed=make_rng([int(seed), 11]))
    power = building.floor_power(p.scene, floor, rx, max_order=max_order)
    distance = np.linalg.norm(rx - np.asarray(p.scene.tx, dtype=float), axis=1)
    return float(fit_log_distance(distance, 10 * np.log10(power))[1])


#: Seeds behind a floor slope (:func:`floor_slope_spread`).
FLOOR_SEEDS = 3


def floor_slope_spread(name: str, *, seed: int = 0, n_seeds: int = FLOOR_SEEDS,
                       **kwargs) -> tuple[float, float]:
    """Mean and standard deviation (ddof 1) of :func:`preset_floor_slope` over the seeds
    ``seed, seed + 1, ...`` (each its own clutter, diffuse tail and receivers); ``kwargs``
    go to it. The spread is the seed-to-seed noise against which a slope near the edge of
    a range is judged."""
    if not (isinstance(n_seeds, int | np.integer) and n_seeds >= 2):
        raise ParameterError("n_seeds", "an integer >= 2 seeds", n_seeds)
    slopes = [preset_floor_slope(name, seed=int(seed) + k, **kwargs) for k in range(n_seeds)]
    return float(np.mean(slopes)), float(np.std(slopes, ddof=1))


def person_positions(name: str, n_positions: int = 60, *, seed=0) -> np.ndarray:
    """Where the preset's person stands: its spots (EVAL), else ``n_positions`` uniform
    draws over its walking area (LoFi); float64 (n, 2), m."""
    p = preset(name, seed=seed)
    if p.person is None or (p.spots is None and p.walk_area is None):
        raise ParameterError("name", "a preset with a person and spots or a walking area", name)
    if p.walk_area is None:
        return np.asarray(p.spots, dtype=float)
    x0, y0, x1, y1 = p.walk_area
    g = make_rng([int(seed), 13])
    return np.column_stack([g.uniform(x0, x1, n_positions), g.uniform(y0, y1, n_positions)])


def person_effect(name: str, *, n_positions: int = 60, diffuse: bool = True, max_order: int = 2,
                  seed=0) -> dict:
    """How much the preset's person changes its sensing link's channel.

    For each position of :func:`person_positions`, the channel transfer function of the
    link from ``scene.tx`` to the preset's first receiver on the sensor's frequency grid,
    H, against the empty room's, H0:

    - band power change, :math:`10\\log_{10}(\\overline{|H|^2} / \\overline{|H_0|^2})` (dB),
      the mean over the band's frequencies (paths interfere in it);
    - mean absolute amplitude change over frequencies,
      :math:`\\overline{|20\\log_{10}(|H| / |H_0|)|}` (dB).

    With the person on the midpoint of the direct path, ``blocked_band_power_db`` is the
    band power change and ``blocked_ray_power_db`` the change of the sum of the ray
    powers (delay-integrated, no interference).

    Returns
    -------
    dict
        ``band_power_db_p5``, ``band_power_db_p50``, ``band_power_db_p95``,
        ``amplitude_db_p50``, ``amplitude_db_p95``, ``blocked_band_power_db``,
        ``blocked_ray_power_db``, ``person_loss_db``, ``n_positions``.
    """
    from wiloc_core.sim.channel import ctf

    p = preset(name, seed=seed)
    spots = person_positions(name, n_positions, seed=seed)
    rx = p.receivers[:1]
    empty_paths = trace(p.scene, rx, max_order=max_order, diffuse=diffuse)
    empty = ctf(empty_paths, p.freqs_hz)[0]

    def traced(xy):
        return trace(p.scene.with_people([p.person.moved(*xy)]), rx, max_order=max_order,
                     diffuse=diffuse)

    def change(xy):
        h = ctf(traced(xy), p.freqs_hz)[0]
        power = 10 * np.log10(np.mean(np.abs(h) ** 2) / np.mean(np.abs(empty) ** 2))
        return power, float(np.mean(np.abs(20 * np.log10(np.abs(h) / np.abs(empty)))))

    power, amplitude = np.array([change(xy) for xy in spots]).T
    midpoint = (np.asarray(p.scene.tx, float)[:2] + rx[0, :2]) / 2
    ray_power = 10 * np.log10(traced(midpoint).power()[0] / empty_paths.power()[0])
    return {"band_power_db_p5": float(np.percentile(power, 5)),
            "band_power_db_p50": float(np.median(power)),
            "band_power_db_p95": float(np.percentile(power, 95)),
            "amplitude_db_p50": float(np.median(amplitude)),
            "amplitude_db_p95": float(np.percentile(amplitude, 95)),
            "blocked_band_power_db": float(change(midpoint)[0]),
            "blocked_ray_power_db": float(ray_power),
            "person_loss_db": float(p.person.loss_db), "n_positions": int(len(spots))}


def partition_sweep(names=PRESET_NAMES, partitions=PARTITION_CANDIDATES + (None,), *,
                    n_links: int = 400, max_order: int = 2, seed=0) -> list[dict]:
    """Floor slope of every preset with every partition (:func:`floor_slope_spread`).

    Parameters
    ----------
    names : presets
    partitions : materials (names) between the rooms; ``None`` keeps each room's own walls
    n_links, max_order, seed : as for :func:`preset_floor_slope`

    Returns
    -------
    list of dict, one per (preset, partition)
        Keys ``preset``, ``partition`` (``None`` for own walls), ``slope`` (mean over
        :data:`FLOOR_SEEDS` seeds), ``slope_std``, ``tgn_slope_min``, ``tgn_slope_max``
        and ``inside`` (the mean lies within the TGn class's range).
    """
    rows = []
    for name in names:
        lo, hi = tgn_model(TGN_CLASS[name][0]).slope_range
        for part in partitions:
            mean, std = floor_slope_spread(name, n_links=n_links, partition=part,
                                           max_order=max_order, seed=seed)
            rows.append({"preset": name, "partition": part, "slope": mean, "slope_std": std,
                         "tgn_slope_min": lo, "tgn_slope_max": hi,
                         "inside": bool(lo <= mean <= hi)})
    return rows


def calibrate_partition(sweep: list[dict], candidates=PARTITION_CANDIDATES) -> str:
    """The candidate material that puts the most presets' floor slopes inside their TGn
    range in ``sweep`` (rows of :func:`partition_sweep`); a tie goes to the candidate
    listed first (the lighter wall).

    Raises
    ------
    ParameterError
        When ``sweep`` holds none of the candidates.
    """
    counts = {c: sum(r["inside"] for r in sweep if r["partition"] == c) for c in candidates
              if any(r["partition"] == c for r in sweep)}
    if not counts:
        raise ParameterError("sweep", f"rows for at least one of {tuple(candidates)}",
                             sorted({str(r.get("partition")) for r in sweep}))
    best = max(counts.values())
    return next(c for c in candidates if counts.get(c) == best)

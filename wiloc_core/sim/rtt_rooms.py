"""The three rooms of the real RTT dataset, rebuilt in the simulator, and the RTT sensor fit.

Feng, Nguyen and Luo (2024) measured Wi-Fi RTT ranges in a lecture theatre (every
reference point in line of sight of all five APs), an office (mixed) and a corridor
(no AP in line of sight). :func:`build_room` rebuilds each room as a rectangular
scene of the published size with the measured AP positions and reference points;
links flagged NLOS in the data lose ``nlos_loss_db`` on their specular paths
(direct path and wall images, :func:`wiloc_core.sim.paths.attenuate`: a partition the
single-room scene does not contain, which every specular path crosses, while scattered
and diffuse power reach the receiver around it). :func:`simulate_ranges` then draws scans with the RTT sensor
(:mod:`wiloc_core.sim.sensors.rtt`), one 802.11mc burst of 8 frames per scan as
Android reports them, and :func:`fit_rtt_sensor` picks the sensor's few parameters
(bandwidth, NLOS loss, diffuse level, device offset, noise, failure rate) that bring the
simulated
ranging-error distributions closest to measured ones (1-Wasserstein distance per
room and LOS/NLOS group).

Measured data enter as any object with the attributes of
:class:`wiloc_core.data.rtt.RttSet` (``room``, ``xy``, ``ap_xy``, ``rtt_m``,
``rss_dbm``, ``los``), so the simulator does not import the data layer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.diffuse import room_diffuse_field
from wiloc_core.sim.paths import attenuate, trace
from wiloc_core.sim.scene import SPEED_OF_LIGHT, Room, Scene, random_clutter
from wiloc_core.sim.sensors.rss import rss_dbm
from wiloc_core.sim.sensors.rtt import bursts_from_first_path, first_path_delay

#: Room size (m; published by the dataset's authors), the offset (m) of the data's
#: frame in the room (ours: the survey grid and APs centred in the room), clutter
#: density (1/m^2; ours) and effective absorption of the diffuse tail (Andersen et al.
#: 2007 measured 0.5 in a furnished room).
ROOMS = {
    "lecture_theatre": {"size": (15.0, 14.5, 4.0), "offset": (2.1, 0.35), "clutter": 0.6,
                        "absorption": 0.5},
    "office": {"size": (18.0, 5.5, 3.0), "offset": (0.9, 0.95), "clutter": 0.8,
               "absorption": 0.5},
    "corridor": {"size": (35.0, 6.0, 3.0), "offset": (0.7, 0.3), "clutter": 0.1,
                 "absorption": 0.5},
}
#: Antenna heights (m): our assumption (the dataset gives positions in the plane only).
AP_HEIGHT_M, PHONE_HEIGHT_M = 1.5, 1.2
#: 5 GHz channel 36: our assumption (802.11mc responders range on 5 GHz).
CARRIER_HZ = 5.18e9


@dataclass(frozen=True)
class RttSensorParams:
    """The RTT sensor settings fitted to the measurements (see :func:`fit_rtt_sensor`).

    Attributes
    ----------
    bandwidth_hz : float
    nlos_loss_db : float
        Loss of the specular paths of an NLOS link (dB).
    diffuse_scale : float
        Level of the diffuse tail relative to room electromagnetics; below 1 when the
        antennas favour the direct path (an AP antenna of gain G towards the room
        scales the isotropic diffuse field by about 1/G relative to the direct path).
    device_offset_m : float
    noise_std_m : float
        Per-RTT distance noise at strong signal (m).
    burst_fail_prob : float
        Probability that a whole scan of one AP fails (LOS links, and NLOS links when
        ``nlos_burst_fail_prob`` is None).
    nlos_burst_fail_prob : float or None
        The same for NLOS links: in the measured office, scans through walls fail more
        often than line-of-sight scans at the same signal level, and the corridor (all
        NLOS, weaker RSS) fails less than the office, so an RSS threshold alone cannot
        produce the measured rates.
    fail_rss_dbm : float
        RSS at which half of the single RTTs fail.
    tx_power_dbm : float
        Effective transmit power that matches the measured RSS levels (dBm).
    threshold_db : float
    """

    bandwidth_hz: float = 80e6
    nlos_loss_db: float = 10.0
    diffuse_scale: float = 1.0
    device_offset_m: float = 0.0
    noise_std_m: float = 0.4
    burst_fail_prob: float = 0.01
    nlos_burst_fail_prob: float | None = None
    fail_rss_dbm: float = -95.0
    tx_power_dbm: float = 0.0
    threshold_db: float = -12.0


@dataclass(frozen=True)
class RoomLinks:
    """Noise-free first paths of every (reference point, AP) link of one room.

    Attributes
    ----------
    room : str
    rp_xy : numpy.ndarray, float64, shape (n_rp, 2), m (data frame)
    los : numpy.ndarray, bool, shape (n_rp, n_ap)
    first_m : numpy.ndarray, float64, shape (n_rp, n_ap), m
        First-detected-path distance.
    true_m : numpy.ndarray, float64, shape (n_rp, n_ap), m
        Horizontal distance, the reference the measured errors use.
    rss0_dbm : numpy.ndarray, float64, shape (n_rp, n_ap), dBm at 0 dBm transmit power.
    """

    room: str
    rp_xy: np.ndarray
    los: np.ndarray
    first_m: np.ndarray
    true_m: np.ndarray
    rss0_dbm: np.ndarray


def reference_points(measured):
    """Distinct reference points of a measured set and the LOS flag of each (point, AP).

    Returns
    -------
    rp_xy : numpy.ndarray, float64, shape (n_rp, 2), m
    index : numpy.ndarray, int64, shape (n_scans,)
        Reference point of each scan.
    los : numpy.ndarray, bool, shape (n_rp, n_ap)
        LOS when most scans at the point say so.
    """
    rp_xy, index = np.unique(np.asarray(measured.xy), axis=0, return_inverse=True)
    index = np.asarray(index).reshape(-1)
    counts = np.bincount(index, minlength=len(rp_xy))[:, None]
    share = np.stack([np.bincount(index, weights=measured.los[:, j], minlength=len(rp_xy))
                      for j in range(measured.los.shape[1])], axis=1) / counts
    return rp_xy, index, share > 0.5


#: Path kinds an NLOS partition attenuates (see the module docstring).
NLOS_KINDS = ("los", "wall")


def build_room(room: str, ap_xy, *, diffuse_scale: float = 1.0, seed=0):
    """The scene of one measured room and the data-frame -> room offset.

    Returns
    -------
    scene : Scene
        Concrete room with clutter and a diffuse tail; ``tx`` at the first AP.
    aps : numpy.ndarray, float64, shape (n_ap, 3), m (room frame)
    offset : numpy.ndarray, float64, shape (2,), m
    """
    if room not in ROOMS:
        raise ParameterError("room", f"one of {tuple(ROOMS)}", room)
    spec = ROOMS[room]
    offset = np.asarray(spec["offset"], dtype=float)
    r = Room(*spec["size"], walls={"ceiling": "ceiling_board"}, default="concrete")
    ap = np.asarray(ap_xy, dtype=float) + offset
    aps = np.column_stack([ap, np.full(len(ap), AP_HEIGHT_M)])
    g = make_rng(seed)
    clutter = random_clutter(r, spec["clutter"], rcs_m2=(0.02, 0.5), exclude=aps,
                             exclude_radius_m=0.5, seed=g)
    diffuse = room_diffuse_field(r, CARRIER_HZ, absorption=spec["absorption"],
                                 scale=diffuse_scale, seed=g)
    return Scene(r, aps[0], carrier_hz=CARRIER_HZ, scatterers=clutter, name=room,
                 diffuse=diffuse), aps, offset


def room_links(measured, *, bandwidth_hz: float, nlos_loss_db: float, diffuse_scale: float = 1.0,
               threshold_db: float = -12.0, max_order: int = 2, seed=0) -> RoomLinks:
    """Trace every (reference point, AP) link of a measured room and detect its first path.

    Parameters
    ----------
    measured : RttSet-like
    bandwidth_hz, threshold_db : float
        RTT first-path detector (:func:`wiloc_core.sim.sensors.rtt.first_path_delay`).
    nlos_loss_db : float
        Loss of the specular paths (:data:`NLOS_KINDS`) of the links the data flag NLOS (dB).
    diffuse_scale : float
        Level of the diffuse tail (see :class:`RttSensorParams`).
    max_order : int
    seed : int

    Returns
    -------
    RoomLinks
    """
    rp_xy, _, los = reference_points(measured)
    scene, aps, offset = build_room(measured.room, measured.ap_xy, diffuse_scale=diffuse_scale,
                                    seed=seed)
    rx = np.column_stack([rp_xy + offset, np.full(len(rp_xy), PHONE_HEIGHT_M)])
    first, rss0 = np.empty(los.shape), np.empty(los.shape)
    for j, ap in enumerate(aps):
        paths = trace(scene.with_tx(ap), rx, max_order=max_order)
        paths = attenuate(paths, np.where(los[:, j], 0.0, nlos_loss_db), kinds=NLOS_KINDS)
        first[:, j] = first_path_delay(paths, bandwidth_hz=bandwidth_hz,
                                       threshold_db=threshold_db) * SPEED_OF_LIGHT
        rss0[:, j] = rss_dbm(paths, tx_power_dbm=0.0)
    true = np.linalg.norm(rp_xy[:, None, :] - np.asarray(measured.ap_xy)[None], axis=-1)
    return RoomLinks(measured.room, rp_xy, los, first, true, rss0)


def burst_fail_probs(links: RoomLinks, params: RttSensorParams):
    """Scan failure probability of every link, float64 (n_rp * n_ap,) (or one float)."""
    if params.nlos_burst_fail_prob is None:
        return params.burst_fail_prob
    return np.where(links.los.ravel(), params.burst_fail_prob, params.nlos_burst_fail_prob)


def simulate_ranges(links: RoomLinks, params: RttSensorParams, *, n_scans: int = 20, seed=0):
    """Scans of every reference point: range errors and failures.

    Returns
    -------
    errors : numpy.ndarray, float64, shape (n_rp * n_scans, n_ap), m
        Reported range minus horizontal distance; NaN where the burst failed.
    los : numpy.ndarray, bool, same shape
    rss : numpy.ndarray, float64, same shape, dBm
    """
    n_rp, n_ap = links.first_m.shape
    b = bursts_from_first_path(
        links.first_m.ravel(), links.rss0_dbm.ravel() + params.tx_power_dbm, links.true_m.ravel(),
        n_bursts=n_scans, burst_size=8, noise_std_m=params.noise_std_m,
        device_offset_m=params.device_offset_m, fail_prob=0.01, fail_rss_dbm=params.fail_rss_dbm,
        burst_fail_prob=burst_fail_probs(links, params), seed=seed)
    err = (b.distance_m - links.true_m.ravel()[:, None]).reshape(n_rp, n_ap, n_scans)
    err = err.transpose(0, 2, 1).reshape(-1, n_ap)
    los = np.repeat(links.los, n_scans, axis=0)
    rss = np.repeat(links.rss0_dbm + params.tx_power_dbm, n_scans, axis=0)
    return err, los, rss


def measured_errors(measured):
    """Range errors of a measured set: reported range minus horizontal distance (m), NaN = failed.

    Returns
    -------
    errors, los : numpy.ndarray, shape (n_scans, n_ap)
    """
    true = np.linalg.norm(np.asarray(measured.xy)[:, None, :]
                          - np.asarray(measured.ap_xy)[None], axis=-1)
    return np.asarray(measured.rtt_m) - true, np.asarray(measured.los, dtype=bool)


def error_stats(errors, los) -> list[dict]:
    """Bias, spread and failure rate of range errors per LOS / NLOS group.

    Returns
    -------
    list of dict
        One per group present: ``group``, ``n``, ``bias_m`` (mean), ``median_m``,
        ``std_m``, ``p10_m``, ``p90_m``, ``fail_rate``.
    """
    rows = []
    for name, mask in (("LOS", los), ("NLOS", ~los)):
        if not mask.any():
            continue
        e = errors[mask]
        ok = e[np.isfinite(e)]
        rows.append({"group": name, "n": int(ok.size), "bias_m": float(ok.mean()),
                     "median_m": float(np.median(ok)), "std_m": float(ok.std()),
                     "p10_m": float(np.percentile(ok, 10)), "p90_m": float(np.percentile(ok, 90)),
                     "fail_rate": float(np.mean(~np.isfinite(e)))})
    return rows


def distances(sim_errors, sim_los, real_errors, real_los) -> list[dict]:
    """Two-sample distances between simulated and measured errors per LOS / NLOS group.

    Returns
    -------
    list of dict
        ``group``, ``wasserstein_m`` (1-Wasserstein, m) and ``ks`` (Kolmogorov-Smirnov
        statistic), for the groups present in both.
    """
    from scipy.stats import ks_2samp, wasserstein_distance

    rows = []
    for name, s_mask, r_mask in (("LOS", sim_los, real_los), ("NLOS", ~sim_los, ~real_los)):
        s = sim_errors[s_mask]
        r = real_errors[r_mask]
        s, r = s[np.isfinite(s)], r[np.isfinite(r)]
        if s.size and r.size:
            rows.append({"group": name, "wasserstein_m": float(wasserstein_distance(s, r)),
                         "ks": float(ks_2samp(s, r).statistic)})
    return rows


def _objective(links_by_room, real_by_room, params, n_scans, seed):
    total = 0.0
    for room, links in links_by_room.items():
        err, los, _ = simulate_ranges(links, params, n_scans=n_scans, seed=seed)
        real_err, real_los = real_by_room[room]
        for row in distances(err, los, real_err, real_los):
            total += row["wasserstein_m"]
        sim_fail = {r["group"]: r["fail_rate"] for r in error_stats(err, los)}
        for r in error_stats(real_err, real_los):
            total += 10 * abs(sim_fail.get(r["group"], 0.0) - r["fail_rate"])
    return total


def fit_rtt_sensor(measured_sets, *, bandwidths_hz=(20e6, 40e6, 80e6),
                   nlos_losses_db=(0.0, 6.0, 12.0, 18.0), diffuse_scales=(1.0, 0.3),
                   noise_stds_m=(0.2, 0.5, 0.8, 1.1, 1.4),
                   fail_rss_dbm=(-90.0, -95.0, -100.0), n_scans: int = 10, max_order: int = 2,
                   seed=0):
    """Fit the RTT sensor's parameters to measured rooms (training files).

    Steps (each a small grid search, 1-Wasserstein distance of the error
    distributions per room and LOS/NLOS group, plus ten times the failure-rate gaps):

    1. ``tx_power_dbm``: the median measured RSS minus the median simulated RSS at
       0 dBm (all rooms together);
    2. for each bandwidth, NLOS loss and diffuse level: ``device_offset_m`` from the
       median LOS error (NLOS-only rooms: all errors), then the noise;
    3. ``burst_fail_prob`` and ``nlos_burst_fail_prob``: the measured failure rates of
       the LOS and NLOS links (one rate for all links when a group is missing), then
       ``fail_rss_dbm``.

    Parameters
    ----------
    measured_sets : sequence of RttSet-like
        One per room.

    Returns
    -------
    params : RttSensorParams
    links_by_room : dict of str to RoomLinks
        The traced links at the fitted bandwidth and NLOS loss.
    trials : list of dict
        Every (bandwidth, NLOS loss, diffuse level, noise) tried with its objective.
    """
    real = {m.room: measured_errors(m) for m in measured_sets}
    real_rss = np.concatenate([np.asarray(m.rss_dbm)[np.isfinite(m.rss_dbm)]
                               for m in measured_sets])
    all_err = np.concatenate([e[0][np.isfinite(e[0])] for e in real.values()])
    los_err = np.concatenate([e[0][e[1] & np.isfinite(e[0])] for e in real.values()])
    reference_err = los_err if los_err.size else all_err
    los_fail = np.concatenate([~np.isfinite(e[0][e[1]]) for e in real.values()])
    nlos_fail = np.concatenate([~np.isfinite(e[0][~e[1]]) for e in real.values()])
    if los_fail.size and nlos_fail.size:
        base = RttSensorParams(burst_fail_prob=float(np.mean(los_fail)),
                               nlos_burst_fail_prob=float(np.mean(nlos_fail)))
    else:
        every = np.concatenate([los_fail, nlos_fail])
        base = RttSensorParams(burst_fail_prob=float(np.mean(every)) if every.size else 0.01)
    trials, best = [], (np.inf, None, None)
    for bw, loss, scale in itertools.product(bandwidths_hz, nlos_losses_db, diffuse_scales):
        links = {m.room: room_links(m, bandwidth_hz=bw, nlos_loss_db=loss, diffuse_scale=scale,
                                    max_order=max_order, seed=seed) for m in measured_sets}
        sim_rss = np.concatenate([lk.rss0_dbm.ravel() for lk in links.values()])
        power = float(np.median(real_rss) - np.median(sim_rss))
        sim_los = np.concatenate([(lk.first_m - lk.true_m)[lk.los] for lk in links.values()])
        sim_all = np.concatenate([(lk.first_m - lk.true_m).ravel() for lk in links.values()])
        sim_ref = sim_los if los_err.size else sim_all
        offset = float(np.median(reference_err) - np.median(sim_ref))
        for noise in noise_stds_m:
            params = replace(base, bandwidth_hz=bw, nlos_loss_db=loss, diffuse_scale=scale,
                             tx_power_dbm=power, device_offset_m=offset, noise_std_m=noise)
            score = _objective(links, real, params, n_scans, seed)
            trials.append({"bandwidth_mhz": bw / 1e6, "nlos_loss_db": loss, "diffuse_scale": scale,
                           "noise_std_m": noise, "device_offset_m": offset, "objective": score})
            if score < best[0]:
                best = (score, params, links)
    _, params, links = best
    scores = [(_objective(links, real, replace(params, fail_rss_dbm=f), n_scans, seed), f)
              for f in fail_rss_dbm]
    params = replace(params, fail_rss_dbm=min(scores)[1])
    return params, links, trials

r"""Simulated fingerprint datasets, built by the scene simulator's RSS sensor.

A stand-in for a named real set is a campus of rectangular buildings with several
floors and access points spread over it. Each AP is a transmitter of a free-space
:class:`~wiloc_core.sim.scene.Scene` whose ``path_loss_exponent`` n lumps the
indoor losses the rays do not carry; :func:`wiloc_core.sim.paths.trace` gives the
direct path to every fingerprint position and
:func:`wiloc_core.sim.sensors.rss.rss_dbm` turns it into a phone's reading. Floors
and outer walls enter as the sensor's penetration loss, which makes the reading the
log-distance law with a floor attenuation factor (Seidel & Rappaport 1992; the RSS
sensor's docstring):

.. math::

    \mathrm{RSS}_j(p) = P_j - 10\,n\,\log_{10}\frac{d_j(p)}{d_0}
        - F\,|\Delta\mathrm{floor}| - W\,[\text{AP outside the building}] + X,
    \qquad X \sim \mathcal{N}(0, \sigma^2)

with ``P_j`` the received power at ``d0 = 1 m`` (drawn per AP), ``F`` the loss per
floor crossed, ``W`` an outer-wall loss and ``X`` independent shadowing per
(fingerprint, AP). The sensor rounds readings to whole dBm like phone scans and
drops those below its sensitivity; a dropped reading is stored as ``NOT_DETECTED``
(+100), the convention of the real files (:mod:`wiloc_core.data.fingerprint_set`).

Sizes follow the named real set in spirit (buildings, floors, rough footprint) but
are small (a few hundred to ~2000 fingerprints) so notebooks run in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng
from wiloc_core.sim.paths import trace
from wiloc_core.sim.scene import Scene, wavelength
from wiloc_core.sim.sensors.rss import rss_dbm

from .fingerprint_set import NOT_DETECTED, RSS_MAX_DBM, FingerprintDataset, FingerprintSet


@dataclass(frozen=True)
class PathLossModel:
    """Radio settings of the simulated campus (dB, dBm, metres, Hz).

    Attributes
    ----------
    power_at_1m_dbm : tuple of float
        Range of the per-AP received power at 1 m (uniform), dBm; the transmit power
        of each AP's scene is set so that the direct path gives this at 1 m.
    exponent : float
        Path-loss exponent n, the scene's ``path_loss_exponent``.
    shadowing_db : float
        Standard deviation of the log-normal shadowing, dB (the sensor's
        ``shadowing_sigma_db``; independent per fingerprint and AP).
    floor_attenuation_db : float
        Loss per floor between AP and receiver, dB.
    outer_wall_db : float
        Extra loss for APs outside the building footprints, dB.
    detection_dbm : float
        Weakest reading a phone reports (the sensor's ``sensitivity_dbm``); weaker
        ones become ``NOT_DETECTED``.
    floor_height_m : float
        Storey height; ``height = floor * floor_height_m``.
    carrier_hz : float
        Carrier of the scenes (2.4 GHz band).
    """

    power_at_1m_dbm: tuple = (-42.0, -32.0)
    exponent: float = 3.0
    shadowing_db: float = 4.0
    floor_attenuation_db: float = 15.0
    outer_wall_db: float = 10.0
    detection_dbm: float = -100.0
    floor_height_m: float = 3.7
    carrier_hz: float = 2.4e9


@dataclass(frozen=True)
class BuildingProfile:
    """Geometry and sizes of one simulated dataset.

    Attributes
    ----------
    buildings : tuple of (x0, y0, width, depth)
        Footprints in metres.
    floors : tuple of int
        Floor ids present in every building.
    n_aps : int
    n_train, n_test : int
    ap_margin_m : float
        APs are placed in the footprint grown by this margin (outside ones are neighbours).
    """

    buildings: tuple
    floors: tuple
    n_aps: int
    n_train: int
    n_test: int
    ap_margin_m: float


PROFILES = {
    "UJI1": BuildingProfile(buildings=((0, 0, 110, 70), (130, 60, 110, 70), (260, 120, 110, 70)),
                            floors=(0, 1, 2, 3), n_aps=260, n_train=1600, n_test=300, ap_margin_m=10),
    "TUT3": BuildingProfile(buildings=((0, 0, 200, 75),), floors=(0, 1, 2, 3, 4), n_aps=300,
                            n_train=700, n_test=1200, ap_margin_m=20),
    "TUT5": BuildingProfile(buildings=((0, 0, 150, 165),), floors=(0, 1, 2), n_aps=160,
                            n_train=446, n_test=800, ap_margin_m=20),
    "LIB1": BuildingProfile(buildings=((0, 0, 10, 15),), floors=(3, 5), n_aps=80,
                            n_train=576, n_test=800, ap_margin_m=60),
    "UTS": BuildingProfile(buildings=((0, 0, 80, 28),), floors=(0, 1, 2, 3, 4, 5), n_aps=180,
                           n_train=900, n_test=388, ap_margin_m=20),
}
"""Simulation profiles, one per real fingerprint dataset name."""

AP_ABOVE_FLOOR_M = 2.5
"""APs are mounted near the ceiling, this high above their floor."""


def _profile(name: str) -> tuple[str, BuildingProfile]:
    for key, value in PROFILES.items():
        if key.lower() == name.strip().lower():
            return key, value
    raise ParameterError("name", f"one of {list(PROFILES)}", name)


def _random_positions(gen, profile: BuildingProfile, model: PathLossModel, n: int, margin: float):
    """Random 3-D positions; returns xyz [n, 3], floor [n], building [n], inside [n]."""
    building = gen.integers(len(profile.buildings), size=n)
    boxes = np.asarray(profile.buildings, dtype=np.float64)[building]
    x = boxes[:, 0] - margin + gen.random(n) * (boxes[:, 2] + 2 * margin)
    y = boxes[:, 1] - margin + gen.random(n) * (boxes[:, 3] + 2 * margin)
    inside = (x >= boxes[:, 0]) & (x <= boxes[:, 0] + boxes[:, 2]) & (y >= boxes[:, 1]) & (y <= boxes[:, 1] + boxes[:, 3])
    floor = np.asarray(profile.floors)[gen.integers(len(profile.floors), size=n)]
    z = floor * model.floor_height_m
    return np.column_stack([x, y, z]), floor.astype(np.int64), building.astype(np.int64), inside


def ap_scene(ap_xyz, model: PathLossModel, name: str = "fingerprint-ap") -> Scene:
    """The scene of one access point: free space, exponent ``model.exponent``.

    Parameters
    ----------
    ap_xyz : array_like, shape (3,), metres
    model : PathLossModel
    name : str

    Returns
    -------
    Scene
        ``room=None`` (no walls: the campus is larger than the image method's one
        room), ``tx=ap_xyz``, ``carrier_hz=model.carrier_hz``.
    """
    return Scene(room=None, tx=ap_xyz, carrier_hz=model.carrier_hz, path_loss_exponent=model.exponent,
                 name=name)


def scan(ap_xyz, ap_floor, ap_inside, ap_power_dbm, rx_xyz, rx_floor, model: PathLossModel, seed=0) -> np.ndarray:
    """Fingerprints: every AP's reading at every receiver, from the scene simulator.

    For AP j, :func:`~wiloc_core.sim.paths.trace` of :func:`ap_scene` gives the direct
    path to each receiver and :func:`~wiloc_core.sim.sensors.rss.rss_dbm` reads it,
    with the transmit power that gives ``ap_power_dbm[j]`` at 1 m, the floor and
    outer-wall losses as penetration loss, ``model.shadowing_db`` of shadowing, whole
    dBm and ``model.detection_dbm`` as sensitivity.

    Parameters
    ----------
    ap_xyz : ndarray, shape (n_aps, 3), metres
    ap_floor : ndarray of int, shape (n_aps,)
    ap_inside : ndarray of bool, shape (n_aps,)
        Whether each AP is inside a building footprint (else the outer wall is lost).
    ap_power_dbm : ndarray, shape (n_aps,)
        Received power at 1 m, dBm.
    rx_xyz : ndarray, shape (n, 3), metres
    rx_floor : ndarray of int, shape (n,)
    model : PathLossModel
    seed : int or numpy.random.Generator
        Shadowing draws, AP after AP from one generator.

    Returns
    -------
    ndarray, float32, shape (n, n_aps)
        Whole-dBm readings in ``[detection_dbm, 0]``, ``NOT_DETECTED`` (+100) where the
        sensor reports nothing.
    """
    gen = rng(seed)
    ap_xyz, rx_xyz = np.asarray(ap_xyz, dtype=float), np.asarray(rx_xyz, dtype=float)
    ap_floor, rx_floor = np.asarray(ap_floor), np.asarray(rx_floor)
    out = np.full((len(rx_xyz), len(ap_xyz)), NOT_DETECTED, dtype=np.float32)
    if len(rx_xyz) == 0:
        return out
    gain_at_1m_db = 20 * np.log10(float(wavelength(model.carrier_hz)) / (4 * np.pi))
    for j in range(len(ap_xyz)):
        paths = trace(ap_scene(ap_xyz[j], model), rx_xyz, max_order=0)
        loss = model.floor_attenuation_db * np.abs(rx_floor - ap_floor[j])
        loss = loss + (0.0 if ap_inside[j] else model.outer_wall_db)
        reading = rss_dbm(paths, tx_power_dbm=float(ap_power_dbm[j]) - gain_at_1m_db,
                          shadowing_sigma_db=model.shadowing_db, quantize=True,
                          sensitivity_dbm=model.detection_dbm, penetration_loss_db=loss, seed=gen)
        heard = np.isfinite(reading)
        out[heard, j] = np.minimum(reading[heard], RSS_MAX_DBM)
    return out


def synthetic_fingerprints(name: str, seed=0, n_train: int | None = None, n_test: int | None = None,
                           model: PathLossModel | None = None) -> FingerprintDataset:
    """A simulated stand-in for a named fingerprint dataset.

    Parameters
    ----------
    name : str
        ``"UJI1"``, ``"TUT3"``, ``"TUT5"``, ``"LIB1"`` or ``"UTS"`` (see :data:`PROFILES`).
    seed : int or numpy.random.Generator, default 0
        Same seed, same dataset (bit for bit).
    n_train, n_test : int, optional
        Override the profile's split sizes.
    model : PathLossModel, optional
        Radio settings; defaults to ``PathLossModel()`` (n = 3, 4 dB shadowing,
        15 dB per floor, detection at -100 dBm).

    Returns
    -------
    FingerprintDataset
        ``source_kind == "simulated"``; ``note`` describes the simulation. Train and
        test positions are drawn independently and uniformly over buildings, floors
        and footprints; APs are shared. Readings come from :func:`scan`.
    """
    key, profile = _profile(name)
    model = model or PathLossModel()
    gen = rng(seed)
    sizes = {"train": profile.n_train if n_train is None else int(n_train),
             "test": profile.n_test if n_test is None else int(n_test)}
    for split, size in sizes.items():
        if size < 0:
            raise ParameterError(f"n_{split}", "a non-negative int", size)
    ap_xyz, ap_floor, _, ap_inside = _random_positions(gen, profile, model, profile.n_aps, profile.ap_margin_m)
    ap_xyz[:, 2] += AP_ABOVE_FLOOR_M
    ap_power = gen.uniform(*model.power_at_1m_dbm, size=profile.n_aps)
    source = (f"scene simulator, RSS sensor ({key} profile: {len(profile.buildings)} building(s), "
              f"floors {list(profile.floors)}, {profile.n_aps} APs; n={model.exponent:g}, "
              f"shadowing {model.shadowing_db:g} dB, floor loss {model.floor_attenuation_db:g} dB, "
              f"detection {model.detection_dbm:g} dBm)")
    splits = {}
    for split, size in sizes.items():
        xyz, floor, building, _ = _random_positions(gen, profile, model, size, 0.0)
        rss = scan(ap_xyz, ap_floor, ap_inside, ap_power, xyz, floor, model, seed=gen)
        splits[split] = FingerprintSet(rss=rss, xy=xyz[:, :2], height=xyz[:, 2], floor=floor, building=building,
                                       name=key, split=split, source_kind="simulated", source=source)
    note = f"Simulated data, not measurements: {source}."
    return FingerprintDataset(train=splits["train"], test=splits["test"], name=key, source_kind="simulated",
                              note=note)

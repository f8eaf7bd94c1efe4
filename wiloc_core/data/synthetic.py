r"""Simulated fingerprint datasets, used when a real dataset is not available.

The model is the textbook log-distance path-loss law with log-normal shadowing and a
floor attenuation factor (Seidel & Rappaport 1992). For AP ``j`` and a fingerprint
taken at 3-D position ``p``:

.. math::

    \mathrm{RSS}_j(p) = P_j - 10\,n\,\log_{10}\frac{\max(d_j(p), d_0)}{d_0}
        - F\,|\Delta\mathrm{floor}| - W\,[\text{AP outside the building}] + X,
    \qquad X \sim \mathcal{N}(0, \sigma^2)

with ``P_j`` the received power at ``d0 = 1 m`` (drawn per AP), ``n`` the path-loss
exponent, ``F`` the loss per floor crossed, ``W`` an outer-wall loss, and ``X``
independent shadowing per (fingerprint, AP). Readings are rounded to whole dBm like
phone scans; readings below the detection threshold become ``NOT_DETECTED`` (+100).

Sizes follow the named real set in spirit (buildings, floors, rough footprint) but
are small (a few hundred to ~2000 fingerprints) so notebooks run in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng

from .fingerprints import NOT_DETECTED, RSS_MAX_DBM, FingerprintDataset, FingerprintSet


@dataclass(frozen=True)
class PathLossModel:
    """Parameters of the simulated radio channel (dB, dBm, metres).

    Attributes
    ----------
    power_at_1m_dbm : tuple of float
        Range of the per-AP received power at 1 m (uniform), dBm.
    exponent : float
        Path-loss exponent ``n``.
    shadowing_db : float
        Standard deviation of the log-normal shadowing, dB.
    floor_attenuation_db : float
        Loss per floor between AP and receiver, dB.
    outer_wall_db : float
        Extra loss for APs outside the building footprint, dB.
    detection_dbm : float
        Weakest reading a phone reports; weaker ones become ``NOT_DETECTED``.
    floor_height_m : float
        Storey height; ``height = floor * floor_height_m``.
    """

    power_at_1m_dbm: tuple = (-42.0, -32.0)
    exponent: float = 3.0
    shadowing_db: float = 4.0
    floor_attenuation_db: float = 15.0
    outer_wall_db: float = 10.0
    detection_dbm: float = -100.0
    floor_height_m: float = 3.7


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


def simulate_rss(gen, ap_xyz, ap_floor, ap_inside, ap_power, rx_xyz, rx_floor, model: PathLossModel):
    """RSS of every AP at every receiver position under ``model``.

    Parameters
    ----------
    gen : numpy.random.Generator
    ap_xyz : ndarray, shape (n_aps, 3), metres
    ap_floor : ndarray of int, shape (n_aps,)
    ap_inside : ndarray of bool, shape (n_aps,)
    ap_power : ndarray, shape (n_aps,), dBm at 1 m
    rx_xyz : ndarray, shape (n, 3), metres
    rx_floor : ndarray of int, shape (n,)
    model : PathLossModel

    Returns
    -------
    ndarray, float32, shape (n, n_aps)
        Whole-dBm readings, ``NOT_DETECTED`` below ``model.detection_dbm``.
    """
    distance = np.linalg.norm(rx_xyz[:, None, :] - ap_xyz[None, :, :], axis=2)
    loss = 10.0 * model.exponent * np.log10(np.maximum(distance, 1.0))
    loss += model.floor_attenuation_db * np.abs(rx_floor[:, None] - ap_floor[None, :])
    loss += model.outer_wall_db * (~ap_inside)[None, :]
    rss = ap_power[None, :] - loss + gen.normal(0.0, model.shadowing_db, size=distance.shape)
    rss = np.minimum(np.round(rss), RSS_MAX_DBM)
    return np.where(rss < model.detection_dbm, NOT_DETECTED, rss).astype(np.float32)


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
        Channel parameters; defaults to ``PathLossModel()`` (n = 3, 4 dB shadowing,
        15 dB per floor, detection at -100 dBm).

    Returns
    -------
    FingerprintDataset
        ``source_kind == "simulated"``; ``note`` describes the model. Train and test
        positions are drawn independently and uniformly over buildings, floors and
        footprints; APs are shared.
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
    ap_xyz[:, 2] += 2.5  # mounted near the ceiling
    ap_power = gen.uniform(*model.power_at_1m_dbm, size=profile.n_aps)
    source = (f"log-distance path-loss simulation ({key} profile: {len(profile.buildings)} building(s), "
              f"floors {list(profile.floors)}, {profile.n_aps} APs; n={model.exponent:g}, "
              f"shadowing {model.shadowing_db:g} dB, floor loss {model.floor_attenuation_db:g} dB, "
              f"detection {model.detection_dbm:g} dBm)")
    splits = {}
    for split, size in sizes.items():
        xyz, floor, building, _ = _random_positions(gen, profile, model, size, 0.0)
        rss = simulate_rss(gen, ap_xyz, ap_floor, ap_inside, ap_power, xyz, floor, model)
        splits[split] = FingerprintSet(rss=rss, xy=xyz[:, :2], height=xyz[:, 2], floor=floor, building=building,
                                       name=key, split=split, source_kind="simulated", source=source)
    note = f"Simulated data, not measurements: {source}."
    return FingerprintDataset(train=splits["train"], test=splits["test"], name=key, source_kind="simulated",
                              note=note)

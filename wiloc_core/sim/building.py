"""A floor of rooms: the path loss of links that leave the transmitter's room.

Every preset is one closed room, and inside one room the reverberant field keeps the
local-mean power nearly flat with distance (:mod:`wiloc_core.sim.diffuse`), so in-room
path-loss exponents sit below free space's 2. The TGn path-loss model (2 up to a
breakpoint, 3.5 beyond; Erceg et al., IEEE 802.11-03/940r4) describes links across a
building, where walls between rooms add their losses. This module places a preset's
room in a floor of copies of it and computes the local-mean power of links from the
preset's transmitter to receivers anywhere on that floor.

The floor. Rooms tile the plane in a (2r + 1) x (2r + 1) grid around the source room
(``rings`` = r), mirrored so that neighbours share a wall: the wall at x = k W is the
room's ``x0`` wall for even k and its ``x1`` wall for odd k (likewise in y). All rooms
are on one storey; floor and ceiling are not crossed. Partitions are the rooms' own
walls, or one named material for every partition (``partition``), each a slab of
:data:`WALL_THICKNESS_M`.

Power of a link (delay-integrated, local mean):

- receiver in the source room: every traced path (:func:`wiloc_core.sim.paths.trace`,
  specular rays, clutter and the room's diffuse tail), as in the presets;
- receiver in another room: the direct ray, free-space spreading times the power
  transmission :math:`|T|^2` of each wall it crosses (at the ray's incidence angle),
  plus the diffuse field of the receiving room. Specular reflections in the receiving
  room are left out.

Slab transmission (ITU-R P.2040-3, eqs. 37-38, single-layer slab with multiple
internal reflections):

.. math:: T = \\frac{(1 - \\Gamma^2)\\, e^{-jq}}{1 - \\Gamma^2 e^{-2jq}}, \\qquad
          R = \\frac{\\Gamma\\,(1 - e^{-2jq})}{1 - \\Gamma^2 e^{-2jq}}, \\qquad
          q = \\frac{2\\pi d}{\\lambda}\\sqrt{\\eta - \\sin^2\\theta},

with Gamma the half-space Fresnel coefficient of the wall material
(:meth:`wiloc_core.sim.scene.Material.reflection`).

Coupled rooms (room electromagnetics, Andersen et al., IEEE Antennas Propag. Mag.
49(2), 2007). In a diffuse field of energy W in a room of volume V, the power falling
on a wall of area A is c W A / (4 V); a share t_w (the slab's transmission averaged
over a diffuse field's incidence angles) passes into the neighbour. The energies W of
the rooms after a unit-energy impulse in the source room s obey

.. math:: \\frac{dW_j}{dt} = -\\frac{W_j}{T_j} + \\sum_i \\frac{c\\,A_{ij}\\,t_{w,ij}}{4 V_i} W_i,
          \\qquad W(0) = e_s,

i.e. dW/dt = M W (:func:`room_energy_rates`). A neighbour's energy builds up and then
decays (to first order :math:`W_j \\propto t\\,e^{-t/T}`). Its time integral from
the link's direct delay :math:`\\tau_d = d/c` on, the energy a receiver there can collect
after the first arrival (the onset rule of :mod:`~wiloc_core.sim.diffuse`), is

.. math:: E_j(\\tau_d) = \\int_{\\tau_d}^\\infty W_j\\,dt
          = \\big[-M^{-1} e^{M \\tau_d} e_s\\big]_j

(:func:`room_energy_after`; :func:`coupled_room_energy` is the whole integral,
tau_d = 0). The receiving room's diffuse power gain is
:math:`c \\lambda^2 E_j(\\tau_d) / (8 \\pi V_j)`, the in-room level of
:mod:`~wiloc_core.sim.diffuse` (there :math:`T e^{-\\tau_d/T}`). Every room has the
source room's reverberation time, whose absorption already counts what leaves through
the walls; the solution includes what flows back (a few per cent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.diffuse import room_volume_surface
from wiloc_core.sim.paths import trace
from wiloc_core.sim.scene import SPEED_OF_LIGHT, Material, Room, Scene, material, wavelength

#: Slab thickness (m) of a wall of each material between two rooms; our assumption of
#: common interior walls (ITU-R P.2040 gives the materials, not the walls).
WALL_THICKNESS_M = {"concrete": 0.20, "brick": 0.12, "plasterboard": 0.025, "wood": 0.04,
                    "glass": 0.01, "ceiling_board": 0.015, "chipboard": 0.02, "metal": 0.002}


def slab_coefficients(mat: Material, thickness_m: float, frequency_hz: float, cos_theta,
                      polarization: str = "TE"):
    """Reflection and transmission coefficients of a slab (ITU-R P.2040-3, eqs. 37-38).

    Parameters
    ----------
    mat : Material
    thickness_m : float
        Slab thickness d (m, >= 0).
    frequency_hz : float
    cos_theta : array_like of float
        Cosine of the incidence angle from the wall normal, in (0, 1].
    polarization : {"TE", "TM"}

    Returns
    -------
    R, T : numpy.ndarray of complex128, same shape as ``cos_theta``
        Field coefficients; |R|^2 + |T|^2 = 1 for a lossless slab.
    """
    if not (np.isfinite(thickness_m) and thickness_m >= 0):
        raise ParameterError("thickness_m", "a non-negative wall thickness (m)", thickness_m)
    cos_t = np.clip(np.asarray(cos_theta, dtype=float), 1e-9, 1.0)
    gamma = mat.reflection(frequency_hz, cos_t, polarization)
    eta = mat.permittivity(frequency_hz)
    q = 2 * np.pi * thickness_m / float(wavelength(frequency_hz)) * np.sqrt(eta - (1 - cos_t**2) + 0j)
    # Im(eta) <= 0, so the principal root has Im(q) <= 0 and e^{-jq} decays in a lossy slab.
    e2 = np.exp(-2j * q)
    denominator = 1 - gamma**2 * e2
    return gamma * (1 - e2) / denominator, (1 - gamma**2) * np.exp(-1j * q) / denominator


def slab_power_transmission(mat: Material, thickness_m: float, frequency_hz: float, cos_theta,
                            polarization: str = "TE") -> np.ndarray:
    """|T|^2 of :func:`slab_coefficients`; float64, same shape as ``cos_theta``."""
    return np.abs(slab_coefficients(mat, thickness_m, frequency_hz, cos_theta, polarization)[1]) ** 2


def diffuse_transmission(mat: Material, thickness_m: float, frequency_hz: float, *,
                         n_angles: int = 400) -> float:
    """Share of a diffuse field's incident power that a slab lets through.

    |T|^2 averaged over TE and TM and over incidence angles with the diffuse field's
    weight sin(2 theta), as :func:`wiloc_core.sim.diffuse.random_incidence_absorption`
    averages absorption.
    """
    theta = (np.arange(n_angles) + 0.5) * (np.pi / 2 / n_angles)
    weight = np.sin(2 * theta) * (np.pi / 2 / n_angles)
    both = sum(slab_power_transmission(mat, thickness_m, frequency_hz, np.cos(theta), pol)
               for pol in ("TE", "TM"))
    return float(np.sum(weight * 0.5 * both))


@dataclass(frozen=True)
class Floor:
    """A storey of mirrored copies of ``room`` around the source room (see module docstring).

    Attributes
    ----------
    room : Room
    rings : int
        Rooms on each side of the source room (>= 1); (2 rings + 1)^2 rooms in all.
    partition : str, Material or None
        Material of every wall between rooms; ``None`` keeps each room's own walls.
    """

    room: Room
    rings: int = 1
    partition: object = "plasterboard"

    def __post_init__(self):
        if not (isinstance(self.rings, int | np.integer) and self.rings >= 1):
            raise ParameterError("rings", "an integer >= 1 rooms on each side", self.rings)
        if self.partition is not None:
            _thickness(material(self.partition))

    @property
    def extent(self) -> np.ndarray:
        """Lower and upper corners of the floor in x and y (m); float64 (2, 2)."""
        span = np.array([self.room.width, self.room.depth])
        return np.stack([-self.rings * span, (self.rings + 1) * span])

    def wall(self, axis: int, k: int) -> Material:
        """Material of the wall at x = k W (axis 0) or y = k D (axis 1)."""
        if self.partition is not None:
            return material(self.partition)
        names = ("x0", "x1") if axis == 0 else ("y0", "y1")
        return self.room.wall_material(names[k % 2])

    def room_index(self, points) -> np.ndarray:
        """Grid index (i, j) of the room holding each point (0, 0 is the source room); int (n, 2)."""
        p = np.asarray(points, dtype=float).reshape(-1, 3)
        span = np.array([self.room.width, self.room.depth])
        return np.floor(p[:, :2] / span).astype(np.int64)


def _thickness(mat: Material) -> float:
    if mat.name not in WALL_THICKNESS_M:
        raise ParameterError("partition", f"a material with a wall thickness, one of "
                             f"{sorted(WALL_THICKNESS_M)}", mat.name)
    return WALL_THICKNESS_M[mat.name]


def wall_transmission(floor: Floor, axis: int, k: int, frequency_hz: float, cos_theta):
    """|T|^2 (TE: vertical polarisation on a vertical wall) of the wall at index k."""
    mat = floor.wall(axis, k)
    return slab_power_transmission(mat, _thickness(mat), frequency_hz, cos_theta, "TE")


def crossed_walls(index: int) -> range:
    """Wall indices k crossed from the source room (index 0) to the room at ``index``."""
    return range(1, index + 1) if index > 0 else range(index + 1, 1)


def direct_through_walls(floor: Floor, tx, rx, frequency_hz: float) -> np.ndarray:
    """Power gain of the direct ray with every wall it crosses; float64 (n_links,).

    Free-space (lambda / (4 pi d))^2 times the slab power transmission of each crossed
    wall at the ray's incidence angle.
    """
    tx = np.asarray(tx, dtype=float).reshape(3)
    rx = np.asarray(rx, dtype=float).reshape(-1, 3)
    delta = rx - tx
    d = np.linalg.norm(delta, axis=1)
    gain = (float(wavelength(frequency_hz)) / (4 * np.pi * d)) ** 2
    index = floor.room_index(rx)
    for axis in (0, 1):
        cos_t = np.abs(delta[:, axis]) / d
        for k in range(-floor.rings, floor.rings + 2):
            crosses = np.array([k in crossed_walls(int(i)) for i in index[:, axis]], dtype=bool)
            if crosses.any():
                gain[crosses] *= wall_transmission(floor, axis, k, frequency_hz, cos_t[crosses])
    return gain


def floor_rooms(floor: Floor) -> list[tuple[int, int]]:
    """Grid indices of every room, row by row."""
    r = range(-floor.rings, floor.rings + 1)
    return [(i, j) for i in r for j in r]


def room_energy_rates(floor: Floor, reverberation_s: float, frequency_hz: float) -> np.ndarray:
    """The matrix M of dW/dt = M W over the rooms of :func:`floor_rooms` (1/s); float64 (n, n).

    Diagonal -1/T; off-diagonal c A t_w / (4 V) between rooms sharing a wall (module
    docstring). Symmetric, as every room has the same size.
    """
    if not reverberation_s > 0:
        raise ParameterError("reverberation_s", "a positive reverberation time (s)", reverberation_s)
    rooms = floor_rooms(floor)
    where = {r: n for n, r in enumerate(rooms)}
    volume, _ = room_volume_surface(floor.room)
    w, d, h = floor.room.width, floor.room.depth, floor.room.height
    rates = -np.eye(len(rooms)) / reverberation_s
    for (i, j), n in where.items():
        for axis, step in ((0, (1, 0)), (1, (0, 1))):
            other = (i + step[0], j + step[1])
            if other not in where:
                continue
            mat = floor.wall(axis, (i, j)[axis] + 1)
            area = d * h if axis == 0 else w * h
            flux = SPEED_OF_LIGHT * area * diffuse_transmission(mat, _thickness(mat), frequency_hz) / (
                4 * volume)
            rates[where[other], n] = rates[n, where[other]] = flux
    return rates


def room_energy_after(floor: Floor, reverberation_s: float, frequency_hz: float,
                      delays_s) -> np.ndarray:
    """Energy of each room from each delay on, after a unit impulse in the source room.

    :math:`[-M^{-1} e^{M\\tau} e_s]_j` (module docstring), through the eigendecomposition
    of the symmetric M.

    Returns
    -------
    numpy.ndarray, float64, shape (n_delays, n_rooms), s (rooms as :func:`floor_rooms`)
    """
    rates = room_energy_rates(floor, reverberation_s, frequency_hz)
    eigenvalues, vectors = np.linalg.eigh(rates)
    if not np.all(eigenvalues < 0):
        raise ParameterError("partition", "walls that pass less power than the rooms absorb",
                             floor.partition)
    source = floor_rooms(floor).index((0, 0))
    tau = np.asarray(delays_s, dtype=float).reshape(-1, 1)
    weights = -np.exp(eigenvalues * tau) / eigenvalues * vectors[source]   # (n_delays, n_modes)
    return weights @ vectors.T


def coupled_room_energy(floor: Floor, reverberation_s: float, frequency_hz: float) -> dict:
    """Time-integrated energy E_j of each room after a unit impulse in the source room.

    The whole integral of :func:`room_energy_after` (tau = 0): the solution of
    :math:`-M E = e_s`. Returns ``{(i, j): E_j}`` in seconds (E_s = T without coupling).
    """
    rates = room_energy_rates(floor, reverberation_s, frequency_hz)
    rooms = floor_rooms(floor)
    source = np.zeros(len(rooms))
    source[rooms.index((0, 0))] = 1.0
    energy = np.linalg.solve(-rates, source)
    return {r: float(energy[n]) for n, r in enumerate(rooms)}


def floor_receivers(floor: Floor, tx, n: int, *, height_m: float, min_distance_m: float = 1.0,
                    seed=None) -> np.ndarray:
    """Receivers drawn uniformly over the floor at one height, at least ``min_distance_m``
    (horizontally) from ``tx`` and off the walls by 0.3 m; float64 (n, 3), m."""
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ParameterError("n", "an integer >= 2 receivers", n)
    g = make_rng(seed)
    lo, hi = floor.extent
    span = np.array([floor.room.width, floor.room.depth])
    if np.any(span <= 0.6):
        raise ParameterError("floor.room", "rooms wider and deeper than the 0.3 m margins", span)
    out = np.empty((0, 2))
    for _ in range(100):
        if len(out) >= n:
            break
        xy = g.uniform(lo, hi, size=(2 * n, 2))
        local = xy - np.floor(xy / span) * span
        ok = (np.linalg.norm(xy - np.asarray(tx, float)[:2], axis=1) >= min_distance_m) & np.all(
            (local > 0.3) & (local < span - 0.3), axis=1)
        out = np.vstack([out, xy[ok]])
    if len(out) < n:
        raise ParameterError("min_distance_m", "a distance that leaves room for receivers",
                             min_distance_m)
    return np.column_stack([out[:n], np.full(n, height_m)])


def floor_power(scene: Scene, floor: Floor, rx, *, max_order: int = 2) -> np.ndarray:
    """Local-mean power gain of links from ``scene.tx`` to receivers on ``floor``.

    Receivers in the source room get every traced path of ``scene``; the others the
    direct ray through the walls plus their room's coupled diffuse field (module
    docstring). ``scene.diffuse`` must be set (its reverberation time drives the
    coupling).

    Returns
    -------
    numpy.ndarray, float64, shape (n_links,), linear power gain
    """
    if scene.diffuse is None:
        raise ParameterError("scene.diffuse", "a scene with a diffuse tail", None)
    if floor.room != scene.room:
        raise ParameterError("floor.room", "the scene's room", floor.room)
    rx = np.asarray(rx, dtype=float).reshape(-1, 3)
    index = floor.room_index(rx)
    inside = np.all(index == 0, axis=1)
    power = np.empty(len(rx))
    if inside.any():
        power[inside] = trace(scene, rx[inside], max_order=max_order).power()
    outside = ~inside
    if outside.any():
        d = np.linalg.norm(rx[outside] - np.asarray(scene.tx, float), axis=1)
        after = room_energy_after(floor, scene.diffuse.reverberation_s, scene.carrier_hz,
                                  d / SPEED_OF_LIGHT)
        column = {r: n for n, r in enumerate(floor_rooms(floor))}
        e_room = after[np.arange(len(d)), [column[(int(i), int(j))] for i, j in index[outside]]]
        # level_per_s is c lambda^2 / (8 pi V): the in-room gain p(0) T e^{-tau_d/T} with the
        # room's energy after the direct delay in place of T e^{-tau_d/T}
        diffuse = scene.diffuse.level_per_s * e_room
        power[outside] = direct_through_walls(floor, scene.tx, rx[outside], scene.carrier_hz) + diffuse
    return power

"""Radio scene: a rectangular room, wall materials, clutter scatterers and people.

The scene is pure geometry plus electromagnetic constants; :mod:`wiloc_core.sim.paths`
turns it into multipath components and the sensors in :mod:`wiloc_core.sim.sensors`
observe those components.

Coordinates are metres in a right-handed frame with the room spanning
``[0, width] x [0, depth] x [0, height]`` (x, y horizontal, z up). Antennas are
assumed vertically polarised, so vertical walls reflect the TE (perpendicular)
component and the floor and ceiling reflect the TM (parallel) component.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng

#: Speed of light in vacuum (m/s).
SPEED_OF_LIGHT = 299_792_458.0
#: Vacuum permittivity (F/m).
EPSILON_0 = 8.8541878128e-12
#: Wall names of a rectangular room, in the order used by reflection counts.
WALL_NAMES = ("x0", "x1", "y0", "y1", "floor", "ceiling")


def wavelength(frequency_hz):
    """Free-space wavelength lambda = c / f in metres."""
    return SPEED_OF_LIGHT / np.asarray(frequency_hz, dtype=float)


@dataclass(frozen=True)
class Material:
    """A wall material described by the ITU-R P.2040 power-law model.

    Relative permittivity and conductivity follow (ITU-R P.2040-3, Table 3)

    .. math:: \\varepsilon_r = a f_{\\mathrm{GHz}}^b, \\qquad
              \\sigma = c f_{\\mathrm{GHz}}^d \\;\\mathrm{S/m},\\qquad
              \\eta = \\varepsilon_r - j\\sigma / (2\\pi f \\varepsilon_0).

    The reflection coefficient is the Fresnel coefficient of a half-space (a thick
    wall; no slab resonance), see :meth:`reflection`. A material with ``gamma`` set
    instead reflects with that fixed complex coefficient at every angle, which is
    useful for closed-form tests and for "absorbing" (``gamma=0``) boundaries.

    Parameters
    ----------
    name : str
    a, b, c, d : float
        ITU-R P.2040 coefficients (dimensionless, dimensionless, S/m, dimensionless).
    gamma : complex, optional
        Fixed reflection coefficient overriding the Fresnel model.
    """

    name: str
    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    d: float = 0.0
    gamma: complex | None = None

    def permittivity(self, frequency_hz: float) -> complex:
        """Complex relative permittivity eta at ``frequency_hz`` (dimensionless)."""
        f_ghz = float(frequency_hz) / 1e9
        eps_r = self.a * f_ghz**self.b
        sigma = self.c * f_ghz**self.d
        return complex(eps_r, -sigma / (2 * np.pi * float(frequency_hz) * EPSILON_0))

    def reflection(self, frequency_hz: float, cos_theta, polarization: str = "TE"):
        """Fresnel reflection coefficient of a half-space.

        .. math:: \\Gamma_{TE} = \\frac{\\cos\\theta - \\sqrt{\\eta - \\sin^2\\theta}}
                                       {\\cos\\theta + \\sqrt{\\eta - \\sin^2\\theta}},\\qquad
                  \\Gamma_{TM} = \\frac{\\eta\\cos\\theta - \\sqrt{\\eta - \\sin^2\\theta}}
                                       {\\eta\\cos\\theta + \\sqrt{\\eta - \\sin^2\\theta}}

        (the Fresnel equations, e.g. Balanis, Advanced Engineering Electromagnetics).

        Parameters
        ----------
        frequency_hz : float
            Carrier frequency (Hz).
        cos_theta : array_like of float
            Cosine of the incidence angle measured from the wall normal, in [0, 1].
        polarization : {"TE", "TM"}

        Returns
        -------
        numpy.ndarray of complex128, same shape as ``cos_theta``
        """
        cos_theta = np.clip(np.asarray(cos_theta, dtype=float), 0.0, 1.0)
        if self.gamma is not None:
            return np.full(cos_theta.shape, complex(self.gamma))
        if polarization not in ("TE", "TM"):
            raise ParameterError("polarization", "'TE' or 'TM'", polarization)
        eta = self.permittivity(frequency_hz)
        root = np.sqrt(eta - (1.0 - cos_theta**2) + 0j)
        if polarization == "TE":
            return (cos_theta - root) / (cos_theta + root)
        return (eta * cos_theta - root) / (eta * cos_theta + root)


#: ITU-R P.2040-3 Table 3 coefficients.
MATERIALS: dict[str, Material] = {
    "concrete": Material("concrete", 5.24, 0.0, 0.0462, 0.7822),
    "brick": Material("brick", 3.91, 0.0, 0.0238, 0.16),
    "plasterboard": Material("plasterboard", 2.73, 0.0, 0.0085, 0.9395),
    "wood": Material("wood", 1.99, 0.0, 0.0047, 1.0718),
    "glass": Material("glass", 6.31, 0.0, 0.0036, 1.3394),
    "ceiling_board": Material("ceiling_board", 1.48, 0.0, 0.0011, 1.0750),
    "chipboard": Material("chipboard", 2.58, 0.0, 0.0217, 0.78),
    "metal": Material("metal", 1.0, 0.0, 1e7, 0.0),
    "absorber": Material("absorber", gamma=0.0),
}


def material(name_or_material) -> Material:
    """Look up a :class:`Material` by name (see :data:`MATERIALS`) or pass one through."""
    if isinstance(name_or_material, Material):
        return name_or_material
    if name_or_material not in MATERIALS:
        raise ParameterError("material", f"one of {sorted(MATERIALS)} or a Material",
                             name_or_material)
    return MATERIALS[name_or_material]


@dataclass(frozen=True)
class Room:
    """A rectangular room ``[0, width] x [0, depth] x [0, height]`` (metres).

    Parameters
    ----------
    width, depth, height : float
        Extent along x, y and z (m), all > 0.
    walls : dict, optional
        Material (name or :class:`Material`) per wall, keys from
        :data:`WALL_NAMES` (``x0`` is the wall at x = 0, ``x1`` at x = width, and so
        on). Missing keys take ``default``.
    default : str or Material
        Material of every wall not named in ``walls``.
    floor_ceiling : bool
        Whether floor and ceiling reflect. ``False`` gives a 2-D image lattice
        (only the four vertical walls), as in the order-1 image-count test.
    """

    width: float
    depth: float
    height: float
    walls: dict = field(default_factory=dict)
    default: object = "concrete"
    floor_ceiling: bool = True

    def __post_init__(self):
        for name in ("width", "depth", "height"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ParameterError(f"room.{name}", "a positive finite length in metres", value)
        unknown = set(self.walls) - set(WALL_NAMES)
        if unknown:
            raise ParameterError("room.walls", f"keys from {WALL_NAMES}", sorted(unknown))

    @property
    def size(self) -> np.ndarray:
        """``(width, depth, height)`` as a float64 array of shape (3,), metres."""
        return np.array([self.width, self.depth, self.height], dtype=float)

    def wall_material(self, name: str) -> Material:
        return material(self.walls.get(name, self.default))

    def contains(self, points, *, tol: float = 1e-9) -> np.ndarray:
        """Whether each point of ``points`` (..., 3) lies inside the closed room; bool (...)."""
        p = np.asarray(points, dtype=float)
        return np.all((p >= -tol) & (p <= self.size + tol), axis=-1)


@dataclass(frozen=True)
class Scatterers:
    """Point scatterers (clutter: furniture, equipment, shelves).

    Each scatterer adds one single-bounce path TX -> scatterer -> RX whose amplitude
    follows the bistatic radar equation (see :func:`wiloc_core.sim.paths.trace`).

    Parameters
    ----------
    positions : array_like, shape (n, 3), metres
    rcs : array_like, shape (n,), m^2
        Bistatic radar cross-section, assumed isotropic.
    phase : array_like, shape (n,), rad
        Phase added on scattering (object- and angle-dependent in reality; drawn
        uniformly at random once per scene here, our assumption).
    """

    positions: np.ndarray
    rcs: np.ndarray
    phase: np.ndarray

    def __post_init__(self):
        pos = np.asarray(self.positions, dtype=float).reshape(-1, 3)
        rcs = np.asarray(self.rcs, dtype=float).reshape(-1)
        phase = np.asarray(self.phase, dtype=float).reshape(-1)
        if not (len(rcs) == len(phase) == len(pos)):
            raise ParameterError("scatterers", "positions (n, 3), rcs (n,), phase (n,)",
                                 (pos.shape, rcs.shape, phase.shape))
        if np.any(rcs < 0):
            raise ParameterError("scatterers.rcs", "non-negative cross-sections (m^2)", rcs.min())
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "rcs", rcs)
        object.__setattr__(self, "phase", phase)

    def __len__(self) -> int:
        return len(self.rcs)

    @classmethod
    def empty(cls) -> Scatterers:
        return cls(np.zeros((0, 3)), np.zeros(0), np.zeros(0))


def random_clutter(room: Room, density_per_m2: float, *, rcs_m2=(0.01, 0.3),
                   z_range=(0.0, 2.0), margin_m: float = 0.2, exclude=None,
                   exclude_radius_m: float = 0.5, seed=None) -> Scatterers:
    """Draw clutter scatterers uniformly over the floor of ``room``.

    The expected number is ``density_per_m2 * floor area``; the number itself is
    Poisson. Cross-sections are log-uniform in ``rcs_m2`` and phases uniform in
    [0, 2 pi). All of this is our assumption: the CTF paper only ranks its
    environments as highly, medium, low cluttered and open (paper 000, §II-C).

    Parameters
    ----------
    room : Room
    density_per_m2 : float
        Mean scatterers per square metre of floor, >= 0.
    rcs_m2 : (float, float)
        Range of the radar cross-section (m^2).
    z_range : (float, float)
        Height range of the scatterers (m), e.g. furniture up to 2 m.
    margin_m : float
        Keep-out distance from the walls (m).
    exclude : array_like, shape (k, 3), optional
        Points (antennas, measurement grid) that no scatterer may come closer to
        than ``exclude_radius_m`` horizontally.
    seed : int or numpy.random.Generator

    Returns
    -------
    Scatterers
    """
    if not (np.isfinite(density_per_m2) and density_per_m2 >= 0):
        raise ParameterError("density_per_m2", "a non-negative density (1/m^2)", density_per_m2)
    g = make_rng(seed)
    area = room.width * room.depth
    n = int(g.poisson(density_per_m2 * area))
    lo = np.array([margin_m, margin_m, z_range[0]])
    hi = np.array([room.width - margin_m, room.depth - margin_m, min(z_range[1], room.height)])
    pos = g.uniform(lo, hi, size=(n, 3))
    if exclude is not None and n:
        ex = np.asarray(exclude, dtype=float).reshape(-1, 3)
        # Horizontal distance from every scatterer to every excluded point.
        gap = np.linalg.norm(pos[:, None, :2] - ex[None, :, :2], axis=-1).min(axis=1)
        pos = pos[gap >= exclude_radius_m]
    n = len(pos)
    rcs = np.exp(g.uniform(np.log(rcs_m2[0]), np.log(rcs_m2[1]), size=n))
    phase = g.uniform(0.0, 2 * np.pi, size=n)
    return Scatterers(pos, rcs, phase)


@dataclass(frozen=True)
class Person:
    """A standing person: a vertical cylinder that blocks and a point that scatters.

    As a blocker, every path segment passing within ``radius_m`` of the body axis
    below ``height_m`` loses ``loss_db``; outside the radius the loss falls off as a
    Gaussian of width ``edge_m``, a smooth stand-in for knife-edge diffraction
    around the body (our knife-edge estimate after ITU-R P.526: 6-10 dB at 2.4 GHz, 8-15 dB at 5 GHz for a
    blocked LOS, 1-3 dB when only the first Fresnel zone is clipped; [I]).
    As a scatterer it adds one path TX -> torso -> RX with radar cross-section
    ``rcs_m2`` (our assumption: ~1 m^2 at 2-5 GHz).

    Parameters
    ----------
    x, y : float
        Position of the body axis (m).
    radius_m, height_m : float
        Body cylinder (m).
    loss_db : float
        Attenuation of a path through the body (dB, >= 0).
    edge_m : float
        Width of the soft edge (m, > 0).
    rcs_m2 : float
        Radar cross-section of the body (m^2, >= 0).
    torso_height_m : float
        Height of the scattering point (m).
    phase : float
        Phase added on scattering (rad).
    """

    x: float
    y: float
    radius_m: float = 0.2
    height_m: float = 1.75
    loss_db: float = 8.0
    edge_m: float = 0.1
    rcs_m2: float = 1.0
    torso_height_m: float = 1.1
    phase: float = np.pi

    def __post_init__(self):
        for name in ("radius_m", "height_m", "edge_m"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"person.{name}", "a positive length (m)", getattr(self, name))
        for name in ("loss_db", "rcs_m2"):
            if not getattr(self, name) >= 0:
                raise ParameterError(f"person.{name}", "a non-negative value", getattr(self, name))

    @property
    def xy(self) -> np.ndarray:
        return np.array([self.x, self.y], dtype=float)

    def moved(self, x: float, y: float) -> Person:
        """The same person standing at ``(x, y)``."""
        return replace(self, x=float(x), y=float(y))


@dataclass(frozen=True)
class Scene:
    """Everything the propagation model needs.

    Parameters
    ----------
    room : Room or None
        ``None`` is free space (no walls): only the LOS and scatterer paths exist.
    tx : array_like, shape (3,), metres
        Transmitter (or access point) antenna position.
    carrier_hz : float
        Carrier frequency at which reflection coefficients and ray amplitudes are
        evaluated (Hz).
    scatterers : Scatterers
        Clutter.
    people : tuple of Person
    path_loss_exponent : float
        Exponent n of the spreading law :math:`a \\propto (d/d_0)^{-n/2}` with
        :math:`d_0 = 1` m. ``2`` is free-space (Friis) spreading and makes the LOS
        amplitude exactly lambda / (4 pi d); larger values lump unmodelled losses
        (typical indoor n = 2-3.5, Rappaport, Wireless Communications, §4.11).
    name : str
    diffuse : DiffuseField or None
        The room's diffuse (reverberant) tail, drawn once per scene
        (:func:`wiloc_core.sim.diffuse.room_diffuse_field`); ``None``: specular paths
        and point scatterers only. :func:`~wiloc_core.sim.paths.trace` adds its
        components to every link unless called with ``diffuse=False``.
    """

    room: Room | None
    tx: np.ndarray
    carrier_hz: float = 2.4e9
    scatterers: Scatterers = field(default_factory=Scatterers.empty)
    people: tuple = ()
    path_loss_exponent: float = 2.0
    name: str = "scene"
    diffuse: object = None

    def __post_init__(self):
        tx = np.asarray(self.tx, dtype=float).reshape(-1)
        if tx.shape != (3,):
            raise ParameterError("tx", "a position (x, y, z) in metres", tx.shape)
        if not (np.isfinite(self.carrier_hz) and self.carrier_hz > 0):
            raise ParameterError("carrier_hz", "a positive frequency in Hz", self.carrier_hz)
        if not self.path_loss_exponent > 0:
            raise ParameterError("path_loss_exponent", "a positive exponent", self.path_loss_exponent)
        if self.room is not None and not self.room.contains(tx):
            raise ParameterError("tx", f"a point inside the room {tuple(self.room.size)}", tuple(tx))
        object.__setattr__(self, "tx", tx)
        object.__setattr__(self, "people", tuple(self.people))

    def with_tx(self, tx) -> Scene:
        """The same scene with the transmitter moved to ``tx``."""
        return replace(self, tx=np.asarray(tx, dtype=float))

    def with_people(self, people) -> Scene:
        """The same scene with ``people`` (an iterable of :class:`Person`) in it."""
        return replace(self, people=tuple(people))

    def without_people(self) -> Scene:
        return replace(self, people=())

    def with_diffuse(self, diffuse) -> Scene:
        """The same scene with a diffuse tail (a ``DiffuseField`` or ``None``)."""
        return replace(self, diffuse=diffuse)

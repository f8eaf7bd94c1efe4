"""Diffuse multipath: the reverberant tail of a room (room electromagnetics).

Specular rays (:mod:`wiloc_core.sim.paths`) carry the early, discrete part of an
indoor channel. After a few bounces on walls, furniture and people, the field in a
closed room becomes *diffuse*: it arrives from all directions with random phases and
its power decays exponentially with delay. Andersen et al. ("Room electromagnetics",
IEEE Antennas Propag. Mag. 49(2), 2007) carried Sabine's room-acoustics argument over
to radio: the energy W in a room of volume V and surface S with an effective
absorption coefficient eta (the share of power lost at each wall interaction) obeys
dW/dt = -W / T, with the reverberation time

.. math:: T_\\mathrm{Sabine} = \\frac{4V}{c\\,S\\,\\eta}, \\qquad
          T_\\mathrm{Eyring} = \\frac{-4V}{c\\,S\\,\\ln(1 - \\eta)}

(Eyring's form predicts measured radio tails better: Steinböck et al., "Experimental
validation of the reverberation effect in room electromagnetics", IEEE Trans. Antennas
Propag., 2015). An impulse of unit energy feeds the room; at delay
tau after emission the energy density is exp(-tau / T) / V, and an isotropic antenna
of effective area lambda^2 / (4 pi) picks up half of a randomly polarised diffuse
field, so the delay power spectrum of the diffuse part is

.. math:: p(\\tau) = \\frac{c\\,\\lambda^2}{8\\pi V}\\, e^{-\\tau/T}, \\qquad \\tau \\ge \\tau_d = d/c,

starting at the direct-path delay (the distance-dependent model of Steinböck et
al., IEEE Trans. Antennas Propag. 61(8), 2013). Its level at a given delay is the
same everywhere in the room (Andersen et al. 2007), and its power,
:math:`c \\lambda^2 T e^{-\\tau_d/T} / (8 \\pi V)`, falls with distance only through
the onset.

Realisation. One :class:`DiffuseField` per room holds a fixed set of n components
drawn once with the scene's seed. Component k is a plane wave leaving the transmitter
in direction v_k and reaching the receiver from direction u_k (both uniform on the
sphere, as the diffuse field is isotropic, Andersen et al. 2007), with delay

.. math:: \\tau_k(\\mathbf t, \\mathbf r) = t_k - [\\mathbf u_k \\cdot (\\mathbf r - \\mathbf o)
          + \\mathbf v_k \\cdot (\\mathbf t - \\mathbf o)] / c

about the room centre o, amplitude :math:`a_k = \\sqrt{p(\\tau_k)\\,\\Delta t}\\;
g(\\tau_k - \\tau_d)` (Delta t = 1 / density; g a raised-cosine onset over
``onset_ramp_s``) and a fixed random phase. The delays t_k are stratified (one per
Delta t, jittered) from 0 to the longest link delay of the room plus ``n_decays``
reverberation times. Because the delays and amplitudes are smooth functions of the
positions, nearby receivers see correlated tails: the correlation of a sum of plane
waves from uniform directions falls as sin(kd)/(kd), to zero at half a wavelength.
Components come in pairs with u and v exchanged, so exchanging transmitter and
receiver leaves the channel unchanged (reciprocity). People do not block the diffuse
field (one body shadows a small solid angle of an isotropic field; our assumption).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.scene import SPEED_OF_LIGHT, WALL_NAMES, Room, wavelength

#: Effective absorption coefficient measured in a large furnished room at 2-5 GHz
#: (Andersen et al., "Room electromagnetics", 2007).
MEASURED_ABSORPTION = 0.5


def reverberation_time(volume_m3: float, surface_m2: float, absorption: float, *,
                       formula: str = "eyring") -> float:
    """Reverberation time T (s) of a room: Sabine's or Eyring's formula.

    .. math:: T_\\mathrm{Sabine} = 4V / (c S \\eta), \\qquad
              T_\\mathrm{Eyring} = -4V / (c S \\ln(1 - \\eta))

    (Andersen et al. 2007, eq. of the Sabine analogue; Eyring's correction for strong
    absorption, Steinböck et al. 2015.)

    Parameters
    ----------
    volume_m3 : float
        Room volume V (m^3, > 0).
    surface_m2 : float
        Total surface S of walls, floor and ceiling (m^2, > 0).
    absorption : float
        Effective absorption coefficient eta in (0, 1).
    formula : {"eyring", "sabine"}

    Returns
    -------
    float, s
    """
    if not (volume_m3 > 0 and surface_m2 > 0):
        raise ParameterError("volume_m3, surface_m2", "a positive volume and surface",
                             (volume_m3, surface_m2))
    if not 0 < absorption < 1:
        raise ParameterError("absorption", "an effective absorption coefficient in (0, 1)",
                             absorption)
    if formula == "sabine":
        loss = absorption
    elif formula == "eyring":
        loss = -np.log1p(-absorption)
    else:
        raise ParameterError("formula", "'eyring' or 'sabine'", formula)
    return float(4 * volume_m3 / (SPEED_OF_LIGHT * surface_m2 * loss))


def room_volume_surface(room: Room) -> tuple[float, float]:
    """Volume (m^3) and total surface (m^2) of a rectangular room."""
    w, d, h = room.width, room.depth, room.height
    return w * d * h, 2 * (w * d + w * h + d * h)


def wall_areas(room: Room) -> np.ndarray:
    """Area (m^2) of each wall in the order of :data:`~wiloc_core.sim.scene.WALL_NAMES`; (6,)."""
    w, d, h = room.width, room.depth, room.height
    return np.array([d * h, d * h, w * h, w * h, w * d, w * d])


def random_incidence_absorption(room: Room, frequency_hz: float, *, n_angles: int = 400) -> float:
    """Area-weighted absorption of the room's walls for a diffuse field.

    For each wall, 1 - |Gamma(theta)|^2 of its Fresnel half-space coefficient,
    averaged over TE and TM and over incidence angles with the weight
    sin(2 theta) of a diffuse field (Paris' formula of room acoustics, e.g. Kuttruff,
    Room Acoustics), then weighted by wall area. Half-space walls without
    furniture give 0.8-0.95 for the ITU-R P.2040 materials, far above the 0.5
    measured in a furnished room (Andersen et al. 2007): the furniture, the metal in
    walls and the energy returned from neighbouring rooms are not in this number.

    Returns
    -------
    float in [0, 1]
    """
    theta = (np.arange(n_angles) + 0.5) * (np.pi / 2 / n_angles)
    weight = np.sin(2 * theta) * (np.pi / 2 / n_angles)
    cos_t = np.cos(theta)
    per_wall = []
    for name in WALL_NAMES:
        m = room.wall_material(name)
        lost = [1 - np.abs(m.reflection(frequency_hz, cos_t, pol)) ** 2 for pol in ("TE", "TM")]
        per_wall.append(float(np.sum(weight * 0.5 * (lost[0] + lost[1]))))
    areas = wall_areas(room)
    return float(np.sum(areas * np.array(per_wall)) / areas.sum())


@dataclass(frozen=True)
class DiffuseField:
    """A realised diffuse tail of one room (see the module docstring).

    Attributes
    ----------
    t0_s : numpy.ndarray, float64, shape (n,), s
        Delay t_k of each component for transmitter and receiver at the room centre.
    u, v : numpy.ndarray, float64, shape (n, 3)
        Unit arrival (receiver side) and departure (transmitter side) directions.
    phase : numpy.ndarray, float64, shape (n,), rad
    origin : numpy.ndarray, float64, shape (3,), m
        Room centre o.
    reverberation_s : float
        Reverberation time T (s).
    level_per_s : float
        p(0) = scale * c lambda^2 / (8 pi V), power per second of delay (1/s).
    spacing_s : float
        Delta t = 1 / density (s); each component carries p(tau) Delta t.
    onset_ramp_s : float
        Width of the raised-cosine onset after the direct delay (s).
    absorption : float
        Effective absorption coefficient the reverberation time was computed from.
    """

    t0_s: np.ndarray
    u: np.ndarray
    v: np.ndarray
    phase: np.ndarray
    origin: np.ndarray
    reverberation_s: float
    level_per_s: float
    spacing_s: float
    onset_ramp_s: float
    absorption: float

    def __len__(self) -> int:
        return len(self.t0_s)

    @property
    def total_gain(self) -> float:
        """Diffuse power gain at zero onset, p(0) T (linear); reduced by exp(-tau_d/T) per link."""
        return self.level_per_s * self.reverberation_s

    def pdp(self, delays_s) -> np.ndarray:
        """Expected delay power spectrum p(tau) = p(0) exp(-tau/T) (1/s), ignoring the onset."""
        return self.level_per_s * np.exp(-np.asarray(delays_s, dtype=float) / self.reverberation_s)

    def components(self, tx, rx):
        """Amplitudes, delays and phases of every component for each link.

        Parameters
        ----------
        tx : array_like, shape (3,), m
        rx : array_like, shape (n_links, 3), m

        Returns
        -------
        a, tau, theta : numpy.ndarray, float64, shape (n_links, n)
            Amplitude (linear), delay (s) and phase (rad).
        """
        tx = np.asarray(tx, dtype=float).reshape(3)
        rx = np.asarray(rx, dtype=float).reshape(-1, 3)
        shift = ((rx - self.origin) @ self.u.T + (self.v @ (tx - self.origin))[None, :])
        tau = self.t0_s[None, :] - shift / SPEED_OF_LIGHT
        direct = np.linalg.norm(rx - tx, axis=1)[:, None] / SPEED_OF_LIGHT
        a = np.sqrt(self.pdp(tau) * self.spacing_s) * _onset(tau - direct, self.onset_ramp_s)
        theta = np.broadcast_to(self.phase, tau.shape)
        return a, tau, np.array(theta)


def _onset(excess_s, ramp_s):
    """Raised-cosine gate: 0 before the direct delay, 1 after ``ramp_s``; amplitude factor."""
    x = np.clip(np.asarray(excess_s) / ramp_s, 0.0, 1.0)
    return np.sqrt(0.5 - 0.5 * np.cos(np.pi * x))


def _unit_vectors(g, n):
    z = g.standard_normal((n, 3))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def room_diffuse_field(room: Room, carrier_hz: float, *, absorption: float | None = None,
                       formula: str = "eyring", scale: float = 1.0, density_per_ns: float = 1.0,
                       n_decays: float = 7.0, onset_ramp_s: float = 2e-9,
                       seed=None) -> DiffuseField:
    """Draw the diffuse tail of ``room`` (see the module docstring).

    Parameters
    ----------
    room : Room
    carrier_hz : float
        Frequency of lambda in the level c lambda^2 / (8 pi V) (Hz).
    absorption : float, optional
        Effective absorption coefficient eta in (0, 1); ``None`` takes the walls'
        :func:`random_incidence_absorption` (an upper bound for a furnished room).
    formula : {"eyring", "sabine"}
    scale : float
        Multiplies the level (>= 0); 1 is the room-electromagnetics level.
    density_per_ns : float
        Components per nanosecond of delay (> 0); 1 gives tens of components per
        delay resolution cell of a 20-100 MHz sounder.
    n_decays : float
        The tail is drawn up to the room's longest link delay plus this many T.
    onset_ramp_s : float
        Raised-cosine onset width after the direct delay (s, > 0).
    seed : int or numpy.random.Generator

    Returns
    -------
    DiffuseField
    """
    if not scale >= 0:
        raise ParameterError("scale", "a non-negative level factor", scale)
    if not density_per_ns > 0:
        raise ParameterError("density_per_ns", "a positive number of components per ns",
                             density_per_ns)
    if not onset_ramp_s > 0:
        raise ParameterError("onset_ramp_s", "a positive onset width (s)", onset_ramp_s)
    eta = random_incidence_absorption(room, carrier_hz) if absorption is None else absorption
    volume, surface = room_volume_surface(room)
    t_rev = reverberation_time(volume, surface, eta, formula=formula)
    lam = float(wavelength(carrier_hz))
    level = scale * SPEED_OF_LIGHT * lam**2 / (8 * np.pi * volume)
    g = make_rng(seed)
    spacing = 1e-9 / density_per_ns
    span = float(np.linalg.norm(room.size)) / SPEED_OF_LIGHT + n_decays * t_rev
    n_pairs = int(np.ceil(span / spacing / 2))
    # Stratified delays: one component per spacing, jittered; pairs share delay and phase.
    t0 = (np.arange(n_pairs) * 2 + 2 * g.random(n_pairs)) * spacing
    u, v = _unit_vectors(g, n_pairs), _unit_vectors(g, n_pairs)
    phase = g.uniform(0.0, 2 * np.pi, n_pairs)
    return DiffuseField(
        t0_s=np.repeat(t0, 2), u=np.stack([u, v], 1).reshape(-1, 3),
        v=np.stack([v, u], 1).reshape(-1, 3), phase=np.repeat(phase, 2),
        origin=room.size / 2, reverberation_s=t_rev, level_per_s=level, spacing_s=spacing,
        onset_ramp_s=float(onset_ramp_s), absorption=float(eta))

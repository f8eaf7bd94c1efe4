"""Propagation: multipath components of a :class:`~wiloc_core.sim.scene.Scene`.

Every path l between the transmitter and one receiver is reduced to the three
numbers of eq. (1) of the CTF paper (paper 000):

.. math:: H(f) = \\sum_{l=1}^{L} a_l \\exp[-j(2\\pi f \\tau_l - \\theta_l)]

with a real amplitude :math:`a_l \\ge 0`, a delay :math:`\\tau_l = d_l / c` and a
phase :math:`\\theta_l` collecting everything that is not propagation delay
(reflection-coefficient phases, scattering phases). Three kinds of path exist:

``los``
    The direct ray, :math:`a = \\lambda/(4\\pi d)` in free space (Friis, Proc. IRE
    34(5), 1946).
``wall``
    Specular wall reflections from the image method for a rectangular room
    (Allen & Berkley, J. Acoust. Soc. Am. 65(4), 1979): the image of the transmitter behind
    the reflecting walls gives the path length, and each crossing multiplies the
    amplitude by the wall's Fresnel coefficient at the specular angle.
``clutter`` / ``person``
    Single-bounce scattering TX -> scatterer -> RX following the bistatic radar
    equation, :math:`a = \\frac{\\lambda}{4\\pi}\\sqrt{\\sigma/(4\\pi)}/(d_1 d_2)`.
``diffuse``
    The room's reverberant tail when the scene carries one
    (:mod:`wiloc_core.sim.diffuse`): many weak components whose power decays
    exponentially with delay after the direct path (Andersen et al., "Room
    electromagnetics", IEEE Antennas Propag. Mag. 2007).

People also block: every path segment passing through a body loses that body's
``loss_db`` (soft edge, see :class:`~wiloc_core.sim.scene.Person`). Blocking of a
reflected path is found on the unfolded straight line of the image method, split
at the walls it crosses, with the person mirrored into each room copy it passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.sim.scene import SPEED_OF_LIGHT, WALL_NAMES, Scene, wavelength

#: Scatterer distances below this are clamped in the radar equation (far-field
#: regularisation, our assumption), so a receiver next to a scatterer stays finite.
MIN_SCATTER_DISTANCE_M = 0.25

#: Soft body edge cut-off, in edge widths (exp(-16) ~ 1e-7 of the body loss).
_EDGE_CUT = 4.0

KIND_CODES = {"los": 0, "wall": 1, "clutter": 2, "person": 3, "diffuse": 4}


@dataclass(frozen=True)
class PathSet:
    """Multipath components of many links (receiver positions or time snapshots).

    Attributes
    ----------
    a : numpy.ndarray, float64, shape (n_links, n_paths)
        Amplitude a_l (linear, dimensionless: ratio of received to transmitted
        field for isotropic antennas), blocking included.
    tau : numpy.ndarray, float64, shape (n_links, n_paths)
        Delay tau_l (s).
    theta : numpy.ndarray, float64, shape (n_links, n_paths)
        Phase theta_l (rad), eq. (1) of paper 000.
    kind : numpy.ndarray, int8, shape (n_paths,)
        Path kind code, see :data:`KIND_CODES`.
    order : numpy.ndarray, int16, shape (n_paths,)
        Number of wall reflections (0 for LOS and scatterer paths).
    loss_db : numpy.ndarray, float64, shape (n_links, n_paths)
        Body-blocking loss already contained in ``a`` (dB).
    rx : numpy.ndarray, float64, shape (n_links, 3)
        Receiver position of each link (m).
    tx : numpy.ndarray, float64, shape (3,)
        Transmitter position (m).
    carrier_hz : float
        Frequency at which ``a`` and ``theta`` were evaluated (Hz).
    """

    a: np.ndarray
    tau: np.ndarray
    theta: np.ndarray
    kind: np.ndarray
    order: np.ndarray
    loss_db: np.ndarray
    rx: np.ndarray
    tx: np.ndarray
    carrier_hz: float

    @property
    def n_links(self) -> int:
        return self.a.shape[0]

    @property
    def n_paths(self) -> int:
        return self.a.shape[1]

    @property
    def gain(self) -> np.ndarray:
        """Complex path gain a_l exp(j theta_l); complex128 (n_links, n_paths)."""
        return self.a * np.exp(1j * self.theta)

    @property
    def distance_m(self) -> np.ndarray:
        """Straight-line TX-RX distance of each link (m), float64 (n_links,)."""
        return np.linalg.norm(self.rx - self.tx, axis=-1)

    @property
    def los_loss_db(self) -> np.ndarray:
        """Blocking loss of the direct path (dB), float64 (n_links,)."""
        return self.loss_db[:, 0]

    def select(self, *kinds: str) -> PathSet:
        """Only the paths of the given kinds (e.g. ``"los", "wall"``)."""
        for k in kinds:
            if k not in KIND_CODES:
                raise ParameterError("kinds", f"names from {sorted(KIND_CODES)}", k)
        keep = np.isin(self.kind, [KIND_CODES[k] for k in kinds])
        return PathSet(self.a[:, keep], self.tau[:, keep], self.theta[:, keep], self.kind[keep],
                       self.order[keep], self.loss_db[:, keep], self.rx, self.tx, self.carrier_hz)

    def power(self) -> np.ndarray:
        """Total path power sum_l a_l^2 (linear), float64 (n_links,)."""
        return np.sum(self.a**2, axis=1)


# -- image lattice -----------------------------------------------------------------------
def image_lattice(max_order: int, *, floor_ceiling: bool = True):
    """Image indices of a rectangular room up to ``max_order`` reflections.

    Along one axis an image is ``x' = (1 - 2q) x_s + 2 n L`` with q in {0, 1} and
    integer n (Allen & Berkley 1979). The unfolded ray to it crosses the wall at 0
    ``|n - q|`` times and the wall at L ``|n|`` times.

    Returns
    -------
    q, n : numpy.ndarray, int64, shape (n_images, 3)
    counts : numpy.ndarray, int64, shape (n_images, 6)
        Reflections on each wall, in the order of :data:`~wiloc_core.sim.scene.WALL_NAMES`.
        Row 0 is the direct path (all zeros); rows are sorted by total order.
    """
    if not (isinstance(max_order, int | np.integer) and max_order >= 0):
        raise ParameterError("max_order", "a non-negative integer", max_order)
    k = int(max_order)
    axis = [(q, n) for n in range(-k, k + 1) for q in (0, 1) if abs(n - q) + abs(n) <= k]
    z_axis = axis if floor_ceiling else [(0, 0)]
    rows = []
    for qx, nx in axis:
        for qy, ny in axis:
            for qz, nz in z_axis:
                c = (abs(nx - qx), abs(nx), abs(ny - qy), abs(ny), abs(nz - qz), abs(nz))
                if sum(c) <= k:
                    rows.append((qx, qy, qz, nx, ny, nz, *c))
    rows.sort(key=lambda r: (sum(r[6:]), r))
    arr = np.array(rows, dtype=np.int64)
    return arr[:, 0:3], arr[:, 3:6], arr[:, 6:12]


def _fold(z, length):
    """Fold unfolded coordinates back into [0, length] (mirror at every wall)."""
    m = np.mod(z, 2 * length)
    return length - np.abs(m - length)


def _spreading(distance, lam, exponent):
    """Spreading loss (lambda / 4 pi) (d / 1 m)^(-n/2); n = 2 gives Friis lambda/(4 pi d)."""
    return lam / (4 * np.pi) * distance ** (-exponent / 2)


def _wall_reflection(scene: Scene, direction_cos, counts):
    """Product of the Fresnel coefficients of all wall crossings; complex (n_rx, n_images)."""
    room = scene.room
    gamma = np.ones(direction_cos.shape[:2], dtype=complex)
    for w, name in enumerate(WALL_NAMES):
        c = counts[:, w]
        if not np.any(c):
            continue
        axis = w // 2
        pol = "TM" if axis == 2 else "TE"  # vertical polarisation (module docstring of scene)
        g = room.wall_material(name).reflection(scene.carrier_hz, direction_cos[..., axis], pol)
        gamma = gamma * np.where(c > 0, g ** np.maximum(c, 1), 1.0)
    return gamma


def _image_segments(rx, images, room, max_order):
    """Split each unfolded image ray at the walls it crosses.

    Returns the start and end points (n_rx, n_images, max_order + 1, 3) of each
    straight piece in unfolded coordinates, and the mirror map (sx, ox, sy, oy)
    that carries a real horizontal position into the room copy of that piece:
    ``x_copy = sx * x + ox``.
    """
    d = images[None, :, :] - rx[:, None, :]
    pieces = [np.zeros(d.shape[:2] + (1,))]
    if max_order > 0:
        cand = []
        for axis, length in ((0, room.width), (1, room.depth)):
            lines = np.arange(-max_order, max_order + 2) * length
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (lines - rx[:, None, axis, None]) / d[..., axis, None]
            cand.append(t)
        t = np.concatenate(cand, axis=-1)
        t = np.where(np.isfinite(t) & (t > 1e-12) & (t < 1 - 1e-12), t, 1.0)
        pieces.append(np.sort(t, axis=-1)[..., :max_order])
    pieces.append(np.ones(d.shape[:2] + (1,)))
    t = np.concatenate(pieces, axis=-1)
    start = rx[:, None, None, :] + t[..., :-1, None] * d[:, :, None, :]
    end = rx[:, None, None, :] + t[..., 1:, None] * d[:, :, None, :]
    mid = 0.5 * (start + end)
    maps = []
    for axis, length in ((0, room.width), (1, room.depth)):
        cell = np.floor(mid[..., axis] / length)
        even = np.mod(cell, 2) == 0
        maps.append(np.where(even, 1.0, -1.0))
        maps.append(np.where(even, cell * length, (cell + 1) * length))
    return start, end, tuple(maps)


def _blocking_db(start, end, maps, people_xy, people, height, skip=None):
    """Body-blocking loss of every path (dB), summed over people, max over pieces.

    Parameters
    ----------
    start, end : (N, P, S, 3) piece end points in unfolded coordinates.
    maps : (sx, ox, sy, oy), each (N, P, S): mirror map of each piece.
    people_xy : (M, Q, 2) positions of the Q people per link (N, M broadcast).
    people : sequence of Person (Q), the body parameters.
    height : room height for folding z, or None (free space).
    skip : (P,) int, optional: person index whose own scattering path this is.

    Returns
    -------
    (max(N, M), P) float64, dB.
    """
    n_links = max(start.shape[0], people_xy.shape[0])
    total = np.zeros((n_links, start.shape[1]))
    for q, person in enumerate(people):
        near = _pieces_near(start, end, maps, people_xy[:, q], person)
        if skip is not None:
            near &= (skip != q)[:, None]
        if not np.any(near):
            continue
        sx, ox, sy, oy = (m[:, near] for m in maps)
        a, b = start[:, near], end[:, near]
        seg = b - a
        seg_len2 = seg[..., 0] ** 2 + seg[..., 1] ** 2
        safe = np.where(seg_len2 > 0, seg_len2, 1.0)
        px = people_xy[:, q, 0][:, None]
        py = people_xy[:, q, 1][:, None]
        ix = sx * px + ox
        iy = sy * py + oy
        u = ((ix - a[..., 0]) * seg[..., 0] + (iy - a[..., 1]) * seg[..., 1]) / safe
        u = np.clip(np.where(seg_len2 > 0, u, 0.0), 0.0, 1.0)
        rho = np.hypot(a[..., 0] + u * seg[..., 0] - ix, a[..., 1] + u * seg[..., 1] - iy)
        z = a[..., 2] + u * seg[..., 2]
        if height is not None:
            z = _fold(z, height)
        excess = np.maximum(rho - person.radius_m, 0.0) / person.edge_m
        # The soft edge is cut at _EDGE_CUT widths so that the pre-filter is exact.
        # Zero-length pieces pad paths with fewer wall crossings than max_order; they
        # duplicate an end point and must not count (that would break reciprocity).
        real = seg_len2 + seg[..., 2] ** 2 > 0
        inside = (z <= person.height_m) & (excess < _EDGE_CUT) & real
        loss = np.where(inside, person.loss_db * np.exp(-(excess**2)), 0.0)
        full = np.zeros((n_links,) + start.shape[1:3])
        full[:, near] = loss
        total += full.max(axis=-1)
    return total


def _pieces_near(start, end, maps, xy, person):
    """Pieces whose bounding box comes within reach of the person anywhere on ``xy``.

    A conservative pre-filter: beyond radius + ``_EDGE_CUT`` edge widths the loss is
    zero by definition (it would be below 1e-7 of ``loss_db``). Returns a (P, S) mask.
    """
    reach = person.radius_m + _EDGE_CUT * person.edge_m
    sx, ox, sy, oy = maps
    lo_x, hi_x = xy[:, 0].min(), xy[:, 0].max()
    lo_y, hi_y = xy[:, 1].min(), xy[:, 1].max()
    # Mirror the person's box into each piece's room copy.
    bx0 = np.minimum(sx * lo_x, sx * hi_x) + ox - reach
    bx1 = np.maximum(sx * lo_x, sx * hi_x) + ox + reach
    by0 = np.minimum(sy * lo_y, sy * hi_y) + oy - reach
    by1 = np.maximum(sy * lo_y, sy * hi_y) + oy + reach
    sx0 = np.minimum(start[..., 0], end[..., 0])
    sx1 = np.maximum(start[..., 0], end[..., 0])
    sy0 = np.minimum(start[..., 1], end[..., 1])
    sy1 = np.maximum(start[..., 1], end[..., 1])
    hit = (sx1 >= bx0) & (sx0 <= bx1) & (sy1 >= by0) & (sy0 <= by1)
    return np.any(hit, axis=0)


def _as_points(points, name):
    p = np.asarray(points, dtype=float)
    if p.ndim == 1:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0:
        raise ParameterError(name, "positions of shape (n, 3) or (3,) in metres", p.shape)
    if not np.all(np.isfinite(p)):
        raise ParameterError(name, "finite coordinates", "NaN or inf")
    return p


def _people_positions(scene, people_xy):
    """Positions (M, Q, 2) of the scene's people per link."""
    q = len(scene.people)
    if people_xy is None:
        return np.array([[p.x, p.y] for p in scene.people], dtype=float).reshape(1, q, 2)
    xy = np.asarray(people_xy, dtype=float)
    if xy.ndim == 2:
        xy = xy[:, None, :] if q == 1 and xy.shape[1] == 2 else xy[None]
    if xy.ndim != 3 or xy.shape[1:] != (q, 2):
        raise ParameterError("people_xy", f"shape (n_links, {q}, 2) for the scene's {q} people",
                             xy.shape)
    return xy


def trace(scene: Scene, rx, *, max_order: int = 2, people_xy=None,
          floor_ceiling: bool | None = None, diffuse: bool = True) -> PathSet:
    """All multipath components from ``scene.tx`` to each receiver.

    Parameters
    ----------
    scene : Scene
    rx : array_like, shape (n_rx, 3) or (3,), metres
        Receiver positions; each must lie inside the room.
    max_order : int
        Highest wall-reflection order of the image method (0 = LOS only).
    people_xy : array_like, shape (n_links, n_people, 2), optional
        Per-link positions of the scene's people (their body parameters come from
        ``scene.people``), e.g. a walking trajectory with one fixed receiver.
        ``n_links`` must equal ``n_rx`` unless one of them is 1.
    floor_ceiling : bool, optional
        Override ``scene.room.floor_ceiling``.
    diffuse : bool
        Add the scene's diffuse tail (``scene.diffuse``) when it has one; ``False``
        keeps only the specular and scattered paths (closed-form checks).

    Returns
    -------
    PathSet
        Paths ordered as: direct path, wall images by increasing order, clutter,
        people, diffuse components. Shapes (n_links, n_paths) with
        n_links = max(n_rx, len(people_xy)).

    Notes
    -----
    Reciprocity: exchanging TX and RX leaves every a_l, tau_l and theta_l unchanged
    (same path lengths, same specular angles, same blocking), hence H(f) too; the
    diffuse components are reciprocal as a set (see :mod:`wiloc_core.sim.diffuse`).
    """
    paths = _trace_rays(scene, rx, max_order=max_order, people_xy=people_xy,
                        floor_ceiling=floor_ceiling)
    if diffuse and scene.diffuse is not None and len(scene.diffuse):
        paths = _add_diffuse(paths, scene.diffuse)
    return paths


def _add_diffuse(paths: PathSet, field) -> PathSet:
    """Append the components of a :class:`~wiloc_core.sim.diffuse.DiffuseField` to every link."""
    # A moving person with a fixed receiver repeats one receiver on every link: evaluate
    # each distinct receiver once.
    rx, inverse = np.unique(paths.rx, axis=0, return_inverse=True)
    a, tau, theta = (x[np.asarray(inverse).reshape(-1)] for x in field.components(paths.tx, rx))
    n = a.shape[1]
    return PathSet(np.concatenate([paths.a, a], axis=1), np.concatenate([paths.tau, tau], axis=1),
                   np.concatenate([paths.theta, theta], axis=1),
                   np.concatenate([paths.kind, np.full(n, KIND_CODES["diffuse"], np.int8)]),
                   np.concatenate([paths.order, np.zeros(n, np.int16)]),
                   np.concatenate([paths.loss_db, np.zeros_like(a)], axis=1),
                   paths.rx, paths.tx, paths.carrier_hz)


def _trace_rays(scene: Scene, rx, *, max_order: int, people_xy, floor_ceiling) -> PathSet:
    """Specular and scattered paths of :func:`trace` (without the diffuse tail)."""
    rx = _as_points(rx, "rx")
    room = scene.room
    if room is not None and not np.all(room.contains(rx)):
        bad = rx[~room.contains(rx)][0]
        raise ParameterError("rx", f"receivers inside the room {tuple(room.size)} m", tuple(bad))
    lam = float(wavelength(scene.carrier_hz))
    n_exp = scene.path_loss_exponent
    fc = room.floor_ceiling if (room is not None and floor_ceiling is None) else bool(floor_ceiling)
    order = max_order if room is not None else 0
    q, n, counts = image_lattice(order, floor_ceiling=fc if room is not None else False)
    size = room.size if room is not None else np.ones(3)
    images = (1 - 2 * q) * scene.tx + 2 * n * size

    # Direct path and wall images.
    diff = images[None] - rx[:, None]
    dist = np.linalg.norm(diff, axis=-1)
    if np.any(dist <= 0):
        raise ParameterError("rx", "receivers distinct from the transmitter", "a zero-length path")
    gamma = _wall_reflection(scene, np.abs(diff) / dist[..., None], counts) if order else 1.0
    amp = [_spreading(dist, lam, n_exp) * np.abs(gamma)]
    tau = [dist / SPEED_OF_LIGHT]
    theta = [np.broadcast_to(np.angle(gamma), dist.shape)]
    kind = [np.where(counts.sum(1) == 0, KIND_CODES["los"], KIND_CODES["wall"])]
    ords = [counts.sum(1)]
    if room is not None:
        start, end, maps = _image_segments(rx, images, room, order)
    else:
        start, end = rx[:, None, None, :], np.broadcast_to(images, diff.shape)[:, :, None, :]
        maps = _identity_maps(start.shape[:3])

    # Clutter: TX -> scatterer -> RX.
    sc = scene.scatterers
    if len(sc):
        if room is not None and not np.all(room.contains(sc.positions)):
            raise ParameterError("scatterers.positions", "points inside the room", "a point outside")
        d1 = np.linalg.norm(sc.positions - scene.tx, axis=-1)
        d2 = np.linalg.norm(rx[:, None] - sc.positions[None], axis=-1)
        amp.append(_scatter_amplitude(d1, d2, sc.rcs, lam, n_exp))
        tau.append((d1 + d2) / SPEED_OF_LIGHT)
        theta.append(np.broadcast_to(sc.phase, d2.shape))
        kind.append(np.full(len(sc), KIND_CODES["clutter"]))
        ords.append(np.zeros(len(sc), dtype=np.int64))
        s_start, s_end = _scatter_pieces(rx, sc.positions, scene.tx)
        start, end, maps = _concat_pieces((start, end, maps), (s_start, s_end,
                                                              _identity_maps(s_start.shape[:3])))
    a = np.concatenate([np.broadcast_to(x, (len(rx), x.shape[-1])) for x in amp], axis=1)
    t = np.concatenate([np.broadcast_to(x, (len(rx), x.shape[-1])) for x in tau], axis=1)
    th = np.concatenate(theta, axis=1)
    kinds = np.concatenate(kind).astype(np.int8)
    orders = np.concatenate(ords).astype(np.int16)
    height = room.height if room is not None else None

    if not scene.people:
        if people_xy is not None:
            raise ParameterError("people_xy", "people in the scene to move", "a scene without people")
        loss = np.zeros_like(a)
        return PathSet(a, t, np.array(th), kinds, orders, loss, rx, scene.tx.copy(),
                       float(scene.carrier_hz))

    pxy = _people_positions(scene, people_xy)
    n_links = _broadcast_links(len(rx), len(pxy))
    loss = _blocking_db(start, end, maps, pxy, scene.people, height)
    loss = np.broadcast_to(loss, (n_links, a.shape[1]))

    # People as scatterers: TX -> torso -> RX, blocked only by the other people.
    z = np.array([p.torso_height_m for p in scene.people])
    ppos = np.concatenate([pxy, np.broadcast_to(z, pxy.shape[:2])[..., None]], axis=-1)
    rcs = np.array([p.rcs_m2 for p in scene.people])
    d1 = np.linalg.norm(ppos - scene.tx, axis=-1)
    d2 = np.linalg.norm(rx[:, None, :] - ppos, axis=-1)
    p_amp = _scatter_amplitude(d1, d2, rcs, lam, n_exp)
    p_start, p_end = _scatter_pieces_moving(rx, ppos, scene.tx)
    p_loss = _blocking_db(p_start, p_end, _identity_maps(p_start.shape[:3]), pxy, scene.people,
                          height, skip=np.arange(len(scene.people)))

    def links(x):
        return np.broadcast_to(x, (n_links,) + np.shape(x)[1:])

    a = np.concatenate([links(a), links(p_amp)], axis=1)
    t = np.concatenate([links(t), links((d1 + d2) / SPEED_OF_LIGHT)], axis=1)
    th = np.concatenate([links(th), links(np.broadcast_to(
        [p.phase for p in scene.people], p_amp.shape))], axis=1)
    loss = np.concatenate([links(loss), links(np.broadcast_to(p_loss, p_amp.shape))], axis=1)
    kinds = np.concatenate([kinds, np.full(len(scene.people), KIND_CODES["person"], np.int8)])
    orders = np.concatenate([orders, np.zeros(len(scene.people), np.int16)])
    a = a * 10 ** (-loss / 20)
    return PathSet(np.ascontiguousarray(a), np.ascontiguousarray(t), np.ascontiguousarray(th),
                   kinds, orders, np.ascontiguousarray(loss), links(rx).copy(), scene.tx.copy(),
                   float(scene.carrier_hz))


def _broadcast_links(n_rx, n_people_links):
    if n_rx != n_people_links and 1 not in (n_rx, n_people_links):
        raise ParameterError("people_xy", f"1 or {n_rx} links (one per receiver)", n_people_links)
    return max(n_rx, n_people_links)


def _scatter_amplitude(d1, d2, rcs, lam, exponent):
    """Bistatic radar equation in amplitude, (lambda/4 pi) sqrt(sigma/4 pi) (d1 d2)^(-n/2)."""
    d1 = np.maximum(d1, MIN_SCATTER_DISTANCE_M)
    d2 = np.maximum(d2, MIN_SCATTER_DISTANCE_M)
    return lam / (4 * np.pi) * np.sqrt(rcs / (4 * np.pi)) * (d1 * d2) ** (-exponent / 2)


def _identity_maps(shape):
    one, zero = np.ones(shape), np.zeros(shape)
    return (one, zero, one, zero)


def _scatter_pieces(rx, points, tx):
    """Pieces RX -> point -> TX for fixed points; (n_rx, n_points, 2, 3) each end."""
    n_rx, n_p = len(rx), len(points)
    start = np.empty((n_rx, n_p, 2, 3))
    end = np.empty((n_rx, n_p, 2, 3))
    start[:, :, 0] = rx[:, None]
    end[:, :, 0] = points[None]
    start[:, :, 1] = points[None]
    end[:, :, 1] = tx
    return start, end


def _scatter_pieces_moving(rx, points, tx):
    """Like :func:`_scatter_pieces` with per-link points (M, Q, 3)."""
    n = _broadcast_links(len(rx), len(points))
    shape = (n, points.shape[1], 2, 3)
    start = np.empty(shape)
    end = np.empty(shape)
    start[:, :, 0] = np.broadcast_to(rx[:, None], (n, points.shape[1], 3))
    end[:, :, 0] = np.broadcast_to(points, (n, points.shape[1], 3))
    start[:, :, 1] = end[:, :, 0]
    end[:, :, 1] = tx
    return start, end


def _concat_pieces(first, second):
    """Join two piece sets along the path axis, padding the piece axis by repetition."""
    (s1, e1, m1), (s2, e2, m2) = first, second
    n_pieces = max(s1.shape[2], s2.shape[2])

    def pad(x):
        if x.shape[2] == n_pieces:
            return x
        reps = np.repeat(x[:, :, -1:], n_pieces - x.shape[2], axis=2)
        return np.concatenate([x, reps], axis=2)

    s = np.concatenate([pad(s1), pad(s2)], axis=1)
    e = np.concatenate([pad(e1), pad(e2)], axis=1)
    maps = tuple(np.concatenate([pad(a), pad(b)], axis=1) for a, b in zip(m1, m2, strict=True))
    return s, e, maps


def attenuate(paths: PathSet, loss_db, *, kinds=("los",)) -> PathSet:
    """The same paths with those of ``kinds`` weakened by ``loss_db`` on each link.

    A stand-in for an obstacle the traced room does not contain, such as a wall
    between an access point in a neighbouring room and the receiver: the direct path
    crosses it, loses ``loss_db`` and keeps its delay (a wall's few centimetres of
    excess optical length are neglected).

    Parameters
    ----------
    paths : PathSet
    loss_db : float or array_like, shape (n_links,), dB >= 0
    kinds : sequence of str
        Path kinds to attenuate (see :data:`KIND_CODES`).

    Returns
    -------
    PathSet
    """
    loss = np.broadcast_to(np.asarray(loss_db, dtype=float), (paths.n_links,))
    if np.any(~(loss >= 0)):
        raise ParameterError("loss_db", "non-negative losses (dB), one per link or one for all",
                             float(np.min(loss)))
    for k in kinds:
        if k not in KIND_CODES:
            raise ParameterError("kinds", f"names from {sorted(KIND_CODES)}", k)
    hit = np.isin(paths.kind, [KIND_CODES[k] for k in kinds])
    extra = np.where(hit[None, :], loss[:, None], 0.0)
    return PathSet(paths.a * 10 ** (-extra / 20), paths.tau, paths.theta, paths.kind, paths.order,
                   paths.loss_db + extra, paths.rx, paths.tx, paths.carrier_hz)

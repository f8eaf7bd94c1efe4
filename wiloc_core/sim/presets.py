"""Scene presets for the papers' measurement setups, and one-call simulations.

Every preset records where each of its numbers comes from in ``Preset.sources``:
``paper NNN`` (the paper's text), a standard or publication (IEEE 802.11, ITU-R,
vendor documentation) or ``assumption`` (ours, because the paper does not
say). Presets:

=================  ===========================================================
``laboratory``      CTF paper, highly cluttered environment (VNA, 2.4 GHz)
``narrow-corridor`` CTF paper, medium clutter
``lobby``           CTF paper, low clutter
``sports-hall``     CTF paper, open space
``lofi-room``       LoFi: ESP32-S3 pinging a router, person walking in 1.8 x 4.8 m
``eval-room``       EVAL: conference room at 5.22 GHz, 25 standing spots + empty
``wtn-room``        WTN: 4 RTT access points, 1170 positions on a 0.5 m grid
=================  ===========================================================

Every preset's room carries a diffuse (reverberant) tail
(:mod:`wiloc_core.sim.diffuse`) and names the IEEE 802.11 TGn model it resembles in
:data:`TGN_CLASS`; :mod:`wiloc_core.sim.calibration` checks its delay spread against
that model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wiloc_core.errors import ParameterError
from wiloc_core.seeding import rng as make_rng
from wiloc_core.sim.channel import frequency_grid
from wiloc_core.sim.diffuse import room_diffuse_field
from wiloc_core.sim.paths import PathSet, trace
from wiloc_core.sim.scene import Person, Room, Scene, random_clutter

CTF_ENVIRONMENTS = ("sports-hall", "lobby", "narrow-corridor", "laboratory")
PRESET_NAMES = CTF_ENVIRONMENTS + ("lofi-room", "eval-room", "wtn-room")

_CTF_SOURCES = {
    "carrier_hz": "paper 000 §II-B: 2.4 GHz (IEEE 802.11g band)",
    "freqs_hz": "paper 000 §II-B: 601 points over 100 MHz, 166.667 kHz spacing",
    "grid": "paper 000 §II-C: 14 x 14 = 196 positions, 12.5 cm cells (one wavelength)",
    "antenna_height_m": "paper 000 §II-A: both antennas 1.5 m high, omnidirectional",
    "n_sweeps": "paper 000 §II-B: 10 sweeps per position",
    "clutter": "paper 000 §II-C ranks clutter high/medium/low/open; densities are assumptions",
    "room": "assumption (the paper gives no dimensions)",
    "walls": "ITU-R P.2040-3 Table 3 materials; the choice per wall is an assumption",
    "tx_position": "assumption: TX 1.5 m (corridor: 3 m along the axis; lab: 3.5 m) from the grid",
    "snr": "assumption: 30 dB per frequency point (a VNA on a short link)",
}


@dataclass(frozen=True)
class Preset:
    """A measurement setup: scene, transmitters, receiver positions and sensor grid.

    Attributes
    ----------
    name : str
    scene : Scene
        Scene with ``tx`` at the first access point and no people.
    aps : numpy.ndarray, float64, shape (n_ap, 3), m
        Transmitter / access-point positions.
    receivers : numpy.ndarray, float64, shape (n_rx, 3), m
        Measurement positions (grid, fixed device).
    freqs_hz : numpy.ndarray, float64, shape (n_f,), Hz
        Native frequency grid of the preset's sensor.
    sensor : str
        ``"vna"``, ``"csi"``, ``"ofdm"`` or ``"rtt"``.
    person : Person or None
        Body template for people moving in the scene.
    spots : numpy.ndarray, float64, shape (n_spots, 2), m, or None
        Where a person stands (EVAL) or the corners of the walking area (LoFi).
    walk_area : tuple or None
        (x_min, y_min, x_max, y_max) of the walking area (m).
    settings : dict
        Sensor settings (e.g. ``snr``, ``n_sweeps``, ``rate_hz``, ``bandwidth_hz``).
    sources : dict
        Parameter -> where the number comes from.
    description : str
    """

    name: str
    scene: Scene
    aps: np.ndarray
    receivers: np.ndarray
    freqs_hz: np.ndarray
    sensor: str
    person: Person | None = None
    spots: np.ndarray | None = None
    walk_area: tuple | None = None
    settings: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    description: str = ""


def square_grid(origin_xy, n: int = 14, spacing_m: float = 0.125, z_m: float = 1.5) -> np.ndarray:
    """Row-major ``n x n`` grid of points starting at ``origin_xy``; (n*n, 3) float64, m."""
    ix, iy = np.meshgrid(np.arange(n), np.arange(n), indexing="xy")
    xy = np.asarray(origin_xy, dtype=float) + spacing_m * np.stack([ix.ravel(), iy.ravel()], -1)
    return np.column_stack([xy, np.full(len(xy), z_m)])


# name: (room (w, d, h), walls, clutter density /m^2, clutter rcs range m^2, grid origin, tx)
_CTF_GEOMETRY = {
    "laboratory": ((10.0, 8.0, 3.0), {"default": "concrete", "x1": "glass", "floor": "concrete",
                                      "ceiling": "ceiling_board"}, 3.0, (0.1, 2.0),
                   (5.0, 4.5), (5.8, 1.0, 1.5)),
    "narrow-corridor": ((24.0, 2.4, 2.8), {"default": "plasterboard", "floor": "concrete",
                                           "ceiling": "ceiling_board"}, 1.0, (0.05, 1.0),
                        (10.0, 0.39), (7.0, 1.2, 1.5)),
    "lobby": ((20.0, 15.0, 5.0), {"default": "concrete", "y0": "glass", "floor": "concrete",
                                  "ceiling": "plasterboard"}, 0.15, (0.02, 0.3),
              (9.0, 7.0), (9.8, 5.5, 1.5)),
    "sports-hall": ((40.0, 25.0, 9.0), {"default": "concrete", "floor": "wood",
                                        "ceiling": "wood"}, 0.005, (0.02, 0.3),
                    (19.0, 11.5), (19.8, 10.0, 1.5)),
}
_CTF_CLUTTER_WORDS = {"laboratory": "highly cluttered", "narrow-corridor": "medium cluttered",
                      "lobby": "low cluttered", "sports-hall": "open space"}


#: TGn class (Erceg et al., IEEE 802.11-03/940r4) each preset's room resembles, why, and
#: the effective absorption coefficient of its diffuse tail (Andersen et al., "Room
#: electromagnetics", 2007, measured 0.5 in a large furnished room; the values per room
#: are our calibration, see wiloc_core.sim.calibration).
TGN_CLASS = {
    "laboratory": ("B", 0.5, "a furnished 10 x 8 x 3 m room: its reverberation time (17 ns) "
                             "and delay spread are those of a residential room (model B)"),
    "narrow-corridor": ("B", 0.5, "a 2.4 m wide corridor has a small volume per surface, "
                                  "hence a short reverberation time (model B)"),
    "lobby": ("D", 0.4, "a 20 x 15 x 5 m sparsely furnished lobby (less absorption): the "
                        "volume of an open-plan office floor (model D, typical office)"),
    "sports-hall": ("E", 0.3, "an empty 40 x 25 x 9 m hall with hard surfaces (little "
                              "absorption): a large open space, model E (large office) "
                              "rather than F, whose 150 ns include outdoor links"),
    "lofi-room": ("B", 0.5, "a furnished 5 x 7 m room is residential-sized (model B)"),
    "eval-room": ("B", 0.5, "a furnished 8 x 6 m conference room is residential-sized "
                            "(model B)"),
    "wtn-room": ("C", 0.5, "a furnished 16 x 20.5 m room is a small-office space (model C)"),
}


def _diffuse(name, room, carrier_hz, seed):
    """The preset room's diffuse tail, drawn after its clutter from the same generator."""
    _, absorption, _ = TGN_CLASS[name]
    return room_diffuse_field(room, carrier_hz, absorption=absorption, seed=make_rng(seed))


def _tgn_sources(name):
    cls, absorption, why = TGN_CLASS[name]
    return {"tgn_class": f"TGn model {cls} (Erceg et al., IEEE 802.11-03/940r4): {why}",
            "diffuse": f"diffuse tail from room electromagnetics (Andersen et al. 2007; "
                       f"Eyring reverberation time), effective absorption {absorption} "
                       "(Andersen et al. measured 0.5; ours per room)"}


def _room(size, walls):
    walls = dict(walls)
    default = walls.pop("default", "concrete")
    return Room(*size, walls=walls, default=default)


def _ctf_preset(name, seed):
    size, walls, density, rcs, origin, tx = _CTF_GEOMETRY[name]
    room = _room(size, walls)
    grid = square_grid(origin)
    clutter = random_clutter(room, density, rcs_m2=rcs, exclude=np.vstack([grid, tx]),
                             exclude_radius_m=0.4, seed=make_rng(seed))
    scene = Scene(room, tx, carrier_hz=2.4e9, scatterers=clutter, name=name,
                  diffuse=_diffuse(name, room, 2.4e9, seed))
    sources = dict(_CTF_SOURCES)
    sources["clutter"] += f" ({density} scatterers/m^2, rcs {rcs[0]}-{rcs[1]} m^2)"
    sources.update(_tgn_sources(name))
    return Preset(name, scene, np.asarray([tx], float), grid, frequency_grid(2.4e9, 100e6, 601),
                  "vna", person=Person(0.0, 0.0, loss_db=8.0),
                  settings={"n_sweeps": 10, "snr": 1e3},
                  sources=sources,
                  description=f"CTF paper {name} ({_CTF_CLUTTER_WORDS[name]}): "
                              f"{size[0]} x {size[1]} x {size[2]} m room, 14 x 14 grid")


def _lofi_preset(seed):
    room = _room((5.0, 7.0, 3.0), {"default": "concrete", "x0": "glass", "floor": "concrete",
                                    "ceiling": "ceiling_board"})
    area = (1.6, 1.1, 3.4, 5.9)               # 1.8 m x 4.8 m
    router = (2.5, 0.5, 1.0)
    esp32 = (2.5, 6.5, 0.8)
    clutter = random_clutter(room, 0.8, rcs_m2=(0.02, 0.5),
                             exclude=np.array([router, esp32, (2.5, 3.5, 1.0)]),
                             exclude_radius_m=0.3, seed=make_rng(seed))
    clutter_ok = ~((clutter.positions[:, 0] > area[0] - 0.3) & (clutter.positions[:, 0] < area[2] + 0.3)
                   & (clutter.positions[:, 1] > area[1] - 0.3)
                   & (clutter.positions[:, 1] < area[3] + 0.3))
    clutter = type(clutter)(clutter.positions[clutter_ok], clutter.rcs[clutter_ok],
                            clutter.phase[clutter_ok])
    scene = Scene(room, router, carrier_hz=2.437e9, scatterers=clutter, name="lofi-room",
                  diffuse=_diffuse("lofi-room", room, 2.437e9, seed))
    from wiloc_core.sim.sensors.csi import subcarrier_frequencies

    corners = np.array([[area[0], area[1]], [area[2], area[1]], [area[2], area[3]],
                        [area[0], area[3]]])
    return Preset(
        "lofi-room", scene, np.asarray([router], float), np.asarray([esp32], float),
        subcarrier_frequencies(2.437e9, "ht20"), "csi", person=Person(0.0, 0.0, loss_db=8.0),
        spots=corners, walk_area=area,
        settings={"rate_hz": 100.0, "fmt": "ht20", "loss_rate": 0.03, "mean_burst": 3.0,
                  "duration_s": 300.0, "snr": 10**2.5},
        sources={
            **_tgn_sources("lofi-room"),
            "walk_area": "paper 002 §IV: 1.8 m x 4.8 m region, four vertices as reference points",
            "rate_hz": "paper 002 §IV: 100 Hz ping replies",
            "duration_s": "paper 002 §IV: each volunteer moved for 5 minutes",
            "carrier_hz": "paper 002 §IV: 2.4 GHz; channel 6 (2.437 GHz) is an assumption",
            "fmt": "paper 002 / README: 52 usable subcarriers of HT-LTF (56 occupied); ESP-IDF Wi-Fi guide, 'Channel State Information'",
            "devices": "paper 002 §IV: ESP32-S3 (one antenna) receiving from a home router",
            "loss_rate": "assumption (a few % at 100 Hz, bursty)",
            "room": "assumption: 5 x 7 x 3 m laboratory; device placement at the area's short ends",
            "person": "knife-edge estimate after ITU-R P.526 (body 0.30-0.45 m wide): 6-10 dB LOS blockage at 2.4 GHz; 8 dB chosen",
        },
        description="LoFi-like room: router and ESP32 at the ends of a 1.8 x 4.8 m walking area")


def _eval_preset(seed):
    room = _room((8.0, 6.0, 3.0), {"default": "plasterboard", "y0": "glass", "floor": "concrete",
                                    "ceiling": "ceiling_board"})
    tx = (1.0, 3.0, 1.0)
    rx = (7.0, 3.0, 1.0)
    spacing = 0.6
    sx, sy = np.meshgrid(np.arange(5), np.arange(5), indexing="xy")
    spots = np.stack([2.8 + spacing * sx.ravel(), 1.8 + spacing * sy.ravel()], -1)
    clutter = random_clutter(room, 0.4, rcs_m2=(0.02, 0.5), exclude=np.array([tx, rx]),
                             exclude_radius_m=0.5, seed=make_rng(seed))
    keep = ~((clutter.positions[:, 0] > 2.4) & (clutter.positions[:, 0] < 5.6)
             & (clutter.positions[:, 1] > 1.4) & (clutter.positions[:, 1] < 4.6))
    clutter = type(clutter)(clutter.positions[keep], clutter.rcs[keep], clutter.phase[keep])
    scene = Scene(room, tx, carrier_hz=5.22e9, scatterers=clutter, name="eval-room",
                  diffuse=_diffuse("eval-room", room, 5.22e9, seed))
    from wiloc_core.sim.sensors.csi import subcarrier_frequencies

    return Preset(
        "eval-room", scene, np.asarray([tx], float), np.asarray([rx], float),
        subcarrier_frequencies(5.22e9, "lltf"), "ofdm", person=Person(0.0, 0.0, loss_db=12.0),
        spots=spots,
        settings={"sample_rate_hz": 20e6, "n_labels": 26, "packets_train": 4000,
                  "packets_test": 1000, "rate_hz": 100.0, "snr": 10**2.5},
        sources={
            **_tgn_sources("eval-room"),
            "carrier_hz": "paper 003 §IV: 5.22 GHz, 20 MHz bandwidth, SISO",
            "spots": "paper 003 §IV: 25 location spots plus the empty room (26 labels); "
                     "5 x 5 layout and 0.6 m spacing are assumptions (spacing lost in the text)",
            "packets": "paper 003 §IV: 4000 training and 1000 test packets per label",
            "rate_hz": "paper 003 §IV: transmitter at 100 Hz",
            "devices": "paper 003 §IV: TL-WDR4300 TX, OpenWiFi ADRV9364-Z7020 RX, one antenna each",
            "room": "assumption: 8 x 6 x 3 m conference room, TX and RX 6 m apart at 1 m height",
            "person": "knife-edge estimate after ITU-R P.526 (body 0.30-0.45 m wide): 8-15 dB LOS blockage at 5 GHz; 12 dB chosen",
        },
        description="EVAL-like conference room at 5.22 GHz with 25 standing spots")


def _wtn_preset(seed):
    room = _room((16.0, 20.5, 3.0), {"default": "concrete", "x1": "glass", "floor": "concrete",
                                      "ceiling": "ceiling_board"})
    nx, ny, spacing = 30, 39, 0.5          # 30 * 39 = 1170
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
    xy = np.stack([0.75 + spacing * gx.ravel(), 0.75 + spacing * gy.ravel()], -1)
    receivers = np.column_stack([xy, np.full(len(xy), 1.2)])
    aps = np.array([[0.3, 0.3, 2.5], [15.7, 0.3, 2.5], [15.7, 20.2, 2.5], [0.3, 20.2, 2.5]])
    clutter = random_clutter(room, 0.3, rcs_m2=(0.02, 0.5), exclude=aps, exclude_radius_m=0.5,
                             seed=make_rng(seed))
    scene = Scene(room, aps[0], carrier_hz=5.18e9, scatterers=clutter, name="wtn-room",
                  diffuse=_diffuse("wtn-room", room, 5.18e9, seed))
    return Preset(
        "wtn-room", scene, aps, receivers, np.array([5.18e9]), "rtt",
        person=Person(0.0, 0.0, loss_db=12.0),
        settings={"burst_size": 11, "n_bursts": 200, "bandwidth_hz": 40e6,
                  "range_limits_m": (1.0, 20.0)},
        sources={
            **_tgn_sources("wtn-room"),
            "aps": "paper 004 §IV: 4 RTT APs (Compulab WILD, Intel AC8260); corner placement "
                   "at 2.5 m is an assumption",
            "grid": "paper 004 §IV: 1170 positions on a 0.5 m grid; the 30 x 39 layout is an "
                    "assumption (1170 = 30 x 39)",
            "n_bursts": "paper 004 §IV: 200 measurements per position",
            "burst_size": "paper 004 §III: 10 range readings averaged per scan step "
                          "(11 FTM frames give 10 RTTs, IEEE 802.11-2020 §11.21.6)",
            "range_limits_m": "paper 004: ranges normalised to 1-20 m",
            "carrier_hz": "assumption: 5.18 GHz (channel 36); the paper does not say",
            "bandwidth_hz": "assumption: 40 MHz FTM (the paper does not say)",
            "room": "assumption: 16 x 20.5 x 3 m room (room 487 dimensions are not given)",
        },
        description="WTN-like room: 4 APs in the corners, 1170 positions on a 0.5 m grid")


def preset(name: str, *, seed=0) -> Preset:
    """Build a named preset (see the module docstring); ``seed`` draws its clutter."""
    if name in _CTF_GEOMETRY:
        return _ctf_preset(name, seed)
    builders = {"lofi-room": _lofi_preset, "eval-room": _eval_preset, "wtn-room": _wtn_preset}
    if name not in builders:
        raise ParameterError("preset", f"one of {PRESET_NAMES}", name)
    return builders[name](seed)


# -- one-call simulations ----------------------------------------------------------------
@dataclass(frozen=True)
class CtfDataset:
    """A simulated CTF measurement campaign of one environment.

    Attributes
    ----------
    ctf : numpy.ndarray, complex64, shape (n_positions, n_sweeps, n_f)
        Measured S21 (linear).
    positions : numpy.ndarray, float64, shape (n_positions, 3), m
    freqs_hz : numpy.ndarray, float64, shape (n_f,), Hz
    paths : PathSet
        The noise-free multipath components behind the sweeps.
    name : str
    """

    ctf: np.ndarray
    positions: np.ndarray
    freqs_hz: np.ndarray
    paths: PathSet
    name: str


def simulate_ctf_environment(name: str, *, n_sweeps: int | None = None, max_order: int = 2,
                             snr: float | None = None, people=(), seed=0) -> CtfDataset:
    """VNA sweeps of one CTF-paper environment at all 196 grid positions.

    Parameters
    ----------
    name : one of :data:`CTF_ENVIRONMENTS`
    n_sweeps : int, optional
        Default 10 (paper 000).
    max_order : int
        Wall-reflection order.
    snr : float, optional
        Linear SNR; default the preset's.
    people : sequence of Person
        People standing in the room during the campaign (default: nobody, as in
        paper 000's static measurements).
    seed : int
        Draws the clutter and the measurement noise.
    """
    if name not in CTF_ENVIRONMENTS:
        raise ParameterError("name", f"one of {CTF_ENVIRONMENTS}", name)
    from wiloc_core.sim.sensors.vna import vna_sweeps

    g = make_rng(seed)
    p = preset(name, seed=g)
    scene = p.scene.with_people(people)
    paths = trace(scene, p.receivers, max_order=max_order)
    sweeps = vna_sweeps(paths, p.freqs_hz, n_sweeps=n_sweeps or p.settings["n_sweeps"],
                        snr=snr if snr is not None else p.settings["snr"], seed=g)
    return CtfDataset(sweeps, p.receivers, p.freqs_hz, paths, name)


def simulate_walk_csi(name: str = "lofi-room", *, duration_s: float | None = None,
                      rate_hz: float | None = None, max_order: int = 2, seed=0, **csi_kwargs):
    """A person walking in the preset's area, observed by the ESP32 as CSI.

    Returns
    -------
    frames : :class:`~wiloc_core.sim.sensors.csi.CsiFrames`
    t_s : numpy.ndarray, float64, shape (n_packets,), s
        Nominal packet times.
    xy : numpy.ndarray, float64, shape (n_packets, 2), m
        The person's position at each packet (ground truth, lost packets included).
    """
    from wiloc_core.sim.sensors.csi import esp32_csi
    from wiloc_core.sim.trajectory import random_walk

    p = preset(name, seed=seed)
    if p.walk_area is None:
        raise ParameterError("name", "a preset with a walking area (e.g. 'lofi-room')", name)
    g = make_rng(seed)
    rate = rate_hz or p.settings["rate_hz"]
    t_s, xy = random_walk(p.walk_area, duration_s or p.settings["duration_s"], rate, seed=g)
    scene = p.scene.with_people([p.person.moved(*xy[0])])
    paths = trace(scene, p.receivers[0], max_order=max_order, people_xy=xy[:, None, :])
    kwargs = {k: p.settings[k] for k in ("fmt", "loss_rate", "mean_burst", "snr")}
    kwargs.update(csi_kwargs)
    frames = esp32_csi(paths, rate_hz=rate, seed=g, **kwargs)
    return frames, t_s, xy


def displacement_correlation(name: str, displacements_m, *, n_refs: int = 8, max_order: int = 2,
                             seed=0):
    """How fast the CTF changes when the receiver moves by Delta.

    For ``n_refs`` reference points drawn on the preset's receiver grid, the receiver is
    moved by each displacement along +x and +y, and two similarity measures of the
    reference CTF H_0 and the moved CTF H_Delta over the sweep band are averaged over
    references and directions:

    - shape correlation, blind to a common phase (what amplitude-only or
      phase-sanitised features see):
      :math:`\\rho = |\\langle \\tilde H_0, \\tilde H_\\Delta\\rangle| /
      (\\|\\tilde H_0\\| \\|\\tilde H_\\Delta\\|)`
      with each CTF's frequency mean removed;
    - relative change of the complex CTF (what a phase-coherent VNA sees):
      :math:`\\epsilon = \\|H_\\Delta - H_0\\|^2 / \\|H_0\\|^2`,
      to be compared with 2 / SNR, the same quantity between two noisy sweeps at one
      position.

    Parameters
    ----------
    name : str
        A preset with a receiver grid (the CTF environments).
    displacements_m : array_like, shape (n_d,), m
    n_refs : int
    max_order : int
    seed : int

    Returns
    -------
    rho : numpy.ndarray, float64, shape (n_d,)
        Mean shape correlation (1 at zero displacement).
    change : numpy.ndarray, float64, shape (n_d,)
        Mean relative change epsilon (0 at zero displacement).
    """
    from wiloc_core.sim.channel import ctf

    g = make_rng(seed)
    p = preset(name, seed=seed)
    refs = p.receivers[g.choice(len(p.receivers), size=n_refs, replace=False)]
    d = np.asarray(displacements_m, dtype=float)
    moves = np.concatenate([np.column_stack([d, 0 * d, 0 * d]), np.column_stack([0 * d, d, 0 * d])])
    points = (refs[:, None, :] + moves[None]).reshape(-1, 3)
    H_ref = ctf(trace(p.scene, refs, max_order=max_order), p.freqs_hz)
    H = ctf(trace(p.scene, points, max_order=max_order), p.freqs_hz).reshape(n_refs, len(moves), -1)

    def centred(x):
        x = x - x.mean(axis=-1, keepdims=True)
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    rho = np.abs(np.einsum("rf,rmf->rm", centred(H_ref).conj(), centred(H)))
    change = (np.sum(np.abs(H - H_ref[:, None]) ** 2, axis=-1)
              / np.sum(np.abs(H_ref) ** 2, axis=-1)[:, None])
    shape = (n_refs, 2, len(d))
    return rho.reshape(shape).mean(axis=(0, 1)), change.reshape(shape).mean(axis=(0, 1))

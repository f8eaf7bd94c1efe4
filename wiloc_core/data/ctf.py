"""CTF fingerprint datasets of AlHajri et al. (paper 000): real files and simulated stand-ins.

One *sample* is one VNA sweep at one grid position: the channel transfer function
(CTF) at 601 frequency points, stored for the CNN as a 601 x 2 real matrix (real part,
imaginary part; paper 000 §III-A) with the position (x, y) in cm as its label.

Array layout of a real-measurement file (``.npz``)
---------------------------------------------------
A file holds one or several environments measured on the same kind of grid:

``ctf``
    complex64 or complex128, shape ``[n_env, n_positions, n_sweeps, n_freq]``, or
    ``[n_positions, n_sweeps, n_freq]`` for a single environment: S21 as measured
    (linear, not dB).
``positions_cm``
    float, shape ``[n_env, n_positions, 2]`` (or ``[n_positions, 2]``): the (x, y)
    position of each grid point in cm, in any fixed frame of the environment.
``environments``
    unicode strings (NumPy ``<U`` dtype, never object), shape ``[n_env]`` (or a
    scalar string): environment names, e.g. ``"Lab"``, ``"Narrow Corridor"``,
    ``"Lobby"``, ``"Sports Hall"``.
``freqs_hz``
    optional float, shape ``[n_freq]``: the sweep frequencies, strictly increasing.

Everything must be finite. Files are read with ``np.load(..., allow_pickle=False)``;
a layout error raises :class:`~wiloc_core.errors.DataFormatError` naming the file,
the field and what was expected. :func:`write_ctf_npz` writes this layout (e.g. from a
converter of the UCI files, or from simulated campaigns).

The UCI / IEEE DataPort measurements of the paper are not bundled; without them the
book uses :func:`simulate_ctf_dataset`, which runs the radio-scene simulator
(:mod:`wiloc_core.sim`) on the four environment presets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wiloc_core.errors import DataFormatError, ParameterError

__all__ = [
    "ENVIRONMENTS",
    "PRESET_OF",
    "CtfData",
    "ctf_to_real",
    "from_campaign",
    "simulate_ctf_dataset",
    "read_ctf_npz",
    "write_ctf_npz",
    "load_ctf",
    "SPLIT_KINDS",
    "CtfSplit",
    "make_split",
]

#: Paper 000's environment names (Table I rows), in the paper's order.
ENVIRONMENTS = ("Lab", "Narrow Corridor", "Lobby", "Sports Hall")
#: Simulator preset of each environment.
PRESET_OF = {"Lab": "laboratory", "Narrow Corridor": "narrow-corridor", "Lobby": "lobby",
             "Sports Hall": "sports-hall"}


@dataclass(frozen=True)
class CtfData:
    """All sweeps of one environment, flattened to samples.

    Attributes
    ----------
    X : numpy.ndarray, float32, shape [n, n_freq, 2]
        CTF of each sweep: ``X[..., 0]`` real part, ``X[..., 1]`` imaginary part.
    y : numpy.ndarray, float64, shape [n, 2], cm
        Position (x, y) of each sample.
    position_id : numpy.ndarray, int64, shape [n]
        Grid-position index 0..n_positions-1 (sweeps of one position share it).
    sweep : numpy.ndarray, int64, shape [n]
        Sweep index 0..n_sweeps-1 at that position.
    environment : str
    source_kind : {"real", "simulated"}
    note : str
        Where the data came from.
    """

    X: np.ndarray
    y: np.ndarray
    position_id: np.ndarray
    sweep: np.ndarray
    environment: str
    source_kind: str
    note: str = ""

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_positions(self) -> int:
        return int(np.unique(self.position_id).size)


def ctf_to_real(ctf) -> np.ndarray:
    """Complex CTFs [..., n_freq] -> float32 [..., n_freq, 2] (real, imaginary)."""
    ctf = np.asarray(ctf)
    return np.stack([ctf.real, ctf.imag], axis=-1).astype(np.float32)


def from_campaign(ctf, positions_cm, environment: str, *, source_kind: str,
                  note: str = "") -> CtfData:
    """Flatten a campaign ``[n_positions, n_sweeps, n_freq]`` to one sample per sweep.

    Parameters
    ----------
    ctf : array_like, complex, shape [n_positions, n_sweeps, n_freq]
    positions_cm : array_like, float, shape [n_positions, 2], cm
    environment : str
    source_kind : {"real", "simulated"}

    Returns
    -------
    CtfData
        Samples ordered position-major (all sweeps of position 0 first).
    """
    ctf = np.asarray(ctf)
    pos = np.asarray(positions_cm, dtype=np.float64)
    if ctf.ndim != 3:
        raise ParameterError("ctf", "shape [n_positions, n_sweeps, n_freq]", ctf.shape)
    if pos.shape != (ctf.shape[0], 2):
        raise ParameterError("positions_cm", f"shape ({ctf.shape[0]}, 2)", pos.shape)
    n_pos, n_sweeps, _ = ctf.shape
    pid = np.repeat(np.arange(n_pos, dtype=np.int64), n_sweeps)
    sweep = np.tile(np.arange(n_sweeps, dtype=np.int64), n_pos)
    X = ctf_to_real(ctf.reshape(n_pos * n_sweeps, -1))
    return CtfData(X, pos[pid], pid, sweep, environment, source_kind, note)


def simulate_ctf_dataset(environment: str, n_sweeps: int = 10, seed=0, *, max_order: int = 2,
                         snr: float | None = None) -> CtfData:
    """Simulated VNA campaign of one paper-000 environment (196 positions x n_sweeps).

    Runs :func:`wiloc_core.sim.presets.simulate_ctf_environment` on the preset of
    ``environment`` (see :data:`PRESET_OF`): 14 x 14 grid with 12.5 cm spacing,
    601 points over 100 MHz at 2.4 GHz, repeated noisy sweeps. Labels are the grid
    positions in cm relative to the grid's first corner, so they run from 0 to
    162.5 cm on both axes.

    Parameters
    ----------
    environment : one of :data:`ENVIRONMENTS`
    n_sweeps : int, default 10
        Sweeps per position (paper: 10).
    seed : int or numpy.random.Generator
        Draws the scene's clutter and the measurement noise.
    max_order : int, default 2
        Wall-reflection order of the image method.
    snr : float, optional
        Linear SNR per frequency point; the preset's default when None.

    Returns
    -------
    CtfData
        ``X`` float32 [196 * n_sweeps, 601, 2], ``y`` float64 [n, 2] cm,
        ``source_kind = "simulated"``.
    """
    if environment not in PRESET_OF:
        raise ParameterError("environment", f"one of {ENVIRONMENTS}", environment)
    if not isinstance(n_sweeps, int | np.integer) or n_sweeps < 1:
        raise ParameterError("n_sweeps", "a positive integer", n_sweeps)
    from wiloc_core.sim.presets import simulate_ctf_environment

    campaign = simulate_ctf_environment(PRESET_OF[environment], n_sweeps=int(n_sweeps),
                                        max_order=max_order, snr=snr, seed=seed)
    xy_m = np.asarray(campaign.positions, dtype=np.float64)[:, :2]
    positions_cm = 100.0 * (xy_m - xy_m.min(axis=0))
    note = (f"simulated: preset '{PRESET_OF[environment]}', {n_sweeps} sweeps, "
            f"reflection order {max_order}, seed {seed if isinstance(seed, int) else 'generator'}")
    return from_campaign(campaign.ctf, positions_cm, environment, source_kind="simulated",
                         note=note)


# --------------------------------------------------------------------------- .npz files
def write_ctf_npz(path, ctf, positions_cm, environments, freqs_hz=None) -> Path:
    """Write campaigns in the documented ``.npz`` layout (see the module docstring).

    Parameters
    ----------
    path : str or path-like
    ctf : array_like, complex, shape [n_env, n_positions, n_sweeps, n_freq]
    positions_cm : array_like, float, shape [n_env, n_positions, 2], cm
    environments : sequence of str, length n_env
    freqs_hz : array_like, float, shape [n_freq], optional
    """
    path = Path(path)
    arrays = {"ctf": np.asarray(ctf), "positions_cm": np.asarray(positions_cm, dtype=np.float64),
              "environments": np.asarray([str(e) for e in environments], dtype=str)}
    if freqs_hz is not None:
        arrays["freqs_hz"] = np.asarray(freqs_hz, dtype=np.float64)
    np.savez(path, **arrays)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def _field(data, path, name, required=True):
    if name not in data.files:
        if required:
            raise DataFormatError(path, name, "a field of that name",
                                  f"fields {sorted(data.files)}")
        return None
    try:
        return data[name]
    except ValueError as exc:  # object arrays need pickle, which we refuse
        raise DataFormatError(path, name, "a numeric or unicode array (no Python objects)",
                              str(exc)) from exc


def read_ctf_npz(path) -> dict[str, CtfData]:
    """Read a CTF measurement file in the documented ``.npz`` layout.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        Environment name -> :class:`CtfData` with ``source_kind = "real"``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataFormatError
        If a field is missing, has the wrong dtype, shape or non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: CTF measurement file not found")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataFormatError(path, "file", "a NumPy .npz archive", str(exc)) from exc
    if not hasattr(data, "files"):
        raise DataFormatError(path, "file", "a NumPy .npz archive", "a single .npy array")
    with data:
        ctf = _field(data, path, "ctf")
        pos = _field(data, path, "positions_cm")
        names = _field(data, path, "environments")
        freqs = _field(data, path, "freqs_hz", required=False)
    return _validated(path, ctf, pos, names, freqs)


def _validated(path, ctf, pos, names, freqs) -> dict[str, CtfData]:
    if not np.iscomplexobj(ctf):
        raise DataFormatError(path, "ctf", "a complex array (complex64 or complex128)",
                              f"dtype {ctf.dtype}")
    if ctf.ndim == 3:
        ctf, pos, names = ctf[None], (pos[None] if pos.ndim == 2 else pos), np.atleast_1d(names)
    if ctf.ndim != 4:
        raise DataFormatError(path, "ctf", "shape [n_env, n_positions, n_sweeps, n_freq]",
                              f"shape {ctf.shape}")
    n_env, n_pos, n_sweeps, n_freq = ctf.shape
    if min(ctf.shape) < 1:
        raise DataFormatError(path, "ctf", "no empty dimension", f"shape {ctf.shape}")
    if not np.all(np.isfinite(ctf)):
        raise DataFormatError(path, "ctf", "finite values", "NaN or inf")
    if pos.dtype.kind not in "fiu" or pos.shape != (n_env, n_pos, 2):
        raise DataFormatError(path, "positions_cm", f"a real array of shape ({n_env}, {n_pos}, 2)",
                              f"dtype {pos.dtype}, shape {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise DataFormatError(path, "positions_cm", "finite values", "NaN or inf")
    names = np.atleast_1d(names)
    if names.dtype.kind != "U" or names.shape != (n_env,):
        raise DataFormatError(path, "environments", f"{n_env} unicode strings",
                              f"dtype {names.dtype}, shape {names.shape}")
    if len(set(names.tolist())) != n_env:
        raise DataFormatError(path, "environments", "distinct names", str(names.tolist()))
    if freqs is not None:
        if freqs.shape != (n_freq,) or freqs.dtype.kind != "f" or not np.all(np.diff(freqs) > 0):
            raise DataFormatError(path, "freqs_hz",
                                  f"{n_freq} strictly increasing frequencies (float)",
                                  f"dtype {freqs.dtype}, shape {freqs.shape}")
    return {str(name): from_campaign(ctf[e], pos[e], str(name), source_kind="real",
                                     note=f"measured: {path.name}")
            for e, name in enumerate(names.tolist())}


def load_ctf(environments, source: str = "simulated", *, n_sweeps: int = 10, seed=0,
             max_order: int = 2) -> dict[str, CtfData]:
    """Load the named environments from a real file or the simulator.

    Parameters
    ----------
    environments : sequence of str
        Environment names (as in the file, or :data:`ENVIRONMENTS` for simulation).
    source : "simulated" or path to a ``.npz`` file
    n_sweeps, seed, max_order
        Simulation settings (ignored for real files). Each environment is
        simulated with its own seed, ``seed * 100 + index in ENVIRONMENTS``.

    Returns
    -------
    dict
        Name -> :class:`CtfData`, in the order asked.
    """
    environments = list(environments)
    if source == "simulated":
        unknown = [env for env in environments if env not in PRESET_OF]
        if unknown:
            raise ParameterError("environments", f"names from {ENVIRONMENTS}", unknown)
        return {env: simulate_ctf_dataset(env, n_sweeps, seed=int(seed) * 100
                                          + ENVIRONMENTS.index(env), max_order=max_order)
                for env in environments}
    found = read_ctf_npz(source)
    missing = [env for env in environments if env not in found]
    if missing:
        raise DataFormatError(source, "environments", f"the environments {missing}",
                              f"{sorted(found)}")
    return {env: found[env] for env in environments}


# --------------------------------------------------------------------------- splits
SPLIT_KINDS = ("sample", "position")


@dataclass(frozen=True)
class CtfSplit:
    """Sample indices of one environment's train/validation/test split.

    Attributes
    ----------
    train : numpy.ndarray, int64, shape [n_train]
        The training pool (75 % of the data): labelled subsets are drawn from it and
        the rest of it is the unlabelled pool of the semi-supervised stages.
    val : numpy.ndarray, int64
        Validation samples (model selection only), taken from the held-out 25 %.
    test : numpy.ndarray, int64
        Test samples (reported RMSE), the rest of the held-out 25 %.
    order : numpy.ndarray, int64, shape [n_train]
        The training pool in drawing order: the labelled subset of size n is
        ``order[:n]``, so smaller subsets are nested in larger ones.
    n_total : int
        Samples of the environment; a training fraction f labels ``round(f n_total)``.
    kind : {"sample", "position"}
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    order: np.ndarray
    n_total: int
    kind: str

    def n_labelled(self, fraction: float) -> int:
        """round(fraction x n_total), checked against the pool size."""
        fraction = float(fraction)
        n = int(round(fraction * self.n_total))
        if not 0 < fraction <= 1 or n < 2 or n > self.train.size:
            raise ParameterError("fraction", f"a training fraction giving 2..{self.train.size} "
                                 f"labelled samples of {self.n_total}", fraction)
        return n

    def labelled(self, fraction: float) -> np.ndarray:
        """Indices of the labelled training subset of that fraction of all data."""
        return np.sort(self.order[:self.n_labelled(fraction)])

    def unlabelled(self, fraction: float) -> np.ndarray:
        """The rest of the training pool: candidates for pseudo-labels (never val/test)."""
        return np.sort(self.order[self.n_labelled(fraction):])


def _stratified_take(groups: np.ndarray, fraction: float, g: np.random.Generator) -> np.ndarray:
    """Boolean mask taking ``round(fraction n)`` samples, as evenly as possible per group.

    Each group's members get a random rank 0, 1, ...; samples are taken in order of
    (rank / group size, random tie-break), so every group gives ``fraction`` of its
    members up to one sample.
    """
    n = groups.size
    rank = np.empty(n, dtype=float)
    for gid in np.unique(groups):
        members = np.flatnonzero(groups == gid)
        rank[g.permutation(members)] = np.arange(members.size) / members.size
    key = np.lexsort((g.random(n), rank))
    mask = np.zeros(n, dtype=bool)
    mask[key[:int(round(fraction * n))]] = True
    return mask


def make_split(position_id, *, kind: str = "sample", test_fraction: float = 0.25,
               val_fraction: float = 0.2, seed=0) -> CtfSplit:
    """The paper's 75 / 25 split (§II-D), with a validation part and nested subsets.

    ``kind="sample"`` (the paper's reading): sweeps are split, stratified by grid
    position, so every position keeps about 75 % of its sweeps in training and
    test positions also appear in training. ``kind="position"``: whole positions
    are held out (25 % of the 196 positions), so the test asks for positions never
    seen in training.

    The held-out part is split again, ``val_fraction`` of it (by position for
    ``kind="position"``) for validation and the rest for test. The training pool is
    put in one random drawing order, so the labelled subsets of 50, 30, 15, 10, 5 and
    2.5 % are nested (each contains the smaller ones).

    Parameters
    ----------
    position_id : array_like, int, shape [n]
    kind : {"sample", "position"}
    test_fraction : float in (0, 1), default 0.25
    val_fraction : float in [0, 1), default 0.2
        Share of the held-out part used for validation.
    seed : int or numpy.random.Generator

    Returns
    -------
    CtfSplit
    """
    from wiloc_core.seeding import rng

    pid = np.asarray(position_id)
    if pid.ndim != 1 or pid.size < 4:
        raise ParameterError("position_id", "a 1-D array of at least 4 samples", pid.shape)
    if kind not in SPLIT_KINDS:
        raise ParameterError("kind", f"one of {SPLIT_KINDS}", kind)
    if not 0 < test_fraction < 1:
        raise ParameterError("test_fraction", "a fraction in (0, 1)", test_fraction)
    if not 0 <= val_fraction < 1:
        raise ParameterError("val_fraction", "a fraction in [0, 1)", val_fraction)
    g = rng(seed)
    if kind == "sample":
        held = _stratified_take(pid, test_fraction, g)
        held_idx = np.flatnonzero(held)
        is_val = _stratified_take(pid[held_idx], val_fraction, g)
    else:
        positions = np.unique(pid)
        held_pos = g.permutation(positions)[:int(round(test_fraction * positions.size))]
        held = np.isin(pid, held_pos)
        held_idx = np.flatnonzero(held)
        val_pos = g.permutation(np.sort(held_pos))[:int(round(val_fraction * held_pos.size))]
        is_val = np.isin(pid[held_idx], val_pos)
    train = np.flatnonzero(~held)
    return CtfSplit(train=train, val=np.sort(held_idx[is_val]), test=np.sort(held_idx[~is_val]),
                    order=g.permutation(train), n_total=int(pid.size), kind=kind)

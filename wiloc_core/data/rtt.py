"""Reader for the WiFi RSS & RTT dataset of Feng, Nguyen and Luo (2024).

Files: ``database_<room>_<split>.csv`` for rooms ``lecture_theatre``, ``corridor``
and ``office``, plus ``AP_positions.txt``. CSV columns: ``X, Y``, ``AP1 RTT(mm)`` ..
``AP5 RTT(mm)``, ``AP1 RSS(dBm)`` .. ``AP5 RSS(dBm)``, ``LOS APs`` (space-separated
AP numbers). ``100000`` mm means no FTM response, ``-200`` dBm means not heard.

Units of X, Y and of the AP positions (checked on the real files)
------------------------------------------------------------------
They are **survey-grid indices, 0.6 m per unit**, not metres:

- every X, Y value is a whole number (lecture theatre 0..18 x 0..23, office
  0..27 x 0..7, corridor 0..56 x 0..1); times 0.6 m this gives 10.8 x 13.8 m,
  16.2 x 4.2 m and 33.6 x 0.6 m, inside the published room sizes (15 x 14.5 m,
  18 x 5.5 m, 35 x 6 m), while read as metres the corridor would be 56 m long;
- the "RTT(mm)" values are one-way FTM range estimates. Regressing them on the
  distance to each AP with 0.6 m per unit gives slopes 0.93-1.25 and median
  absolute differences of 0.55-1.0 m in the lecture theatre and office (1.0-1.8 m
  in the all-NLOS corridor); with 1 m per unit the slopes drop to 0.56-0.78 and the
  median differences grow to 3-8 m.

The reader therefore multiplies X, Y and the AP positions by :data:`GRID_M` = 0.6.

Corridor columns
----------------
In the corridor files the ``AP1`` columns hold only sentinels and the four APs of
``AP_positions.txt`` are in columns ``AP2`` .. ``AP5`` (the identity mapping in that
order fits best of all 24 assignments). The reader drops columns that hold only
sentinels when the room has fewer AP positions than columns, and keeps the original
column numbers in :attr:`RttSet.ap_columns`.

Line of sight: every reference point of the lecture theatre sees all 5 APs; no
corridor reference point has a LOS AP (``LOS APs`` is empty); the office is mixed.
Negative ranges occur near APs in LOS rooms (down to about -1 m, plus one outlier of
-10.6 m in ``database_office_test.csv``): they are real readings and are kept; the
reader only rejects ranges outside [-50, 100) m.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wiloc_core.errors import DataFormatError, DatasetNotFoundError, ParameterError

from .csv_table import read_csv_table

GRID_M = 0.6
"""Metres per unit of the X, Y columns and of AP_positions.txt."""

RTT_NO_RESPONSE_MM = 100000.0
RSS_NOT_HEARD_DBM = -200.0
RTT_VALID_MM = (-50000.0, RTT_NO_RESPONSE_MM)
RSS_VALID_DBM = (-120.0, 0.0)
ROOMS = ("lecture_theatre", "corridor", "office")
_FILE = re.compile(r"database_(?P<room>.+?)_(?P<split>train|test)(?:_\d+)?$")
_AP_COLUMN = re.compile(r"^AP(\d+) (RTT\(mm\)|RSS\(dBm\))$")


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class RttSet:
    """RTT and RSS scans of one room and split.

    Attributes
    ----------
    xy : ndarray, float64, shape (n, 2)
        Reference point of each scan, metres.
    rtt_m : ndarray, float64, shape (n, n_ap)
        FTM range estimate, metres; NaN where the AP did not respond.
    rss_dbm : ndarray, float64, shape (n, n_ap)
        RSS in dBm; NaN where the AP was not heard.
    los : ndarray, bool, shape (n, n_ap)
        True where the AP is in line of sight of the reference point.
    ap_xy : ndarray, float64, shape (n_ap, 2)
        AP positions in metres (NaN when no positions were given).
    room : str
        ``"lecture_theatre"``, ``"corridor"`` or ``"office"``.
    split : str
        ``"train"`` or ``"test"`` (empty when unknown).
    source : str
        File path.
    ap_columns : tuple of int
        CSV AP number (1-based) of each of the ``n_ap`` columns kept.
    """

    xy: np.ndarray
    rtt_m: np.ndarray
    rss_dbm: np.ndarray
    los: np.ndarray
    ap_xy: np.ndarray
    room: str
    split: str
    source: str
    ap_columns: tuple

    def __post_init__(self):
        for key in ("xy", "rtt_m", "rss_dbm", "los", "ap_xy"):
            getattr(self, key).flags.writeable = False

    @property
    def n_samples(self) -> int:
        """Number of scans (rows)."""
        return int(self.xy.shape[0])

    @property
    def n_aps(self) -> int:
        """Number of access points kept."""
        return int(self.rtt_m.shape[1])

    @property
    def reference_points(self) -> np.ndarray:
        """Distinct reference points, float64 metres, shape (n_rp, 2), sorted."""
        return np.unique(self.xy, axis=0)

    @property
    def true_range_m(self) -> np.ndarray:
        """Geometric distance from each scan's reference point to each AP (2-D), metres, (n, n_ap)."""
        return np.linalg.norm(self.xy[:, None, :] - self.ap_xy[None, :, :], axis=2)

    def __repr__(self) -> str:
        return (f"RttSet(room={self.room!r}, split={self.split!r}, n_samples={self.n_samples}, "
                f"n_aps={self.n_aps}, ap_columns={self.ap_columns})")


def _room_key(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip().lower())


def _numbers(path, field: str, text: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in text.split(",")], dtype=np.float64)
    except ValueError as exc:
        raise DataFormatError(path, field, "comma-separated numbers", repr(text.strip())) from exc


def read_ap_positions(path) -> dict[str, np.ndarray]:
    """Read ``AP_positions.txt``: blocks of ``<room>``, ``AP X: ...``, ``AP Y: ...``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to ndarray, float64, shape (n_ap, 2)
        Positions in **grid units** (multiply by :data:`GRID_M` for metres), keyed by
        room name with spaces turned into ``_`` (``"lecture_theatre"``).

    Raises
    ------
    DataFormatError
        A block without its ``AP X`` or ``AP Y`` line, non-numeric values, X and Y
        of different lengths, or no block at all.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, "(file)", "UTF-8 text", "binary data") from exc
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    rooms: dict[str, np.ndarray] = {}
    for block in blocks:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        room = _room_key(lines[0])
        axes = {}
        for line in lines[1:]:
            match = re.match(r"^AP\s*([XY])\s*:(.*)$", line)
            if match is None:
                raise DataFormatError(path, f"{room}", "lines 'AP X: ...' and 'AP Y: ...'", repr(line))
            axes[match.group(1)] = _numbers(path, f"{room}: AP {match.group(1)}", match.group(2))
        for axis in "XY":
            if axis not in axes:
                raise DataFormatError(path, f"{room}: AP {axis}", f"a line 'AP {axis}: v1, v2, ...'", "none")
        if axes["X"].size != axes["Y"].size:
            raise DataFormatError(path, f"{room}: AP Y", f"{axes['X'].size} values (as many as AP X)",
                                  f"{axes['Y'].size}")
        rooms[room] = np.column_stack([axes["X"], axes["Y"]])
    if not rooms:
        raise DataFormatError(path, "(file)", "at least one room block")
    return rooms


def _ap_numbers(path, columns) -> list[int]:
    numbers = {}
    for column in columns:
        match = _AP_COLUMN.match(str(column))
        if match:
            numbers.setdefault(int(match.group(1)), set()).add(match.group(2))
    if not numbers:
        raise DataFormatError(path, "AP1 RTT(mm)", "columns 'APk RTT(mm)' and 'APk RSS(dBm)'", "none")
    for k in sorted(numbers):
        for kind in ("RTT(mm)", "RSS(dBm)"):
            if kind not in numbers[k]:
                raise DataFormatError(path, f"AP{k} {kind}", f"a column named 'AP{k} {kind}'", "no such column")
    return sorted(numbers)


def _numeric_block(path, frame, columns, valid, sentinel) -> np.ndarray:
    import pandas as pd  # lazy

    block = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    low, high = valid
    bad = ~((block == sentinel) | ((block >= low) & (block < high)))
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataFormatError(path, columns[col], f"numbers in [{low:g}, {high:g}) or the sentinel {sentinel:g}",
                              f"{frame[columns[col]].iloc[row]!r} at row {row}")
    return block


def _los_matrix(path, values, ap_numbers: list[int]) -> np.ndarray:
    index = {k: i for i, k in enumerate(ap_numbers)}
    los = np.zeros((len(values), len(ap_numbers)), dtype=bool)
    for row, cell in enumerate(values):
        text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        for token in text.split():
            number = int(token) if token.isdigit() else None
            if number not in index:
                raise DataFormatError(path, "LOS APs", f"space-separated AP numbers from {ap_numbers}",
                                      f"{text!r} at row {row}")
            los[row, index[number]] = True
    return los


def _columns_to_keep(path, rtt, rss, n_positions: int | None, ap_numbers, room) -> list[int]:
    if n_positions is None or n_positions == len(ap_numbers):
        return list(range(len(ap_numbers)))
    used = [i for i in range(len(ap_numbers))
            if not (np.all(rtt[:, i] == RTT_NO_RESPONSE_MM) and np.all(rss[:, i] == RSS_NOT_HEARD_DBM))]
    if len(used) != n_positions:
        raise DataFormatError(path, "AP columns",
                              f"{n_positions} AP columns with data (as many as AP positions of '{room}')",
                              f"{len(used)} columns with data: AP{[ap_numbers[i] for i in used]}")
    return used


def room_and_split(path) -> tuple[str, str] | None:
    """Room and split named by a data file of this dataset, or ``None``.

    Parameters
    ----------
    path : str or Path
        ``database_<room>_<split>.csv``, optionally with a ``_<n>`` suffix after the split.

    Returns
    -------
    (str, str) or None
        ``("office", "test")`` for ``database_office_test.csv``; ``None`` when the
        name does not follow the pattern.
    """
    match = _FILE.match(Path(path).stem)
    return (match.group("room"), match.group("split")) if match else None


def read_rtt_csv(path, ap_positions: np.ndarray | None = None, room: str | None = None,
                 split: str | None = None, grid_m: float = GRID_M) -> RttSet:
    """Read one RTT/RSS CSV of the Feng-Nguyen-Luo dataset.

    Parameters
    ----------
    path : str or Path
        ``database_<room>_<split>.csv``.
    ap_positions : ndarray, shape (n_ap, 2), optional
        AP positions of the room in grid units (from :func:`read_ap_positions`).
        When it has fewer rows than the file has AP columns, the columns holding
        only sentinels are dropped and the rest must match it in number.
    room, split : str, optional
        Inferred from the file name when omitted.
    grid_m : float, default 0.6
        Metres per X/Y unit (see the module docstring).

    Returns
    -------
    RttSet

    Raises
    ------
    DataFormatError
        A missing column (named), non-numeric or out-of-range values, a ``LOS APs``
        entry that is not an AP number, or AP columns that do not match the positions.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    named = room_and_split(path)
    room = room or (named[0] if named else path.stem)
    split = split if split is not None else (named[1] if named else "")
    frame = read_csv_table(path)
    for column in ("X", "Y", "LOS APs"):
        if column not in frame.columns:
            raise DataFormatError(path, column, f"a column named '{column}'", "no such column")
    numbers = _ap_numbers(path, frame.columns)
    xy = _numeric_block(path, frame, ["X", "Y"], (-1e6, 1e6), np.nan) * grid_m
    rtt = _numeric_block(path, frame, [f"AP{k} RTT(mm)" for k in numbers], RTT_VALID_MM, RTT_NO_RESPONSE_MM)
    rss = _numeric_block(path, frame, [f"AP{k} RSS(dBm)" for k in numbers], RSS_VALID_DBM, RSS_NOT_HEARD_DBM)
    los = _los_matrix(path, frame["LOS APs"].tolist(), numbers)
    n_positions = None if ap_positions is None else int(np.asarray(ap_positions).shape[0])
    keep = _columns_to_keep(path, rtt, rss, n_positions, numbers, room)
    dropped = [i for i in range(len(numbers)) if i not in keep]
    if dropped and los[:, dropped].any():
        raise DataFormatError(path, "LOS APs", "only APs with data", f"AP{numbers[dropped[0]]}, which has none")
    if ap_positions is None:
        ap_xy = np.full((len(keep), 2), np.nan)
    else:
        ap_xy = np.asarray(ap_positions, dtype=np.float64) * grid_m
    rtt, rss = rtt[:, keep], rss[:, keep]
    return RttSet(xy=xy, rtt_m=np.where(rtt == RTT_NO_RESPONSE_MM, np.nan, rtt / 1000.0),
                  rss_dbm=np.where(rss == RSS_NOT_HEARD_DBM, np.nan, rss), los=los[:, keep], ap_xy=ap_xy,
                  room=room, split=split, source=str(path), ap_columns=tuple(numbers[i] for i in keep))


def load_rtt(room: str, split: str, verify: bool = True) -> RttSet:
    """Load one room and split of the real RTT dataset, found via the manifest.

    Parameters
    ----------
    room : {"lecture_theatre", "corridor", "office"}
    split : {"train", "test"}
    verify : bool, default True
        Check both files' sha256.

    Raises
    ------
    DatasetNotFoundError
        A file is missing (the message says how to get it).
    ChecksumError, DataFormatError
    """
    from .resolve import locate

    room = _room_key(room)
    if room not in ROOMS:
        raise ParameterError("room", f"one of {ROOMS}", room)
    if split not in ("train", "test"):
        raise ParameterError("split", "'train' or 'test'", split)
    positions_file = locate("rtt_ap_positions", verify=verify).path
    positions = read_ap_positions(positions_file)
    if room not in positions:
        raise DataFormatError(positions_file, room, f"a block for room '{room}'", f"rooms {sorted(positions)}")
    data_file = locate(f"rtt_{room}_{split}", verify=verify).path
    return read_rtt_csv(data_file, ap_positions=positions[room], room=room, split=split)

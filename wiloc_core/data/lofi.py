"""Readers for the LoFi dataset's files (paper 002, §III and §IV-A).

An ESP32-S3 pings a router at about 100 Hz and logs the CSI of each reply; a webcam
gives the walking person's floor position at 26-30 Hz. Three file kinds exist:

``lofi-pickle``
    The processed pickles (``wiloc.pkl``, ``wiloc_linear.pkl``): a list with one dict
    per volunteer holding ``time`` (ESP32 local clock, µs), ``magnitude`` (n, 52),
    ``phase`` (n, 52, degrees), ``x`` and ``y`` (cm, floor corners (0, 0) and
    (180, 480)) and ``people`` (an id). Rows of −1000 ("pad") stand for packets
    counted as lost by eq. 4 and for CSI frames without a camera label.
    ``wiloc_linear.pkl`` fills the pad magnitudes by linear interpolation but keeps
    the pad phases. Read with :func:`read_lofi_pickle` through the restricted
    unpickler of :mod:`~wiloc_core.data.safe_pickle`.
``lofi-csv``
    The raw ESP32-CSI-Tool CSV with a header row: ``local_timestamp`` (ESP32 clock,
    µs), ``data`` (a bracketed list of 104 integers: 52 subcarriers, two int8 each)
    and, when the PC logger added it, ``timestamp`` (PC wall-clock date-time). Read
    with :func:`read_lofi_csv`.
``esp32-log``
    Header-less ESP32-CSI-Tool serial logs (lines starting ``CSI_DATA``), parsed by
    the optional ``csiread`` package: :func:`read_esp32_log`.

Byte-pair order
---------------
Espressif documents each subcarrier as two int8, **imaginary first**, then real. The
LoFi code and CSIKit read the **real part first**. The order is therefore a parameter
(``pair_order``). Swapping it maps ``z = a + jb`` to ``b + ja = j·conj(z)``: the
amplitude is unchanged and the phase ``φ`` becomes ``π/2 − φ``. LoFi's magnitude
features are the same either way; anything that uses phase is not. (The LoFi code
also pairs real ``a[2i]`` with imaginary ``a[2i−1]``, shifted by one; this reader
does not reproduce that.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wiloc_core.errors import DataFormatError, ParameterError, WilocError

from .csv_table import read_csv_table
from .safe_pickle import DEFAULT_MAX_BYTES, load_pickle

PAD = -1000.0
"""LoFi's marker for a lost packet or a frame without a position label."""
N_SUBCARRIERS = 52
"""HT20 subcarriers the ESP32-S3 reports in the LoFi CSV (104 int8 values)."""
PAIR_ORDERS = ("real_first", "imag_first")
LOCAL_CLOCK_S = 1e-6
"""Seconds per tick of the ESP32 ``local_timestamp`` (µs)."""
POSITION_UNIT_M = 0.01
"""Metres per unit of the pickle's ``x``/``y`` (cm)."""
KINDS = ("lofi-pickle", "lofi-csv", "esp32-log")
MAX_LIST_ELEMENTS = 100_000_000
"""Most numbers a pickle field stored as a Python list may hold (arrays are bounded by the file size)."""

_NUMBER_SPLIT = re.compile(r"[\s,]+")


class MissingDependencyError(WilocError, ImportError):
    """An optional package a reader needs is not installed."""


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class LofiRecording:
    """One CSI sequence (one volunteer, or one raw log).

    Attributes
    ----------
    timestamps_s : ndarray, float64, shape (n,)
        ESP32 local clock, seconds (the clock eq. 4 counts lost packets on).
    csi : ndarray, complex128, shape (n, n_sc)
        CSI per packet and subcarrier (n_sc = 52 for LoFi files); NaN in lost rows.
    positions_m : ndarray, float64, shape (n, 2), or None
        Floor position (x, y) in metres; NaN rows have no camera label. None for
        raw logs (no camera data).
    lost : ndarray, bool, shape (n,)
        True for rows that stand for packets lost on air (pads).
    source : str
        The file read.
    host_time_s : ndarray, float64, shape (n,), or None
        PC clock (POSIX seconds) when the file has one; camera frames share it (eq. 5).
    person : str or None
        Volunteer name or id (pickles only).
    """

    timestamps_s: np.ndarray
    csi: np.ndarray
    positions_m: np.ndarray | None
    lost: np.ndarray
    source: str
    host_time_s: np.ndarray | None = None
    person: str | None = None

    @property
    def n_samples(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        """bool (n,): rows with a finite position label (all False without positions)."""
        if self.positions_m is None:
            return np.zeros(self.n_samples, bool)
        return np.isfinite(self.positions_m).all(axis=1)


def pairs_to_complex(values, pair_order: str) -> np.ndarray:
    """Join interleaved int8 pairs into complex CSI.

    Parameters
    ----------
    values : array_like, shape (n, 2·n_sc)
        The raw numbers of each packet, pair ``(values[:, 2k], values[:, 2k+1])`` per
        subcarrier ``k``.
    pair_order : {"real_first", "imag_first"}
        Which of the two comes first (Espressif documents ``"imag_first"``).

    Returns
    -------
    ndarray, complex128, shape (n, n_sc)
    """
    if pair_order not in PAIR_ORDERS:
        raise ParameterError("pair_order", "'real_first' or 'imag_first'", pair_order)
    values = np.asarray(values, float)
    first, second = values[..., 0::2], values[..., 1::2]
    if pair_order == "real_first":
        return first + 1j * second
    return second + 1j * first


# --- processed pickle -------------------------------------------------------------


def _flat_count(value, ndim: int) -> int:
    """Elements of a nested list ``ndim`` deep; -1 when it nests deeper (a list can share sub-lists)."""
    if ndim == 0:
        return -1 if isinstance(value, (list, tuple, np.ndarray)) else 1
    if isinstance(value, np.ndarray):
        return value.size if value.ndim == ndim else -1
    if not isinstance(value, (list, tuple)):
        return -1
    total = 0
    for item in value:
        count = _flat_count(item, ndim - 1)
        if count < 0 or total + count > MAX_LIST_ELEMENTS:
            return -1
        total += count
    return total


def _numeric(path, field: str, value, ndim: int) -> np.ndarray:
    # A pickle can reference one sub-list many times, so a small file could ask
    # np.asarray for a huge array: check the nesting and size first.
    if isinstance(value, (list, tuple)) and _flat_count(value, ndim) < 0:
        raise DataFormatError(path, field, f"a {ndim}-D list of numbers with at most {MAX_LIST_ELEMENTS} elements",
                              "deeper nesting or more elements")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(path, field, f"a numeric {ndim}-D array",
                              f"{type(value).__name__} that is not numeric ({exc})") from None
    if array.ndim != ndim:
        raise DataFormatError(path, field, f"a {ndim}-D array", f"shape {array.shape}")
    return array


def _pads_to_nan(array: np.ndarray) -> np.ndarray:
    return np.where(array == PAD, np.nan, array)


def _pickle_entry(path, index: int, entry, n_subcarriers: int) -> LofiRecording:
    where = f"[{index}]"
    if not isinstance(entry, dict):
        raise DataFormatError(path, where, "a dict per volunteer", type(entry).__name__)
    for key in ("time", "magnitude"):
        if key not in entry:
            raise DataFormatError(path, f"{where}.{key}", "a key named " + repr(key),
                                  f"keys {sorted(map(str, entry))}")
    magnitude = _numeric(path, f"{where}.magnitude", entry["magnitude"], 2)
    n = magnitude.shape[0]
    if magnitude.shape[1] != n_subcarriers:
        raise DataFormatError(path, f"{where}.magnitude", f"{n_subcarriers} subcarriers per row",
                              f"shape {magnitude.shape}")
    time = _numeric(path, f"{where}.time", entry["time"], 1)
    if time.shape[0] != n or not np.isfinite(time).all():
        raise DataFormatError(path, f"{where}.time", f"{n} finite values (one per magnitude row)",
                              f"{time.shape[0]} values, {int((~np.isfinite(time)).sum())} not finite")
    lost = (magnitude == PAD).all(axis=1)
    phase_deg = np.zeros_like(magnitude)
    if "phase" in entry:
        phase_deg = _numeric(path, f"{where}.phase", entry["phase"], 2)
        if phase_deg.shape != magnitude.shape:
            raise DataFormatError(path, f"{where}.phase", f"shape {magnitude.shape}", f"{phase_deg.shape}")
        # wiloc_linear.pkl fills pad magnitudes but not pad phases: keep the amplitude.
        phase_deg = np.where(phase_deg == PAD, 0.0, phase_deg)
    csi = _pads_to_nan(magnitude) * np.exp(1j * np.deg2rad(phase_deg))
    positions = None
    if "x" in entry and "y" in entry:
        x, y = (_numeric(path, f"{where}.{key}", entry[key], 1) for key in ("x", "y"))
        if not x.shape[0] == y.shape[0] == n:
            raise DataFormatError(path, f"{where}.x/y", f"{n} values each (one per row)",
                                  f"{x.shape[0]} and {y.shape[0]}")
        positions = _pads_to_nan(np.column_stack([x, y])) * POSITION_UNIT_M
    person = entry.get("people_name", entry.get("people"))
    return LofiRecording(timestamps_s=time * LOCAL_CLOCK_S, csi=csi, positions_m=positions, lost=lost,
                         source=str(path), person=None if person is None else str(person))


def read_lofi_pickle(path, *, n_subcarriers: int = N_SUBCARRIERS,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> list[LofiRecording]:
    """Read a processed LoFi pickle (``wiloc.pkl`` or ``wiloc_linear.pkl``).

    Parameters
    ----------
    path : str or Path
    n_subcarriers : int, default 52
        Expected width of ``magnitude`` and ``phase``.
    max_bytes : int
        Size cap passed to :func:`~wiloc_core.data.safe_pickle.load_pickle`.

    Returns
    -------
    list of LofiRecording
        One per volunteer: ``timestamps_s`` from ``time`` (µs → s); ``csi =
        magnitude·exp(j·phase)`` with NaN rows where ``magnitude`` is all −1000
        (``lost``); pad phases with a filled magnitude are taken as 0; ``positions_m``
        from ``x``, ``y`` (cm → m), NaN where −1000.

    Raises
    ------
    UnsafePickleError
        The pickle names anything but containers and numpy arrays.
    DataFormatError
        Missing key, wrong shape or non-numeric values (field ``"[i].key"``).
    """
    path = Path(path)
    top = load_pickle(path, max_bytes=max_bytes)
    entries = [top] if isinstance(top, dict) else top
    if not isinstance(entries, (list, tuple)) or not entries:
        raise DataFormatError(path, "(top level)", "a non-empty list of per-volunteer dicts, or one dict",
                              type(top).__name__)
    return [_pickle_entry(path, i, entry, n_subcarriers) for i, entry in enumerate(entries)]


# --- raw CSV --------------------------------------------------------------------------


def _require_columns(path, frame, names) -> None:
    for name in names:
        if name not in frame.columns:
            raise DataFormatError(path, name, f"a column named '{name}'", f"columns {list(frame.columns)}")


def _parse_numbers(path, cell, line: int, width: int) -> list[float]:
    text = str(cell).strip().lstrip("[").rstrip("]").strip()
    tokens = [t for t in _NUMBER_SPLIT.split(text) if t]
    if len(tokens) != width:
        raise DataFormatError(path, "data", f"{width} numbers ({width // 2} subcarriers x 2) in each row",
                              f"{len(tokens)} on line {line}")
    try:
        numbers = [float(t) for t in tokens]
    except ValueError:
        raise DataFormatError(path, "data", "numbers only", f"{text[:40]!r} on line {line}") from None
    if not np.isfinite(numbers).all():
        raise DataFormatError(path, "data", "finite numbers", f"a non-finite value on line {line}")
    return numbers


def _local_clock(path, column, lines: np.ndarray) -> np.ndarray:
    import pandas as pd  # lazy

    ticks = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(ticks))
    if bad.size:
        raise DataFormatError(path, "local_timestamp", "a number (µs) in each row",
                              f"{column.iloc[bad[0]]!r} on line {lines[bad[0]]}")
    return ticks * LOCAL_CLOCK_S


def _host_clock(path, column) -> np.ndarray:
    import pandas as pd  # lazy

    try:
        stamps = pd.to_datetime(column, format="mixed")
    except (ValueError, TypeError) as exc:
        raise DataFormatError(path, "timestamp", "a date-time in each row",
                              str(exc).splitlines()[0] if str(exc) else "unparseable") from None
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert(None)
    return (stamps - pd.Timestamp(0)).dt.total_seconds().to_numpy(dtype=float)


def read_lofi_csv(path, *, pair_order: str = "imag_first", n_subcarriers: int = N_SUBCARRIERS,
                  drop_incomplete: bool = False) -> LofiRecording:
    """Read a raw LoFi / ESP32-CSI-Tool CSV with a header row.

    Parameters
    ----------
    path : str or Path
    pair_order : {"imag_first", "real_first"}, default "imag_first"
        Order of the two int8 of each subcarrier in ``data``: Espressif's documented
        order is ``"imag_first"``; the LoFi code and CSIKit use ``"real_first"``.
    n_subcarriers : int, default 52
        ``data`` must hold ``2·n_subcarriers`` numbers per row.
    drop_incomplete : bool, default False
        Drop rows with an empty ``local_timestamp`` or ``data`` (a log cut off mid-line;
        the LoFi code drops them) instead of raising.

    Returns
    -------
    LofiRecording
        ``csi`` (n, n_subcarriers); ``timestamps_s`` = ``local_timestamp`` · 1e-6;
        ``host_time_s`` from ``timestamp`` when present; ``positions_m`` None; no row
        lost (eq. 4 finds the gaps: :mod:`wiloc_core.methods.lofi_align`).

    Raises
    ------
    DataFormatError
        Missing column, a row whose ``data`` does not hold ``2·n_subcarriers``
        numbers, or a non-numeric value; the message names the file, column and line.
    """
    if pair_order not in PAIR_ORDERS:
        raise ParameterError("pair_order", "'real_first' or 'imag_first'", pair_order)
    path = Path(path)
    frame = read_csv_table(path)
    _require_columns(path, frame, ("local_timestamp", "data"))
    empty = frame[["local_timestamp", "data"]].isna().any(axis=1).to_numpy()
    if empty.any() and not drop_incomplete:
        raise DataFormatError(path, "local_timestamp" if frame["local_timestamp"].isna().any() else "data",
                              "a value in every row (or drop_incomplete=True)",
                              f"an empty cell on line {int(np.flatnonzero(empty)[0]) + 2}")
    lines = np.flatnonzero(~empty) + 2  # header is line 1
    frame = frame.loc[~empty]
    if frame.empty:
        raise DataFormatError(path, "data", "at least one row", "none")
    width = 2 * n_subcarriers
    raw = np.array([_parse_numbers(path, cell, int(line), width)
                    for cell, line in zip(frame["data"], lines, strict=True)])
    host = _host_clock(path, frame["timestamp"]) if "timestamp" in frame.columns else None
    return LofiRecording(timestamps_s=_local_clock(path, frame["local_timestamp"], lines),
                         csi=pairs_to_complex(raw, pair_order), positions_m=None,
                         lost=np.zeros(len(frame), bool), source=str(path), host_time_s=host)


# --- ESP32-CSI-Tool serial logs via csiread ----------------------------------------


def read_esp32_log(path, *, pair_order: str = "imag_first", max_values: int = 128) -> LofiRecording:
    """Read a header-less ESP32-CSI-Tool log (``CSI_DATA,...`` lines) with ``csiread``.

    Parameters
    ----------
    path : str or Path
    pair_order : {"imag_first", "real_first"}, default "imag_first"
        As in :func:`read_lofi_csv`. (``csiread`` itself assumes imaginary first; the
        raw pairs are recovered from its output and re-joined in the order asked for.)
    max_values : int, default 128
        ``csiread``'s ``maxlen``: with 128, every row must hold the same count of
        numbers; other values make ``csiread`` zero-pad shorter rows.

    Returns
    -------
    LofiRecording
        ``csi`` (n, values per row / 2); ``timestamps_s`` from ``local_timestamp`` (µs);
        ``host_time_s`` from ``real_timestamp`` (s) when the tool set the clock.

    Raises
    ------
    MissingDependencyError
        ``csiread`` is not installed (``pip install csiread``); an ``ImportError``.
    DataFormatError
        ``csiread`` cannot parse the file.
    """
    if pair_order not in PAIR_ORDERS:
        raise ParameterError("pair_order", "'real_first' or 'imag_first'", pair_order)
    try:
        import csiread
    except ImportError as exc:
        raise MissingDependencyError("reading ESP32-CSI-Tool logs needs csiread: install csiread "
                                     "(pip install csiread)") from exc
    path = Path(path)
    parsed = csiread.ESP32(str(path), if_report=False, maxlen=max_values)
    try:
        parsed.read()
    except (ValueError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise DataFormatError(path, "(file)", "ESP32-CSI-Tool 'CSI_DATA' lines",
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    joined = np.asarray(parsed.csi)
    raw = np.empty((joined.shape[0], 2 * joined.shape[1]))
    raw[:, 0::2], raw[:, 1::2] = joined.imag, joined.real  # csiread: imaginary first
    host = np.asarray(parsed.real_timestamp, float) if np.any(parsed.real_time_set) else None
    return LofiRecording(timestamps_s=np.asarray(parsed.local_timestamp, float) * LOCAL_CLOCK_S,
                         csi=pairs_to_complex(raw, pair_order), positions_m=None,
                         lost=np.zeros(joined.shape[0], bool), source=str(path), host_time_s=host)


# --- recognising and summarising files (``wiloc data info``) --------------------------


def _first_line(path: Path, limit: int = 65536) -> str:
    with path.open("rb") as handle:
        return handle.readline(limit).decode("utf-8", errors="replace").strip()


def kind_of(path) -> str | None:
    """Which LoFi file kind ``path`` is, judged from its name and first line only.

    Returns
    -------
    str or None
        ``"lofi-pickle"`` (suffix ``.pkl``/``.pickle``), ``"lofi-csv"`` (a CSV whose
        header has ``local_timestamp`` and ``data``), ``"esp32-log"`` (first line starts
        with ``CSI_DATA``), or None (not a LoFi file, or not an existing file).
    """
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix.lower() in (".pkl", ".pickle"):
        return "lofi-pickle"
    first = _first_line(path)
    if first.startswith("CSI_DATA"):
        return "esp32-log"
    header = {name.strip().strip('"').strip("'") for name in first.split(",")}
    if path.suffix.lower() == ".csv" and {"local_timestamp", "data"} <= header:
        return "lofi-csv"
    return None


def _recordings(path: Path, kind: str) -> list[LofiRecording]:
    if kind == "lofi-pickle":
        return read_lofi_pickle(path)
    if kind == "lofi-csv":
        return [read_lofi_csv(path)]
    if kind == "esp32-log":
        return [read_esp32_log(path)]
    raise ParameterError("kind", f"one of {KINDS}", kind)


def _median_rate_hz(times: np.ndarray) -> float | None:
    gaps = np.diff(times)
    gaps = gaps[gaps > 0]
    return round(float(1.0 / np.median(gaps)), 2) if gaps.size else None


def describe_lofi(path) -> dict:
    """Summarise a LoFi file for ``wiloc data info``.

    Returns
    -------
    dict
        ``name``, ``kind``, ``path``, ``sequences``, ``rows``, ``subcarriers``,
        ``lost_fraction``, ``labelled_fraction`` (None without positions),
        ``median_rate_hz`` (ESP32 clock, first sequence) and ``duration_s`` (summed over
        sequences).

    Raises
    ------
    DataFormatError
        Not a LoFi file, or a bad or unsafe one.
    """
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        raise DataFormatError(path, "(file)", f"a LoFi file ({', '.join(KINDS)})", "something else")
    records = _recordings(path, kind)
    rows = sum(r.n_samples for r in records)
    labelled = [r.labelled for r in records if r.positions_m is not None]
    return {
        "name": path.stem, "kind": kind, "path": str(path.resolve()), "sequences": len(records),
        "rows": rows, "subcarriers": int(records[0].csi.shape[1]),
        "lost_fraction": round(float(np.concatenate([r.lost for r in records]).mean()), 5) if rows else None,
        "labelled_fraction": round(float(np.concatenate(labelled).mean()), 5) if labelled and rows else None,
        "median_rate_hz": _median_rate_hz(records[0].timestamps_s),
        "duration_s": round(sum(float(np.ptp(r.timestamps_s)) for r in records if r.n_samples), 3),
    }


def summary_line(info: dict) -> str:
    """One line for :func:`describe_lofi`'s dict, as ``wiloc data info`` prints it."""
    shown = ("kind", "sequences", "rows", "subcarriers", "lost_fraction", "labelled_fraction",
             "median_rate_hz", "duration_s", "path")
    return f"{info['name']}: " + ", ".join(f"{key}={info[key]}" for key in shown)

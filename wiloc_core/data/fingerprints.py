"""WiFi RSS fingerprint files: strict readers and the one preprocessing step.

Conventions kept everywhere in wiloc:

- ``rss`` is float32 dBm, shape ``[n_samples, n_aps]``; an AP that was not heard is
  stored as ``NOT_DETECTED = +100.0`` exactly as in the public files. Detected values
  lie in ``[-110, 0]`` dBm.
- ``xy`` is float64 metres, shape ``[n_samples, 2]``, in each dataset's own frame
  (UJI1 uses projected map coordinates, the others local building coordinates).
- ``floor`` and ``building`` are int64 ids as given by the dataset (a stored id
  within :data:`ID_TOLERANCE` = 1e-6 of an integer is that integer); ``height`` is
  float64 metres (NaN when the dataset has none, as for UTS).

The containers (:class:`FingerprintSet`, :class:`FingerprintDataset`) and the
constants live in :mod:`wiloc_core.data.fingerprint_set` and are re-exported here.
Choosing between a real file and a simulated stand-in is :mod:`wiloc_core.data.loaders`'
job, not this module's.

Readers raise one :class:`~wiloc_core.errors.DataFormatError` per bad file, naming the
file, the field and what was expected. ``scipy.io`` and ``pandas`` are imported
inside the readers, so importing this module is cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wiloc_core.errors import DataFormatError, DatasetNotFoundError, ParameterError

from .csv_table import read_csv_table
from .fingerprint_set import (  # re-exported: callers import them from here too
    NOT_DETECTED,
    RSS_MAX_DBM,
    RSS_MIN_DBM,
    SPLITS,
    FingerprintDataset,
    FingerprintSet,
)

LABEL_COLUMNS = ("x", "y", "height", "floor", "building")
ID_TOLERANCE = 1e-6
"""Floor and building ids this close to an integer are that integer.

Some files of the family store ids as floats with rounding noise (``TUT1.mat`` has a
floor of 3.0000000000000004); anything further from an integer is refused."""
MAT_REQUIRED_FIELDS = ("trainingMacs", "testMacs", "trainingLabels", "testLabels")
UTS_POSITION_COLUMNS = ("Pos_x", "Pos_y", "Floor_ID", "Building_ID")


# --------------------------------------------------------------------------------------
# Preprocessing (the single place where RSS values are transformed)
# --------------------------------------------------------------------------------------


def to_positive(rss, floor_dbm: float = RSS_MIN_DBM) -> np.ndarray:
    """The "positive" representation: stronger signal gives a bigger value, 0 = not heard.

    Parameters
    ----------
    rss : array_like, shape (..., n_aps)
        RSS in dBm with ``NOT_DETECTED`` (+100) markers.
    floor_dbm : float, default -110
        The weakest possible reading; maps to 0.

    Returns
    -------
    ndarray, float32, same shape
        ``rss - floor_dbm`` for detected APs (clipped at 0), ``0`` for not detected.
    """
    rss = np.asarray(rss, dtype=np.float32)
    positive = np.maximum(rss - np.float32(floor_dbm), 0.0)
    return np.where(rss == NOT_DETECTED, np.float32(0.0), positive).astype(np.float32)


def powed(rss, floor_dbm: float = RSS_MIN_DBM, beta: float = float(np.e)) -> np.ndarray:
    """The "powed" representation of Torres-Sospedra et al. (2015): ``(positive / -floor) ** beta``.

    It squeezes weak readings towards 0 more than strong ones, so that differences
    between strong APs dominate distances between fingerprints.

    Parameters
    ----------
    rss : array_like, shape (..., n_aps)
        RSS in dBm with ``NOT_DETECTED`` markers.
    floor_dbm : float, default -110
        The weakest possible reading (maps to 0); must be negative.
    beta : float, default e
        Exponent.

    Returns
    -------
    ndarray, float32, same shape, values in [0, 1]
        0 for not detected, 1 for a 0 dBm reading.
    """
    if floor_dbm >= 0:
        raise ParameterError("floor_dbm", "a negative dBm value", floor_dbm)
    scaled = to_positive(rss, floor_dbm) / np.float32(-floor_dbm)
    return np.power(scaled, np.float32(beta)).astype(np.float32)


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _near_integer(values: np.ndarray) -> np.ndarray:
    """Bool mask: True where a value is within :data:`ID_TOLERANCE` of an integer."""
    return np.abs(values - np.round(values)) <= ID_TOLERANCE


def _first(mask: np.ndarray) -> tuple[int, int]:
    row, col = np.argwhere(mask)[0]
    return int(row), int(col)


def check_rss(source, field_name: str, values, columns=None) -> np.ndarray:
    """Validate an RSS matrix and return it as float32.

    Parameters
    ----------
    source : str or Path
        File name, for the error message.
    field_name : str
        Field or variable name, for the error message.
    values : array_like, shape (n, n_aps)
        RSS in dBm with +100 = not detected.
    columns : sequence of str, optional
        Column names; when given, errors name the bad column instead of ``field_name``.

    Raises
    ------
    DataFormatError
        Not a numeric 2-D array, NaN values, or detected values outside [-110, 0] dBm.
    """
    array = np.asarray(values)
    if array.ndim != 2 or array.dtype.kind not in "iuf":
        raise DataFormatError(source, field_name, "a 2-D numeric RSS matrix",
                              f"{array.ndim}-D array of {array.dtype}")
    array = array.astype(np.float64)
    nan = np.isnan(array)
    if nan.any():
        row, col = _first(nan)
        name = columns[col] if columns is not None else field_name
        raise DataFormatError(source, name, "RSS in dBm without NaN (not detected is +100)",
                              f"{int(nan.sum())} NaN values, first at row {row}, column {col}")
    bad = (array != NOT_DETECTED) & ((array < RSS_MIN_DBM) | (array > RSS_MAX_DBM))
    if bad.any():
        row, col = _first(bad)
        name = columns[col] if columns is not None else field_name
        raise DataFormatError(source, name, f"RSS in [{RSS_MIN_DBM:g}, {RSS_MAX_DBM:g}] dBm or +100",
                              f"{array[row, col]:g} at row {row}, column {col} ({int(bad.sum())} such values)")
    return array.astype(np.float32)


def check_labels(source, field_name: str, labels, n_rows: int, rows_of: str) -> np.ndarray:
    """Validate a label matrix with columns x, y, height, floor, building.

    Parameters
    ----------
    source, field_name : str
        For the error message.
    labels : array_like, shape (n_rows, 5)
    n_rows : int
        Rows of the matching RSS matrix.
    rows_of : str
        Name of that RSS field, for the error message.

    Returns
    -------
    ndarray, float64, shape (n_rows, 5)
        Floor and building ids rounded to the nearest integer.

    Raises
    ------
    DataFormatError
        Not numeric 2-D, not 5 columns, wrong row count, non-finite x/y/height, or a
        floor/building id farther than :data:`ID_TOLERANCE` from an integer (the
        message names the column, the row and the value).
    """
    array = np.asarray(labels)
    if array.ndim != 2 or array.dtype.kind not in "iuf":
        raise DataFormatError(source, field_name, "a 2-D numeric label matrix",
                              f"{array.ndim}-D array of {array.dtype}")
    if array.shape[1] != len(LABEL_COLUMNS):
        raise DataFormatError(source, field_name, f"{len(LABEL_COLUMNS)} columns ({', '.join(LABEL_COLUMNS)})",
                              f"{array.shape[1]} columns")
    if array.shape[0] != n_rows:
        raise DataFormatError(source, field_name, f"{n_rows} rows (as many as {rows_of})", f"{array.shape[0]} rows")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        row, col = _first(~np.isfinite(array))
        raise DataFormatError(source, field_name, "finite labels",
                              f"{array[row, col]} in column '{LABEL_COLUMNS[col]}' at row {row}")
    ids = array[:, 3:5]
    bad = ~_near_integer(ids)
    if bad.any():
        row, col = _first(bad)
        raise DataFormatError(source, field_name, f"integer floor and building ids (within {ID_TOLERANCE:g})",
                              f"{float(ids[row, col])!r} in column '{LABEL_COLUMNS[3 + col]}' at row {row}"
                              f" ({int(bad.sum())} such values)")
    array[:, 3:5] = np.round(ids)
    return array


def _set_from_labels(rss, labels, name, split, source) -> FingerprintSet:
    return FingerprintSet(rss=rss, xy=labels[:, 0:2], height=labels[:, 2], floor=labels[:, 3],
                          building=labels[:, 4], name=name, split=split, source_kind="real", source=str(source))


def _existing(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    return path


# --------------------------------------------------------------------------------------
# .mat reader
# --------------------------------------------------------------------------------------


def _load_mat_struct(path: Path):
    import scipy.io  # lazy

    try:
        contents = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True)
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError, NotImplementedError...
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise DataFormatError(path, "(file)", "a readable MATLAB v5 .mat file",
                              f"{type(exc).__name__}: {reason}") from exc
    variables = sorted(k for k in contents if not k.startswith("__"))
    if "database" not in contents:
        raise DataFormatError(path, "database", "a struct variable named 'database'",
                              f"variables {variables}")
    database = contents["database"]
    names = getattr(database.dtype, "names", None)
    if not isinstance(database, np.ndarray) or names is None or database.size != 1:
        raise DataFormatError(path, "database", "a 1x1 struct", f"{type(database).__name__} "
                              f"of shape {getattr(database, 'shape', '?')}")
    missing = [f for f in MAT_REQUIRED_FIELDS if f not in names]
    if missing:
        raise DataFormatError(path, f"database.{missing[0]}", f"a struct field '{missing[0]}'",
                              f"fields {sorted(names)}")
    record = database.flat[0]
    return {f: record[f] for f in MAT_REQUIRED_FIELDS}


def read_mat_fingerprints(path, name: str | None = None) -> FingerprintDataset:
    """Read a fingerprint ``.mat`` file holding one struct ``database``.

    The struct must have the fields ``trainingMacs``, ``testMacs`` (RSS, int16 or
    float64, +100 = not detected) and ``trainingLabels``, ``testLabels`` (columns x, y,
    height, floor, building), in any order. Other fields (TUT3's ``validationLabels``,
    TUT5's misspelled ``traininingLabels``) are ignored. The file is read with
    :func:`scipy.io.loadmat`; nothing is ever unpickled.

    Parameters
    ----------
    path : str or Path
        The .mat file.
    name : str, optional
        Dataset name; defaults to the file stem.

    Returns
    -------
    FingerprintDataset
        ``source_kind == "real"``, empty ``note``.

    Raises
    ------
    DatasetNotFoundError
        The file does not exist.
    DataFormatError
        Not a .mat file or truncated; no ``database``; a required field missing;
        labels without 5 columns; rows of Macs and Labels differ; NaN RSS; RSS outside
        [-110, 0] other than +100; train and test with different AP counts.
    """
    path = _existing(path)
    name = name or path.stem
    fields = _load_mat_struct(path)
    train_rss = check_rss(path, "database.trainingMacs", fields["trainingMacs"])
    test_rss = check_rss(path, "database.testMacs", fields["testMacs"])
    if test_rss.shape[1] != train_rss.shape[1]:
        raise DataFormatError(path, "database.testMacs", f"{train_rss.shape[1]} AP columns (as in trainingMacs)",
                              f"{test_rss.shape[1]} columns")
    train_labels = check_labels(path, "database.trainingLabels", fields["trainingLabels"],
                                train_rss.shape[0], "trainingMacs")
    test_labels = check_labels(path, "database.testLabels", fields["testLabels"], test_rss.shape[0], "testMacs")
    return FingerprintDataset(
        train=_set_from_labels(train_rss, train_labels, name, "train", path),
        test=_set_from_labels(test_rss, test_labels, name, "test", path),
        name=name, source_kind="real", note="")


# --------------------------------------------------------------------------------------
# UTSIndoorLoc CSV reader
# --------------------------------------------------------------------------------------


def _numeric_column(path, frame, column: str, integer: bool = False) -> np.ndarray:
    import pandas as pd  # lazy

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if integer:
        bad |= np.isfinite(values) & ~_near_integer(values)
    if bad.any():
        row = int(np.argmax(bad))
        kind = f"integers (within {ID_TOLERANCE:g})" if integer else "finite numbers"
        raise DataFormatError(path, column, kind, f"{frame[column].iloc[row]!r} at row {row}")
    return np.round(values) if integer else values


def _building_ids(path, frame) -> tuple[np.ndarray, tuple]:
    import pandas as pd  # lazy

    raw = frame["Building_ID"]
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        return _numeric_column(path, frame, "Building_ID", integer=True).astype(np.int64), ()
    if raw.isna().any():
        row = int(np.argmax(raw.isna().to_numpy()))
        raise DataFormatError(path, "Building_ID", "a building id or name in every row", f"empty at row {row}")
    names = tuple(sorted(str(v) for v in raw.unique()))
    lookup = {n: i for i, n in enumerate(names)}
    return np.array([lookup[str(v)] for v in raw], dtype=np.int64), names


def read_uts_csv(path, name: str = "UTS", split: str = "test") -> FingerprintDataset:
    """Read a UTSIndoorLoc CSV (``WAP001..WAPnnn``, ``Pos_x``, ``Pos_y``, ``Floor_ID``, ``Building_ID``, ...).

    Only the test file of UTSIndoorLoc is available to this project, so by default
    the rows become the ``test`` split and ``train`` is an empty set (0 rows, same
    APs). The CSV has no height column: ``height`` is NaN. ``Building_ID`` holds
    names in the public file ("New IT"); they are mapped to ids 0..k-1 in sorted
    order and kept in ``building_names``.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    name : str, default "UTS"
    split : {"test", "train"}, default "test"
        Which split the rows fill; the other one is empty.

    Raises
    ------
    DatasetNotFoundError
        The file does not exist.
    DataFormatError
        Unparseable CSV, no ``WAP`` columns, a missing position column (named in the
        message), non-numeric or out-of-range RSS, non-numeric positions or floors.
    """
    path = _existing(path)
    if split not in SPLITS:
        raise ParameterError("split", f"one of {SPLITS}", split)
    frame = read_csv_table(path)
    waps = [c for c in frame.columns if str(c).startswith("WAP")]
    if not waps:
        raise DataFormatError(path, "WAP001", "RSS columns named WAP001, WAP002, ...",
                              f"columns {list(frame.columns)[:8]}")
    for column in UTS_POSITION_COLUMNS:
        if column not in frame.columns:
            raise DataFormatError(path, column, f"a column named '{column}'", "no such column")
    import pandas as pd  # lazy

    numeric = frame[waps].apply(pd.to_numeric, errors="coerce")
    text_cells = numeric.isna().to_numpy() & frame[waps].notna().to_numpy()
    if text_cells.any():
        row, col = _first(text_cells)
        raise DataFormatError(path, waps[col], "numeric RSS in dBm", f"{frame[waps[col]].iloc[row]!r} at row {row}")
    rss = check_rss(path, "WAP columns", numeric.to_numpy(dtype=np.float64), columns=waps)
    xy = np.column_stack([_numeric_column(path, frame, "Pos_x"), _numeric_column(path, frame, "Pos_y")])
    floor = _numeric_column(path, frame, "Floor_ID", integer=True)
    building, building_names = _building_ids(path, frame)
    full = FingerprintSet(rss=rss, xy=xy, height=np.full(len(frame), np.nan), floor=floor, building=building,
                          name=name, split=split, source_kind="real", source=str(path),
                          building_names=building_names)
    other = "train" if split == "test" else "test"
    empty = FingerprintSet(rss=np.zeros((0, rss.shape[1]), np.float32), xy=np.zeros((0, 2)), height=[], floor=[],
                           building=[], name=name, split=other, source_kind="real", source=str(path),
                           building_names=building_names)
    train, test = (empty, full) if split == "test" else (full, empty)
    return FingerprintDataset(train=train, test=test, name=name, source_kind="real", note="")


# --------------------------------------------------------------------------------------
# Front doors
# --------------------------------------------------------------------------------------


def load_fingerprint_file(path, name: str | None = None) -> FingerprintDataset:
    """Read any fingerprint file by its extension (``.mat`` or UTS-style ``.csv``).

    Parameters
    ----------
    path : str or Path
    name : str, optional
        Dataset name; defaults to the file stem (``"UTS"`` for ``UTS_*.csv``).
    """
    path = _existing(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return read_mat_fingerprints(path, name=name)
    if suffix == ".csv":
        default = "UTS" if path.stem.upper().startswith("UTS") else path.stem
        return read_uts_csv(path, name=name or default)
    raise DataFormatError(path, "(file)", "a .mat or .csv fingerprint file", f"suffix '{path.suffix}'")

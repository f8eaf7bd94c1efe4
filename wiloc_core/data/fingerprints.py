"""WiFi RSS fingerprint sets: containers, strict readers and the one preprocessing step.

Conventions kept everywhere in wiloc:

- ``rss`` is float32 dBm, shape ``[n_samples, n_aps]``; an AP that was not heard is
  stored as ``NOT_DETECTED = +100.0`` exactly as in the public files. Detected values
  lie in ``[-110, 0]`` dBm.
- ``xy`` is float64 metres, shape ``[n_samples, 2]``, in each dataset's own frame
  (UJI1 uses projected map coordinates, the others local building coordinates).
- ``floor`` and ``building`` are int64 ids as given by the dataset; ``height`` is
  float64 metres (NaN when the dataset has none, as for UTS).

Readers raise one :class:`~wiloc_core.errors.DataFormatError` per bad file, naming the
file, the field and what was expected. ``scipy.io`` and ``pandas`` are imported
inside the readers, so importing this module is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wiloc_core.errors import DataFormatError, DatasetNotFoundError, ParameterError

NOT_DETECTED = 100.0
"""RSS marker for "access point not detected" (dBm files store it as +100)."""

RSS_MIN_DBM = -110.0
RSS_MAX_DBM = 0.0
LABEL_COLUMNS = ("x", "y", "height", "floor", "building")
SPLITS = ("train", "test")
SOURCE_KINDS = ("real", "simulated")
MAT_REQUIRED_FIELDS = ("trainingMacs", "testMacs", "trainingLabels", "testLabels")
UTS_POSITION_COLUMNS = ("Pos_x", "Pos_y", "Floor_ID", "Building_ID")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class FingerprintSet:
    """One split (train or test) of a fingerprint dataset.

    Arrays are converted to the dtypes below and made read-only on construction.

    Attributes
    ----------
    rss : ndarray, float32, shape (n, n_aps)
        RSS in dBm; ``NOT_DETECTED`` (+100) where the AP was not heard.
    xy : ndarray, float64, shape (n, 2)
        Horizontal position in metres.
    height : ndarray, float64, shape (n,)
        Height in metres (NaN when unknown).
    floor : ndarray, int64, shape (n,)
        Floor id.
    building : ndarray, int64, shape (n,)
        Building id.
    name : str
        Dataset name (``"UJI1"``).
    split : str
        ``"train"`` or ``"test"``.
    source_kind : str
        ``"real"`` or ``"simulated"``.
    source : str
        File path, or a description of the simulation.
    building_names : tuple of str
        Names behind the building ids when the file used names (UTS), else empty.
    """

    rss: np.ndarray
    xy: np.ndarray
    height: np.ndarray
    floor: np.ndarray
    building: np.ndarray
    name: str
    split: str
    source_kind: str
    source: str
    building_names: tuple = field(default=())

    def __post_init__(self):
        rss = np.array(self.rss, dtype=np.float32, ndmin=2)
        n = rss.shape[0]
        xy = np.array(self.xy, dtype=np.float64)
        if xy.size == 0:
            xy = xy.reshape(0, 2)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ParameterError("xy", "an array of shape (n, 2)", xy.shape)
        columns = {
            "rss": rss,
            "xy": xy,
            "height": np.array(self.height, dtype=np.float64).reshape(-1),
            "floor": np.array(self.floor, dtype=np.int64).reshape(-1),
            "building": np.array(self.building, dtype=np.int64).reshape(-1),
        }
        for key, value in columns.items():
            if value.shape[0] != n:
                raise ParameterError(key, f"{n} rows (as many as rss)", value.shape[0])
            object.__setattr__(self, key, _readonly(value))
        if self.split not in SPLITS:
            raise ParameterError("split", f"one of {SPLITS}", self.split)
        if self.source_kind not in SOURCE_KINDS:
            raise ParameterError("source_kind", f"one of {SOURCE_KINDS}", self.source_kind)
        object.__setattr__(self, "building_names", tuple(self.building_names))

    @property
    def n_samples(self) -> int:
        """Number of fingerprints (rows)."""
        return int(self.rss.shape[0])

    @property
    def n_aps(self) -> int:
        """Number of access points (columns)."""
        return int(self.rss.shape[1])

    @property
    def detected(self) -> np.ndarray:
        """Bool mask, shape (n, n_aps): True where the AP was heard."""
        return self.rss != NOT_DETECTED

    @property
    def detected_fraction_per_sample(self) -> np.ndarray:
        """Fraction of APs heard in each fingerprint, float64, shape (n,)."""
        if self.n_aps == 0:
            return np.zeros(self.n_samples)
        return self.detected.mean(axis=1, dtype=np.float64)

    def __repr__(self) -> str:
        return (f"FingerprintSet(name={self.name!r}, split={self.split!r}, n_samples={self.n_samples}, "
                f"n_aps={self.n_aps}, source_kind={self.source_kind!r})")


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class FingerprintDataset:
    """A train/test pair of :class:`FingerprintSet` sharing the same access points.

    Attributes
    ----------
    train, test : FingerprintSet
        The splits. ``train`` may be empty (0 rows), as for the test-only UTS file.
    name : str
        Dataset name.
    source_kind : str
        ``"real"`` or ``"simulated"``.
    note : str
        Empty for real data; for simulated data, why a simulation is used.
    """

    train: FingerprintSet
    test: FingerprintSet
    name: str
    source_kind: str
    note: str = ""

    def __post_init__(self):
        if self.train.n_aps != self.test.n_aps:
            raise ParameterError("test", f"{self.train.n_aps} APs as in train", self.test.n_aps)

    @property
    def n_aps(self) -> int:
        """Number of access points (columns of both splits)."""
        return self.train.n_aps

    def __repr__(self) -> str:
        return (f"FingerprintDataset(name={self.name!r}, source_kind={self.source_kind!r}, "
                f"train={self.train.n_samples}x{self.train.n_aps}, test={self.test.n_samples}x{self.test.n_aps})")


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

    Raises
    ------
    DataFormatError
        Not numeric 2-D, not 5 columns, wrong row count, non-finite x/y/height, or
        non-integer floor/building.
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
    if not np.array_equal(ids, np.round(ids)):
        row, col = _first(ids != np.round(ids))
        raise DataFormatError(source, field_name, "integer floor and building ids",
                              f"{ids[row, col]} in column '{LABEL_COLUMNS[3 + col]}' at row {row}")
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


def _read_csv(path: Path):
    import pandas as pd  # lazy

    try:
        return pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise DataFormatError(path, "(file)", "a CSV file with a header row",
                              f"{type(exc).__name__}: {reason}") from exc


def _numeric_column(path, frame, column: str, integer: bool = False) -> np.ndarray:
    import pandas as pd  # lazy

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if integer:
        bad |= np.isfinite(values) & (values != np.round(values))
    if bad.any():
        row = int(np.argmax(bad))
        kind = "integers" if integer else "finite numbers"
        raise DataFormatError(path, column, kind, f"{frame[column].iloc[row]!r} at row {row}")
    return values


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
    frame = _read_csv(path)
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


def load_fingerprints(name: str, source: str = "auto", seed=0, verify: bool = True) -> FingerprintDataset:
    """Load a named fingerprint dataset, real when available.

    Parameters
    ----------
    name : str
        Manifest name: ``"UJI1"``, ``"TUT3"``, ``"TUT5"``, ``"LIB1"`` or ``"UTS"``.
    source : {"auto", "real", "simulated"}, default "auto"
        ``"real"`` reads the local file (see :func:`wiloc_core.data.locate`) and fails
        when it is missing; ``"simulated"`` returns :func:`synthetic_fingerprints`;
        ``"auto"`` reads the real file when found and otherwise falls back to the
        simulation, saying so in ``note``. A file with the wrong sha256 is an error
        in every mode (never silently replaced by a simulation).
    seed : int or numpy.random.Generator, default 0
        Seed of the simulation (unused for real data).
    verify : bool, default True
        Check the real file's sha256 against the manifest.

    Raises
    ------
    DatasetNotFoundError
        ``source="real"`` and no local copy; the message says how to set
        ``WILOC_DATA`` or to run ``wiloc data fetch NAME``.
    ChecksumError
        The local file's sha256 differs from the manifest.
    """
    from .manifest import get_entry
    from .resolve import locate, not_found_message
    from .synthetic import synthetic_fingerprints

    if source not in ("auto", "real", "simulated"):
        raise ParameterError("source", "'auto', 'real' or 'simulated'", source)
    entry = get_entry(name)
    if entry.kind != "fingerprint":
        raise ParameterError("name", "a fingerprint dataset", f"{entry.name} ({entry.kind})")
    if source == "simulated":
        return synthetic_fingerprints(entry.name, seed=seed)
    try:
        found = locate(entry, verify=verify)
    except DatasetNotFoundError:
        if source == "real":
            raise DatasetNotFoundError(not_found_message(entry)) from None
        dataset = synthetic_fingerprints(entry.name, seed=seed)
        note = (f"No local copy of the real {entry.name} data was found, so this is a simulated stand-in "
                f"(log-distance path-loss model). {dataset.note} To use the real data: "
                f"{not_found_message(entry).split('; ', 1)[1]}.")
        return FingerprintDataset(train=dataset.train, test=dataset.test, name=dataset.name,
                                  source_kind="simulated", note=note)
    return load_fingerprint_file(found.path, name=entry.name)

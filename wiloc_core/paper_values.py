"""Registry of the numbers the five papers report, for side-by-side comparison.

Every value that a notebook regenerates is transcribed once into
``wiloc_core/registry/paper_values.csv``; notebooks look numbers up here instead of
typing them again.

File layout
-----------
One row per reported number, with the columns

``paper``
    Three-digit prefix of the paper's text file, kept as a string:
    ``"000"`` AlHajri et al. (CTF, cross-environment), ``"001"`` Nguyen et al.
    (multi-surrogate-teacher), ``"002"`` Zhao et al. (LoFi), ``"003"`` EVAL (error
    vector spectrum), ``"004"`` WiFi Trilateration Net (WTN, Korean).
``item``
    Where the number is printed: ``"Table I"``, ``"Table 1"``, ``"Fig. 4"`` (a value the
    text states about a figure), ``"Text §IV-A"`` (a value from running text),
    ``"Abstract"``. Table numerals follow each paper's own style (Roman in 000 and 002,
    Arabic in 001 and 004).
``row``, ``column``
    Where inside the item. The naming scheme is:

    * ``row`` is *what is evaluated*: an environment (``"Lab"``), a model variant
      (``"DNN+++"``, ``"ResNet18"``), ``"WTN"``, or, for setup facts, a group such as
      ``"dataset"``, ``"setup"``, ``"CNN"`` or a dataset name. Where a paper prints
      metrics as rows and methods as columns (002 Table II) we transpose, so the
      method is always the row.
    * ``column`` is *the metric or condition*: ``"75%"`` (training fraction),
      ``"Conventional 15%"``, ``"UTS MAE"``, ``"UTS P75"``, ``"UTS P95"``,
      ``"UTS MAE change %"``, ``"Error Mean"``, ``"carrier frequency"``.
    * A reported mean ± standard deviation becomes two rows whose columns differ by a
      trailing ``" std"``: ``"UTS 10% MAE"`` and ``"UTS 10% MAE std"``.
    * Paper 001: model variants use the paper's suffixes, ``"*"`` sequential transfer,
      ``"**"`` collective transfer, ``"+++"`` fully enhanced, and ``"bAaT++"``
      (enhanced without J_FI). In Table 3 the single-source rows are
      ``"<model> [<source dataset>]"`` and the two-source row ``"<model> [both]"``.
      Relative changes (``"... MAE change %"``) are signed: positive means a lower MAE
      than the stand-alone model.
``value``
    The number as printed (counts such as ``"23K"`` parameters are expanded).
``unit``
    ``"m"``, ``"cm"``, ``"%"``, ``"dB"``, ``"count"``, ``"Hz"``, ``"GHz"``, ... or ``""``.
``better``
    ``"lower"`` or ``"higher"`` for performance figures, ``""`` for neutral facts.
``tolerance``
    Relative tolerance within which a regenerated value counts as reproduced. 0.10 by
    default; larger for noisy estimates (tail percentiles, tiny training sets,
    standard deviations, values read off a curve), 0 for exact setup facts. The note
    says why when it is not 0.10.
``note``
    Where exactly the number is in the paper and any doubt about the reading.

The key ``(paper, item, row, column)`` is unique.

Functions
---------
:func:`load_registry` reads and validates the file (cached), :func:`paper_value`
returns one number, :func:`paper_entry` the whole record and :func:`entries` a
filtered table. pandas is imported only when the registry is first read.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from wiloc_core.errors import DataFormatError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "REGISTRY_PATH",
    "REQUIRED_COLUMNS",
    "KEY_COLUMNS",
    "PAPERS",
    "load_registry",
    "read_registry",
    "paper_value",
    "paper_entry",
    "entries",
]

REGISTRY_PATH = Path(__file__).parent / "registry" / "paper_values.csv"
"""Default location of the registry file (package data)."""

KEY_COLUMNS = ("paper", "item", "row", "column")
REQUIRED_COLUMNS = (*KEY_COLUMNS, "value", "unit", "better", "tolerance", "note")
PAPERS = ("000", "001", "002", "003", "004")
_BETTER = ("lower", "higher", "")
_TEXT_COLUMNS = ("paper", "item", "row", "column", "unit", "better", "note")


def read_registry(path: str | Path) -> pd.DataFrame:
    """Read and validate a paper-values CSV file (no caching).

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file with the columns listed in :data:`REQUIRED_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        One row per reported number; ``value`` and ``tolerance`` as float64, the
        other columns as str (empty cells become ``""``).

    Raises
    ------
    DataFormatError
        If the file cannot be parsed, a column is missing, a key is empty or
        repeated, ``paper`` is not one of :data:`PAPERS`, ``value`` or ``tolerance``
        is not a finite number, ``tolerance`` is negative, or ``better`` is not
        ``"lower"``, ``"higher"`` or empty.
    """
    import numpy as np
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFormatError(path, "<file>", "a readable UTF-8 CSV file", repr(exc)) from exc

    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(path, missing[0], f"columns {list(REQUIRED_COLUMNS)}",
                              f"columns {list(frame.columns)}")
    frame = frame[list(REQUIRED_COLUMNS)].copy()
    for col in (*_TEXT_COLUMNS, "value", "tolerance"):
        frame[col] = frame[col].str.strip()

    bad_paper = ~frame["paper"].isin(PAPERS)
    if bad_paper.any():
        i = int(np.flatnonzero(bad_paper)[0])
        raise DataFormatError(path, "paper", f"one of {list(PAPERS)} (line {i + 2})",
                              repr(frame["paper"].iloc[i]))
    for col in ("item", "row", "column"):
        empty = frame[col] == ""
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise DataFormatError(path, col, f"a non-empty string (line {i + 2})", "''")

    for col in ("value", "tolerance"):
        numbers = pd.to_numeric(frame[col], errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFormatError(path, col, f"a finite number (line {i + 2})",
                                  repr(frame[col].iloc[i]))
        frame[col] = numbers.astype("float64")
    if (frame["tolerance"] < 0).any():
        i = int(np.flatnonzero((frame["tolerance"] < 0).to_numpy())[0])
        raise DataFormatError(path, "tolerance", f"a number >= 0 (line {i + 2})",
                              repr(frame["tolerance"].iloc[i]))

    bad_better = ~frame["better"].isin(_BETTER)
    if bad_better.any():
        i = int(np.flatnonzero(bad_better)[0])
        raise DataFormatError(path, "better", f"'lower', 'higher' or empty (line {i + 2})",
                              repr(frame["better"].iloc[i]))

    dup = frame.duplicated(list(KEY_COLUMNS), keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        key = tuple(frame.loc[frame.index[i], list(KEY_COLUMNS)])
        raise DataFormatError(path, "(paper, item, row, column)", "unique keys",
                              f"{int(dup.sum())} rows sharing keys, first {key} (line {i + 2})")
    return frame.reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def _cached_registry() -> pd.DataFrame:
    return read_registry(REGISTRY_PATH)


def load_registry() -> pd.DataFrame:
    """Return the package's paper-values registry as a validated DataFrame.

    The file is read once per process; each call returns a copy, so callers may
    modify the result freely.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REQUIRED_COLUMNS`; see the module docstring for their meaning.

    Raises
    ------
    DataFormatError
        If the packaged file is malformed (see :func:`read_registry`).
    """
    return _cached_registry().copy()


def _lookup(paper: str, item: str, row: str, column: str):
    frame = _cached_registry()
    paper = str(paper).zfill(3) if str(paper).isdigit() else str(paper)
    hit = frame[(frame["paper"] == paper) & (frame["item"] == item)
                & (frame["row"] == row) & (frame["column"] == column)]
    if len(hit) == 1:
        return hit.iloc[0]
    wanted = f"{paper} | {item} | {row} | {column}"
    pool = frame[frame["paper"] == paper] if paper in PAPERS else frame
    keys = [" | ".join(k) for k in pool[list(KEY_COLUMNS)].itertuples(index=False, name=None)]
    close = difflib.get_close_matches(wanted, keys, n=5, cutoff=0.5)
    hint = ("; close matches: " + "; ".join(repr(k) for k in close)) if close else ""
    raise KeyError(f"no paper value for (paper={paper!r}, item={item!r}, row={row!r}, "
                   f"column={column!r}){hint}")


def paper_value(paper: str, item: str, row: str, column: str) -> float:
    """Return one reported number.

    Parameters
    ----------
    paper : str
        ``"000"`` ... ``"004"`` (an int such as ``1`` is accepted and zero-padded).
    item, row, column : str
        Exact strings as in the registry (see the module docstring).

    Returns
    -------
    float
        The value, in the unit recorded in the registry.

    Raises
    ------
    KeyError
        If no such entry exists; the message lists up to five close matches.

    Examples
    --------
    >>> paper_value("000", "Table I", "Lab", "75%")
    8.46
    """
    return float(_lookup(paper, item, row, column)["value"])


def paper_entry(paper: str, item: str, row: str, column: str) -> dict:
    """Return the full record of one reported number.

    Parameters
    ----------
    paper, item, row, column : str
        As for :func:`paper_value`.

    Returns
    -------
    dict
        Keys ``paper, item, row, column, value, unit, better, tolerance, note``;
        ``value`` and ``tolerance`` are floats.

    Raises
    ------
    KeyError
        If no such entry exists (with close matches in the message).
    """
    rec = _lookup(paper, item, row, column)
    out = {k: str(rec[k]) for k in REQUIRED_COLUMNS}
    out["value"] = float(rec["value"])
    out["tolerance"] = float(rec["tolerance"])
    return out


def entries(paper: str | None = None, item: str | None = None) -> pd.DataFrame:
    """Return the registry rows of one paper and/or one item.

    Parameters
    ----------
    paper : str, optional
        Keep only this paper (``"000"`` ... ``"004"``).
    item : str, optional
        Keep only this item (e.g. ``"Table II"``).

    Returns
    -------
    pandas.DataFrame
        A copy of the matching rows, in file order, with a fresh index; empty when
        nothing matches.
    """
    frame = _cached_registry()
    mask = frame["paper"].notna()
    if paper is not None:
        p = str(paper).zfill(3) if str(paper).isdigit() else str(paper)
        mask &= frame["paper"] == p
    if item is not None:
        mask &= frame["item"] == item
    return frame[mask].reset_index(drop=True).copy()

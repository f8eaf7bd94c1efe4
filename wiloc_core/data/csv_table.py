"""The one CSV reader every data reader shares (fingerprints, RTT).

It turns pandas' parse errors into the project's :class:`~wiloc_core.errors.DataFormatError`
naming the file, so that each reader only checks columns and values. ``pandas`` is
imported inside the function, so importing this module is cheap.
"""

from __future__ import annotations

from pathlib import Path

from wiloc_core.errors import DataFormatError


def read_csv_table(path):
    """Read a CSV file with a header row into a :class:`pandas.DataFrame`.

    Parameters
    ----------
    path : str or Path
        The file; the caller has checked that it exists.

    Returns
    -------
    pandas.DataFrame
        One column per header entry, dtypes as pandas infers them (``low_memory=False``,
        so a column has one dtype for the whole file).

    Raises
    ------
    DataFormatError
        The file is empty, not parseable as CSV, or not text (field ``"(file)"``).

    Examples
    --------
    >>> frame = read_csv_table("UTS_test.csv")  # doctest: +SKIP
    """
    import pandas as pd  # lazy

    path = Path(path)
    try:
        return pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise DataFormatError(path, "(file)", "a CSV file with a header row",
                              f"{type(exc).__name__}: {reason}") from exc

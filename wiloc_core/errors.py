"""Exceptions raised by wiloc_core.

Every error names where the bad value came from (a file or an argument), the field,
and what was expected, so that the command line can print it as one line.
"""

from __future__ import annotations


class WilocError(Exception):
    """Base class of every error wiloc raises on purpose."""


class DataFormatError(WilocError, ValueError):
    """A data file does not have the layout its reader expects.

    Parameters
    ----------
    source : str
        File (or other source) the bad value came from.
    field : str
        Field, column or variable that is wrong.
    expected : str
        What the reader expected, in words.
    found : str, optional
        What it found instead.
    """

    def __init__(self, source, field: str, expected: str, found: str | None = None):
        self.source = str(source)
        self.field = field
        self.expected = expected
        self.found = found
        message = f"{self.source}: field '{field}': expected {expected}"
        if found is not None:
            message += f", found {found}"
        super().__init__(message)


class ChecksumError(WilocError):
    """A file's sha256 differs from the one in the manifest."""

    def __init__(self, source, expected: str, actual: str):
        self.source = str(source)
        self.expected = expected
        self.actual = actual
        super().__init__(f"{self.source}: sha256 mismatch: expected {expected}, actual {actual}")


class DatasetNotFoundError(WilocError, FileNotFoundError):
    """No local copy of a dataset was found and it could not be fetched."""


class ParameterError(WilocError, ValueError):
    """A function or notebook parameter is out of its allowed range."""

    def __init__(self, name: str, expected: str, found=None):
        self.name = name
        message = f"parameter '{name}': expected {expected}"
        if found is not None:
            message += f", got {found!r}"
        super().__init__(message)

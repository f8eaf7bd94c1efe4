"""Load pickles that may only hold plain containers and numpy arrays.

A pickle can name any importable callable and have the loader call it, so
``pickle.load`` on a downloaded file runs whatever the file asks for. The LoFi
dataset (paper 002) ships as pickles (``wiloc.pkl``, ``wiloc_linear.pkl``), so this
module reads them with a :class:`pickle.Unpickler` whose ``find_class`` hands out
only the few globals numpy needs to rebuild arrays, dtypes and scalars, plus a few
harmless builtins. Any other global stops the load before it is called and raises
:class:`UnsafePickleError`, naming the file and the refused global.

The file size is capped before anything is read (``max_bytes``). Memory use then
stays proportional to the file size: numpy checks that an array's buffer matches its
shape and dtype, and the allowed callables that could allocate from a small argument
(``numpy.ndarray(shape)``, ``bytearray(n)``, ``_reconstruct`` with a non-empty
shape, decompressing codecs) are replaced by checked stand-ins.
"""

from __future__ import annotations

import codecs
import collections
import io
import pickle
from pathlib import Path

import numpy as np

from wiloc_core.errors import DataFormatError

DEFAULT_MAX_BYTES = 2 * 1024**3
"""Largest pickle :func:`load_pickle` reads by default: 2 GiB (the LoFi pickles are a few hundred MB)."""


class UnsafePickleError(DataFormatError):
    """A pickle names a global outside the allow-list; nothing it names was called."""

    def __init__(self, source, global_name: str):
        self.global_name = global_name
        super().__init__(source, "(global)", "only plain containers and numpy arrays",
                         f"a reference to '{global_name}', refused")


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """Stand-in for ``_codecs.encode``, which protocol-2 pickles use to store bytes.

    Only text-to-bytes encodings are accepted: codecs such as ``zlib`` or ``bz2``
    would turn a small file into a large object.
    """
    if codecs.lookup(encoding).name not in ("iso8859-1", "utf-8", "ascii") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return codecs.encode(text, encoding, errors)


def _bytearray(source=b"", *args):
    """Stand-in for ``bytearray`` that copies bytes or text but never allocates ``n`` zero bytes."""
    if not isinstance(source, (bytes, str)):
        raise pickle.UnpicklingError(f"bytearray from {type(source).__name__} is not allowed")
    return bytearray(source, *args)


_NDARRAY = object()
"""What a pickle gets for ``numpy.ndarray``: numpy only passes the class on to
``_reconstruct``, and handing out a token means ``numpy.ndarray(huge_shape)`` cannot be
called to allocate memory the file does not hold."""


def _numpy_core():
    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray, numeric
    return multiarray, numeric


def _reconstruct_as_numpy_does(reconstruct):
    def checked(subtype, shape, dtype):
        # numpy pickles every array as _reconstruct(ndarray, (0,), b"b") and then sets its state.
        if subtype is not _NDARRAY or tuple(shape) != (0,):
            raise pickle.UnpicklingError("numpy _reconstruct is only allowed as (ndarray, (0,), dtype)")
        return reconstruct(np.ndarray, (0,), dtype)

    return checked


def _allowed_globals() -> dict[tuple[str, str], object]:
    multiarray, numeric = _numpy_core()
    numpy_parts = {"_reconstruct": _reconstruct_as_numpy_does(multiarray._reconstruct),
                   "scalar": multiarray.scalar}
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
        ("collections", "OrderedDict"): collections.OrderedDict,
    }
    # Pickles written by numpy 1.x name numpy.core, those by numpy 2 name numpy._core.
    for package in ("numpy.core", "numpy._core"):
        for name, obj in numpy_parts.items():
            allowed[(f"{package}.multiarray", name)] = obj
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    for module in ("builtins", "__builtin__"):  # protocols 0-3 name these for sets, complex, bytearray
        allowed.update({(module, "complex"): complex, (module, "set"): set,
                        (module, "frozenset"): frozenset, (module, "bytearray"): _bytearray})
    return allowed


_ALLOWED = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals (containers, numpy arrays).

    Parameters
    ----------
    file : binary file object
        Passed to :class:`pickle.Unpickler`.
    source : str or Path
        Name used in error messages.
    """

    def __init__(self, file, source="(pickle)"):
        super().__init__(file)
        self.source = str(source)

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(self.source, f"{module}.{name}") from None

    def persistent_load(self, pid):
        raise UnsafePickleError(self.source, f"persistent id {pid!r}")


def loads_restricted(data: bytes, source="(bytes)"):
    """Unpickle ``data`` with :class:`RestrictedUnpickler`; see :func:`load_pickle`."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), source).load()
    except DataFormatError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, MemoryError, UnicodeDecodeError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise DataFormatError(source, "(file)", "a pickle of plain containers and numpy arrays",
                              f"{type(exc).__name__}: {reason}") from exc


def load_pickle(path, max_bytes: int = DEFAULT_MAX_BYTES):
    """Read a pickle of dicts, lists, tuples, scalars, strings and numpy arrays.

    Parameters
    ----------
    path : str or Path
        The pickle file.
    max_bytes : int, default :data:`DEFAULT_MAX_BYTES`
        Files larger than this are refused before they are read.

    Returns
    -------
    object
        The unpickled object.

    Raises
    ------
    UnsafePickleError
        The pickle names a global outside the allow-list (for example ``os.system``
        or any class); nothing was called.
    DataFormatError
        The file is larger than ``max_bytes``, truncated, or not a pickle.
    FileNotFoundError
        ``path`` does not exist.

    Examples
    --------
    >>> data = load_pickle("wiloc.pkl")  # doctest: +SKIP
    """
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise DataFormatError(path, "(file)", f"at most {max_bytes} bytes (max_bytes)", f"{size} bytes")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew after stat
        raise DataFormatError(path, "(file)", f"at most {max_bytes} bytes (max_bytes)", "more")
    return loads_restricted(data, path)

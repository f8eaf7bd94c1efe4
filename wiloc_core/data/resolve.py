"""Finding a dataset file on disk and checking its sha256.

Search order for an entry with relative path ``fingerprints/UJI1.mat``:

1. ``$WILOC_DATA/fingerprints/UJI1.mat``
2. ``$WILOC_DATA/UJI1.mat`` (a flat folder of files)
3. ``data_cache_dir()/fingerprints/UJI1.mat`` (where :func:`fetch` puts downloads)

Hashes are remembered per ``(path, size, mtime)`` for the life of the process, so
loading the same file again costs one ``stat`` call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from wiloc_core.errors import ChecksumError, DatasetNotFoundError
from wiloc_core.paths import data_cache_dir, wiloc_data_dir

from .manifest import DatasetEntry, get_entry

WHERE_WILOC_DATA = "WILOC_DATA"
WHERE_CACHE = "cache"

_HASH_CACHE: dict[tuple[str, int, int], str] = {}
#: What this process has read: dataset name -> sha256 (for provenance, see :func:`data_reads`).
_READS: dict[str, str] = {}


def record_read(name: str, digest: str) -> None:
    """Note that data named ``name`` with this sha256 was read (files, or simulated arrays)."""
    _READS[str(name)] = str(digest)


def data_reads() -> dict[str, str]:
    """Every dataset this process has read, name -> sha256 (a copy), for provenance."""
    return dict(sorted(_READS.items()))


@dataclass(frozen=True)
class Located:
    """A dataset file found on disk.

    Attributes
    ----------
    entry : DatasetEntry
        Its manifest entry.
    path : Path
        Absolute path of the file.
    where : str
        ``"WILOC_DATA"`` or ``"cache"``.
    """

    entry: DatasetEntry
    path: Path
    where: str


def sha256_file(path: str | Path) -> str:
    """The sha256 hex digest of a file, cached by (path, size, mtime).

    Parameters
    ----------
    path : str or Path
        File to hash.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    cached = _HASH_CACHE.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    _HASH_CACHE[key] = value
    return value


def clear_hash_cache() -> None:
    """Forget every remembered hash (tests use this)."""
    _HASH_CACHE.clear()


def verify_file(path: str | Path, expected: str) -> str:
    """Check a file's sha256 against ``expected``.

    Returns
    -------
    str
        The actual digest (equal to ``expected``).

    Raises
    ------
    ChecksumError
        When the digests differ; the message names the file and both digests.
    """
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ChecksumError(path, expected, actual)
    return actual


def candidates(entry: DatasetEntry) -> list[tuple[Path, str]]:
    """Paths where ``entry`` may live, in search order, each with its origin label."""
    found = []
    root = wiloc_data_dir()
    if root is not None:
        found.append((root / entry.path, WHERE_WILOC_DATA))
        found.append((root / entry.filename, WHERE_WILOC_DATA))
    found.append((data_cache_dir() / entry.path, WHERE_CACHE))
    return found


def find_local(entry: DatasetEntry) -> Located | None:
    """The first existing candidate path of ``entry`` (not hash-checked), or None."""
    for path, where in candidates(entry):
        if path.is_file():
            return Located(entry=entry, path=path.resolve(), where=where)
    return None


def not_found_message(entry: DatasetEntry) -> str:
    """How to get a missing file, in one line."""
    tried = ", ".join(str(p) for p, _ in candidates(entry))
    how = f"run `wiloc data fetch {entry.name}`" if entry.direct_download else (
        f"download it by hand from {entry.download_url}")
    return (f"dataset '{entry.name}' ({entry.path}) not found (looked in: {tried}); set WILOC_DATA to a "
            f"folder holding {entry.path} or {entry.filename}, or {how}")


def locate(name: str | DatasetEntry, verify: bool = True) -> Located:
    """Find a dataset file and (by default) check its sha256.

    Parameters
    ----------
    name : str or DatasetEntry
        Manifest name (``"UJI1"``), file name (``"UJI1.mat"``) or an entry.
    verify : bool, default True
        Check the file's sha256 against the manifest.

    Returns
    -------
    Located
        The path and where it was found (``"WILOC_DATA"`` or ``"cache"``).

    Raises
    ------
    DatasetNotFoundError
        When no candidate path exists; the message says how to get the file.
    ChecksumError
        When the file's sha256 differs from the manifest's.
    """
    entry = name if isinstance(name, DatasetEntry) else get_entry(name)
    found = find_local(entry)
    if found is None:
        raise DatasetNotFoundError(not_found_message(entry))
    if verify:
        verify_file(found.path, entry.sha256)
    record_read(entry.name, sha256_file(found.path))
    return found

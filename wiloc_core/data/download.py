"""Downloading dataset files with pooch into the cache, hash-checked before any parsing."""

from __future__ import annotations

import re
from pathlib import Path

from wiloc_core.errors import ChecksumError, DatasetNotFoundError
from wiloc_core.paths import data_cache_dir

from .manifest import DatasetEntry, get_entry
from .resolve import WHERE_CACHE, Located, find_local, sha256_file, verify_file

_GOT_HASH = re.compile(r"but got ([0-9a-f]{64})")


def _actual_hash_from(message: str) -> str:
    match = _GOT_HASH.search(message)
    return match.group(1) if match else f"unknown ({message})"


def fetch(name: str | DatasetEntry, url: str | None = None, force: bool = False,
          progressbar: bool = False) -> Located:
    """Make a dataset file available locally, downloading it if needed.

    A copy already present (in ``$WILOC_DATA`` or the cache) with the right sha256 is
    used as is. Otherwise the file is downloaded with :func:`pooch.retrieve` into
    ``data_cache_dir()/<entry.path>``; pooch checks the sha256 before the file is kept,
    so nothing is ever parsed from an unverified download.

    Parameters
    ----------
    name : str or DatasetEntry
        Manifest name or entry.
    url : str, optional
        Download from here instead of the entry's ``download_url`` (a mirror, or a
        local test server).
    force : bool, default False
        Download even when a verified local copy exists.
    progressbar : bool, default False
        Let pooch show a progress bar (needs tqdm).

    Returns
    -------
    Located
        The cached file, ``where == "cache"`` (or the existing local copy).

    Raises
    ------
    ChecksumError
        When the downloaded bytes do not have the manifest's sha256 (the download is
        deleted); the message names both digests.
    DatasetNotFoundError
        When the entry has no direct download URL and none was given, or the
        download itself fails (network, HTTP error).
    """
    entry = name if isinstance(name, DatasetEntry) else get_entry(name)
    if not force:
        existing = find_local(entry)
        if existing is not None and sha256_file(existing.path) == entry.sha256:
            return existing
    if url is None:
        if not entry.direct_download:
            raise DatasetNotFoundError(
                f"dataset '{entry.name}' has no direct download: {entry.download_note} "
                f"Source: {entry.download_url}")
        url = entry.download_url
    target = data_cache_dir() / entry.path
    return Located(entry=entry, path=_retrieve(entry, url, target, progressbar), where=WHERE_CACHE)


def _retrieve(entry: DatasetEntry, url: str, target: Path, progressbar: bool) -> Path:
    import pooch  # lazy: pooch pulls in requests

    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = pooch.retrieve(url, known_hash=f"sha256:{entry.sha256}", fname=target.name,
                              path=target.parent, progressbar=progressbar)
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        raise ChecksumError(f"{url} -> {target}", entry.sha256, _actual_hash_from(str(exc))) from exc
    except Exception as exc:  # network and HTTP errors come from requests
        raise DatasetNotFoundError(
            f"could not download '{entry.name}' from {url}: {type(exc).__name__}: {exc}") from exc
    verify_file(path, entry.sha256)  # belt and braces; cheap thanks to the hash cache
    return Path(path).resolve()

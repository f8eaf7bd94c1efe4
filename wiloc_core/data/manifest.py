"""The data manifest: what each dataset file is, where it comes from and its sha256.

The manifest lives in ``data/manifest.json``. It lists files, never data: one entry per
file, with a short ``name`` used everywhere else (``"UJI1"``, ``"rtt_office_train"``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from wiloc_core.errors import DataFormatError, DatasetNotFoundError
from wiloc_core.paths import data_manifest_path

KINDS = ("fingerprint", "rtt")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_TEXT_FIELDS = ("licence", "citation", "source_url", "description")


@dataclass(frozen=True)
class DatasetEntry:
    """One file of the manifest.

    Attributes
    ----------
    name : str
        Short name, unique in the manifest (``"UJI1"``).
    kind : str
        ``"fingerprint"`` or ``"rtt"``.
    path : str
        Relative POSIX path inside ``$WILOC_DATA`` and the cache (``"fingerprints/UJI1.mat"``).
    sha256 : str
        Lower-case hex digest of the file's bytes.
    size_bytes : int
        Expected size in bytes (a hint for users; the hash is what is checked).
    licence, citation, source_url, description : str
        Provenance, in words.
    download_url : str
        Best public URL for the file, or for the page holding it.
    direct_download : bool
        True when ``download_url`` serves the file's bytes themselves, so that
        :func:`wiloc_core.data.fetch` can download it.
    download_note : str
        Manual steps when ``direct_download`` is False, or other remarks.
    shapes : dict of str to tuple of int
        Expected array shapes (``{"train": (19861, 520), "test": (1111, 520)}``).
    """

    name: str
    kind: str
    path: str
    sha256: str
    size_bytes: int
    licence: str
    citation: str
    source_url: str
    download_url: str
    direct_download: bool
    description: str
    download_note: str = ""
    shapes: dict = field(default_factory=dict)

    @property
    def filename(self) -> str:
        """The file name alone (``"UJI1.mat"``)."""
        return PurePosixPath(self.path).name


def _require(source, raw: dict, key: str, kind: type, where: str):
    if key not in raw:
        raise DataFormatError(source, f"{where}.{key}", f"a {kind.__name__}", "nothing")
    value = raw[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DataFormatError(source, f"{where}.{key}", f"a {kind.__name__}", type(value).__name__)
    return value


def _parse_shapes(source, raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise DataFormatError(source, f"{where}.shapes", "an object of name -> [int, ...]", repr(raw))
    shapes = {}
    for key, value in raw.items():
        ok = isinstance(value, list) and all(isinstance(v, int) and v >= 0 for v in value)
        if not ok:
            raise DataFormatError(source, f"{where}.shapes.{key}", "a list of non-negative ints", repr(value))
        shapes[key] = tuple(value)
    return shapes


def _parse_entry(source, raw, index: int) -> DatasetEntry:
    where = f"datasets[{index}]"
    if not isinstance(raw, dict):
        raise DataFormatError(source, where, "an object", type(raw).__name__)
    name = _require(source, raw, "name", str, where)
    if not _NAME.match(name):
        raise DataFormatError(source, f"{where}.name", "letters, digits and '_'", repr(name))
    where = f"datasets[{name}]"
    kind = _require(source, raw, "kind", str, where)
    if kind not in KINDS:
        raise DataFormatError(source, f"{where}.kind", f"one of {KINDS}", repr(kind))
    path = _require(source, raw, "path", str, where)
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not path:
        raise DataFormatError(source, f"{where}.path", "a relative path without '..'", repr(path))
    sha = _require(source, raw, "sha256", str, where)
    if not _SHA256.match(sha):
        raise DataFormatError(source, f"{where}.sha256", "64 lower-case hex digits", repr(sha))
    size = _require(source, raw, "size_bytes", int, where)
    texts = {key: _require(source, raw, key, str, where) for key in _TEXT_FIELDS}
    direct = _require(source, raw, "direct_download", bool, where)
    url = _require(source, raw, "download_url", str, where)
    if not url.startswith(("https://", "http://")):
        raise DataFormatError(source, f"{where}.download_url", "an http(s) URL", repr(url))
    note = raw.get("download_note", "")
    shapes = _parse_shapes(source, raw.get("shapes", {}), where)
    return DatasetEntry(name=name, kind=kind, path=path, sha256=sha, size_bytes=size, download_url=url,
                        direct_download=direct, download_note=str(note), shapes=shapes, **texts)


def load_manifest(path: str | Path | None = None) -> dict[str, DatasetEntry]:
    """Read and validate the data manifest.

    Parameters
    ----------
    path : str or Path, optional
        Manifest file; defaults to ``data/manifest.json`` in the repository.

    Returns
    -------
    dict of str to DatasetEntry
        Entries keyed by name, in file order.

    Raises
    ------
    DataFormatError
        When the file is not JSON or an entry lacks a field, has a wrongly typed one,
        or repeats a name or a path.
    """
    source = Path(path) if path is not None else data_manifest_path()
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataFormatError(source, "(file)", "an existing JSON manifest", "no such file") from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(source, "(file)", "valid JSON", f"{exc.msg} at line {exc.lineno}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), list):
        raise DataFormatError(source, "datasets", "a top-level object with a 'datasets' list")
    entries: dict[str, DatasetEntry] = {}
    paths: set[str] = set()
    for index, item in enumerate(raw["datasets"]):
        entry = _parse_entry(source, item, index)
        if entry.name.lower() in {n.lower() for n in entries}:
            raise DataFormatError(source, f"datasets[{entry.name}].name", "a unique name", "a repeat")
        if entry.path in paths:
            raise DataFormatError(source, f"datasets[{entry.name}].path", "a unique path", "a repeat")
        entries[entry.name] = entry
        paths.add(entry.path)
    return entries


def get_entry(name: str, manifest: dict[str, DatasetEntry] | None = None) -> DatasetEntry:
    """Find one manifest entry by name or by file name, ignoring case.

    Parameters
    ----------
    name : str
        ``"UJI1"``, ``"uji1"``, ``"UJI1.mat"`` or ``"UTS_test.csv"`` all work.
    manifest : dict, optional
        Result of :func:`load_manifest`; read from disk when omitted.

    Raises
    ------
    DatasetNotFoundError
        When no entry matches; the message lists the known names.
    """
    entries = load_manifest() if manifest is None else manifest
    wanted = name.strip().lower()
    for entry in entries.values():
        if wanted in (entry.name.lower(), entry.filename.lower(), entry.path.lower()):
            return entry
    known = ", ".join(entries)
    raise DatasetNotFoundError(f"'{name}' is not in the data manifest; known names: {known}")

"""One-call summaries of datasets, for ``wiloc data info`` and notebooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wiloc_core.errors import DatasetNotFoundError

from .fingerprints import FingerprintDataset, load_fingerprint_file
from .manifest import DatasetEntry, get_entry, load_manifest
from .resolve import find_local, locate, sha256_file, verify_file


def _extent(xy: np.ndarray) -> list[float] | None:
    if xy.size == 0 or not np.isfinite(xy).any():
        return None
    span = np.nanmax(xy, axis=0) - np.nanmin(xy, axis=0)
    return [round(float(v), 3) for v in span]


def _fingerprint_summary(dataset: FingerprintDataset) -> dict:
    both = [s for s in (dataset.train, dataset.test) if s.n_samples]
    xy = np.concatenate([s.xy for s in both]) if both else np.zeros((0, 2))
    detected = np.concatenate([s.detected_fraction_per_sample for s in both]) if both else np.zeros(0)
    return {
        "train_shape": [dataset.train.n_samples, dataset.train.n_aps],
        "test_shape": [dataset.test.n_samples, dataset.test.n_aps],
        "n_aps": dataset.n_aps,
        "floors": sorted({int(v) for s in both for v in np.unique(s.floor)}),
        "buildings": sorted({int(v) for s in both for v in np.unique(s.building)}),
        "extent_m": _extent(xy),
        "mean_detected_fraction": round(float(detected.mean()), 5) if detected.size else None,
        "source_kind": dataset.source_kind,
    }


def _rtt_summary(path: Path) -> dict:
    from .rtt import read_ap_positions, read_rtt_csv, room_and_split

    if path.suffix.lower() == ".txt":
        rooms = read_ap_positions(path)
        return {"rooms": {room: int(xy.shape[0]) for room, xy in rooms.items()}}
    positions = None
    named = room_and_split(path)
    sibling = path.parent / "AP_positions.txt"
    if named and sibling.is_file():
        positions = read_ap_positions(sibling).get(named[0])
    data = read_rtt_csv(path, ap_positions=positions)
    return {
        "room": data.room,
        "split": data.split,
        "rows": data.n_samples,
        "n_aps": data.n_aps,
        "ap_columns": list(data.ap_columns),
        "reference_points": int(data.reference_points.shape[0]),
        "extent_m": _extent(data.xy),
        "los_fraction": round(float(data.los.mean()), 5) if data.los.size else None,
        "rtt_response_fraction": round(float(np.isfinite(data.rtt_m).mean()), 5),
    }


def _entry_for_path(path: Path) -> DatasetEntry | None:
    for entry in load_manifest().values():
        if entry.filename == path.name:
            return entry
    return None


def _kind_of(path: Path, entry: DatasetEntry | None) -> str:
    if entry is not None:
        return entry.kind
    if path.suffix.lower() == ".txt" or path.stem.startswith("database_"):
        return "rtt"
    return "fingerprint"


def describe(name_or_path: str | Path, verify: bool = True) -> dict:
    """Summarise a dataset given by manifest name or by file path.

    The file is hash-checked (when it matches a manifest entry) before it is parsed.

    Parameters
    ----------
    name_or_path : str or Path
        ``"UJI1"`` or a path to a .mat/.csv/.txt file.
    verify : bool, default True
        Compare the sha256 with the manifest.

    Returns
    -------
    dict
        ``name``, ``kind``, ``path``, ``where`` ("WILOC_DATA", "cache" or "path"),
        ``sha256`` ("ok", "mismatch", "not checked" or "not in manifest"; "mismatch"
        only for a file given by path, a named file raises instead), and for
        fingerprints ``train_shape``, ``test_shape``, ``n_aps``, ``floors``,
        ``buildings``, ``extent_m`` ([dx, dy] metres), ``mean_detected_fraction``;
        for RTT files ``room``, ``rows``, ``n_aps``, ``extent_m``, ``los_fraction``.

    Raises
    ------
    DatasetNotFoundError
        Neither a manifest name nor an existing file, or the named file is missing.
    ChecksumError
        ``verify``, a manifest name, and the file's sha256 differs from the manifest.
    DataFormatError
        The file does not parse.
    """
    candidate = Path(name_or_path)
    if candidate.is_file():
        path, where, entry = candidate.resolve(), "path", _entry_for_path(candidate)
    else:
        try:
            entry = get_entry(str(name_or_path))
        except DatasetNotFoundError:
            raise DatasetNotFoundError(f"{name_or_path}: neither an existing file nor a manifest name") from None
        found = locate(entry, verify=False)
        path, where = found.path, found.where
    if entry is None:
        status = "not in manifest"
    elif not verify:
        status = "not checked"
    elif where == "path":  # a file the user pointed at: report, do not refuse
        status = "ok" if sha256_file(path) == entry.sha256 else "mismatch"
    else:
        verify_file(path, entry.sha256)
        status = "ok"
    info = {"name": entry.name if entry else path.stem, "kind": _kind_of(path, entry), "path": str(path),
            "where": where, "sha256": status}
    if info["kind"] == "rtt":
        info.update(_rtt_summary(path))
    else:
        info.update(_fingerprint_summary(load_fingerprint_file(path, name=info["name"])))
    return info


def local_status(entry: DatasetEntry, check_hash: bool = False) -> dict:
    """Where a manifest entry is found locally and, optionally, whether its hash matches.

    Returns
    -------
    dict
        ``name``, ``kind``, ``where`` (None when missing), ``path``, and with
        ``check_hash`` also ``sha256`` ("ok", "mismatch" or "missing") and ``actual``.
    """
    found = find_local(entry)
    status = {"name": entry.name, "kind": entry.kind, "where": found.where if found else None,
              "path": str(found.path) if found else None}
    if check_hash:
        if found is None:
            status.update(sha256="missing", actual=None)
        else:
            actual = sha256_file(found.path)
            status.update(sha256="ok" if actual == entry.sha256 else "mismatch", actual=actual,
                          expected=entry.sha256)
    return status

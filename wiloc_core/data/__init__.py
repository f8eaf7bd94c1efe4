"""Datasets: the manifest, finding and fetching files, strict readers, and simulated stand-ins.

Typical use::

    from wiloc_core.data import load_fingerprints, load_rtt, to_positive

    uji = load_fingerprints("UJI1")          # real when $WILOC_DATA has it, else simulated
    print(uji.source_kind, uji.note)
    x = to_positive(uji.train.rss)           # float32, 0 = not detected, bigger = stronger

Only NumPy (and the NumPy-only scene simulator) is imported here; scipy.io, pandas and
pooch are imported by the functions that need them.

Modules, in the order data flows: ``manifest`` (names) -> ``resolve`` (local files)
-> ``csv_table`` / ``fingerprints`` / ``rtt`` / ``ctf`` (readers) and ``synthetic``
(stand-ins from the scene simulator), both building ``fingerprint_set`` containers ->
``loaders`` (real file or stand-in, decided in one place).
"""

from .download import fetch
from .fingerprints import (
    NOT_DETECTED,
    FingerprintDataset,
    FingerprintSet,
    load_fingerprint_file,
    powed,
    read_mat_fingerprints,
    read_uts_csv,
    to_positive,
)
from .loaders import load_fingerprints
from .manifest import DatasetEntry, get_entry, load_manifest
from .resolve import Located, locate, sha256_file, verify_file
from .rtt import GRID_M, RttSet, load_rtt, read_ap_positions, read_rtt_csv
from .summary import describe
from .synthetic import PathLossModel, synthetic_fingerprints

__all__ = [
    "GRID_M",
    "NOT_DETECTED",
    "DatasetEntry",
    "FingerprintDataset",
    "FingerprintSet",
    "Located",
    "PathLossModel",
    "RttSet",
    "describe",
    "fetch",
    "get_entry",
    "load_fingerprint_file",
    "load_fingerprints",
    "load_manifest",
    "load_rtt",
    "locate",
    "powed",
    "read_ap_positions",
    "read_mat_fingerprints",
    "read_rtt_csv",
    "read_uts_csv",
    "sha256_file",
    "synthetic_fingerprints",
    "to_positive",
    "verify_file",
]

"""Fingerprint sets: the containers and conventions shared by real readers and simulated stand-ins.

Conventions kept everywhere in wiloc:

- ``rss`` is float32 dBm, shape ``[n_samples, n_aps]``; an AP that was not heard is
  stored as ``NOT_DETECTED = +100.0`` exactly as in the public files. Detected values
  lie in ``[RSS_MIN_DBM, RSS_MAX_DBM]`` = ``[-110, 0]`` dBm.
- ``xy`` is float64 metres, shape ``[n_samples, 2]``, in each dataset's own frame.
- ``floor`` and ``building`` are int64 ids; ``height`` is float64 metres (NaN when
  the dataset has none).

The readers (:mod:`wiloc_core.data.fingerprints`) and the simulated stand-ins
(:mod:`wiloc_core.data.synthetic`) both build these objects, and neither imports the
other; :mod:`wiloc_core.data.loaders` chooses between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wiloc_core.errors import ParameterError

NOT_DETECTED = 100.0
"""RSS marker for "access point not detected" (dBm files store it as +100)."""

RSS_MIN_DBM = -110.0
"""Weakest detected reading, dBm."""
RSS_MAX_DBM = 0.0
"""Strongest detected reading, dBm."""
SPLITS = ("train", "test")
SOURCE_KINDS = ("real", "simulated")


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

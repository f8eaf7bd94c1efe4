"""Named fingerprint datasets: the one place that decides real file or simulated stand-in.

One path, in one direction::

    name -> manifest entry (manifest) -> located, verified file (resolve)
         -> reader (fingerprints) -> FingerprintDataset
         or, when no file is found, the scene simulator's stand-in (synthetic)

:mod:`~wiloc_core.data.fingerprints` (readers) and :mod:`~wiloc_core.data.synthetic`
(simulated stand-ins) know nothing of each other's choice; this module imports both.
"""

from __future__ import annotations

from wiloc_core.errors import DatasetNotFoundError, ParameterError

from .fingerprints import FingerprintDataset, load_fingerprint_file
from .manifest import get_entry
from .resolve import locate, not_found_message
from .synthetic import synthetic_fingerprints

SOURCES = ("auto", "real", "simulated")
"""Values of ``source`` in :func:`load_fingerprints`."""


def simulated_fallback(name: str, seed=0, reason: str = "") -> FingerprintDataset:
    """The simulated stand-in for a named fingerprint dataset, with a note saying why.

    Parameters
    ----------
    name : str
        Manifest name of a fingerprint dataset.
    seed : int or numpy.random.Generator, default 0
    reason : str, optional
        Why the real file is not used; prepended to the stand-in's note.

    Returns
    -------
    FingerprintDataset
        :func:`~wiloc_core.data.synthetic.synthetic_fingerprints`, ``source_kind ==
        "simulated"``.
    """
    dataset = synthetic_fingerprints(name, seed=seed)
    if not reason:
        return dataset
    return FingerprintDataset(train=dataset.train, test=dataset.test, name=dataset.name,
                              source_kind="simulated", note=f"{reason} {dataset.note}")


def load_fingerprints(name: str, source: str = "auto", seed=0, verify: bool = True) -> FingerprintDataset:
    """Load a named fingerprint dataset, real when available.

    Parameters
    ----------
    name : str
        Manifest name: ``"UJI1"``, ``"TUT3"``, ``"TUT5"``, ``"LIB1"`` or ``"UTS"``.
    source : {"auto", "real", "simulated"}, default "auto"
        ``"real"`` reads the local file (see :func:`wiloc_core.data.locate`) and fails
        when it is missing; ``"simulated"`` returns
        :func:`~wiloc_core.data.synthetic.synthetic_fingerprints`; ``"auto"`` reads the
        real file when found and otherwise falls back to the simulation, saying so in
        ``note``. A file with the wrong sha256 is an error in every mode (never
        silently replaced by a simulation).
    seed : int or numpy.random.Generator, default 0
        Seed of the simulation (unused for real data).
    verify : bool, default True
        Check the real file's sha256 against the manifest.

    Raises
    ------
    DatasetNotFoundError
        ``source="real"`` and no local copy; the message says how to set
        ``WILOC_DATA`` or to run ``wiloc data fetch NAME``.
    ChecksumError
        The local file's sha256 differs from the manifest.
    """
    if source not in SOURCES:
        raise ParameterError("source", "'auto', 'real' or 'simulated'", source)
    entry = get_entry(name)
    if entry.kind != "fingerprint":
        raise ParameterError("name", "a fingerprint dataset", f"{entry.name} ({entry.kind})")
    if source == "simulated":
        return synthetic_fingerprints(entry.name, seed=seed)
    try:
        found = locate(entry, verify=verify)
    except DatasetNotFoundError:
        if source == "real":
            raise DatasetNotFoundError(not_found_message(entry)) from None
        how = not_found_message(entry).split("; ", 1)[1]
        return simulated_fallback(entry.name, seed=seed, reason=(
            f"No local copy of the real {entry.name} data was found, so this is a simulated stand-in "
            f"(the scene simulator's RSS sensor). To use the real data: {how}."))
    return load_fingerprint_file(found.path, name=entry.name)

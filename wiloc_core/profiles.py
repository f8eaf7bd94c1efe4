"""Run profiles: the one place where ``quick`` and ``full`` settings live.

``quick`` is what CI runs (every notebook in about a minute on two cores);
``full`` follows the paper's protocol. Notebooks read their settings with
:func:`settings` and never copy these numbers. A notebook parameter left at
``None`` takes the profile's value; any other value overrides it.

Each chapter key is the notebook stem without its ``NN-`` prefix.
"""

from __future__ import annotations

from copy import deepcopy

from wiloc_core.errors import ParameterError

PROFILE_NAMES = ("quick", "full")

_PRESETS: dict[str, dict[str, dict]] = {
    "fingerprint-datasets": {
        "quick": {
            # UJIIndoorLoc has ~20k training rows: a subsample keeps CI under a minute.
            "max_train_samples": 4000,
            "k_candidates": [1, 3, 5, 7, 9],
            "validation_fraction": 0.2,
        },
        "full": {
            "max_train_samples": None,
            "k_candidates": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20],
            "validation_fraction": 0.2,
        },
    },
    "radio-channel": {
        "quick": {"n_sweeps": 3, "max_reflection_order": 2, "n_displacements": 25},
        "full": {"n_sweeps": 10, "max_reflection_order": 3, "n_displacements": 60},
    },
    # --- paper 000 (notebooks/10-*): block owned by the CTF-transfer chapter ---
    # --- end paper 000 ---
    # --- paper 001 (notebooks/20-*): block owned by the surrogate-teacher chapter ---
    # --- end paper 001 ---
}


def chapters() -> list[str]:
    """Chapters that have presets."""
    return sorted(_PRESETS)


def settings(chapter: str, profile: str, **overrides) -> dict:
    """The settings of ``chapter`` under ``profile``, with non-None overrides applied.

    Parameters
    ----------
    chapter : str
        Chapter key, e.g. ``"fingerprint-datasets"``.
    profile : {"quick", "full"}
    **overrides
        Values a reader set in the notebook's parameters cell; ``None`` means
        "use the profile's value". An override naming no known setting is an error,
        which catches typos in parameter names.

    Returns
    -------
    dict
        A fresh copy, safe to modify, with ``profile`` added.
    """
    if profile not in PROFILE_NAMES:
        raise ParameterError("profile", f"one of {PROFILE_NAMES}", profile)
    if chapter not in _PRESETS:
        raise ParameterError("chapter", f"one of {chapters()}", chapter)
    values = deepcopy(_PRESETS[chapter][profile])
    for name, value in overrides.items():
        if name not in values:
            raise ParameterError(name, f"a setting of chapter '{chapter}': {sorted(values)}")
        if value is not None:
            values[name] = value
    values["profile"] = profile
    return values


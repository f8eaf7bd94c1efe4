"""Descriptive statistics of fingerprint datasets: size, extent and sparsity.

The surrogate-teacher paper (001, §4.1) describes its databases by how many access
points ("anchors") are in operation: about 232 of 520 per floor in UJIIndoorLoc, 557 of
589 in UTS and 779 of 992 in Tampere. We count an AP as *active* when it is heard at
least once in the radio map, i.e. the split a model is trained on (the test split when
a file has no training split, as our UTS copy). For Tampere this definition gives the
paper's count exactly; the chapter shows how the others compare.
"""

from __future__ import annotations

import numpy as np


def radio_map(dataset):
    """The split a model learns from: ``train``, or ``test`` when the file has no training rows."""
    if dataset.train is not None and dataset.train.n_samples > 0:
        return dataset.train
    return dataset.test


def _active(split, mask=None) -> int:
    detected = split.detected if mask is None else split.detected[mask]
    return int(detected.any(axis=0).sum())


def active_aps(dataset) -> int:
    """Access points heard at least once in the radio map."""
    return _active(radio_map(dataset))


def active_aps_per_floor(dataset) -> float:
    """Mean over (building, floor) pairs of the access points heard there at least once."""
    split = radio_map(dataset)
    pairs = sorted(set(zip(split.building.tolist(), split.floor.tolist(), strict=True)))
    return float(np.mean([_active(split, (split.building == b) & (split.floor == f))
                          for b, f in pairs]))


def active_aps_per_building(dataset) -> float:
    """Mean over buildings of the access points heard there at least once."""
    split = radio_map(dataset)
    return float(np.mean([_active(split, split.building == b) for b in np.unique(split.building)]))


def fingerprint_statistics(dataset) -> dict:
    """One row of the dataset tour: sizes, extent, floors and sparsity.

    Returns
    -------
    dict
        ``train``/``test`` (fingerprints), ``aps`` (columns), ``radio_map`` (the split
        the activity counts use), ``active_aps``, ``active_aps_per_building``,
        ``active_aps_per_floor``, ``heard_per_fingerprint`` (mean APs heard in one
        fingerprint of any split), ``heard_share_pct`` (the same as % of all APs),
        ``reference_points`` (distinct positions in the radio map), ``buildings``,
        ``floors`` (distinct building-floor pairs), ``extent_x_m``/``extent_y_m``
        (bounding box of all positions, m), ``source_kind``.
    """
    splits = [s for s in (dataset.train, dataset.test) if s is not None and s.n_samples > 0]
    detected = np.vstack([s.detected for s in splits])
    xy = np.vstack([s.xy for s in splits])
    floors = {(int(b), int(f)) for s in splits for b, f in zip(s.building, s.floor, strict=True)}
    fitted = radio_map(dataset)
    points = np.unique(np.column_stack([fitted.xy, fitted.floor, fitted.building]), axis=0)
    heard = detected.sum(axis=1)
    return {
        "dataset": dataset.name,
        "train": int(dataset.train.n_samples) if dataset.train is not None else 0,
        "test": int(dataset.test.n_samples) if dataset.test is not None else 0,
        "aps": int(detected.shape[1]),
        "radio_map": fitted.split,
        "active_aps": active_aps(dataset),
        "active_aps_per_building": round(active_aps_per_building(dataset), 1),
        "active_aps_per_floor": round(active_aps_per_floor(dataset), 1),
        "heard_per_fingerprint": round(float(heard.mean()), 1),
        "heard_share_pct": round(100.0 * float(heard.mean()) / detected.shape[1], 2),
        "reference_points": int(len(points)),
        "buildings": len({b for b, _ in floors}),
        "floors": len(floors),
        "extent_x_m": round(float(np.ptp(xy[:, 0])), 1),
        "extent_y_m": round(float(np.ptp(xy[:, 1])), 1),
        "source_kind": dataset.source_kind,
    }

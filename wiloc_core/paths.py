"""Where things live: the repository, the build folder, results and data caches.

Everything is resolved from this file's location or from environment variables,
never from the current working directory, so notebooks run the same from the
shell, from Papermill and from JupyterLab.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    """The repository checkout (the folder holding ``pyproject.toml``)."""
    return REPO_ROOT


def build_dir() -> Path:
    """Generated things: executed notebooks, results, timings, html (``WILOC_BUILD`` overrides)."""
    return Path(os.environ.get("WILOC_BUILD", REPO_ROOT / "build")).resolve()


def results_dir(stem: str) -> Path:
    """``build/results/<notebook-stem>/`` for one notebook's tables, figures and summary."""
    return build_dir() / "results" / stem


def committed_results_dir() -> Path:
    """``results/``: small full-profile result files committed with provenance."""
    return REPO_ROOT / "results"


def notebooks_dir() -> Path:
    return REPO_ROOT / "notebooks"


def book_dir() -> Path:
    return REPO_ROOT / "book"


def data_manifest_path() -> Path:
    return REPO_ROOT / "data" / "manifest.json"


def data_cache_dir() -> Path:
    """Local download cache, ``data/cache`` (git-ignored); ``WILOC_CACHE`` overrides."""
    return Path(os.environ.get("WILOC_CACHE", REPO_ROOT / "data" / "cache")).resolve()


def wiloc_data_dir() -> Path | None:
    """The folder named by ``WILOC_DATA``, or None when it is unset or empty."""
    value = os.environ.get("WILOC_DATA", "").strip()
    return Path(value).expanduser().resolve() if value else None

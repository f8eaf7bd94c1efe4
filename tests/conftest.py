"""Shared fixtures: real-data location and an isolated build folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def isolated_build(tmp_path, monkeypatch):
    """Point build/ at a temporary folder so tests never touch the real build."""
    monkeypatch.setenv("WILOC_BUILD", str(tmp_path / "build"))
    return tmp_path / "build"


@pytest.fixture
def real_data(monkeypatch, tmp_path) -> Path:
    """The real data folder: WILOC_DATA, else ../shared/data next to the repository.

    Skips with the folder it looked for when neither exists; points the download cache at
    a temporary folder so no test reads or writes the user's cache.
    """
    value = os.environ.get("WILOC_DATA", "").strip()
    folder = Path(value) if value else REPO.parent / "shared" / "data"
    if not folder.is_dir():
        pytest.skip(f"real data unavailable: {folder} does not exist (set WILOC_DATA to the data folder)")
    monkeypatch.setenv("WILOC_DATA", str(folder))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "cache"))
    return folder

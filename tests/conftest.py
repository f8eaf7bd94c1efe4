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


def real_data_dir() -> Path | None:
    value = os.environ.get("WILOC_DATA", "").strip()
    if value:
        return Path(value)
    sibling = REPO.parent / "shared" / "data"
    return sibling if sibling.is_dir() else None

"""Atomic file writes: a reader never sees a half-written result file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, obj) -> Path:
    """JSON with sorted keys and a trailing newline, so identical results give identical files."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n")

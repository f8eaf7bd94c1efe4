"""When progress bars are shown: on a terminal or in Jupyter, never in CI or batch logs."""

from __future__ import annotations

import os
import sys

__all__ = ["progress_enabled", "progress_bar"]

#: Environment variables whose presence (any value but "" or "0") silences every bar.
QUIET_ENV = ("CI", "WILOC_BATCH")


def _in_jupyter_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython() if hasattr(shell, "get_ipython") else None
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress_enabled(progress: bool | None = True) -> bool:
    """Whether to draw a bar.

    Parameters
    ----------
    progress : bool or None
        False: never. True or None: only when ``CI`` and ``WILOC_BATCH`` are unset and
        stderr is a terminal or the code runs in a Jupyter kernel.
    """
    if progress is False:
        return False
    if any(os.environ.get(name, "") not in ("", "0") for name in QUIET_ENV):
        return False
    if _in_jupyter_kernel():
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(total: int, desc: str, progress: bool | None = True, unit: str = "it"):
    """A ``tqdm.auto`` bar over ``total`` steps, disabled where :func:`progress_enabled` says."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True,
                disable=not progress_enabled(progress))

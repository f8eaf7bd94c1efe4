"""Which device trains: ``"auto"`` means CUDA when this machine has it, else the CPU."""

from __future__ import annotations

import torch

from wiloc_core.errors import ParameterError

__all__ = ["resolve_device", "describe_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch device a run will use.

    Parameters
    ----------
    device : str, torch.device or None
        ``"auto"`` or None: ``cuda`` when :func:`torch.cuda.is_available`, else ``cpu``.
        Anything else is taken literally (``"cpu"``, ``"cuda:1"``).

    Returns
    -------
    torch.device

    Raises
    ------
    ParameterError
        If a CUDA device is asked for on a machine without CUDA, or the name is unknown.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ParameterError("device", "'auto', 'cpu', 'cuda' or 'cuda:N'", device) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device", "'auto' or 'cpu' (CUDA is not available here)", device)
    return resolved


def describe_device(device: str | torch.device | None = "auto") -> str:
    """A provenance string: ``"cpu"`` or ``"cuda:0 (NVIDIA H200)"``."""
    resolved = resolve_device(device)
    if resolved.type != "cuda":
        return str(resolved)
    index = resolved.index if resolved.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"

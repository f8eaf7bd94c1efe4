"""Task results as bytes: JSON when plain, otherwise a weights-only torch file.

A result made only of dicts, lists, tuples, strings, numbers, booleans and None is
written as JSON (tuples come back as lists). Anything holding tensors or NumPy arrays
is written with :func:`torch.save` and read with ``torch.load(weights_only=True)``, so
reading a result never runs pickled code; NumPy arrays travel as tagged tensors and
come back as arrays. Every result a sweep returns has been through :func:`decode`, so
a computed result and a cached one are the same objects in type and value.
"""

from __future__ import annotations

import io
import json

import numpy as np

__all__ = ["encode", "decode", "is_plain"]

_ARRAY_TAG = "__ndarray__"


def is_plain(value) -> bool:
    """True when ``value`` can be written as JSON without loss (besides tuple -> list)."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, np.generic):
        return isinstance(value, np.bool_ | np.integer | np.floating | np.str_)
    if isinstance(value, list | tuple):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    return False


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _tag(value, where: str):
    import torch

    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"result{where}: NumPy arrays of Python objects cannot be stored")
        return {_ARRAY_TAG: torch.from_numpy(np.array(value, copy=True))}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):  # subclasses (torch.__version__ is one) are not safe
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dict):
        return {k: _tag(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_tag(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    hint = " (return model.state_dict() instead)" if isinstance(value, torch.nn.Module) else ""
    raise TypeError(f"result{where}: a {type(value).__name__} cannot be stored safely{hint}; "
                    "use dicts, lists, numbers, strings, tensors and NumPy arrays")


def _untag(value):
    if isinstance(value, dict):
        if set(value) == {_ARRAY_TAG}:
            return value[_ARRAY_TAG].numpy()
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_untag(v) for v in value)
    return value


def encode(value) -> tuple[str, bytes]:
    """``(suffix, data)``: ``(".json", UTF-8 JSON)`` or ``(".pt", torch file bytes)``."""
    if is_plain(value):
        text = json.dumps(value, default=_json_default, allow_nan=True)
        return ".json", text.encode("utf-8")
    import torch

    buffer = io.BytesIO()
    torch.save(_tag(value, ""), buffer)
    return ".pt", buffer.getvalue()


def decode(suffix: str, data: bytes):
    """Inverse of :func:`encode` (torch files are read with ``weights_only=True``)."""
    if suffix == ".json":
        return json.loads(data.decode("utf-8"))
    if suffix == ".pt":
        import torch

        return _untag(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
    raise ValueError(f"unknown result suffix {suffix!r}: expected '.json' or '.pt'")

"""A task: one call of a pure function on its parameters and data.

A :class:`Task` names its function by import path (``"package.module:function"``), so a
worker on another machine can import it, and carries everything its cache key needs:
the parameters (JSON-like), a digest of the data and the method's version constant.
The version is bumped by hand whenever the method's behaviour changes; editing a
docstring does not void any cached result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wiloc_core.errors import ParameterError

__all__ = ["Task", "function_ref", "resolve_function", "digest_data", "canonical_json"]


def function_ref(fn) -> str:
    """``"module:qualname"`` of a module-level function (a string is checked and returned)."""
    if isinstance(fn, str):
        module, _, name = fn.partition(":")
        if not module or not name:
            raise ParameterError("fn", "'package.module:function'", fn)
        return fn
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<" in name:
        raise ParameterError("fn", "a function defined at module level in an importable "
                             "module (workers import it by name)", f"{module}.{name}")
    return f"{module}:{name}"


def resolve_function(ref: str):
    """The function ``ref`` (``"module:qualname"``) names, imported."""
    module, _, name = function_ref(ref).partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _canonical(value, where: str):
    """``value`` as plain JSON types; dataclasses become their fields plus the class name."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _canonical(getattr(value, f.name), f"{where}.{f.name}")
                  for f in dataclasses.fields(value)}
        return {"__class__": type(value).__qualname__, **fields}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ParameterError(where, "a dict with string keys", list(value)[:5])
        return {k: _canonical(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ParameterError(where, "JSON-like values (numbers, strings, lists, dicts, "
                         "dataclasses); pass large arrays as the task's data",
                         type(value).__name__)


def canonical_json(value, where: str = "params") -> str:
    """One text for equal values: sorted keys, no spaces, tuples as lists, shortest floats."""
    return json.dumps(_canonical(value, where), sort_keys=True, separators=(",", ":"),
                      allow_nan=True)


def _feed(h, value, where: str) -> None:
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        if a.dtype.hasobject:
            raise ParameterError(where, "numeric arrays", "an object array")
        h.update(f"array{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    elif isinstance(value, dict):
        h.update(f"dict{len(value)}".encode())
        for k in sorted(value, key=str):
            h.update(canonical_json(str(k)).encode())
            _feed(h, value[k], f"{where}[{k!r}]")
    elif isinstance(value, list | tuple):
        h.update(f"seq{len(value)}".encode())
        for i, v in enumerate(value):
            _feed(h, v, f"{where}[{i}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(type(value).__qualname__.encode())
        _feed(h, {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, where)
    else:
        h.update(canonical_json(value, where).encode())


def digest_data(data) -> str:
    """sha256 (hex) of arrays, tensors, and dicts/lists/dataclasses of them.

    Dtype, shape and bytes of every array enter the digest, and so do the keys, so
    equal data give one digest in any process. For data of other types, compute a
    digest yourself and pass it as ``Task(data_digest=...)``.
    """
    h = hashlib.sha256()
    _feed(h, data, "data")
    return h.hexdigest()


def _version_of(fn_ref: str, fn) -> str:
    version = getattr(fn, "VERSION", None)
    if version is None:
        module = importlib.import_module(fn_ref.partition(":")[0])
        version = getattr(module, "VERSION", None)
    if version is None:
        raise ParameterError("version", f"a version constant: give Task(version=...) or "
                             f"define VERSION in {fn_ref.partition(':')[0]}", None)
    return str(version)


@dataclass(frozen=True)
class Task:
    """One unit of a sweep: ``fn(data, **params)`` (or ``fn(**params)`` without data).

    Build tasks with :meth:`Task.create`.

    Attributes
    ----------
    name : str
        Label for progress bars and errors (not part of the cache key).
    fn : str
        ``"package.module:function"``.
    params : dict
        Keyword arguments; JSON-like (dataclasses such as ``TrainSettings`` allowed).
    data : object or None
        Positional first argument (arrays, dicts of arrays, ...); travels to the worker
        but enters the cache key only through ``data_digest``.
    data_digest : str
        sha256 of ``data`` (``"none"`` without data).
    version : str
        The method's version constant.
    """

    name: str
    fn: str
    params: dict
    data: Any = field(default=None, repr=False, compare=False)
    data_digest: str = "none"
    version: str = ""

    @classmethod
    def create(cls, fn, params: dict | None = None, *, name: str | None = None, data=None,
               data_digest: str | None = None, version=None) -> Task:
        """A task for ``fn`` (a module-level function or its ``"module:name"``).

        ``version`` defaults to ``fn.VERSION``, else the ``VERSION`` of ``fn``'s module;
        ``data_digest`` defaults to :func:`digest_data` of ``data``.
        """
        ref = function_ref(fn)
        target = resolve_function(ref) if isinstance(fn, str) else fn
        params = dict(params or {})
        canonical_json(params)  # fail here, naming the parameter, not in a worker
        if data_digest is None:
            data_digest = "none" if data is None else digest_data(data)
        version = _version_of(ref, target) if version is None else str(version)
        return cls(name=name or ref.partition(":")[2], fn=ref, params=params, data=data,
                   data_digest=str(data_digest), version=version)

    def key_parts(self) -> dict:
        """What the cache key hashes: function, parameters, data digest, version, and the
        torch and NumPy versions (numerics may change with them)."""
        import torch

        return {"fn": self.fn, "params": _canonical(self.params, "params"),
                "data": self.data_digest, "version": self.version,
                "torch": str(torch.__version__), "numpy": str(np.__version__)}

    def key(self) -> str:
        """sha256 (hex) of :meth:`key_parts` as canonical JSON."""
        text = canonical_json(self.key_parts(), "task")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

"""Safe checkpoints: weights plus the architecture they belong to.

A checkpoint is one file written with :func:`torch.save` holding a plain dictionary::

    {
        "format": "wiloc-checkpoint/1",
        "architecture": "<name>",          # e.g. "ctf-cnn"
        "config": "<JSON text>",           # the constructor configuration
        "extra": "<JSON text>",            # optional free metadata (epochs, seed, ...)
        "state_dict": {name: tensor, ...}, # model.state_dict()
    }

Only strings, dictionaries and tensors are stored, so the file loads with
``torch.load(..., weights_only=True)``: no pickled code is ever executed. Loading
checks, before touching the model, that

1. the file has this layout;
2. its architecture name is the one the caller expects;
3. its configuration equals the model's (when the caller gives one);
4. its tensor names and shapes match the model's state dict exactly.

A mismatch raises :class:`CheckpointError` naming the file, the field and what was
expected, so a CNN checkpoint can never be loaded silently into another network.

Any ``torch.nn.Module`` can be saved. Models that carry ``architecture`` (str) and
``config`` (JSON-serialisable dict) attributes can use the short forms
:func:`save_model` / :func:`load_model`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from wiloc_core.errors import DataFormatError

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "save_checkpoint",
    "read_checkpoint",
    "load_checkpoint",
    "save_model",
    "load_model",
]

#: Layout tag written into every checkpoint.
FORMAT = "wiloc-checkpoint/1"


class CheckpointError(DataFormatError):
    """A checkpoint file is malformed or belongs to another architecture/configuration."""


@dataclass(frozen=True)
class Checkpoint:
    """The content of a checkpoint file.

    Attributes
    ----------
    path : pathlib.Path
    architecture : str
    config : dict
        Constructor configuration, as decoded from JSON.
    state_dict : dict[str, torch.Tensor]
    extra : dict
        Free metadata saved with the weights.
    """

    path: Path
    architecture: str
    config: dict
    state_dict: dict
    extra: dict = field(default_factory=dict)


def _json_text(value, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError as exc:
        raise TypeError(f"checkpoint {what} must be JSON-serialisable: {exc}") from exc


def _canonical(config: dict) -> dict:
    """The configuration as JSON would give it back (tuples become lists, keys sorted)."""
    return json.loads(_json_text(config, "config"))


def save_checkpoint(path, model: torch.nn.Module, *, architecture: str, config: dict,
                    extra: dict | None = None) -> Path:
    """Write ``model``'s weights with its architecture name and configuration.

    Parameters
    ----------
    path : str or path-like
        Destination file (conventionally ``*.pt``); parent folders are created.
    model : torch.nn.Module
    architecture : str
        Name that loaders must ask for, e.g. ``"ctf-cnn"``.
    config : dict
        JSON-serialisable constructor configuration.
    extra : dict, optional
        JSON-serialisable metadata (training settings, seed, ...).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
    payload = {"format": FORMAT, "architecture": str(architecture),
               "config": _json_text(config, "config"),
               "extra": _json_text(extra or {}, "extra"), "state_dict": state}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_checkpoint(path) -> Checkpoint:
    """Read and validate a checkpoint's layout (weights-only unpickling).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is not a wiloc checkpoint (not loadable with ``weights_only=True``,
        missing fields, wrong types).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for foreign or unsafe files
        raise CheckpointError(path, "file", "a torch file loadable with weights_only=True",
                              f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(path, "format", f"'{FORMAT}' (saved by save_checkpoint)",
                              repr(found))
    for name in ("architecture", "config", "extra"):
        if not isinstance(payload.get(name), str):
            raise CheckpointError(path, name, "a string", type(payload.get(name)).__name__)
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise CheckpointError(path, "state_dict", "a dictionary of tensors")
    try:
        config, extra = json.loads(payload["config"]), json.loads(payload["extra"])
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, "config", "JSON text", str(exc)) from exc
    return Checkpoint(path, payload["architecture"], config, state, extra)


def _check_state(ckpt: Checkpoint, model: torch.nn.Module) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(ckpt.state_dict))
    unexpected = sorted(set(ckpt.state_dict) - set(own))
    if missing or unexpected:
        raise CheckpointError(ckpt.path, "state_dict", "the model's tensor names",
                              f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    for name, tensor in own.items():
        stored = ckpt.state_dict[name]
        if tuple(stored.shape) != tuple(tensor.shape):
            raise CheckpointError(ckpt.path, f"state_dict[{name!r}]",
                                  f"shape {tuple(tensor.shape)}", f"shape {tuple(stored.shape)}")


def load_checkpoint(path, model: torch.nn.Module, *, architecture: str,
                    config: dict | None = None) -> Checkpoint:
    """Load weights into ``model`` after checking they belong to it.

    Parameters
    ----------
    path : str or path-like
    model : torch.nn.Module
        Receives the weights (strict loading) only when every check passes.
    architecture : str
        The architecture name the file must carry.
    config : dict, optional
        When given, the file's configuration must equal it.

    Returns
    -------
    Checkpoint
        The validated file content (its ``extra`` metadata included).

    Raises
    ------
    CheckpointError
        On any mismatch; ``model`` is left unchanged.
    """
    ckpt = read_checkpoint(path)
    if ckpt.architecture != architecture:
        raise CheckpointError(ckpt.path, "architecture", repr(architecture),
                              repr(ckpt.architecture))
    if config is not None:
        wanted = _canonical(config)
        if ckpt.config != wanted:
            keys = sorted(k for k in set(wanted) | set(ckpt.config)
                          if wanted.get(k) != ckpt.config.get(k))
            diff = ", ".join(f"{k}: {ckpt.config.get(k)!r} != {wanted.get(k)!r}" for k in keys)
            raise CheckpointError(ckpt.path, "config", "the model's configuration",
                                  f"differences (file != model): {diff}")
    _check_state(ckpt, model)
    model.load_state_dict(ckpt.state_dict, strict=True)
    return ckpt


def _identity(model) -> tuple[str, dict]:
    architecture = getattr(model, "architecture", None)
    config = getattr(model, "config", None)
    if not isinstance(architecture, str) or not isinstance(config, dict):
        raise TypeError(f"{type(model).__name__} has no 'architecture' (str) and 'config' "
                        "(dict) attributes; use save_checkpoint/load_checkpoint")
    return architecture, config


def save_model(path, model: torch.nn.Module, *, extra: dict | None = None) -> Path:
    """:func:`save_checkpoint` for a model with ``architecture`` and ``config`` attributes."""
    architecture, config = _identity(model)
    return save_checkpoint(path, model, architecture=architecture, config=config, extra=extra)


def load_model(path, model: torch.nn.Module) -> Checkpoint:
    """:func:`load_checkpoint` checking the model's own ``architecture`` and ``config``."""
    architecture, config = _identity(model)
    return load_checkpoint(path, model, architecture=architecture, config=config)

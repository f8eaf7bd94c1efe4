"""Checkpoints between epochs, so that a long task cut off mid-training resumes there.

A sweep task with a cache (:func:`wiloc_core.experiment.run_sweep`) runs inside
:func:`task_scope`, which names a folder of its own beside the cache. Every training
loop the task starts asks :func:`loop_checkpoint` for a file in that folder (the n-th
loop is ``n-<name>.pt``, so the stages of a multi-stage task keep theirs apart). After
an epoch, once ``interval_s`` seconds have passed since the last save
(``$WILOC_CHECKPOINT_S``, default :data:`DEFAULT_INTERVAL_S`; the clock runs per task,
across its loops), the loop saves what its next epoch reads: module and optimiser
states, its named generators, torch's global generators (dropout draws), its device and
its own bookkeeping (epoch, history, early-stopping record). A loop that has saved or
resumed saves once more when it ends, so a later stage's restart skips it.

A restarted task restores each loop's file and goes on from the next epoch; the network
it ends with is the one an uninterrupted run gives, bit for bit on the same device and
thread count, because nothing the loop reads later is left out of the file. The sweep
deletes the folder once the task's result is cached. Files are written atomically and
read back with ``torch.load(weights_only=True)``. Outside a task scope a loop gets a
checkpoint that does nothing.

A loop uses it in four steps::

    ckpt = loop_checkpoint("fit").bind(modules=..., optimizers=..., generators=...,
                                       stopper=stopper)
    state = ckpt.resume()                 # None, or what the loop saved besides epoch
    for epoch in ckpt.epochs(cap):        # from the epoch after the saved one
        ...                               # one epoch
        ckpt.end_epoch(epoch, {"history": history}, finished=stop or epoch == cap)
"""

from __future__ import annotations

import contextvars
import io
import json
import math
import os
import shutil
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch

from wiloc_core import atomic
from wiloc_core.errors import DataFormatError, ParameterError

__all__ = ["DEFAULT_INTERVAL_S", "LABEL_FILE", "LoopCheckpoint", "checkpoint_interval_s",
           "clear", "describe_folder", "loop_checkpoint", "loop_checkpoint_off",
           "resumed_seconds", "task_scope"]

#: Seconds between two saves of one loop (``$WILOC_CHECKPOINT_S`` overrides; 0 saves
#: after every epoch).
DEFAULT_INTERVAL_S = 600.0
FORMAT = "wiloc-checkpoint/2"
#: The file naming a task's folder (``{"task": name}``), beside its loops' files.
LABEL_FILE = "task.json"
#: Files of the first format (before the shared early-stopping record) still resume.
_FORMAT_1 = "wiloc-checkpoint/1"


@dataclass
class _Scope:
    folder: Path
    interval_s: float
    loops: int = 0
    # the interval runs per task, not per loop: a task of many short stages still saves
    last_save: float = field(default_factory=lambda: time.perf_counter())
    resumed_s: float = 0.0      # wall time the restored loops had run before this process
    label: str = ""             # the task's name, written beside its loops' files


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("wiloc_checkpoint",
                                                                       default=None)


def checkpoint_interval_s() -> float:
    """``$WILOC_CHECKPOINT_S`` as seconds >= 0, else :data:`DEFAULT_INTERVAL_S`."""
    raw = os.environ.get("WILOC_CHECKPOINT_S", "").strip()
    if not raw:
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not value >= 0:
        raise ParameterError("WILOC_CHECKPOINT_S", "seconds >= 0 between checkpoints", raw)
    return value


@contextmanager
def task_scope(folder, interval_s: float | None = None, *, label: str = ""):
    """Let the training loops run inside the block checkpoint into ``folder``.

    Parameters
    ----------
    folder : path-like
        The task's own folder (created on the first save).
    interval_s : float >= 0, optional
        Default :func:`checkpoint_interval_s`.
    label : str, optional
        The task's name, saved in the folder's :data:`LABEL_FILE` with the first save
        (what :func:`describe_folder` reports of a task in progress).
    """
    interval = checkpoint_interval_s() if interval_s is None else float(interval_s)
    if not interval >= 0:
        raise ParameterError("interval_s", "seconds >= 0", interval_s)
    token = _SCOPE.set(_Scope(Path(folder), interval, label=str(label)))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def clear(folder) -> None:
    """Delete a task's checkpoint folder (when its result is safely cached)."""
    shutil.rmtree(Path(folder), ignore_errors=True)


def loop_checkpoint(name: str) -> LoopCheckpoint:
    """The checkpoint of the next training loop of the current task (a no-op outside
    :func:`task_scope`). Call it once per loop, in the loop's deterministic order."""
    scope = _SCOPE.get()
    if scope is None:
        return LoopCheckpoint(None, math.inf, name=name)
    scope.loops += 1
    return LoopCheckpoint(scope.folder / f"{scope.loops}-{name}.pt", scope.interval_s, scope,
                          name=name)


def resumed_seconds() -> float:
    """Wall time the current task's restored loops had run in earlier processes (0
    outside a task scope): add it to a task's own timing to count every sitting."""
    scope = _SCOPE.get()
    return 0.0 if scope is None else scope.resumed_s


def loop_checkpoint_off() -> LoopCheckpoint:
    """A checkpoint that does nothing, for a loop that cannot be resumed (one whose
    callback keeps state of its own); it takes no place in the task's numbering."""
    return LoopCheckpoint(None, math.inf, name="off")


def _from_format_1(name: str, loop: dict) -> dict:
    """A first-format loop state in today's shape: every loop now saves ``epoch`` and
    ``finished``, and ``fit`` saves its early-stopping record as the other loops do."""
    loop = dict(loop)
    if name == "fit":
        best_state = loop.pop("best_state")
        loop["stopper"] = {"best": loop.pop("best"), "best_epoch": loop.pop("best_epoch"),
                           "stale": loop.pop("stale"),
                           "state": None if best_state is None else {"model": best_state}}
        loop["epoch"] = len(loop["history"])
    elif name == "expert":
        loop["epoch"] = len(loop["history"]["s_mae"])
    return loop


def _device_of(modules: dict) -> str:
    """Where the loop trains: the device of its first parameter (``"cpu"`` if none)."""
    for module in modules.values():
        for param in module.parameters():
            return str(param.device)
    return "cpu"


def _rng_states(device: str) -> dict:
    """torch's CPU generator, and the training GPU's (the one ``isolated_torch_rng``
    forks) when the loop trains on one."""
    states = {"cpu": torch.random.get_rng_state()}
    if device.startswith("cuda"):
        states["cuda"] = torch.cuda.get_rng_state(torch.device(device))
    return states


def _set_rng_states(states: dict, device: str) -> None:
    torch.random.set_rng_state(states["cpu"])
    if "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], torch.device(device))


class LoopCheckpoint:
    """Save and restore one training loop's state (see the module docstring).

    Parameters
    ----------
    path : Path or None
        The loop's file; None: a checkpoint that never saves nor restores.
    interval_s : float
        Seconds between saves.
    scope : the task's scope (None: the interval runs per loop)
    name : str
        The loop's kind (``"fit"``, ``"expert"``...), which tells how to read a file of
        the first format.
    """

    def __init__(self, path: Path | None, interval_s: float, scope: _Scope | None = None, *,
                 name: str = ""):
        self.path, self.interval_s, self.name = path, float(interval_s), name
        if scope is None and path is not None:
            scope = _Scope(path.parent, self.interval_s)
        self.scope = scope
        self.active = False          # saved or restored: save again when the loop ends
        self.seconds_before = 0.0    # wall time the loop had run before this process
        self._started = time.perf_counter()
        self._bound: dict | None = None
        self._stopper = None
        self.epoch, self.finished = 0, False

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def bind(self, *, modules: dict, optimizers: dict, generators: dict,
             stopper=None) -> LoopCheckpoint:
        """Name what the loop's next epoch reads (and its
        :class:`~wiloc_core.training.stopping.EarlyStopping`, if any) for
        :meth:`resume` and :meth:`end_epoch`; returns the checkpoint."""
        self._bound = {"modules": modules, "optimizers": optimizers, "generators": generators}
        self._stopper = stopper
        return self

    def _bound_objects(self) -> dict:
        if self._bound is None:
            raise ParameterError("checkpoint", "bind() before resume() or end_epoch()",
                                 "not bound")
        return self._bound

    def resume(self) -> dict | None:
        """Restore the bound objects and the stopper; return the loop's own saved state
        (with ``epoch``, the last epoch run, and ``finished``), or None when there is
        nothing to resume. Call it inside the loop's RNG block, before the first epoch.
        Raises as :meth:`restore`."""
        loop = self.restore(**self._bound_objects())
        if loop is None:
            return None
        try:
            if self._stopper is not None:
                self._stopper.load(loop["stopper"])
            self.epoch, self.finished = int(loop["epoch"]), bool(loop["finished"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFormatError(self.path, "loop", "the loop's epoch, finished flag and "
                                  "early-stopping record", f"{type(exc).__name__}: {exc}") from exc
        return loop

    def epochs(self, cap: int):
        """The epochs left to run: from the one after the last saved (or 1) up to ``cap``,
        ending as soon as :meth:`end_epoch` has been told the loop is finished."""
        epoch = self.epoch
        while not self.finished and epoch < int(cap):
            epoch += 1
            yield epoch

    def end_epoch(self, epoch: int, state: dict, *, finished: bool) -> bool:
        """Close epoch ``epoch``: remember it and save when due (:meth:`after_epoch`),
        with ``state`` (the loop's own bookkeeping), the epoch, ``finished`` and the
        stopper's record. Returns True when it saved."""
        self.epoch, self.finished = int(epoch), bool(finished)
        loop = {**state, "epoch": self.epoch, "finished": self.finished}
        if self._stopper is not None:
            loop["stopper"] = self._stopper.record()
        return self.after_epoch(loop, **self._bound_objects(), final=self.finished)

    def restore(self, modules: dict, optimizers: dict, generators: dict) -> dict | None:
        """Load the saved state into the loop's objects; return its bookkeeping, or None
        when there is nothing to resume. Call it inside the loop's RNG block, before the
        first epoch.

        A file saved on another device (a CPU sitting, then a GPU one) is set aside and
        the loop starts over, with a warning: it could not end as either device's run.

        Raises
        ------
        DataFormatError
            When the file is damaged or not a checkpoint of this loop's objects (delete
            it to start the task's loop over).
        """
        if not self.enabled or not self.path.is_file():
            return None
        try:
            snap = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise DataFormatError(self.path, "(file)", f"a {FORMAT} file",
                                  f"unreadable ({type(exc).__name__}: {exc})") from exc
        if not isinstance(snap, dict) or snap.get("format") not in (FORMAT, _FORMAT_1):
            raise DataFormatError(self.path, "format", FORMAT,
                                  snap.get("format") if isinstance(snap, dict) else type(snap))
        for part, want in (("modules", modules), ("optimizers", optimizers),
                           ("generators", generators)):
            have = snap.get(part)
            if not isinstance(have, dict) or sorted(have) != sorted(want):
                raise DataFormatError(self.path, part, f"{FORMAT} with {sorted(want)}",
                                      sorted(have) if isinstance(have, dict) else have)
        device = _device_of(modules)
        if snap.get("device", device) != device:
            warnings.warn(f"{self.path}: saved on {snap['device']}, training on {device}; "
                          "the loop starts over", stacklevel=2)
            return None
        try:
            for key, module in modules.items():
                module.load_state_dict(snap["modules"][key])
            for key, opt in optimizers.items():
                opt.load_state_dict(snap["optimizers"][key])
            for key, gen in generators.items():
                gen.set_state(snap["generators"][key])
            _set_rng_states(snap["rng"], device)
            seconds, loop = float(snap["seconds"]), snap["loop"]
            if snap["format"] == _FORMAT_1:
                loop = _from_format_1(self.name, loop)
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise DataFormatError(self.path, "(state)", "states matching this loop's networks, "
                                  "optimisers and generators (delete the file to start over)",
                                  f"{type(exc).__name__}: {exc}") from exc
        self.active = True
        self.seconds_before = seconds
        self.scope.resumed_s += seconds
        return loop

    def elapsed_s(self) -> float:
        """Wall time of the loop so far, across restarts (s)."""
        return self.seconds_before + time.perf_counter() - self._started

    def after_epoch(self, loop: dict, modules: dict, optimizers: dict, generators: dict, *,
                    final: bool = False) -> bool:
        """Save when the task's interval has passed since its last save, or at the loop's
        end (``final``) when the loop has saved or resumed before; returns True when it
        saved. ``loop`` must hold only tensors, numbers, strings, lists and dicts of
        them."""
        if not self.enabled:
            return False
        due = time.perf_counter() - self.scope.last_save >= self.interval_s
        if not (due or (final and self.active)):
            return False
        device = _device_of(modules)
        snap = {"format": FORMAT, "loop": loop, "seconds": self.elapsed_s(), "device": device,
                "modules": {k: m.state_dict() for k, m in modules.items()},
                "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                "generators": {k: g.get_state() for k, g in generators.items()},
                "rng": _rng_states(device)}
        buffer = io.BytesIO()
        torch.save(snap, buffer)
        atomic.write_bytes(self.path, buffer.getvalue())
        label = self.path.parent / LABEL_FILE
        if self.scope.label and not label.is_file():
            atomic.write_text(label, json.dumps({"task": self.scope.label}))
        self.active, self.scope.last_save = True, time.perf_counter()
        return True


def describe_folder(folder) -> dict:
    """What a task's checkpoint folder says of its progress, without touching it.

    Returns
    -------
    dict
        ``task`` (its name, "" when the folder has no :data:`LABEL_FILE`) and ``loops``:
        one ``{"file", "loop", "epoch", "finished", "seconds", "saved_at"}`` per loop
        file in loop order (``saved_at``: the file's time, UTC ISO 8601; ``seconds``: the
        loop's wall time across sittings). A file that cannot be read is listed with
        ``"error"`` instead of the progress fields.
    """
    folder = Path(folder)
    label = folder / LABEL_FILE
    try:
        task = str(json.loads(label.read_text()).get("task", "")) if label.is_file() else ""
    except (OSError, ValueError, AttributeError):
        task = ""
    return {"task": task, "loops": [_describe_file(p) for p in
                                    sorted(folder.glob("*.pt"), key=_loop_number)]}


def _loop_number(path: Path) -> tuple[int, str]:
    """``3-fit.pt`` -> (3, name): a task's loop files in the order its loops ran."""
    number = path.stem.split("-", 1)[0]
    return (int(number) if number.isdigit() else 0, path.name)


def _describe_file(path: Path) -> dict:
    name = path.stem.split("-", 1)[-1]
    saved = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    entry = {"file": path.name, "loop": name, "saved_at": saved.isoformat()}
    try:
        snap = torch.load(path, map_location="cpu", weights_only=True)
        loop = snap["loop"]
        if snap["format"] == _FORMAT_1:
            loop = _from_format_1(name, loop)
        entry.update(epoch=int(loop["epoch"]), finished=bool(loop["finished"]),
                     seconds=round(float(snap["seconds"]), 1))
    except Exception as exc:  # a damaged file is reported, the listing goes on
        entry["error"] = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:120]}"
    return entry

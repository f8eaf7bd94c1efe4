"""Content-addressed store of task results.

A result lives in ``<root>/<key[:2]>/<key>.json`` or ``.pt`` where ``key`` is
:meth:`Task.key` (sha256 over the function, parameters, data digest, version constant
and torch/NumPy versions). Each file holds::

    {"format": "wiloc-result/1", "key": ..., "task": <key parts + name>,
     "run": {"seconds", "host", "pid", "torch_threads"}, "value": <the result>}

written atomically (temporary file + rename, :mod:`wiloc_core.atomic`), so an
interrupted sweep leaves only whole files, and the next run recomputes only what is
missing. Torch files are read with ``weights_only=True``.

A run longer than one machine's life travels between stores with :meth:`Cache.merge_from`
(``wiloc cache merge``): finished results, and the checkpoints of tasks cut off
mid-training (``<key>.ckpt`` folders, :mod:`wiloc_core.training.checkpoint`), so that
another machine resumes where the last one stopped.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from wiloc_core import atomic, paths
from wiloc_core.errors import DataFormatError
from wiloc_core.experiment import codec
from wiloc_core.experiment.task import Task

__all__ = ["Cache", "CacheError", "FORMAT", "default_cache_dir"]

#: Layout tag of a result file.
FORMAT = "wiloc-result/1"
_SUFFIXES = (".json", ".pt")


class CacheError(DataFormatError):
    """A cache file is not a result file, or holds another key."""


def default_cache_dir() -> Path:
    """``build/cache/tasks`` (follows ``WILOC_BUILD``)."""
    return paths.build_dir() / "cache" / "tasks"


class Cache:
    """Results of tasks, addressed by their key.

    Parameters
    ----------
    root : path-like, optional
        Folder of the store (default :func:`default_cache_dir`); created on first write.
    """

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    @staticmethod
    def _key(task_or_key) -> str:
        return task_or_key.key() if isinstance(task_or_key, Task) else str(task_or_key)

    def path(self, task_or_key) -> Path | None:
        """The file holding the result, or None when it is not cached."""
        key = self._key(task_or_key)
        for suffix in _SUFFIXES:
            candidate = self.root / key[:2] / f"{key}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def checkpoint_dir(self, task_or_key) -> Path:
        """The folder where a running task's training loops keep their checkpoints
        (:mod:`wiloc_core.training.checkpoint`)."""
        key = self._key(task_or_key)
        return self.root / key[:2] / f"{key}.ckpt"

    def __contains__(self, task_or_key) -> bool:
        return self.path(task_or_key) is not None

    def read(self, task_or_key) -> dict:
        """The whole result document (``format``, ``key``, ``task``, ``run``, ``value``).

        Raises
        ------
        KeyError
            When the result is not cached.
        CacheError
            When the file is damaged, foreign or holds another key.
        """
        key = self._key(task_or_key)
        path = self.path(key)
        if path is None:
            raise KeyError(key)
        try:
            doc = codec.decode(path.suffix, path.read_bytes())
        except Exception as exc:  # json and torch raise several types on foreign files
            raise CacheError(path, "file", "a result written by Cache.store",
                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise CacheError(path, "format", repr(FORMAT))
        if doc.get("key") != key:
            raise CacheError(path, "key", key, repr(doc.get("key")))
        return doc

    def load(self, task_or_key):
        """The cached value (see :meth:`read` for the errors)."""
        return self.read(task_or_key)["value"]

    def sittings(self, keys) -> list[dict]:
        """How the cached results of ``keys`` were computed, one record per sitting (a
        process that ran sweeps, :func:`wiloc_core.experiment.sweep.current_sitting`),
        oldest first.

        Returns
        -------
        list of dict
            ``host``, ``pid`` and ``started`` of the sitting (None for results stored
            before sittings were recorded), ``last_finished`` (UTC, ISO 8601),
            ``tasks`` (results of ``keys`` it finished), ``task_seconds`` (their compute
            time in that sitting, summed over workers) and ``wall_s`` (from the sitting's
            start to its last finished result; time spent on a task the sitting did not
            finish is not counted). Keys not in the cache are skipped.
        """
        groups: dict = {}
        for key in dict.fromkeys(str(k) for k in keys):
            if key not in self:
                continue
            run = self.read(key).get("run") or {}
            sitting = _sitting_of(run)
            group = groups.setdefault(tuple(sitting.values()),
                                      {**sitting, "tasks": 0, "task_seconds": 0.0,
                                       "last_finished": None})
            group["tasks"] += 1
            group["task_seconds"] += float(run.get("seconds", 0.0))
            finished = run.get("finished_at")
            if finished and (group["last_finished"] is None or finished > group["last_finished"]):
                group["last_finished"] = finished
        records = []
        for group in groups.values():
            wall = None
            if group["started"] and group["last_finished"]:
                wall = (datetime.fromisoformat(group["last_finished"])
                        - datetime.fromisoformat(group["started"])).total_seconds()
            records.append({**group, "task_seconds": round(group["task_seconds"], 1),
                            "wall_s": wall})
        return sorted(records, key=lambda r: (r["started"] is not None, r["started"] or ""))

    def status(self) -> dict:
        """What the store holds, for a run that spans sittings: its finished results and
        the tasks cut off mid-training.

        Returns
        -------
        dict
            ``results``: one ``{"key", "task", "seconds", "total_seconds",
            "finished_at", "host", "pid", "started"}`` per result, oldest first
            (``seconds``: computing in the sitting that finished it; ``total_seconds``:
            across every sitting, where the result reports it, else None; ``finished_at``
            None for results stored before it was recorded); ``in_progress``: one ``{"key", "task",
            "loops"}`` per checkpoint folder of a task not yet cached
            (:func:`wiloc_core.training.checkpoint.describe_folder`); ``unreadable``:
            files that are not results of this store, with the reason.
        """
        from wiloc_core.training.checkpoint import describe_folder

        results, unreadable, in_progress = [], [], []
        if not self.root.is_dir():
            return {"results": results, "in_progress": in_progress, "unreadable": unreadable}
        for path in sorted(self.root.glob("*/*")):
            key = path.name.split(".", 1)[0]
            if path.is_dir():
                if path.suffix == ".ckpt" and key not in self:
                    in_progress.append({"key": key, **describe_folder(path)})
                continue
            if path.suffix not in _SUFFIXES:
                continue
            try:
                doc = self.read(key)
            except (CacheError, KeyError) as exc:
                unreadable.append({"file": str(path), "error": str(exc)})
                continue
            run, value = doc.get("run") or {}, doc.get("value")
            total = value.get("seconds") if isinstance(value, dict) else None
            results.append({"key": key, "task": (doc.get("task") or {}).get("name", ""),
                            "seconds": float(run.get("seconds", 0.0)),
                            "total_seconds": float(total) if isinstance(total, int | float)
                            else None,
                            "finished_at": run.get("finished_at"), **_sitting_of(run)})
        results.sort(key=lambda r: (r["finished_at"] is not None, r["finished_at"] or ""))
        return {"results": results, "in_progress": in_progress, "unreadable": unreadable}

    def merge_from(self, other: Cache) -> dict:
        """Bring what ``other`` holds of multi-sitting runs into this store.

        Results this store lacks are copied (a key's result is the same value wherever
        it was computed, so one already here is kept). A task cut off mid-training
        takes ``other``'s checkpoint folder when it is further along than this store's
        (more loops, then a later epoch of the last loop; see :func:`_progress`), and a
        checkpoint folder of a task whose result this store now holds is deleted. Files
        are written atomically and a checkpoint folder is swapped whole, so an
        interrupted merge leaves both stores usable.

        Returns
        -------
        dict
            Counts: ``results`` copied, ``checkpoints`` copied, ``pruned`` checkpoint
            folders deleted.
        """
        from wiloc_core.training import checkpoint

        counts = {"results": 0, "checkpoints": 0, "pruned": 0}
        if Path(other.root).resolve() == Path(self.root).resolve():
            return counts
        for path in sorted(Path(other.root).glob("*/*")):
            key = path.name.split(".", 1)[0]
            if path.is_file() and path.suffix in _SUFFIXES and key not in self:
                other.read(key)  # refuse a damaged or foreign file before copying it
                atomic.write_bytes(self.root / key[:2] / path.name, path.read_bytes())
                counts["results"] += 1
        for path in sorted(Path(other.root).glob("*/*.ckpt")):
            key = path.name.split(".", 1)[0]
            mine = self.checkpoint_dir(key)
            if path.is_dir() and key not in self and _progress(path) > _progress(mine):
                staging = mine.with_name(f".{mine.name}.tmp")
                shutil.rmtree(staging, ignore_errors=True)
                shutil.copytree(path, staging)
                checkpoint.clear(mine)
                staging.rename(mine)
                counts["checkpoints"] += 1
        for path in sorted(Path(self.root).glob("*/*.ckpt")):
            if path.is_dir() and path.name.split(".", 1)[0] in self:
                checkpoint.clear(path)
                counts["pruned"] += 1
        return counts

    def store(self, task: Task, value, run: dict | None = None) -> Path:
        """Write ``value`` for ``task`` atomically; returns the file."""
        key = task.key()
        doc = {"format": FORMAT, "key": key, "task": {**task.key_parts(), "name": task.name},
               "run": dict(run or {}), "value": value}
        suffix, data = codec.encode(doc)
        path = self.root / key[:2] / f"{key}{suffix}"
        for other in _SUFFIXES:  # a result changing kind must not leave a stale twin
            if other != suffix:
                (self.root / key[:2] / f"{key}{other}").unlink(missing_ok=True)
        return atomic.write_bytes(path, data)


def _progress(folder: Path) -> tuple[int, int, bool]:
    """How far a task's checkpoint folder has got: (loops saved, epoch of the last loop,
    whether it finished); (0, -1, False) when there is none or its last file is
    unreadable."""
    from wiloc_core.training.checkpoint import describe_folder

    if not folder.is_dir():
        return (0, -1, False)
    loops = describe_folder(folder)["loops"]
    if not loops or "error" in loops[-1]:
        return (0, -1, False)
    return (len(loops), loops[-1]["epoch"], loops[-1]["finished"])


def _sitting_of(run: dict) -> dict:
    """``{"host", "pid", "started"}`` of a stored run record; every field None for a
    result stored before sittings were recorded. Records of the first sittings kept the
    three in one ``"host:pid:start"`` string."""
    sitting = run.get("sitting")
    if isinstance(sitting, str):
        host, pid, started = sitting.split(":", 2)
        sitting = {"host": host, "pid": int(pid), "started": started}
    sitting = sitting if isinstance(sitting, dict) else {}
    return {field: sitting.get(field) for field in ("host", "pid", "started")}

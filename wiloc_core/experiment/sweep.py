"""Run a list of tasks serially, on local worker processes (joblib) or on a Dask cluster.

Results come back in task order, identical whatever the backend and the number of
workers: every task draws its randomness from its own seed, runs with one torch
thread, and its result passes through the same encode/decode step
(:mod:`~wiloc_core.experiment.codec`) whether it was computed now or read from the
cache. Each result is stored the moment it arrives, so an interrupted sweep resumes
where it stopped: only the tasks missing from the cache run again, and with a cache a
task cut off mid-training goes on from its last checkpoint
(:mod:`wiloc_core.training.checkpoint`, a folder beside its cache file, deleted once
the result is stored; not on the workers of an external Dask scheduler, which may not
reach the cache's folder).

Backends
--------
``"serial"``
    In this process, in order.
``"joblib"``
    ``n_jobs`` local worker processes (loky); the pool stays warm between sweeps.
``"dask"``
    The ``dask.distributed`` scheduler at ``scheduler`` (``"tcp://host:8786"``) or, when
    none is given, ``$WILOC_SCHEDULER``; with neither, a local cluster of ``n_jobs``
    single-thread worker processes on 127.0.0.1 is started for the sweep and closed
    after it. Workers must have wiloc installed (they import each task's function by
    name) and one thread each (``dask worker tcp://host:8786 --nthreads 1``): tasks
    seed torch's generators inside a block, which threads of one process would share.
    A worker with a GPU trains on it when the task's settings say ``device="auto"``
    (results then match CPU runs only to floating-point tolerance). The data of a task
    are sent once per distinct object.

Waits are bounded: a sweep fails with :class:`SweepTimeout`, naming the tasks still
running, when no task finishes within ``task_timeout`` seconds.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import closing, nullcontext
from datetime import UTC, datetime

from wiloc_core.errors import ParameterError, WilocError
from wiloc_core.experiment import codec
from wiloc_core.experiment.cache import Cache
from wiloc_core.experiment.task import Task, resolve_function
from wiloc_core.training import checkpoint
from wiloc_core.training.progress import progress_bar

__all__ = ["run_sweep", "SweepResults", "TaskError", "SweepTimeout", "BACKENDS",
           "DEFAULT_TASK_TIMEOUT_S", "resolve_scheduler"]

BACKENDS = ("serial", "joblib", "dask")
#: Longest wait for the next task to finish before a sweep gives up (s).
DEFAULT_TASK_TIMEOUT_S = 6 * 3600.0

#: When this process started: the sitting its computed results are filed under.
_SITTING_STARTED = datetime.now(UTC).replace(microsecond=0)


def current_sitting() -> dict:
    """This process as a sitting: ``{"host", "pid", "started"}`` (``started`` in UTC,
    ISO 8601). Every result the process computes records it (``run["sitting"]``), so
    that a run made over several sittings can say how long each took
    (:meth:`Cache.sittings`)."""
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "started": _SITTING_STARTED.isoformat()}
#: Longest wait to reach a scheduler, or to close a client or local cluster (s).
CONNECT_TIMEOUT_S = 60.0


class TaskError(WilocError, RuntimeError):
    """A task raised; the message names it and carries the worker's traceback."""


class SweepTimeout(WilocError, TimeoutError):
    """No task finished within the sweep's ``task_timeout``."""


class SweepResults(list):
    """The task results in task order, plus how the sweep went.

    Attributes
    ----------
    backend : str
    hits : int
        Tasks answered from the cache (or by an identical task of the same sweep).
    computed : int
        Tasks run now.
    seconds : float
        Wall time of the sweep (s).
    """

    backend: str = "serial"
    hits: int = 0
    computed: int = 0
    seconds: float = 0.0


def resolve_scheduler(scheduler: str | None = None) -> str | None:
    """The scheduler address: the argument, else ``$WILOC_SCHEDULER``, else None."""
    value = scheduler if scheduler is not None else os.environ.get("WILOC_SCHEDULER", "")
    return value.strip() or None


def _execute(fn_ref: str, params: dict, data, has_data: bool, checkpoints: str | None = None,
             name: str = ""):
    """Run one task with one torch thread; ``(ok, suffix, bytes, run)`` or ``(False, text)``.

    Executed in the worker. Failures come back as text so that every backend can name
    the task in the error it raises, whatever the exception's type. With
    ``checkpoints`` (a folder), the task's training loops save their state there and a
    rerun resumes from it (:mod:`wiloc_core.training.checkpoint`); ``name`` labels the
    folder for :meth:`Cache.status`.
    """
    import torch

    from wiloc_core.training.checkpoint import task_scope

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        fn = resolve_function(fn_ref)
        scope = task_scope(checkpoints, label=name) if checkpoints is not None else nullcontext()
        with scope:
            value = fn(data, **params) if has_data else fn(**params)
        suffix, blob = codec.encode(value)
    except Exception:
        return False, traceback.format_exc()
    finally:
        torch.set_num_threads(threads)
    run = {"seconds": time.perf_counter() - start, "host": socket.gethostname(),
           "pid": os.getpid(), "torch_threads": 1}
    return True, suffix, blob, run


def _execute_indexed(j: int, *args):
    return j, _execute(*args)


def _args(task: Task, checkpoints: str | None):
    return task.fn, task.params, task.data, task.data is not None, checkpoints, task.name


def _serial(jobs: list[tuple[int, Task, str | None]], **_) -> Iterator:
    for j, task, checkpoints in jobs:
        yield j, _execute(*_args(task, checkpoints))


def _joblib(jobs, *, n_jobs: int, task_timeout: float, **_) -> Iterator:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend="loky",
                        return_as="generator_unordered", timeout=task_timeout)
    yield from parallel(delayed(_execute_indexed)(j, *_args(task, checkpoints))
                        for j, task, checkpoints in jobs)


def _dask(jobs, *, n_jobs: int, scheduler: str | None, task_timeout: float, **_) -> Iterator:
    from distributed import Client, LocalCluster, wait

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        scheduler = cluster.scheduler_address
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except Exception:
        if cluster is not None:
            cluster.close(timeout=CONNECT_TIMEOUT_S)
        raise
    try:
        shipped = {}  # id(data) -> future, so shared data travel once
        futures = {}
        for j, task, checkpoints in jobs:
            fn_ref, params, data, has_data, _, _ = _args(task, checkpoints)
            if has_data:
                if id(data) not in shipped:
                    shipped[id(data)] = client.scatter([data], hash=False)[0]
                data = shipped[id(data)]
            future = client.submit(_execute, fn_ref, params, data, has_data, checkpoints,
                                   pure=False,
                                   key=f"wiloc-{j}-{task.key()[:16]}-{os.urandom(4).hex()}")
            futures[future] = j
        pending = set(futures)
        while pending:
            try:
                with client.as_current():
                    done, pending = wait(pending, timeout=task_timeout,
                                         return_when="FIRST_COMPLETED")
            except TimeoutError as exc:
                raise _Stalled([futures[f] for f in pending]) from exc
            for future in done:
                try:
                    yield futures[future], future.result(timeout=CONNECT_TIMEOUT_S)
                except Exception:  # a killed worker, a lost connection, a cancellation
                    yield futures[future], (False, traceback.format_exc())
    finally:
        client.close(timeout=CONNECT_TIMEOUT_S)
        if cluster is not None:
            cluster.close(timeout=CONNECT_TIMEOUT_S)


class _Stalled(Exception):
    def __init__(self, pending: list[int]):
        super().__init__(pending)
        self.pending = pending


def _collect(stream, tasks, keys, jobs, values, cache, backend, task_timeout, bar) -> None:
    """Decode, cache and file each result as it arrives; turn failures into named errors."""
    names = {i: task.name for i, task, _ in jobs}
    remaining = set(names)
    try:
        for i, outcome in stream:
            task = tasks[i]
            if not outcome[0]:
                raise TaskError(f"task {task.name!r} ({task.fn}, key {keys[i][:12]}) failed "
                                f"on the {backend} backend:\n{outcome[1]}")
            _, suffix, blob, run = outcome
            run = {**run, "sitting": current_sitting(),
                   "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat()}
            value = codec.decode(suffix, blob)
            if cache is not None:
                cache.store(task, value, run)
                checkpoint.clear(cache.checkpoint_dir(keys[i]))
            values[keys[i]] = value
            remaining.discard(i)
            bar.update()
    except (_Stalled, TimeoutError, multiprocessing.TimeoutError) as exc:  # joblib's is the latter
        stuck = sorted(getattr(exc, "pending", remaining))
        listed = ", ".join(repr(names[i]) for i in stuck[:5])
        more = f" and {len(stuck) - 5} more" if len(stuck) > 5 else ""
        raise SweepTimeout(f"no task finished within {task_timeout:g} s on the {backend} "
                           f"backend; still running: {listed}{more}") from exc


def _choose_backend(backend: str | None, scheduler: str | None, n_jobs: int) -> str:
    if backend is None:
        return "dask" if scheduler else ("joblib" if n_jobs > 1 else "serial")
    if backend not in BACKENDS:
        raise ParameterError("backend", f"one of {BACKENDS} or None", backend)
    return backend


def run_sweep(tasks, backend: str | None = None, n_jobs: int = 2, scheduler: str | None = None,
              cache: Cache | str | os.PathLike | None = None, progress: bool | None = True,
              task_timeout: float = DEFAULT_TASK_TIMEOUT_S) -> SweepResults:
    """Results of ``tasks``, in their order, computing only those not in ``cache``.

    Parameters
    ----------
    tasks : iterable of Task
    backend : {"serial", "joblib", "dask"} or None
        None: ``"dask"`` when a scheduler is known, else ``"joblib"`` when
        ``n_jobs > 1``, else ``"serial"``.
    n_jobs : int >= 1
        Local worker processes (joblib, or the local Dask cluster started when no
        scheduler is given). Ignored with an external scheduler.
    scheduler : str, optional
        ``"tcp://host:8786"``; default ``$WILOC_SCHEDULER``.
    cache : Cache or path-like, optional
        Where results are kept; None keeps nothing on disk.
    progress : bool or None
        A task progress bar, on terminals and in Jupyter only (never in CI or batch runs).
    task_timeout : float
        Longest wait for the next task to finish (s).

    Returns
    -------
    SweepResults
        A list of the tasks' results (decoded as a cache read gives them).

    Raises
    ------
    TaskError
        When a task raises (results finished before it are already cached).
    SweepTimeout
        When no task finishes within ``task_timeout``.
    """
    tasks = list(tasks)
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise ParameterError(f"tasks[{i}]", "a Task (see Task.create)", type(task).__name__)
    if int(n_jobs) < 1:
        raise ParameterError("n_jobs", "an integer >= 1", n_jobs)
    if not task_timeout > 0:
        raise ParameterError("task_timeout", "a number of seconds > 0", task_timeout)
    scheduler = resolve_scheduler(scheduler)
    backend = _choose_backend(backend, scheduler, int(n_jobs))
    if cache is not None and not isinstance(cache, Cache):
        cache = Cache(cache)

    def folder(key):
        # checkpoints go beside the cache; workers on other hosts may not reach that path
        remote = backend == "dask" and scheduler is not None
        return None if cache is None or remote else str(cache.checkpoint_dir(key))

    start = time.perf_counter()
    keys = [task.key() for task in tasks]
    values: dict[str, object] = {}
    jobs: list[tuple[int, Task, str | None]] = []
    queued: set[str] = set()
    for i, (task, key) in enumerate(zip(tasks, keys, strict=True)):
        if key in values or key in queued:
            continue
        if cache is not None and key in cache:
            values[key] = cache.load(key)
            checkpoint.clear(cache.checkpoint_dir(key))   # left by a run cut after storing
        else:
            jobs.append((i, task, folder(key)))
            queued.add(key)

    runner = {"serial": _serial, "joblib": _joblib, "dask": _dask}[backend]
    with progress_bar(len(jobs), f"tasks ({backend})", progress, unit="task") as bar:
        if jobs:
            stream = runner(jobs, n_jobs=int(n_jobs), scheduler=scheduler,
                            task_timeout=float(task_timeout))
            with closing(stream):
                _collect(stream, tasks, keys, jobs, values, cache, backend, task_timeout, bar)

    results = SweepResults(values[key] for key in keys)
    results.backend, results.computed = backend, len(jobs)
    results.hits = len(tasks) - len(jobs)
    results.seconds = time.perf_counter() - start
    return results

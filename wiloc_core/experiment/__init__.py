"""One experiment engine: tasks, a content-addressed result cache, and sweep backends::

    from wiloc_core.experiment import Task, Cache, run_sweep
    tasks = [Task.create(train_one, {"seed": s, "fraction": f}, data=data)
             for s in seeds for f in fractions]
    rows = run_sweep(tasks, n_jobs=2, cache=Cache())      # joblib on local cores
    rows = run_sweep(tasks, scheduler="tcp://host:8786")   # a Dask cluster

A task is a pure function of its parameters and data, named by import path and
versioned by its method's ``VERSION`` constant; a result is reused only when the
function, parameters, data digest, version and the torch/NumPy versions all match.
"""

from wiloc_core.experiment.cache import Cache, CacheError, default_cache_dir
from wiloc_core.experiment.sweep import (
    BACKENDS,
    DEFAULT_TASK_TIMEOUT_S,
    SweepResults,
    SweepTimeout,
    TaskError,
    resolve_scheduler,
    run_sweep,
)
from wiloc_core.experiment.task import (
    Task,
    canonical_json,
    digest_data,
    function_ref,
    resolve_function,
)

__all__ = [
    "Task",
    "Cache",
    "CacheError",
    "default_cache_dir",
    "run_sweep",
    "SweepResults",
    "SweepTimeout",
    "TaskError",
    "BACKENDS",
    "DEFAULT_TASK_TIMEOUT_S",
    "resolve_scheduler",
    "canonical_json",
    "digest_data",
    "function_ref",
    "resolve_function",
]

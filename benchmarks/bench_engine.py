"""The experiment engine's cost and its gain on two local cores.

``run()`` returns ``{metric: {"value": v, "unit": u}}``:

- ``engine.joblib_pool_start_s``: first sweep of one trivial task on 2 fresh joblib
  workers (process start and torch import), paid once per session;
- ``engine.overhead_ms_per_task``: wall time per trivial task (returns a small dict)
  through ``run_sweep`` on the 2 warm joblib workers, results written to a cache
  folder; target <= 50 ms;
- ``engine.serial_8_tasks_s`` and ``engine.joblib2_8_tasks_s``: 8 small training
  tasks (an MLP fitted with ``wiloc_core.training.fit``), serially and on 2 warm
  workers, measured one after the other in this run;
- ``engine.speedup_2_workers``: their ratio; target >= 1.6 on two free cores;
- ``engine.load_avg_1min``: the machine's load before the timings (other work on the
  same cores lowers the speedup: read it beside this number).

Each of the two timings is the best of ``REPEATS``, the two interleaved.

Both timings run the same tasks with one torch thread each, so the ratio measures the
engine's parallelism, not BLAS threading. Other processes on the same cores lower it.
"""

from __future__ import annotations

import os
import tempfile
import time

N_TRIVIAL = 200
N_TRAINING = 8
REPEATS = 3


def _trivial_tasks(n: int, offset: int = 0):
    from wiloc_core.experiment import Task
    from wiloc_core.experiment import examples as ex

    return [Task.create(ex.echo, {"x": offset + i}) for i in range(n)]


def _training_tasks(epochs: int = 40, seeds=range(N_TRAINING)):
    from wiloc_core.experiment import Task
    from wiloc_core.experiment import examples as ex

    data = ex.regression_data(n=1024, n_in=16, seed=0)
    return [Task.create(ex.train_mlp, {"seed": s, "hidden": 64, "epochs": epochs,
                                       "patience": None}, data=data, name=f"mlp seed {s}")
            for s in seeds]


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> dict:
    """Benchmark the engine; see the module docstring for the metrics."""
    from wiloc_core.experiment import run_sweep

    kw = {"progress": False}
    start_s = _timed(lambda: run_sweep(_trivial_tasks(1, -1), backend="joblib", n_jobs=2, **kw))
    with tempfile.TemporaryDirectory() as folder:
        trivial = _trivial_tasks(N_TRIVIAL)
        overhead_s = _timed(lambda: run_sweep(trivial, backend="joblib", n_jobs=2,
                                              cache=folder, **kw))
    # The first optimiser step of a process imports torch._dynamo (about 1 s): pay it here
    # and in both workers before timing, as a long sweep amortises it.
    warm = _training_tasks(epochs=1, seeds=range(100, 104))
    run_sweep(warm[:1], backend="serial", **kw)
    run_sweep(warm, backend="joblib", n_jobs=2, **kw)
    tasks = _training_tasks()
    load = os.getloadavg()[0]
    serial_s = parallel_s = float("inf")
    for _ in range(REPEATS):  # interleaved, so a burst of other work hits both alike
        serial_s = min(serial_s, _timed(lambda: run_sweep(tasks, backend="serial", **kw)))
        parallel_s = min(parallel_s, _timed(lambda: run_sweep(tasks, backend="joblib",
                                                                n_jobs=2, **kw)))
    return {
        "engine.joblib_pool_start_s": {"value": start_s, "unit": "s"},
        "engine.overhead_ms_per_task": {"value": 1e3 * overhead_s / N_TRIVIAL, "unit": "ms",
                                        "target": 50.0},
        "engine.serial_8_tasks_s": {"value": serial_s, "unit": "s"},
        "engine.joblib2_8_tasks_s": {"value": parallel_s, "unit": "s"},
        "engine.speedup_2_workers": {"value": serial_s / parallel_s, "unit": "x",
                                     "target_min": 1.6},
        "engine.load_avg_1min": {"value": load, "unit": "processes"},
    }

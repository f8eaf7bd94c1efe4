"""The experiment engine: cache keys, resume, codecs, and identical results on every backend."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch

from wiloc_core.errors import ParameterError
from wiloc_core.experiment import (
    Cache,
    CacheError,
    SweepTimeout,
    Task,
    TaskError,
    digest_data,
    resolve_scheduler,
    run_sweep,
)
from wiloc_core.experiment import examples as ex
from wiloc_core.experiment.codec import decode, encode

DATA = ex.regression_data(n=96, n_in=6, seed=1)


def _training_tasks():
    return [Task.create(ex.train_mlp, {"seed": s, "hidden": h, "epochs": 6}, data=DATA,
                        name=f"seed {s}, hidden {h}")
            for s in (0, 1) for h in (8, 12)]


def _assert_identical(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert ra["history"] == rb["history"]
        assert ra["train_rmse"] == rb["train_rmse"]
        assert ra["state_dict"].keys() == rb["state_dict"].keys()
        for k in ra["state_dict"]:
            assert torch.equal(ra["state_dict"][k], rb["state_dict"][k]), k


@pytest.fixture(scope="module")
def serial_results():
    return run_sweep(_training_tasks(), backend="serial", progress=False)


def test_serial_results_depend_on_the_seed(serial_results):
    assert serial_results.computed == 4 and serial_results.backend == "serial"
    a, b = serial_results[0]["state_dict"], serial_results[2]["state_dict"]
    assert not all(torch.equal(a[k], b[k]) for k in a)


def test_joblib_two_workers_match_serial(serial_results, tmp_path):
    results = run_sweep(_training_tasks(), backend="joblib", n_jobs=2, cache=tmp_path,
                        progress=False)
    assert results.backend == "joblib" and results.computed == 4
    _assert_identical(serial_results, results)
    again = run_sweep(_training_tasks(), backend="serial", cache=tmp_path, progress=False)
    assert again.hits == 4 and again.computed == 0
    _assert_identical(serial_results, again)


def test_every_task_runs_with_one_torch_thread(tmp_path):
    before = torch.get_num_threads()
    tasks = [Task.create(ex.torch_threads)]
    assert run_sweep(tasks, backend="serial", progress=False) == [1]
    assert torch.get_num_threads() == before
    assert run_sweep(tasks, backend="joblib", n_jobs=2, progress=False) == [1]


def test_dask_local_cluster_matches_serial(serial_results, monkeypatch):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        results = run_sweep(_training_tasks(), backend="dask",
                            scheduler=cluster.scheduler_address, progress=False)
        assert results.backend == "dask" and results.computed == 4
        _assert_identical(serial_results, results)
        monkeypatch.setenv("WILOC_SCHEDULER", cluster.scheduler_address)
        slow = [Task.create(ex.echo, {"x": 1, "sleep_s": 5.0}, name="sleepy")]
        with pytest.raises(SweepTimeout, match="dask backend; still running: 'sleepy'"):
            run_sweep(slow, task_timeout=0.5, progress=False)


def test_joblib_wait_is_bounded():
    slow = [Task.create(ex.echo, {"x": 1, "sleep_s": 5.0}, name="sleepy")]
    with pytest.raises(SweepTimeout, match="joblib backend; still running: 'sleepy'"):
        run_sweep(slow, backend="joblib", task_timeout=0.5, progress=False)


def test_dask_without_a_scheduler_starts_and_closes_its_own_cluster(monkeypatch):
    monkeypatch.delenv("WILOC_SCHEDULER", raising=False)
    results = run_sweep([_echo(x) for x in range(4)], backend="dask", n_jobs=2,
                        progress=False)
    assert [r["x"] for r in results] == [0, 1, 2, 3]
    assert len({r["pid"] for r in results} - {os.getpid()}) >= 1


def _echo(x=1, **kw):
    return Task.create(ex.echo, {"x": x}, **kw)


def test_cache_misses_on_parameter_data_and_version_only(tmp_path):
    data = {"X": np.arange(6.0).reshape(3, 2)}

    def sweep(task):
        return run_sweep([task], backend="serial", cache=tmp_path, progress=False)

    assert sweep(_echo(1, data=None)).computed == 1
    assert sweep(_echo(1)).hits == 1                          # calling again hits
    assert sweep(_echo(1, name="renamed")).hits == 1          # the label is not in the key
    assert sweep(Task.create("wiloc_core.experiment.examples:echo", {"x": 1})).hits == 1
    assert sweep(_echo(2)).computed == 1                      # a changed parameter misses
    assert sweep(_echo(1, version=2)).computed == 1           # a bumped version misses
    assert sweep(_echo(1, version=ex.VERSION)).hits == 1

    def with_data(d):
        return Task.create(ex.echo_data, {"x": 1}, data=d)

    assert sweep(with_data(data)).computed == 1
    assert sweep(with_data({"X": data["X"].copy()})).hits == 1  # equal data, new object
    changed = {"X": data["X"].copy()}
    changed["X"][2, 1] += 1e-9
    assert sweep(with_data(changed)).computed == 1            # changed data miss
    as_f32 = {"X": data["X"].astype(np.float32)}
    assert sweep(with_data(as_f32)).computed == 1             # so does a changed dtype


def test_key_is_canonical_and_versions_enter_it():
    a = Task.create(ex.echo, {"x": [1, 2], "sleep_s": 0.0})
    b = Task.create(ex.echo, {"sleep_s": 0.0, "x": (1, 2)})
    assert a.key() == b.key()
    parts = a.key_parts()
    assert parts["torch"] == torch.__version__ and parts["numpy"] == np.__version__
    assert parts["version"] == str(ex.VERSION)


def test_interrupted_sweep_resumes_from_the_cache(tmp_path):
    tasks = [_echo(x) for x in range(4)]
    failing = Task.create(ex.echo, {"x": 99, "fail": True}, name="the broken one")
    with pytest.raises(TaskError, match="the broken one") as info:
        run_sweep([*tasks[:2], failing, *tasks[2:]], backend="serial", cache=tmp_path,
                  progress=False)
    assert "ValueError: echo asked to fail" in str(info.value)
    assert tasks[0] in Cache(tmp_path) and tasks[1] in Cache(tmp_path)
    assert tasks[2] not in Cache(tmp_path)
    resumed = run_sweep(tasks, backend="serial", cache=tmp_path, progress=False)
    assert (resumed.hits, resumed.computed) == (2, 2)
    assert [r["x"] for r in resumed] == [0, 1, 2, 3]


def test_results_come_back_in_task_order_with_duplicates(tmp_path):
    tasks = [_echo(x) for x in (3, 1, 3, 2)]
    results = run_sweep(tasks, backend="joblib", n_jobs=2, progress=False)
    assert [r["x"] for r in results] == [3, 1, 3, 2]
    assert results.computed == 3 and results.hits == 1


def test_codec_round_trips_and_refuses_modules():
    suffix, blob = encode({"a": (1, 2.5), "b": None, "c": np.float64(0.5)})
    assert suffix == ".json" and decode(suffix, blob) == {"a": [1, 2.5], "b": None, "c": 0.5}
    value = {"w": torch.arange(3.0), "arr": np.arange(4, dtype=np.int16), "t": (1, "x")}
    suffix, blob = encode(value)
    back = decode(suffix, blob)
    assert suffix == ".pt" and torch.equal(back["w"], value["w"])
    assert back["arr"].dtype == np.int16 and np.array_equal(back["arr"], value["arr"])
    assert back["t"] == (1, "x")
    with pytest.raises(TypeError, match="state_dict"):
        encode({"net": torch.nn.Linear(2, 2)})


def test_a_foreign_cache_file_is_refused(tmp_path):
    cache = Cache(tmp_path)
    task = _echo(5)
    path = cache.store(task, {"x": 5})
    assert cache.load(task) == {"x": 5}
    foreign = path.with_suffix(".pt")
    path.unlink()
    torch.save({"format": "something else"}, foreign)
    with pytest.raises(CacheError, match="format"):
        cache.load(task)


def test_tasks_are_checked_where_they_are_made():
    with pytest.raises(ParameterError, match="module level"):
        Task.create(lambda: 1, version=1)
    with pytest.raises(ParameterError, match="x"):
        Task.create(ex.echo, {"x": object()})
    with pytest.raises(ParameterError, match="version"):
        Task.create(time.sleep, {"secs": 0})
    with pytest.raises(ParameterError):
        run_sweep([_echo(1)], backend="threads")
    assert digest_data({"a": np.zeros(2)}) != digest_data({"b": np.zeros(2)})


def test_scheduler_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.delenv("WILOC_SCHEDULER", raising=False)
    assert resolve_scheduler() is None
    assert run_sweep([], progress=False).backend == "joblib"
    assert run_sweep([], n_jobs=1, progress=False).backend == "serial"
    monkeypatch.setenv("WILOC_SCHEDULER", "tcp://10.0.0.1:8786")
    assert resolve_scheduler() == "tcp://10.0.0.1:8786"
    assert resolve_scheduler("tcp://127.0.0.1:1") == "tcp://127.0.0.1:1"
    assert run_sweep([], progress=False).backend == "dask"  # no task: nothing to connect


def test_results_record_their_sitting_and_sittings_sum_them(tmp_path):
    from wiloc_core.experiment.sweep import current_sitting

    cache = Cache(tmp_path)
    tasks = [_echo(x) for x in range(3)]
    run_sweep(tasks, backend="serial", cache=cache, progress=False)
    [now] = cache.sittings(t.key() for t in tasks)
    assert {k: now[k] for k in ("host", "pid", "started")} == current_sitting()
    assert now["tasks"] == 3 and now["wall_s"] >= 0
    assert cache.read(tasks[0].key())["run"]["sitting"] == current_sitting()

    # hand-made records: two earlier sittings (the first in the packed string the first
    # sittings wrote) and one from before sittings were recorded
    def stored(x, sitting, finished, seconds):
        task = _echo(100 + x)
        cache.store(task, {"x": x}, {"seconds": seconds, "sitting": sitting,
                                     "finished_at": finished})
        return task.key()

    first = "hostA:11:2026-12-01T10:00:00+00:00"
    second = {"host": "hostB", "pid": 22, "started": "2026-12-02T09:00:00+00:00"}
    keys = [stored(0, first, "2026-12-01T10:30:00+00:00", 1500.0),
            stored(1, {"host": "hostA", "pid": 11, "started": "2026-12-01T10:00:00+00:00"},
                   "2026-12-01T12:00:00+00:00", 5000.0),
            stored(2, second, "2026-12-02T09:10:00+00:00", 600.0)]
    legacy = _echo(200)
    cache.store(legacy, {"x": 0}, {"seconds": 7.0})
    records = cache.sittings([*keys, legacy.key(), _echo(999).key()])   # the last: not cached
    assert [(r["host"], r["pid"], r["started"]) for r in records] == [
        (None, None, None), ("hostA", 11, "2026-12-01T10:00:00+00:00"),
        ("hostB", 22, "2026-12-02T09:00:00+00:00")]
    assert records[0]["wall_s"] is None and records[0]["tasks"] == 1
    assert (records[1]["tasks"], records[1]["task_seconds"]) == (2, 6500.0)
    assert records[1]["wall_s"] == 2 * 3600.0 and records[2]["wall_s"] == 600.0
    assert records[1]["last_finished"] == "2026-12-01T12:00:00+00:00"

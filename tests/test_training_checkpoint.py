"""Checkpoints between epochs: a training loop cut off and restarted ends bit-identical."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_surrogate_teachers import _dataset  # noqa: E402

from wiloc_core.errors import DataFormatError, ParameterError  # noqa: E402
from wiloc_core.experiment import Cache, Task, run_sweep  # noqa: E402
from wiloc_core.methods import surrogate_teachers as st  # noqa: E402
from wiloc_core.training import TrainSettings, checkpoint, fit, seeded_init  # noqa: E402
from wiloc_core.training.checkpoint import LoopCheckpoint, task_scope  # noqa: E402


class _Cut(Exception):
    """Stands for a session that ends in the middle of a task."""


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def domains():
    return {"A": st.make_domain(_dataset("A", 40, 96, 32, 1)),
            "B": st.make_domain(_dataset("B", 24, 64, 16, 2))}


def _settings(epochs, patience=None):
    return TrainSettings(epochs=epochs, lr=3e-3, batch_size=32, patience=patience,
                         val_fraction=0.2, device="cpu", progress=False)


def _cut_after(monkeypatch, saves: int, file: str | None = None):
    """Make the ``saves``-th checkpoint save (of ``file`` only, when given) raise _Cut right
    after writing its file."""
    original, count = LoopCheckpoint.after_epoch, {"n": 0}

    def after_epoch(self, *args, **kwargs):
        saved = original(self, *args, **kwargs)
        count["n"] += saved and (file is None or self.path.name == file)
        if saved and count["n"] == saves:
            raise _Cut
        return saved

    monkeypatch.setattr(LoopCheckpoint, "after_epoch", after_epoch)
    return lambda: monkeypatch.setattr(LoopCheckpoint, "after_epoch", original)


def _count_epochs(monkeypatch) -> dict:
    """Count the epochs each loop file runs from now on (after_epoch calls per file)."""
    original, calls = LoopCheckpoint.after_epoch, {}

    def after_epoch(self, *args, **kwargs):
        if self.path is not None:
            calls[self.path.name] = calls.get(self.path.name, 0) + 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LoopCheckpoint, "after_epoch", after_epoch)
    return calls


def _states_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _mlp():
    return torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                               torch.nn.Linear(16, 1))


def _toy_regression():
    gen = np.random.default_rng(0)
    x = gen.normal(size=(120, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


@pytest.mark.parametrize("patience", [None, 2])
def test_fit_cut_off_and_resumed_ends_bit_identical(tmp_path, monkeypatch, patience):
    x, y = _toy_regression()
    settings = _settings(9, patience=patience)
    plain = seeded_init(_mlp, 0)
    whole = fit(plain, x, y, settings, seed=5)

    restore = _cut_after(monkeypatch, 3)
    with pytest.raises(_Cut), task_scope(tmp_path, interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, settings, seed=5)
    restore()
    assert [p.name for p in tmp_path.iterdir()] == ["1-fit.pt"]
    resumed_net = seeded_init(_mlp, 0)
    calls = _count_epochs(monkeypatch)
    with task_scope(tmp_path, interval_s=0):
        resumed = fit(resumed_net, x, y, settings, seed=5)
    assert _states_equal(plain, resumed_net)
    assert resumed.history == whole.history
    assert calls == {"1-fit.pt": len(whole.history) - 3}     # went on from epoch 4
    assert (resumed.best_epoch, resumed.steps, resumed.stopped_early) == \
        (whole.best_epoch, whole.steps, whole.stopped_early)


def test_expert_and_distill_resume_bit_identical(domains, monkeypatch, tmp_path):
    settings, framework = _settings(5), st.FrameworkSettings(critic_steps=1)
    whole = st.train_expert("DNN", domains["A"], settings, framework, seed=2)
    restore = _cut_after(monkeypatch, 2)
    with pytest.raises(_Cut), task_scope(tmp_path / "expert", interval_s=0):
        st.train_expert("DNN", domains["A"], settings, framework, seed=2)
    restore()
    calls = _count_epochs(monkeypatch)
    with task_scope(tmp_path / "expert", interval_s=0):
        again = st.train_expert("DNN", domains["A"], settings, framework, seed=2)
    assert calls == {"1-expert.pt": 3}
    assert _states_equal(whole.net, again.net) and _states_equal(whole.teacher, again.teacher)
    assert again.history == whole.history and again.best_epoch == whole.best_epoch

    teachers = [whole.teacher]
    net = st.distill("DNN", domains["B"], teachers, settings, framework, seed=1)
    restore = _cut_after(monkeypatch, 3)
    with pytest.raises(_Cut), task_scope(tmp_path / "distill", interval_s=0):
        st.distill("DNN", domains["B"], teachers, settings, framework, seed=1)
    restore()
    calls = _count_epochs(monkeypatch)
    log = {}
    with task_scope(tmp_path / "distill", interval_s=0):
        again = st.distill("DNN", domains["B"], teachers, settings, framework, seed=1,
                           history=log)
    assert _states_equal(net, again) and len(log["mae"]) == 5
    assert calls == {"1-distill.pt": 2}


def test_multi_stage_task_skips_finished_stages_and_resumes_the_cut_one(domains, monkeypatch,
                                                                         tmp_path):
    """(**): joint pre-training, then fine-tuning; cut in the fine-tuning, the rerun takes
    the finished pre-training from its last file and goes on."""
    def settings_of(_name):
        return _settings(4, patience=2)

    args = ("DNN", [domains["B"]], domains["A"], settings_of)
    whole = st.collective_transfer(*args, n_common=16, seed=0, pretrain_stopping=True)
    restore = _cut_after(monkeypatch, 1, file="2-fit.pt")   # the joint stage has ended
    with pytest.raises(_Cut), task_scope(tmp_path, interval_s=0):
        st.collective_transfer(*args, n_common=16, seed=0, pretrain_stopping=True)
    restore()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1-joint.pt", "2-fit.pt"]
    calls = _count_epochs(monkeypatch)
    with task_scope(tmp_path, interval_s=0):
        again = st.collective_transfer(*args, n_common=16, seed=0, pretrain_stopping=True)
    np.testing.assert_array_equal(whole, again)
    assert "1-joint.pt" not in calls and calls["2-fit.pt"] >= 1


def test_no_checkpoint_outside_a_task_or_before_the_interval(tmp_path):
    x, y = _toy_regression()
    fit(seeded_init(_mlp, 0), x, y, _settings(3), seed=0)
    with task_scope(tmp_path, interval_s=3600):
        fit(seeded_init(_mlp, 0), x, y, _settings(3), seed=0)
    assert list(tmp_path.iterdir()) == []     # never due, so no final save either


def test_damaged_or_foreign_checkpoint_is_named(tmp_path):
    x, y = _toy_regression()
    (tmp_path / "1-fit.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataFormatError, match="1-fit.pt"), task_scope(tmp_path, interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, _settings(2), seed=0)
    torch.save({"format": checkpoint.FORMAT, "modules": {"other": {}}, "optimizers": {},
                "generators": {}}, tmp_path / "1-fit.pt")
    with pytest.raises(DataFormatError, match="modules"), task_scope(tmp_path, interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, _settings(2), seed=0)


def test_interval_from_the_environment(monkeypatch):
    monkeypatch.setenv("WILOC_CHECKPOINT_S", "30")
    assert checkpoint.checkpoint_interval_s() == 30.0
    monkeypatch.setenv("WILOC_CHECKPOINT_S", "soon")
    with pytest.raises(ParameterError, match="WILOC_CHECKPOINT_S"):
        checkpoint.checkpoint_interval_s()
    monkeypatch.delenv("WILOC_CHECKPOINT_S")
    assert checkpoint.checkpoint_interval_s() == checkpoint.DEFAULT_INTERVAL_S


def test_sweep_gives_each_task_a_folder_and_clears_it_once_cached(domains, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("WILOC_CHECKPOINT_S", "0")
    cache = Cache(tmp_path)
    task = Task.create(st.standalone_task, {"arch": "DNN", "settings": _settings(3), "seed": 0},
                       data=domains["B"], version=1, name="standalone B")
    restore = _cut_after(monkeypatch, 2)
    with pytest.raises(Exception, match="_Cut"):
        run_sweep([task], backend="serial", cache=cache, progress=False)
    restore()
    folder = cache.checkpoint_dir(task)
    assert (folder / "1-fit.pt").is_file() and task not in cache
    result = run_sweep([task], backend="serial", cache=cache, progress=False)
    assert task in cache and not folder.exists()
    whole = st.standalone_task(domains["B"], arch="DNN", settings=_settings(3), seed=0)
    np.testing.assert_array_equal(result[0]["errors"], whole["errors"])


class _Clock:
    """A perf_counter that moves ``step`` seconds at every reading."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def perf_counter(self):
        self.now += self.step
        return self.now


def test_the_interval_runs_per_task_and_counts_the_last_epoch(monkeypatch, tmp_path):
    x, y = _toy_regression()
    monkeypatch.setattr(checkpoint, "time", _Clock(400.0))
    with task_scope(tmp_path / "one", interval_s=600):
        fit(seeded_init(_mlp, 0), x, y, _settings(2), seed=0)
    assert (tmp_path / "one" / "1-fit.pt").is_file()       # due by the last epoch: saved
    # three short stages: none lasts the interval alone, the task does
    monkeypatch.setattr(checkpoint, "time", _Clock(150.0))
    with task_scope(tmp_path / "three", interval_s=600):
        for _ in range(3):
            fit(seeded_init(_mlp, 0), x, y, _settings(1), seed=0)
    assert any((tmp_path / "three").iterdir())


def test_sequential_transfer_resumes_after_a_stage_that_never_saved(domains, monkeypatch,
                                                                      tmp_path):
    def settings_of(_name):
        return _settings(3, patience=2)

    args = ("DNN", [domains["B"], domains["A"]], domains["B"], settings_of)
    whole = st.sequential_transfer(*args, n_common=16, seed=0)
    original = LoopCheckpoint.after_epoch

    def never_first(self, *a, **kw):       # stage 1 keeps no file, as a short stage would
        return False if self.path.name == "1-fit.pt" else original(self, *a, **kw)

    monkeypatch.setattr(LoopCheckpoint, "after_epoch", never_first)
    restore = _cut_after(monkeypatch, 2, file="3-fit.pt")
    with pytest.raises(_Cut), task_scope(tmp_path, interval_s=0):
        st.sequential_transfer(*args, n_common=16, seed=0)
    restore()
    monkeypatch.setattr(LoopCheckpoint, "after_epoch", original)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2-fit.pt", "3-fit.pt"]
    done_before = len(_stage_history(tmp_path))
    calls = _count_epochs(monkeypatch)
    with task_scope(tmp_path, interval_s=0):
        again = st.sequential_transfer(*args, n_common=16, seed=0)
    np.testing.assert_array_equal(whole, again)
    assert calls["1-fit.pt"] >= 1 and "2-fit.pt" not in calls   # retrained, then skipped
    assert calls["3-fit.pt"] == len(_stage_history(tmp_path)) - done_before   # went on


def _stage_history(folder):
    return torch.load(folder / "3-fit.pt", weights_only=True)["loop"]["history"]


def test_a_checkpoint_from_another_device_is_set_aside(monkeypatch, tmp_path):
    x, y = _toy_regression()
    settings = _settings(4)
    plain = seeded_init(_mlp, 0)
    fit(plain, x, y, settings, seed=1)
    restore = _cut_after(monkeypatch, 2)
    with pytest.raises(_Cut), task_scope(tmp_path, interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, settings, seed=1)
    restore()
    snap = torch.load(tmp_path / "1-fit.pt", weights_only=True)
    torch.save({**snap, "device": "cuda:0"}, tmp_path / "1-fit.pt")
    net = seeded_init(_mlp, 0)
    calls = _count_epochs(monkeypatch)
    with pytest.warns(UserWarning, match="starts over"), task_scope(tmp_path, interval_s=0):
        fit(net, x, y, settings, seed=1)
    assert _states_equal(plain, net) and calls == {"1-fit.pt": 4}


def test_states_that_do_not_fit_the_loop_are_named(monkeypatch, tmp_path):
    x, y = _toy_regression()
    restore = _cut_after(monkeypatch, 1)
    with pytest.raises(_Cut), task_scope(tmp_path, interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, _settings(3), seed=1)
    restore()
    snap = torch.load(tmp_path / "1-fit.pt", weights_only=True)
    snap["modules"]["model"]["0.weight"] = torch.zeros(2, 2)
    torch.save(snap, tmp_path / "1-fit.pt")
    with pytest.raises(DataFormatError, match="delete the file"), \
            task_scope(tmp_path, interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, _settings(3), seed=1)


def test_a_cached_task_clears_a_checkpoint_folder_left_behind(tmp_path):
    cache = Cache(tmp_path)
    task = Task.create("wiloc_core.experiment.examples:echo", {"x": 1})
    run_sweep([task], backend="serial", cache=cache, progress=False)
    left = cache.checkpoint_dir(task)
    left.mkdir(parents=True)
    (left / "1-fit.pt").write_bytes(b"")
    run_sweep([task], backend="serial", cache=cache, progress=False)
    assert not left.exists()


def _as_format_1(path, name):
    """Rewrite a checkpoint as the first format wrote it (before the shared early-stopping
    record): fit kept its record in flat fields, and only distill and joint saved the epoch."""
    snap = torch.load(path, weights_only=True)
    loop = dict(snap["loop"])
    loop.pop("epoch") if name in ("fit", "expert") else None
    if name == "fit":
        stopper = loop.pop("stopper")
        loop.update(best=stopper["best"], best_epoch=stopper["best_epoch"],
                    stale=stopper["stale"],
                    best_state=None if stopper["state"] is None else stopper["state"]["model"])
    torch.save({**snap, "format": "wiloc-checkpoint/1", "loop": loop}, path)


def test_a_first_format_checkpoint_still_resumes_bit_identical(domains, monkeypatch, tmp_path):
    x, y = _toy_regression()
    settings = _settings(8, patience=3)
    plain = seeded_init(_mlp, 0)
    whole = fit(plain, x, y, settings, seed=4)
    restore = _cut_after(monkeypatch, 3)
    with pytest.raises(_Cut), task_scope(tmp_path / "fit", interval_s=0):
        fit(seeded_init(_mlp, 0), x, y, settings, seed=4)
    restore()
    _as_format_1(tmp_path / "fit" / "1-fit.pt", "fit")
    net = seeded_init(_mlp, 0)
    calls = _count_epochs(monkeypatch)
    with task_scope(tmp_path / "fit", interval_s=0):
        again = fit(net, x, y, settings, seed=4)
    assert _states_equal(plain, net) and again.history == whole.history
    assert calls == {"1-fit.pt": len(whole.history) - 3}
    assert (again.best_epoch, again.best_val_loss) == (whole.best_epoch, whole.best_val_loss)

    expert_settings, framework = _settings(5), st.FrameworkSettings(critic_steps=1)
    expert = st.train_expert("DNN", domains["B"], expert_settings, framework, seed=3)
    restore = _cut_after(monkeypatch, 2)
    with pytest.raises(_Cut), task_scope(tmp_path / "expert", interval_s=0):
        st.train_expert("DNN", domains["B"], expert_settings, framework, seed=3)
    restore()
    _as_format_1(tmp_path / "expert" / "1-expert.pt", "expert")
    with task_scope(tmp_path / "expert", interval_s=0):
        resumed = st.train_expert("DNN", domains["B"], expert_settings, framework, seed=3)
    assert _states_equal(expert.net, resumed.net) and resumed.history == expert.history


def test_early_stopping_keeps_the_best_epoch_and_counts_patience():
    from wiloc_core.training import EarlyStopping

    net = torch.nn.Linear(1, 1, bias=False)
    stopper = EarlyStopping({"net": net}, patience=2, min_delta=0.1)
    losses = {1: 1.0, 2: 0.5, 3: 0.45, 4: float("nan"), 5: 0.2}   # 3: within min_delta
    stops = []
    for epoch, loss in losses.items():
        with torch.no_grad():
            net.weight.fill_(epoch)
        stops.append(stopper.update(epoch, loss))
    assert stops == [False, False, False, True, False]   # 2 stale epochs, then a new best
    assert (stopper.best_epoch, stopper.best, stopper.stale) == (5, 0.2, 0)
    record = stopper.record()
    other = EarlyStopping({"net": net}, patience=2, min_delta=0.1)
    other.load({**record, "best_epoch": 2, "state": {"net": {"weight": torch.tensor([[2.0]])}}})
    assert other.restore(epochs_run=5) == 2 and net.weight.item() == 2.0
    assert EarlyStopping({"net": net}, patience=None).restore(epochs_run=7) == 7   # nothing kept
    none = EarlyStopping({"net": net}, patience=1)
    assert not any(none.update(e, None) for e in range(1, 5)) and not none.improved
    with pytest.raises(ParameterError, match="patience"):
        EarlyStopping({"net": net}, patience=0)


def _one_done_one_cut(cache, domains, monkeypatch):
    """Two stand-alone tasks in ``cache``: one finished (2 epochs), one cut off after its
    second epoch's checkpoint (of 4). Returns (done, cut)."""
    done = Task.create(st.standalone_task, {"arch": "DNN", "settings": _settings(2), "seed": 0},
                       data=domains["B"], version=1, name="standalone B")
    cut = Task.create(st.standalone_task, {"arch": "DNN", "settings": _settings(4), "seed": 1},
                      data=domains["B"], version=1, name="standalone B, seed 1")
    run_sweep([done], backend="serial", cache=cache, progress=False)
    restore = _cut_after(monkeypatch, 2)
    with pytest.raises(Exception, match="_Cut"):
        run_sweep([cut], backend="serial", cache=cache, progress=False)
    restore()
    return done, cut


def test_cache_status_lists_results_and_the_tasks_a_run_will_resume(domains, tmp_path,
                                                                     monkeypatch, capsys):
    from wiloc_core import cli

    monkeypatch.setenv("WILOC_CHECKPOINT_S", "0")
    cache = Cache(tmp_path)
    done, cut = _one_done_one_cut(cache, domains, monkeypatch)
    first_format = cache.checkpoint_dir("ab" + "0" * 62)       # an older run's folder
    first_format.mkdir(parents=True)
    (first_format / "1-fit.pt").write_bytes(b"damaged")
    (tmp_path / "ab" / "junk.json").write_text("{}")           # not a result of this store

    status = cache.status()
    assert [r["task"] for r in status["results"]] == ["standalone B"]
    assert status["results"][0]["host"] and status["results"][0]["seconds"] > 0
    assert status["results"][0]["total_seconds"] > 0       # standalone_task reports its own
    progress = {t["task"]: t for t in status["in_progress"]}
    assert set(progress) == {"standalone B, seed 1", ""}
    [loop] = progress["standalone B, seed 1"]["loops"]
    assert (loop["loop"], loop["epoch"], loop["finished"]) == ("fit", 2, False)
    assert "error" in progress[""]["loops"][0]
    assert [Path(u["file"]).name for u in status["unreadable"]] == ["junk.json"]

    assert cli.main(["cache", "status", "--root", str(tmp_path), "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 results" in out and "standalone B, seed 1" in out and "epoch 2," in out
    assert "unreadable" in out
    assert cli.main(["cache", "status", "--root", str(tmp_path / "none"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []


def test_a_run_cut_off_on_one_machine_resumes_on_another_through_a_merge(domains, tmp_path,
                                                                         monkeypatch, capsys):
    from wiloc_core import cli

    monkeypatch.setenv("WILOC_CHECKPOINT_S", "0")
    first, carried, second = (Cache(tmp_path / n) for n in ("first", "carried", "second"))
    done, cut = _one_done_one_cut(first, domains, monkeypatch)

    # first machine -> durable storage -> a fresh machine
    assert carried.merge_from(first) == {"results": 1, "checkpoints": 1, "pruned": 0}
    assert cli.main(["cache", "merge", str(carried.root), "--root", str(second.root)]) == 0
    assert "1 results and 1 checkpoints copied" in capsys.readouterr().out
    assert done in second and cut not in second
    epochs = _count_epochs(monkeypatch)
    [result] = run_sweep([cut], backend="serial", cache=second, progress=False)
    assert epochs == {"1-fit.pt": 2}                 # epochs 3 and 4 only
    whole = st.standalone_task(domains["B"], arch="DNN", settings=_settings(4), seed=1)
    np.testing.assert_array_equal(result["errors"], whole["errors"])

    # back into durable storage: the result lands, the stale checkpoint goes
    assert carried.merge_from(second) == {"results": 1, "checkpoints": 0, "pruned": 1}
    assert cut in carried and not carried.checkpoint_dir(cut).exists()
    assert carried.merge_from(second) == {"results": 0, "checkpoints": 0, "pruned": 0}


def test_a_merge_keeps_the_checkpoint_further_along_and_refuses_damaged_results(domains,
                                                                                tmp_path,
                                                                                monkeypatch):
    from wiloc_core.experiment import CacheError

    monkeypatch.setenv("WILOC_CHECKPOINT_S", "0")
    behind, ahead = Cache(tmp_path / "behind"), Cache(tmp_path / "ahead")
    task = Task.create(st.standalone_task, {"arch": "DNN", "settings": _settings(5), "seed": 0},
                       data=domains["B"], version=1, name="standalone B")
    for cache, saves in ((behind, 1), (ahead, 3)):
        restore = _cut_after(monkeypatch, saves)
        with pytest.raises(Exception, match="_Cut"):
            run_sweep([task], backend="serial", cache=cache, progress=False)
        restore()
    assert ahead.merge_from(behind)["checkpoints"] == 0
    assert checkpoint.describe_folder(ahead.checkpoint_dir(task))["loops"][0]["epoch"] == 3
    assert behind.merge_from(ahead)["checkpoints"] == 1
    assert checkpoint.describe_folder(behind.checkpoint_dir(task))["loops"][0]["epoch"] == 3

    bad = tmp_path / "bad"
    (bad / "cd").mkdir(parents=True)
    (bad / "cd" / f"cd{'0' * 62}.json").write_text("not json")
    with pytest.raises(CacheError, match=f"cd{'0' * 62}.json"):
        Cache(tmp_path / "fresh").merge_from(Cache(bad))
    assert not (tmp_path / "fresh").exists()

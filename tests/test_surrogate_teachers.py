"""Training phases of paper 001 at tiny sizes: one step lowers the loss, drivers run end to end."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wiloc_core.data.fingerprints import FingerprintDataset, FingerprintSet  # noqa: E402
from wiloc_core.errors import ParameterError  # noqa: E402
from wiloc_core.experiment import Cache  # noqa: E402
from wiloc_core.methods import surrogate_losses as L  # noqa: E402
from wiloc_core.methods import surrogate_teachers as st  # noqa: E402
from wiloc_core.models.surrogate import MICritic  # noqa: E402
from wiloc_core.training import TrainSettings  # noqa: E402

ONE_CRITIC_STEP = st.FrameworkSettings(critic_steps=1)


def _settings(epochs, lr=1e-3, patience=None, val_fraction=0.2):
    return TrainSettings(epochs=epochs, lr=lr, batch_size=32, patience=patience,
                         val_fraction=val_fraction, device="cpu", progress=False)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


def _dataset(name, n_aps, n_train, n_test, seed):
    """A toy building: RSS falls off with distance to APs placed on a 50 m square."""
    gen = np.random.default_rng(seed)
    aps = gen.uniform(0, 50, size=(n_aps, 2))

    def split(n, which):
        xy = gen.uniform(0, 50, size=(n, 2))
        d = np.linalg.norm(xy[:, None] - aps[None], axis=2)
        rss = -40 - 20 * np.log10(1 + d) + gen.normal(0, 2, size=d.shape)
        rss[rss < -85] = 100.0
        return FingerprintSet(rss=rss, xy=xy, height=np.zeros(n), floor=np.zeros(n, int),
                              building=np.zeros(n, int), name=name, split=which,
                              source_kind="simulated", source="test")

    train = split(n_train, "train") if n_train else split(0, "train")
    return FingerprintDataset(train=train, test=split(n_test, "test"), name=name,
                              source_kind="simulated")


@pytest.fixture(scope="module")
def domains():
    return {
        "A": st.make_domain(_dataset("A", 40, 96, 32, 1)),
        "B": st.make_domain(_dataset("B", 24, 64, 16, 2)),
        "C": st.make_domain(_dataset("C", 30, 0, 48, 3)),  # test file only, like UTS
    }


def test_make_domain_frame_subsampling_and_test_only_sources(domains):
    a = domains["A"]
    assert a.x_train.shape == (96, 40) and a.y_train.min() >= 0 and a.y_train.max() <= 1 + 1e-6
    # the frame maps back to the training positions in metres
    np.testing.assert_allclose(a.offset + a.scale * a.y_train,
                               _dataset("A", 40, 96, 32, 1).train.xy, atol=1e-4)
    c = domains["C"]
    assert c.n_train == 48 and c.x_test is None
    small = st.make_domain(_dataset("A", 40, 96, 32, 1), fraction=0.25, seed=0)
    assert small.n_train == 24 and "25 %" in small.note
    with pytest.raises(ParameterError):
        st.evaluate(None, c)


@pytest.mark.parametrize("patience", [None, 1])
def test_expert_network_follows_standalone_fit_trajectory(domains, patience):
    """S_i of expert training and stand-alone training by training.fit: same weights,
    rows, batch order, dropout draws and early stopping, so the same network."""
    settings = _settings(6, lr=3e-3, patience=patience)
    expert = st.train_expert("DNN", domains["A"], settings, ONE_CRITIC_STEP, seed=3)
    alone, fitted = st.train_standalone("DNN", domains["A"], settings, seed=3)
    x = domains["A"].x_test
    np.testing.assert_allclose(expert.net.predict_xy(x), alone.predict_xy(x), atol=1e-5)
    assert expert.best_epoch == fitted.best_epoch
    assert len(expert.history["g_mae"]) == fitted.epochs_run
    np.testing.assert_allclose(expert.history["val_mae"], [h["val_loss"] for h in fitted.history],
                               rtol=1e-6)
    assert expert.teacher is not None and expert.device == "cpu"


def test_training_leaves_the_global_torch_rng_alone(domains):
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    st.train_expert("DNN", domains["B"], _settings(1), ONE_CRITIC_STEP, seed=0)
    st.train_standalone("DNN", domains["B"], _settings(1), seed=0)
    assert torch.equal(before, torch.random.get_rng_state())


def test_holdout_is_seeded_and_disjoint():
    train, val = st.holdout(50, 0.2, seed=4)
    assert len(val) == 10 and len(train) == 40 and not set(train) & set(val)
    again, _ = st.holdout(50, 0.2, seed=4)
    np.testing.assert_array_equal(train, again)
    assert st.holdout(50, 0.0, seed=4)[1] is None
    with pytest.raises(ParameterError):
        st.holdout(3, 0.5, seed=0)


def test_expert_training_lowers_teacher_location_error(domains):
    expert = st.train_expert("DNN", domains["A"], _settings(12, lr=3e-3), ONE_CRITIC_STEP, seed=0)
    g = expert.history["g_mae"]
    assert g[-1] < g[0]
    assert expert.history["s_mae"][-1] < expert.history["s_mae"][0]


@pytest.mark.parametrize("arch", ["DNN", "CNNLoc", "BayesCNN", "bAaT"])
def test_one_distilling_step_lowers_eq12_loss(domains, arch):
    teacher = st.train_expert(arch, domains["B"], _settings(1), ONE_CRITIC_STEP, seed=0).teacher
    torch.manual_seed(0)
    sizes = {"DNN": {"dropout": 0.0}, "CNNLoc": {"dropout": 0.0},
             "BayesCNN": {"dropout": 0.0}, "bAaT": {"dropout": 0.0}}[arch]
    net = st._new_net(arch, domains["A"], 0, {arch: sizes})
    psi = MICritic(net.z_dim)
    constraints = {"sim", "mi"} if arch == "bAaT" else {"sim", "mi", "fi"}
    lam = L.normalised_weights()
    x, y = torch.from_numpy(domains["A"].x_train[:32]), torch.from_numpy(domains["A"].y_train[:32])
    opt = torch.optim.Adam([*net.parameters(), *psi.parameters()], lr=1e-4)  # a small step: descent holds locally

    def loss_now():
        return st.distillation_loss(net, psi, [teacher], x, y, constraints, lam, 30,
                                    torch.Generator().manual_seed(7))

    before, terms = loss_now()
    assert set(terms) == {"mae"} | constraints
    opt.zero_grad()
    before.backward()
    opt.step()
    after, _ = loss_now()
    assert after.item() < before.item()


def test_distill_rejects_bad_constraints_and_widths(domains):
    settings = _settings(1)
    teacher = st.train_expert("CNNLoc", domains["B"], settings, ONE_CRITIC_STEP).teacher
    with pytest.raises(ParameterError):
        st.distill("DNN", domains["A"], [teacher], settings, constraints=("sim", "kl"))
    with pytest.raises(ParameterError):
        st.distill("DNN", domains["A"], [teacher], settings)  # 33-d teacher, 128-d DNN


def _cfg(epochs=1):
    return {"epochs": dict.fromkeys("ABC", epochs), "lr": dict.fromkeys("ABC", 1e-3),
            "batch_size": 32, "critic_steps": 1, "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5], "power_iters": 5, "n_common": 16,
            "net_sizes": {"DNN": {"hidden": [32, 16]}}, "patience": 2, "val_fraction": 0.2}


def test_run_table1_end_to_end_is_deterministic(domains):
    args = (domains, ["A"], {"A": ["B", "C"]}, ["DNN"], _cfg())
    run = st.run_table1(*args, seed=0, progress=False, device="cpu")
    assert set(run.errors) == {("A", "DNN", v) for v in ("standalone", "+++", "*", "**")}
    for errors in run.errors.values():
        assert errors.shape == (32,) and np.all(np.isfinite(errors))
    assert run.devices == {"cpu"} and run.computed == 6  # 2 experts, 1 + 1 + 1, 1 distilled
    again = st.run_table1(*args, seed=0, variants=("standalone", "+++"), progress=False)
    np.testing.assert_array_equal(again.errors[("A", "DNN", "+++")], run.errors[("A", "DNN", "+++")])
    assert run.row_label("DNN", "standalone") == "DNN" and st.full_variant("bAaT") == "++"


def test_run_table1_queues_each_steps_distillation_ahead_of_the_next_step(domains,
                                                                           monkeypatch):
    """A step's distilled networks share a sweep with the next step's experts and
    stand-alone networks, at the head of its queue; the transfers close the last sweep."""
    sweeps = []
    real = st.run_sweep

    def recording(tasks, **kwargs):
        sweeps.append([t.name for t in tasks])
        return real(tasks, **kwargs)

    monkeypatch.setattr(st, "run_sweep", recording)
    st.run_table1(domains, ["A"], {"A": ["B"]}, ["DNN", "CNNLoc"],
                  {**_cfg(), "seeds": {"DNN": 2}},
                  variants={"DNN": ["standalone", "+++", "*"], "CNNLoc": ["standalone", "+++"]},
                  progress=False, device="cpu")
    assert sweeps == [
        ["expert DNN B", "standalone DNN A"],
        ["+++ DNN A", "expert CNNLoc B", "standalone CNNLoc A"],
        ["+++ CNNLoc A", "expert DNN B seed 1", "standalone DNN A seed 1"],
        ["+++ DNN A seed 1", "* DNN A"]]


@pytest.mark.parametrize("arch", ["DNN", "CNNLoc", "BayesCNN", "bAaT"])
def test_an_experts_network_is_the_stand_alone_network(domains, arch):
    """Alg. 2 trains S_i with J_MAE alone and its teacher never feeds back: with the same
    seed, the expert's network and the stand-alone network are the same weights."""
    settings = TrainSettings(epochs=3, lr=3e-3, batch_size=32, patience=2, val_fraction=0.2,
                             device="cpu", progress=False)
    sizes = {"BayesCNN": {"channels": (4, 8)}, "bAaT": {"width": 16, "depth": 1, "heads": 2,
                                                        "mlp": 16}}.get(arch, {})
    expert = st.train_expert(arch, domains["A"], settings, st.FrameworkSettings(critic_steps=2),
                             seed=3, net_sizes={arch: sizes})
    alone, _ = st.train_standalone(arch, domains["A"], settings, seed=3, net_sizes={arch: sizes})
    a, b = expert.net.state_dict(), alone.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_run_table1_takes_a_targets_stand_alone_network_from_its_expert(domains, tmp_path,
                                                                      monkeypatch):
    names = []
    real = st.run_sweep

    def recording(tasks, **kwargs):
        names.extend(t.name for t in tasks)
        return real(tasks, **kwargs)

    monkeypatch.setattr(st, "run_sweep", recording)
    args = (domains, ["A", "B"], {"A": ["B"], "B": ["A"]}, ["DNN"], _cfg())
    run = st.run_table1(*args, seed=0, variants=("standalone", "+++"), progress=False,
                        cache=tmp_path)
    assert not any(n.startswith("standalone") for n in names)
    for t in ("A", "B"):
        alone = st.standalone_task(domains[t], arch="DNN", settings=st.settings_from(_cfg())(t),
                                   seed=0, net_sizes=_cfg()["net_sizes"])
        np.testing.assert_array_equal(run.errors[(t, "DNN", "standalone")], alone["errors"])
    # an expert cached before experts reported their errors: the stand-alone network trains
    cache = Cache(tmp_path)
    plan = st._Plan(["DNN"], _cfg(), 0, {"cache": cache})
    _, expert_a = plan.expert("DNN", domains["A"])
    value = cache.load(expert_a)
    cache.store(expert_a, {k: v for k, v in value.items() if k != "errors"})
    names.clear()
    again = st.run_table1(*args, seed=0, variants=("standalone", "+++"), progress=False,
                          cache=tmp_path)
    assert [n for n in names if n.startswith("standalone")] == ["standalone DNN A"]
    np.testing.assert_array_equal(again.errors[("A", "DNN", "standalone")],
                                  run.errors[("A", "DNN", "standalone")])


def test_run_table1_seeds_are_independent_replicates_of_seed_zero(domains):
    """Seed 0 of a 2-seed run is the 1-seed run; seed 1 differs; errors pool both seeds."""
    args = (domains, ["A"], {"A": ["B"]}, ["DNN"])
    one = st.run_table1(*args, _cfg(), seed=0, variants=("standalone", "+++"), progress=False)
    two = st.run_table1(*args, {**_cfg(), "seeds": {"DNN": 2}}, seed=0,
                        variants={"DNN": ["standalone", "+++"]}, progress=False)
    for variant in ("standalone", "+++"):
        key = ("A", "DNN", variant)
        first, second = two.seed_errors[key]
        np.testing.assert_array_equal(first, one.errors[key])
        assert not np.array_equal(first, second)
        np.testing.assert_array_equal(two.errors[key], np.concatenate([first, second]))
    assert "+++ DNN A seed 1" in two.seconds and "expert DNN B seed 1" in two.seconds
    assert two.computed == 6  # per seed: one expert, one distilled, one stand-alone


def test_profile_helpers_per_model_and_per_dataset():
    assert st.seeds_of({"seeds": {"DNN": 3}}, "DNN") == 3
    assert st.seeds_of({"seeds": {"DNN": 3}}, "bAaT") == 1 and st.seeds_of({}, "DNN") == 1
    assert st.variants_of({"DNN": ["*"]}, "CNNLoc") == () and st.variants_of(["*"], "x") == ("*",)
    assert st.per_dataset({"A": 5, "B": 7}, "B", "patience") == 7
    assert st.per_dataset(4, "B", "patience") == 4
    with pytest.raises(ParameterError, match="patience"):
        st.per_dataset({"A": 5}, "B", "patience")
    with pytest.raises(ParameterError, match="variants"):
        st.variants_of(["+++", "++++"], "DNN")
    with pytest.raises(ParameterError, match="seeds"):
        st.seeds_of({"seeds": 0}, "DNN")


def test_ablation_source_and_fraction_drivers(domains):
    cfg = _cfg()
    abl = st.run_ablation(domains, ["A"], {"A": ["B"]}, ["DNN"], cfg, rows=("+", "++"),
                          progress=False)
    assert {k[2] for k in abl.errors} == {"standalone", "+", "++"}
    rel = st.run_source_relevance(domains, ["A"], {"A": ["B", "C"]}, ["DNN"], cfg,
                                  progress=False)
    assert {k[2] for k in rel.errors} == {"standalone", "[B]", "[C]", "[all]"}
    frac = st.run_target_fraction({"A": _dataset("A", 40, 96, 32, 1)}, domains, [("A", 0.5)],
                                  {"A": ["B"]}, ["DNN"], cfg, rounds=2, progress=False)
    assert len(frac.errors[("A", 0.5, "DNN", "+++")]) == 2


def test_same_seed_same_tables_serially_and_on_two_workers(domains, tmp_path):
    """Every network is a task of run_sweep: serial and joblib (2 workers) give identical
    errors, and with a cache Table 3 reuses Table 2's identical networks."""
    args = (domains, ["A"], {"A": ["B", "C"]}, ["DNN"], _cfg(epochs=2))
    serial = st.run_ablation(*args, seed=1, rows=("++", "+++"), progress=False, device="cpu")
    parallel = st.run_ablation(*args, seed=1, rows=("++", "+++"), n_jobs=2, cache=tmp_path,
                               progress=False, device="cpu")
    assert parallel.sweeps[0]["backend"] == "joblib"
    assert serial.errors.keys() == parallel.errors.keys()
    for key in serial.errors:
        np.testing.assert_array_equal(serial.errors[key], parallel.errors[key])
    relevance = st.run_source_relevance(*args, seed=1, cache=tmp_path, progress=False,
                                        device="cpu")
    # only the single-source networks are new: experts, stand-alone and [all] are cached
    assert relevance.computed == 2
    np.testing.assert_array_equal(relevance.errors[("A", "DNN", "[all]")],
                                  serial.errors[("A", "DNN", "+++")])
    np.testing.assert_array_equal(relevance.errors[("A", "DNN", "standalone")],
                                  serial.errors[("A", "DNN", "standalone")])


def test_the_chapters_row_labels_and_dataset_names_hit_the_registry():
    """Chapters 20/21 build registry keys from run labels and chapter.paper_name: in the
    full profile every (model, variant, target) they compare must be a registry row."""
    from wiloc_core import chapter

    def has(item, row, column):
        return chapter.has_paper_value("001", item, row, column)

    label = st.FrameworkRun().row_label
    table1 = chapter.preset("20-surrogate-teachers", "full")
    for model in table1["models"]:
        for variant in ("standalone", "*", "**", st.full_variant(model)):
            for t in table1["targets"]:
                for stat in ("MAE", "P75", "P95"):
                    assert has("Table 1", label(model, variant), f"{chapter.paper_name(t)} {stat}")
    ablations = chapter.preset("21-surrogate-ablations", "full")
    for model in ablations["models"]:
        for t in ablations["targets"]:
            column = f"{chapter.paper_name(t)} MAE"
            for s in ablations["sources"][t]:
                assert has("Table 3", f"{model} [{chapter.paper_name(s)}]", column)
            assert has("Table 3", f"{model} [both]", column) and has("Table 3", model, column)
        for t, share in ablations["fraction_cases"]:
            for variant in ("standalone", st.full_variant(model)):
                assert has("Table 4", label(model, variant), f"{chapter.paper_name(t)} {100 * share:g}% MAE")


def _spy_teacher(monkeypatch):
    """Record every surrogate-teacher call: its condition, its noise, and (on the first
    call) the teacher's weights."""
    from wiloc_core.models.surrogate import SurrogateTeacher

    calls, forward = [], SurrogateTeacher.forward

    def spy(self, cond, noise=None, generator=None):
        weights = ({k: v.detach().clone() for k, v in self.state_dict().items()}
                   if not calls else None)
        calls.append((cond.detach().clone(), noise.detach().clone(), weights))
        return forward(self, cond, noise, generator)

    monkeypatch.setattr(SurrogateTeacher, "forward", spy)
    return calls


#: Numbers of the default reading before ``teacher_input`` existed (same code path),
#: redrawn once when the networks' dropout masks moved to uniforms (VERSION 3).
GOLDEN_POSITION = {"g_mae": 0.6199955642223358, "sim": 0.6816358268260956,
                   "distill_mae": 20.168847192749684}


def test_teacher_input_modes_change_only_what_the_teacher_reads(domains, monkeypatch):
    """Same seed, both readings: the same S_i, the same teacher architecture, initial
    weights and noise; only the teacher's condition differs (true positions or zeros).
    The default reading reproduces the numbers made before the setting existed."""
    settings = _settings(3, lr=3e-3)
    experts, seen = {}, {}
    for reading in st.TEACHER_INPUTS:
        calls = _spy_teacher(monkeypatch)
        experts[reading] = st.train_expert("DNN", domains["B"], settings, ONE_CRITIC_STEP,
                                           seed=2, teacher_input=reading)
        seen[reading] = list(calls)
        monkeypatch.undo()
    pos, noi = experts["position"], experts["noise"]
    for a, b in zip(pos.net.state_dict().values(), noi.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # S_i does not depend on the reading
    assert pos.history["s_mae"] == noi.history["s_mae"]
    assert pos.teacher.config == noi.teacher.config
    assert len(seen["position"]) == len(seen["noise"])
    for (c_pos, z_pos, _), (c_noi, z_noi, _) in zip(seen["position"], seen["noise"],
                                                    strict=True):
        torch.testing.assert_close(z_pos, z_noi, rtol=0, atol=0)  # the same noise draws
        assert c_pos.shape == c_noi.shape and not torch.any(c_noi)
        assert torch.all((c_pos >= 0) & (c_pos <= 1)) and torch.any(c_pos)
    for k, w in seen["position"][0][2].items():  # the same initial teacher weights
        torch.testing.assert_close(w, seen["noise"][0][2][k], rtol=0, atol=0)
    # distilling: the teachers read the target batch's positions, or zeros
    calls = _spy_teacher(monkeypatch)
    st.distill("DNN", domains["A"], [noi.teacher], _settings(1), ONE_CRITIC_STEP,
               constraints=("sim",), seed=2, teacher_input="noise")
    assert calls and all(not torch.any(cond) for cond, _, _ in calls)
    monkeypatch.undo()
    # the default reading is the earlier code path, number for number
    assert pos.history["g_mae"][-1] == pytest.approx(GOLDEN_POSITION["g_mae"], rel=1e-6)
    assert pos.history["sim"][-1] == pytest.approx(GOLDEN_POSITION["sim"], rel=1e-6)
    net = st.distill("DNN", domains["A"], [pos.teacher], settings, ONE_CRITIC_STEP, seed=2)
    assert float(st.evaluate(net, domains["A"]).mean()) == pytest.approx(
        GOLDEN_POSITION["distill_mae"], rel=1e-6)
    with pytest.raises(ParameterError):
        st.train_expert("DNN", domains["B"], settings, seed=2, teacher_input="labels")


def test_teacher_input_enters_the_cache_key_only_when_not_the_default(domains):
    """Stand-alone tasks are shared by both readings; experts and distilled networks
    differ; the default's task parameters are those made before the setting existed."""
    keys = {}
    for reading in (None, *st.TEACHER_INPUTS):
        cfg = _cfg() if reading is None else {**_cfg(), "teacher_input": reading}
        plan = st._Plan(["DNN"], cfg, 0, {"progress": False})
        expert = plan.expert("DNN", domains["B"])[1]
        distilled = plan.distill("DNN", domains["A"], [], ("sim",), "+ DNN A")[1]
        assert ("teacher_input" in expert.params) == (reading == "noise")
        keys[reading] = (plan.standalone("DNN", domains["A"])[1].key(), expert.key(),
                         distilled.key())
    assert keys[None] == keys["position"]
    assert keys["noise"][0] == keys["position"][0]
    assert keys["noise"][1] != keys["position"][1] and keys["noise"][2] != keys["position"][2]


def test_step_profile_splits_one_training_step():
    from wiloc_core.methods.step_profile import STEP_PARTS, profile_step

    parts = profile_step("DNN", 40, batch_size=8, n_steps=2, net_sizes={"DNN": {"hidden": [16]}})
    assert set(parts) == {*STEP_PARTS, "total"}
    assert all(parts[p] > 0 for p in STEP_PARTS)
    assert parts["total"] == pytest.approx(sum(parts[p] for p in STEP_PARTS))
    with pytest.raises(ParameterError):
        profile_step("DNN", 40, n_steps=0)


def test_top_operators_of_a_dense_network_are_matrix_products():
    from wiloc_core.methods.step_profile import top_operators

    ops = top_operators("DNN", 520, batch_size=128, top=3)
    assert len(ops) == 3 and ops[0][1] >= ops[1][1] >= ops[2][1] > 0
    assert sum(s for _, s in ops) <= 1
    # a DNN step is dense layers: a matrix product is among the largest (wall-clock shares
    # on a loaded machine can reorder the rest)
    assert {"aten::mm", "aten::addmm"} & {name for name, _ in ops}
    with pytest.raises(ParameterError):
        top_operators("DNN", 40, top=0)


def test_collective_pretraining_stops_early_on_the_sources_held_out_rows(domains, monkeypatch):
    """(**) with pretrain_stopping: the joint pre-training validates every epoch and stops
    after `patience` epochs without improvement; without it, every epoch on every row."""
    seen = []
    original = st._fit_jointly

    def spy(model, sources, settings, seed):
        best = original(model, sources, settings, seed)
        seen.append((settings.patience, settings.epochs, best))
        return best

    monkeypatch.setattr(st, "_fit_jointly", spy)
    # min_delta 1 (normalised units): nothing after epoch 1 counts as better, so the best
    # epoch is 1 with stopping and the last one without
    settings = {n: TrainSettings(epochs=40, lr=1e-3, batch_size=32, patience=p, min_delta=1.0,
                                 val_fraction=0.2, device="cpu", progress=False)
                for n, p in (("A", 5), ("B", 2), ("C", 9))}
    st.collective_transfer("DNN", [domains["C"], domains["A"]], domains["B"], settings.__getitem__,
                           pretrain_stopping=True)
    # the patience is that of the largest source (A, 96 rows; C has 48), not the first
    assert seen[-1][0] == 5 and seen[-1][2] == 1
    st.collective_transfer("DNN", [domains["C"], domains["A"]], domains["B"], settings.__getitem__)
    assert seen[-1][0] is None and seen[-1][2] == 40


def test_joint_pretraining_stops_after_patience_and_restores_the_best_epoch(domains, monkeypatch):
    calls = []
    original = st.EarlyStopping.update
    monkeypatch.setattr(st.EarlyStopping, "update",
                        lambda self, epoch, val: calls.append(epoch) or original(self, epoch, val))

    def pretrain(epochs, patience):
        model = st._encoded("DNN", [domains["A"]], domains["B"], 16, 0, None)
        settings = TrainSettings(epochs=epochs, lr=3e-3, batch_size=32, patience=patience,
                                 min_delta=1.0, val_fraction=0.2, device="cpu", progress=False)
        best = st._fit_jointly(model, [domains["A"]], settings, 0)
        return best, model.predict_xy("A", domains["A"])

    best, stopped = pretrain(40, 3)
    assert best == 1 and calls == [1, 2, 3, 4]     # epoch 1, then 3 without improvement
    calls.clear()
    _, one_epoch = pretrain(1, 3)                   # the same first epoch, kept
    np.testing.assert_allclose(stopped, one_epoch, atol=1e-6)


def test_collective_pretraining_epochs_and_rows_without_stopping(domains):
    """Without early stopping the joint pre-training trains on every row for every epoch,
    whatever the validation share: pretrain_stopping=False is the rule of old runs."""
    def run(val_fraction):
        model = st._encoded("DNN", [domains["A"]], domains["B"], 16, 0, None)
        settings = _settings(3, lr=3e-3, val_fraction=val_fraction)
        best = st._fit_jointly(model, [domains["A"]], settings, 0)
        return best, model.predict_xy("A", domains["A"])

    (best_a, pred_a), (best_b, pred_b) = run(0.2), run(0.0)
    assert best_a == best_b == 3
    np.testing.assert_array_equal(pred_a, pred_b)


def test_only_the_collective_baseline_carries_pretrain_stopping(domains):
    plan = st._Plan(["DNN"], _cfg(), 0, {"progress": False})
    star = plan.transfer("*", "DNN", [domains["B"]], domains["A"])[1]
    both = plan.transfer("**", "DNN", [domains["B"]], domains["A"])[1]
    assert "pretrain_stopping" not in star.params and both.params["pretrain_stopping"] is True

"""The six stages of paper 000 (Fig. 3) on a tiny synthetic problem, and the drivers."""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from wiloc_core import claims, metrics, report, verdicts  # noqa: E402
from wiloc_core.data.ctf import make_split  # noqa: E402
from wiloc_core.errors import ParameterError  # noqa: E402
from wiloc_core.methods import ctf_records as cr  # noqa: E402
from wiloc_core.methods import ctf_transfer as ct  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

SMALL = {"n_freq": 32, "conv1_filters": 4, "conv1_kernel": 5, "pool1": 2,
         "conv2_filters": 4, "conv2_kernel": 3, "pool2": 2, "fc_units": 16, "dropout": 0.0}
FAST = ct.TrainSettings(epochs=15, lr=3e-3, batch_size=16)


def _environment(name, seed, n_side=4, n_sweeps=4, noise=0.05):
    """Positions on an n_side^2 grid (12.5 cm); each has a smooth random 'CTF' + noise."""
    g = np.random.default_rng(seed)
    xy = 12.5 * np.stack(np.meshgrid(np.arange(n_side), np.arange(n_side)), -1).reshape(-1, 2)
    f = np.linspace(0, 1, SMALL["n_freq"])
    # a delay that grows with x and an amplitude that grows with y: learnable structure
    tau = 2 + xy[:, 0] / 12.5
    amp = 1 + xy[:, 1] / 25
    phase = g.uniform(0, 2 * np.pi)
    clean = amp[:, None] * np.exp(-1j * (2 * np.pi * f[None] * tau[:, None] + phase))
    ctf = clean[:, None, :] + noise * (g.normal(size=(len(xy), n_sweeps, f.size))
                                        + 1j * g.normal(size=(len(xy), n_sweeps, f.size)))
    from wiloc_core.data.ctf import from_campaign
    return from_campaign(ctf, xy, name, source_kind="simulated")


@pytest.fixture(scope="module")
def envs():
    return {"A": _environment("A", 0), "B": _environment("B", 1)}


@pytest.fixture(scope="module")
def g1(envs):
    a = envs["A"]
    return ct.stage1_train_g1(a.X, a.y, FAST, seed=0, config=SMALL)


def _labelled(envs, n=12, seed=0):
    b = envs["B"]
    idx = np.random.default_rng(seed).permutation(b.n_samples)[:n]
    return b.X[idx], b.y[idx]


def test_golden_numbers_of_the_committed_runs_training_loop(envs, g1):
    """Golden values from the loop that made the committed full run (before the shared
    training layer): same batch order (one NumPy permutation per pass, shared by the
    labelled and pseudo-labelled streams), same dropout and initial weights. A change
    of any draw moves these by far more than the tolerance, which only allows for
    other CPUs' kernels."""
    a, b = envs["A"], envs["B"]
    golden = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(g1.loss_history[:3], [1.764516919851303, 1.3667365312576294,
                                                     0.9584883898496628], **golden)
    np.testing.assert_allclose(g1.predict(a.X[:3]), [[4.066028594970703, -0.6907196044921875],
                                                     [4.131612777709961, -1.152761459350586],
                                                     [3.8922319412231445, -1.5888786315917969]],
                               **golden)
    split = make_split(b.position_id, seed=0)
    result = ct.run_proposed(g1, b, split, 0.2, FAST, k_multiples=(1, 2), seed=0)
    assert result.chosen_k == 26
    np.testing.assert_allclose([h["val_rmse"] for h in result.history],
                               [2.027669499350087, 1.875950817264278], **golden)
    lab = split.labelled(0.25)
    net = ct.train_conventional_selected(b.X[lab], b.y[lab], b.X[split.val], b.y[split.val],
                                         FAST, seed=4, n_steps=25, eval_every=10, config=SMALL)
    np.testing.assert_allclose([h["val_rmse"] for h in net.val_history],
                               [20.256745892707986, 16.539615179065056, 14.174011088922295],
                               **golden)


def test_squared_error_loss_is_mean_squared_euclidean_error():
    pred = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    true = torch.tensor([[3.0, 4.0], [1.0, 1.0]])
    assert float(ct.squared_error_loss(pred, true)) == pytest.approx(12.5)   # (25 + 0) / 2


def test_stage1_improves_its_loss_and_is_deterministic(envs, g1):
    assert g1.loss_history[-1] < 0.5 * g1.loss_history[0]
    a = envs["A"]
    again = ct.stage1_train_g1(a.X, a.y, FAST, seed=0, config=SMALL)
    np.testing.assert_array_equal(again.predict(a.X[:5]), g1.predict(a.X[:5]))


def test_stage2_improves_its_loss_and_leaves_g1_alone(envs, g1):
    X_l, y_l = _labelled(envs)
    before = {k: v.clone() for k, v in g1.state_dict().items()}
    g2 = ct.stage2_finetune_g2(g1, X_l, y_l, FAST, seed=1)
    assert g2.loss_history[-1] < g2.loss_history[0]
    assert all(torch.equal(before[k], v) for k, v in g1.state_dict().items())


def test_stage3_trains_only_the_head_and_improves_its_loss(envs, g1):
    X_l, y_l = _labelled(envs)
    g2 = ct.stage2_finetune_g2(g1, X_l, y_l, FAST, seed=1)
    trunk_before = g2.conv1.weight.clone()
    g4 = ct.stage3_refine_g4(g1, g2, X_l, y_l, FAST, seed=2)
    assert g4.loss_history[-1] < g4.loss_history[0]
    assert torch.equal(g4.g2.conv1.weight, trunk_before)          # frozen trunk
    assert not torch.equal(g4.fc.weight, g1.fc.weight)            # head moved away from g1's
    assert g4.predict(X_l).shape == (len(X_l), 2)


def test_stage4_picks_the_truly_nearest_samples():
    labelled = np.array([[0.0, 0.0], [10.0, 10.0]])[:, :, None]
    unlabelled = np.array([[5.0, 5.0],      # 7.07 from both
                           [0.0, 1.0],      # 1 from the first
                           [10.0, 12.0],    # 2 from the second
                           [-3.0, 0.0],     # 3
                           [20.0, 20.0]])[:, :, None]
    index, distance = ct.stage4_select_nearest(unlabelled, labelled, 3)
    np.testing.assert_array_equal(index, [1, 2, 3])
    np.testing.assert_allclose(distance, [1.0, 2.0, 3.0])
    assert ct.stage4_select_nearest(unlabelled, labelled, 0)[0].size == 0
    with pytest.raises(ParameterError):
        ct.stage4_select_nearest(unlabelled, labelled, 6)


def test_stage5_averages_g2_and_g4(envs, g1):
    X_l, y_l = _labelled(envs)
    g2 = ct.stage2_finetune_g2(g1, X_l, y_l, FAST, seed=1)
    g4 = ct.stage3_refine_g4(g1, g2, X_l, y_l, FAST, seed=2)
    X = envs["B"].X[:7]
    np.testing.assert_allclose(ct.stage5_pseudo_label(g2, g4, X),
                               (g2.predict(X) + g4.predict(X)) / 2, rtol=1e-6)


def test_stage6_improves_the_eq8_loss(envs, g1):
    X_l, y_l = _labelled(envs)
    X_p, y_p = envs["B"].X[-10:], envs["B"].y[-10:] + 3.0
    g5 = ct.stage6_retrain_g5(g1, X_l, y_l, X_p, y_p, FAST, seed=3)
    assert g5.loss_history[-1] < g5.loss_history[0]


def test_pseudo_labels_never_include_a_validation_or_test_sample(envs, g1):
    b = envs["B"]
    split = make_split(b.position_id, seed=0)
    result = ct.run_proposed(g1, b, split, 0.2, FAST, k_multiples=(1, 2, 100), seed=0)
    assert result.pseudo_index.size == result.chosen_k > 0
    assert set(result.pseudo_index) <= set(split.unlabelled(0.2))
    assert not set(result.pseudo_index) & (set(split.test) | set(split.val))
    # the largest k asked for (100 x) is capped at the pool, which excludes val and test
    assert max(h["k"] for h in result.history) == split.unlabelled(0.2).size
    assert all(np.isfinite(h["val_rmse"]) for h in result.history)


def test_run_proposed_refuses_a_split_leaking_test_samples(envs, g1):
    b = envs["B"]
    split = make_split(b.position_id, seed=0)
    leaky = type(split)(train=split.train, val=split.val, test=split.order[-3:],
                        order=split.order, n_total=split.n_total, kind=split.kind)
    with pytest.raises(ParameterError, match="disjoint"):
        ct.run_proposed(g1, b, leaky, 0.2, FAST, seed=0)


def test_drivers_end_to_end(envs):
    exp = ct.CtfExperiment(envs, ct.TrainSettings(epochs=3, lr=3e-3, batch_size=16),
                           config=SMALL)
    table1 = ct.conventional_rmse_table(exp, ["A", "B"], [0.75, 0.25], seeds=[0])
    assert list(table1.columns) == ["environment", "fraction", "seed", "n_train", "rmse_cm"]
    assert len(table1) == 4 and np.all(np.isfinite(table1.rmse_cm))
    table2 = ct.run_transfer(exp, [("B", "A")], [0.25], seeds=[0], k_multiples=(1,))
    row = table2.iloc[0]
    # the conventional column is the same model as Table I's
    assert row.conventional_cm == table1.query("environment == 'B' and fraction == 0.25").rmse_cm.item()
    assert row.gain_pct == pytest.approx(100 * (row.conventional_cm - row.proposed_cm)
                                         / row.conventional_cm)
    matrix = ct.transfer_matrix(exp, ["A", "B"], 0.25, [0], k_multiples=(1,))
    assert np.isnan(matrix.loc["A", "A"]) and np.isfinite(matrix.loc["B", "A"])
    with pytest.raises(ParameterError):
        exp.proposed("A", "A", 0.25, 0)


def test_crossing_fraction():
    assert ct.crossing_fraction([0.1, 0.3, 0.5, 0.75], [-20, -10, 10, 20]) == pytest.approx(0.4)
    assert ct.crossing_fraction([0.5, 0.1], [5, 1]) == pytest.approx(0.1)
    assert np.isnan(ct.crossing_fraction([0.1, 0.5], [5, -1]))


def test_k_schedule_grows_and_is_capped():
    assert ct.k_schedule(10, 25, (1, 2, 4)) == [10, 20, 25]
    assert ct.k_schedule(10, 0, (1, 2)) == []


def _tables(exp):
    """The tables a tiny chapter builds (Table I, Table II with the control)."""
    return (ct.conventional_rmse_table(exp, ["A", "B"], [0.5, 0.25], [0]),
            ct.run_transfer(exp, [("B", "A"), ("A", "B")], [0.25], [0, 1], (1,), control=True))


def _tiny_chapter(envs, cache=None, train=None, **run):
    exp = ct.CtfExperiment(envs, train or ct.TrainSettings(epochs=2, lr=3e-3, batch_size=16),
                           config=SMALL, cache=cache)
    conventional = [("A", 0.5, 0), ("B", 0.5, 0), ("A", 0.25, 0), ("B", 0.25, 0),
                    ("A", 0.25, 1), ("B", 0.25, 1)]
    proposed = [("B", "A", 0.25, 0), ("A", "B", 0.25, 0), ("B", "A", 0.25, 1),
                ("A", "B", 0.25, 1)]
    control = [(env, 0.25, s) for env in ("A", "B") for s in (0, 1)]
    exp.precompute(conventional, proposed, k_multiples=(1,), control=control, progress=False,
                   **run)
    return exp


@pytest.fixture(scope="module")
def serial_chapter(envs):
    return _tiny_chapter(envs, backend="serial")


def test_joblib_workers_give_the_same_tables_and_models_as_serial(envs, serial_chapter):
    parallel = _tiny_chapter(envs, n_jobs=2)
    assert [s["backend"] for s in parallel.sweeps] == ["joblib", "joblib"]
    assert [s["backend"] for s in serial_chapter.sweeps] == ["serial", "serial"]
    # first sweep: 6 conventional + 4 g1 (A and B at 75 %, seeds 0 and 1) + 4 controls;
    # then 4 proposed
    assert [s["computed"] for s in parallel.sweeps] == [14, 4]
    for ours, theirs in zip(_tables(serial_chapter), _tables(parallel), strict=True):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    for key, (result, _) in serial_chapter._proposed.items():
        twin = parallel._proposed[key][0]
        np.testing.assert_array_equal(twin.pseudo_index, result.pseudo_index)
        for name in ("g_final", "g2", "g4"):
            a, b = getattr(result, name).state_dict(), getattr(twin, name).state_dict()
            assert all(torch.equal(a[k], b[k]) for k in a), (key, name)
    assert parallel.devices() == ["cpu"]
    with pytest.raises(ParameterError):
        serial_chapter.precompute(n_jobs=0)


def test_tables_read_precomputed_networks_without_retraining(serial_chapter):
    done = len(serial_chapter.sweeps)
    _tables(serial_chapter)
    assert len(serial_chapter.sweeps) == done     # every network was already there


def test_chapter_tasks_cover_every_table():
    conventional, proposed, control = ct.chapter_tasks(
        ["A", "B"], {"A": "B", "B": "A"}, [0.75, 0.1], [0.1], [0.4], 0.1, [0, 1], "A", "B")
    assert ("A", 0.75, 1) in conventional and ("B", 0.1, 0) in conventional
    assert ("A", 0.4, 0) in conventional
    assert ("A", "B", 0.4, 1) in proposed and ("B", "A", 0.1, 0) in proposed
    assert sorted(control) == [("A", 0.1, 0), ("A", 0.1, 1), ("B", 0.1, 0), ("B", 0.1, 1)]


def _computed(exp) -> int:
    return sum(s["computed"] for s in exp.sweeps)


def test_cache_resumes_with_identical_models_and_misses_only_on_a_change(envs, serial_chapter,
                                                                         tmp_path, monkeypatch):
    first = _tiny_chapter(envs, cache=tmp_path, backend="serial")
    assert _computed(first) == 18 and len(list(tmp_path.rglob("*.pt"))) == 18
    for ours, theirs in zip(_tables(serial_chapter), _tables(first), strict=True):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)  # cached = computed

    again = _tiny_chapter(envs, cache=tmp_path, backend="serial")        # same everything
    assert _computed(again) == 0 and sum(s["hits"] for s in again.sweeps) == 18
    for ours, theirs in zip(_tables(first), _tables(again), strict=True):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    b = envs["B"]
    result, again_result = first.proposed("B", "A", 0.25, 0, (1,))[0], again.proposed(
        "B", "A", 0.25, 0, (1,))[0]
    assert again_result.history == result.history and again_result.chosen_k == result.chosen_k
    for name in ("g_final", "g2", "g4"):
        np.testing.assert_array_equal(getattr(again_result, name).predict(b.X),
                                      getattr(result, name).predict(b.X))

    def one(exp):
        exp.conventional("B", 0.25, 0)
        exp.proposed("B", "A", 0.25, 0, (1,))
        return _computed(exp)

    def experiment(datasets=envs, **settings):
        train = ct.TrainSettings(**{"epochs": 2, "lr": 3e-3, "batch_size": 16, **settings})
        return ct.CtfExperiment(datasets, train, config=SMALL, cache=tmp_path)

    assert one(experiment()) == 0                                   # hits
    assert one(experiment(progress=False)) == 0                     # progress is not a key
    assert one(experiment(epochs=3)) == 3                           # B, the g1 of A, proposed
    changed = dict(envs)
    changed["B"] = dataclasses.replace(envs["B"], X=envs["B"].X.copy())
    changed["B"].X[0, 0, 0] += 1e-3
    assert one(experiment(changed)) == 2                            # B's data: not A's g1
    exp = experiment()
    exp.conventional("B", 0.25, 0)
    exp.proposed("B", "A", 0.25, 0, (1, 2))                          # another k schedule
    assert _computed(exp) == 1
    monkeypatch.setattr(ct, "VERSION", ct.VERSION + 1)
    assert one(experiment()) == 3                                   # a bumped version


# ------------------------------------------------------------------ the fair control
def test_step_budget_of_the_full_profile_at_15_percent():
    """Full profile, 15 % of 1960 sweeps: stage 6 at k = 4 n_l takes 3.7x the steps."""
    full = ct.TrainSettings(epochs=40, lr=1e-3, batch_size=32, min_steps=300)
    budget = ct.step_budget(294, 1470 - 294, full, (1, 2, 4))
    assert budget["conventional"] == 40 * 10                  # ceil(294 / 32) = 10
    assert budget["stage6"] == [400, 40 * 19, 40 * 37]         # k = 294, 588, 1176
    assert budget["stage6_total"] == 400 + 760 + 1480
    assert budget["pass_ratio"] == pytest.approx(3.7)
    # 2.5 %: every network is held at the 300-step floor
    small = ct.step_budget(49, 1470 - 49, full, (1, 2, 4))
    assert small["conventional"] == 300 and small["stage6"] == [300, 300, 300]


def test_the_control_keeps_its_best_validation_checkpoint(envs):
    b = envs["B"]
    split = make_split(b.position_id, seed=0)
    lab = split.labelled(0.25)
    args = (b.X[lab], b.y[lab], b.X[split.val], b.y[split.val], FAST)
    net = ct.train_conventional_selected(*args, seed=4, n_steps=25, eval_every=10, config=SMALL)
    assert [h["step"] for h in net.val_history] == [10, 20, 25]
    best = min(net.val_history, key=lambda h: h["val_rmse"])
    assert net.best_step == best["step"]
    assert metrics.rmse(net.predict(b.X[split.val]), b.y[split.val]) == pytest.approx(best["val_rmse"])
    again = ct.train_conventional_selected(*args, seed=4, n_steps=25, eval_every=10, config=SMALL)
    np.testing.assert_array_equal(again.predict(b.X[:5]), net.predict(b.X[:5]))
    with pytest.raises(ParameterError):
        ct.train_conventional_selected(*args, seed=4, n_steps=25, eval_every=0, config=SMALL)


def test_transfer_table_with_the_control(envs, tmp_path):
    train = ct.TrainSettings(epochs=2, lr=3e-3, batch_size=16)
    exp = ct.CtfExperiment(envs, train, config=SMALL, cache=tmp_path)
    table = ct.run_transfer(exp, [("B", "A")], [0.25], [0], (1, 2), control=True)
    row = table.iloc[0]
    split = exp.split("B", 0)
    assert row.n_val == split.val.size and row.n_pool == split.unlabelled(0.25).size
    assert row.control_gain_pct == pytest.approx(100 * (row.control_cm - row.proposed_cm)
                                                 / row.control_cm)
    assert len(list(tmp_path.rglob("*.pt"))) == 4  # conventional, g1 of A, proposed, control
    again = ct.CtfExperiment(envs, train, config=SMALL, cache=tmp_path)
    assert again.controlled("B", 0.25, 0, (1, 2))[1] == row.control_cm
    assert _computed(again) == 0
    asym = cr.asymmetry_table(table, train, (1, 2))
    assert asym.val_ratio.item() == pytest.approx(split.val.size / row.n_train)


# ------------------------------------------------------------------ records on hand-made runs
def _runs(nc_gains=(-6.75, -4.86, -9.73)):
    """Tiny Table I / II / Fig. 4 run tables, three seeds, Narrow Corridor losing at 2.5 %."""
    t1 = pd.DataFrame([{"environment": env, "fraction": f, "seed": s, "n_train": int(f * 1960),
                        "rmse_cm": base / f + s} for env, base in (("Lab", 3.0), ("Lobby", 4.0))
                       for f in (0.75, 0.1) for s in range(3)])
    rows = []
    for target, gains in (("Lab", (3.7, 0.04, 4.85)), ("Narrow Corridor", nc_gains)):
        for s, g in enumerate(gains):
            conv = 60.0 + s
            rows.append({"target": target, "source": "Lobby", "fraction": 0.025, "seed": s,
                         "n_train": 49, "conventional_cm": conv, "proposed_cm": conv * (1 - g / 100),
                         "gain_pct": g, "chosen_k": 49, "g2_cm": conv})
    t2 = pd.DataFrame(rows)
    fig4 = pd.DataFrame([{"fraction": f, "seed": s, "bar_cm": 9.0, "conventional_gain": -50.0 / f,
                          "proposed_gain": -40.0 / f if f < 0.3 else -60.0 / f}
                         for f in (0.1, 0.4) for s in range(3)])
    return t1, t2, fig4


def _result_set(tmp_path, profile="full"):
    from wiloc_core.results import ResultSet

    return ResultSet("10-ctf-transfer", profile=profile, seed=0, data_kind="simulated",
                     out_dir=tmp_path)


def test_report_records_give_values_effects_and_registered_claims(tmp_path):
    res = _result_set(tmp_path)
    records = cr.report_records(res, *_runs())
    values = {(r["item"], r["row"], r["column"]): r for r in records if r["kind"] == "value"}
    proposed = values[("Table II", "Narrow Corridor", "Proposed 2.5%")]
    assert proposed["n_seeds"] == 3 and all(e < 0 for e in proposed["effect"])
    assert values[("Table I", "Lab", "10%")]["effect"] == pytest.approx([30 - 4] * 3)
    assert "effect" not in values[("Table I", "Lab", "75%")]
    claims = {r["claim_id"]: r for r in records if r["kind"] == "claim"}
    assert set(claims) == {"000-table1-degrades", "000-table2-beats-conventional",
                           "000-max-gain-43", "000-fig4-40-matches-75"}   # no control column
    assert claims["000-fig4-40-matches-75"]["cells"][0]["values"] == [100.0] * 3   # never reached
    evaluated = report.evaluate(records)
    assert not any(r["status"] == verdicts.REPRODUCED for r in evaluated)
    assert {r["status"] for r in evaluated if r["kind"] == "value"} == {verdicts.MAGNITUDE}
    table2 = [r for r in evaluated if r.get("claim_id") == "000-table2-beats-conventional"][0]
    assert table2["status"] == verdicts.NOT_REPRODUCED
    # a quick run is never judged
    quick = report.evaluate(cr.report_records(_result_set(tmp_path, "quick"), *_runs()))
    assert {r["status"] for r in quick} == {verdicts.NOT_JUDGED}


def test_the_control_claim_is_ours_and_recorded_only_with_the_control(tmp_path):
    t1, t2, fig4 = _runs(nc_gains=(5.0, 6.0, 7.0))
    t2["control_cm"] = t2["conventional_cm"]
    t2["control_gain_pct"] = t2["gain_pct"]
    records = cr.report_records(_result_set(tmp_path), t1, t2, fig4)
    control = [r for r in records if r.get("claim_id") == "000-beats-matched-control"]
    assert len(control) == 1 and claims.claim("000-beats-matched-control")["origin"] == "ours"
    assert [c["label"] for c in control[0]["cells"]] == ["Lab 2.5%", "Narrow Corridor 2.5%"]


def test_fig4_prose_reports_every_size():
    _, _, fig4 = _runs()
    by_size = cr.fig4_by_size(fig4)
    assert list(by_size.n_better) == [3, 0]
    assert cr.fig4_text(by_size) == ("the proposed method has the lower RMSE in all 3 seeds at "
                                     "10 %; the higher RMSE in all 3 seeds at 40 %")
    assert cr.crossing_text([100.0, 100.0]) == ("nowhere in the sizes tried, in none of the 2 "
                                                "seeds (its RMSE stays above the bar)")
    assert cr.crossing_text([38.0, 100.0]) == "in 1 of 2 seeds, at 38 %"


# ------------------------------------------------------------------ the committed full run
COMMITTED = Path(__file__).resolve().parents[1] / "results" / "10-ctf-transfer"
RUN_TABLES = ("table1_runs", "table2_runs", "fig4_runs", "table1", "table2", "transfer_matrix",
              "split_comparison", "cnn_shapes", "summary")


def _reevaluated_copy(tmp_path, name):
    folder = tmp_path / name
    shutil.copytree(COMMITTED, folder)
    before = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in folder.iterdir()
              if f.stem in RUN_TABLES}
    records = cr.reevaluate_committed(folder)
    after = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in folder.iterdir()
             if f.stem in RUN_TABLES}
    assert before == after and len(before) == len(RUN_TABLES)     # no run table touched
    return folder, records


def test_reevaluated_committed_run_claims_no_reproduction_on_simulated_data(tmp_path):
    folder, records = _reevaluated_copy(tmp_path, "a")
    evaluated = report.evaluate(records)
    assert all(r["data_kind"] == "simulated" and r["profile"] == "full" for r in evaluated)
    assert not any(r["status"] == verdicts.REPRODUCED for r in evaluated)
    values = [r for r in evaluated if r["kind"] == "value"]
    assert len(values) == 66 and {r["status"] for r in values} == {verdicts.MAGNITUDE}
    # Lobby at 2.5 %: the proposed method loses in every seed; its claim cell fails
    claim = [r for r in evaluated if r.get("claim_id") == "000-table2-beats-conventional"][0]
    assert claim["status"] == verdicts.NOT_REPRODUCED
    cell = [c for c in claim["cells"] if c["label"] == "Lobby 2.5%"][0]
    assert max(cell["values"]) < 0
    assert verdicts.cell_state("greater", 0.0, None, cell["values"]) == "fails"
    row = [r for r in values if (r["row"], r["column"]) == ("Lobby", "Proposed 2.5%")][0]
    assert row["status"] != verdicts.REPRODUCED and row["effect_mean"] < 0
    provenance = json.loads((folder / "provenance.json").read_text())
    original = json.loads((COMMITTED / "provenance.json").read_text())
    assert {k: v for k, v in provenance.items() if k != "reevaluated"} == {
        k: v for k, v in original.items() if k != "reevaluated"}
    assert "no network was retrained" in provenance["reevaluated"]["what"]


def test_reevaluation_is_deterministic_and_the_committed_report_is_current(tmp_path):
    first, _ = _reevaluated_copy(tmp_path, "a")
    second, _ = _reevaluated_copy(tmp_path, "b")
    for name in ("report.json", "paper_vs_ours.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
        assert (first / name).read_bytes() == (COMMITTED / name).read_bytes(), (
            f"results/10-ctf-transfer/{name} is stale: run `wiloc results reevaluate 10-ctf-transfer`")


def test_committed_run_shows_the_asymmetries_and_the_fig4_losses():
    t1 = pd.read_csv(COMMITTED / "table1_runs.csv")
    t2 = pd.read_csv(COMMITTED / "table2_runs.csv")
    fig4 = pd.read_csv(COMMITTED / "fig4_runs.csv")
    params = json.loads((COMMITTED / "summary.json").read_text())["parameters"]
    assert ct.n_total_from_runs(t1) == 1960
    asym = cr.asymmetry_table(t2, ct.TrainSettings.from_settings(params), params["k_multiples"],
                              n_total=1960).set_index("size_pct")
    assert asym.loc[2.5, "val_ratio"] == pytest.approx(2.0)        # 98 validation vs 49 labelled
    assert asym["pass_ratio"].max() == pytest.approx(3.7)
    by_size = cr.fig4_by_size(fig4).set_index("size_pct")
    assert list(by_size.loc[[30, 40, 50, 60], "n_better"]) == [2, 1, 1, 0]
    text = cr.fig4_text(by_size.reset_index())
    assert "the lower RMSE in 1 of 3 seeds at 40 and 50 %" in text
    assert text.endswith("the higher RMSE in all 3 seeds at 60 %")

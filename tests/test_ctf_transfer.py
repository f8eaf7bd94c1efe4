"""The six stages of paper 000 (Fig. 3) on a tiny synthetic problem, and the drivers."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wiloc_core.data.ctf import make_split  # noqa: E402
from wiloc_core.errors import ParameterError  # noqa: E402
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


def test_precompute_in_workers_gives_the_same_models_as_serial(envs):
    train = ct.TrainSettings(epochs=2, lr=3e-3, batch_size=16)
    conventional = [("A", 0.5, 0), ("B", 0.25, 0)]
    proposed = [("B", "A", 0.25, 0), ("A", "B", 0.25, 1)]
    serial = ct.CtfExperiment(envs, train, config=SMALL)
    parallel = ct.CtfExperiment(envs, train, config=SMALL)
    serial.precompute(conventional, proposed, k_multiples=(1,), n_jobs=1)
    parallel.precompute(conventional, proposed, k_multiples=(1,), n_jobs=2)
    assert set(parallel._conventional) == set(serial._conventional)
    assert len(serial._conventional) == 4  # two requested + the g1 of A and of B
    for key, (_, rmse) in serial._conventional.items():
        assert parallel._conventional[key][1] == rmse
    for key, (result, rmse) in serial._proposed.items():
        twin, twin_rmse = parallel._proposed[key]
        assert twin_rmse == rmse and twin.chosen_k == result.chosen_k
        np.testing.assert_array_equal(twin.pseudo_index, result.pseudo_index)
    # the tables then read the cache: same numbers, no retraining
    assert ct.run_transfer(parallel, [("B", "A")], [0.25], [0], (1,)).equals(
        ct.run_transfer(serial, [("B", "A")], [0.25], [0], (1,)))
    with pytest.raises(ParameterError):
        serial.precompute(n_jobs=0)


def test_chapter_tasks_cover_every_table():
    conventional, proposed = ct.chapter_tasks(
        ["A", "B"], {"A": "B", "B": "A"}, [0.75, 0.1], [0.1], [0.4], 0.1, [0, 1], "A", "B")
    assert ("A", 0.75, 1) in conventional and ("B", 0.1, 0) in conventional
    assert ("A", 0.4, 0) in conventional
    assert ("A", "B", 0.4, 1) in proposed and ("B", "A", 0.1, 0) in proposed


def test_disk_cache_resumes_with_identical_models(envs, tmp_path):
    train = ct.TrainSettings(epochs=2, lr=3e-3, batch_size=16)
    first = ct.CtfExperiment(envs, train, config=SMALL, cache_dir=tmp_path)
    _, conv = first.conventional("B", 0.25, 0)
    result, prop = first.proposed("B", "A", 0.25, 0, (1,))
    assert len(list(tmp_path.glob("conventional-*.pt"))) == 2  # B at 25 % and the g1 of A
    assert len(list(tmp_path.glob("proposed-*.pt"))) == 1

    again = ct.CtfExperiment(envs, train, config=SMALL, cache_dir=tmp_path)
    again_result, again_prop = again.proposed("B", "A", 0.25, 0, (1,))
    assert again.conventional("B", 0.25, 0)[1] == conv and again_prop == prop
    assert again_result.chosen_k == result.chosen_k and again_result.history == result.history
    np.testing.assert_array_equal(again_result.pseudo_index, result.pseudo_index)
    b = envs["B"]
    for name in ("g_final", "g2", "g4"):
        np.testing.assert_array_equal(getattr(again_result, name).predict(b.X),
                                      getattr(result, name).predict(b.X))

    # other settings, other entries: nothing stale is reused
    other = ct.CtfExperiment(envs, ct.TrainSettings(epochs=3, lr=3e-3, batch_size=16),
                             config=SMALL, cache_dir=tmp_path)
    other.conventional("B", 0.25, 0)
    assert len(list(tmp_path.glob("conventional-*.pt"))) == 3

"""WiFi Trilateration Net (paper 004): shapes, losses (eqs. 2-4), sequences, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wiloc_core.data.rtt import RttSet
from wiloc_core.errors import ParameterError
from wiloc_core.methods import wtn
from wiloc_core.methods import wtn_tables as wt
from wiloc_core.models.wtn import WiFiTrilaterationNet, WtnLoss, wtn_losses
from wiloc_core.profiles import settings
from wiloc_core.training import TrainSettings, fit

ANCHORS = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 8.0], [0.0, 8.0]])


def _steps(n_points=12, n_steps=6, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    xy = rng.uniform([1, 1], [9, 7], size=(n_points, 2))
    true_r = np.linalg.norm(xy[:, None] - ANCHORS[None], axis=2)
    ranges = true_r[:, None, :] + 0.5 + noise * rng.standard_normal((n_points, n_steps, 4))
    rss = -40 - 2 * ranges
    return wtn.RangeSteps(ranges=ranges, rss=rss, xy=xy, anchors=ANCHORS, name="toy", kind="simulated")


def test_forward_shapes_and_parameter_count():
    net = WiFiTrilaterationNet(4, width=32, hidden=16)
    x = torch.zeros(3, 6, 4, 2)
    assert net(x).shape == (3, 6, 6)
    assert net.compensate(torch.zeros(2, 6, 5, 2)).shape == (2, 6, 5)   # any AP count
    rnn = 32 * 2 + 32 * 32 + 2 * 32            # W_ih, W_hh, two biases
    expected = rnn + 33 + (4 * 16 + 16) + (16 * 2 + 2)      # read-out, dense layers
    assert sum(p.numel() for p in net.parameters()) == expected
    with pytest.raises(ParameterError, match="shape"):
        net(torch.zeros(3, 6, 5, 2))
    with pytest.raises(ParameterError, match="n_aps"):
        WiFiTrilaterationNet(2)


def test_untrained_compensation_is_close_to_the_raw_ranges():
    """The read-out is a correction: with zero read-out weights the ranges pass through."""
    net = WiFiTrilaterationNet(4, width=8)
    torch.nn.init.zeros_(net.readout.weight)
    torch.nn.init.zeros_(net.readout.bias)
    x = torch.stack([torch.full((2, 3, 4), 7.5), torch.ones(2, 3, 4)], dim=-1)
    torch.testing.assert_close(net.compensate(x), torch.full((2, 3, 4), 7.5))


def test_losses_are_eqs_2_to_4():
    out = torch.zeros(1, 2, 6)
    target = torch.zeros(1, 2, 6)
    target[0, 0, :4] = torch.tensor([3.0, 4.0, 0.0, 0.0])      # range vector off by 5 m at t=1
    target[0, 1, 4:] = torch.tensor([6.0, 8.0])                 # position off by 10 m at t=2
    comp, pos = wtn_losses(out, target, 4)
    assert float(comp) == pytest.approx(5.0 / 2)
    assert float(pos) == pytest.approx(10.0 / 2)
    assert float(WtnLoss(4)(out, target)) == pytest.approx(7.5)


def test_fill_missing_carries_the_last_range_forward():
    r = np.array([[[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [4.0, 3.0]],
                  [[np.nan, np.nan]] * 4])
    filled, valid = wtn.fill_missing(r, fallback=[9.0, 8.0])
    np.testing.assert_array_equal(filled[0, :, 0], [2.0, 2.0, 2.0, 4.0])
    np.testing.assert_array_equal(filled[0, :, 1], [1.0, 1.0, 1.0, 3.0])
    np.testing.assert_array_equal(filled[1], [[9.0, 8.0]] * 4)
    np.testing.assert_array_equal(valid[0, :, 0], [0, 1, 0, 1])


def test_sequences_keep_point_order_and_targets():
    steps = _steps(n_points=3, n_steps=6)
    X, Y, raw = wtn.to_sequences(steps, 3, fallback=np.zeros(4))
    assert X.shape == (6, 3, 4, 2) and Y.shape == (6, 3, 6) and raw.shape == (6, 3, 4)
    np.testing.assert_allclose(Y[2, 0, 4:], steps.xy[1])          # point 1's first sequence
    np.testing.assert_allclose(Y[2, 0, :4], steps.true_ranges[1], rtol=1e-6)
    np.testing.assert_allclose(raw.reshape(-1, 4), steps.flat()[0])
    with pytest.raises(ParameterError, match="seq_len"):
        wtn.to_sequences(steps, 7, fallback=np.zeros(4))


def test_steps_from_rows_per_reference_point():
    """60 rows per point become 6 scan steps in file order; draws append regroupings."""
    xy = np.repeat([[0.6, 1.2], [3.0, 0.0]], 60, axis=0)
    rtt = np.tile(np.arange(60.0)[:, None], (2, 4)) / 10
    rtt[0, 0] = np.nan
    data = RttSet(xy=xy, rtt_m=rtt, rss_dbm=np.full_like(rtt, -50.0), los=np.ones_like(rtt, bool),
                  ap_xy=ANCHORS, room="toy", split="train", source="toy.csv", ap_columns=(1, 2, 3, 4))
    steps = wtn.steps_from_rttset(data)
    assert steps.ranges.shape == (2, 6, 4)
    assert steps.ranges[0, 0, 0] == pytest.approx(np.mean(np.arange(1, 10)) / 10)  # failed row left out
    assert steps.ranges[0, 1, 1] == pytest.approx(np.mean(np.arange(10, 20)) / 10)
    more = wtn.steps_from_rttset(data, draws=2, seed=0)
    assert more.ranges.shape == (2, 18, 4)
    np.testing.assert_array_equal(more.ranges[:, :6], steps.ranges)
    # a regrouping averages the same 60 rows: the mean over its 6 steps is unchanged
    np.testing.assert_allclose(more.ranges[1, 6:12].mean(axis=0), steps.ranges[1].mean(axis=0))
    with pytest.raises(ParameterError, match="same number of rows"):
        wtn.steps_from_rttset(RttSet(xy=xy[:-1], rtt_m=rtt[:-1], rss_dbm=rtt[:-1], los=rtt[:-1] > 0,
                                     ap_xy=ANCHORS, room="toy", split="", source="bad.csv",
                                     ap_columns=(1, 2, 3, 4)))


def test_one_training_step_lowers_the_loss():
    steps = _steps()
    X, Y, _ = wtn.to_sequences(steps, 6, fallback=np.zeros(4))
    torch.manual_seed(0)
    net = wtn.build_net(steps, wtn.WtnSettings(width=16, hidden=16), seed=0)
    loss = WtnLoss(4)
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    opt.zero_grad()
    first = loss(net(X), Y)
    first.backward()
    opt.step()
    with torch.no_grad():
        assert float(loss(net(X), Y)) < float(first.detach())


def test_training_learns_the_bias_and_the_position():
    train, val = _steps(n_points=60, seed=1), _steps(n_points=15, seed=2)
    s = wtn.WtnSettings(width=16, hidden=32, seq_len=6, epochs=60, lr=1e-2, batch_size=16,
                        device="cpu", progress=False)
    run = wtn.train_wtn(train, val, s, seed=0)
    first, last = run.history[0], run.history[-1]
    assert last["train_total"] < 0.5 * first["train_total"]
    ranges, pos = wtn.predict(run, val, 6)
    _, _, xy, true_r = val.flat()
    raw = np.sqrt(np.mean((val.flat()[0] - true_r) ** 2))
    assert np.sqrt(np.mean((ranges - true_r) ** 2)) < raw          # the +0.5 m bias is removed
    assert np.mean(wtn.errors(pos, xy)) < 1.0
    assert run.fit.best_epoch == 1 + int(np.argmin([h["val_loss"] for h in run.fit.history]))


def test_same_seed_same_network():
    train, val = _steps(n_points=20, seed=1), _steps(n_points=5, seed=2)
    s = wtn.WtnSettings(width=8, hidden=8, epochs=3, device="cpu", progress=False)
    a = wtn.predict(wtn.train_wtn(train, val, s, seed=3), val, 6)[1]
    b = wtn.predict(wtn.train_wtn(train, val, s, seed=3), val, 6)[1]
    np.testing.assert_array_equal(a, b)


def test_transfer_copies_only_the_compensation_stage():
    a = WiFiTrilaterationNet(4, width=8)
    b = WiFiTrilaterationNet(5, width=8)
    before = b.positioning[0].weight.clone()
    wtn.transfer_compensation(a, b)
    torch.testing.assert_close(b.rnn.weight_hh_l0, a.rnn.weight_hh_l0)
    torch.testing.assert_close(b.readout.weight, a.readout.weight)
    torch.testing.assert_close(b.positioning[0].weight, before)


def test_split_points_follows_the_paper_ratio():
    parts = wtn.split_points(1170, wtn.SPLIT_PARTS, seed=0)
    assert [len(p) for p in parts] == [749, 187, 234]
    assert len(np.unique(np.concatenate(parts))) == 1170


def test_store_like_paper_clips_and_rounds():
    np.testing.assert_allclose(wtn.store_like_paper([0.2, 5.1234, 25.0]), [1.0, 5.12, 20.0])


def test_fit_accepts_the_wtn_loss():
    """The shared training layer trains the WTN like any other network."""
    steps = _steps(n_points=10)
    X, Y, _ = wtn.to_sequences(steps, 6, fallback=np.zeros(4))
    net = WiFiTrilaterationNet(4, width=8, hidden=8)
    result = fit(net, X, Y, TrainSettings(epochs=2, device="cpu", progress=False, val_fraction=0.2),
                 seed=0, loss=WtnLoss(4))
    assert result.epochs_run == 2 and np.isfinite(result.history[-1]["train_loss"])


def test_quick_pipeline_on_the_real_lecture_theatre(real_data):
    cfg = settings("wifi-trilateration-net", "quick")
    cfg.update(epochs=2, min_steps=0, width=8)
    room = wt.load_room("lecture_theatre", "real", cfg, seed=0)
    assert room.kind == "real" and room.test.ranges.shape == (32, 6, 5)
    assert room.fit.n_points + room.val.n_points == room.train.n_points == 88
    result = wt.evaluate_room(room, cfg, 0, progress=False)
    assert set(result.errors) == set(wt.METHODS)
    assert all(e.shape == (32 * 6,) for e in result.errors.values())
    # least squares on the real theatre: about 0.76 m mean error (0.6 m grid, 5 LOS APs)
    assert 0.5 < np.mean(result.errors["LS (Gauss-Newton)"]) < 1.0
    assert result.crlb_noise < result.crlb_total


def test_missing_real_files_fall_back_to_a_simulated_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("WILOC_DATA", str(tmp_path))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "cache"))
    cfg = settings("wifi-trilateration-net", "quick")
    room = wt.load_room("office", "auto", cfg, seed=0)
    assert room.kind == "simulated" and "not found" in room.note
    with pytest.raises(Exception, match="not found"):
        wt.load_room("office", "real", cfg, seed=0)


def test_cached_training_is_reused_and_equals_a_direct_fit(tmp_path):
    from wiloc_core.experiment import Cache

    train, val = _steps(n_points=20, seed=1), _steps(n_points=5, seed=2)
    s = wtn.WtnSettings(width=8, hidden=8, epochs=2, device="cpu", progress=False)
    cache = Cache(tmp_path)
    first = wtn.train_cached(train, val, s, seed=0, cache=cache)
    stored = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert stored
    again = wtn.train_cached(train, val, s, seed=0, cache=cache)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == stored   # nothing new
    direct = wtn.train_wtn(train, val, s, seed=0)
    for run in (again, direct):
        np.testing.assert_allclose(wtn.predict(run, val, 6)[1], wtn.predict(first, val, 6)[1],
                                   atol=1e-5)
    assert again.history == first.history and again.fit.best_epoch == first.fit.best_epoch


def test_fine_tuning_starts_from_the_given_compensation_stage():
    train, val = _steps(n_points=20, seed=1), _steps(n_points=5, seed=2)
    source = WiFiTrilaterationNet(4, width=8, hidden=8)
    s = wtn.WtnSettings(width=8, hidden=8, epochs=1, lr=1e-9, device="cpu", progress=False)
    run = wtn.train_cached(train, val, s, seed=5, init=wtn.compensation_state(source))
    torch.testing.assert_close(run.net.rnn.weight_hh_l0, source.rnn.weight_hh_l0, atol=1e-6, rtol=0)
    fresh = wtn.train_cached(train, val, s, seed=5)
    assert not torch.allclose(fresh.net.rnn.weight_hh_l0, source.rnn.weight_hh_l0)

"""Chapter 30's glue (paper 002, LoFi): hand-made inputs, closed forms, judged records."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from wiloc_core import profiles, report, verdicts
from wiloc_core.errors import ParameterError
from wiloc_core.methods import lofi_tables as lt
from wiloc_core.results import ResultSet

CHAPTER = "lofi-vision-labels"
AREA = (1.6, 1.1, 3.4, 5.9)


def _straight_session(speed=1.0, seconds=20.0, frame_rate=26.0, phase=0.013):
    """Walk along y at constant speed; packets at 100 Hz, frames at ``frame_rate``."""
    t = np.arange(0.0, seconds, 0.01)
    xy = np.column_stack([np.full_like(t, 2.0), 1.2 + speed * t])
    ft = np.arange(phase, seconds, 1.0 / frame_rate)
    fxy = np.column_stack([np.interp(ft, t, xy[:, 0]), np.interp(ft, t, xy[:, 1])])
    return lt.Session(t, xy, SimpleNamespace(rate_hz=100.0), ft, fxy, AREA)


def test_alignment_error_matches_the_closed_form():
    s = _straight_session(speed=1.0)
    csi_t = np.arange(0.0, 19.0, 0.01) + 0.0037        # unrelated phase to the camera clock
    table = lt.alignment_check(s, csi_t, 26.0).set_index("rule")
    assert lt.mean_speed(s) == pytest.approx(1.0, rel=1e-3)
    assert table.loc["nearest", "closed_form_mm"] == pytest.approx(1e3 / (4 * 26.0))
    assert table.loc["nearest", "measured_mm"] == pytest.approx(1e3 / (4 * 26.0), rel=0.05)
    assert table.loc["next", "measured_mm"] == pytest.approx(1e3 / (2 * 26.0), rel=0.05)


def test_frame_labels_use_the_area_frame_and_the_nearest_frame():
    s = _straight_session()
    camera = s.frame_xy + np.array([0.1, 0.0])
    camera[0] = np.nan
    out = lt.frame_labels(s, np.array([s.frame_times_s[0], s.frame_times_s[5] + 0.001]), camera)
    assert np.isnan(out["camera"][0]).all()
    assert out["camera"][1] == pytest.approx(s.frame_xy[5] + [0.1, 0.0] - np.array(AREA[:2]))
    assert out["true"][1, 0] == pytest.approx(2.0 - AREA[0])


def test_loss_summary_counts_a_gap_with_eq4():
    lost = np.zeros(10, bool)
    lost[[3, 4]] = True
    seq = np.flatnonzero(~lost)
    frames = SimpleNamespace(timestamp_s=seq / 100.0, rate_hz=100.0, lost=lost, seq=seq)
    out = lt.loss_summary(frames)
    assert (out["sent"], out["received"], out["lost_true"], out["lost_eq4"]) == (10, 8, 2, 2)
    assert out["lost_fraction"] == pytest.approx(0.2)


def test_holdout_filling_pchip_keeps_the_amplitude_under_random_phases():
    g = np.random.default_rng(0)
    t = np.arange(400) / 100.0
    amp = 10.0 + np.sin(2 * np.pi * 0.5 * t)[:, None] * np.ones(4)
    smooth = SimpleNamespace(timestamp_s=t, csi=amp.astype(complex))
    scrambled = SimpleNamespace(timestamp_s=t,
                                csi=amp * np.exp(1j * g.uniform(-np.pi, np.pi, (400, 1))))
    calm = lt.holdout_fill_error(smooth, [1, 3], n_gaps=10).set_index(["burst_packets", "method"])
    assert (calm["amplitude_error_pct"] < 0.5).all()
    assert (calm["n_hidden"].loc[3] == 30).all()
    wild = lt.holdout_fill_error(scrambled, [1], n_gaps=10).set_index("method")
    assert wild.loc["pchip", "amplitude_error_pct"] < 1.0 < wild.loc["linear", "amplitude_error_pct"]
    again = lt.holdout_fill_error(scrambled, [1], n_gaps=10)
    assert again["amplitude_error_pct"].tolist() == wild["amplitude_error_pct"].tolist()


def test_split_windows_cut_in_time_and_score_against_the_truth():
    n = 1200
    amp = np.tile(np.arange(n, dtype=float)[:, None], (1, 3))
    truth = np.column_stack([np.linspace(0, 1.8, n), np.linspace(0, 4.8, n)])
    camera = truth + 0.1
    camera[50] = np.nan
    (xtr, ytr), (xte, yte) = lt.split_windows(amp, camera, truth, length=100, stride=10)
    assert xtr[:, -1, 0].max() < 1080 <= xte[:, 0, 0].min()      # 90 % of 1200 frames
    assert not any(s <= 50 < s + 100 for s in xtr[:, 0, 0])         # NaN frame drops windows
    assert yte[0] == pytest.approx(truth[1080:1180].mean(axis=0))
    assert ytr[-1] == pytest.approx(camera[980:1080].mean(axis=0))
    with pytest.raises(ParameterError, match="duration_s"):
        lt.split_windows(amp[:120], camera[:120], truth[:120], length=100, stride=10)


def test_misclick_table_is_zero_without_a_click_error():
    from wiloc_core.vision import default_viewpoints

    cams = default_viewpoints()[:1]
    table = lt.misclick_table(cams, [0.0, 5.0], step_m=0.6)
    assert table.loc[0, "mean_error_cm"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc[1, "mean_error_cm"] > 0


def test_view_table_pairs_views_with_the_papers_rows():
    errors = np.array([[10.0, np.nan, 20.0], [5.0, 5.0, 5.0]])
    result = SimpleNamespace(views=("a", "b"), errors_cm=errors)
    table = lt.view_table(result)
    assert table["paper_view"].tolist() == ["camera view 1", "camera view 2"]
    assert table["detection_rate"].tolist() == pytest.approx([2 / 3, 1.0])
    assert table["mean_error_cm"].tolist() == pytest.approx([15.0, 5.0])


def _runs(seeds=(0, 1, 2)) -> pd.DataFrame:
    """Hand-made rows: ResNet18 best, camera labels cost 5 cm on CNN and GRU."""
    base = {"cnn": 0.8, "resnet18": 0.5, "rnn": 0.85, "gru": 0.9, "lstm": 0.86,
            "csi-bert": 0.6}
    rows = []
    for labels, extra in (("camera", 0.05), ("true", 0.0)):
        for m, e in base.items():
            if labels == "true" and m not in ("cnn", "gru"):
                continue
            for s in seeds:
                rows.append({"labels": labels, "model": m, "seed": s,
                             "error_mean_m": e + extra + 0.01 * s, "error_std_m": 0.3,
                             "acc_6": 0.5, "acc_4": 0.6, "acc_2": 0.8, "n_params": 1000,
                             "size_mb": 0.004, "peak_memory_gb": 0.0, "p_le_1m": 0.7})
        rows.append({"labels": labels, "model": "knn", "seed": -1, "error_mean_m": 1.0 + extra,
                     "error_std_m": 0.3, "acc_6": 0.4, "acc_4": 0.5, "acc_2": 0.7,
                     "n_params": None, "size_mb": None, "peak_memory_gb": None, "p_le_1m": 0.5})
    return pd.DataFrame(rows)


def test_table2_and_label_cost_average_over_seeds():
    runs = _runs()
    t2 = lt.table2(runs)
    cam = t2[t2["labels"] == "camera"].set_index("model")
    assert list(cam.index) == ["cnn", "resnet18", "rnn", "gru", "lstm", "csi-bert", "knn"]
    assert cam.loc["cnn", "error_mean_m"] == pytest.approx(0.86)
    assert cam.loc["cnn", "acc_6"] == pytest.approx(50.0) and cam.loc["cnn", "n_seeds"] == 3
    cost = lt.label_cost(runs).set_index("model")
    assert list(cost.index) == ["cnn", "gru", "knn"]
    assert cost["cost_m"].tolist() == pytest.approx([0.05] * 3)


def _judged(tmp_path, profile="full", seeds=(0, 1, 2)) -> dict:
    res = ResultSet("30-lofi-vision-labels", profile=profile, seed=0, data_kind="simulated",
                    out_dir=tmp_path)
    views = pd.DataFrame({"view": ["a", "b", "c"], "paper_view": list(lt.PAPER_VIEWS),
                          "mean_error_cm": [12.0, 11.0, 10.0]})
    lt.report_records(res, views=views, runs=_runs(seeds))
    return {r.get("claim_id") or (r["row"], r["column"]): r for r in report.evaluate(res.records)}


def test_report_records_judge_hand_made_runs(tmp_path):
    judged = _judged(tmp_path)
    assert judged[("camera view 1", "mean label error")]["status"] == verdicts.MAGNITUDE
    assert judged[("CNN", "Error Mean")]["ours"] == pytest.approx(0.86)
    assert judged[("CNN", "Accuracy 6 classes")]["ours"] == pytest.approx(50.0)
    assert ("weighted k-NN", "Error Mean") not in judged
    assert judged["002-table2-below-1m"]["status"] == verdicts.HOLDS
    lowest = judged["002-table2-resnet-bert-lowest"]
    assert [c["label"] for c in lowest["cells"]] == ["CNN", "RNN", "GRU", "LSTM"]
    assert lowest["cells"][0]["values"] == pytest.approx([0.3] * 3)
    assert lowest["status"] == verdicts.HOLDS
    cost = judged["002-ours-camera-labels-cost"]
    assert [c["label"] for c in cost["cells"]] == ["CNN", "GRU", "weighted k-NN"]
    assert cost["cells"][2]["deterministic"] is True
    assert cost["status"] == verdicts.HOLDS


def test_quick_run_is_not_judged(tmp_path):
    assert {r["status"] for r in _judged(tmp_path, "quick").values()} == {verdicts.NOT_JUDGED}


def test_fill_variants_keep_received_packets_or_fill_the_grid():
    lost = np.zeros(12, bool)
    lost[[4, 5, 6]] = True
    seq = np.flatnonzero(~lost)
    csi = (2.0 + np.arange(seq.size))[:, None] * np.exp(1j * 0.1 * seq)[:, None] * np.ones(3)
    frames = SimpleNamespace(timestamp_s=seq / 100.0, csi=csi, rate_hz=100.0)
    t, amp = lt.amplitude_series(frames, "received")
    assert t.shape == (9,) and np.allclose(amp, np.abs(csi))
    for fill in ("linear", "pchip"):
        t, amp = lt.amplitude_series(frames, fill)
        assert t == pytest.approx(np.arange(12) / 100.0)
        assert np.all(np.isfinite(amp)) and np.allclose(amp[~lost], np.abs(csi))
    with pytest.raises(ParameterError, match="fill_compare"):
        lt.amplitude_series(frames, "zero")


def test_fill_table_and_errors_frame_round_trip():
    runs = pd.DataFrame({"model": ["gru", "cnn", "cnn", "cnn", "gru", "gru"],
                         "fill": ["pchip", "received", "pchip", "pchip", "received", "linear"],
                         "seed": [0, 0, 0, 1, 0, 0],
                         "error_mean_m": [0.5, 1.0, 0.8, 0.6, 0.9, 0.7]})
    table = lt.fill_table(runs)
    assert list(table.index) == ["cnn", "gru"] and list(table.columns) == ["received", "linear",
                                                                           "pchip"]
    assert table.loc["cnn", "pchip"] == pytest.approx(0.7) and np.isnan(table.loc["cnn", "linear"])
    errors = {("camera", "cnn", 0): np.array([0.1, 0.2]), ("true", "knn", -1): np.array([0.3])}
    back = lt.errors_from_frame(lt.errors_frame(errors))
    assert back.keys() == errors.keys()
    assert all(np.array_equal(back[k], errors[k]) for k in errors)


def test_presets_share_their_keys_and_follow_the_authors_windows():
    keys = [set(profiles.settings(CHAPTER, p)) for p in profiles.PROFILE_NAMES]
    assert keys[0] == keys[1] == keys[2]
    paper = profiles.settings(CHAPTER, "paper")
    assert (paper["epochs"], paper["window"], paper["train_fraction"]) == (200, 100, 0.9)
    assert paper["frame_rate_hz"] == 26.0 and paper["duration_s"] == 300.0


def test_centre_row_answers_the_mean_training_position():
    g = np.random.default_rng(0)
    train = (g.normal(size=(30, 100, 4)), g.uniform([0, 0], [1.8, 4.8], size=(30, 2)))
    test = (g.normal(size=(5, 100, 4)), g.uniform([0, 0], [1.8, 4.8], size=(5, 2)))
    runs, errors = lt.run_benchmark(train, test, {"models": []}, [0], labels="camera")
    assert set(runs["model"]) == {"knn", "centre"}
    expected = np.linalg.norm(test[1] - train[1].mean(axis=0), axis=1)
    np.testing.assert_allclose(errors[("camera", "centre", -1)], expected)
    assert lt.label_cost(pd.concat([runs, runs.assign(labels="true")]))["model"].tolist() == ["knn"]

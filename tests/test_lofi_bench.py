"""LoFi benchmark networks and Table II metrics (paper 002, §IV-B/C)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wiloc_core.errors import ParameterError
from wiloc_core.experiment import Cache
from wiloc_core.methods import lofi_bench as lb
from wiloc_core.models import lofi_nets as ln
from wiloc_core.training import TrainSettings

TINY = {"cnn": {}, "resnet18": {}, "rnn": {"hidden": 8, "layers": 2},
        "gru": {"hidden": 8, "layers": 2}, "lstm": {"hidden": 8, "layers": 2},
        "csi-bert": {"hidden": 16, "layers": 1, "heads": 2, "intermediate": 32}}


def _shape(name):
    return (20, 20) if name in ln.CONV_MODELS else (8, 6)


@pytest.mark.parametrize("name", ln.MODEL_NAMES)
def test_forward_gives_one_position_per_window(name):
    net = ln.build(name, _shape(name), **TINY[name]).eval()
    with torch.no_grad():
        out = net(torch.randn(3, *_shape(name)))
    assert out.shape == (3, 2)
    assert (out >= 0).all()                                  # ReLU on the output (§2.2)


def test_classifier_gives_logits():
    net = ln.build("rnn", (8, 6), n_outputs=6, hidden=8, layers=1).eval()
    with torch.no_grad():
        out = net(torch.randn(4, 8, 6))
    assert out.shape == (4, 6) and (out < 0).any()


def test_paper_sized_series_nets_have_the_stated_parameter_counts():
    counts = {}
    for name in ("rnn", "gru", "lstm"):
        bb = ln.build(name, (100, 52)).backbone
        counts[name] = (ln.parameter_count(bb.recurrent), ln.parameter_count(bb.step))
    # docs/architectures.md §2.3: 32.5 k, 97.5 k + 4.2 k, 130.0 k + 4.2 k
    assert counts == {"rnn": (32_512, 4_160), "gru": (97_536, 4_160), "lstm": (130_048, 4_160)}


def test_paper_sized_cnn_and_bert_counts():
    cnn = ln.build("cnn", (52, 52)).backbone
    assert ln.parameter_count(cnn) == 27_136                            # §2.2: 27.1 k
    assert ln.parameter_count(cnn.features) + ln.parameter_count(cnn.dense[0]) == 22_976  # "23K"
    bert = ln.build("csi-bert", (100, 52)).backbone
    assert 1.25e6 < ln.parameter_count(bert) < 1.29e6                   # §2.5: about 1.28 M


def test_resnet18_counts_about_11_million():
    net = ln.build("resnet18", (52, 52))
    assert abs(ln.parameter_count(net.backbone) - 11.2e6) < 0.05e6     # §2.2, paper "11M"


def test_unknown_network_is_refused():
    with pytest.raises(ParameterError):
        ln.build("vgg", (52, 52))


def test_windows_mean_last_and_centre_targets():
    amp = np.arange(12, dtype=float)[:, None] * np.ones((1, 3))
    pos = np.stack([np.arange(12.0), 10 + np.arange(12.0)], axis=1)
    X, y, starts = lb.windows(amp, pos, length=4, stride=3)
    assert starts.tolist() == [0, 3, 6]
    assert X.shape == (3, 4, 3) and X[1, 0, 0] == 3
    assert np.allclose(y[0], [1.5, 11.5])                               # mean of frames 0..3
    _, last, _ = lb.windows(amp, pos, length=4, stride=3, target="last")
    _, centre, _ = lb.windows(amp, pos, length=4, stride=3, target="centre")
    assert np.allclose(last[:, 0], [3, 6, 9]) and np.allclose(centre[:, 0], [2, 5, 8])


def test_windows_with_an_unlabelled_frame_are_dropped():
    amp = np.ones((10, 2))
    pos = np.zeros((10, 2))
    pos[5] = lb.PAD_VALUE
    _, _, starts = lb.windows(amp, pos, length=3, stride=1)
    assert starts.tolist() == [0, 1, 2, 6, 7]


def test_time_split_keeps_order_and_fractions_per_sequence():
    train, test = lb.time_split([10, 20], 0.9)
    assert train.tolist() == list(range(9)) + list(range(10, 28))
    assert test.tolist() == [9, 28, 29]
    train, test = lb.time_split(100)
    assert len(train) == 90 and train.max() < test.min()


def test_correlation_matrix_is_symmetric_with_unit_diagonal_when_normalised():
    m = np.array([[1.0, 2.0, 0.5], [2.0, 1.0, 0.5], [3.0, 0.0, 1.0], [1.0, 1.0, 2.0]])
    f = lb.correlation_matrix(m)
    assert np.allclose(f, m.T @ m / 4) and np.allclose(f, f.T)
    g = lb.correlation_matrix(np.stack([m, 2 * m]), normalise=True)
    assert g.shape == (2, 3, 3)
    assert np.allclose(np.diagonal(g, axis1=1, axis2=2), 1) and np.allclose(g[0], g[1])


def test_standardise_per_subcarrier_and_pads():
    m = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]])
    z = lb.standardise(m)
    assert np.allclose(z.mean(axis=0), 0, atol=1e-6) and np.allclose(z.std(axis=0), 1, atol=1e-6)
    padded = np.vstack([m, [[lb.PAD_VALUE, lb.PAD_VALUE]]])
    zp = lb.standardise(padded, pad_value=lb.PAD_VALUE, seed=0)
    assert np.allclose(zp[:3], z, atol=1e-6) and np.all(np.abs(zp[3]) < 10)


def test_region_grid_and_accuracy_on_hand_made_predictions():
    true = np.array([[0.2, 0.5], [1.5, 0.5], [0.2, 2.0], [1.5, 4.0]])
    assert lb.REGION_GRIDS[6].label(true).tolist() == [0, 1, 2, 5]
    assert lb.REGION_GRIDS[4].label(true).tolist() == [0, 1, 0, 3]
    assert lb.REGION_GRIDS[2].label(true).tolist() == [0, 0, 0, 1]
    pred = true + np.array([[0.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    row = lb.table2_row(pred, true, n_params=1_000_000)
    assert row["acc_6"] == 0.75 and row["acc_4"] == 0.5 and row["acc_2"] == 0.75
    assert np.isclose(row["error_mean_m"], 0.5) and np.isclose(row["error_std_m"], 0.5)
    assert row["size_mb"] == 4.0
    with_classifier = lb.table2_row(pred, true, class_pred={6: np.array([0, 1, 2, 5])})
    assert with_classifier["acc_6"] == 1.0


def test_error_cdf_is_sorted_and_ends_at_one():
    x, f = lb.error_cdf(np.array([[0.0, 2.0], [0.0, 0.0]]), np.zeros((2, 2)))
    assert x.tolist() == [0.0, 2.0] and f.tolist() == [0.5, 1.0]


def test_knn_row_chooses_k_on_held_out_windows():
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 1, (60, 2))
    X = np.repeat(np.hstack([y, y ** 2])[:, None, :], 5, axis=1)
    pred, k, scores = lb.knn_row((X, y), X[:5], k_candidates=(1, 3))
    assert k in scores and pred.shape == (5, 2)
    assert np.allclose(pred, y[:5], atol=1e-3)


def test_tiny_training_runs_and_is_cached(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(5, 20, (40, 8, 6)).astype(np.float32)
    y = np.stack([X[:, :, 0].mean(1) / 20, X[:, :, 1].mean(1) / 5], axis=1)
    s = TrainSettings(epochs=3, lr=3e-3, batch_size=16, val_fraction=0.2, patience=None,
                      device="cpu", progress=False)
    cache = Cache(tmp_path)
    run = lb.train_and_test("gru", (X[:32], y[:32]), X[32:], s, seed=0, cache=cache,
                            model_kw={"hidden": 8, "layers": 1})
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert run.pred.shape == (8, 2) and len(run.history) == 3
    assert np.isfinite([h["train_loss"] for h in run.history]).all()
    assert run.n_params > run.n_params_backbone > 0
    assert run.memory_kind == "cpu_peak_rss_delta" and run.peak_memory_bytes >= 0
    again = lb.train_and_test("gru", (X[:32], y[:32]), X[32:], s, seed=0, cache=cache,
                              model_kw={"hidden": 8, "layers": 1})
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == files   # cache hit
    assert np.array_equal(again.pred, run.pred)


def test_tiny_region_classifier_trains():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 20, 20)).astype(np.float32)[:, :8, :]
    labels = lb.region_labels(rng.uniform(0, 1.8, (30, 2)) * [1, 2.6], 4)
    s = TrainSettings(epochs=1, batch_size=16, val_fraction=0.0, device="cpu", progress=False)
    run = lb.train_and_test("cnn", (X[:24], labels[:24]), X[24:], s, seed=0, n_classes=4,
                            model_kw={"faithful": False})
    assert run.pred.dtype == np.int64 and set(run.pred) <= {0, 1, 2, 3}

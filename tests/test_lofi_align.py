"""LoFi signal pipeline (paper 002): eq. 4 lost packets, filling, eq. 5 alignment, its label error."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.methods import lofi_align as la

RATE = 100.0


# --- eq. 4 -------------------------------------------------------------------------------


def test_eq4_regular_sequence_has_no_loss():
    t = np.arange(50) / RATE + 0.0003 * np.sin(np.arange(50))  # small jitter
    assert la.lost_packet_counts(t, RATE).tolist() == [0] * 49


def test_eq4_one_gap():
    t = np.array([0.00, 0.01, 0.02, 0.05, 0.06])  # 0.02 -> 0.05: two packets missing
    assert la.lost_packet_counts(t, RATE).tolist() == [0, 0, 2, 0]


def test_eq4_rounds_half_to_even_as_python_round():
    t = np.array([0.0, 0.625, 1.5])  # exact in binary; at 4 Hz gaps of 2.5 and 3.5 periods
    assert la.lost_packet_counts(t, 4.0).tolist() == [round(1.5), round(2.5)] == [2, 2]


def test_eq4_duplicates_count_zero_and_are_flagged():
    t = np.array([0.00, 0.01, 0.01, 0.02, 0.021])
    gaps = la.find_gaps(t, RATE)
    assert gaps.lost.tolist() == [0, 0, 0, 0]
    assert gaps.duplicate.tolist() == [False, True, False, True]


def test_eq4_clock_jumps():
    t = np.array([0.00, 0.01, 0.02, 0.005, 0.013, 30.0, 30.01])  # back, then forward 30 s
    assert la.lost_packet_counts(t, RATE).tolist() == [0, 0, 0, 0, 2998, 0]  # eq. 4 as written
    gaps = la.find_gaps(t, RATE, max_lost=100)
    assert gaps.backward.tolist() == [False, False, True, False, False, False]
    assert gaps.jump.tolist() == [False, False, False, False, True, False]
    assert gaps.lost.sum() == 0


def test_insert_lost_packets_puts_nan_rows_on_the_grid():
    t = np.array([0.00, 0.01, 0.04, 0.05])
    csi = np.arange(8).reshape(4, 2) + 1j
    times, values, lost = la.insert_lost_packets(t, csi, RATE)
    np.testing.assert_allclose(times, [0.0, 0.01, 0.02, 0.03, 0.04, 0.05])
    assert lost.tolist() == [False, False, True, True, False, False]
    assert np.isnan(values[lost]).all()
    np.testing.assert_array_equal(values[~lost], csi)


# --- filling --------------------------------------------------------------------------


def _smooth_csi(t):
    amplitude = 20 + 6 * np.sin(2 * np.pi * 0.8 * t)[:, None] * np.linspace(0.5, 1.5, 4)
    phase = 2 * np.pi * 1.5 * t[:, None] + np.linspace(0, 1, 4) + 0.8 * np.cos(2 * np.pi * 0.6 * t)[:, None]
    return amplitude * np.exp(1j * phase)


def _bursty_receive_mask(n, seed=0):
    rng = np.random.default_rng(seed)
    keep = np.ones(n, bool)
    for start in rng.choice(np.arange(5, n - 30), 25, replace=False):
        keep[start:start + rng.integers(2, 15)] = False
    return keep


def test_pchip_fills_a_smooth_signal_better_than_linear():
    t_full = np.arange(600) / RATE
    truth = _smooth_csi(t_full)
    keep = _bursty_receive_mask(t_full.size)
    errors = {}
    for method in la.METHODS:
        filled = la.fill_lost_packets(t_full[keep], truth[keep], RATE, method=method)
        np.testing.assert_allclose(filled.timestamps_s, t_full, atol=1e-9)
        assert filled.filled.tolist() == (~keep).tolist()
        errors[method] = np.sqrt(np.mean(np.abs(filled.csi[~keep] - truth[~keep]) ** 2))
    assert errors["pchip"] < 0.5 * errors["linear"], errors


def test_linear_fill_is_exact_on_a_linear_signal():
    t_full = np.arange(200) / RATE
    truth = (3 + 2j) + np.outer(t_full, [1 - 4j, 0.5 + 2j, -3 + 0j])
    keep = _bursty_receive_mask(t_full.size, seed=1)
    filled = la.fill_lost_packets(t_full[keep], truth[keep], RATE, method="linear")
    np.testing.assert_allclose(filled.csi, truth, atol=1e-12)


def test_interpolate_lost_leaves_edges_nan():
    t = np.arange(6) / RATE
    csi = np.ones((6, 1), complex)
    lost = np.array([True, False, True, False, False, True])
    out = la.interpolate_lost(t, np.where(lost[:, None], np.nan, csi), lost, method="pchip")
    assert np.isnan(out[[0, 5]]).all() and np.allclose(out[1:5], 1)


# --- eq. 5 alignment ---------------------------------------------------------------------


def test_alignment_picks_the_nearest_frame_and_breaks_ties_to_the_earlier():
    frames = np.array([0.00, 0.04, 0.08, 0.12])
    t = np.array([-0.5, 0.01, 0.03, 0.02, 0.06, 0.119, 0.5])  # 0.02 and 0.06 are ties
    aligned = la.align_to_frames(t, frames)
    assert aligned.index.tolist() == [0, 0, 1, 0, 1, 3, 3]
    np.testing.assert_allclose(aligned.offset_s, t - frames[aligned.index])
    brute = np.argmin(np.abs(t[:, None] - frames[None, :]), axis=1)
    assert aligned.index.tolist() == brute.tolist()


def test_alignment_with_unsorted_and_repeated_frame_times():
    frames = np.array([0.08, 0.00, 0.04, 0.04])
    aligned = la.align_to_frames([0.035, 0.07, 0.001], frames)
    assert aligned.index.tolist() == [2, 0, 1]


def test_alignment_next_rule_and_max_offset():
    frames = np.array([0.00, 0.04, 0.08])
    nxt = la.align_to_frames([0.01, 0.04, 0.09], frames, rule="next")
    assert nxt.index.tolist() == [1, 1, -1] and np.isnan(nxt.offset_s[2])
    near = la.align_to_frames([0.01, 0.5], frames, max_offset_s=0.02)
    assert near.matched.tolist() == [True, False]
    labels = la.aligned_labels(near, [[0, 0], [1, 1], [2, 2]])
    assert labels[0].tolist() == [0, 0] and np.isnan(labels[1]).all()


# --- label error of alignment ---------------------------------------------------------


def test_alignment_error_closed_form_matches_a_simulated_walk():
    speed, camera_hz = 1.2, 26.0
    rng = np.random.default_rng(7)
    direction = np.array([0.6, 0.8])

    def position(t):
        return np.outer(t, speed * direction)

    frames = 0.0131 + np.arange(int(60 * camera_hz)) / camera_hz + rng.normal(0, 1e-3, int(60 * camera_hz))
    csi_t = 0.5 + np.arange(5800) / RATE + rng.normal(0, 5e-4, 5800)
    csi_t = csi_t[rng.random(csi_t.size) > 0.2]  # packet loss
    aligned = la.align_to_frames(csi_t, frames)
    labels = la.aligned_labels(aligned, position(frames))
    error = np.linalg.norm(labels - position(csi_t), axis=1).mean()
    expected = la.alignment_label_error(speed, camera_hz)
    assert expected == pytest.approx(speed / (4 * camera_hz))
    assert error == pytest.approx(expected, rel=0.03)

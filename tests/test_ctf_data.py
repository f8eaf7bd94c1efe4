"""CTF datasets of paper 000: the .npz reader, the splits and the simulator adapter."""

import numpy as np
import pytest

from wiloc_core.data.ctf import (
    ENVIRONMENTS,
    from_campaign,
    load_ctf,
    make_split,
    read_ctf_npz,
    simulate_ctf_dataset,
    write_ctf_npz,
)
from wiloc_core.errors import DataFormatError, ParameterError


def _campaign(n_env=2, n_pos=6, n_sweeps=3, n_freq=8, seed=0):
    g = np.random.default_rng(seed)
    ctf = (g.normal(size=(n_env, n_pos, n_sweeps, n_freq))
           + 1j * g.normal(size=(n_env, n_pos, n_sweeps, n_freq))).astype(np.complex64)
    pos = g.uniform(0, 160, size=(n_env, n_pos, 2))
    return ctf, pos


def test_npz_round_trip(tmp_path):
    ctf, pos = _campaign()
    path = write_ctf_npz(tmp_path / "ctf.npz", ctf, pos, ["Lab", "Lobby"],
                         freqs_hz=np.linspace(2.35e9, 2.45e9, 8))
    data = read_ctf_npz(path)
    assert list(data) == ["Lab", "Lobby"]
    lobby = data["Lobby"]
    assert lobby.X.shape == (18, 8, 2) and lobby.X.dtype == np.float32
    assert lobby.source_kind == "real"
    # sample 4 = position 1, sweep 1 (position-major order)
    assert lobby.position_id[4] == 1 and lobby.sweep[4] == 1
    np.testing.assert_allclose(lobby.X[4, :, 0], ctf[1, 1, 1].real)
    np.testing.assert_allclose(lobby.X[4, :, 1], ctf[1, 1, 1].imag)
    np.testing.assert_allclose(lobby.y[4], pos[1, 1])


def test_single_environment_layout(tmp_path):
    ctf, pos = _campaign(n_env=1)
    np.savez(tmp_path / "one.npz", ctf=ctf[0], positions_cm=pos[0], environments=np.str_("Lab"))
    assert read_ctf_npz(tmp_path / "one.npz")["Lab"].n_positions == 6


@pytest.mark.parametrize("field, bad, match", [
    ("ctf", lambda c, p, e: (c.real, p, e), "complex"),
    ("positions_cm", lambda c, p, e: (c, p[:, :4], e), r"\(2, 6, 2\)"),
    ("environments", lambda c, p, e: (c, p, np.array(["Lab", "Lab"])), "distinct"),
    ("ctf", lambda c, p, e: (np.where(np.arange(8) == 3, np.nan, c), p, e), "finite"),
])
def test_bad_files_name_file_field_and_expectation(tmp_path, field, bad, match):
    ctf, pos = _campaign()
    c, p, e = bad(ctf, pos, np.array(["Lab", "Lobby"]))
    path = tmp_path / "bad.npz"
    np.savez(path, ctf=c, positions_cm=p, environments=e)
    with pytest.raises(DataFormatError, match=match) as err:
        read_ctf_npz(path)
    assert "bad.npz" in str(err.value) and f"'{field}'" in str(err.value)


def test_missing_field_and_pickled_objects_are_refused(tmp_path):
    ctf, pos = _campaign()
    np.savez(tmp_path / "nofield.npz", ctf=ctf, positions_cm=pos)
    with pytest.raises(DataFormatError, match="environments"):
        read_ctf_npz(tmp_path / "nofield.npz")
    np.savez(tmp_path / "objects.npz", ctf=ctf, positions_cm=pos,
             environments=np.array(["Lab", "Lobby"], dtype=object))
    with pytest.raises(DataFormatError, match="no Python objects"):
        read_ctf_npz(tmp_path / "objects.npz")
    with pytest.raises(FileNotFoundError):
        read_ctf_npz(tmp_path / "absent.npz")


def test_load_ctf_from_file_checks_environment_names(tmp_path):
    ctf, pos = _campaign()
    path = write_ctf_npz(tmp_path / "ctf.npz", ctf, pos, ["Lab", "Lobby"])
    assert list(load_ctf(["Lobby"], str(path))) == ["Lobby"]
    with pytest.raises(DataFormatError, match="Sports Hall"):
        load_ctf(["Sports Hall"], str(path))
    with pytest.raises(ParameterError):
        load_ctf(["Kitchen"], "simulated")


def test_sample_split_is_disjoint_stratified_and_nested():
    pid = np.repeat(np.arange(196), 10)
    s = make_split(pid, kind="sample", seed=3)
    assert s.train.size == 1470 and s.val.size + s.test.size == 490
    assert not set(s.train) & (set(s.val) | set(s.test)) and not set(s.val) & set(s.test)
    per_position = np.bincount(pid[s.train], minlength=196)
    assert per_position.min() == 7 and per_position.max() == 8      # 75 % of 10 sweeps
    small, large = s.labelled(0.025), s.labelled(0.10)
    assert small.size == 49 and large.size == 196 and set(small) <= set(large)
    assert set(s.labelled(0.10)) | set(s.unlabelled(0.10)) == set(s.train)
    again = make_split(pid, kind="sample", seed=3)
    np.testing.assert_array_equal(again.order, s.order)
    with pytest.raises(ParameterError):
        s.labelled(0.9)                                              # more than the pool


def test_position_split_holds_out_whole_positions():
    pid = np.repeat(np.arange(196), 10)
    s = make_split(pid, kind="position", seed=0)
    train_pos, held_pos = set(pid[s.train]), set(pid[s.val]) | set(pid[s.test])
    assert not train_pos & held_pos
    assert len(held_pos) == 49 and not set(pid[s.val]) & set(pid[s.test])


def test_from_campaign_checks_shapes():
    with pytest.raises(ParameterError):
        from_campaign(np.zeros((3, 2, 5), complex), np.zeros((4, 2)), "Lab", source_kind="real")


def test_simulated_environment_has_the_papers_layout():
    data = simulate_ctf_dataset("Lab", n_sweeps=1, seed=0)
    assert data.X.shape == (196, 601, 2) and data.X.dtype == np.float32
    assert data.source_kind == "simulated" and data.environment == "Lab"
    xs = np.unique(data.y[:, 0])
    assert xs.size == 14 and np.allclose(np.diff(xs), 12.5) and xs[0] == 0.0
    assert np.all(np.isfinite(data.X)) and data.X.std() > 0
    assert set(ENVIRONMENTS) == {"Lab", "Narrow Corridor", "Lobby", "Sports Hall"}

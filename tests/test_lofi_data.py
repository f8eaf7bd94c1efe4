"""LoFi readers (paper 002): restricted unpickler, processed pickle, raw CSV, csiread logs, CLI."""

from __future__ import annotations

import codecs
import csv
import fractions
import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

from wiloc_core.data import cli, lofi
from wiloc_core.data.safe_pickle import UnsafePickleError, load_pickle
from wiloc_core.errors import DataFormatError
from wiloc_core.paths import repo_root

N_SC = lofi.N_SUBCARRIERS
np_reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]


class _RunsShell:
    """Unpickling this would run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _WritesFile:
    """Unpickling this would open (and so create) a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _write_pickle(path, obj, protocol=pickle.DEFAULT_PROTOCOL):
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


def _lofi_entry(n=6, person="alice"):
    rng = np.random.default_rng(0)
    magnitude = rng.uniform(1, 30, (n, N_SC))
    phase = rng.uniform(-180, 180, (n, N_SC))
    magnitude[2] = phase[2] = lofi.PAD  # a lost packet, as wiloc.pkl pads it
    x = [10.0, 20.0, lofi.PAD, 40.0, 50.0, lofi.PAD]  # cm; LoFi stores lists
    y = [100.0, 110.0, lofi.PAD, 130.0, 140.0, lofi.PAD]
    time = 1_000_000.0 + 10_000.0 * np.arange(n)  # µs
    return {"time": time, "magnitude": magnitude, "phase": phase, "x": x, "y": y,
            "people": 3, "people_name": person, "img_path": ["a.jpg", -1000, "b.jpg", "c.jpg", "d.jpg", -1000]}


# --- restricted unpickler -------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_restricted_unpickler_loads_arrays_lists_and_scalars(tmp_path, protocol):
    obj = {"a": np.arange(6.0).reshape(2, 3), "b": [1, "x", np.float64(2.5), (3, 4)], "c": np.array(["p", "q"]),
           "z": np.array([1 + 2j]), "o": OrderedDict(k=1), "s": {1, 2}, "bytes": b"\x00\x01"}
    out = load_pickle(_write_pickle(tmp_path / "ok.pkl", obj, protocol))
    assert np.array_equal(out["a"], obj["a"]) and out["a"].dtype == np.float64
    assert out["b"] == obj["b"] and out["c"].tolist() == ["p", "q"] and out["z"][0] == 1 + 2j
    assert out["o"] == obj["o"] and out["s"] == {1, 2} and out["bytes"] == b"\x00\x01"


@pytest.mark.parametrize("payload", [_RunsShell, _WritesFile])
def test_restricted_unpickler_refuses_code_and_runs_nothing(tmp_path, payload):
    marker = tmp_path / "MARKER"
    path = _write_pickle(tmp_path / "evil.pkl", {"data": [1, 2], "x": payload(marker)})
    with pytest.raises(UnsafePickleError) as caught:
        load_pickle(path)
    assert not marker.exists()
    message = str(caught.value)
    assert str(path) in message and "refused" in message
    assert ("system" in message) if payload is _RunsShell else ("open" in message)
    assert isinstance(caught.value, DataFormatError)


def test_restricted_unpickler_refuses_arbitrary_classes(tmp_path):
    # A plain class: exceptions may be pickled through tblib when dask's helpers are loaded.
    path = _write_pickle(tmp_path / "cls.pkl", {"f": fractions.Fraction(1, 3)})
    with pytest.raises(UnsafePickleError, match="fractions.Fraction"):
        load_pickle(path)


class _Calls:
    """Unpickling this calls ``func(*args)``: allowed names used in ways numpy never does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("call", [
    _Calls(np.ndarray, (1000, 1000)),
    _Calls(bytearray, 10**6),
    _Calls(codecs.encode, b"abc", "zlib"),
    _Calls(np_reconstruct, np.ndarray, (1000, 1000), b"b"),
])
def test_allowed_names_cannot_allocate_beyond_the_file(tmp_path, call):
    path = _write_pickle(tmp_path / "alloc.pkl", [call], protocol=2)
    with pytest.raises(DataFormatError, match=r"alloc\.pkl"):
        load_pickle(path)


def test_pickle_size_cap_and_truncated_file(tmp_path):
    path = _write_pickle(tmp_path / "big.pkl", {"a": np.zeros(1000)})
    with pytest.raises(DataFormatError, match="max_bytes"):
        load_pickle(path, max_bytes=100)
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(path.read_bytes()[:50])
    with pytest.raises(DataFormatError, match=r"cut\.pkl.*\(file\)"):
        load_pickle(cut)


# --- processed pickle -----------------------------------------------------------------


def test_lofi_pickle_pads_become_lost_rows_and_nan_positions(tmp_path):
    entry = _lofi_entry()
    (record,) = lofi.read_lofi_pickle(_write_pickle(tmp_path / "wiloc.pkl", [entry]))
    assert record.csi.shape == (6, N_SC) and record.person == "alice"
    assert record.lost.tolist() == [False, False, True, False, False, False]
    assert np.isnan(record.csi[2]).all() and np.isfinite(record.csi[~record.lost]).all()
    np.testing.assert_allclose(np.abs(record.csi[0]), entry["magnitude"][0])
    np.testing.assert_allclose(np.angle(record.csi[0], deg=True), entry["phase"][0], atol=1e-9)
    np.testing.assert_allclose(record.timestamps_s[:2], [1.0, 1.01])
    assert np.isnan(record.positions_m[[2, 5]]).all()
    np.testing.assert_allclose(record.positions_m[[0, 4]], [[0.1, 1.0], [0.5, 1.4]])
    assert record.labelled.tolist() == [True, True, False, True, True, False]


def test_lofi_linear_pickle_keeps_filled_magnitude_under_pad_phase(tmp_path):
    entry = _lofi_entry()
    entry["magnitude"][2] = 7.0  # wiloc_linear.pkl fills magnitudes, not phases
    (record,) = lofi.read_lofi_pickle(_write_pickle(tmp_path / "wiloc_linear.pkl", entry))
    assert not record.lost[2]
    np.testing.assert_allclose(record.csi[2], 7.0)


@pytest.mark.parametrize(("change", "field"), [
    (lambda e: e.pop("time"), "[0].time"),
    (lambda e: e.update(magnitude=np.ones((6, 30))), "[0].magnitude"),
    (lambda e: e.update(x=e["x"][:4]), "[0].x/y"),
    (lambda e: e.update(time=["a"] * 6), "[0].time"),
    (lambda e: e.update(x=[[1.0, 2.0]] * 6), "[0].x"),  # nests deeper than a 1-D field
])
def test_lofi_pickle_errors_name_file_and_field(tmp_path, change, field):
    entry = _lofi_entry()
    change(entry)
    path = _write_pickle(tmp_path / "bad.pkl", [entry])
    with pytest.raises(DataFormatError) as caught:
        lofi.read_lofi_pickle(path)
    assert str(path) in str(caught.value) and f"'{field}'" in str(caught.value)


# --- raw CSV ---------------------------------------------------------------------------

_TOOL_COLUMNS = ["type", "role", "mac", "rssi", "rate", "sig_mode", "mcs", "bandwidth", "smoothing",
                 "not_sounding", "aggregation", "stbc", "fec_coding", "sgi", "noise_floor", "ampdu_cnt",
                 "channel", "secondary_channel", "local_timestamp", "ant", "sig_len", "rx_state", "len",
                 "first_word", "data", "timestamp"]


def _raw_values(n, width=2 * N_SC):
    rng = np.random.default_rng(1)
    return rng.integers(-60, 60, (n, width))


def _write_lofi_csv(path, values, local_us, drop=()):
    columns = [c for c in _TOOL_COLUMNS if c not in drop]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i, (row, tick) in enumerate(zip(values, local_us, strict=True)):
            fields = {"type": "CSI_DATA", "role": "STA", "mac": "aa:bb:cc:dd:ee:ff", "local_timestamp": tick,
                      "len": len(row), "data": "[" + ",".join(str(v) for v in row) + "]",
                      "timestamp": f"2024-05-01 12:00:{i // 100:02d}.{(i % 100) * 10000:06d}"}
            writer.writerow([fields.get(c, 0) for c in columns])
    return path


def test_lofi_csv_reader(tmp_path):
    values = _raw_values(5)
    ticks = 3_000_000 + 10_000 * np.arange(5)
    record = lofi.read_lofi_csv(_write_lofi_csv(tmp_path / "raw.csv", values, ticks), pair_order="real_first")
    assert record.csi.shape == (5, N_SC) and record.positions_m is None and not record.lost.any()
    np.testing.assert_allclose(record.csi[1, 3], values[1, 6] + 1j * values[1, 7])
    np.testing.assert_allclose(record.timestamps_s, ticks * 1e-6)
    np.testing.assert_allclose(np.diff(record.host_time_s), 0.01, atol=1e-6)


def test_lofi_csv_pair_order_changes_phase_not_amplitude(tmp_path):
    path = _write_lofi_csv(tmp_path / "raw.csv", _raw_values(4), 10_000 * np.arange(4))
    real_first = lofi.read_lofi_csv(path, pair_order="real_first").csi
    imag_first = lofi.read_lofi_csv(path, pair_order="imag_first").csi
    np.testing.assert_allclose(np.abs(real_first), np.abs(imag_first))
    assert np.abs(np.angle(real_first) - np.angle(imag_first)).max() > 1.0
    np.testing.assert_allclose(imag_first, 1j * np.conj(real_first))  # conjugate, then rotate by 90°


def test_lofi_csv_wrong_csi_length_names_file_column_and_line(tmp_path):
    values = [list(v) for v in _raw_values(3)]
    values[1] = values[1][:100]
    path = _write_lofi_csv(tmp_path / "short.csv", values, [0, 10_000, 20_000])
    with pytest.raises(DataFormatError) as caught:
        lofi.read_lofi_csv(path)
    message = str(caught.value)
    assert str(path) in message and "'data'" in message and "104" in message and "line 3" in message


def test_lofi_csv_missing_column_and_non_numeric_values(tmp_path):
    path = _write_lofi_csv(tmp_path / "nots.csv", _raw_values(2), [0, 1], drop=("local_timestamp",))
    with pytest.raises(DataFormatError, match=r"nots\.csv: field 'local_timestamp'"):
        lofi.read_lofi_csv(path)
    values = [[str(v) for v in row] for row in _raw_values(2)]
    values[0][5] = "abc"
    path = _write_lofi_csv(tmp_path / "text.csv", values, [0, 10_000])
    with pytest.raises(DataFormatError, match=r"text\.csv: field 'data'.*numbers only.*line 2"):
        lofi.read_lofi_csv(path)
    with pytest.raises(ValueError, match="pair_order"):
        lofi.read_lofi_csv(path, pair_order="imag_last")


# --- ESP32-CSI-Tool logs through csiread ----------------------------------------------


def test_esp32_log_through_csiread(tmp_path):
    pytest.importorskip("csiread")
    values = _raw_values(3, width=128)
    lines = []
    for i, row in enumerate(values):
        ints = [-50, 11, 1, 7, 0, 0, 1, 0, 0, 0, 0, -95, 0, 6, 0, 2_000_000 + 10_000 * i, 0, 60, 0, 1]
        fields = ["CSI_DATA", "STA", "aa:bb:cc:dd:ee:ff", *map(str, ints), f"{1700000000.5 + 0.01 * i}",
                  str(len(row)), "[" + " ".join(map(str, row)) + " ]"]
        lines.append(",".join(fields) + "\n")
    path = tmp_path / "log.csv"
    path.write_text("".join(lines))
    assert lofi.kind_of(path) == "esp32-log"
    record = lofi.read_esp32_log(path, pair_order="imag_first")
    assert record.csi.shape == (3, 64)
    np.testing.assert_allclose(record.csi[2, 5], values[2, 11] + 1j * values[2, 10])
    np.testing.assert_allclose(record.timestamps_s, [2.0, 2.01, 2.02])
    np.testing.assert_allclose(record.host_time_s, 1700000000.5 + 0.01 * np.arange(3))


# --- kind_of and `wiloc data info` ----------------------------------------------------


def _info(capsys, *argv):
    code = cli.main(["info", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_kind_of(tmp_path):
    pkl = _write_pickle(tmp_path / "wiloc.pkl", [_lofi_entry()])
    raw = _write_lofi_csv(tmp_path / "raw.csv", _raw_values(2), [0, 10_000])
    other = tmp_path / "other.csv"
    other.write_text("X,Y,AP1\n1,2,3\n")
    assert [lofi.kind_of(p) for p in (pkl, raw, other, tmp_path / "missing.pkl")] == [
        "lofi-pickle", "lofi-csv", None, None]


def test_data_info_prints_one_line_for_each_lofi_kind(tmp_path, capsys):
    pkl = _write_pickle(tmp_path / "wiloc.pkl", [_lofi_entry(), _lofi_entry(person="bob")])
    raw = _write_lofi_csv(tmp_path / "raw.csv", _raw_values(4), 10_000 * np.array([0, 1, 2, 5]))
    for path, kind, rows in ((pkl, "lofi-pickle", 12), (raw, "lofi-csv", 4)):
        code, out, err = _info(capsys, str(path))
        assert code == 0 and err == ""
        lines = out.strip().splitlines()
        assert len(lines) == 1 and f"kind={kind}" in lines[0] and f"rows={rows}" in lines[0]
    code, out, _ = _info(capsys, str(pkl), "--json")
    assert code == 0 and '"sequences": 2' in out and '"lost_fraction": 0.16667' in out


def test_data_info_on_unsafe_or_bad_lofi_file_is_one_line_and_nonzero(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    evil = _write_pickle(tmp_path / "evil.pkl", [_RunsShell(marker)])
    code, out, err = _info(capsys, str(evil))
    lines = err.strip().splitlines()
    assert code != 0 and out == "" and len(lines) == 1
    assert str(evil) in lines[0] and "system" in lines[0] and not marker.exists()
    values = [list(v) for v in _raw_values(2)]
    values[0] = values[0][:10]
    short = _write_lofi_csv(tmp_path / "short.csv", values, [0, 10_000])
    code, out, err = _info(capsys, str(short))
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1 and "'data'" in err


def test_data_info_on_unsafe_pickle_has_no_traceback_in_a_real_process(tmp_path):
    marker = tmp_path / "MARKER"
    evil = _write_pickle(tmp_path / "evil.pkl", {"csi": _RunsShell(marker)})
    result = subprocess.run([sys.executable, "-m", "wiloc_core.data.cli", "info", str(evil)],
                            capture_output=True, text=True, cwd=repo_root(), timeout=120)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "refused" in result.stderr and not marker.exists()

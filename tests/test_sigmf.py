"""SigMF recordings of simulated packets (wiloc_core.data.sigmf_io): round trip through
blind packet detection, and one clear error per kind of damaged file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from wiloc_core import phy
from wiloc_core.data import eval_packets as ep
from wiloc_core.data.sigmf_io import CENTER_HZ, read_sigmf, sigmf_paths, write_sigmf
from wiloc_core.errors import DataFormatError


@pytest.fixture(scope="module")
def packets():
    return ep.simulate_eval_packets(2, snr_db=30.0, seed=3)


@pytest.fixture(scope="module")
def recording(packets, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sigmf")
    meta, data = write_sigmf(folder / "eval", packets, validate=True)
    return meta, data


def test_writer_files_follow_the_sigmf_layout(recording, packets):
    meta_path, data_path = recording
    assert meta_path.name == "eval.sigmf-meta" and data_path.name == "eval.sigmf-data"
    meta = json.loads(meta_path.read_text())
    assert meta["global"]["core:datatype"] == "cf32_le"
    assert meta["global"]["core:sample_rate"] == 20e6
    assert meta["captures"][0]["core:frequency"] == CENTER_HZ == 5.22e9
    ann = meta["annotations"]
    assert len(ann) == len(packets)
    assert [a["core:label"] for a in ann] == [ep.CLASS_NAMES[c] for c in packets.label]
    assert all(a["core:sample_count"] == packets.samples.shape[1] for a in ann)
    # The sigmf package reads the same samples back (an independent reader).
    import sigmf

    handle = sigmf.fromfile(str(meta_path))
    x = handle.read_samples()
    starts = np.array([a["core:sample_start"] for a in ann])
    np.testing.assert_allclose(x[starts[:, None] + np.arange(packets.samples.shape[1])],
                               packets.samples.astype(np.complex64), rtol=0, atol=1e-9)


def test_writer_is_deterministic(packets, tmp_path):
    a = write_sigmf(tmp_path / "a", packets, seed=1, validate=False)
    b = write_sigmf(tmp_path / "b", packets, seed=1, validate=False)
    assert a[0].read_bytes() == b[0].read_bytes() and a[1].read_bytes() == b[1].read_bytes()


def test_round_trip_detects_every_packet_and_decodes_its_symbols(recording, packets):
    rec = read_sigmf(recording[0])
    assert rec.sample_rate_hz == 20e6 and rec.center_hz == 5.22e9 and rec.n_symbols == 20
    assert len(rec) == len(packets)
    annotated = rec.annotations[:, 0]
    # The FFT window is placed at or a few samples before the true start (inside the GI).
    offset = rec.detection.start - annotated
    assert np.all((offset <= 0) & (offset >= -4)), offset
    np.testing.assert_array_equal(rec.label, packets.label)
    assert rec.label_name == tuple(ep.CLASS_NAMES[c] for c in packets.label)
    np.testing.assert_array_equal(rec.reception.data_symbols, packets.symbols)
    assert np.all(rec.reception.order == 16)
    assert np.max(np.abs(rec.detection.cfo_hz - packets.cfo_hz)) < 5e3
    assert 10 * np.log10(np.mean(rec.snr)) == pytest.approx(30.0, abs=0.5)


@pytest.mark.parametrize("block", [3001, 4640])
def test_reading_in_blocks_finds_the_same_packets(recording, block):
    whole = read_sigmf(recording[0])
    parts = read_sigmf(recording[0], block=block)   # packet starts fall on block edges
    np.testing.assert_array_equal(parts.detection.start, whole.detection.start)
    # Equal up to the rounding of running sums started at another sample.
    np.testing.assert_allclose(parts.detection.cfo_hz, whole.detection.cfo_hz, rtol=1e-9)
    np.testing.assert_allclose(parts.reception.evs, whole.reception.evs, atol=1e-9)
    np.testing.assert_array_equal(parts.label, whole.label)


def test_round_trip_without_noise_recovers_the_offset_and_the_channel_as_evs(tmp_path):
    """No noise: the EVS is the channel the CSI sees with its phase taken from the pilots'
    common phase instead of the LTF's offset (wiloc_core.phy.evs), to float32 rounding."""
    p = ep.simulate_eval_packets(1, snr_db=np.inf, drift_rad=0.0, seed=8)
    meta, _ = write_sigmf(tmp_path / "clean", p, validate=False)
    rec = read_sigmf(tmp_path / "clean")          # the base name works too
    assert len(rec) == 26
    np.testing.assert_array_equal(rec.reception.data_symbols, p.symbols)
    assert np.max(np.abs(rec.detection.cfo_hz - p.cfo_hz)) < 1.0
    csi = rec.reception.csi
    expected = csi * np.exp(-1j * np.angle(csi[:, phy.PILOT_POS].sum(axis=1, keepdims=True)))
    np.testing.assert_allclose(rec.reception.evs, expected, atol=1e-5)   # float32 samples


def test_reader_finds_nothing_in_noise(tmp_path, packets):
    meta, data = write_sigmf(tmp_path / "noise", packets, validate=False)
    noise = np.random.default_rng(0).standard_normal((200_000, 2)).astype("<f4")
    data.write_bytes(noise.tobytes())
    m = json.loads(meta.read_text())
    m["annotations"] = []
    del m["global"]["core:sha512"]
    meta.write_text(json.dumps(m))
    assert len(read_sigmf(meta)) == 0


def _copy(recording, tmp_path):
    meta, data = recording
    shutil.copy(meta, tmp_path / meta.name)
    shutil.copy(data, tmp_path / data.name)
    return sigmf_paths(tmp_path / meta.name)


def _edit_meta(change):
    def apply(meta_path, data_path):
        m = json.loads(meta_path.read_text())
        change(m)
        meta_path.write_text(json.dumps(m))
    return apply


def _set(section, key, value):
    def change(m):
        target = m["global"] if section == "global" else m[section][0]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return _edit_meta(change)


def _bad_json(meta_path, data_path):
    meta_path.write_text(meta_path.read_text()[:-40])


def _odd_length(meta_path, data_path):
    data_path.write_bytes(data_path.read_bytes() + b"\0\0\0")


def _truncated(meta_path, data_path):
    data_path.write_bytes(data_path.read_bytes()[:-8 * 3000])


def _changed(meta_path, data_path):
    raw = bytearray(data_path.read_bytes())
    raw[1000] ^= 0xFF
    data_path.write_bytes(bytes(raw))


def _no_data(meta_path, data_path):
    data_path.unlink()


CORRUPTIONS = {
    "bad json": (_bad_json, "meta", "file"),
    "no datatype": (_set("global", "core:datatype", None), "meta", "global.core:datatype"),
    "real datatype": (_set("global", "core:datatype", "rf32_le"), "meta", "global.core:datatype"),
    "no sample rate": (_set("global", "core:sample_rate", None), "meta",
                       "global.core:sample_rate"),
    "text sample rate": (_set("global", "core:sample_rate", "20e6"), "meta",
                         "global.core:sample_rate"),
    "40 MS/s": (_set("global", "core:sample_rate", 40e6), "meta", "global.core:sample_rate"),
    "no version": (_set("global", "core:version", None), "meta", "global.core:version"),
    "two channels": (_set("global", "core:num_channels", 2), "meta", "global.core:num_channels"),
    "no centre frequency": (_set("captures", "core:frequency", None), "meta",
                            "captures[0].core:frequency"),
    "no global": (_edit_meta(lambda m: m.pop("global")), "meta", "global"),
    "odd data length": (_odd_length, "data", "length"),
    "fewer samples than annotated": (_truncated, "data", "annotations["),
    "data changed": (_changed, "data", "core:sha512"),
    "no data file": (_no_data, "meta", "dataset"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_damaged_recordings_raise_one_clear_error(name, recording, tmp_path):
    damage, which, field = CORRUPTIONS[name]
    meta_path, data_path = _copy(recording, tmp_path)
    damage(meta_path, data_path)
    with pytest.raises(DataFormatError) as info:
        read_sigmf(meta_path)
    err = info.value
    expected_file = meta_path if which == "meta" else data_path
    assert err.source == str(expected_file), (name, err)
    assert err.field.startswith(field), (name, err)
    assert expected_file.name in str(err) and "expected" in str(err)


def test_missing_recording_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.sigmf-meta"):
        read_sigmf(tmp_path / "nothing.sigmf-data")


def test_fixed_point_recording_reads_like_float(recording, packets, tmp_path):
    meta_path, data_path = _copy(recording, tmp_path)
    x = np.frombuffer(data_path.read_bytes(), dtype="<c8")
    scale = 0.5 / np.max(np.abs(np.concatenate([x.real, x.imag])))
    iq = np.round(np.stack([x.real, x.imag], -1) * scale * 2**15).astype("<i2")
    data_path.write_bytes(iq.tobytes())
    m = json.loads(meta_path.read_text())
    m["global"]["core:datatype"] = "ci16_le"
    del m["global"]["core:sha512"]
    meta_path.write_text(json.dumps(m))
    rec = read_sigmf(meta_path)
    assert len(rec) == len(packets)
    np.testing.assert_array_equal(rec.reception.data_symbols, packets.symbols)


def test_sync_steps_are_exported_by_the_phy_layer():
    assert phy.detect_packets is not None and phy.preamble_snr is not None

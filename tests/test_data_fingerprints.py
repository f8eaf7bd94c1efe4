"""Fingerprint readers on the real files and on hand-made bad files."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.data import (
    NOT_DETECTED,
    FingerprintSet,
    load_fingerprint_file,
    load_fingerprints,
    powed,
    read_mat_fingerprints,
    read_uts_csv,
    to_positive,
)
from wiloc_core.data import resolve as resolve_module
from wiloc_core.errors import ChecksumError, DataFormatError, DatasetNotFoundError

REAL_SHAPES = {  # from the shared data README
    "UJI1": ((19861, 520), (1111, 520)),
    "TUT3": ((697, 992), (3951, 992)),
    "TUT5": ((446, 489), (982, 489)),
    "LIB1": ((576, 174), (3120, 174)),
    "UTS": ((0, 589), (388, 589)),
}


# ---------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REAL_SHAPES))
def test_real_datasets_load_with_documented_shapes(real_data, name):
    dataset = load_fingerprints(name, source="real")
    train_shape, test_shape = REAL_SHAPES[name]
    assert dataset.train.rss.shape == train_shape and dataset.test.rss.shape == test_shape
    assert (dataset.source_kind, dataset.note, dataset.name) == ("real", "", name)
    for split in (dataset.train, dataset.test):
        assert split.rss.dtype == np.float32 and split.xy.dtype == np.float64
        assert split.floor.dtype == np.int64 and split.building.dtype == np.int64
        assert split.xy.shape == (split.n_samples, 2)
        detected = split.rss[split.detected]
        assert np.all((detected >= -110) & (detected <= 0))
        assert not split.rss.flags.writeable


def test_uji1_values_match_the_readme(real_data):
    uji = load_fingerprints("UJI1", source="real")
    x, y = uji.train.xy[:, 0], uji.train.xy[:, 1]
    assert -7692 < x.min() < x.max() < -7300 and 4864745 < y.min() < y.max() < 4865018
    assert sorted(np.unique(uji.train.building)) == [0, 1, 2]
    assert sorted(np.unique(uji.train.floor)) == [0, 1, 2, 3, 4]
    assert 0.02 < uji.train.detected_fraction_per_sample.mean() < 0.05


def test_tut5_uses_training_labels_not_the_misspelled_field(real_data):
    import scipy.io

    path = real_data / "fingerprints" / "TUT5.mat"
    record = scipy.io.loadmat(path)["database"][0, 0]
    assert not np.array_equal(record["traininingLabels"], record["trainingLabels"])
    tut5 = read_mat_fingerprints(path)
    np.testing.assert_array_equal(tut5.train.xy, record["trainingLabels"][:, :2])
    np.testing.assert_array_equal(tut5.train.floor, record["trainingLabels"][:, 3])


def test_tut3_ignores_its_dummy_validation_labels(real_data):
    tut3 = read_mat_fingerprints(real_data / "fingerprints" / "TUT3.mat")
    assert tut3.train.n_samples == 697 and tut3.test.n_samples == 3951


def test_uts_is_a_test_only_dataset_with_named_building(real_data):
    uts = load_fingerprint_file(real_data / "fingerprints" / "UTS_test.csv")
    assert uts.name == "UTS" and uts.train.n_samples == 0 and uts.train.n_aps == 589
    assert uts.test.building_names == ("New IT",) and set(uts.test.building) == {0}
    assert np.isnan(uts.test.height).all()


def test_a_corrupted_real_file_is_refused_even_in_auto_mode(tmp_path, monkeypatch):
    (tmp_path / "LIB1.mat").write_bytes(b"MATLAB 5.0 MAT-file, but not the right one")
    monkeypatch.setenv("WILOC_DATA", str(tmp_path))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "cache"))
    resolve_module.clear_hash_cache()
    with pytest.raises(ChecksumError, match="LIB1.mat"):
        load_fingerprints("LIB1", source="auto")


def test_missing_real_data_message_tells_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WILOC_DATA", str(tmp_path))
    monkeypatch.setenv("WILOC_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_fingerprints("UTS", source="real")
    assert "WILOC_DATA" in str(info.value) and "wiloc data fetch UTS" in str(info.value)
    fallback = load_fingerprints("UTS", source="auto")
    assert fallback.source_kind == "simulated" and "WILOC_DATA" in fallback.note


# ---------------------------------------------------------------------------------------
# Preprocessing
# ---------------------------------------------------------------------------------------


def test_to_positive_and_powed():
    rss = np.array([[-110.0, -60.0, NOT_DETECTED, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(to_positive(rss), [[0.0, 50.0, 0.0, 110.0]])
    np.testing.assert_array_equal(to_positive(rss, floor_dbm=-100), [[0.0, 40.0, 0.0, 100.0]])
    p = powed(rss)
    assert p.dtype == np.float32 and p[0, 2] == 0 and p[0, 3] == pytest.approx(1.0)
    assert p[0, 1] == pytest.approx((50 / 110) ** np.e, rel=1e-6)


def test_fingerprint_set_checks_row_counts():
    with pytest.raises(ValueError, match="floor"):
        FingerprintSet(rss=np.zeros((3, 2)), xy=np.zeros((3, 2)), height=np.zeros(3), floor=np.zeros(2),
                       building=np.zeros(3), name="x", split="train", source_kind="real", source="here")


# ---------------------------------------------------------------------------------------
# Hand-made bad .mat files
# ---------------------------------------------------------------------------------------


def _labels(n):
    rows = np.arange(n, dtype=np.float64)
    return np.column_stack([rows, rows * 2, rows * 0 + 3.7, rows % 2, rows * 0])


def _good_struct():
    train = np.full((4, 3), 100, dtype=np.int16)
    train[:, 0] = [-50, -60, -70, -80]
    test = np.full((2, 3), 100.0)
    test[:, 1] = [-40.0, -99.0]
    return {"trainingMacs": train, "testLabels": _labels(2), "testMacs": test, "trainingLabels": _labels(4)}


def _write_mat(path, **changes):
    import scipy.io

    struct = _good_struct()
    for key, value in changes.items():
        if value is None:
            struct.pop(key)
        else:
            struct[key] = value
    scipy.io.savemat(path, {"database": struct})
    return path


def test_good_hand_made_mat_with_quirky_fields(tmp_path):
    path = _write_mat(tmp_path / "ok.mat", validationLabels=np.zeros((1, 5)), traininingLabels=_labels(4) + 9)
    dataset = read_mat_fingerprints(path)
    assert dataset.name == "ok" and dataset.train.rss.shape == (4, 3) and dataset.test.rss.shape == (2, 3)
    np.testing.assert_array_equal(dataset.train.xy, _labels(4)[:, :2])
    assert dataset.train.detected.sum() == 4 and dataset.test.detected.sum() == 2


@pytest.mark.parametrize("changes, field, expected", [
    ({"testLabels": None}, "database.testLabels", "a struct field 'testLabels'"),
    ({"trainingMacs": None}, "database.trainingMacs", "a struct field 'trainingMacs'"),
    ({"trainingLabels": _labels(4)[:, :4]}, "database.trainingLabels", "5 columns"),
    ({"trainingLabels": _labels(3)}, "database.trainingLabels", "4 rows (as many as trainingMacs)"),
    ({"testMacs": np.array([[np.nan, -50.0, 100.0], [-60.0, 100.0, 100.0]])}, "database.testMacs", "without NaN"),
    ({"testMacs": np.array([[-120.0, -50.0, 100.0], [-60.0, 100.0, 100.0]])}, "database.testMacs", "[-110, 0]"),
    ({"trainingMacs": np.full((4, 3), 5, np.int16)}, "database.trainingMacs", "[-110, 0]"),
    ({"testMacs": np.full((2, 4), 100.0)}, "database.testMacs", "3 AP columns"),
    ({"testLabels": np.array([[0, 0, 0, 1.5, 0], [0, 0, 0, 1, 0]])}, "database.testLabels", "integer floor"),
])
def test_bad_mat_fields_raise_one_error_naming_file_and_field(tmp_path, changes, field, expected):
    path = _write_mat(tmp_path / "bad.mat", **changes)
    with pytest.raises(DataFormatError) as info:
        read_mat_fingerprints(path)
    assert info.value.field == field
    assert expected in info.value.expected
    assert str(path) in str(info.value) and field in str(info.value)


def test_ids_within_1e_6_of_an_integer_are_that_integer(tmp_path):
    # TUT1.mat stores a floor as 3.0000000000000004; both id columns get the rule
    labels = _labels(4)
    labels[1, 3] = 3 + 4e-16
    labels[2, 3] = 2 - 5e-7
    labels[3, 4] = 1 + 1e-9
    assert labels[1, 3] != 3  # the noise survives in the file
    path = _write_mat(tmp_path / "TUT1-like.mat", trainingLabels=labels)
    dataset = read_mat_fingerprints(path)
    np.testing.assert_array_equal(dataset.train.floor, [0, 3, 2, 1])
    np.testing.assert_array_equal(dataset.train.building, [0, 0, 0, 1])
    assert dataset.train.floor.dtype == np.int64


@pytest.mark.parametrize("column, value", [(3, 2.5), (3, 3 + 2e-6), (4, 0.999)])
def test_ids_farther_from_an_integer_are_refused_with_row_and_value(tmp_path, column, value):
    labels = _labels(4)
    labels[2, column] = value
    path = _write_mat(tmp_path / "bad-floor.mat", trainingLabels=labels)
    with pytest.raises(DataFormatError) as info:
        read_mat_fingerprints(path)
    message = str(info.value)
    name = ("floor", "building")[column - 3]
    assert info.value.field == "database.trainingLabels" and "integer floor and building ids" in info.value.expected
    assert str(path) in message and f"column '{name}'" in message and "at row 2" in message
    assert repr(value) in message


def test_uts_floor_ids_get_the_same_rule(tmp_path):
    path = _write_uts(tmp_path / "UTS_near.csv")
    path.write_text(path.read_text().replace(",3,New IT", ",3.0000000000000004,New IT"))
    np.testing.assert_array_equal(read_uts_csv(path).test.floor, [3, -2])
    path.write_text(path.read_text().replace(",-2,New IT", ",-2.5,New IT"))
    with pytest.raises(DataFormatError) as info:
        read_uts_csv(path)
    assert info.value.field == "Floor_ID" and "-2.5" in str(info.value) and "row 1" in str(info.value)


def test_mat_without_database_variable(tmp_path):
    import scipy.io

    path = tmp_path / "nodb.mat"
    scipy.io.savemat(path, {"db": _good_struct()})
    with pytest.raises(DataFormatError) as info:
        read_mat_fingerprints(path)
    assert info.value.field == "database" and "'db'" in str(info.value)


def test_database_that_is_not_a_struct(tmp_path):
    import scipy.io

    path = tmp_path / "matrix.mat"
    scipy.io.savemat(path, {"database": np.zeros((3, 3))})
    with pytest.raises(DataFormatError, match="1x1 struct"):
        read_mat_fingerprints(path)


@pytest.mark.parametrize("content", [b"", b"this is plain text, not MATLAB data" * 8, "truncated"])
def test_files_that_are_not_mat_or_truncated(tmp_path, content):
    path = tmp_path / "broken.mat"
    if content == "truncated":
        good = _write_mat(tmp_path / "good.mat").read_bytes()
        content = good[: len(good) // 2]
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as info:
        read_mat_fingerprints(path)
    assert info.value.field == "(file)" and str(path) in str(info.value)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(DatasetNotFoundError):
        load_fingerprint_file(tmp_path / "nope.mat")
    other = tmp_path / "data.h5"
    other.write_bytes(b"x")
    with pytest.raises(DataFormatError, match=".mat or .csv"):
        load_fingerprint_file(other)


# ---------------------------------------------------------------------------------------
# Hand-made UTS CSV files
# ---------------------------------------------------------------------------------------


def _write_uts(path, drop=(), wap_values=None):
    header = ["WAP001", "WAP002", "WAP003", "Pos_x", "Pos_y", "Floor_ID", "Building_ID", "User_ID",
              "Phone_type", "Time"]
    rows = [["-50", "100", "-90", "1.5", "2.5", "3", "New IT", "root", "unknow", "8/03/2019 6:47"],
            ["100", "-70", "100", "4.0", "5.0", "-2", "New IT", "root", "unknow", "8/03/2019 6:48"]]
    if wap_values is not None:
        rows[1][:3] = wap_values
    keep = [i for i, h in enumerate(header) if h not in drop]
    lines = [",".join(header[i] for i in keep)] + [",".join(r[i] for i in keep) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_hand_made_uts_csv(tmp_path):
    dataset = read_uts_csv(_write_uts(tmp_path / "UTS_small.csv"))
    assert dataset.test.rss.shape == (2, 3) and dataset.train.rss.shape == (0, 3)
    np.testing.assert_array_equal(dataset.test.floor, [3, -2])
    np.testing.assert_array_equal(dataset.test.xy, [[1.5, 2.5], [4.0, 5.0]])


@pytest.mark.parametrize("column", ["Pos_x", "Pos_y", "Floor_ID", "Building_ID"])
def test_uts_missing_position_column_is_named(tmp_path, column):
    path = _write_uts(tmp_path / "UTS_bad.csv", drop=(column,))
    with pytest.raises(DataFormatError) as info:
        read_uts_csv(path)
    assert info.value.field == column and str(path) in str(info.value)


@pytest.mark.parametrize("values, field", [(["-50", "abc", "100"], "WAP002"), (["-50", "100", "12"], "WAP003")])
def test_uts_bad_rss_names_the_column(tmp_path, values, field):
    path = _write_uts(tmp_path / "UTS_bad.csv", wap_values=values)
    with pytest.raises(DataFormatError) as info:
        read_uts_csv(path)
    assert info.value.field == field


def test_uts_without_wap_columns(tmp_path):
    path = tmp_path / "UTS_none.csv"
    path.write_text("Pos_x,Pos_y,Floor_ID,Building_ID\n1,2,3,4\n")
    with pytest.raises(DataFormatError, match="WAP001"):
        read_uts_csv(path)

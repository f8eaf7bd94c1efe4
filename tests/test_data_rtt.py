"""RTT/RSS reader: real files (row counts, units, corridor columns, LOS) and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from wiloc_core.data import GRID_M, load_rtt, read_ap_positions, read_rtt_csv
from wiloc_core.errors import DataFormatError

README_ROWS = {  # rows after the header, from the shared data README
    ("lecture_theatre", "train"): 5280, ("lecture_theatre", "test"): 1920,
    ("corridor", "train"): 5100, ("corridor", "test"): 1740,
    ("office", "train"): 4860, ("office", "test"): 1620,
}


@pytest.mark.parametrize("room, split", list(README_ROWS))
def test_real_rtt_files_have_the_documented_rows(real_data, room, split):
    data = load_rtt(room, split)
    n_aps = 4 if room == "corridor" else 5
    assert data.n_samples == README_ROWS[(room, split)]
    assert data.rtt_m.shape == data.rss_dbm.shape == data.los.shape == (data.n_samples, n_aps)
    assert data.ap_xy.shape == (n_aps, 2) and data.xy.shape == (data.n_samples, 2)
    assert np.all(np.bincount(np.unique(data.xy, axis=0, return_inverse=True)[1].ravel()) == 60)
    assert np.nanmax(data.rtt_m) < 100 and np.nanmin(data.rss_dbm) > -120  # sentinels became NaN


def test_xy_are_grid_units_of_0_6_m(real_data):
    """The ranges agree with the geometry in 0.6 m units, not in 1 m units."""
    assert GRID_M == 0.6
    for room in ("lecture_theatre", "office"):
        data = load_rtt(room, "train")
        grid = data.xy / GRID_M
        np.testing.assert_allclose(grid, np.round(grid), atol=1e-9)
        error = np.nanmedian(np.abs(data.rtt_m - data.true_range_m))
        in_metres = np.linalg.norm(grid[:, None, :] - (data.ap_xy / GRID_M)[None], axis=2)
        error_if_metres = np.nanmedian(np.abs(data.rtt_m - in_metres))
        assert error < 1.0 < 3.0 < error_if_metres


def test_corridor_aps_are_columns_2_to_5_and_all_nlos(real_data):
    data = load_rtt("corridor", "train")
    assert data.ap_columns == (2, 3, 4, 5)
    assert not data.los.any()
    assert np.nanmedian(np.abs(data.rtt_m - data.true_range_m)) < 2.5
    assert np.all(np.isfinite(data.rtt_m).mean(axis=0) > 0.9)


def test_line_of_sight_per_room(real_data):
    assert load_rtt("lecture_theatre", "test").los.all()
    office = load_rtt("office", "train").los
    assert office.any() and not office.all()


def test_real_ap_positions(real_data):
    rooms = read_ap_positions(real_data / "rtt" / "AP_positions.txt")
    assert set(rooms) == {"lecture_theatre", "office", "corridor"}
    np.testing.assert_array_equal(rooms["corridor"], [[2, 7.5], [17, 6.8], [38, 9], [48, 5]])


# ---------------------------------------------------------------------------------------
# Hand-made files
# ---------------------------------------------------------------------------------------

HEADER = ("X,Y,AP1 RTT(mm),AP2 RTT(mm),AP3 RTT(mm),AP1 RSS(dBm),AP2 RSS(dBm),AP3 RSS(dBm),LOS APs")


def _write_rtt(path, rows, header=HEADER):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


GOOD_ROWS = ["0.0,1.0,100000.0,3000.0,5000.0,-200.0,-60.0,-70.0,2 3",
             "2.0,1.0,100000.0,2500.0,100000.0,-200.0,-58.0,-200.0,"]


def test_hand_made_file_drops_the_empty_column_and_converts_units(tmp_path):
    path = _write_rtt(tmp_path / "database_hall_train.csv", GOOD_ROWS)
    data = read_rtt_csv(path, ap_positions=np.array([[0.0, 0.0], [10.0, 0.0]]))
    assert (data.room, data.split, data.ap_columns) == ("hall", "train", (2, 3))
    np.testing.assert_allclose(data.xy, [[0.0, 0.6], [1.2, 0.6]])
    np.testing.assert_allclose(data.ap_xy, [[0.0, 0.0], [6.0, 0.0]])
    np.testing.assert_allclose(data.rtt_m, [[3.0, 5.0], [2.5, np.nan]])
    np.testing.assert_allclose(data.rss_dbm, [[-60.0, -70.0], [-58.0, np.nan]])
    np.testing.assert_array_equal(data.los, [[True, True], [False, False]])


def test_without_positions_every_column_is_kept(tmp_path):
    data = read_rtt_csv(_write_rtt(tmp_path / "database_hall_test.csv", GOOD_ROWS))
    assert data.ap_columns == (1, 2, 3) and np.isnan(data.ap_xy).all()


@pytest.mark.parametrize("drop", ["AP2 RSS(dBm)", "LOS APs", "Y"])
def test_missing_column_is_named(tmp_path, drop):
    names = HEADER.split(",")
    keep = [i for i, n in enumerate(names) if n != drop]
    rows = [",".join(r.split(",")[i] for i in keep) for r in GOOD_ROWS]
    path = _write_rtt(tmp_path / "database_hall_train.csv", rows, ",".join(names[i] for i in keep))
    with pytest.raises(DataFormatError) as info:
        read_rtt_csv(path)
    assert info.value.field == drop and str(path) in str(info.value)


@pytest.mark.parametrize("row, field", [
    ("0.0,1.0,100000.0,abc,5000.0,-200.0,-60.0,-70.0,2", "AP2 RTT(mm)"),
    ("0.0,1.0,100000.0,3000.0,5000.0,-200.0,-60.0,12.0,2", "AP3 RSS(dBm)"),
    ("0.0,1.0,100000.0,3000.0,5000.0,-200.0,-60.0,-70.0,2 7", "LOS APs"),
    ("x,1.0,100000.0,3000.0,5000.0,-200.0,-60.0,-70.0,2", "X"),
])
def test_bad_values_name_the_column(tmp_path, row, field):
    path = _write_rtt(tmp_path / "database_hall_train.csv", [GOOD_ROWS[1], row])
    with pytest.raises(DataFormatError) as info:
        read_rtt_csv(path)
    assert info.value.field == field


def test_columns_must_match_the_ap_positions(tmp_path):
    path = _write_rtt(tmp_path / "database_hall_train.csv", GOOD_ROWS)
    with pytest.raises(DataFormatError, match="1 AP columns with data"):
        read_rtt_csv(path, ap_positions=np.zeros((1, 2)))


def test_ap_positions_file_errors(tmp_path):
    path = tmp_path / "AP_positions.txt"
    path.write_text("hall\nAP X: 1,2\n")
    with pytest.raises(DataFormatError) as info:
        read_ap_positions(path)
    assert info.value.field == "hall: AP Y"
    path.write_text("hall\nAP X: 1,2\nAP Y: 1\n")
    with pytest.raises(DataFormatError, match="2 values"):
        read_ap_positions(path)
    path.write_text("hall\nAP X: 1,two\nAP Y: 1,2\n")
    with pytest.raises(DataFormatError, match="comma-separated numbers"):
        read_ap_positions(path)

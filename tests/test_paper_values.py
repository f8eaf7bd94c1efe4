"""The paper-values registry: loads, validates, and holds the numbers the papers print."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wiloc_core import paper_values as pv
from wiloc_core.errors import DataFormatError


def test_loads_and_keys_unique():
    reg = pv.load_registry()
    assert list(reg.columns) == list(pv.REQUIRED_COLUMNS)
    assert not reg.duplicated(list(pv.KEY_COLUMNS)).any()
    assert set(reg["paper"]) == set(pv.PAPERS)
    assert reg["value"].dtype == "float64"
    assert (reg["tolerance"] >= 0).all()
    assert set(reg["better"]) <= {"lower", "higher", ""}
    assert (reg["note"].str.len() > 0).all()


def test_load_returns_copy():
    a = pv.load_registry()
    a.loc[0, "value"] = -1.0
    assert pv.load_registry().loc[0, "value"] != -1.0


@pytest.mark.parametrize(
    "key, expected",
    [
        # 000, Table I (Sec. IV-A): Lab at 75% training = 8.46 cm; Narrow Corridor at 10% = 37.5 cm
        (("000", "Table I", "Lab", "75%"), 8.46),
        (("000", "Table I", "Narrow Corridor", "10%"), 37.5),
        # 000, Table II: Lobby at 10%, proposed 19.46 cm, gain 42.88%
        (("000", "Table II", "Lobby", "Proposed 10%"), 19.46),
        (("000", "Table II", "Lobby", "Accuracy Gain 10%"), 42.88),
        (("000", "Table II", "Sports Hall", "Conventional 2.5%"), 44.60),
        # 000, Sec. II: 196 positions, 601 frequency points
        (("000", "Text §II", "dataset", "grid positions"), 196),
        (("000", "Text §II", "dataset", "frequency points"), 601),
        # 001, Table 1: bAaT on Tampere MAE 7.99 m; BayesCNN** UJIIndoorLoc MAE 129.95 m (text Sec. 4.2 too)
        (("001", "Table 1", "bAaT", "Tampere MAE"), 7.99),
        (("001", "Table 1", "BayesCNN**", "UJIIndoorLoc MAE"), 129.95),
        (("001", "Table 1", "DNN*", "UTS MAE"), 61.29),
        (("001", "Table 1", "CNNLoc+++", "UTS P95"), 16.79),
        (("001", "Table 1", "DNN+++", "UJIIndoorLoc MAE change %"), 14.67),
        (("001", "Table 1", "DNN*", "UTS MAE change %"), -697.01),
        # 001, Table 3: DNN with the Tampere source only on UJIIndoorLoc: 11.73 m
        (("001", "Table 3", "DNN [Tampere]", "UJIIndoorLoc MAE"), 11.73),
        (("001", "Table 3", "bAaT [UTS]", "UJIIndoorLoc MAE"), 20.39),
        # 001, Table 4: Tampere 10%, DNN 25.04 ± 14.99
        (("001", "Table 4", "DNN", "Tampere 10% MAE"), 25.04),
        (("001", "Table 4", "DNN", "Tampere 10% MAE std"), 14.99),
        (("001", "Text §4.1", "UJIIndoorLoc", "active anchors"), 232),
        # 002, Table II: ResNet error mean 0.5830 m, CSI-BERT 6-class accuracy 60.07%
        (("002", "Table II", "ResNet18", "Error Mean"), 0.5830),
        (("002", "Table II", "CSI-BERT", "Accuracy 6 classes"), 60.07),
        (("002", "Text §IV-A", "camera view 1", "mean label error"), 17.44),
        # 003, Sec. IV: 5.22 GHz, 25 spots
        (("003", "Text §IV", "setup", "carrier frequency"), 5.22),
        (("003", "Text §IV", "setup", "location spots"), 25),
        # 004, Sec. 4.2: 0.127 m, 0.058 m, Table 1 WTN 0.60 m
        (("004", "Fig. 7", "WTN", "positioning RMSE (converged)"), 0.127),
        (("004", "Fig. 7", "WTN", "ranging RMSE (converged)"), 0.058),
        (("004", "Table 1", "WTN", "error"), 0.60),
        (("004", "Text §4.1", "setup", "positions"), 1170),
    ],
)
def test_spot_values(key, expected):
    assert pv.paper_value(*key) == expected


def test_table_i_complete():
    t = pv.entries("000", "Table I")
    assert len(t) == 16
    assert set(t["unit"]) == {"cm"}


def test_table_ii_gains_consistent_with_rmse():
    from wiloc_core.metrics import accuracy_gain

    t = pv.entries("000", "Table II")
    for env in t["row"].unique():
        for frac in ("15%", "10%", "5%", "2.5%"):
            c = pv.paper_value("000", "Table II", env, f"Conventional {frac}")
            p = pv.paper_value("000", "Table II", env, f"Proposed {frac}")
            g = pv.paper_value("000", "Table II", env, f"Accuracy Gain {frac}")
            assert accuracy_gain(c, p) == pytest.approx(g, abs=0.01)


def test_counts_per_paper():
    reg = pv.load_registry()
    counts = reg.groupby("paper").size()
    assert counts["000"] >= 16 + 48
    assert counts["001"] >= 16 * 3 * 3  # Table 1 MAE, P75, P95
    assert len(pv.entries("001", "Table 4")) == 8 * 4 * 2


def test_paper_entry_and_int_paper():
    e = pv.paper_entry("000", "Table I", "Lab", "75%")
    assert e["value"] == 8.46 and e["unit"] == "cm" and e["better"] == "lower"
    assert e["tolerance"] == pytest.approx(0.10)
    assert "Table I" in e["note"]
    assert pv.paper_value(0, "Table I", "Lab", "75%") == 8.46


def test_missing_key_lists_close_matches():
    with pytest.raises(KeyError) as info:
        pv.paper_value("000", "Table I", "Lab", "75 %")
    msg = str(info.value)
    assert "close matches" in msg and "75%" in msg


def test_entries_filters():
    assert set(pv.entries(paper="004")["paper"]) == {"004"}
    assert len(pv.entries(paper="004", item="no such item")) == 0
    assert len(pv.entries()) == len(pv.load_registry())


GOOD_HEADER = "paper,item,row,column,value,unit,better,tolerance,note\n"


@pytest.mark.parametrize(
    "body, field",
    [
        ("paper,item,row,column,value,unit,better,note\n000,T,r,c,1,m,lower,n\n", "tolerance"),
        (GOOD_HEADER + "000,T,r,c,abc,m,lower,0.1,n\n", "value"),
        (GOOD_HEADER + "005,T,r,c,1,m,lower,0.1,n\n", "paper"),
        (GOOD_HEADER + "0,T,r,c,1,m,lower,0.1,n\n", "paper"),
        (GOOD_HEADER + "000,T,r,c,1,m,lower,0.1,n\n000,T,r,c,2,m,lower,0.1,n\n",
         "(paper, item, row, column)"),
        (GOOD_HEADER + "000,T,r,c,1,m,smaller,0.1,n\n", "better"),
        (GOOD_HEADER + "000,T,r,c,1,m,lower,-0.1,n\n", "tolerance"),
        (GOOD_HEADER + "000,T,,c,1,m,lower,0.1,n\n", "row"),
        ("", "<file>"),
    ],
)
def test_bad_registry_raises(tmp_path, body, field):
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        pv.read_registry(path)
    assert info.value.field == field
    assert str(path) in str(info.value)


def test_good_minimal_registry(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(GOOD_HEADER + '001,Table 1,DNN,UTS MAE,7.69,m,lower,0.1,"a, quoted note"\n',
                    encoding="utf-8")
    reg = pv.read_registry(path)
    assert reg.loc[0, "paper"] == "001"
    assert reg.loc[0, "value"] == 7.69
    assert reg.loc[0, "note"] == "a, quoted note"


def test_import_is_cheap():
    code = "import sys, wiloc_core.paper_values, wiloc_core.metrics; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""The data manifest: contents agree with the shared data README, validation is strict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wiloc_core.data import get_entry, load_manifest
from wiloc_core.errors import DataFormatError, DatasetNotFoundError
from wiloc_core.paths import data_manifest_path

# Copied by hand from the sha256 column of the shared data README (an independent source).
README_SHA256 = {
    "UJI1": "ff4f626dc71187097eefb44c8926c62ecf2789678cf90e3c71b9120962b5d822",
    "TUT3": "d6d4c29e5f7f508c0dc35ddbb8d64baeffaf5b562ce9c6f2af03604276bf8bbb",
    "TUT5": "051d96cb4de21a15bfbfe3ae5d8a94511425f296f96d5b7f1bbe9f0f5630c0ec",
    "LIB1": "05a6966cf6dfdbeb91f41bb451ec579f60c5604c49406c58e01778f06689349c",
    "UTS": "8c38273a5013fbe63984a235b92f72142aa52f19008fc213f4428a03661d8916",
    "rtt_lecture_theatre_train": "872d3fdae5d28ac4ddfbcee5588184939eaba57cd66f3e60b5d14df8d12d80f4",
    "rtt_lecture_theatre_test": "b20f63a2ded58657da5f01fd752a37001ba011498299d226115acb38a1d09d71",
    "rtt_corridor_train": "230f45cbef8858978a50655aa67d015a0b53c0991d04929e0428101bd2a4f195",
    "rtt_corridor_test": "820e2324a18e3c696115567d8bb6c6d076af5ab03e76f4b168bec6f95d90110a",
    "rtt_office_train": "d18a4ce754da0d56493ccb20dc479f7f71e9d801ac3dc548455cbb462e3498d5",
    "rtt_office_test": "39a44ca41f0f07cc6c5510bd9bbb45b92bdd575441dc9a8ea54337b5c97d0957",
    "rtt_ap_positions": "80145de8d6f0d4734206c41e99cee4a9c33c75b4cea95217de2de1fb0da518ea",
}


def test_manifest_lists_every_file_with_the_readme_hashes():
    entries = load_manifest()
    assert {name: e.sha256 for name, e in entries.items()} == README_SHA256


def test_manifest_entries_have_provenance_and_shapes():
    entries = load_manifest()
    for entry in entries.values():
        assert entry.citation and entry.licence and entry.description
        assert entry.source_url.startswith("https://")
        assert entry.download_url.startswith("https://")
        assert entry.direct_download or entry.download_note, entry.name
    fingerprints = [e for e in entries.values() if e.kind == "fingerprint"]
    assert len(fingerprints) == 5
    for entry in fingerprints:
        assert set(entry.shapes) == {"train", "test"}
        assert entry.shapes["train"][1] == entry.shapes["test"][1]
    assert entries["UJI1"].shapes == {"train": (19861, 520), "test": (1111, 520)}
    assert entries["rtt_office_test"].shapes["rows"] == (1620, 13)


def test_get_entry_accepts_names_and_file_names_in_any_case():
    assert get_entry("uji1").name == "UJI1"
    assert get_entry("UTS_test.csv").name == "UTS"
    assert get_entry("AP_positions.txt").path == "rtt/AP_positions.txt"
    with pytest.raises(DatasetNotFoundError, match="UJI1"):
        get_entry("UJI2")


def test_manifest_size_hints_match_the_real_files(real_data):
    for entry in load_manifest().values():
        assert (real_data / entry.path).stat().st_size == entry.size_bytes, entry.name


def _write_manifest(tmp_path, mutate) -> Path:
    raw = json.loads(data_manifest_path().read_text())
    mutate(raw["datasets"])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d[0].pop("sha256"), "datasets[UJI1].sha256"),
    (lambda d: d[1].update(sha256="abc"), "datasets[TUT3].sha256"),
    (lambda d: d[2].update(kind="video"), "datasets[TUT5].kind"),
    (lambda d: d[3].update(path="../outside.mat"), "datasets[LIB1].path"),
    (lambda d: d[4].update(size_bytes="big"), "datasets[UTS].size_bytes"),
    (lambda d: d[5].update(shapes={"rows": [5280, -1]}), "datasets[rtt_lecture_theatre_train].shapes.rows"),
    (lambda d: d.append(dict(d[0])), "datasets[UJI1].name"),
])
def test_bad_manifest_entries_name_the_field(tmp_path, mutate, field):
    path = _write_manifest(tmp_path, mutate)
    with pytest.raises(DataFormatError) as info:
        load_manifest(path)
    assert info.value.field == field
    assert str(path) in str(info.value)


def test_manifest_that_is_not_json_is_a_format_error(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("{not json")
    with pytest.raises(DataFormatError, match="valid JSON"):
        load_manifest(path)


def test_importing_the_data_package_stays_light():
    code = ("import sys, wiloc_core.data; "
            "print(sorted(m for m in ('scipy', 'pandas', 'pooch', 'requests') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

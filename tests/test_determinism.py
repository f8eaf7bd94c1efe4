"""Chapters give byte-identical result files for the same seed.

Chapter 00 (k-NN on fingerprints), 10 (CNN training on simulated CTFs; the second run
has an empty network cache, so it trains again) and 20 (the surrogate-teacher networks).
"""

import filecmp
import shutil

import pytest

from wiloc_core import paths, runner

STEMS = ["00-fingerprint-datasets", "10-ctf-transfer", "20-surrogate-teachers"]
#: Files allowed to differ between two runs: dates, durations and the commit live only here.
VOLATILE = {"provenance.json"}


def _run_into(build, stem, monkeypatch):
    monkeypatch.setenv("WILOC_BUILD", str(build))
    runner.run_notebook(stem, {"seed": 0}, profile="quick", progress=False)
    return build / "results" / stem


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_same_seed_gives_identical_result_files(stem, tmp_path, monkeypatch):
    reference = paths.results_dir(stem)
    summary = reference / "summary.json"
    if not (summary.exists() and '"profile": "quick"' in summary.read_text()
            and '"seed": 0' in summary.read_text()):
        reference = _run_into(tmp_path / "first", stem, monkeypatch)
    else:  # reuse the quick run `make test` just made, copied before it can change
        shutil.copytree(reference, tmp_path / "reference")
        reference = tmp_path / "reference"
    second = _run_into(tmp_path / "second", stem, monkeypatch)
    names = sorted(p.name for p in reference.iterdir() if p.name not in VOLATILE)
    assert names == sorted(p.name for p in second.iterdir() if p.name not in VOLATILE)
    match, mismatch, errors = filecmp.cmpfiles(reference, second, names, shallow=False)
    assert not mismatch and not errors, f"differ between runs: {mismatch + errors}"
    assert any(n.endswith(".csv") for n in match) and "summary.json" in match

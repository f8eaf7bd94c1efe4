"""Course labs (wiloc_core.labs): every master passes its own checks, every student copy runs
to the end, scores below full marks and holds no solution text and no hidden test.

Each lab is built from scratch into a temporary build folder (jupytext, nbclient, otter assign,
otter's grading without Docker): about 25 s per lab, hence ``slow``.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from wiloc_core import labs, paths

pytest.importorskip("otter", reason="the labs extra is not installed (pip install -e '.[labs]')")

LABS = labs.lab_sources()
#: The real build folder, read before a test's ``isolated_build`` points elsewhere: a lab that
#: ``make labs`` built from the current master and library is checked there, not rebuilt.
REAL_BUILD = paths.build_dir()
_HIDDEN_DEF = re.compile(r"^# HIDDEN\s*\ndef (\w+)", re.MULTILINE)
_SOLUTION_LINE = re.compile(r"^\s*(.*?)\s*# SOLUTION\s*$", re.MULTILINE)
_SOLUTION_BLOCK = re.compile(r"^[ \t]+# BEGIN SOLUTION\n(.*?)^[ \t]+# END SOLUTION",
                             re.DOTALL | re.MULTILINE)


def test_labs_exist_and_follow_the_layout():
    # one lab per chapter that teaches a method (the reproduction report has none), named
    # after it: notebooks/<stem>.md -> labs/<stem>-lab.md
    chapters = sorted(p.stem for p in (labs.labs_dir().parent / "notebooks").glob("[0-9]*.md")
                      if not p.stem.startswith("99-"))
    assert [p.stem for p in LABS] == [f"{c}-lab" for c in chapters]
    for master in LABS:
        text = master.read_text(encoding="utf-8")
        questions = re.findall(r"^# BEGIN QUESTION\nname: (q\d+)", text, re.MULTILINE)
        assert 3 <= len(questions) <= 5, master.name
        assert len(_HIDDEN_DEF.findall(text)) >= len(questions), "a hidden check per question"
        assert "export_cell: false" in text and "hide_solutions" not in text
        assert "run_tests: false" in text  # the executed master already ran every test
        assert text.count("{exercise}") == len(questions)
        assert text.count("{solution-start}") == len(questions)
        # every test cell is removed from the book page
        for block in re.findall(r"# BEGIN TESTS\n```\n(.*?)```\{raw-cell\}\n# END TESTS", text,
                                re.DOTALL):
            cells = block.count("```{code-cell}")
            assert cells >= 2 and block.count(":tags: [remove-cell]") == cells


def _solution_snippets(text: str) -> list[str]:
    """Solution code of a master: the right-hand sides of ``# SOLUTION`` lines and the
    lines inside ``# BEGIN SOLUTION`` / ``# END SOLUTION`` comments of code cells."""
    snippets = []
    for line in _SOLUTION_LINE.findall(text):
        rhs = line.split("=", 1)[1].strip() if "=" in line else line.strip()
        if len(rhs) > 8:
            snippets.append(rhs)
    for block in _SOLUTION_BLOCK.findall(text):
        snippets += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 8
                     and not ln.strip().startswith(("```", "#"))]
    return snippets


@pytest.fixture(scope="module")
def checked_labs(tmp_path_factory):
    """Every lab checked once, two at a time: its current build in the real build folder
    (same master and library sources, see labs.current_build), else a fresh build in a
    temporary folder. Building runs the master with every test on the solution (a failing
    check is an error); the check runs the student copy to the end and grades it and otter's
    solution copy with the autograder."""
    return labs.check_labs(LABS, reuse_from=REAL_BUILD,
                           fallback_build=tmp_path_factory.mktemp("labs-build"), jobs=2)


@pytest.mark.slow
@pytest.mark.parametrize("master", LABS, ids=[p.stem for p in LABS])
def test_lab_builds_and_student_copy_is_graded_below_full(master, checked_labs):
    checked = checked_labs[master.stem]
    assert "error" not in checked, checked.get("error")
    lab = checked["lab"]
    assert lab.executed.is_file() and lab.autograder.is_file()
    assert lab.seconds < 90, f"{lab.stem} took {lab.seconds:.0f} s to build"

    student_dir = lab.student.parent
    notebook = nbformat.read(lab.student, as_version=4)
    student_text = "\n".join([c.source for c in notebook.cells]
                             + [json.dumps(notebook.metadata)]
                             + [p.read_text(encoding="utf-8", errors="replace")
                                for p in student_dir.rglob("*") if p.is_file()])
    master_text = master.read_text(encoding="utf-8")
    for name in _HIDDEN_DEF.findall(master_text):
        assert name not in student_text, f"hidden test {name} leaked into the student copy"
    snippets = _solution_snippets(master_text)
    assert snippets
    for snippet in snippets:
        assert snippet not in student_text, f"solution text leaked: {snippet!r}"
    assert "solution-start" not in student_text

    # the student copy ran top to bottom and scores below full marks; the solution copy
    # scores full marks with the same autograder
    assert checked["possible"] >= 3
    assert checked["score"] < checked["possible"]
    assert checked["solution_score"] == checked["possible"]


def test_current_build_is_reused_only_for_the_same_sources(tmp_path):
    master = LABS[0]
    out = tmp_path / "labs" / master.stem
    for path in (tmp_path / "labs" / "masters" / f"{master.stem}.ipynb",
                 out / "student" / f"{master.stem}.ipynb", out / "autograder" / "a.zip",
                 tmp_path / "executed" / f"{master.stem}.ipynb"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    assert labs.current_build(master, tmp_path) is None          # no stamp: never reused
    stamp = {"source": labs.source_digest(master), "seconds": 12.5,
             "executed": str(tmp_path / "executed" / f"{master.stem}.ipynb")}
    (out / labs.STAMP_NAME).write_text(json.dumps(stamp))
    found = labs.current_build(master, tmp_path)
    assert found is not None and found.seconds == 12.5 and found.autograder.name == "a.zip"
    (out / labs.STAMP_NAME).write_text(json.dumps(stamp | {"source": "0" * 64}))
    assert labs.current_build(master, tmp_path) is None          # another master or library
    (out / "autograder" / "a.zip").unlink()
    (out / labs.STAMP_NAME).write_text(json.dumps(stamp))
    assert labs.current_build(master, tmp_path) is None          # incomplete build

"""Course labs (wiloc_core.labs): every master passes its own checks, every student copy runs
to the end, scores below full marks and holds no solution text and no hidden test.

Each lab is built from scratch into a temporary build folder (jupytext, nbclient, otter assign,
otter's grading without Docker): about 25 s per lab, hence ``slow``.
"""

from __future__ import annotations

import json
import re
import shutil

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
    assert [p.stem for p in LABS] == ["00-fingerprint-lab", "01-radio-channel-lab"]
    for master in LABS:
        text = master.read_text(encoding="utf-8")
        questions = re.findall(r"^# BEGIN QUESTION\nname: (q\d+)", text, re.MULTILINE)
        assert 3 <= len(questions) <= 5, master.name
        assert len(_HIDDEN_DEF.findall(text)) >= len(questions), "a hidden check per question"
        assert "export_cell: false" in text and "hide_solutions" not in text
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


@pytest.mark.slow
@pytest.mark.parametrize("master", LABS, ids=[p.stem for p in LABS])
def test_lab_builds_and_student_copy_is_graded_below_full(master, isolated_build):
    # building runs the master (its tests included) and `otter assign`, which re-runs every
    # test on the solution: a failing check raises LabError. A current build (same master and
    # library sources, see labs.current_build) passed those checks when it was made.
    lab = labs.current_build(master, REAL_BUILD) or labs.build_lab(master)
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

    # the student copy runs top to bottom and scores below full marks
    score, possible = labs.check_student(lab)
    assert possible >= 3
    assert score < possible

    # the solution notebook scores full marks with the same autograder
    solved = isolated_build / "solved" / lab.student.name
    solved.parent.mkdir(parents=True)
    shutil.copy2(lab.autograder.parent / lab.student.name, solved)  # otter's solution copy
    score, possible = labs.grade(solved, lab.autograder)
    assert score == possible


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

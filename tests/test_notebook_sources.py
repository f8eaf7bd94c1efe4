"""Notebook sources are MyST Markdown without outputs, each with a proper parameters cell."""

import ast
import re
import subprocess

import pytest

from wiloc_core import paths, runner

SOURCES = runner.notebook_sources()


def test_there_are_chapters():
    assert any(p.stem.startswith("00-") for p in SOURCES)


def _parameters_cell(text: str) -> str:
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S)
    assert cells, "no code cells"
    first = cells[0]
    assert re.match(r"\s*:tags:\s*\[parameters\]", first), "first code cell is not tagged parameters"
    return first.split("\n", 1)[1]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_source_is_a_myst_notebook_with_literal_parameters(source):
    text = source.read_text()
    assert text.startswith("---\njupytext:"), "missing the jupytext header"
    assert "format_name: myst" in text
    body = _parameters_cell(text)
    tree = ast.parse(body)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"parameters cell has a non-assignment: {ast.dump(node)}"
        ast.literal_eval(node.value)  # literals only, so Papermill can override them
        names.update(t.id for t in node.targets)
    assert {"profile", "seed"} <= names


def test_no_notebook_with_outputs_is_tracked():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=paths.repo_root(),
                             capture_output=True, text=True).stdout.split()
    with_outputs = [f for f in tracked if '"output_type"' in (paths.repo_root() / f).read_text()]
    assert not with_outputs, f"notebooks committed with outputs: {with_outputs}"


def test_notebooks_do_not_force_agg_or_use_the_working_directory():
    for source in SOURCES:
        text = source.read_text()
        assert "matplotlib.use(" not in text, f"{source.name} forces a matplotlib backend"
        assert "os.getcwd" not in text and "Path.cwd" not in text, source.name

"""Notebook sources are MyST Markdown without outputs, each with a proper parameters cell."""

import ast
import re
import subprocess

import pytest

from wiloc_core import paths, profiles, runner

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


#: Notebook parameters that are no profile setting: the execution parameters, and
#: ``data_source`` (its effect is the data kind every record carries; a value other than the
#: notebook's default still makes the run custom, :func:`wiloc_core.runner.custom_parameters`).
NOT_SETTINGS = {*profiles.EXECUTION_PARAMETERS, "data_source"}


@pytest.mark.parametrize("source", [s for s in SOURCES
                                    if s.stem.split("-", 1)[1] in profiles.chapters()],
                         ids=lambda p: p.stem)
def test_parameters_that_change_results_are_profile_settings_left_at_none(source):
    """A reader's change is then an override: the run is labelled custom, never judged."""
    chapter = source.stem.split("-", 1)[1]
    settings = set(profiles.settings(chapter, "quick")) - {"profile", "overrides"}
    defaults = runner.notebook_defaults(source)
    not_none = {k: v for k, v in defaults.items() if k in settings and v is not None}
    assert not not_none, f"settings must default to None (the profile's value): {not_none}"
    stray = sorted(set(defaults) - settings - NOT_SETTINGS)
    assert not stray, f"parameters that are no profile setting of '{chapter}': {stray}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_live_widgets_are_built_only_in_an_interactive_session(source):
    """Papermill can hang for good on a live ipywidgets cell (nbclient issue 312)."""
    text = source.read_text()
    if "ipywidgets" in text or "widgets.interactive" in text:
        assert "if interactive_session():" in text, (
            f"{source.name} builds live widgets without `if interactive_session():`")

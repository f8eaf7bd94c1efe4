"""The book stage: table of contents, data page, notebook preparation and a real build.

The build test executes a tiny chapter with Papermill (a figure, a glued figure, math, a
widget), builds a strict book from it with :func:`wiloc_core.book.build_book` into a
temporary folder and reads the html. ``tests/test_book_browser.py`` reuses that book.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wiloc_core import book

CDN_HOSTS = ("cdn.jsdelivr", "unpkg.com", "cdnjs", "googleapis", "gstatic", "plausible.io")
CHAPTER = "00-fingerprint-datasets"

# A hostile entry: every character that means something in MyST, and an extra key.
TINY_MANIFEST = {
    "about": "Synthetic manifest for the book test; *not* real data.",
    "datasets": [
        {"name": "UJI1", "kind": "fingerprint", "path": "fingerprints/UJI1.mat",
         "sha256": "a" * 64, "size_bytes": 810874, "licence": "CC BY 4.0",
         "citation": "Torres-Sospedra et al., UJIIndoorLoc, IPIN 2014.",
         "source_url": "https://example.org/uji", "download_url": "https://example.org/uji.zip",
         "direct_download": False, "download_note": "Unpack the archive.",
         "description": "520 APs; x_y in metres", "shapes": {"train": [19861, 520]}},
        {"name": "rtt_office_train", "kind": "rtt", "path": "rtt/office_train.csv",
         "sha256": "b" * 64, "license": "MIT | see `LICENSE` <here>",
         "citation": "Costs $5 and *stars* _under_ [brackets] {braces} #hash",
         "url": "https://example.org/rtt", "description": "4 APs", "campaign": 2021},
    ],
}

NOTEBOOK_CELLS = [
    ("markdown", "# Fingerprint datasets\n\nThe received power falls as $x^2$ and\n\n"
                 "$$\nP = \\frac{1}{d^2}\n$$"),
    ("parameters", "seed = 0  # random seed\nprofile = 'quick'"),
    ("code", "import matplotlib.pyplot as plt\nimport numpy as np\nfrom myst_nb import glue\n"
             "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot(np.arange(10) ** 2)\n"
             "ax.set_title(f'seed {seed}')\nglue('squares_fig', fig, display=False)\n"
             "glue('n_points', 10)\nplt.show()"),
    ("code", "fig2, ax2 = plt.subplots(figsize=(3, 2))\nax2.bar([1, 2], [3, 4])\nplt.show()"),
    ("markdown", "The plot has {glue:}`n_points` points.\n\n```{glue:figure} squares_fig\n"
                 ":name: fig-squares\n\nSquares, glued from the run.\n```"),
    ("code", "import ipywidgets\nipywidgets.IntSlider(value=3, min=0, max=10, description='k')"),
    # a precomputed plotly slider (wiloc_core.explorers): plotly.js served by the book
    ("code", "from IPython.display import HTML\n"
             "from wiloc_core.explorers import slider_figure, to_static_html\n"
             "HTML(to_static_html(slider_figure([0, 1, 2, 3], {'line': [[0, 1, 2, 3], [3, 2, 1, 0],"
             " [1, 3, 0, 2]]}, ['a', 'b', 'c'], prefix='step '), 'tiny slider'))"),
    ("code", "from IPython.display import Markdown\n"
             "Markdown(':::{important}\\nSimulated stand-in data.\\n:::\\n')"),
    # a table far wider than the text column: it must scroll, not be clipped
    ("code", "import pandas as pd\n"
             "pd.DataFrame([[f'cell {i}-{j} with a long text' for j in range(14)] for i in range(3)],\n"
             "             columns=[f'wide column {j}' for j in range(13)] + ['last column'])"),
]

_TINY: dict[str, Path] = {}


def make_executed_notebook(folder: Path, stem: str = CHAPTER) -> Path:
    """Execute a tiny chapter with Papermill into ``folder/<stem>.ipynb`` (seed = 1).

    Unlike wiloc_core.runner, the injected-parameters cell is left untagged, so that the
    book has to fold it itself.
    """
    import nbformat
    import papermill
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    notebook = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                     "display_name": "Python 3"}})
    for kind, source in NOTEBOOK_CELLS:
        if kind == "markdown":
            notebook.cells.append(new_markdown_cell(source))
        else:
            cell = new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            notebook.cells.append(cell)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder.parent / f"{stem}.source.ipynb"
    nbformat.write(notebook, source)
    target = folder / f"{stem}.ipynb"
    papermill.execute_notebook(str(source), str(target), parameters={"seed": 1},
                               progress_bar=False, kernel_name="python3", log_output=False)
    return target


def _value(ours, profile, data_kind, row="Lab", column="75%", effect=None):
    record = {"kind": "value", "paper": "000", "item": "Table I", "row": row, "column": column,
              "ours": ours, "unit": "cm", "profile": profile, "seed": 0, "data_kind": data_kind,
              "notebook": "10-ctf-transfer", "note": "hand-made <record>"}
    if effect is not None:
        record.update(effect=effect, n_seeds=len(effect))
    return record


def _claim(claim_id, values, profile, data_kind):
    return {"kind": "claim", "paper": claim_id[:3], "claim_id": claim_id, "unit": "",
            "cells": [{"label": "a", "values": values, "deterministic": False}],
            "profile": profile, "seed": 0, "data_kind": data_kind, "notebook": "10-ctf-transfer",
            "note": "hand-made"}


def write_report_records(root: Path) -> tuple[Path, Path]:
    """Hand-made report records: a quick build and a committed full run; returns both folders.

    Committed (full): 8.5 cm on simulated data (magnitude only), a real value within tolerance
    whose effect is reversed (not reproduced), a real one within tolerance (reproduced) and a
    claim that holds. Build (quick): the same rows, none judged.
    """
    build, committed = root / "build-results", root / "committed-results"
    for folder, profile in ((build, "quick"), (committed, "full")):
        records = [_value(8.5, profile, "simulated"),
                   _value(18.5, profile, "real", "Narrow Corridor", "30%", [-1.0, -1.2, -0.8]),
                   _value(12.0, profile, "real", "Lab", "50%", [1.0, 1.1, 0.9]),
                   _claim("000-table1-degrades", [1.0, 1.1, 0.9], profile, "simulated")]
        (folder / "10-ctf-transfer").mkdir(parents=True)
        (folder / "10-ctf-transfer" / "report.json").write_text(json.dumps(records))
        (folder / "10-ctf-transfer" / "provenance.json").write_text(json.dumps(
            {"commit": "0123456789abcdef", "date": "2026-11-30", "profile": profile, "seed": 0}))
    return build, committed


def make_executed_report(folder: Path, build: Path, committed: Path) -> Path:
    """Execute the real report notebook (notebooks/99-...) on the given result folders."""
    import papermill

    from wiloc_core import runner

    source = runner.resolve_notebook(book.REPORT_STEM)
    ipynb = runner._to_ipynb(source, folder.parent / f"{book.REPORT_STEM}.source.ipynb")
    target = folder / f"{book.REPORT_STEM}.ipynb"
    papermill.execute_notebook(str(ipynb), str(target), progress_bar=False, kernel_name="python3",
                               log_output=False, parameters={"build_results": str(build),
                                                             "committed_results": str(committed)})
    return target


def build_tiny_book(tmp_path_factory) -> Path:
    """Build (once per session) a strict book from the tiny chapter and the report page.

    The report page and the landing page's scoreboard read hand-made records
    (:func:`write_report_records`), never what ``build/`` or ``results/`` hold.
    """
    if "html" not in _TINY:
        from wiloc_core import report

        root = tmp_path_factory.mktemp("tiny-book")
        executed = root / "build" / "executed"
        make_executed_notebook(executed)
        build, committed = write_report_records(root)
        make_executed_report(executed, build, committed)
        manifest = root / "manifest.json"
        manifest.write_text(json.dumps(TINY_MANIFEST), encoding="utf-8")
        index = book.build_book(executed, root / "build" / "html", strict=True,
                                manifest_path=manifest,
                                records=report.collect_records(build, committed))
        _TINY["html"] = index.parent
    return _TINY["html"]


# ------------------------------------------------------------------------------------
# Fast tests
# ------------------------------------------------------------------------------------


def test_part_of_maps_prefixes_to_parts():
    assert book.part_of("00-fingerprint-datasets") == "Foundations"
    assert book.part_of("01-radio-channel") == "Foundations"
    assert book.part_of("10-ctf-transfer") == "Paper 000: CTF transfer learning"
    assert book.part_of("11b-ctf-stage-six") == "Paper 000: CTF transfer learning"
    assert book.part_of("21-surrogate-ablations") == "Paper 001: Multi-surrogate teachers"
    assert book.part_of("50-wtn") == "Paper 004: WiFi Trilateration Net"
    assert book.part_of("99-reproduction-report") == "Reference"
    assert book.part_of("72-something-new") == book.UNMAPPED_PART


def test_plan_toc_lists_only_present_chapters_in_order():
    plan = book.plan_toc(["99-reproduction-report", "20-msta", "00-fingerprint-datasets",
                          "77-extra"])
    assert [p.caption for p in plan] == ["Foundations", "Paper 001: Multi-surrogate teachers",
                                         book.UNMAPPED_PART, "Reference"]
    assert plan[0].files == ("00-fingerprint-datasets",)
    assert plan[-1].files == ("data", "99-reproduction-report")
    # Nothing executed yet: the book is the landing page and the data page.
    assert [(p.caption, p.files) for p in book.plan_toc([])] == [("Reference", ("data",))]


def test_render_toc_is_valid_jb_book_yaml():
    import yaml

    text = book.render_toc(book.plan_toc(["00-a", "40-eval"]))
    toc = yaml.safe_load(text)
    assert toc["format"] == "jb-book" and toc["root"] == "intro"
    assert [p["caption"] for p in toc["parts"]] == ["Foundations", "Paper 003: EVAL", "Reference"]
    assert toc["parts"][1]["chapters"] == [{"file": "40-eval"}]


def test_load_manifest_entries_accepts_variant_keys(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(TINY_MANIFEST))
    about, entries = book.load_manifest_entries(path)
    assert about.startswith("Synthetic")
    assert [e["name"] for e in entries] == ["UJI1", "rtt_office_train"]
    assert entries[1]["licence"].startswith("MIT")  # from "license"
    assert entries[1]["source_url"] == "https://example.org/rtt"  # from "url"
    assert entries[1]["extra"] == {"campaign": 2021}
    # a bare list and a name -> entry mapping work too
    path.write_text(json.dumps([{"name": "A"}]))
    assert book.load_manifest_entries(path)[1][0]["name"] == "A"
    path.write_text(json.dumps({"B": {"kind": "rtt"}, "C": {"kind": "rtt"}}))
    assert [e["name"] for e in book.load_manifest_entries(path)[1]] == ["B", "C"]


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    ("{not json", "not valid JSON"),
    ('{"datasets": {}}', "expected a 'datasets' list"),
    ('{"datasets": []}', "empty"),
    ('{"datasets": [3]}', r"datasets\[0\] is a int"),
    ('{"datasets": [{"kind": "rtt"}]}', r"datasets\[0\] has no 'name'"),
])
def test_load_manifest_entries_fails_clearly(tmp_path, content, message):
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(book.BookError, match=message) as caught:
        book.load_manifest_entries(path)
    assert str(path) in str(caught.value)


def test_data_page_escapes_markdown(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(TINY_MANIFEST))
    page = book.render_data_page(*reversed(book.load_manifest_entries(path)))
    assert r"Costs \$5 and \*stars\* \_under\_ \[brackets\] \{braces\} \#hash" in page
    assert "`" + "a" * 64 + "`" in page
    assert "<https://example.org/uji>" in page


def test_real_manifest_renders_every_entry():
    from wiloc_core import paths

    manifest = paths.data_manifest_path()
    if not manifest.is_file():
        pytest.skip(f"{manifest} not written yet")
    about, entries = book.load_manifest_entries(manifest)
    page = book.render_data_page(entries, about)
    for entry in entries:
        assert f"## {book._md_text(entry['name'])}" in page


def test_prepare_notebook_folds_injected_cell_and_notes_the_run(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    notebook = new_notebook(metadata={"papermill": {"version": "2.7.0", "duration": 3.25,
                                                    "end_time": "2025-01-02T03:04:05.6",
                                                    "parameters": {"seed": 1}}})
    injected = new_code_cell("seed = 1")
    injected.metadata["tags"] = ["injected-parameters"]
    removed = new_code_cell("profile = 'full'")
    removed.metadata["tags"] = ["injected-parameters", "remove-cell"]
    notebook.cells = [new_markdown_cell("# T"), injected, removed]
    nbformat.write(notebook, tmp_path / "in.ipynb")
    out = nbformat.read(book.prepare_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb"), 4)
    assert [c.cell_type for c in out.cells] == ["markdown", "markdown", "code", "code"]
    note = out.cells[1].source
    assert "Papermill 2.7.0" in note and "`seed = 1`" in note and "3.2 s" in note
    assert "2025-01-02 03:04:05" in note
    assert out.cells[2].metadata.tags == ["injected-parameters", "hide-input"]
    assert out.cells[3].metadata.tags == ["injected-parameters", "remove-cell"]  # left alone


def test_prepare_notebook_keeps_old_nbformat_valid(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(metadata={"papermill": {"parameters": {"profile": "a`b"}}})
    notebook.nbformat_minor = 4
    cell = new_code_cell("profile = 'a`b'")
    cell.pop("id")
    cell.metadata["tags"] = ["injected-parameters", "hide-input"]
    notebook.cells = [cell]
    (tmp_path / "in.ipynb").write_text(json.dumps(notebook))
    out = nbformat.read(book.prepare_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb"), 4)
    nbformat.validate(out)  # no cell ids in a 4.4 notebook
    assert "``profile = 'a`b'``" in out.cells[0].source
    assert "its defaults" not in out.cells[0].source


def test_ensure_js_assets_reports_missing_packages(tmp_path):
    with pytest.raises(book.BookError, match="tex-mml-chtml.js"):
        book.ensure_js_assets(tmp_path / "node_modules", install=False)


def test_config_names_only_local_scripts():
    config = (Path(book.__file__).resolve().parent.parent / "book" / "_config.yml").read_text()
    named = book._local_asset_paths(config)
    assert any(p.endswith("tex-mml-chtml.js") for p in named)
    assert any(p.endswith("embed-amd.js") for p in named)
    assert any(p.endswith("plotly/plotly.min.js") for p in named)
    settings = "\n".join(line.split(" #")[0] for line in config.splitlines()
                         if not line.lstrip().startswith("#"))
    assert not re.search("|".join(map(re.escape, CDN_HOSTS)), settings)


# ------------------------------------------------------------------------------------
# A real build
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_html(tmp_path_factory) -> Path:
    return build_tiny_book(tmp_path_factory)


def _html(html: Path, name: str) -> str:
    return (html / name).read_text(encoding="utf-8")


@pytest.mark.slow
def test_tiny_book_has_landing_chapter_and_data_pages(tiny_html):
    assert 'url=intro.html' in _html(tiny_html, "index.html")
    for page in ("intro.html", f"{CHAPTER}.html", "data.html"):
        assert (tiny_html / page).is_file(), page
    chapter = _html(tiny_html, f"{CHAPTER}.html")
    # the matplotlib figure and the glued one are images in the page, files in _images/
    images = re.findall(r'<img[^>]+src="(_images/[^"]+\.png)"', chapter)
    assert len(images) >= 2, images
    assert all((tiny_html / src).is_file() for src in images)
    assert 'id="fig-squares"' in chapter
    # Papermill's injected cell is folded, and the note says how the page ran
    assert re.search(r'class="[^"]*tag_injected-parameters[^"]*tag_hide-input', chapter)
    text = re.sub(r"<[^>]+>", "", chapter)
    assert "executed by Papermill" in text and "seed = 1" in text
    # text/markdown output rendered as MyST (an admonition), math left for MathJax
    assert re.search(r'class="admonition important', chapter)
    assert re.search(r'class="math[^"]*"', chapter)
    # widget state embedded, and the local widget manager loaded
    assert "application/vnd.jupyter.widget-state+json" in chapter
    assert "_vendor/html-manager/embed-amd.js" in chapter


@pytest.mark.slow
def test_tiny_book_toc_has_parts_for_present_chapters_only(tiny_html):
    captions = re.findall(r'<span class="caption-text">([^<]+)</span>', _html(tiny_html, "intro.html"))
    assert captions == ["Foundations", "Reference"]  # no chapter of any paper was executed


@pytest.mark.slow
def test_tiny_book_references_no_cdn(tiny_html):
    pages = sorted(tiny_html.glob("*.html"))
    assert len(pages) >= 4
    offenders = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        offenders += [f"{page.name}: {host}" for host in CDN_HOSTS if host in text]
        for ref in re.findall(r'<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)"', text):
            if "://" in ref or ref.startswith("//"):
                offenders.append(f"{page.name}: remote resource {ref}")
            elif not ref.startswith(("#", "data:")):
                local = (tiny_html / ref.split("?")[0].split("#")[0]).resolve()
                if not local.is_file():
                    offenders.append(f"{page.name}: missing local resource {ref}")
    # the theme's own scripts and styles (vendored third-party bundles excluded: their
    # dormant fallback URLs are checked at run time by the browser test)
    for asset in list(tiny_html.glob("_static/**/*.js")) + list(tiny_html.glob("_static/**/*.css")):
        text = asset.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{asset.relative_to(tiny_html)}: {host}" for host in CDN_HOSTS if host in text]
    assert not offenders, offenders
    # MathJax and the widget manager are served from the book itself
    assert (tiny_html / "_vendor/mathjax/tex-mml-chtml.js").is_file()
    assert (tiny_html / "_vendor/mathjax/output/chtml/fonts/woff-v2").is_dir()
    assert "_vendor/mathjax/tex-mml-chtml.js" in _html(tiny_html, f"{CHAPTER}.html")


@pytest.mark.slow
def test_tiny_book_data_page_lists_every_manifest_entry(tiny_html):
    data = _html(tiny_html, "data.html")
    for entry in TINY_MANIFEST["datasets"]:
        assert f'id="data-{entry["name"].lower().replace("_", "-")}"' in data, entry["name"]
        assert entry["sha256"] in data
        assert entry.get("licence", entry.get("license")).split(" ")[0] in data
    assert "Costs $5 and *stars* _under_ [brackets] {braces} #hash" in data
    assert "campaign" in data


# ------------------------------------------------------------------------------------
# Report views: badges, scoreboard, the filterable table, the landing page
# ------------------------------------------------------------------------------------

REPO = Path(book.__file__).resolve().parent.parent


@pytest.fixture
def hand_made_records(tmp_path):
    from wiloc_core import report

    return report.collect_records(*write_report_records(tmp_path))


def _cells_of(html: str, table_class: str) -> list[list[str]]:
    """The text of each body row's cells of the first table with ``table_class``."""
    table = re.search(rf'<table[^>]*class="[^"]*{table_class}[^"]*".*?</table>', html, re.S).group(0)
    body = re.search(r"<tbody>(.*)</tbody>", table, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_every_status_has_a_badge_colour_and_a_meaning():
    from wiloc_core import verdicts

    css = (REPO / "book" / "_static" / "wiloc.css").read_text()
    assert set(book.STATUS_CLASSES) == set(verdicts.STATUSES)
    assert set(book.status_meanings()) == set(verdicts.STATUSES)
    for status, suffix in book.STATUS_CLASSES.items():
        assert f".wiloc-status-{suffix} " in css, suffix
        badge = book.status_badge(status, 3)
        assert f'wiloc-status-{suffix}"' in badge and "<b>3</b>" in badge
    with pytest.raises(book.BookError, match="unknown report status"):
        book.status_badge("reproduced")


def test_status_meanings_follow_the_rules():
    from wiloc_core import verdicts

    meanings = book.status_meanings()
    assert f"{verdicts.ALPHA:.0%}" in meanings[verdicts.DIRECTION]
    assert "simulated" in meanings[verdicts.MAGNITUDE]
    assert "quick" in meanings[verdicts.NOT_JUDGED] and "custom" in meanings[verdicts.NOT_JUDGED]
    assert "wrong way" in meanings[verdicts.NOT_REPRODUCED]


def test_scoreboard_keeps_verdicts_apart_from_rows_not_judged(hand_made_records):
    html = book.scoreboard_html(hand_made_records, report_page=book.REPORT_STEM)
    rows = _cells_of(html, "wiloc-scoreboard")
    title = "Paper 000: CTF transfer learning"
    assert [r[:3] for r in rows] == [[title, "real", "committed"], [title, "real", "this build"],
                                     [title, "simulated", "committed"],
                                     [title, "simulated", "this build"]]
    # verdicts | shown for scale | not judged; build and committed are never added
    assert rows[0][3:] == ["1 reproduced within tolerance 1 not reproduced", "none", "none"]
    assert rows[1][3:] == ["none", "none", "2 not judged (quick or custom run)"]
    assert rows[2][3:] == ["1 claim holds", "1 magnitude only (simulated)", "none"]
    assert rows[3][3:] == ["none", "none", "2 not judged (quick or custom run)"]
    assert "99-reproduction-report.html?paper=000&amp;data_kind=simulated&amp;origin=build" in html


def test_split_counts_table_has_one_row_per_kind_profile_origin(hand_made_records):
    rows = _cells_of(book.split_counts_html(hand_made_records), "wiloc-split-counts")
    assert [r[:4] for r in rows] == [["real", "full", "committed", "2"],
                                     ["real", "quick", "build", "2"],
                                     ["simulated", "full", "committed", "2"],
                                     ["simulated", "quick", "build", "2"]]


def test_report_table_rows_carry_filter_fields_and_escape_text(hand_made_records):
    html = book.report_table_html(hand_made_records)
    rows = re.findall(r"<tr (data-paper=[^>]*)>", html)
    assert len(rows) == len(hand_made_records)
    for field in book.REPORT_FILTERS:
        assert all(f'data-{field}="' in row for row in rows), field
        assert f'<select data-filter="{field}">' in html
    assert '<option value="committed">committed</option>' in html
    assert "hand-made &lt;record&gt;" in html and "<record>" not in html
    assert f"{len(hand_made_records)} of {len(hand_made_records)} rows" in html
    # a claim shows its band in words, with the unit
    assert "every cell &gt; 0 cm" in html
    assert "wiloc-filters" not in book.report_table_html(hand_made_records, filters=False)


def test_claims_of_our_own_carry_the_ours_label(hand_made_records):
    ours = [{**r, "claim_origin": "ours"} for r in hand_made_records if r["kind"] == "claim"]
    html = book.report_table_html(ours)
    assert html.count('class="wiloc-tag wiloc-ours"') == len(ours) > 0
    theirs = book.report_table_html([r for r in hand_made_records if r["kind"] == "claim"])
    assert "wiloc-ours" not in theirs and "“" in theirs  # the paper's sentence is quoted


def test_render_intro_replaces_the_marker(hand_made_records):
    text = "# Title\n\nBefore.\n\n% wiloc:scoreboard\n\nAfter.\n"
    out = book.render_intro(text, hand_made_records, book.REPORT_STEM)
    assert "% wiloc:scoreboard" not in out and "Before." in out and "After." in out
    assert "```{raw} html" in out and "wiloc-scoreboard" in out
    assert "{doc}`reproduction report <99-reproduction-report>`" in out
    without_page = book.render_intro(text, hand_made_records, None)
    assert "{doc}" not in without_page
    empty = book.render_intro(text, [], None)
    assert "No chapter has recorded a result yet" in empty
    with pytest.raises(book.BookError, match="wiloc:scoreboard"):
        book.render_intro("# Title\n", hand_made_records)


def test_the_landing_page_source_has_one_scoreboard_marker_and_no_typed_counts():
    intro = (REPO / "book" / "intro.md").read_text()
    assert [line.strip() for line in intro.splitlines()].count(book.SCOREBOARD_MARKER) == 1
    assert not re.search(r"\d+\s+(reproduced|not reproduced|inconclusive|claims? holds?)", intro)


def test_report_script_is_local_and_fetches_nothing():
    script = (REPO / "book" / "_static" / "wiloc-report.js").read_text()
    assert "://" not in script and "//cdn" not in script
    for call in ("fetch(", "XMLHttpRequest", "import(", "src="):
        assert call not in script, call


@pytest.mark.slow
def test_tiny_book_landing_page_has_the_generated_scoreboard(tiny_html):
    intro = _html(tiny_html, "intro.html")
    rows = _cells_of(intro, "wiloc-scoreboard")
    assert [r[1:3] for r in rows] == [["real", "committed"], ["real", "this build"],
                                      ["simulated", "committed"], ["simulated", "this build"]]
    assert "1 reproduced within tolerance" in rows[0][3]
    assert 'href="99-reproduction-report.html' in intro
    assert "% wiloc:scoreboard" not in intro and "wiloc:scoreboard" not in intro


@pytest.mark.slow
def test_tiny_book_report_page_has_badges_counts_and_a_filterable_table(tiny_html):
    page = _html(tiny_html, f"{book.REPORT_STEM}.html")
    assert "_static/wiloc-report.js" in page and "_static/wiloc.css" in page
    assert (tiny_html / "_static" / "wiloc-report.js").is_file()
    for suffix in ("reproduced", "not-reproduced", "magnitude", "holds", "not-judged"):
        assert f"wiloc-status-{suffix}" in page, suffix
    assert len(_cells_of(page, "wiloc-split-counts")) == 4
    assert len(_cells_of(page, "wiloc-report-table")) == 8  # every hand-made record, once
    assert 'id="wiloc-report"' in page and 'data-table="wiloc-report"' in page
    assert "0123456789abcdef" in page  # committed provenance section

"""Numbers in prose are glued, never typed: no chapter's Markdown types its paper's results.

What counts
-----------
*Prose* is a chapter's Markdown outside code cells, the front matter, math (``$...$``,
``$$...$$``, ``{math}`` blocks), inline code and roles (``{glue:text}`key```), link
targets and labels, and references such as "Table 1", "Fig. 2", "eq. 11" or "§4.2".

A *result* is a row of the paper-values registry (``wiloc_core/registry/paper_values.csv``)
that the paper reports as an outcome: ``better`` is ``lower`` or ``higher``, or the
tolerance is above zero (a standard deviation over rounds, an AP count "in operation", a
difference the text states). A *setup fact* (tolerance 0 and no ``better``: a carrier
frequency, a dataset size, epochs, the 100 dB fill value) may be typed, and a typed
number equal to a setup fact's value is never flagged.

A typed number matches a result (signs ignored) when

- no other unit follows it (``60 s`` is not the paper's 60 %), and
- with three or more significant digits, it equals the result rounded to its decimals
  (``14.0`` and ``14.04`` both match 14.04);
- with one or two, it is the value exactly as printed *and* the result's unit follows it
  (``50 %`` matches the printed 50 %, ``0.32 m`` the printed 0.32 m; ``about 20 per
  point``, ``10 m`` against a printed 10.00 m or ``2.5`` against 2.54 do not).

Which papers a chapter answers for, by its stem's decade: ``1x`` -> 000, ``2x`` -> 001,
``3x`` -> 002, ``4x`` -> 003, ``5x`` -> 004; a foundation chapter ``0x`` answers for the
papers it compares with or names (quoted ids in code, "paper 001" in prose); ``9x`` (the
report) for every paper.
"""

from __future__ import annotations

import csv
import re

import pytest

from wiloc_core import runner
from wiloc_core.paper_values import PAPERS, REGISTRY_PATH

SOURCES = runner.notebook_sources()

_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
_REFERENCE = re.compile(
    r"(?:Tables?|Figs?\.|Figures?|eqs?\.|Eqs?\.|Alg\.|Algorithm|Sec\.|Section|Appendix|§|chapter|"
    r"Chapter|step|stage|phase)\s*[\dA-Z][\d.,\-–]*(?:\s*(?:and|to|,|-|–)\s*\d[\d.]*)*")
_NUMBER = re.compile(r"(?<![\w.\-])(\d+(?:\.\d+)?)(?![\w.]*\w)(?:\s?(%|[A-Za-zµ]+(?:\^2)?))?")
#: Words that name a unit after a number: the registry's units and the book's own.
UNITS = {"%", "GB", "GHz", "Hz", "MHz", "cm", "dB", "kHz", "m", "m^2", "ms", "rad", "us", "s",
         "h", "min", "dBm", "mm", "km", "epochs", "rows", "rounds", "sweeps", "seeds", "cores",
         "APs", "scans", "points", "fingerprints", "samples", "times"}


def results(papers) -> list[dict]:
    """The registry rows that are results (see the module docstring) of these papers,
    with ``printed``, the value as the CSV file holds it."""
    with REGISTRY_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{**r, "printed": r["value"].strip(), "value": float(r["value"])} for r in rows
            if r["paper"] in set(papers) and (r["better"].strip() or float(r["tolerance"]) > 0)]


def setup_values(papers) -> set[float]:
    """The values of these papers' setup facts (tolerance 0, no ``better``): a typed number
    equal to one of them is a setup fact, whatever result it also resembles."""
    with REGISTRY_PATH.open(encoding="utf-8", newline="") as handle:
        return {abs(float(r["value"])) for r in csv.DictReader(handle)
                if r["paper"] in set(papers) and not r["better"].strip() and float(r["tolerance"]) == 0}


def chapter_papers(stem: str, text: str) -> set[str]:
    """The papers whose results a chapter must glue, not type (module docstring)."""
    decade = int(stem[0])
    if 1 <= decade <= len(PAPERS):
        return {PAPERS[decade - 1]}
    if decade == 9:
        return set(PAPERS)
    named = set(re.findall(r"[\"'](00\d)[\"']", text)) | set(re.findall(r"[Pp]aper (00\d)", text))
    return named & set(PAPERS)


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, prose) for every line of a MyST notebook, code and math removed."""
    out, fence, prose_fence, in_math, lines = [], None, None, False, text.split("\n")
    start = 0
    if lines and lines[0] == "---":  # front matter
        start = lines.index("---", 1) + 1
    for number, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        match = _FENCE.match(stripped)
        if fence is not None:  # inside code or math: skip to the closing fence
            if match and match.group(1) == fence and not match.group(2).strip():
                fence = None
            continue
        if match:
            info = match.group(2).strip()
            if not info and prose_fence == match.group(1):
                prose_fence = None  # end of a prose directive
            elif info.startswith("{") and not info.startswith(("{code-cell}", "{math}")):
                prose_fence = match.group(1)  # {note}, {important}, ...: prose inside
            else:
                fence = match.group(1)
            continue
        if in_math:
            in_math = not stripped.endswith("$$")
            continue
        if stripped.startswith("$$"):
            in_math = not (len(stripped) > 2 and stripped.endswith("$$"))
            continue
        line = re.sub(r"\$[^$]*\$", " ", line)                # inline math
        line = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", line)       # roles: {glue:text}`key:.2f`
        line = re.sub(r"`[^`]*`", " ", line)                  # inline code
        line = re.sub(r"\]\([^)]*\)", "]", line)              # link targets
        line = re.sub(r"^\([\w-]+\)=\s*$", " ", line)         # labels
        line = _REFERENCE.sub(" ", line)
        if line.strip():
            out.append((number, line))
    return out


def _digits(text: str) -> int:
    return len(text.replace(".", "").lstrip("0")) or 1


def _matches(typed: str, unit: str, row: dict) -> bool:
    """Whether a typed number (and the unit after it) is this result (module docstring)."""
    if unit in UNITS and unit != row["unit"]:
        return False
    decimals = len(typed.split(".")[1]) if "." in typed else 0
    number, value = float(typed), abs(row["value"])
    if _digits(typed) >= 3:
        return round(value, decimals) == number
    printed = row["printed"].lstrip("-")
    printed_decimals = len(printed.split(".")[1]) if "." in printed else 0
    return unit == row["unit"] and number == value and decimals == printed_decimals


def typed_results(stem: str, text: str) -> list[str]:
    """Every typed number in a chapter's prose that equals one of its papers' results."""
    papers = chapter_papers(stem, text)
    rows, setup = results(papers), setup_values(papers)
    found = []
    for number, line in prose_lines(text):
        for typed, unit in _NUMBER.findall(line):
            if float(typed) in setup:  # e.g. Tampere's 697 training rows, not DNN*'s -697.01 %
                continue
            hits = [r for r in rows if _matches(typed, unit, r)]
            if hits:
                r = hits[0]
                found.append(f"{stem}.md:{number}: {typed!r} is paper {r['paper']}'s "
                             f"{r['item']} / {r['row']} / {r['column']} = {r['printed']} {r['unit']}"
                             f" (line: {line.strip()[:80]!r})")
    return found


# -- the checker itself, on hand-made snippets ---------------------------------------------
SNIPPET = """---
jupytext:
  text_representation:
    format_name: myst
---

(a-label-20)=
# A chapter on paper 001

The stand-alone DNN reaches 14.04 m in the paper.
Our weighted k-NN reaches {glue:text}`knn_uji1_mae:.2f` m, the paper 11.98 m.
The paper's P(error ≤ 10 m) rises from about 50 % to 62 %.

```{code-cell} ipython3
paper = 14.04  # code may hold any number
```

$$
J = 14.04 \\lambda
$$

Inline math $11.98$ and code `14.04` are not prose; neither is Table 1 or §4.2.
UJIIndoorLoc has 520 APs and 19937 training rows, trained for 500 epochs (setup facts).
A rounded 14.0 m is still the paper's value; 14 m alone is not flagged.
A run takes about 60 s (the paper's UTS curve starts near 60, in %) on Tampere's 697 rows.
See [the report](99-reproduction-report).

:::{note}
A note typing 8.86 m is prose too.
:::
"""


def test_the_checker_flags_typed_results_and_nothing_else():
    found = typed_results("20-example", SNIPPET)
    typed = [f.split("'")[1] for f in found]
    assert typed == ["14.04", "11.98", "50", "62", "14.0", "8.86"], found
    lines = [int(f.split(":")[1]) for f in found]
    assert lines == [10, 11, 12, 12, 24, 29]


def test_results_are_rows_with_a_direction_or_a_tolerance():
    rows = results(["001"])
    keys = {(r["item"], r["row"], r["column"]) for r in rows}
    assert all(r["paper"] == "001" for r in rows)
    assert ("Table 1", "DNN", "UJIIndoorLoc MAE") in keys              # better = lower
    assert ("Table 4", "DNN", "UJIIndoorLoc 1% MAE std") in keys         # a spread: tolerance 0.5
    assert ("Text §4.1", "UJIIndoorLoc", "anchors") not in keys          # setup fact
    assert ("Text §4.1", "UJIIndoorLoc", "training samples") not in keys


def test_which_papers_a_chapter_answers_for():
    assert chapter_papers("10-ctf-transfer", "") == {"000"}
    assert chapter_papers("21-surrogate-ablations", "") == {"001"}
    assert chapter_papers("00-fingerprint-datasets", 'res.compare("001", ...)') == {"001"}
    assert chapter_papers("01-radio-channel", "paper 000's channel") == {"000"}
    assert chapter_papers("01-radio-channel", "no paper") == set()
    assert chapter_papers("99-reproduction-report", "") == set(PAPERS)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_chapter_types_a_result_of_its_paper(source):
    found = typed_results(source.stem, source.read_text())
    assert not found, "type no result of the paper in prose; glue it:\n" + "\n".join(found)

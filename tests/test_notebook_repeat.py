"""Chapter 01 (the one with a live ipywidgets explorer) executes ten times in a row.

One of three clean executions once stalled for good in the widgets cell (nbclient issue
312). Batch runs now build no live widgets, and each quick cell has a time limit, so every
one of ten runs must finish, each well inside the limit.
"""

import json
import time

import pytest

from wiloc_core import runner

RUNS = 10
#: Generous for a notebook that takes about 20 s in all; a stall fails the test in minutes.
CELL_LIMIT_S = 120


@pytest.mark.slow
def test_chapter_01_executes_ten_times_in_a_row(isolated_build):
    seconds = []
    for attempt in range(RUNS):
        started = time.perf_counter()
        result = runner.run_notebook("01-radio-channel", profile="quick", progress=False,
                                     cell_timeout_s=CELL_LIMIT_S)
        seconds.append(time.perf_counter() - started)
        executed = json.loads(result.executed.read_text())
        widget_views = [o for c in executed["cells"] for o in c.get("outputs", [])
                        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert not widget_views, f"run {attempt + 1}: a live widget was built under Papermill"
        assert result.label == "quick"
    print(f"chapter 01, {RUNS} quick runs: " + ", ".join(f"{s:.1f}" for s in seconds) + " s")

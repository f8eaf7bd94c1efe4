"""The built book in a real browser: math typeset, figures decoded, nothing fetched from afar.

Headless Chromium (Debian's ``chromium`` package) opens pages served from a local
``http.server`` and is driven over the Chrome DevTools Protocol (CDP, via the
``websocket-client`` package). For each page the test records every network request and
console message, then asserts that

- every request went to the local server (or was a ``data:``/``blob:`` URL) and none failed
  or answered with an HTTP error: MathJax, RequireJS, the widget manager and the theme's
  fonts are all served by the book itself;
- no JavaScript error was thrown or logged;
- MathJax typeset the page (``mjx-container`` elements exist) and every ``<img>`` decoded.

Two groups of tests:

- ``test_tiny_book_*`` build a one-chapter book from a notebook executed for the occasion
  (with a figure, a glued figure, math and a widget) and check it; they fail if the
  pipeline breaks, whatever state ``build/`` is in.
- ``test_built_book_*`` check the real ``build/html`` (from ``make book``) and skip, saying
  why, when it has not been built.

Set ``WILOC_SCREENSHOTS=<folder>`` to keep a screenshot of every page checked.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
BUILT_HTML = Path(os.environ.get("WILOC_BUILD", REPO / "build")) / "html"
CHAPTER = "00-fingerprint-datasets.html"
#: Seconds to wait for MathJax and images after the load event.
SETTLE_TIMEOUT_S = 30.0

websocket = pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium` "
                    "(`make book-test` does)")


# ------------------------------------------------------------------------------------
# Local server and browser
# ------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


@pytest.fixture(scope="module")
def serve():
    """Serve folders on 127.0.0.1; returns a function html_dir -> base URL."""
    servers = []

    def start(root: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class Browser:
    """Headless Chromium with one page target, spoken to over CDP."""

    def __init__(self):
        self.profile = Path(tempfile.mkdtemp(prefix="wiloc-chromium-"))
        self.process = subprocess.Popen(
            [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions",
             "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,1000",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._devtools_port()
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                                    timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=10,
                                              suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Network.setCacheDisabled", cacheDisabled=True)

    def _devtools_port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode} at start")
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port within 30 s")

    def call(self, method: str, **params):
        """Send one CDP command and return its result, keeping events that arrive meanwhile."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"CDP {method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def pump(self, seconds: float) -> None:
        """Collect events for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in message:
                self.events.append(message)
        self.ws.settimeout(10)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready_js: str) -> None:
        """Navigate, wait for the load event, then until ``ready_js`` is true (or time out)."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            if any(e["method"] == "Page.loadEventFired" for e in self.events):
                break
            self.pump(0.2)
        while time.monotonic() < deadline and not self.evaluate(ready_js):
            self.pump(0.2)
        self.pump(1.0)  # late requests (MathJax fonts, widget css)

    def screenshot(self, path: Path) -> None:
        """The whole page (up to 6000 css px tall) as a png, laid out in a tall window."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=min(height, 6000),
                  deviceScaleFactor=1, mobile=False)
        self.pump(0.5)
        data = self.call("Page.captureScreenshot", format="png")
        self.call("Emulation.clearDeviceMetricsOverride")
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    _need_chromium()
    instance = Browser()
    yield instance
    instance.close()


# ------------------------------------------------------------------------------------
# What a page must satisfy
# ------------------------------------------------------------------------------------

PAGE_STATE_JS = """(() => {
  const imgs = [...document.querySelectorAll('img')];
  return {
    title: document.title,
    math_source: document.querySelectorAll('.math, div.math, span.math').length,
    mjx: document.querySelectorAll('mjx-container').length,
    mjx_errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    images: imgs.length,
    broken_images: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    widgets: document.querySelectorAll('.jupyter-widgets.widget-slider, .widget-hslider').length,
    widget_views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    hidden_injected: document.querySelectorAll('.tag_injected-parameters.tag_hide-input').length,
  };
})()"""

READY_JS = """(() => {
  const mathDone = document.querySelectorAll('.math').length === 0
      || document.querySelectorAll('mjx-container').length > 0;
  const imgsDone = [...document.querySelectorAll('img')].every(i => i.complete);
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const widgetsDone = views === 0 || document.querySelectorAll('.jupyter-widgets').length > 0;
  return mathDone && imgsDone && widgetsDone;
})()"""


def check_page(browser: Browser, base: str, page: str, shots: Path | None = None) -> dict:
    """Open ``base + page`` and assert the offline and rendering rules; return the page state."""
    browser.open(base + page, READY_JS)
    state = browser.evaluate(PAGE_STATE_JS)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        browser.screenshot(shots / f"{Path(page).stem}.png")

    requests = [e["params"]["request"]["url"] for e in browser.events
                if e["method"] == "Network.requestWillBeSent"]
    foreign = [u for u in requests if not u.startswith((base, "data:", "blob:", "about:"))]
    failed = [(e["params"].get("errorText"), e["params"].get("requestId"))
              for e in browser.events if e["method"] == "Network.loadingFailed"
              and not e["params"].get("canceled")]
    http_errors = [(e["params"]["response"]["status"], e["params"]["response"]["url"])
                   for e in browser.events if e["method"] == "Network.responseReceived"
                   and e["params"]["response"]["status"] >= 400]
    exceptions = [e["params"]["exceptionDetails"].get("exception", {}).get("description")
                  or e["params"]["exceptionDetails"].get("text")
                  for e in browser.events if e["method"] == "Runtime.exceptionThrown"]
    console_errors = [" ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])
                      for e in browser.events if e["method"] == "Runtime.consoleAPICalled"
                      and e["params"]["type"] in ("error", "assert")]
    log_errors = [f"{e['params']['entry'].get('url', '')}: {e['params']['entry']['text']}"
                  for e in browser.events if e["method"] == "Log.entryAdded"
                  and e["params"]["entry"]["level"] == "error"]

    assert requests, f"{page}: the browser made no request at all"
    assert not foreign, f"{page}: requests left the book's own server: {foreign}"
    assert not failed, f"{page}: resources failed to load: {failed}"
    assert not http_errors, f"{page}: HTTP errors: {http_errors}"
    assert not exceptions, f"{page}: JavaScript exceptions: {exceptions}"
    assert not console_errors, f"{page}: console errors: {console_errors}"
    assert not log_errors, f"{page}: browser log errors: {log_errors}"
    assert not state["broken_images"], f"{page}: images that did not decode: {state['broken_images']}"
    if state["math_source"]:
        assert state["mjx"] > 0, f"{page}: page has math but MathJax typeset none of it"
    assert state["mjx_errors"] == 0, f"{page}: MathJax reported {state['mjx_errors']} errors"
    if state["widget_views"]:
        assert state["widgets"] > 0, f"{page}: widget views present but no widget rendered"
    return state


def _shots(name: str) -> Path | None:
    folder = os.environ.get("WILOC_SCREENSHOTS", "").strip()
    return Path(folder) / name if folder else None


# ------------------------------------------------------------------------------------
# A tiny book built here (never skipped when Chromium is present)
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_html(tmp_path_factory):
    from test_book import build_tiny_book  # same folder; pytest puts it on sys.path

    return build_tiny_book(tmp_path_factory)


def test_tiny_book_chapter_renders_offline(browser, serve, tiny_html):
    base = serve(tiny_html)
    state = check_page(browser, base, CHAPTER, _shots("tiny"))
    assert state["mjx"] >= 2, state  # inline $x^2$ and the display equation
    assert state["images"] >= 2, state  # the plotted figure and the glued one
    assert state["widget_views"] >= 1 and state["widgets"] >= 1, state
    assert state["hidden_injected"] == 1, state


def test_tiny_book_landing_and_data_pages_render_offline(browser, serve, tiny_html):
    base = serve(tiny_html)
    landing = check_page(browser, base, "intro.html", _shots("tiny"))
    assert "wiloc" in landing["title"].lower()
    assert browser.evaluate("document.querySelectorAll('table.wiloc-scoreboard .wiloc-badge').length") > 0
    check_page(browser, base, "data.html", _shots("tiny"))


REPORT_PAGE = "99-reproduction-report.html"

#: Geometry and visible rows of the report page's main table.
REPORT_STATE_JS = """(() => {
  const table = document.getElementById('wiloc-report');
  if (!table) return null;
  const article = document.querySelector('article.bd-article') || document.body;
  const rows = [...table.tBodies[0].rows];
  const heads = [...table.tHead.rows[0].cells];
  return {
    table_right: table.getBoundingClientRect().right,
    article_right: article.getBoundingClientRect().right,
    last_head_right: heads[heads.length - 1].getBoundingClientRect().right,
    status_head_width: heads[4].getBoundingClientRect().width,
    page_overflow: document.documentElement.scrollWidth - window.innerWidth,
    visible: rows.filter(r => r.offsetParent !== null).length,
    total: rows.length,
    shown_text: document.querySelector('.wiloc-filters[data-table="wiloc-report"] .wiloc-shown').textContent,
  };
})()"""


def _choose(browser: Browser, field: str, value: str) -> dict:
    browser.evaluate(f"""(() => {{
      const select = document.querySelector('.wiloc-filters select[data-filter="{field}"]');
      select.value = {json.dumps(value)};
      select.dispatchEvent(new Event('change'));
    }})()""")
    return browser.evaluate(REPORT_STATE_JS)


def test_tiny_book_report_page_fits_and_filters(browser, serve, tiny_html):
    base = serve(tiny_html)
    check_page(browser, base, REPORT_PAGE, _shots("tiny"))
    state = browser.evaluate(REPORT_STATE_JS)
    assert state["total"] == 8 and state["visible"] == 8, state
    assert state["shown_text"] == "8 of 8 rows", state
    # the whole table, status column included, lies inside the text column
    assert state["table_right"] <= state["article_right"] + 1, state
    assert state["last_head_right"] <= state["article_right"] + 1, state
    assert state["status_head_width"] > 60, state
    assert state["page_overflow"] <= 0, state
    state = _choose(browser, "origin", "committed")
    assert state["visible"] == 4 and state["shown_text"] == "4 of 8 rows", state
    state = _choose(browser, "data_kind", "real")
    assert state["visible"] == 2, state
    state = _choose(browser, "profile", "quick")  # committed and quick: nothing
    assert state["visible"] == 0 and state["shown_text"] == "0 of 8 rows", state
    for field in ("origin", "data_kind", "profile"):
        state = _choose(browser, field, "")
    assert state["visible"] == 8, state
    state = _choose(browser, "status", "not reproduced")
    assert state["visible"] == 1, state


def test_tiny_book_report_filters_from_the_query_string(browser, serve, tiny_html):
    """The landing page's scoreboard links to the report filtered by paper and data kind."""
    base = serve(tiny_html)
    check_page(browser, base, REPORT_PAGE + "?paper=000&data_kind=simulated")
    state = browser.evaluate(REPORT_STATE_JS)
    assert state["visible"] == 4 and state["shown_text"] == "4 of 8 rows", state
    check_page(browser, base, REPORT_PAGE + "?paper=000&data_kind=simulated&origin=build")
    assert browser.evaluate(REPORT_STATE_JS)["visible"] == 2
    check_page(browser, base, REPORT_PAGE + "?paper=007")  # no such option: nothing hidden
    assert browser.evaluate(REPORT_STATE_JS)["visible"] == 8


def test_tiny_book_wide_table_scrolls_instead_of_being_clipped(browser, serve, tiny_html):
    base = serve(tiny_html)
    check_page(browser, base, CHAPTER)
    state = browser.evaluate("""(() => {
      const table = [...document.querySelectorAll('table')].find(
          t => t.textContent.includes('last column'));
      const article = document.querySelector('article.bd-article');
      let box = table;  // the element that scrolls: the table itself or a wrapper
      while (box && box !== article && box.scrollWidth <= box.clientWidth + 1) box = box.parentElement;
      const style = box ? getComputedStyle(box) : null;
      return {
        found: !!table,
        scrolls: !!box && box !== article && ['auto', 'scroll'].includes(style.overflowX),
        box_right: box ? box.getBoundingClientRect().right : null,
        article_right: article.getBoundingClientRect().right,
        page_overflow: document.documentElement.scrollWidth - window.innerWidth,
      };
    })()""")
    assert state["found"], state
    assert state["scrolls"], f"the wide table neither fits nor scrolls: {state}"
    assert state["box_right"] <= state["article_right"] + 1, state
    assert state["page_overflow"] <= 0, state


#: Seconds a click on a figure's control has to change the figure.
CLICK_TIMEOUT_S = 10.0


def _click_and_wait(browser: Browser, div_id: str, point_js: str, state_js: str, key: str,
                    before: dict) -> dict:
    """Click a point of figure ``#div_id`` with the mouse, as a reader would; the state after.

    ``point_js`` is the body of a JavaScript function of ``gd`` (the figure's element, already
    scrolled to the middle of the window) that returns the point ``{x, y}`` in viewport
    coordinates. After the click, ``state_js`` is evaluated until its ``key`` differs from
    ``before[key]`` or :data:`CLICK_TIMEOUT_S` has passed; the caller asserts on what came.
    """
    point = browser.evaluate(f"""((gd) => {{
      gd.scrollIntoView({{block: 'center'}});
      {point_js.strip()}
    }})(document.getElementById({json.dumps(div_id)}))""")
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", type=kind, x=point["x"], y=point["y"],
                     button="left", clickCount=1)
    deadline = time.monotonic() + CLICK_TIMEOUT_S
    after = browser.evaluate(state_js)
    while time.monotonic() < deadline and after[key] == before[key]:
        browser.pump(0.2)
        after = browser.evaluate(state_js)
    return after


#: A precomputed plotly figure (wiloc_core.explorers): its slider, first moving trace and lines.
PLOTLY_STATE_JS = """((id) => {
  const gd = document.getElementById(id);
  if (!gd || !gd._fullLayout || !gd._fullLayout.sliders) return null;
  const slider = gd._fullLayout.sliders[0];
  const moving = slider.steps[0].args[slider.steps[0].method === 'update' ? 2 : 1][0];
  return {
    plotly_loaded: typeof window.Plotly === 'object' && !!window.Plotly.newPlot,
    active: slider.active,
    n_steps: slider.steps.length,
    y: Array.from(gd.data[moving].y),
    paths: [...gd.querySelectorAll('.scatterlayer path.js-line')].map(p => p.getAttribute('d')),
  };
})"""


def move_plotly_slider(browser: Browser, div_id: str, step: int) -> tuple[dict, dict]:
    """Click step ``step`` of a plotly figure's slider with the mouse; the states before and after.

    The click lands on the slider's rail under that step's tick, as a reader's would, so the
    slider itself runs the step's precomputed restyle (no kernel behind the page).
    """
    state = f"{PLOTLY_STATE_JS}({json.dumps(div_id)})"
    before = browser.evaluate(state)
    assert before is not None, f"#{div_id}: no plotly figure with a slider drawn on the page"
    assert before["plotly_loaded"] and before["active"] != step, before
    tick_on_rail = f"""
      const tick = gd.querySelectorAll('.slider-tick-rect')[{step}].getBoundingClientRect();
      const rail = gd.querySelector('.slider-rail-rect').getBoundingClientRect();
      return {{x: tick.left + tick.width / 2, y: rail.top + rail.height / 2}};"""
    return before, _click_and_wait(browser, div_id, tick_on_rail, state, "paths", before)


def _assert_slider_moved(before: dict, after: dict, step: int) -> None:
    assert after["active"] == step, (before["active"], after["active"])
    assert after["y"] != before["y"], "the slider did not change the figure's data"
    assert after["paths"] != before["paths"], "the slider did not redraw the lines"


def test_tiny_book_precomputed_slider_moves_offline(browser, serve, tiny_html):
    """The tiny chapter's plotly slider (plotly.js from _vendor/, beside RequireJS) works."""
    base = serve(tiny_html)
    check_page(browser, base, CHAPTER)
    before, after = move_plotly_slider(browser, "wiloc-tiny-slider", 2)
    _assert_slider_moved(before, after, 2)
    assert after["y"] == [1, 3, 0, 2], after


def test_check_page_catches_a_remote_script(browser, serve, tmp_path):
    """The checker itself must fail on a page that reaches for a CDN."""
    (tmp_path / "bad.html").write_text(
        "<html><head><script src='https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js'>"
        "</script></head><body>$x$</body></html>")
    base = serve(tmp_path)
    with pytest.raises(AssertionError, match="left the book's own server|failed to load"):
        check_page(browser, base, "bad.html")


# ------------------------------------------------------------------------------------
# The real build/html, when `make book` has produced it
# ------------------------------------------------------------------------------------


def _need_built_book() -> None:
    if not (BUILT_HTML / "index.html").is_file():
        pytest.skip(f"{BUILT_HTML / 'index.html'} not built: run `make book` first")


def test_built_book_landing_page(browser, serve):
    _need_built_book()
    base = serve(BUILT_HTML)
    state = check_page(browser, base, "intro.html", _shots("built"))
    assert "wiloc" in state["title"].lower()


def test_built_book_fingerprint_chapter(browser, serve):
    _need_built_book()
    if not (BUILT_HTML / CHAPTER).is_file():
        pytest.skip(f"{BUILT_HTML / CHAPTER} not built: run its notebook, then `make book`")
    base = serve(BUILT_HTML)
    state = check_page(browser, base, CHAPTER, _shots("built"))
    assert state["images"] >= 1, f"{CHAPTER}: no figure on the page"
    assert state["mjx"] >= 1, f"{CHAPTER}: no typeset math on the page"


def test_built_book_radio_channel_explorer_slider(browser, serve):
    """Chapter 01's precomputed explorer: moving its slider redraws the channel, no kernel."""
    _need_built_book()
    page = "01-radio-channel.html"
    if not (BUILT_HTML / page).is_file():
        pytest.skip(f"{BUILT_HTML / page} not built: run its notebook, then `make book`")
    if "wiloc-01-radio-channel-explorer" not in (BUILT_HTML / page).read_text(encoding="utf-8"):
        pytest.skip(f"{BUILT_HTML / page} predates the precomputed explorer: rebuild the book")
    base = serve(BUILT_HTML)
    check_page(browser, base, page)
    before, after = move_plotly_slider(browser, "wiloc-01-radio-channel-explorer", 0)
    _assert_slider_moved(before, after, 0)


@pytest.mark.parametrize(("page", "div_id"), [
    ("30-lofi-vision-labels.html", "wiloc-30-fig4-cdf"),
    ("50-wifi-trilateration-net.html", "wiloc-50-error-cdf"),
])
def test_built_book_cdf_buttons_switch_groups(browser, serve, page, div_id):
    """Interactive error CDFs (chapters 30 and 50): a click on the second button shows
    another group's curves (all precomputed in the page, no kernel)."""
    _need_built_book()
    if div_id not in ((BUILT_HTML / page).read_text(encoding="utf-8")
                      if (BUILT_HTML / page).is_file() else ""):
        pytest.skip(f"{BUILT_HTML / page} has no interactive CDF: run its notebook, then "
                    "`make book`")
    base = serve(BUILT_HTML)
    check_page(browser, base, page)
    state = f"""(() => {{
      const gd = document.getElementById({json.dumps(div_id)});
      if (!gd || !gd._fullLayout) return null;
      return {{visible: gd.data.map(t => t.visible === true),
               lines: gd.querySelectorAll('.scatterlayer .trace').length,
               buttons: gd.querySelectorAll('.updatemenu-button').length}};
    }})()"""
    before = browser.evaluate(state)
    assert before is not None and before["buttons"] >= 2, before
    second_button = """
      const r = gd.querySelectorAll('.updatemenu-button')[1].getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2};"""
    after = _click_and_wait(browser, div_id, second_button, state, "visible", before)
    assert after["visible"] != before["visible"], "the button did not switch the curves"
    assert not any(a and b for a, b in zip(before["visible"], after["visible"], strict=True))


def test_built_book_every_page(browser, serve):
    """Every page of the real book loads offline without errors (math and images included)."""
    _need_built_book()
    base = serve(BUILT_HTML)
    pages = sorted(p.name for p in BUILT_HTML.glob("*.html") if p.name != "index.html")
    assert "intro.html" in pages and "data.html" in pages
    for page in pages:
        check_page(browser, base, page)
        if page == REPORT_PAGE:
            state = browser.evaluate(REPORT_STATE_JS)
            assert state is not None, f"{page}: no report table (#wiloc-report)"
            assert state["last_head_right"] <= state["article_right"] + 1, state
            assert state["page_overflow"] <= 0, state

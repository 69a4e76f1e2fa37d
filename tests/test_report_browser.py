"""The run report as a person sees it: rendered by headless Chromium from Debian's packages.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``, the
transport Playwright and Puppeteer use), which needs nothing beyond the standard library:
no driver binary, no port to race for, no package to pin. Every read has a deadline and
the browser's process group is killed whatever happens, so the test cannot hang or leave
a browser behind.

The page is loaded from a file:// URL as a reader would open an e-mailed attachment. The
test records console messages, exceptions, log entries and network requests, takes a
screenshot, and reads the numbers and the sizes of the drawn marks back from the DOM to
compare them with ``summary.json``.

Without Chromium the tests skip, unless ``LISTBUILDER_REQUIRE_BROWSER`` is set (CI sets
it), in which case they fail.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from listbuilder.outputs import TABLE_ROWS, run_build
from tests.conftest import Workspace

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 1000
TIMEOUT = 30.0


def find_chromium() -> str | None:
    """Chromium's path: ``LISTBUILDER_CHROMIUM``, else Debian's, else one on PATH."""
    candidates = [
        os.environ.get("LISTBUILDER_CHROMIUM", ""),
        "/usr/bin/chromium",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
        shutil.which("google-chrome") or "",
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _high_fd(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class BrowserError(RuntimeError):
    """The browser did not answer as the protocol says, or not in time."""


class Chromium:
    """A headless Chromium and one page, driven over the DevTools protocol on a pipe.

    Messages are JSON, each ended by a NUL byte; the browser reads fd 3 and writes fd 4.
    Events of the page's session are kept in ``events`` in the order they came.
    """

    def __init__(self, executable: str, profile: Path, *, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._log = profile.parent / "chromium.log"
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The browser's ends move above fd 9 so that placing them on 3 and 4 in the child
        # cannot overwrite one with the other.
        to_browser_r, from_browser_w = (_high_fd(to_browser_r), _high_fd(from_browser_w))
        args = [
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--mute-audio",
            "--force-device-scale-factor=1",
            "--font-render-hinting=none",
            f"--window-size={WIDTH},{HEIGHT}",
        ]
        if os.geteuid() == 0:
            # Chromium will not start as root with its sandbox; CI runs as root.
            args.append("--no-sandbox")
        # Bash only places the pipe ends on fds 3 and 4 and then becomes Chromium;
        # subprocess alone cannot choose the numbers the child sees.
        script = (
            f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w} '
            f"{to_browser_r}<&- {from_browser_w}>&-"
        )
        with open(self._log, "wb") as log:
            self.process = subprocess.Popen(
                ["/bin/bash", "-c", script, executable, *args],
                pass_fds=(to_browser_r, from_browser_w),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.call(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
        except BaseException:
            self.close()
            raise

    # --- protocol -------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\0"
        deadline = time.monotonic() + self.timeout
        while data:
            if time.monotonic() > deadline:
                raise BrowserError("timed out writing to the browser")
            _, ready, _ = select.select([], [self._to_browser], [], 1.0)
            if ready:
                data = data[os.write(self._to_browser, data) :]

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer from the browser in {self.timeout:.0f}s")
            ready, _, _ = select.select([self._from_browser], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError(f"the browser exited; its log:\n{self.log_tail()}")
                self._buffer += chunk
            elif self.process.poll() is not None:
                raise BrowserError(f"the browser exited; its log:\n{self.log_tail()}")
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, page: bool = False
    ) -> dict[str, Any]:
        """Send one command and return its result; events met meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for the page's next event ``method`` (or one already received)."""
        for event in self.events:
            if event["method"] == method:
                return event
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if "method" in reply:
                self.events.append(reply)
                if reply["method"] == method:
                    return reply

    # --- page -----------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Load ``url`` with console, log and network recording on; wait for ``load``."""
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", page=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            page=True,
        )
        self.events.clear()
        result = self.call("Page.navigate", {"url": url}, page=True)
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            page=True,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = True) -> bytes:
        """Save a PNG of the page (the whole page, or the first screen) and return it."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.call("Page.captureScreenshot", params, page=True)["data"]
        png = base64.b64decode(data)
        path.write_bytes(png)
        return png

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "warning",
                "assert",
            ):
                args = [a.get("value", a.get("description")) for a in params["args"]]
                found.append(f"console.{params['type']}: {args}")
            elif event["method"] == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] in (
                "error",
                "warning",
            ):
                found.append(f"log {params['entry']['level']}: {params['entry']['text']}")
        return found

    def requests(self) -> list[str]:
        """The URL of every request the page made, the page's own included."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    def log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def close(self) -> None:
        """Ask the browser to quit, then make sure its whole process group is gone."""
        try:
            if self.process.poll() is None:
                self._next_id += 1
                self._send({"id": self._next_id, "method": "Browser.close", "params": {}})
                self.process.wait(timeout=10)
        except (BrowserError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            for fd in (self._to_browser, self._from_browser):
                with contextlib.suppress(OSError):
                    os.close(fd)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        message = (
            "no Chromium found (looked for $LISTBUILDER_CHROMIUM, /usr/bin/chromium and "
            "chromium, chromium-browser, google-chrome on PATH); install Debian's with "
            ".ci/install-chromium"
        )
        if os.environ.get("LISTBUILDER_REQUIRE_BROWSER"):
            pytest.fail(f"{message}; LISTBUILDER_REQUIRE_BROWSER is set, so this fails")
        pytest.skip(message)
    return path


@pytest.fixture
def browser(chromium_path: str, tmp_path: Path) -> Iterator[Chromium]:
    chrome = Chromium(chromium_path, tmp_path / "profile")
    try:
        yield chrome
    finally:
        chrome.close()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two months of the sample data; the report of the second, with changes."""
    root = tmp_path_factory.mktemp("sample")
    inputs = {
        "rules_path": ROOT / "rules" / "example.toml",
        "companies_path": ROOT / "data" / "companies.parquet",
        "jobs_path": ROOT / "data" / "jobs.parquet",
        "funding_path": ROOT / "data" / "funding.parquet",
        "crm_path": ROOT / "data" / "crm.csv",
        "events_paths": {
            name: ROOT / "data" / f"{name}.parquet"
            for name in ("exec_hires", "intent", "layoffs", "headcount")
        },
    }
    run_build(**inputs, as_of=dt.date(2026, 10, 1), out=root / "2026-10")
    run_build(
        **inputs, as_of=dt.date(2026, 11, 1), out=root / "2026-11", previous_path=root / "2026-10"
    )
    return root / "2026-11"


def resolve(summary: Any, field: str) -> Any:
    """The value a JSON pointer (RFC 6901) names in the summary."""
    value = summary
    for raw in field.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


READ_FIELDS = """
Array.from(document.querySelectorAll("[data-field]")).map(function (e) {
  var r = e.getBoundingClientRect();
  return {field: e.dataset.field, value: Number(e.dataset.value),
          text: e instanceof SVGElement ? null : e.textContent, w: r.width, h: r.height};
})
"""

READ_BARS = """
Array.from(document.querySelectorAll("table.bars")).map(function (t) {
  return {chart: t.dataset.chart, scale: Number(t.dataset.scale),
    bars: Array.from(t.querySelectorAll("svg.bar")).map(function (svg) {
      return {width: svg.getBoundingClientRect().width,
        rects: Array.from(svg.querySelectorAll("rect[data-value]")).map(function (r) {
          return {cls: r.getAttribute("class"), value: Number(r.dataset.value),
                  w: r.getBoundingClientRect().width};
        })};
    })};
})
"""

READ_HISTOGRAMS = """
Array.from(document.querySelectorAll("svg.histogram")).map(function (svg) {
  return {chart: svg.dataset.chart,
    bars: Array.from(svg.querySelectorAll("rect[data-value]")).map(function (r) {
      var b = r.getBoundingClientRect();
      return {score: r.dataset.score, value: Number(r.dataset.value), left: b.left,
              h: b.height, bottom: b.bottom};
    }),
    lines: Array.from(svg.querySelectorAll("line.threshold")).map(function (l) {
      return {score: l.dataset.score, x: l.getBoundingClientRect().left};
    })};
})
"""

TABLE_COLUMN = """
Array.from(document.querySelector('[data-chart="table:%s"]').tBodies[0].rows)
  .map(function (row) { return row.cells[%d].textContent; })
"""


def open_report(browser: Chromium, run: Path) -> None:
    browser.open((run / "report.html").as_uri())


def test_report_loads_clean_and_offline(browser: Chromium, sample_run: Path) -> None:
    open_report(browser, sample_run)
    assert browser.problems() == []
    # The page itself is the only request: no script, style, font or image is fetched.
    assert browser.requests() == [(sample_run / "report.html").as_uri()]
    assert browser.evaluate("document.title") == "List run as of 2026-11-01"


def test_screenshot_shows_the_report(browser: Chromium, sample_run: Path, tmp_path: Path) -> None:
    open_report(browser, sample_run)
    png = browser.screenshot(tmp_path / "report.png")
    width, height = png_size(png)
    page_height = browser.evaluate("document.documentElement.scrollHeight")
    assert width == WIDTH
    assert height == page_height
    # A report with two segments, charts and a 50-row table is several screens long,
    # and the page fits the window's width: nothing runs off to the right.
    assert height > 3 * HEIGHT
    assert browser.evaluate("document.documentElement.scrollWidth") == WIDTH
    assert browser.problems() == []


def test_numbers_on_the_page_are_the_summary(browser: Chromium, sample_run: Path) -> None:
    summary = json.loads((sample_run / "summary.json").read_text(encoding="utf-8"))
    open_report(browser, sample_run)
    shown = browser.evaluate(READ_FIELDS)
    for item in shown:
        expected = resolve(summary, item["field"])
        assert item["value"] == expected, item
        if item["text"] is not None:
            assert int(item["text"].replace(",", "")) == expected, item
            assert item["w"] > 0 and item["h"] > 0, f"not visible: {item}"
    fields = {item["field"] for item in shown}
    expected_fields = {"/suppressed"}
    for i, seg in enumerate(summary["segments"]):
        expected_fields |= {f"/segments/{i}/funnel/{key}" for key in seg["funnel"]}
        expected_fields |= {f"/segments/{i}/tiers/{name}" for name in seg["tiers"]}
        expected_fields |= {f"/segments/{i}/disqualifiers/{d}" for d in seg["disqualifiers"]}
        expected_fields |= {
            f"/segments/{i}/score_histogram/{k}/accounts"
            for k in range(len(seg["score_histogram"]))
        }
    for name, counts in summary["changes"].items():
        expected_fields |= {f"/changes/{name}/{kind}" for kind in counts}
    assert expected_fields <= fields, sorted(expected_fields - fields)


def test_bars_are_drawn_to_scale(browser: Chromium, sample_run: Path) -> None:
    open_report(browser, sample_run)
    charts = browser.evaluate(READ_BARS)
    names = {c["chart"] for c in charts}
    assert {"funnel:core_saas", "tiers:core_saas", "disqualifiers:emea_mid_market"} <= names
    checked = 0
    for chart in charts:
        for bar in chart["bars"]:
            px_per_unit = bar["width"] / chart["scale"]
            for rect in bar["rects"]:
                expected = rect["value"] * px_per_unit
                assert abs(rect["w"] - expected) <= 1.0, (chart["chart"], rect, expected)
                checked += 1
    assert checked > 50


def test_histograms_match_the_summary_with_thresholds(browser: Chromium, sample_run: Path) -> None:
    summary = json.loads((sample_run / "summary.json").read_text(encoding="utf-8"))
    open_report(browser, sample_run)
    charts = {c["chart"]: c for c in browser.evaluate(READ_HISTOGRAMS)}
    for seg in summary["segments"]:
        chart = charts[f"scores:{seg['name']}"]
        drawn = {int(b["score"]): b for b in chart["bars"]}
        counts = {h["score"]: h["accounts"] for h in seg["score_histogram"]}
        # One bar per score from the lowest to the highest, zero where no account scores.
        assert {s: b["value"] for s, b in drawn.items() if b["value"]} == counts
        assert sum(counts.values()) == seg["funnel"]["eligible"]
        tallest = max(drawn.values(), key=lambda b: b["value"])
        px_per_account = tallest["h"] / tallest["value"]
        for bar in drawn.values():
            assert abs(bar["h"] - bar["value"] * px_per_account) <= 1.0, bar
            assert abs(bar["bottom"] - tallest["bottom"]) <= 1.0, bar
        # A dashed line at each tier's score threshold, on the left edge of that score's
        # bar (a tier by percentage has none on the score axis).
        lines = {int(line["score"]): line["x"] for line in chart["lines"]}
        thresholds = [t["min_score"] for t in seg["tier_plan"] if t["min_score"] is not None]
        assert sorted(lines) == sorted(thresholds)
        for score, x in lines.items():
            assert abs(drawn[score]["left"] - x) <= 2.0, (score, x, drawn[score])


def test_tier_one_table_lists_the_top_accounts_and_sorts(
    browser: Chromium, sample_run: Path
) -> None:
    import polars as pl

    open_report(browser, sample_run)
    listed = pl.read_parquet(sample_run / "core_saas.parquet")
    tier1 = listed.filter(pl.col("tier") == "Tier 1").sort("rank")
    names = browser.evaluate(TABLE_COLUMN % ("core_saas", 1))
    assert names == tier1["name"].to_list()[:TABLE_ROWS]

    browser.evaluate(
        "document.querySelector('[data-chart=\"table:core_saas\"] thead th:nth-child(2)').click()"
    )
    assert browser.evaluate(TABLE_COLUMN % ("core_saas", 1)) == sorted(names, key=str.lower)
    score_head = "document.querySelector('[data-chart=\"table:core_saas\"] thead th:nth-child(4)')"
    browser.evaluate(f"{score_head}.click()")
    browser.evaluate(f"{score_head}.click()")
    assert browser.evaluate(f"{score_head}.getAttribute('aria-sort')") == "descending"
    scores = [int(s) for s in browser.evaluate(TABLE_COLUMN % ("core_saas", 3))]
    assert scores == sorted(tier1["score"].to_list(), reverse=True)
    assert browser.problems() == []


HOSTILE = '<img src="http://127.0.0.1:9/x.png" onerror="window.__pwned=1">'
HOSTILE_SCRIPT = "</td><script>window.__pwned=2</script>"


def test_hostile_names_stay_text(browser: Chromium, ws: Workspace) -> None:
    ws.companies(
        [
            {"company_id": "c1", "name": HOSTILE, "country": "US", "industry": HOSTILE},
            {"company_id": "c2", "name": HOSTILE_SCRIPT, "country": "US"},
        ]
    )
    ws.rules(
        """
        [[segments]]
        name = "us"
        description = "<b>US</b> accounts"
        [segments.include]
        country = ["US"]
        [[segments.score]]
        label = "<i>any</i>"
        when = { country = ["US"] }
        points = 1
        [[segments.tiers]]
        name = "Tier <1>"
        min_score = 1
        """
    )
    ws.build()
    open_report(browser, ws.out)
    assert browser.problems() == []
    assert browser.requests() == [(ws.out / "report.html").as_uri()]
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.evaluate("document.images.length") == 0
    assert browser.evaluate("document.scripts.length") == 1
    assert sorted(browser.evaluate(TABLE_COLUMN % ("us", 1))) == sorted([HOSTILE, HOSTILE_SCRIPT])
    text = browser.evaluate("document.body.textContent")
    assert "<b>US</b> accounts" in text
    assert "Tier <1>: 2 accounts" in text
    assert "<i>any</i>" in text

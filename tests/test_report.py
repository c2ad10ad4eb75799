"""``newswatch report``: the HTML page over a real run of the recorded fixtures, on SQLite and
Postgres. Each chart's data (its points' and bars' ``data-*``) and each table's rows are compared
with counts read independently from the analysts' views and the runs tables; strings from the
database are escaped; the page fetches nothing; an empty period says so. Then a real headless
Chromium loads the file at a laptop's and a phone's width, over the DevTools protocol: no
console error, no request beyond the file, no sideways scrolling, a screenshot of the size asked.
"""

from __future__ import annotations

import ast
import base64
import itertools
import json
import os
import re
import signal
import struct
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import REPO
from support.alerting import alerts_toml, ingest, jsonl_channel
from typer.testing import CliRunner
from websockets.sync.client import ClientConnection, connect

from pipeline.cli import app
from pipeline.store import db, schema

runner = CliRunner()
# The fixtures' last week, whole Hong Kong days: the views' days can then be compared as they are.
SINCE, UNTIL = "2025-11-14", "2025-11-20"
DAYS = tuple(date(2025, 11, 14) + timedelta(days=n) for n in range(7))
TOP = 6
TOP_STORIES = 10
NO_DATA = "No data in this period"
# Where the views' day falls in the period, written as a literal both dialects compare with.
IN_PERIOD = f"BETWEEN '{SINCE}' AND '{UNTIL}'"
HOSTILE_TITLE = '<script>alert("x")</script> 穩定幣 & "quotes"'
HOSTILE_TAG = "<b>Evil & Co</b>"
HOSTILE_ERROR = "<img src=x onerror=alert(1)>"


def as_day(value: Any) -> str:
    """A view's day (text on SQLite, a date on Postgres) as 'YYYY-MM-DD'."""
    return value.isoformat() if isinstance(value, date) else str(value)


def rows(url: str, sql: str) -> list[Any]:
    """The rows of ``sql``."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def report(url: str, out: Path, *args: str) -> Any:
    """Run ``newswatch report`` into ``out``; the Click result."""
    return runner.invoke(app, ["report", "--out", str(out), "--db", url, *args])


def parsed(path: Path) -> LexborHTMLParser:
    return LexborHTMLParser(path.read_text(encoding="utf-8"))


def chart_data(page: LexborHTMLParser, figure: str, mark: str) -> dict[tuple[str, str], int]:
    """(series, day) → value of every point or bar of a figure."""
    found: dict[tuple[str, str], int] = {}
    for node in page.css(f"#{figure} {mark}[data-series]"):
        key = (node.attributes["data-series"] or "", node.attributes["data-day"] or "")
        assert key not in found, f"{figure}: {key} drawn twice"
        found[key] = int(node.attributes["data-value"] or "")
        tooltip = node.css_first("title")
        assert tooltip is not None and tooltip.text().strip(), f"{figure}: {key} has no tooltip"
    return found


def grid(values: dict[tuple[str, str], int], series: list[str]) -> dict[tuple[str, str], int]:
    """Every (series, day) of the period, zero where ``values`` has none."""
    return {(s, d.isoformat()): values.get((s, d.isoformat()), 0) for s in series for d in DAYS}


# --- a report over the fixtures -------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(module_migrated_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One run over the recorded fixtures, once per dialect (read only)."""
    folder = tmp_path_factory.mktemp("report")
    outcome = ingest(
        module_migrated_db_url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a.jsonl")})
    )
    assert outcome.status == "completed", outcome.error
    return module_migrated_db_url


@pytest.fixture(scope="module")
def written(filled: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of the fixtures' last week, and what the command printed."""
    out = tmp_path_factory.mktemp("page") / "report.html"
    result = report(filled, out, "--since", SINCE, "--until", UNTIL, "--top", str(TOP))
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def page(written: tuple[Path, str]) -> LexborHTMLParser:
    return parsed(written[0])


@pytest.mark.parametrize(
    ("kind", "figure"), [("entity", "entities-chart"), ("topic", "topics-chart")]
)
def test_each_tag_chart_holds_the_top_tags_articles_per_day(
    filled: str, page: LexborHTMLParser, kind: str, figure: str
) -> None:
    counts = rows(
        filled,
        f"SELECT tag_id, day_hk, articles FROM daily_tag_counts"
        f" WHERE kind = '{kind}' AND day_hk {IN_PERIOD}",
    )
    totals: Counter[str] = Counter()
    for tag, _, articles in counts:
        totals[tag] += articles
    top = sorted(totals, key=lambda tag: (-totals[tag], tag))[:TOP]
    expected = grid({(tag, as_day(day)): n for tag, day, n in counts}, top)
    assert chart_data(page, figure, "circle") == expected
    legend = [node.attributes["data-series"] for node in page.css(f"#{figure} .legend li")]
    assert legend == top
    assert page.css_first(f"#{figure} figcaption").text().strip()
    assert page.css_first(f"#{figure} svg").attributes["viewBox"]


def test_the_regulator_chart_counts_items_per_regulator_and_day(
    filled: str, page: LexborHTMLParser
) -> None:
    items = rows(
        filled,
        "SELECT source_id, story_id, doc_type, reference, published_day_hk FROM regulator_items"
        f" WHERE published_day_hk {IN_PERIOD}",
    )
    # A release and its translations share story, regulator, type and reference: one item.
    first_day: dict[tuple[Any, ...], str] = {}
    for source, story, doc_type, reference, day in items:
        key = (story, source.split("-")[0], doc_type, reference)
        first_day[key] = min(first_day.get(key, as_day(day)), as_day(day))
    per_day = Counter((key[1], day) for key, day in first_day.items())
    assert len(first_day) < len(items), "the fixtures hold translated releases"
    expected = grid(dict(per_day), ["hkma", "sfc"])
    assert chart_data(page, "regulator-chart", "rect") == expected


def test_the_regulator_table_lists_exactly_the_periods_items(
    filled: str, page: LexborHTMLParser
) -> None:
    expected = rows(
        filled,
        "SELECT article_id, lang, title, url FROM regulator_items"
        f" WHERE published_day_hk {IN_PERIOD}",
    )
    table = page.css("#regulator-items tr[data-articles]")
    shown = [int(i) for row in table for i in (row.attributes["data-articles"] or "").split()]
    assert Counter(shown) == Counter(article for article, *_ in expected)
    by_id = {article: (lang, title, url) for article, lang, title, url in expected}
    for row in table:
        ids = [int(i) for i in (row.attributes["data-articles"] or "").split()]
        links = {a.attributes["href"] for a in row.css("a")}
        for article in ids:
            _, title, url = by_id[article]
            assert title in row.text(), (article, title)
            assert url in links, (article, url)
        languages = [node.text() for node in row.css("td:nth-child(6) li")]
        assert languages == [by_id[article][0] for article in ids]
    translated = [row for row in table if len((row.attributes["data-articles"] or "").split()) > 1]
    assert translated and "與銀行有關的詐騙警報" in page.html  # type: ignore[operator]


def test_top_stories_show_their_outlets(filled: str, page: LexborHTMLParser) -> None:
    members = rows(
        filled,
        "SELECT story_id, source_id FROM article_overview"
        f" WHERE published_day_hk {IN_PERIOD} AND story_id IS NOT NULL",
    )
    outlets: dict[int, set[str]] = defaultdict(set)
    articles: Counter[int] = Counter()
    for story, source in members:
        outlets[story].add(source)
        articles[story] += 1
    ranked = sorted(articles, key=lambda s: (-len(outlets[s]), -articles[s], s))[:TOP_STORIES]
    table = page.css("#top-stories tr[data-story]")
    assert [int(row.attributes["data-story"] or "") for row in table] == ranked
    leads = dict(rows(filled, "SELECT story_id, lead_title FROM story_overview"))
    for row in table:
        story = int(row.attributes["data-story"] or "")
        assert int(row.attributes["data-articles"] or "") == articles[story]
        assert set((row.attributes["data-outlets"] or "").split()) == outlets[story]
        cell = [node.text() for node in row.css("td:nth-child(3) li")]
        assert sorted(cell) == sorted(outlets[story])
        assert leads[story] in row.text()
    assert len(outlets[ranked[0]]) >= 5, "the widest story of the week has many outlets"


def test_source_health_lists_each_source_that_ran(filled: str, page: LexborHTMLParser) -> None:
    latest = rows(
        filled,
        "SELECT r.source_id, r.status, r.found, r.new FROM run_sources AS r"
        " WHERE r.run_id = (SELECT MAX(run_id) FROM run_sources WHERE source_id = r.source_id)",
    )
    stored = dict(
        rows(
            filled,
            "SELECT source_id, COUNT(*) FROM article_overview"
            f" WHERE published_day_hk {IN_PERIOD} GROUP BY source_id",
        )
    )
    shown = {
        row.attributes["data-source"]: row for row in page.css("#source-health tr[data-source]")
    }
    assert {source for source, *_ in latest} <= set(shown)
    for source, status, found, new in latest:
        row = shown[source]
        assert row.attributes["data-status"] == status
        assert int(row.attributes["data-articles"] or "") == stored.get(source, 0)
        numbers = [node.text() for node in row.css("td.num")]
        assert numbers[:2] == [str(found), str(new)]
    assert "Last run #1: completed" in page.css_first("#source-health").text()


def test_the_command_says_what_it_wrote(written: tuple[Path, str]) -> None:
    out, output = written
    line = " ".join(output.split())
    assert f"report written to {out}" in line
    assert "2025-11-14 00:00 to 2025-11-21 00:00 Hong Kong time" in line
    assert re.search(r"\b55 articles, 20 regulator items, 10 top stories, 28 sources\b", line)


def test_the_page_fetches_nothing(page: LexborHTMLParser, written: tuple[Path, str]) -> None:
    html = written[0].read_text(encoding="utf-8")
    assert not page.css("script, iframe, object, embed, img, link[rel=stylesheet]")
    for node in page.css("link, script, img, style, source, video, audio"):
        for name in ("src", "href"):
            assert not re.match(r"\s*(https?:)?//", node.attributes.get(name) or ""), node.html
    for style in page.css("style"):
        assert "@import" not in style.text() and "url(" not in style.text()
    assert "@font-face" not in html


def test_the_page_is_laid_out_for_any_width(page: LexborHTMLParser) -> None:
    viewport = page.css_first("meta[name=viewport]")
    assert viewport is not None and "width=device-width" in viewport.attributes["content"]  # type: ignore[operator]
    css = page.css_first("style").text()
    assert "max-width:" in css and "width:100%" in css and "overflow-x:auto" in css
    for svg in page.css("svg"):
        assert re.fullmatch(r"0 0 \d+ \d+", svg.attributes["viewBox"] or "")
    for table in page.css("table"):
        assert table.parent is not None and "scroll" in (table.parent.attributes["class"] or "")


def test_an_empty_period_says_so(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "empty.html"
    result = report(filled, out, "--since", "2030-01-01", "--until", "2030-01-07")
    assert result.exit_code == 0, result.output
    page = parsed(out)
    for figure in ("entities-chart", "topics-chart", "regulator-chart"):
        node = page.css_first(f"#{figure}")
        assert node is not None and NO_DATA in node.text()
        assert not node.css("svg")
    for section in ("regulator-items", "top-stories"):
        assert NO_DATA in page.css_first(f"#{section}").text()
    health = page.css("#source-health tr[data-source]")
    assert health and {row.attributes["data-articles"] for row in health} == {"0"}


def test_an_empty_database_says_so(migrated_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = report(migrated_db_url, out)
    assert result.exit_code == 0, result.output
    text_of = parsed(out).text()
    # Three charts (the regulator one standing for its section), top stories, source health.
    assert text_of.count(NO_DATA) == 5 and "No run recorded." in text_of


def test_strings_from_the_database_are_escaped(migrated_db_url: str, tmp_path: Path) -> None:
    seed_hostile(migrated_db_url)
    out = tmp_path / "report.html"
    result = report(migrated_db_url, out, "--since", "2025-11-01", "--until", "2025-11-30")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "<b>Evil" not in html
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 穩定幣 &amp; &quot;quotes&quot;" in html
    )
    page = parsed(out)
    assert HOSTILE_TITLE in page.css_first("#regulator-items").text()
    assert HOSTILE_TITLE in page.css_first("#top-stories").text()
    assert HOSTILE_TAG in page.css_first("#entities-chart .legend").text()
    assert HOSTILE_ERROR in page.css_first("#source-health").text()
    assert not [a for a in page.css("a") if "javascript" in (a.attributes["href"] or "")]


def seed_hostile(url: str) -> None:
    """A regulator's item whose title, URL, tag and run error are written to break a page."""
    when = datetime(2025, 11, 20, 2, tzinfo=UTC)
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            session.add(
                schema.SourceRow(
                    id="hkma-x",
                    name="<i>x</i>",
                    kind="rss",
                    lang="en",
                    regulator=True,
                    doc_type="circular",
                    urls=[],
                )
            )
            session.add(schema.TagRow(id="evil", name=HOSTILE_TAG, kind="entity", type="org"))
            session.flush()
            article = schema.Article(
                item_key="hkma-x:1",
                source_id="hkma-x",
                item_id="X1",
                url="javascript:alert(1)",
                title=HOSTILE_TITLE,
                text="text",
                lang="zh-hant",
                doc_type="circular",
                regulator=True,
                published_at=when,
                first_seen_at=when,
            )
            session.add(article)
            session.flush()
            session.add(
                schema.Story(
                    id=article.id,
                    lead_article_id=article.id,
                    first_seen_at=when,
                    last_seen_at=when,
                    article_count=1,
                    outlets=["hkma-x"],
                    languages=["zh-hant"],
                    updated_at=when,
                )
            )
            article.story_id = article.id
            session.add(schema.ArticleTag(article_id=article.id, tag_id="evil"))
            run = schema.Run(started_at=when, finished_at=when, status="completed_with_errors")
            session.add(run)
            session.flush()
            session.add(
                schema.RunSource(
                    run_id=run.id,
                    source_id="hkma-x",
                    status="failed",
                    error=HOSTILE_ERROR,
                    finished_at=when,
                )
            )
            session.commit()
    finally:
        engine.dispose()


def test_out_must_not_be_a_directory(filled: str, tmp_path: Path) -> None:
    result = report(filled, tmp_path)
    assert result.exit_code == 1
    assert "is a directory" in result.output


def test_the_file_is_replaced_whole(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    result = report(filled, out, "--since", SINCE, "--until", UNTIL, "--title", "Week <47>")
    assert result.exit_code == 0, result.output
    assert parsed(out).css_first("h1").text() == "Week <47>"
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2025-11-20", "--until", "2025-11-10"], "must start before it ends"),
        (["--since", "someday"], "--since"),
        (["--top", "0"], "--top"),
        (["--top", "99"], "--top 99"),
    ],
)
def test_bad_options_are_named(filled: str, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "report.html"
    result = report(filled, out, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()


def test_the_report_package_imports_no_cli_ingest_or_prefect() -> None:
    forbidden = ("pipeline.cli", "pipeline.ingest", "prefect", "flows")
    for path in sorted((REPO / "pipeline" / "report").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


# --- in a real browser -----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER_ENV = "NEWSWATCH_REQUIRE_BROWSER"
# Only a loopback address: the browser's debugging port must not be reachable from elsewhere.
LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:\d+/devtools/browser/\S+)")
# A cold start of Chromium takes about a second here; CI machines can be several times slower.
START_SECONDS = 30.0
CALL_SECONDS = 30.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A screenshot of this page is tens of KB; a blank or broken one compresses to far less.
MIN_SCREENSHOT_BYTES = 10_000
# Events that mean the page went wrong: an uncaught exception, console.error/assert, and the
# browser's own error log (a blocked or failed load).
CONSOLE_ERRORS = ("error", "assert")
# The page's scrolling width, the viewport's, and how far right the charts reach.
WIDTHS = (
    "[document.documentElement.scrollWidth, window.innerWidth, Math.max(0, ...Array.from("
    "document.querySelectorAll('figure svg'), svg => svg.getBoundingClientRect().right))]"
)
# Flags for a browser that runs alone: no first-run pages, no updates, no phoning home.
QUIET_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


@dataclass(frozen=True)
class Viewport:
    """A screen the page is loaded at."""

    name: str
    width: int
    height: int
    scale: float
    mobile: bool


LAPTOP = Viewport("laptop", 1280, 800, 1, mobile=False)
PHONE = Viewport("phone", 390, 844, 2, mobile=True)


@dataclass(frozen=True)
class Loaded:
    """What loading a page showed: its errors, the URLs it requested, its widths, a PNG."""

    errors: list[str]
    requests: list[str]
    scroll_width: int
    inner_width: int
    widest_figure: float
    png: bytes


class DevTools:
    """A minimal Chrome DevTools Protocol client: calls in order, events kept as they come."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = self._receive()
            if reply.get("id") == ident:
                assert "error" not in reply, f"{method}: {reply['error']}"
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(self.socket.recv(timeout=CALL_SECONDS))
        return reply


def browser_or_skip() -> Path:
    """The Chromium binary; skips without it, or fails when CI requires it."""
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"headless Chromium not found at {CHROMIUM}: `make browser` installs it"
    if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_ENV}=1 requires the browser test)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A headless Chromium of its own (temporary profile, debugging on loopback only); its
    DevTools URL. The whole process group is killed afterwards, whatever happened."""
    binary = browser_or_skip()
    folder = tmp_path_factory.mktemp("chromium")
    log = folder / "stderr.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [str(binary), *QUIET_FLAGS, f"--user-data-dir={folder / 'profile'}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        yield devtools_url(process, log)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=CALL_SECONDS)
        group_gone(process.pid)


def devtools_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The browser's DevTools URL, as it writes it on stderr once it listens."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found[1]
        assert process.poll() is None, f"Chromium exited: {log.read_text(errors='replace')}"
        time.sleep(0.05)
    raise AssertionError(f"Chromium did not listen on 127.0.0.1: {log.read_text(errors='replace')}")


def group_gone(group: int) -> None:
    """Wait until no process of ``group`` is alive (renderers and helpers included). A killed
    helper stays a zombie until init reaps it, which can take seconds; it runs no more."""
    deadline = time.monotonic() + CALL_SECONDS
    while time.monotonic() < deadline:
        if not living(group):
            return
        time.sleep(0.05)
    raise AssertionError(f"Chromium's processes {living(group)} outlived the test")


def living(group: int) -> list[int]:
    """The processes of ``group`` that are not zombies, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):  # not a process, or one that just ended
            continue
        # pid (name) state ppid pgrp ...: the name may hold spaces, so split after it.
        state, _, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            found.append(int(entry.name))
    return found


def load(browser: str, page: Path, viewport: Viewport) -> Loaded:
    """Open ``page`` in a new tab at ``viewport``; what it logged, requested, and looked like."""
    with connect(browser, max_size=None, open_timeout=CALL_SECONDS) as socket:
        tools = DevTools(socket)
        target = tools.call("Target.createTarget", url="about:blank")["targetId"]
        session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            tools.call(f"{domain}.enable", session)
        tools.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=viewport.width,
            height=viewport.height,
            deviceScaleFactor=viewport.scale,
            mobile=viewport.mobile,
        )
        tools.call("Page.navigate", session, url=page.as_uri())
        tools.wait_for("Page.loadEventFired")
        widths = tools.call(
            "Runtime.evaluate",
            session,
            returnByValue=True,
            expression=WIDTHS,
        )["result"]["value"]
        shot = tools.call("Page.captureScreenshot", session, format="png")["data"]
        tools.call("Target.closeTarget", targetId=target)
    return Loaded(
        errors=page_errors(tools.events),
        requests=[
            e["params"]["request"]["url"]
            for e in tools.events
            if e.get("method") == "Network.requestWillBeSent"
        ],
        scroll_width=widths[0],
        inner_width=widths[1],
        widest_figure=widths[2],
        png=base64.b64decode(shot),
    )


def page_errors(events: list[dict[str, Any]]) -> list[str]:
    """Each error the page raised or logged, as text."""
    found: list[str] = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in CONSOLE_ERRORS:
            found.append(" ".join(str(arg.get("value", "")) for arg in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(params["entry"]["text"])
    return found


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, read from its IHDR chunk (checked to be a PNG first)."""
    assert png.startswith(PNG_SIGNATURE), "not a PNG"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixtures' report, written from a SQLite database of its own (the page is the same
    on either database; the browser need not load it twice)."""
    folder = tmp_path_factory.mktemp("browser-page")
    url = f"sqlite:///{folder / 'newswatch.db'}"
    db.upgrade(url)
    ingest(url, alerts_toml(folder, {"jsonl": jsonl_channel(folder / "a.jsonl")}))
    out = folder / "report.html"
    result = report(url, out, "--since", SINCE, "--until", UNTIL)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=lambda v: v.name)
def test_the_report_renders_in_chromium(
    browser: str, browser_page: Path, viewport: Viewport, tmp_path: Path
) -> None:
    loaded = load(browser, browser_page, viewport)
    assert loaded.errors == []
    assert loaded.requests == [browser_page.as_uri()], "the page requested something else"
    assert loaded.inner_width == viewport.width
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    assert loaded.scroll_width <= loaded.inner_width
    assert 0 < loaded.widest_figure <= loaded.inner_width
    assert png_size(loaded.png) == (
        int(viewport.width * viewport.scale),
        int(viewport.height * viewport.scale),
    )
    assert len(loaded.png) > MIN_SCREENSHOT_BYTES
    (tmp_path / f"{viewport.name}.png").write_bytes(loaded.png)


def test_a_script_error_on_the_page_is_seen(
    browser: str, browser_page: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.html"
    html = browser_page.read_text(encoding="utf-8")
    script = '<script>console.error("logged");throw new Error("deliberate")</script>'
    broken.write_text(html.replace("</body>", f"{script}</body>"), encoding="utf-8")
    errors = load(browser, broken, LAPTOP).errors
    assert any("deliberate" in error for error in errors), errors
    assert any("logged" in error for error in errors), errors

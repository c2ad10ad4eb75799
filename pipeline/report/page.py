"""The report as one self-contained HTML page: inline CSS and SVG, nothing fetched.

No IO: the data in, the markup out. Every string the database gave (titles, names, URLs,
errors) is escaped; a link is made only of an ``http``/``https`` URL. Rows carry their data
(``data-articles``, ``data-story``, ``data-source``…) beside what they show, so the page can be
checked from its markup. The layout is one column on a phone and two chart columns on a laptop;
a wide table scrolls inside its own box instead of widening the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline.dates import HONG_KONG
from pipeline.report.charts import NO_DATA, Chart, Series, line_chart, stacked_bar_chart

if TYPE_CHECKING:
    from pipeline.store.report_reads import (
        RegulatorRelease,
        ReportData,
        RunSummary,
        SourceHealth,
        StoryRank,
        TagSeries,
    )

# A source's last outcome, worst first: the health table leads with what needs a look.
STATUS_ORDER = ("failed", "partial", "never run", "skipped", "ok", "disabled")
LINKABLE_SCHEMES = ("http", "https")
CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--bad:#b42318;--warn:#9a6700}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;color:var(--fg);background:#fff;font:15px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Noto Sans","Noto Sans CJK TC","PingFang TC","Microsoft JhengHei",sans-serif}
main{max-width:1120px;margin:0 auto;padding:16px}
h1{font-size:1.45rem;margin:.2em 0 .1em}
h2{font-size:1.15rem;margin:1.6em 0 .5em}
a{color:#0a58ca}
.period,.note{color:var(--muted);margin:.2em 0}
.summary{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0;padding:0;list-style:none}
.summary li{border:1px solid var(--line);border-radius:8px;padding:6px 12px;background:var(--soft)}
.summary b{font-size:1.2rem;margin-right:.3em}
nav a{margin-right:1em;white-space:nowrap}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:14px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px;min-width:0}
figcaption{font-weight:600;margin-bottom:6px}
figure svg{display:block;width:100%;height:auto}
.legend{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:2px 14px;
font-size:.85rem}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.35em}
.total{color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);
border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);white-space:nowrap}
tr:last-child td{border-bottom:0}
.num{text-align:right;font-variant-numeric:tabular-nums}
.nowrap{white-space:nowrap}
.title{min-width:16em;overflow-wrap:anywhere}
.wrap{min-width:10em;overflow-wrap:anywhere}
.alt{display:block;color:var(--muted);font-size:.85rem;margin-top:2px}
.list{display:inline;margin:0;padding:0;list-style:none}
.list li{display:inline}
.list li+li::before{content:", "}
.status-failed,.status-never-run{color:var(--bad);font-weight:600}
.status-partial,.status-skipped{color:var(--warn);font-weight:600}
.status-disabled{color:var(--muted)}
.status-ok{color:#1a7f37}
#regulator-items .charts{margin-bottom:14px}
#regulator-types table{font-size:.85rem}
@media (max-width:600px){main{padding:10px}body{font-size:14px}h1{font-size:1.25rem}}
"""


def render_report(data: ReportData, *, title: str, generated_at: datetime) -> str:
    """The whole page for ``data``, headed ``title``, stamped ``generated_at``."""
    days = report_days(data.since, data.until)
    body = "".join(
        [
            _header(data, title, generated_at),
            '<section id="per-day"><h2>Per day</h2><div class="charts">',
            line_chart(_tag_chart("entities-chart", "entities", data.entities, days)),
            line_chart(_tag_chart("topics-chart", "topics", data.topics, days)),
            '</div><p class="note">Hong Kong days. An article counts on the day it was '
            "published (the day it was first stored when its source gave no date); "
            "syndicated copies count too, as in the view daily_tag_counts.</p></section>",
            _regulator_section(data.releases, days),
            _stories_section(data.stories),
            _health_section(data.sources, data.last_run),
        ]
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def report_days(since: datetime, until: datetime) -> tuple[date, ...]:
    """Every Hong Kong day the period touches (``until`` exclusive)."""
    first = since.astimezone(HONG_KONG).date()
    last = (until - timedelta(microseconds=1)).astimezone(HONG_KONG).date()
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def period_text(since: datetime, until: datetime) -> str:
    """The period as a reader here writes it: Hong Kong times, ``until`` exclusive."""
    return f"{_local(since)} to {_local(until)} Hong Kong time"


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M")


def _header(data: ReportData, title: str, generated_at: datetime) -> str:
    troubled = sum(_status(source) in STATUS_ORDER[:3] for source in data.sources)
    tiles = (
        (data.articles, "articles"),
        (len(data.releases), "regulator items"),
        (troubled, "sources needing a look"),
    )
    summary = "".join(f"<li><b>{count}</b>{label}</li>" for count, label in tiles)
    return (
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="period">{period_text(data.since, data.until)} · generated '
        f"{_local(generated_at)}</p>"
        f'<ul class="summary">{summary}</ul>'
        # Spaces between the links: the line may wrap there on a narrow screen.
        '<nav><a href="#per-day">Per day</a> <a href="#regulator-items">Regulator items</a> '
        '<a href="#top-stories">Top stories</a> <a href="#source-health">Source health</a>'
        "</nav></header>"
    )


def _tag_chart(
    figure_id: str, kind: str, tags: Sequence[TagSeries], days: tuple[date, ...]
) -> Chart:
    series = tuple(
        Series(tag.tag_id, tag.name, tuple(tag.by_day.get(day, 0) for day in days)) for tag in tags
    )
    caption = f"Top {kind}: articles naming each, per day"
    return Chart(figure_id, caption, days, series, "articles")


def _regulator_chart(releases: Sequence[RegulatorRelease], days: tuple[date, ...]) -> Chart:
    counts: dict[str, dict[date, int]] = {}
    for release in releases:
        per_day = counts.setdefault(release.regulator, {})
        per_day[release.day] = per_day.get(release.day, 0) + 1
    series = tuple(
        Series(regulator, regulator.upper(), tuple(counts[regulator].get(d, 0) for d in days))
        for regulator in sorted(counts)
    )
    caption = "Regulator items per day (a release and its translations count once)"
    return Chart("regulator-chart", caption, days, series, "items")


def _regulator_section(releases: Sequence[RegulatorRelease], days: tuple[date, ...]) -> str:
    head = ("Published (HKT)", "Title", "Regulator", "Type", "Reference", "Languages", "Source")
    rows = [_release_row(release) for release in releases]
    charts = (
        f'<div class="charts">{stacked_bar_chart(_regulator_chart(releases, days))}'
        f"{_types_figure(releases)}</div>"
    )
    if not releases:  # the chart says there is nothing: no second "no data" under it
        return f'<section id="regulator-items"><h2>Regulator items</h2>{charts}</section>'
    return _section("regulator-items", "Regulator items", head, rows, charts)


def _types_figure(releases: Sequence[RegulatorRelease]) -> str:
    """How many items of each document type each regulator published in the period."""
    if not releases:
        return ""
    regulators = sorted({release.regulator for release in releases})
    counts: dict[tuple[str, str], int] = {}
    for release in releases:
        key = (release.doc_type, release.regulator)
        counts[key] = counts.get(key, 0) + 1
    head = "".join(f'<th class="num">{escape(r.upper())}</th>' for r in regulators)
    rows = "".join(
        f'<tr data-doc-type="{escape(doc_type)}"><td>{escape(doc_type)}</td>'
        + "".join(f'<td class="num">{counts.get((doc_type, r), "")}</td>' for r in regulators)
        + "</tr>"
        for doc_type in sorted({doc_type for doc_type, _ in counts})
    )
    return (
        '<figure id="regulator-types"><figcaption>Regulator items by document type'
        f'</figcaption><div class="scroll"><table><thead><tr><th>Type</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div></figure>"
    )


def _release_row(release: RegulatorRelease) -> str:
    first, others = release.versions[0], release.versions[1:]
    alternates = "".join(
        f'<span class="alt" lang="{escape(v.lang or "")}">{_link(v.title, v.url)}</span>'
        for v in others
    )
    languages = _list(_link(v.lang or "?", v.url) for v in release.versions)
    sources = _list(escape(s) for s in dict.fromkeys(v.source_id for v in release.versions))
    ids = " ".join(str(v.article_id) for v in release.versions)
    # The time goes under the date, keeping the column narrow so a phone shows the title beside
    # it. A date-only item (the HKMA's) is stored at midnight Hong Kong time: no time is shown.
    local = None if release.published_at is None else release.published_at.astimezone(HONG_KONG)
    at = f'<span class="alt">{local:%H:%M}</span>' if local and local.time() != time(0) else ""
    return (
        f'<tr data-articles="{ids}" data-regulator="{escape(release.regulator)}" '
        f'data-day="{release.day.isoformat()}">'
        f'<td class="nowrap">{release.day.isoformat()}{at}</td>'
        f'<td class="title" lang="{escape(first.lang or "")}">{_link(first.title, first.url)}'
        f"{alternates}</td><td>{escape(release.regulator.upper())}</td>"
        f'<td>{escape(release.doc_type)}</td><td class="nowrap">'
        f"{escape(release.reference or '')}</td><td>{languages}</td><td>{sources}</td></tr>"
    )


def _stories_section(stories: Sequence[StoryRank]) -> str:
    head = ("Story", "Lead article", "Outlets", "Languages", "Articles")
    rows = [
        f'<tr data-story="{story.story_id}" data-articles="{story.articles}" '
        f'data-outlets="{escape(" ".join(story.outlets))}">'
        f'<td class="num">{story.story_id}</td>'
        f'<td class="title">{_link(story.lead_title or "(no title)", story.lead_url)}</td>'
        f'<td class="wrap"><b>{len(story.outlets)}</b>: '
        f"{_list(escape(outlet) for outlet in story.outlets)}</td>"
        f"<td>{_list(escape(lang) for lang in story.languages)}</td>"
        f'<td class="num">{story.articles}</td></tr>'
        for story in stories
    ]
    note = (
        '<p class="note">The stories most outlets told in the period, then the largest: '
        "outlets, languages and articles count the story's articles of the period.</p>"
    )
    return _section("top-stories", "Top stories", head, rows, note)


def _health_section(sources: Sequence[SourceHealth], last_run: RunSummary | None) -> str:
    head = (
        *("Source", "Last run", "Found", "New", "Duplicates", "Errors", "Last success"),
        *("Articles in period", "Error"),
    )
    ordered = sorted(sources, key=lambda s: (STATUS_ORDER.index(_status(s)), s.source_id))
    rows = [_health_row(source) for source in ordered]
    if last_run is None:
        note = '<p class="note">No run recorded.</p>'
    else:
        error = f": {escape(last_run.error)}" if last_run.error else ""
        note = (
            f'<p class="note">Last run #{last_run.id}: {escape(last_run.status)}{error}, '
            f"started {_local(last_run.started_at)}, finished "
            f"{_local(last_run.finished_at) or 'not yet'} (Hong Kong time).</p>"
        )
    return _section("source-health", "Source health", head, rows, note)


def _health_row(source: SourceHealth) -> str:
    status = _status(source)
    ran = source.status is not None
    counts = "".join(
        f'<td class="num">{value if ran else ""}</td>'
        for value in (source.found, source.new, source.duplicates, source.errors)
    )
    return (
        f'<tr data-source="{escape(source.source_id)}" data-status="{escape(status)}" '
        f'data-articles="{source.articles}">'
        f'<td class="wrap"><b>{escape(source.source_id)}</b>'
        f'<span class="alt">{escape(source.name)}</span></td>'
        f'<td class="nowrap"><span class="status-{status.replace(" ", "-")}">'
        f'{escape(status)}</span><span class="alt">{_local(source.finished_at)}</span></td>'
        f'{counts}<td class="nowrap">{_local(source.last_success_at)}</td>'
        f'<td class="num">{source.articles}</td>'
        f'<td class="wrap">{escape(source.error or "")}</td></tr>'
    )


def _status(source: SourceHealth) -> str:
    """The last outcome a reader needs: a disabled source's runs no longer matter."""
    if not source.enabled:
        return "disabled"
    return source.status or "never run"


def _section(
    anchor: str, heading: str, head: Sequence[str], rows: Sequence[str], intro: str = ""
) -> str:
    """A titled table, after ``intro``, in a box of its own that scrolls sideways on a narrow
    screen."""
    if not rows:
        return (
            f'<section id="{anchor}"><h2>{heading}</h2>{intro}<p class="empty">{NO_DATA}</p>'
            "</section>"
        )
    cells = "".join(f"<th>{escape(name)}</th>" for name in head)
    return (
        f'<section id="{anchor}"><h2>{heading}</h2>{intro}<div class="scroll"><table>'
        f"<thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _link(text: str, url: str | None) -> str:
    """``text`` escaped, linked to ``url`` only when it is a web address."""
    shown = escape(text)
    if not url or urlsplit(url.strip()).scheme.lower() not in LINKABLE_SCHEMES:
        return shown
    return f'<a href="{escape(url.strip())}" rel="noopener noreferrer">{shown}</a>'


def _list(items: Iterable[str]) -> str:
    """Markup already escaped, as an inline list."""
    return '<ul class="list">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"

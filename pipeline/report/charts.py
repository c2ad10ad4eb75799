"""Charts as inline SVG: counts per Hong Kong day, one line or one stacked bar per series.

Pure functions from numbers to markup, no IO. Each chart is a ``<figure>`` with its caption, an
SVG that scales to its container (``viewBox``, ``width: 100%`` in the page's CSS) and a legend
in HTML, so the legend wraps and keeps its size on a narrow screen. Every point or bar carries
its data (``data-series``, ``data-day``, ``data-value``) and a ``<title>`` tooltip, so what a
chart shows can be checked from the markup alone. A chart with nothing to show says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from html import escape

# The drawing's own units; the page scales it. 480 wide keeps the axis text legible both at a
# laptop's half-width column (about 1:1) and on a phone (about 0.7:1).
WIDTH = 480
HEIGHT = 220
MARGIN_LEFT = 34
MARGIN_RIGHT = 8
MARGIN_TOP = 10
MARGIN_BOTTOM = 26
FONT_SIZE = 12
# Day labels under the axis: more would overlap at this width ("14 Nov" is about 40 units).
MAX_DAY_LABELS = 8
# Gridlines up the value axis, at round numbers.
MAX_VALUE_TICKS = 5
# Share of a day's width a bar fills, leaving a gap between days.
BAR_FILL = 0.72
# A point's radius, shrunk when days are narrower than a few radii.
POINT_RADIUS = 3.5
# Okabe and Ito's colours, told apart with the common colour-vision deficiencies; the series a
# chart can show is bounded by them.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#7F7F7F")
WEEKEND_FILL = "#f2f4f7"
GRID_STROKE = "#d8dee4"
AXIS_TEXT = "#57606a"
NO_DATA = "No data in this period"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Series:
    """One series: its machine key (``data-series``), its label, a value per day of the chart."""

    key: str
    label: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    """A chart's figure id, caption, days, series, and the unit its values count."""

    figure_id: str
    caption: str
    days: tuple[date, ...]
    series: tuple[Series, ...]
    unit: str


@dataclass(frozen=True)
class _Frame:
    """Where days and values fall in the drawing."""

    days: int
    peak: int

    @property
    def step(self) -> int:
        """The value between two gridlines."""
        return _step(self.peak)

    @property
    def top(self) -> int:
        """The axis's top: the peak rounded up to a whole step."""
        return self.step * math.ceil(max(self.peak, 1) / self.step)

    @property
    def band(self) -> float:
        """The width of one day."""
        return (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / self.days

    def x(self, index: int) -> float:
        """The middle of day ``index``."""
        return MARGIN_LEFT + self.band * (index + 0.5)

    def y(self, value: float) -> float:
        """The height of ``value`` (SVG's y grows downwards)."""
        plot = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
        return MARGIN_TOP + plot * (1 - value / self.top)


def line_chart(chart: Chart) -> str:
    """A figure with one line per series, a point per day."""
    if not _has_data(chart):
        return _empty(chart)
    frame = _Frame(len(chart.days), max(max(s.values) for s in chart.series))
    radius = min(POINT_RADIUS, frame.band / 3)
    parts = _axes(chart, frame)
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{_n(frame.x(i))},{_n(frame.y(v))}" for i, v in enumerate(series.values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
            f'stroke-linejoin="round" points="{points}"/>'
        )
        for i, (day, value) in enumerate(zip(chart.days, series.values, strict=True)):
            parts.append(
                f'<circle class="point" cx="{_n(frame.x(i))}" cy="{_n(frame.y(value))}" '
                f'r="{_n(radius)}" fill="{colour}"{_data(series, day, value)}>'
                f"{_tooltip(series, day, value, chart.unit)}</circle>"
            )
    return _figure(chart, parts)


def stacked_bar_chart(chart: Chart) -> str:
    """A figure with a bar per day, its series stacked in order (the first at the bottom)."""
    if not _has_data(chart):
        return _empty(chart)
    totals = [sum(values) for values in zip(*(s.values for s in chart.series), strict=True)]
    frame = _Frame(len(chart.days), max(totals))
    width = frame.band * BAR_FILL
    parts = _axes(chart, frame)
    for i, day in enumerate(chart.days):
        below = 0
        for index, series in enumerate(chart.series):
            value = series.values[i]
            top, bottom = frame.y(below + value), frame.y(below)
            parts.append(
                f'<rect class="bar" x="{_n(frame.x(i) - width / 2)}" y="{_n(top)}" '
                f'width="{_n(width)}" height="{_n(bottom - top)}" '
                f'fill="{PALETTE[index % len(PALETTE)]}"{_data(series, day, value)}>'
                f"{_tooltip(series, day, value, chart.unit)}</rect>"
            )
            below += value
    return _figure(chart, parts)


def day_label(day: date) -> str:
    """A day as the report writes it: ``Thu 20 Nov 2025``."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _has_data(chart: Chart) -> bool:
    return bool(chart.days) and any(any(s.values) for s in chart.series)


def _step(peak: int) -> int:
    """Gridlines' spacing: 1, 2 or 5 times a power of ten, for a few lines up to ``peak``."""
    rough = max(peak, 1) / MAX_VALUE_TICKS
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= rough:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _axes(chart: Chart, frame: _Frame) -> list[str]:
    """Weekend bands, value gridlines with their numbers, and day labels."""
    parts: list[str] = []
    height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    for i, day in enumerate(chart.days):
        if day.weekday() >= 5:
            parts.append(
                f'<rect x="{_n(frame.x(i) - frame.band / 2)}" y="{MARGIN_TOP}" '
                f'width="{_n(frame.band)}" height="{height}" fill="{WEEKEND_FILL}"/>'
            )
    for value in range(0, frame.top + 1, frame.step):
        y = _n(frame.y(value))
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y}" y2="{y}" '
            f'stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 5}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{value}</text>'
        )
    every = math.ceil(len(chart.days) / MAX_DAY_LABELS)
    for i, day in enumerate(chart.days):
        if i % every == 0:
            parts.append(
                f'<text x="{_n(frame.x(i))}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
                f'text-anchor="middle">{day.day} {_MONTHS[day.month - 1]}</text>'
            )
    return parts


def _figure(chart: Chart, parts: list[str]) -> str:
    caption_id = f"{chart.figure_id}-caption"
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{caption_id}" '
        f'font-size="{FONT_SIZE}" fill="{AXIS_TEXT}" preserveAspectRatio="xMidYMid meet">'
        + "".join(parts)
        + "</svg>"
    )
    return (
        f'<figure id="{escape(chart.figure_id)}" class="chart">'
        f'<figcaption id="{caption_id}">{escape(chart.caption)}</figcaption>'
        f"{svg}{_legend(chart)}</figure>"
    )


def _legend(chart: Chart) -> str:
    items = "".join(
        f'<li data-series="{escape(series.key)}"><span class="swatch" '
        f'style="background:{PALETTE[index % len(PALETTE)]}"></span>'
        f'{escape(series.label)} <span class="total">{sum(series.values)}</span></li>'
        for index, series in enumerate(chart.series)
    )
    return f'<ul class="legend">{items}</ul>'


def _empty(chart: Chart) -> str:
    return (
        f'<figure id="{escape(chart.figure_id)}" class="chart empty-chart">'
        f"<figcaption>{escape(chart.caption)}</figcaption>"
        f'<p class="empty">{NO_DATA}</p></figure>'
    )


def _data(series: Series, day: date, value: int) -> str:
    return f' data-series="{escape(series.key)}" data-day="{day.isoformat()}" data-value="{value}"'


def _tooltip(series: Series, day: date, value: int, unit: str) -> str:
    return f"<title>{escape(series.label)}, {day_label(day)}: {value} {escape(unit)}</title>"


def _n(value: float) -> str:
    """A coordinate, short: two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")

"""Charts as inline SVG drawn on the server, and the table each one comes with.

No JavaScript, no foreign origin and no style attributes: colours and fonts come from classes in
`static/analytics.css` (`s0`…`s5` per series). Every chart is an image with a title and a description for
screen readers; the page shows its figures in a table under it, and the table is what the CSV export holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

WIDTH = 720
LEFT, RIGHT, TOP, BOTTOM = 56, 44, 34, 34
LINE_HEIGHT = 270
BAR_LABEL_WIDTH = 150
TICKS = 4
SERIES_CLASSES = 6
MAX_LINES = 6


@dataclass(frozen=True)
class Column:
    """A table column: its heading and how its values read (text, count, share, number)."""

    name: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """The figures behind a chart, one tuple per row in the columns' order."""

    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class Series:
    """One named line or bar group: a value per label (None: nothing known)."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    """One chart on an analytics page: its key (for `?chart=` and anchors), the SVG and its table."""

    key: str
    title: str
    description: str
    svg: Markup
    table: Table
    notes: tuple[str, ...] = field(default=())


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least `value` (1 for nothing to show)."""
    if value <= 0 or math.isnan(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def format_value(value: float | None, *, percent: bool = False, unit: str = "") -> str:
    """How a chart or table shows a value: '87.5 %', '3', '2.4 h', '–' for unknown."""
    if value is None:
        return "–"
    if percent:
        return f"{value * 100:.1f} %"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{text}{unit}"


def _open(key: str, title: str, description: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{key}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="chart-{key}-title chart-{key}-desc">',
        f'<title id="chart-{key}-title">{escape(title)}</title>',
        f'<desc id="chart-{key}-desc">{escape(description)}</desc>',
    ]


def _legend(series: Sequence[Series], y: float = 14) -> list[str]:
    parts, x = [], LEFT
    for index, item in enumerate(series):
        parts.append(
            f'<rect class="key s{index % SERIES_CLASSES}" x="{x}" y="{y - 9}" width="12" height="12" rx="2"/>'
            f'<text class="legend" x="{x + 17}" y="{y + 1}">{escape(item.name)}</text>'
        )
        x += 24 + 7.2 * len(item.name)
    return parts


def _empty(parts: list[str], height: int) -> Markup:
    parts.append(f'<text class="empty" x="{WIDTH / 2}" y="{height / 2}">No data in this range</text></svg>')
    return Markup("".join(parts))


def line_chart(
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
    unit: str = "",
    y_max: float | None = None,
    y_min: float = 0.0,
) -> Markup:
    """Lines over `labels` (weeks), at most MAX_LINES of them; the y axis from `y_min` to `y_max` (or a
    round number above the largest value)."""
    series = list(series)[:MAX_LINES]
    height = LINE_HEIGHT
    parts = _open(key, title, description, height)
    known = [v for s in series for v in s.values if v is not None]
    if not labels or not known:
        return _empty(parts, height)
    top = y_max if y_max is not None else nice_ceiling(max(known))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(labels) > 1 else plot_w / 2)

    span = (top - y_min) or 1.0

    def y(value: float) -> float:
        return TOP + plot_h - (min(max(value, y_min), top) - y_min) / span * plot_h

    for n in range(TICKS + 1):
        value = y_min + span * n / TICKS
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="axis end" x="{LEFT - 6}" y="{y(value) + 4:.1f}">'
            f"{escape(format_value(value, percent=percent, unit=unit))}</text>"
        )
    every = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text class="axis mid" x="{x(i):.1f}" y="{height - BOTTOM + 18}">{escape(label)}</text>'
            )
    for index, line in enumerate(series):
        css = f"s{index % SERIES_CLASSES}"
        run: list[str] = []
        for i, value in enumerate([*line.values, None]):
            if value is not None:
                run.append(f"{x(i):.1f},{y(value):.1f}")
            elif run:
                if len(run) > 1:
                    parts.append(f'<polyline class="line {css}" points="{" ".join(run)}"/>')
                run = []
        for i, value in enumerate(line.values):
            if value is not None:
                shown = format_value(value, percent=percent, unit=unit)
                parts.append(
                    f'<circle class="dot {css}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5">'
                    f"<title>{escape(line.name)}, {escape(labels[i])}: {escape(shown)}</title></circle>"
                )
    parts += _legend(series)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    key: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
    unit: str = "",
    x_max: float | None = None,
) -> Markup:
    """Horizontal bars, one group per category and one bar per series, values written at the bar ends."""
    bar, gap = 14, 10
    group = bar * len(series) + gap
    height = TOP + BOTTOM + max(len(categories), 1) * group
    parts = _open(key, title, description, height)
    known = [v for s in series for v in s.values if v is not None]
    if not categories or not known:
        return _empty(parts, height)
    top = x_max if x_max is not None else nice_ceiling(max(known))
    left = BAR_LABEL_WIDTH
    plot_w = WIDTH - left - RIGHT - 60

    def width(value: float) -> float:
        return min(max(value, 0.0), top) / top * plot_w

    for n in range(TICKS + 1):
        value = top * n / TICKS
        gx = left + width(value)
        parts.append(
            f'<line class="grid" x1="{gx:.1f}" x2="{gx:.1f}" y1="{TOP - 4}" y2="{height - BOTTOM}"/>'
            f'<text class="axis mid" x="{gx:.1f}" y="{height - BOTTOM + 16}">'
            f"{escape(format_value(value, percent=percent, unit=unit))}</text>"
        )
    for c, category in enumerate(categories):
        y0 = TOP + c * group
        parts.append(
            f'<text class="label end" x="{left - 8}" y="{y0 + bar * len(series) / 2 + 4:.1f}">'
            f"{escape(category[:24])}</text>"
        )
        for index, item in enumerate(series):
            value = item.values[c]
            if value is None:
                continue
            css = f"s{index % SERIES_CLASSES}"
            by = y0 + index * bar
            shown = format_value(value, percent=percent, unit=unit)
            parts.append(
                f'<rect class="bar {css}" x="{left}" y="{by}" width="{max(width(value), 1):.1f}" '
                f'height="{bar - 2}"><title>{escape(category)}, {escape(item.name)}: {escape(shown)}</title></rect>'
                f'<text class="value" x="{left + width(value) + 4:.1f}" y="{by + bar - 4}">{escape(shown)}</text>'
            )
    if len(series) > 1:
        parts += _legend(series)
    parts.append("</svg>")
    return Markup("".join(parts))


def calibration_chart(
    key: str, title: str, description: str, points: Sequence[tuple[float, float, int]]
) -> Markup:
    """Observed share (y) against mean predicted probability (x) per bin, dots sized by count, with the
    diagonal a perfectly calibrated model would follow."""
    height = 340
    parts = _open(key, title, description, height)
    if not points:
        return _empty(parts, height)
    size = height - TOP - BOTTOM
    left = LEFT + 40

    def px(value: float) -> float:
        return left + value * size

    def py(value: float) -> float:
        return TOP + size - value * size

    for n in range(TICKS + 1):
        value = n / TICKS
        parts.append(
            f'<line class="grid" x1="{px(0)}" x2="{px(1)}" y1="{py(value):.1f}" y2="{py(value):.1f}"/>'
            f'<line class="grid" x1="{px(value):.1f}" x2="{px(value):.1f}" y1="{py(0)}" y2="{py(1)}"/>'
            f'<text class="axis end" x="{px(0) - 6}" y="{py(value) + 4:.1f}">{value * 100:.0f} %</text>'
            f'<text class="axis mid" x="{px(value):.1f}" y="{py(0) + 16}">{value * 100:.0f} %</text>'
        )
    parts.append(f'<line class="diagonal" x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}"/>')
    biggest = max(n for _, _, n in points) or 1
    for mean_p, observed, n in points:
        radius = 3 + 9 * math.sqrt(n / biggest)
        parts.append(
            f'<circle class="dot s0" cx="{px(mean_p):.1f}" cy="{py(observed):.1f}" r="{radius:.1f}">'
            f"<title>predicted {mean_p * 100:.1f} %, observed {observed * 100:.1f} %, {n} shipments</title>"
            "</circle>"
        )
    parts.append(
        f'<text class="axis mid" x="{px(0.5)}" y="{height - 4}">predicted p_late (mean of the bin)</text>'
        f'<text class="axis" x="{px(1) + 12}" y="{py(0.5)}">observed</text>'
        f'<text class="axis" x="{px(1) + 12}" y="{py(0.5) + 14}">late share</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))

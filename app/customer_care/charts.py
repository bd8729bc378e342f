"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable by screen readers (a title and
a description; the pages show the same figures in a table)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 30, 36
TICKS = 5


@dataclass(frozen=True)
class Series:
    """One line: a value per label (None leaves a gap), its colour and whether it is dashed."""

    name: str
    values: Sequence[float | None]
    colour: str
    dashed: bool = False


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least `value` (1 for nothing to show)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], *, low: float, high: float, unit: str = ""
) -> Markup:
    """A line chart of `series` over `labels`, the y axis from `low` to `high`."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (high - low) or 1.0
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(value: float) -> float:
        return TOP + plot_h - (min(max(value, low), high) - low) / span * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{_id(title)}-t">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
    ]
    for n in range(TICKS + 1):
        value = low + span * n / TICKS
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#e3e6ee" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6475">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    every = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                f'fill="#5b6475">{escape(label)}</text>'
            )
    for index, line in enumerate(series):
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        for segment in _segments(line.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="2"{dash}/>'
            )
        for i, value in enumerate(line.values):
            if value is not None:
                parts.append(
                    f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{line.colour}">'
                    f"<title>{escape(line.name)}, {escape(labels[i])}: {escape(_number(value))}{escape(unit)}"
                    "</title></circle>"
                )
        legend_x = LEFT + index * 170
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="12" y2="12" stroke="{line.colour}" '
            f'stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 24}" y="16" font-size="12" fill="#1f2430">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive known values (a lone point is drawn as its dot only)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if len(run) > 1]


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _id(title: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in title.lower())[:40]

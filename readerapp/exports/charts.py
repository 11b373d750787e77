"""Bar charts as server-rendered SVG: accessible (role="img", title, desc), no script and no
inline styles, so they print and work under a strict Content Security Policy."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 300
LEFT = 56
RIGHT = 16
TOP = 36
BOTTOM = 56


@dataclass(frozen=True)
class Series:
    name: str
    # A text (a suppressed count of people, "fewer than 5") draws no bar and is told as it is.
    values: list[int | float | str]
    fill: str


def nice_ceiling(value: float) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × a power of ten)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def bar_chart(
    chart_id: str, title: str, desc: str, labels: list[str], series: list[Series]
) -> Markup:
    """Grouped vertical bars, one group per label, with a value axis and a legend."""
    numbers = [v for s in series for v in s.values if isinstance(v, int | float)]
    top_value = nice_ceiling(max(numbers, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    bar_w = max(2.0, slot * 0.8 / max(1, len(series)))
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    # Value axis: five gridlines with their values.
    for i in range(6):
        value = top_value * i / 5
        y = TOP + plot_h - plot_h * i / 5
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#c9d1db" stroke-width="1"/>'
        )
        label = f"{value:,.0f}" if top_value >= 5 else f"{value:,.1f}"
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    for li, label in enumerate(labels):
        group_x = LEFT + slot * li + slot * 0.1
        for si, s in enumerate(series):
            value = s.values[li]
            h = plot_h * value / top_value if isinstance(value, int | float) else 0
            x = group_x + bar_w * si
            y = TOP + plot_h - h
            shown = (
                f"{value:,.2f}"
                if isinstance(value, float)
                else f"{value:,}"
                if isinstance(value, int)
                else value
            )
            tip = f"{escape(s.name)}, {escape(label)}: {escape(shown)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{s.fill}"><title>{tip}</title></rect>'
            )
        # Label every month when there is room, otherwise every few.
        every = max(1, round(len(labels) / 12))
        if li % every == 0:
            cx = LEFT + slot * li + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        f'stroke="#4a5566" stroke-width="1"/>'
    )
    # Legend across the top.
    x = LEFT
    for s in series:
        parts.append(f'<rect x="{x}" y="10" width="14" height="14" fill="{s.fill}"/>')
        parts.append(f'<text x="{x + 20}" y="22">{escape(s.name)}</text>')
        x += 30 + 8 * len(s.name)
    parts.append("</svg>")
    # Every text interpolated above went through escape().
    return Markup("".join(parts))  # noqa: S704

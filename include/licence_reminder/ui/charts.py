"""Small charts as inline SVG: no script and no file from elsewhere, so they print and work offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")

_W, _H = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 12, 44


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]
    color: str = ""


def _colored(series: Sequence[Series]) -> list[Series]:
    return [
        s if s.color else Series(s.name, s.values, PALETTE[i % len(PALETTE)])
        for i, s in enumerate(series)
    ]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * step:
            return m * step
    return 10 * step


def _frame(title: str, top: float, labels: Sequence[str]) -> list[str]:
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    plot_h = _H - _TOP - _BOTTOM
    for i in range(5):
        y = _TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        text = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6b7280">{text}</text>'
        )
    n = len(labels)
    every = max(1, (n + 9) // 10)
    slot = (_W - _LEFT - _RIGHT) / max(n, 1)
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            x = _LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11" fill="#6b7280">{escape(label)}</text>'
            )
    return parts


def _legend(series: Sequence[Series]) -> str:
    x = _LEFT
    out = []
    for s in series:
        out.append(
            f'<rect x="{x}" y="{_H - 16}" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{x + 14}" y="{_H - 7}" font-size="11" fill="#374151">{escape(s.name)}</text>'
        )
        x += 22 + 7 * len(s.name.encode("utf-8")) // 2
    return "".join(out)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str) -> Markup:
    """One line per series over ``labels`` (e.g. days); missing values are gaps."""
    series = _colored(series)
    top = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    parts = _frame(title, top, labels)
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / max(len(labels), 1)
    for s in series:
        points = [
            (_LEFT + slot * (i + 0.5), _TOP + plot_h * (1 - v / top))
            for i, v in enumerate(s.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline fill="none" stroke="{s.color}" stroke-width="2" points="{path}"/>'
            )
        for (x, y), v in zip(points, [v for v in s.values if v is not None], strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.color}">'
                f"<title>{escape(s.name)}: {v:,}</title></circle>"
            )
    parts.append(_legend(series))
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str, stacked: bool = False
) -> Markup:
    """Bars per label, side by side (or stacked) per series."""
    series = _colored(series)
    if stacked:
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
        top = _nice_max(max(totals, default=0))
    else:
        top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    parts = _frame(title, top, labels)
    plot_h = _H - _TOP - _BOTTOM
    slot = (_W - _LEFT - _RIGHT) / max(len(labels), 1)
    width = slot * 0.8 / (1 if stacked else max(len(series), 1))
    for i, label in enumerate(labels):
        base = _TOP + plot_h
        for j, s in enumerate(series):
            v = s.values[i] or 0
            h = plot_h * v / top
            x = _LEFT + slot * i + slot * 0.1 + (0 if stacked else j * width)
            y = base - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{s.color}"><title>{escape(label)} · '
                f"{escape(s.name)}: {v:,}</title></rect>"
            )
            if stacked:
                base = y
    parts.append(_legend(series))
    parts.append("</svg>")
    return Markup("".join(parts))

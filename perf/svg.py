"""Small static SVG charts for the perf report: no JavaScript, no network, no dependencies.

Three shapes cover the report: horizontal range bars on a log scale with target marks
(:func:`latency_chart`), lines over time (:func:`line_chart`) and grouped horizontal bars
(:func:`bar_chart`). Each returns an ``<svg>`` string to inline in HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

__all__ = ["PALETTE", "Bar", "LatencyRow", "Line", "bar_chart", "latency_chart", "line_chart"]

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04",
           "#db2777", "#4b5563", "#65a30d")  # fmt: skip
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    size = "" if "font-size" in extra else ' font-size="12"'
    head = f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT}{size} {extra}>'
    return f"{head}{escape(text)}</text>"


def _fmt_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.3g} s"
    if ms >= 1:
        return f"{ms:.3g} ms"
    return f"{ms * 1000:.3g} µs"


@dataclass
class LatencyRow:
    """One endpoint: its p50..p99 range, and targets (ms) to mark."""

    label: str
    p50: float
    p99: float
    p90: float | None = None
    targets: list[tuple[float, str]] = field(default_factory=list)
    note: str = ""
    server_p99: float | None = None


def latency_chart(rows: Sequence[LatencyRow], *, title: str, width: int = 900) -> str:
    """Horizontal p50-p99 bars on a log axis; each target is a red tick with its label."""
    label_w, right = 290, 190
    row_h, top = 34, 44
    height = top + row_h * len(rows) + 40
    values = [v for r in rows for v in (r.p50, r.p99, *(t for t, _ in r.targets)) if v > 0]
    low = 10 ** math.floor(math.log10(min(values, default=1)))
    high = 10 ** math.ceil(math.log10(max(values, default=1000)))
    span = math.log10(high) - math.log10(low) or 1
    plot_w = width - label_w - right

    def x(ms: float) -> float:
        ms = min(max(ms, low), high)
        return label_w + (math.log10(ms) - math.log10(low)) / span * plot_w

    parts = [_text(10, 22, title, extra='font-weight="600" font-size="14"')]
    decade = low
    while decade <= high:
        gx = x(decade)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 34}" '
            'stroke="#e5e7eb"/>'
        )
        parts.append(_text(gx, height - 18, _fmt_ms(decade), "middle", 'fill="#6b7280"'))
        decade *= 10
    for i, row in enumerate(rows):
        y = top + i * row_h
        parts.append(_text(label_w - 10, y + 15, row.label, "end"))
        x50, x99 = x(row.p50), x(row.p99)
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{max(x50 - label_w, 1):.1f}" height="16" '
            'fill="#bfdbfe"/>'
        )
        parts.append(
            f'<rect x="{x50:.1f}" y="{y + 4}" width="{max(x99 - x50, 1.5):.1f}" height="16" '
            'fill="#2563eb"/>'
        )
        if row.p90 is not None:
            parts.append(
                f'<line x1="{x(row.p90):.1f}" y1="{y + 4}" x2="{x(row.p90):.1f}" y2="{y + 20}" '
                'stroke="#1e3a8a" stroke-width="1.5"/>'
            )
        if row.server_p99 is not None:
            sx = x(row.server_p99)
            parts.append(
                f'<polygon points="{sx:.1f},{y + 2} {sx + 5:.1f},{y + 12} {sx:.1f},{y + 22} '
                f'{sx - 5:.1f},{y + 12}" fill="#16a34a" stroke="white"/>'
            )
        for target, name in row.targets:
            tx = x(target)
            parts.append(
                f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + 24}" stroke="#dc2626" '
                'stroke-width="2.5"/>'
            )
            parts.append(_text(tx + 4, y + 31, name, extra='fill="#dc2626" font-size="10"'))
        value = f"p50 {_fmt_ms(row.p50)} · p99 {_fmt_ms(row.p99)}"
        parts.append(_text(width - right + 12, y + 16, value, extra='fill="#374151"'))
    legend_y = height - 4
    parts.append(
        _text(
            label_w,
            legend_y,
            "client-side: light 0–p50, dark p50–p99, tick p90 · green: quipu's own p99 · "
            "red: target",
            extra='fill="#6b7280" font-size="10"',
        )
    )
    return _svg(width, height, parts)


@dataclass
class Line:
    label: str
    points: list[tuple[float, float]]
    dashed: bool = False
    color: str | None = None


def line_chart(
    lines: Sequence[Line],
    *,
    title: str,
    y_label: str,
    x_label: str = "seconds",
    width: int = 900,
    height: int = 300,
    y_max: float | None = None,
) -> str:
    """Lines over a shared x axis, with a legend on the right."""
    left, right, top, bottom = 60, 260, 36, 40
    xs = [p[0] for line in lines for p in line.points] or [0, 1]
    ys = [p[1] for line in lines for p in line.points if math.isfinite(p[1])] or [0, 1]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    top_y = y_max if y_max is not None else _nice(max(ys) * 1.1 or 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * plot_w

    def py(v: float) -> float:
        return top + plot_h - min(v, top_y) / top_y * plot_h

    parts = [_text(10, 22, title, extra='font-weight="600" font-size="14"')]
    for i in range(5):
        v = top_y * i / 4
        parts.append(
            f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" '
            'stroke="#e5e7eb"/>'
        )
        parts.append(_text(left - 6, py(v) + 4, f"{v:g}", "end", 'fill="#6b7280"'))
    for i in range(6):
        v = x0 + (x1 - x0) * i / 5
        parts.append(_text(px(v), height - 22, f"{v:.0f}", "middle", 'fill="#6b7280"'))
    parts.append(_text(left + plot_w / 2, height - 6, x_label, "middle", 'fill="#6b7280"'))
    parts.append(
        _text(14, top + plot_h / 2, y_label, "middle",
              f'fill="#6b7280" transform="rotate(-90 14 {top + plot_h / 2:.0f})"')
    )  # fmt: skip
    for i, line in enumerate(lines):
        color = line.color or PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in line.points if math.isfinite(b))
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        if pts:
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>'
            )
        ly = top + 14 + i * 18
        parts.append(
            f'<line x1="{width - right + 12}" y1="{ly - 4}" x2="{width - right + 30}" '
            f'y2="{ly - 4}" stroke="{color}" stroke-width="3"{dash}/>'
        )
        parts.append(_text(width - right + 36, ly, line.label[:38], extra='font-size="11"'))
    return _svg(width, height, parts)


@dataclass
class Bar:
    label: str
    values: list[float]
    notes: list[str] = field(default_factory=list)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    series: Sequence[str],
    unit: str,
    width: int = 900,
    stacked: bool = False,
    marker: tuple[float, str] | None = None,
) -> str:
    """Horizontal bars, one group per label (or stacked), a value at the end of each."""
    label_w, right, top = 290, 120, 44
    per = 1 if stacked else max(1, len(series))
    row_h = 14 * per + 14
    height = top + row_h * len(bars) + 36
    totals = [sum(b.values) if stacked else max(b.values, default=0) for b in bars]
    high = _nice(max([*totals, marker[0] if marker else 0, 1e-9]) * 1.05)
    plot_w = width - label_w - right

    def w(v: float) -> float:
        return max(v, 0) / high * plot_w

    parts = [_text(10, 22, title, extra='font-weight="600" font-size="14"')]
    for i, name in enumerate(series):
        lx = label_w + i * 190
        parts.append(
            f'<rect x="{lx}" y="28" width="12" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        parts.append(_text(lx + 16, 37, name, extra='font-size="11"'))
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(_text(label_w - 10, y + 4 + 7 * per + 4, bar.label, "end"))
        offset = float(label_w)
        for j, value in enumerate(bar.values):
            color = PALETTE[j % len(PALETTE)]
            by = y + 4 if stacked else y + 4 + j * 14
            parts.append(
                f'<rect x="{offset:.1f}" y="{by}" width="{max(w(value), 1):.1f}" height="12" '
                f'fill="{color}"/>'
            )
            note = bar.notes[j] if j < len(bar.notes) else f"{value:,.4g} {unit}"
            if not stacked:
                parts.append(_text(offset + w(value) + 4, by + 10, note, extra='font-size="11"'))
            else:
                offset += w(value)
        if stacked:
            total = sum(bar.values)
            note = " + ".join(bar.notes) if bar.notes else f"{total:,.4g} {unit}"
            parts.append(_text(offset + 4, y + 14, note, extra='font-size="11"'))
    if marker:
        mx = label_w + w(marker[0])
        parts.append(
            f'<line x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" y2="{height - 30}" '
            'stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        parts.append(_text(mx + 4, height - 18, marker[1], extra='fill="#dc2626" font-size="11"'))
    parts.append(_text(label_w + plot_w, height - 4, unit, "end", 'fill="#6b7280"'))
    return _svg(width, height, parts)


def _nice(value: float) -> float:
    """The next "round" number at or above ``value`` (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _svg(width: int, height: int, parts: list[str]) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img">\n<rect width="{width}" height="{height}" fill="white"/>\n'
        f"{body}\n</svg>"
    )

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

__all__ = [
    "PALETTE",
    "Bar",
    "LatencyRow",
    "Line",
    "bar_chart",
    "fmt_ms",
    "fmt_ratio",
    "fmt_rps",
    "fmt_value",
    "latency_chart",
    "line_chart",
    "text_width",
]

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04",
           "#db2777", "#4b5563", "#65a30d")  # fmt: skip
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    size = "" if "font-size" in extra else ' font-size="12"'
    head = f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT}{size} {extra}>'
    return f"{head}{escape(text)}</text>"


def text_width(text: str, size: float = 12) -> float:
    """A generous estimate of rendered text width in px: charts place labels by it.

    No font metrics without a browser; 0.62 em per character covers system-ui's digits and
    capitals, so a label placed by it never runs into its neighbour.
    """
    return len(text) * size * 0.62


def _fit(text: str, px: float, size: float = 12) -> str:
    """``text`` cut with an ellipsis to fit ``px``."""
    if text_width(text, size) <= px:
        return text
    keep = max(1, int(px / (size * 0.62)) - 1)
    return text[:keep] + "…"


# --- one number format for the whole report (the report_* modules use these too) ------------


def fmt_ms(ms: float | None) -> str:
    """A duration given in ms: 3 significant figures; µs below 1 ms, ms below 1 s, else s."""
    if ms is None or not math.isfinite(ms):
        return "–"
    if ms == 0:
        return "0 ms"
    sign = "-" if ms < 0 else ""
    value = float(f"{abs(ms):.3g}")  # round first: 999.7 ms is "1.00 s", not "1.00e+03 ms"
    if value < 1:
        number, unit = value * 1000, "µs"
    elif value < 1000:
        number, unit = value, "ms"
    else:
        number, unit = value / 1000, "s"
    digits = f"{number:,.0f}" if number >= 1000 else f"{number:#.3g}".rstrip(".")
    return f"{sign}{digits} {unit}"


def _tick_ms(ms: float) -> str:
    """An axis tick: the duration rule of :func:`fmt_ms` without trailing zeros."""
    if ms == 0:
        return "0"
    number, unit = fmt_ms(ms).split(" ")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{number} {unit}"


def fmt_rps(rps: float | None) -> str:
    """Throughput: thousands separators, no decimals ("< 1" rather than a misleading 0)."""
    if rps is None or not math.isfinite(rps):
        return "–"
    if 0 < rps < 0.5:
        return "< 1"
    return f"{rps:,.0f}"


def fmt_ratio(ratio: float | None) -> str:
    """A ratio: two decimals and ×."""
    if ratio is None or not math.isfinite(ratio):
        return "–"
    return f"{ratio:.2f}×"


def fmt_value(value: float, unit: str) -> str:
    """A chart value in its unit's format."""
    if unit == "ms":
        return fmt_ms(value)
    if unit == "req/s":
        return f"{fmt_rps(value)} req/s"
    if unit == "×":
        return fmt_ratio(value)
    return f"{value:,.3g} {unit}"


def _swatch(kind: str, color: str, x: float, y: float) -> str:
    """A legend symbol 14 px wide whose vertical middle is ``y``."""
    if kind == "box":
        return f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="12" height="10" fill="{color}"/>'
    if kind == "diamond":
        return (
            f'<polygon points="{x + 7:.1f},{y - 6:.1f} {x + 12:.1f},{y:.1f} {x + 7:.1f},'
            f'{y + 6:.1f} {x + 2:.1f},{y:.1f}" fill="{color}"/>'
        )
    if kind == "tick":
        return (
            f'<line x1="{x + 7:.1f}" y1="{y - 6:.1f}" x2="{x + 7:.1f}" y2="{y + 6:.1f}" '
            f'stroke="{color}" stroke-width="2.5"/>'
        )
    dash = ' stroke-dasharray="5 3"' if kind == "dash" else ""
    return (
        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 14:.1f}" y2="{y:.1f}" stroke="{color}" '
        f'stroke-width="2.5"{dash}/>'
    )


def _legend(
    items: Sequence[tuple[str, str, str]], x0: float, y: float, x_max: float
) -> tuple[list[str], float]:
    """``(kind, colour, label)`` entries left to right from ``x0``, wrapping at ``x_max``.

    Returns the parts and the baseline of the last line, so the caller can make room.
    """
    parts: list[str] = []
    x = x0
    for kind, color, label in items:
        w = 18 + text_width(label, 11) + 16
        if x > x0 and x + w > x_max:
            x, y = x0, y + 16
        parts.append(_swatch(kind, color, x, y - 4))
        parts.append(_text(x + 18, y, label, extra='font-size="11" fill="#374151"'))
        x += w
    return parts, y


def _place(spans: list[tuple[float, float]], x: float, w: float, low: float, high: float) -> float:
    """Left edge for a label ``w`` wide next to a mark at ``x``: right of it if free, else
    left of it, else right of the last label placed; never left of ``low``."""
    right = (x + 4, x + 4 + w)
    left = (x - 4 - w, x - 4)

    def free(span: tuple[float, float]) -> bool:
        return all(span[1] + 6 <= a or span[0] >= b + 6 for a, b in spans)

    if free(right) and right[1] <= high:
        return right[0]
    if free(left) and left[0] >= low:
        return left[0]
    return max([x + 4, *(b + 6 for _, b in spans)])


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
    """Horizontal p50-p99 bars on a log axis; each target is a red tick with its label.

    Label widths are estimated (:func:`text_width`) and every label is placed where it
    overlaps nothing: endpoint names fit their column, a target's name goes left of its
    tick when the next tick is too close, values sit in their own column on the right.
    """
    values = [f"p50 {fmt_ms(r.p50)} · p99 {fmt_ms(r.p99)}" for r in rows]
    label_w = min(max([text_width(r.label) for r in rows] + [80]) + 20, width * 0.35)
    right = max([text_width(v) for v in values] + [80]) + 24
    row_h, top = 36, 44
    plot_bottom = top + row_h * len(rows)
    numbers = [v for r in rows for v in (r.p50, r.p99, *(t for t, _ in r.targets)) if v > 0]
    low = 10 ** math.floor(math.log10(min(numbers, default=1)))
    high = 10 ** math.ceil(math.log10(max(numbers, default=1000)))
    span = math.log10(high) - math.log10(low) or 1
    plot_w = width - label_w - right

    def x(ms: float) -> float:
        ms = min(max(ms, low), high)
        return label_w + (math.log10(ms) - math.log10(low)) / span * plot_w

    parts = [_text(10, 22, title, extra='font-weight="600" font-size="14"')]
    decades = round(span)
    step = 1 if plot_w / max(decades, 1) >= 60 else 2  # tick labels at least ~60 px apart
    for i in range(decades + 1):
        decade = low * 10**i
        gx = x(decade)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{plot_bottom}" '
            'stroke="#e5e7eb"/>'
        )
        if i % step == 0:
            parts.append(_text(gx, plot_bottom + 16, _tick_ms(decade), "middle", 'fill="#6b7280"'))
    for i, row in enumerate(rows):
        y = top + i * row_h
        parts.append(_text(label_w - 10, y + 15, _fit(row.label, label_w - 14), "end"))
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
        placed: list[tuple[float, float]] = []
        for target, name in sorted(row.targets):
            tx = x(target)
            parts.append(
                f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + 24}" stroke="#dc2626" '
                'stroke-width="2.5"/>'
            )
            w = text_width(name, 10)
            lx = _place(placed, tx, w, label_w, width - right)
            placed.append((lx, lx + w))
            parts.append(_text(lx, y + 33, name, extra='fill="#dc2626" font-size="10"'))
        parts.append(_text(width - right + 12, y + 16, values[i], extra='fill="#374151"'))
    legend, last = _legend(
        [
            ("box", "#bfdbfe", "client 0–p50"),
            ("box", "#2563eb", "client p50–p99"),
            ("tick", "#1e3a8a", "client p90"),
            ("diamond", "#16a34a", "quipu's own p99 (server)"),
            ("tick", "#dc2626", "target"),
        ],
        label_w,
        plot_bottom + 38,
        width - 10,
    )
    parts += legend
    return _svg(width, int(last + 10), parts)


@dataclass
class Line:
    label: str
    points: list[tuple[float, float]]
    dashed: bool = False
    color: str | None = None


def _axis_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.3g}"


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
    """Lines over a shared x axis, with a legend on the right (the chart grows to fit it)."""
    left, top, bottom = 60, 36, 40
    longest = max([text_width(line.label, 11) for line in lines] + [60])
    right = min(longest + 50, width * 0.4)  # the legend column: as wide as its longest label
    height = max(height, top + 14 + 18 * len(lines) + bottom)
    xs = [p[0] for line in lines for p in line.points] or [0, 1]
    ys = [p[1] for line in lines for p in line.points if math.isfinite(p[1])] or [0, 1]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    if y_max is not None:
        y_step, y_ticks = y_max / 4, 4
    else:
        y_step, y_ticks = _ticks(max(ys) * 1.05 or 1)
    top_y = y_step * y_ticks
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * plot_w

    def py(v: float) -> float:
        return top + plot_h - min(v, top_y) / top_y * plot_h

    parts = [_text(10, 22, title, extra='font-weight="600" font-size="14"')]
    for i in range(y_ticks + 1):
        v = y_step * i
        parts.append(
            f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" '
            'stroke="#e5e7eb"/>'
        )
        parts.append(_text(left - 6, py(v) + 4, _axis_number(v), "end", 'fill="#6b7280"'))
    x_step, x_ticks = _ticks(x1 - x0, 6)
    for i in range(x_ticks + 1):
        v = x0 + x_step * i
        if v <= x1 + 1e-9:
            parts.append(_text(px(v), height - 22, _axis_number(v), "middle", 'fill="#6b7280"'))
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
        label = _fit(line.label, right - 46, 11)
        parts.append(_text(width - right + 36, ly, label, extra='font-size="11"'))
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
    """Horizontal bars, one group per label (or stacked), a value at the end of each.

    The legend (with the marker's meaning) wraps above the bars; the right margin is as
    wide as the longest value note, so no note runs off the chart or into another.
    """
    per = 1 if stacked else max(1, len(series))
    notes: list[list[str]] = []
    for bar in bars:
        if stacked:
            total = sum(bar.values)
            notes.append([" + ".join(bar.notes) if bar.notes else fmt_value(total, unit)])
        else:
            notes.append(
                [
                    bar.notes[j] if j < len(bar.notes) else fmt_value(v, unit)
                    for j, v in enumerate(bar.values)
                ]
            )
    label_w = min(max([text_width(b.label) for b in bars] + [60]) + 20, width * 0.35)
    right = min(max([text_width(n, 11) for ns in notes for n in ns] + [40]) + 16, width * 0.4)
    plot_w = width - label_w - right
    items = [("box", PALETTE[i % len(PALETTE)], name) for i, name in enumerate(series)]
    if marker:
        items.append(("dash", "#dc2626", marker[1]))
    legend, last = _legend(items, label_w, 36, width - 10)
    top = last + 14
    row_h = 14 * per + 14
    plot_bottom = top + row_h * len(bars)
    height = plot_bottom + 30
    totals = [sum(b.values) if stacked else max(b.values, default=0) for b in bars]
    step, ticks = _ticks(max([*totals, marker[0] if marker else 0, 1e-9]))
    high = step * ticks

    def w(v: float) -> float:
        return max(v, 0) / high * plot_w

    parts = [_text(10, 22, title, extra='font-weight="600" font-size="14"'), *legend]
    for i in range(ticks + 1):
        v = step * i
        gx = label_w + w(v)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{plot_bottom}" '
            'stroke="#f3f4f6"/>'
        )
        tick = _tick_ms(v) if unit == "ms" else fmt_rps(v) if unit == "req/s" else _axis_number(v)
        parts.append(_text(gx, plot_bottom + 16, tick, "middle", 'fill="#6b7280" font-size="11"'))
    if unit != "ms":  # ms ticks carry their unit; others get it left of the axis
        parts.append(
            _text(label_w - 14, plot_bottom + 16, unit, "end", 'fill="#6b7280" font-size="11"')
        )
    for i, bar in enumerate(bars):
        y = top + i * row_h
        label = _fit(bar.label, label_w - 14)
        parts.append(_text(label_w - 10, y + 4 + 7 * per + 4, label, "end"))
        offset = float(label_w)
        for j, value in enumerate(bar.values):
            color = PALETTE[j % len(PALETTE)]
            by = y + 4 if stacked else y + 4 + j * 14
            parts.append(
                f'<rect x="{offset:.1f}" y="{by}" width="{max(w(value), 1):.1f}" height="12" '
                f'fill="{color}"/>'
            )
            if stacked:
                offset += w(value)
            else:
                parts.append(
                    _text(offset + w(value) + 4, by + 10, notes[i][j], extra='font-size="11"')
                )
        if stacked:
            parts.append(_text(offset + 4, y + 14, notes[i][0], extra='font-size="11"'))
    if marker:
        mx = label_w + w(marker[0])
        parts.append(
            f'<line x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" y2="{plot_bottom}" '
            'stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3"/>'
        )
    return _svg(width, int(height), parts)


def _ticks(high: float, most: int = 5) -> tuple[float, int]:
    """A round step (1, 2, 2.5 or 5 x 10^n) and how many of them reach ``high``: at most
    ``most``, so tick labels stay apart and the longest bar fills most of the plot."""
    exponent = math.floor(math.log10(high / most)) if high > 0 else 0
    for power in (exponent, exponent + 1):
        for base in (1, 2, 2.5, 5):
            step = base * 10.0**power
            if math.ceil(high / step - 1e-9) <= most:
                return step, max(1, math.ceil(high / step - 1e-9))
    return 10.0 ** (exponent + 2), 1


def _svg(width: int, height: int, parts: list[str]) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img">\n<rect width="{width}" height="{height}" fill="white"/>\n'
        f"{body}\n</svg>"
    )

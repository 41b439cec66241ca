"""Inline SVG charts, drawn on the server: no JavaScript, no dependency.

Each function returns one ``<svg>`` element as a string, ready to paste into an HTML page
(or to save as an ``.svg`` file): ``role="img"`` with a ``<title>`` and a ``<desc>`` for
screen readers, a y axis with tick labels and grid lines, an x axis with its labels, a
legend, and a ``<title>`` on every bar, segment and point, which browsers show as a
tooltip. The colours are the Okabe–Ito palette, which stays distinct under the common
forms of colour blindness; line series also differ by dash pattern.

Every label is data (category names, platform names, periods), so every piece of text is
XML-escaped, and characters XML cannot hold are replaced. Input with nothing to draw gives
a chart that says "no data". Marks carry ``class`` (``bar``, ``segment``, ``point``,
``series``) and ``data-value`` attributes, so pages can style them and tests can read them.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["PALETTE", "bar_chart", "line_chart", "stacked_bar_chart"]

#: Okabe–Ito, with yellow last: it is the hardest to see on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
           "#F0E442")
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'
_CHAR_W = 6.2  # the width of one 11px character, near enough for layout
_LABEL_MAX = 24  # characters of an axis label before it is clipped (the tooltip has it all)
_LEGEND_MAX = 32
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# -- text ----------------------------------------------------------------------------------


def _esc(value: object) -> str:
    """``value`` as text safe in XML content and in quoted attributes."""
    return html.escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(v: float) -> str:
    """A value for people: thousands separated, integers without decimals."""
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.4g}" if abs(v) >= 1 else f"{v:.3g}"


def _tick(v: float, step: float) -> str:
    digits = 0
    while digits < 6 and abs(round(step, digits) - step) > 1e-9 * max(1.0, abs(step)):
        digits += 1
    return f"{v:,.{digits}f}"


def _value(v: float) -> float:
    return float(v) if math.isfinite(v) else 0.0


# -- scale and layout -----------------------------------------------------------------------


def _nice(lo: float, hi: float, target: int = 5) -> tuple[float, float, float]:
    """(low, high, step) of round numbers covering ``lo``..``hi`` and zero."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = 1.0
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12 * mag)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where things go: the plot area, the x label slots, the legend, the whole size."""

    left: float
    top: float
    plot_w: float
    plot_h: float
    lo: float
    hi: float
    step: float
    labels: tuple[str, ...]
    rotate: bool
    every: int
    legend: tuple[tuple[str, float, float], ...]  # (name, x, y)
    width: float
    height: float

    def y(self, v: float) -> float:
        return self.top + (self.hi - v) / (self.hi - self.lo) * self.plot_h

    def slot(self) -> float:
        return self.plot_w / max(1, len(self.labels))

    def x(self, i: int) -> float:
        return self.left + self.slot() * (i + 0.5)


def _frame(labels: Sequence[str], lo: float, hi: float, legend: Sequence[str], *,
           width: int, height: int, y_label: str) -> _Frame:
    nlo, nhi, step = _nice(lo, hi)
    ticks = [_tick(nlo + i * step, step) for i in range(round((nhi - nlo) / step) + 1)]
    left = max(len(t) for t in ticks) * _CHAR_W + 14 + (18 if y_label else 0)
    plot_w = max(40.0, width - left - 16)
    shown = [_clip(str(s), _LABEL_MAX) for s in labels]
    longest = max((len(s) for s in shown), default=1) * _CHAR_W
    slot = plot_w / max(1, len(labels))
    rotate = longest + 8 > slot
    every = max(1, math.ceil(14 / slot)) if rotate else 1
    label_h = longest * 0.65 + 18 if rotate else 20.0
    top = 34.0
    y = top + height + label_h + 8
    placed: list[tuple[str, float, float]] = []
    x = left
    for name in legend:
        w = 16 + len(_clip(name, _LEGEND_MAX)) * _CHAR_W + 16
        if x > left and x + w > width - 8:
            x, y = left, y + 18
        placed.append((name, x, y))
        x += w
    total_h = (y + 18 if legend else y) + 4
    return _Frame(left, top, plot_w, float(height), nlo, nhi, step, tuple(map(str, labels)),
                  rotate, every, tuple(placed), float(width), total_h)


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


# -- drawing ---------------------------------------------------------------------------------


def _open(title: str, desc: str, width: float, height: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="vigil-chart" '
        f'aria-label="{_esc(title)}" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" {_FONT} font-size="11">',
        f"<title>{_esc(title)}</title>",
        f"<desc>{_esc(desc)}</desc>",
        f'<text x="8" y="20" font-size="13" font-weight="bold" fill="#222">'
        f"{_esc(_clip(title, 90))}</text>",
    ]


def _empty(title: str, width: int, height: int) -> str:
    total = height + 60
    parts = _open(title, "no data", width, total)
    parts.append(f'<text class="no-data" x="{_f(width / 2)}" y="{_f(total / 2 + 10)}" '
                 f'text-anchor="middle" font-size="13" fill="#666">no data</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _axes(fr: _Frame, y_label: str) -> list[str]:
    out = ['<g class="axes" stroke="#ccc" stroke-width="1">']
    n = round((fr.hi - fr.lo) / fr.step)
    for i in range(n + 1):
        v = fr.lo + i * fr.step
        y = _f(fr.y(v))
        dark = ' stroke="#555"' if abs(v) < fr.step * 1e-9 else ""
        out.append(f'<line x1="{_f(fr.left)}" x2="{_f(fr.left + fr.plot_w)}" y1="{y}" '
                   f'y2="{y}"{dark}/>')
    out.append(f'<line x1="{_f(fr.left)}" x2="{_f(fr.left)}" y1="{_f(fr.top)}" '
               f'y2="{_f(fr.top + fr.plot_h)}" stroke="#555"/>')
    out.append("</g>")
    out.append('<g class="y-ticks" fill="#333" text-anchor="end">')
    for i in range(n + 1):
        v = fr.lo + i * fr.step
        out.append(f'<text x="{_f(fr.left - 6)}" y="{_f(fr.y(v) + 4)}">'
                   f"{_esc(_tick(v, fr.step))}</text>")
    out.append("</g>")
    if y_label:
        cy = fr.top + fr.plot_h / 2
        out.append(f'<text class="y-label" x="12" y="{_f(cy)}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {_f(cy)})" fill="#333">'
                   f"{_esc(_clip(y_label, 40))}</text>")
    base = fr.top + fr.plot_h + 14
    out.append('<g class="x-ticks" fill="#333">')
    for i, label in enumerate(fr.labels):
        if i % fr.every:
            continue
        x = fr.x(i)
        text = _esc(_clip(label, _LABEL_MAX))
        if fr.rotate:
            out.append(f'<text x="{_f(x)}" y="{_f(base)}" text-anchor="end" '
                       f'transform="rotate(-40 {_f(x)} {_f(base)})">{text}'
                       f"<title>{_esc(label)}</title></text>")
        else:
            out.append(f'<text x="{_f(x)}" y="{_f(base)}" text-anchor="middle">{text}'
                       f"<title>{_esc(label)}</title></text>")
    out.append("</g>")
    return out


def _legend(fr: _Frame, line: bool = False) -> list[str]:
    out = ['<g class="legend" fill="#333">']
    for i, (name, x, y) in enumerate(fr.legend):
        colour = PALETTE[i % len(PALETTE)]
        if line:
            dash = _DASHES[(i // len(PALETTE) + i) % len(_DASHES)]
            out.append(f'<line x1="{_f(x)}" x2="{_f(x + 12)}" y1="{_f(y - 4)}" '
                       f'y2="{_f(y - 4)}" stroke="{colour}" stroke-width="2.5"'
                       + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        else:
            out.append(f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="12" height="12" '
                       f'fill="{colour}"/>')
        out.append(f'<text x="{_f(x + 16)}" y="{_f(y)}">{_esc(_clip(name, _LEGEND_MAX))}'
                   f"<title>{_esc(name)}</title></text>")
    out.append("</g>")
    return out


def _x_order(series: Mapping[str, Sequence[tuple[str, float]]]) -> list[str]:
    """Every x label once: sorted where each series lists its own sorted (periods, dates),
    else in order of first appearance."""
    seen: dict[str, None] = {}
    in_order = True
    for points in series.values():
        xs = [str(x) for x, _ in points]
        in_order = in_order and xs == sorted(xs)
        seen.update(dict.fromkeys(xs))
    return sorted(seen) if in_order else list(seen)


# -- the charts ------------------------------------------------------------------------------


def line_chart(series: Mapping[str, Sequence[tuple[str, float]]], *, title: str,
               y_label: str = "", width: int = 640, height: int = 200) -> str:
    """One line per series over shared x labels (periods, say); ``series`` maps a name to
    its (x label, value) points. A series without a point at some x skips it. ``height``
    is that of the plotting area; the whole chart is taller by its labels and legend."""
    series = {str(k): [(str(x), _value(v)) for x, v in pts] for k, pts in series.items()}
    xs = _x_order(series)
    if not xs:
        return _empty(title, width, height)
    values = [v for pts in series.values() for _, v in pts]
    fr = _frame(xs, min(values), max(values), list(series), width=width, height=height,
                y_label=y_label)
    where = {x: i for i, x in enumerate(xs)}
    parts = _open(title, f"Line chart: {len(series)} series over {len(xs)} points"
                  + (f", {y_label}" if y_label else "") + ".", fr.width, fr.height)
    parts += _axes(fr, y_label)
    for n, (name, pts) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        dash = _DASHES[(n // len(PALETTE) + n) % len(_DASHES)]
        ordered = sorted(pts, key=lambda p: where[p[0]])
        coords = " ".join(f"{_f(fr.x(where[x]))},{_f(fr.y(v))}" for x, v in ordered)
        parts.append(f'<g class="series" data-series="{_esc(name)}">')
        if len(ordered) > 1:
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"' + (f' stroke-dasharray="{dash}"' if dash else "")
                         + "/>")
        for x, v in ordered:
            parts.append(f'<circle class="point" cx="{_f(fr.x(where[x]))}" '
                         f'cy="{_f(fr.y(v))}" r="3" fill="{colour}" data-x="{_esc(x)}" '
                         f'data-value="{v!r}"><title>{_esc(name)}, {_esc(x)}: {_num(v)}'
                         f"</title></circle>")
        parts.append("</g>")
    parts += _legend(fr, line=True)
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, y_label: str = "",
              width: int = 640, height: int = 200) -> str:
    """One bar per (label, value), in the order given; negative values hang below zero.
    The legend names what the bars count: ``y_label``, else the title."""
    bars = [(str(label), _value(v)) for label, v in bars]
    if not bars:
        return _empty(title, width, height)
    values = [v for _, v in bars]
    fr = _frame([b[0] for b in bars], min(values), max(values), [y_label or title],
                width=width, height=height, y_label=y_label)
    parts = _open(title, f"Bar chart: {len(bars)} bars"
                  + (f" of {y_label}" if y_label else "") + ".", fr.width, fr.height)
    parts += _axes(fr, y_label)
    w = min(48.0, fr.slot() * 0.7)
    zero = fr.y(0.0)
    parts.append(f'<g class="bars" fill="{PALETTE[0]}">')
    for i, (label, v) in enumerate(bars):
        y = min(zero, fr.y(v))
        parts.append(f'<rect class="bar" x="{_f(fr.x(i) - w / 2)}" y="{_f(y)}" '
                     f'width="{_f(w)}" height="{_f(abs(fr.y(v) - zero))}" '
                     f'data-label="{_esc(label)}" data-value="{v!r}">'
                     f"<title>{_esc(label)}: {_num(v)}</title></rect>")
    parts.append("</g>")
    parts += _legend(fr)
    parts.append("</svg>")
    return "\n".join(parts)


def stacked_bar_chart(rows: Sequence[str], series: Mapping[str, Sequence[float]], *,
                      title: str, y_label: str = "", width: int = 640, height: int = 200
                      ) -> str:
    """One bar per row, stacked from its series' values (``series[name][i]`` is row
    ``i``'s part). Negative and non-finite parts count as zero. Raises ValueError where a
    series has not one value per row."""
    rows = [str(r) for r in rows]
    for name, values in series.items():
        if len(values) != len(rows):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(rows)} rows")
    if not rows or not series:
        return _empty(title, width, height)
    parts_of = {str(k): [max(0.0, _value(v)) for v in vs] for k, vs in series.items()}
    totals = [sum(vs[i] for vs in parts_of.values()) for i in range(len(rows))]
    fr = _frame(rows, 0.0, max(totals), list(parts_of), width=width, height=height,
                y_label=y_label)
    parts = _open(title, f"Stacked bar chart: {len(rows)} bars of {len(parts_of)} parts"
                  + (f", {y_label}" if y_label else "") + ".", fr.width, fr.height)
    parts += _axes(fr, y_label)
    w = min(48.0, fr.slot() * 0.7)
    for n, (name, values) in enumerate(parts_of.items()):
        colour = PALETTE[n % len(PALETTE)]
        parts.append(f'<g class="series" data-series="{_esc(name)}" fill="{colour}">')
        for i, v in enumerate(values):
            below = sum(vs[i] for vs in list(parts_of.values())[:n])
            y0, y1 = fr.y(below), fr.y(below + v)
            parts.append(f'<rect class="segment" x="{_f(fr.x(i) - w / 2)}" y="{_f(y1)}" '
                         f'width="{_f(w)}" height="{_f(y0 - y1)}" data-label="{_esc(rows[i])}" '
                         f'data-value="{v!r}"><title>{_esc(rows[i])}, {_esc(name)}: '
                         f"{_num(v)} of {_num(totals[i])}</title></rect>")
        parts.append("</g>")
    parts += _legend(fr)
    parts.append("</svg>")
    return "\n".join(parts)

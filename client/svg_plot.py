"""A small SVG plotter (plain text, standard library only): panels of points and curves.

The one SVG path of the project: the space plugin's fit figures and `catalytic evolve
pareto --plot` both draw through it, so the thin client gains no plotting dependency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
PANEL_W, PANEL_H = 460, 320
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 16, 34, 46


@dataclass
class Series:
    name: str
    xs: list[float]
    ys: list[float]
    style: str = "points"  # "points" or "line" or "dashed"
    colour: int = 0


@dataclass
class Panel:
    title: str
    xlabel: str
    ylabel: str
    log_x: bool = False
    log_y: bool = False
    series: list[Series] = field(default_factory=list)


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        return [10.0 ** e for e in range(math.floor(lo), math.ceil(hi) + 1)]
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / 5))
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= 6:
            step *= mult
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _fmt(v: float, log: bool) -> str:
    if log:
        return f"1e{round(math.log10(v))}"
    return f"{v:g}"


def _panel(p: Panel, ox: float, oy: float) -> list[str]:
    tx = (lambda v: math.log10(v)) if p.log_x else (lambda v: v)
    ty = (lambda v: math.log10(v)) if p.log_y else (lambda v: v)
    pts = [(tx(x), ty(y)) for s in p.series for x, y in zip(s.xs, s.ys, strict=True)
           if (x > 0 or not p.log_x) and (y > 0 or not p.log_y)]
    if not pts:
        return []
    x0, x1 = min(q[0] for q in pts), max(q[0] for q in pts)
    y0, y1 = min(q[1] for q in pts), max(q[1] for q in pts)
    if x1 == x0:
        x1 += 1
    if y1 == y0:
        y1 += 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    w, h = PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B

    def sx(v: float) -> float:
        return ox + MARGIN_L + (v - x0) / (x1 - x0) * w

    def sy(v: float) -> float:
        return oy + MARGIN_T + h - (v - y0) / (y1 - y0) * h

    out = [f'<rect x="{ox + MARGIN_L}" y="{oy + MARGIN_T}" width="{w}" height="{h}" '
           'fill="none" stroke="#999"/>',
           f'<text x="{ox + PANEL_W / 2}" y="{oy + 20}" text-anchor="middle" '
           f'font-weight="bold">{escape(p.title)}</text>',
           f'<text x="{ox + MARGIN_L + w / 2}" y="{oy + PANEL_H - 8}" '
           f'text-anchor="middle">{escape(p.xlabel)}</text>',
           f'<text x="{ox + 14}" y="{oy + MARGIN_T + h / 2}" text-anchor="middle" '
           f'transform="rotate(-90 {ox + 14} {oy + MARGIN_T + h / 2})">{escape(p.ylabel)}</text>']
    for t in _ticks(x0, x1, p.log_x):
        v = math.log10(t) if p.log_x else t
        if x0 <= v <= x1:
            out.append(f'<text x="{sx(v):.1f}" y="{oy + MARGIN_T + h + 16}" '
                       f'text-anchor="middle" font-size="10">{_fmt(t, p.log_x)}</text>')
    for t in _ticks(y0, y1, p.log_y):
        v = math.log10(t) if p.log_y else t
        if y0 <= v <= y1:
            out.append(f'<text x="{ox + MARGIN_L - 4}" y="{sy(v) + 3:.1f}" text-anchor="end" '
                       f'font-size="10">{_fmt(t, p.log_y)}</text>')
            out.append(f'<line x1="{ox + MARGIN_L}" x2="{ox + MARGIN_L + w}" y1="{sy(v):.1f}" '
                       f'y2="{sy(v):.1f}" stroke="#eee"/>')
    legend = 0
    for s in p.series:
        colour = COLOURS[s.colour % len(COLOURS)]
        xy = [(sx(tx(x)), sy(ty(y))) for x, y in zip(s.xs, s.ys, strict=True)
              if (x > 0 or not p.log_x) and (y > 0 or not p.log_y)]
        if s.style == "points":
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"/>' for x, y in xy]
        elif xy:
            dash = ' stroke-dasharray="5,3"' if s.style == "dashed" else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="1.4"{dash}/>')
        if s.name:
            ly = oy + MARGIN_T + 12 + 13 * legend
            legend += 1
            out.append(f'<text x="{ox + MARGIN_L + 8}" y="{ly}" font-size="10" '
                       f'fill="{colour}">{escape(s.name)}</text>')
    return out


def render(panels: list[Panel], columns: int = 2, title: str = "") -> str:
    """The whole figure as SVG text."""
    rows = -(-len(panels) // columns)
    width, height = PANEL_W * columns, PANEL_H * rows + (24 if title else 0)
    top = 24 if title else 0
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>']
    if title:
        body.append(f'<text x="{width / 2}" y="17" text-anchor="middle" font-size="14">'
                    f'{escape(title)}</text>')
    for i, panel in enumerate(panels):
        body += _panel(panel, (i % columns) * PANEL_W, top + (i // columns) * PANEL_H)
    body.append("</svg>")
    return "\n".join(body) + "\n"

"""Charts as inline SVG, drawn on the server: no chart library, no CDN, printable.

``bars(points, ...)`` draws one bar per (label, value), with the value as the
bar's ``<title>`` (a tooltip, and what a screen reader reads) and a few axis
labels; the caller passes labels already formatted the local way.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def bars(
    points: Sequence[tuple[str, float, str]],
    *,
    title: str,
    height: int = 160,
    max_value: float | None = None,
    label_every: int = 1,
    css: str = "",
) -> Markup:
    """``points``: (axis label, value, tooltip). The SVG scales to its box's width."""
    width = max(len(points), 1) * 24
    top = max_value if max_value else max((v for _, v, _ in points), default=0) or 1
    plot_h = height - 28
    parts = [
        f'<svg class="chart {escape(css)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="0" y1="{plot_h}" x2="{width}" y2="{plot_h}" class="axis"/>',
    ]
    for i, (label, value, tip) in enumerate(points):
        h = 0 if top <= 0 else max(0.0, min(1.0, value / top)) * (plot_h - 4)
        x = i * 24 + 4
        parts.append(
            f'<rect x="{x}" y="{plot_h - h:.1f}" width="16" height="{h:.1f}" class="bar">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + 8}" y="{height - 8}" text-anchor="middle" class="tick">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))

"""Charts as inline SVG, drawn on the server: no chart library, no CDN, printable.

``bars`` draws one column per (label, value) (a value per day), ``hbars`` one
labelled row per (label, value) (a value per gate). Each bar has its value as
its ``<title>`` (a tooltip, and what a screen reader reads); the chart's own
``<title>`` says what it shows. Callers pass labels and tooltips already
formatted the local way.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

STEP = 24  # px per column
LEFT = 36  # room for the scale on the left


def _svg(width: int, height: int, title: str, css: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart {escape(css)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bars(
    points: Sequence[tuple[str, float, str]],
    *,
    title: str,
    height: int = 160,
    max_value: float | None = None,
    label_every: int = 1,
    css: str = "",
    scale: str | None = None,
) -> Markup:
    """``points``: (axis label, value, tooltip), one column each; ``scale``: the label of
    the top of the scale (default: the largest value)."""
    width = LEFT + max(len(points), 1) * STEP + 8
    top = max_value if max_value else max((v for _, v, _ in points), default=0) or 1
    plot_h = height - 28
    body = [
        f'<line x1="{LEFT}" y1="{plot_h}" x2="{width}" y2="{plot_h}" class="axis"/>',
        f'<line x1="{LEFT}" y1="4" x2="{LEFT}" y2="{plot_h}" class="axis"/>',
        f'<text x="{LEFT - 4}" y="12" text-anchor="end" class="tick">'
        f"{escape(scale if scale is not None else f'{top:g}')}</text>",
        f'<text x="{LEFT - 4}" y="{plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    for i, (label, value, tip) in enumerate(points):
        h = max(0.0, min(1.0, value / top)) * (plot_h - 6)
        x = LEFT + i * STEP + 4
        body.append(
            f'<rect x="{x}" y="{plot_h - h:.1f}" width="16" height="{h:.1f}" class="bar">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if i % label_every == 0:
            body.append(
                f'<text x="{x}" y="{height - 8}" text-anchor="start" class="tick">'
                f"{escape(label)}</text>"
            )
    return _svg(width, height, title, css, body)


def hbars(
    points: Sequence[tuple[str, float, str]], *, title: str, css: str = "", width: int = 520
) -> Markup:
    """``points``: (row label, value, text shown after the bar), one row each."""
    row, label_w = 34, 180
    height = max(len(points), 1) * row + 8
    top = max((v for _, v, _ in points), default=0) or 1
    span = width - label_w - 90
    body = []
    for i, (label, value, shown) in enumerate(points):
        y = 4 + i * row
        w = max(0.0, min(1.0, value / top)) * span
        body.append(
            f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="22" class="bar">'
            f"<title>{escape(shown)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 20}" class="value">{escape(shown)}</text>'
        )
    return _svg(width, height, title, f"hbars {css}", body)

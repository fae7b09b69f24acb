"""Small SVG charts drawn on the server: bars per day, stacked by series when several.

No script and no external file: the SVG is inline in the page, each bar with a
<title> (the day and its values) that a browser shows on hover or a long press.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

WIDTH = 280
HEIGHT = 64
GAP = 2
PALETTE = ("#2f6fde", "#e07b24", "#c7362f", "#7a52c7", "#2a9d6e", "#8a8a8a", "#d4a017", "#444")


def bars(
    days: Sequence[str], series: Mapping[str, Sequence[float]], *, label: str, unit: str = ""
) -> Markup:
    """One bar per day, each series stacked in its colour; `label` names the chart."""
    count = max(len(days), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top = max(totals, default=0) or 1
    width = (WIDTH - GAP * (count - 1)) / count
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="none">'
    ]
    for index, day in enumerate(days):
        x = index * (width + GAP)
        y = float(HEIGHT)
        said = ", ".join(
            f"{name} {_number(values[index])}{unit}" for name, values in series.items()
        )
        for colour, values in zip(PALETTE, series.values(), strict=False):
            height = values[index] / top * (HEIGHT - 2)
            if height <= 0:
                continue
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(day)}: {escape(said)}</title></rect>'
            )
        if totals[index] == 0:
            parts.append(
                f'<rect x="{x:.1f}" y="{HEIGHT - 1}" width="{width:.1f}" height="1" fill="#ccc">'
                f"<title>{escape(day)}: none</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(names: Sequence[str]) -> Markup:
    """The colours of `names`, in chart order."""
    items = "".join(
        f'<span class="key"><svg viewBox="0 0 10 10" width="10" height="10">'
        f'<rect width="10" height="10" fill="{colour}"/></svg> {escape(name)}</span>'
        for colour, name in zip(PALETTE, names, strict=False)
    )
    return Markup(items)


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)

"""Charts over time as inline SVG, rendered on the server: no script, no chart library."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from syncwright.console.queries import Series

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 320, 110, 44, 18, 8


def _fmt(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def bar_chart(series: Series) -> Markup:
    """Bars for each bucket of ``series``, the peak on the y axis, the first and last bucket
    times on the x axis. Each bar has a tooltip with its time and value."""
    peak = series.peak
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_BOTTOM - PAD_TOP
    count = max(len(series.values), 1)
    slot = plot_w / count
    bars = []
    for index, value in enumerate(series.values):
        height = 0.0 if peak <= 0 else plot_h * value / peak
        x = PAD_LEFT + index * slot
        at = series.starts[index].strftime("%H:%M:%S")
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{PAD_TOP + plot_h - height:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{height:.1f}" class="bar">'
            f"<title>{escape(at)}: {escape(_fmt(value))}{escape(series.unit)}</title></rect>"
        )
    first = series.starts[0].strftime("%H:%M:%S") if series.starts else ""
    label = f"{escape(series.title)}, by time"
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">'
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH}" y2="{PAD_TOP + plot_h}" '
        'class="axis"/>'
        + (
            f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 8}" class="tick" text-anchor="end">'
            f"{escape(_fmt(peak))}{escape(series.unit)}</text>"
            if peak > 0
            else ""
        )
        + f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" class="tick" text-anchor="end">0</text>'
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 4}" class="tick">{escape(first)}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 4}" class="tick" text-anchor="end">now</text>'
        + "".join(bars)
        + "</svg>"
    )
    return Markup(svg)  # noqa: S704 -- every interpolated text is escaped above

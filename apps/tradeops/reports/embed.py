"""Put plotly figures into HTML: figure JSON in inert script tags, drawn by one loader script."""

from __future__ import annotations

from functools import cache
from typing import Any

PLOT_CONFIG = {"displaylogo": False, "responsive": True}  # no link out to plotly.com in the mode bar


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped in the plotly package (inlined once per report: no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def figure_json(figure: dict[str, Any]) -> str:
    """The figure (a plotly JSON dict holding numpy arrays and timestamps) as JSON safe inside <script>."""
    from plotly.io.json import to_json_plotly

    return str(to_json_plotly(figure)).replace("</", "<\\/")


def charts(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Template rows: a DOM id and the figure's JSON for each named figure."""
    return [{"id": f"chart-{name}", "json": figure_json(figure)} for name, figure in figures.items()]

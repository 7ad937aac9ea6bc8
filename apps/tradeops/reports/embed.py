"""Put plotly figures into HTML: figure JSON in inert script tags, drawn by one loader script."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

PLOT_CONFIG = {"displaylogo": False, "responsive": True}  # no link out to plotly.com in the mode bar
ASSETS_PATH = "/v1/assets"  # where the backtester serves the shared plotly bundle its stored reports load


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped in the plotly package (inlined once per report: no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@cache
def plotly_asset() -> tuple[str, bytes]:
    """The shared plotly bundle's file name -- content-hashed (`plotly-<sha256 prefix>.min.js`), so a cached
    copy never goes stale and a report names the exact bundle it was drawn with -- and its bytes."""
    data = plotly_js().encode()
    return f"plotly-{hashlib.sha256(data).hexdigest()[:16]}.min.js", data


def plotly_src() -> str:
    """The same-origin URL a stored report loads plotly from (instead of carrying its own 4.8 MB copy)."""
    return f"{ASSETS_PATH}/{plotly_asset()[0]}"


def figure_json(figure: dict[str, Any]) -> str:
    """The figure (a plotly JSON dict holding numpy arrays and timestamps) as JSON safe inside <script>."""
    from plotly.io.json import to_json_plotly

    return str(to_json_plotly(figure)).replace("</", "<\\/")


def charts(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Template rows: a DOM id and the figure's JSON for each named figure."""
    return [{"id": f"chart-{name}", "json": figure_json(figure)} for name, figure in figures.items()]


def preload() -> None:
    """Import and cache what every report needs (plotly.js, the template, the JSON encoder) in this process:
    the worker's forkserver calls it once, so each forked job renders its report warm."""
    from plotly.io.json import to_json_plotly

    from tradeops.reports import charts

    plotly_asset()
    to_json_plotly(charts.underwater_figure(_sample_curve()))


def _sample_curve() -> Any:
    import pandas as pd

    return pd.Series([1.0, 2.0, 1.5], index=pd.date_range("2024-01-01", periods=3))

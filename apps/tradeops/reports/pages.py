"""Reports of a sweep, a walk-forward and a comparison of runs: charts plus tables on one page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from tradeops import __version__
from tradeops.errors import ConfigError
from tradeops.reports.html import ENV, fmt


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


def render_page(title: str, subtitle: str, figures: dict[str, Any], tables: list[TableView]) -> str:
    """One self-contained page: plotly inlined once, every figure, then every table."""
    from tradeops.reports.embed import PLOT_CONFIG, charts, plotly_js

    return ENV.get_template("page.html.j2").render(
        title=title,
        subtitle=subtitle,
        charts=charts(figures),
        tables=tables,
        fmt=fmt,
        plotly_js=plotly_js(),
        plot_config=PLOT_CONFIG,
        version=__version__,
    )


def _frame_table(table_id: str, title: str, frame: pd.DataFrame) -> TableView:
    rows = [[None if isinstance(v, float) and pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]
    return TableView(table_id, title, [str(c) for c in frame.columns], rows)


def sweep_page(table: pd.DataFrame, params: list[str], *, title: str, subtitle: str, metric: str) -> str:
    """A heatmap of `metric` over the first two varied parameters (best over the others), then every point."""
    from tradeops.reports.charts import heatmap_figure

    if len(params) < 2:
        raise ConfigError(f"--report needs a grid over two parameters (varied: {', '.join(params) or 'none'})")
    x, y = params[0], params[1]
    figures = {"heatmap": heatmap_figure(table, x, y, metric)}
    columns = [*params, "sharpe", "total_return_pct", "max_drawdown_pct", "trades"]
    ranked = table.sort_values(metric, ascending=metric.startswith("max_drawdown"), na_position="last")
    return render_page(title, subtitle, figures, [_frame_table("points", f"every point by {metric}", ranked[columns])])


def walkforward_page(result: Any, *, title: str, subtitle: str) -> str:
    """The stitched out-of-sample equity with each fold drawn on it, the stitched metrics, and each fold's
    parameters and metrics; the folds' trades add up to the stitched total."""
    from tradeops.engine.walkforward import TRADES_NOTE
    from tradeops.reports.charts import folds_figure
    from tradeops.reports.definitions import DEFINITIONS

    index = result.bars.index
    starts = [index[fold.test[0]] for fold in result.folds]
    labels = [
        f"fold {f.number}: " + ", ".join(f"{k}={v}" for k, v in f.params.model_dump().items()) for f in result.folds
    ]
    names = list(result.folds[0].params.model_dump())
    rows = [
        [
            fold.number,
            index[fold.test[0]].date().isoformat(),
            *fold.params.model_dump().values(),
            fold.train_metrics[result.sort_by],
            fold.result.metrics["sharpe"],
            fold.result.metrics["total_return_pct"],
            fold.trades,
            fold.held_to_end,
        ]
        for fold in result.folds
    ]
    columns = [
        "fold", "test from", *names, f"train {result.sort_by}", "oos sharpe", "oos return %", "oos trades",
        "held to fold end",
    ]  # fmt: skip
    span = f"{result.equity.index[0].date()} to {result.equity.index[-1].date()}"
    stitched = [[name, value, DEFINITIONS.get(name, "")] for name, value in result.metrics.items()]
    tables = [
        TableView("oos-metrics", f"out of sample {span}, stitched", ["metric", "value", "definition"], stitched),
        TableView("folds", "folds", columns, rows, note=TRADES_NOTE),
    ]
    figures = {"folds": folds_figure(result.equity, starts, labels)}
    return render_page(title, subtitle, figures, tables)


def compare_page(runs: list[dict[str, Any]], curves: dict[str, pd.Series], metric_names: list[str]) -> str:
    """Metrics side by side (one column per run) and the equity curves overlaid."""
    from tradeops.reports.charts import overlay_figure

    columns = ["metric", *[run["label"] for run in runs]]
    rows = [[name, *[(run["metrics"] or {}).get(name) for run in runs]] for name in metric_names]
    figures = {"overlay": overlay_figure(curves)} if curves else {}
    subtitle = "; ".join(
        f"{run['label']}: {run['strategy']} {run['params']} on {run['data']}"
        + (f" ({run['execution']})" if run.get("execution") else "")
        for run in runs
    )
    return render_page("Compared runs", subtitle, figures, [TableView("compare", "metrics", columns, rows)])

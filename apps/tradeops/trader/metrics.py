"""Prometheus view of a trading session, read from the ledger at scrape time (true across restarts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from tradeops.errors import ConfigError
from tradeops.trader import pretrade
from tradeops.trader.control import STATES, TraderControl

if TYPE_CHECKING:
    from tradeops.trader.feed import DatasetFeed


class TraderCollector(Collector):
    """tradeops_trader_{equity,pnl,exposure,drawdown_pct,state,orders_total,rejections_total,
    pretrade_rejections_total,divergence_*}."""

    def __init__(self, control: TraderControl, session_id: str, initial_cash: float) -> None:
        self.control = control
        self.session_id = session_id
        self.initial_cash = initial_cash

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            status = self.control.status(self.session_id)
        except (ConfigError, SQLAlchemyError):
            return  # no session yet, or the database is down: /metrics still answers (tradeops_ready says which)
        labels = [status.session]

        def gauge(name: str, text: str, value: float | None) -> GaugeMetricFamily:
            family = GaugeMetricFamily(f"tradeops_trader_{name}", text, labels=["session"])
            family.add_metric(labels, float("nan") if value is None else value)
            return family

        yield gauge("equity", "equity at the last close, cash", status.equity)
        yield gauge(
            "pnl", "equity minus initial cash", None if status.equity is None else status.equity - self.initial_cash
        )
        yield gauge("exposure", "gross notional of open positions at the last close", status.exposure)
        yield gauge("drawdown_pct", "fall from the equity peak, %", status.drawdown_pct)
        state = GaugeMetricFamily("tradeops_trader_state", "1 for the current state", labels=["session", "state"])
        for name in STATES:
            state.add_metric([status.session, name], float(status.state == name))
        yield state
        orders = CounterMetricFamily("tradeops_trader_orders", "orders by outcome", labels=["session", "status"])
        for name in ("pending", "filled", "rejected", "unfilled"):
            orders.add_metric([status.session, name], status.orders.get(name, 0))
        yield orders
        yield from _divergence(status.session, status.divergence)
        rejections = CounterMetricFamily(
            "tradeops_trader_rejections", "orders refused by risk or the kill switch", labels=["session"]
        )
        rejections.add_metric(labels, status.orders.get("rejected", 0))
        yield rejections
        by_limit = CounterMetricFamily(
            "tradeops_trader_pretrade_rejections", "orders refused by a pre-trade check", labels=["session", "limit"]
        )
        try:
            counted = pretrade.counts(self.control.engine, status.session)
        except SQLAlchemyError:
            return  # the database went away mid-scrape: the families above still answer
        for limit, count in counted.items():
            by_limit.add_metric([status.session, limit], count)
        yield by_limit


def _divergence(session: str, compared: dict[str, Any] | None) -> Iterator[GaugeMetricFamily]:
    """tradeops_trader_divergence_*: the last comparison with a backtest of the same bars (none: not compared)."""
    if compared is None:
        return
    for name, text in (
        ("equity_drift_bps", "live equity minus the backtest's, bps of the backtest's"),
        ("slippage_bps", "mean fill price worse than the modelled price, bps"),
        ("position_gap", "sum of |live - backtest position| x close, cash"),
    ):
        family = GaugeMetricFamily(f"tradeops_trader_divergence_{name}", text, labels=["session"])
        family.add_metric([session], float(compared[name]))
        yield family
    trades = GaugeMetricFamily(
        "tradeops_trader_divergence_trades",
        "trades opened so far, live and in the backtest",
        labels=["session", "source"],
    )
    trades.add_metric([session, "live"], float(compared["trades_live"]))
    trades.add_metric([session, "backtest"], float(compared["trades_backtest"]))
    yield trades


class FeedCollector(Collector):
    """tradeops_trader_feed_{seconds_since_new_bar,stalled}: is the followed dataset still growing?"""

    def __init__(self, feed: DatasetFeed) -> None:
        self.feed = feed

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = [self.feed.reference]
        since = GaugeMetricFamily(
            "tradeops_trader_feed_seconds_since_new_bar", "seconds since the feed brought a new bar", labels=["feed"]
        )
        since.add_metric(labels, self.feed.seconds_since_new_bar())
        yield since
        stalled = GaugeMetricFamily(
            "tradeops_trader_feed_stalled", "1 when no new bar came for the stall limit of timeframes", labels=["feed"]
        )
        stalled.add_metric(labels, float(self.feed.stalled()))
        yield stalled

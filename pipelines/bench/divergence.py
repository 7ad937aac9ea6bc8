"""Benchmark the live-vs-backtest comparison and quote the divergence a venue filling worse causes; write JSON.

    python -m pipelines.bench.divergence [--data sample:GOOG] [--worse-bps 25] [--out reports/divergence_bench.json]

Two measurements (tradeops.trader.divergence; docs/trader.md quotes them):
- the cost of one comparison (a backtest of the traded prefix) at a quarter, half and all of the bars;
- a paper replay comparing every bar, and the same replay through a venue that fills every order
  `--worse-bps` worse than the price it was sent at (`WorseFillsBroker`): the figures at the last bar,
  the worst equity drift and the first bars past 20 and 50 bps.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pipelines.bench import write_result

PARAMS = {"fast": 5, "slow": 20}
EXECUTION = {"commission": 0.001, "slippage": 0.0005}
FIGURES = ("trades_live", "trades_backtest", "position_gap", "equity_live", "equity_backtest", "equity_drift_bps")


def _compare_ms(config: Any, bars: Any, t: int, repeats: int = 10) -> float:
    from tradeops.trader.divergence import compare

    times = []
    for _ in range(repeats + 1):  # the first call compiles and warms
        started = time.perf_counter()
        compare(config, bars, t, equity=1.0, positions={}, trades=0, fills=[])
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:]) * 1000


def measure(data: str, worse_bps: float) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tradeops.data import load_bars
    from tradeops.engine import ExecutionSettings
    from tradeops.store.database import open_engine
    from tradeops.store.models import TraderDivergenceRow
    from tradeops.strategies import get_strategy
    from tradeops.strategies.base import validate_params
    from tradeops.trader.drills import WorseFillsBroker
    from tradeops.trader.feed import ReplayFeed
    from tradeops.trader.loop import SessionConfig, Trader
    from tradeops.trader.risk import RiskLimits

    bars = load_bars(data)
    chosen = get_strategy("sma_cross")
    point, execution = validate_params(chosen, PARAMS), ExecutionSettings(**EXECUTION)
    watched = RiskLimits(divergence_every_bars=1)
    config = SessionConfig("bench", chosen, point, data, execution, watched)
    cost = {str(t): _compare_ms(config, bars, t) for t in (bars.n_bars // 4, bars.n_bars // 2, bars.n_bars - 1)}
    seconds: dict[str, float] = {}
    rows: dict[str, list[Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'ledger.db'}")
        for name, limits, broker in (
            ("paper, not compared", RiskLimits(), None),
            ("paper, compared every bar", watched, None),
            (f"venue {worse_bps:g} bps worse, compared every bar", watched, WorseFillsBroker(execution, worse_bps)),
        ):
            session = SessionConfig(f"bench-{len(seconds)}", chosen, point, data, execution, limits)
            started = time.perf_counter()
            Trader(engine, session, broker=broker).run(ReplayFeed(bars))
            seconds[name] = time.perf_counter() - started
            with Session(engine) as db:
                query = select(TraderDivergenceRow).where(TraderDivergenceRow.session_id == session.session_id)
                rows[name] = list(db.scalars(query.order_by(TraderDivergenceRow.bar)))
        engine.dispose()
    paper, venue = list(rows.values())[1:]
    last = venue[-1]
    return {
        "case": f"sma_cross {PARAMS} on {data} ({bars.n_bars} bars), commission 0.1%, slippage 5 bps",
        "bars": bars.n_bars,
        "compare_ms_at_bar": cost,
        "replay_seconds": seconds,
        "paper_max_abs_drift_bps": max(abs(r.equity_drift_bps) for r in paper),
        "paper_max_abs_slippage_bps": max(abs(r.slippage_bps) for r in paper),
        "venue_worse_bps": worse_bps,
        "venue_last": {"bar": last.bar, "slippage_bps": last.slippage_bps, "fills": last.fills}
        | {name: getattr(last, name) for name in FIGURES},
        "venue_worst_drift_bps": min(r.equity_drift_bps for r in venue),
        "venue_first_bar_past_bps": {
            str(limit): next((r.bar for r in venue if abs(r.equity_drift_bps) > limit), None) for limit in (20, 50)
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/divergence_bench.json"))
    parser.add_argument("--data", default="sample:GOOG")
    parser.add_argument("--worse-bps", type=float, default=25.0)
    args = parser.parse_args(argv)
    result = measure(args.data, args.worse_bps)
    print(result["case"])
    for t, ms in result["compare_ms_at_bar"].items():
        print(f"  one comparison at bar {t:>6}: {ms:8.2f} ms")
    for name, seconds in result["replay_seconds"].items():
        print(f"  replay, {name}: {seconds:8.2f} s")
    last = result["venue_last"]
    print(
        f"  paper: max |equity drift| {result['paper_max_abs_drift_bps']:.3g} bps; venue {args.worse_bps:g} bps worse: "
        f"slippage {last['slippage_bps']:.2f} bps, equity drift {last['equity_drift_bps']:,.0f} bps at the last bar "
        f"(worst {result['venue_worst_drift_bps']:,.0f}), trades {last['trades_live']} vs {last['trades_backtest']}"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()

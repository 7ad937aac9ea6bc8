"""A trader process on a venue, for kill -9 tests: `python -m tests.apps.trader.venue_worker DB URL DATA`.

Trades the session `live` over DATA (a replay) through the venue broker pointed at URL (a fake
Binance in the test process), with its ledger in the SQLite file DB; exits 0 at the end of the data.
"""

from __future__ import annotations

import sys

from tests.apps.trader.conftest import session_config
from tests.apps.trader.venue_helpers import SYMBOLS
from tradeops.data import load_bars
from tradeops.store.database import open_engine
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.venue.ccxt_broker import CcxtBroker
from tradeops.trader.venue.exchange import Deadline, open_venue
from tradeops.trader.venue.session import VenueSession

RECONCILE_EVERY = 20


def main(database: str, url: str, data: str) -> int:
    deadline = Deadline(request_seconds=2.0, order_seconds=20.0, backoff_seconds=0.05)
    exchange = open_venue(
        "binance", api_key="fake-key", secret="fake-secret", sandbox=False, deadline=deadline, base_url=url
    )
    broker = CcxtBroker(exchange, symbols=SYMBOLS, deadline=deadline)
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, data, cash=20_000.0)
    trader = Trader(
        open_engine(f"sqlite:///{database}"),
        config,
        broker=broker,
        venue=VenueSession(broker, reconcile_every=RECONCILE_EVERY),
    )
    trader.run(ReplayFeed(load_bars(data)))
    trader.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

"""A trader process on a venue, for kill -9 tests: `python -m tests.apps.trader.venue_worker DB URL DATA`.

Trades the session `live` over DATA (a replay) through the venue broker pointed at URL (a fake
Binance in the test process), with its ledger in the SQLite file DB; exits 0 at the end of the data.

`python -m tests.apps.trader.venue_worker --serve` forks such workers on request instead: it imports
everything and sets up numba's CPU target once (~3 s of a worker's ~4 s of CPU), then for each
line `{"database": .., "url": .., "data": .., "log": ..}` on stdin forks a worker that runs `main`
with its output in `log`, and answers `started PID`, later `ended PID EXIT_CODE`. Each worker is
still a process of its own, killed with a real SIGKILL; the server itself never trades, so a
restarted worker inherits nothing but imported code.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import traceback

from tests.apps.trader.conftest import session_config
from tests.apps.trader.venue_helpers import SYMBOLS, unthrottled
from tradeops.data import load_bars
from tradeops.engine import orders
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
    unthrottled(exchange)
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


def serve() -> int:
    """Fork a worker per request line until stdin closes; report starts and exit codes on stdout."""
    orders.same_amount(1.0, 1.0)  # the first call of any jitted function sets up numba's target (~1.3 s)
    assert threading.active_count() == 1, "fork only from a single-threaded process"
    running: set[int] = set()
    while True:
        if select.select([sys.stdin], [], [], 0.05)[0]:
            line = sys.stdin.readline()
            if not line:
                break
            pid = os.fork()
            if pid == 0:
                _worker(json.loads(line))
            running.add(pid)
            print(f"started {pid}", flush=True)
        for pid in list(running):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                running.discard(pid)
                print(f"ended {pid} {os.waitstatus_to_exitcode(status)}", flush=True)
    for pid in running:  # the tests are over: nothing outlives the server
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return 0


def _worker(request: dict[str, str]) -> None:
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    code = 1
    try:
        code = main(request["database"], request["url"], request["data"])
    except BaseException:  # noqa: BLE001 - printed into the log; a forked worker must end in os._exit, whatever happened
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main(*sys.argv[1:4]))

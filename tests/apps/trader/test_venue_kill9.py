"""kill -9 between "intent recorded" and "venue answered", at points hypothesis chooses: never an order twice.

A real trader process trades against the fake Binance in this process; the fake kills it with
SIGKILL while it handles the N-th signed request, before handling it (the request is lost) or after
(booked at the venue, the answer lost). After a restart runs the session to its end, the venue holds
each client order id once, every venue order is in the ledger, and the ledger equals the venue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.apps.trader.venue_helpers import broker, duplicates, funded_venue
from tradeops.store.database import open_engine
from tradeops.store.models import TraderOrderRow
from tradeops.trader.broker import Order
from tradeops.trader.venue.ccxt_broker import client_order_id
from tradeops.trader.venue.reconcile import reconcile

pytestmark = pytest.mark.req("DC-24")
DATA = "sample:synthetic?symbols=2&bars=120"
ROOT = Path(__file__).resolve().parents[3]
TRIED: Counter[str] = Counter()


class Worker:
    """One trader process forked by the worker server: its pid, its exit code once it ended, its output."""

    def __init__(self, server: WorkerServer, pid: int, log: Path) -> None:
        self.server, self.pid, self.log = server, pid, log

    def poll(self) -> int | None:
        return self.server.ended.get(self.pid)

    def wait(self, timeout: float) -> int:
        with self.server.changed:
            assert self.server.changed.wait_for(lambda: self.pid in self.server.ended, timeout), "still running"
        return self.server.ended[self.pid]

    def output(self) -> str:
        return self.log.read_text()


class WorkerServer:
    """`venue_worker --serve`: trader processes forked from one warmed-up process (imports and numba set up once)."""

    def __init__(self) -> None:
        env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "apps"), str(ROOT)])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.apps.trader.venue_worker", "--serve"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ended: dict[int, int] = {}
        self.started: list[int] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            event, pid, *code = line.split()
            with self.changed:
                if event == "started":
                    self.started.append(int(pid))
                else:
                    self.ended[int(pid)] = int(code[0])
                self.changed.notify_all()

    def start(self, database: Path, url: str) -> Worker:
        log = database.with_suffix(f".{len(self.started)}.log")
        request = {"database": str(database), "url": url, "data": DATA, "log": str(log)}
        with self.changed:
            count = len(self.started)
            self.process.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
            assert self.changed.wait_for(lambda: len(self.started) > count, 120), "the worker server is not answering"
            return Worker(self, self.started[count], log)

    def stop(self) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        self.process.wait(60)


@pytest.fixture(scope="module")
def workers() -> Iterator[WorkerServer]:
    server = WorkerServer()
    yield server
    server.stop()


class Killer:
    """The fake's hook: SIGKILL the worker at the `at`-th signed request of `kind` (method and path), in `phase`."""

    def __init__(self, kind: str, at: int, phase: str) -> None:
        self.kind, self.at, self.phase, self.seen = kind, at, phase, 0
        self.process: Worker | None = None
        self.started = threading.Event()  # set once `process` is known (a forked worker may call before that)
        self.killed = threading.Event()

    def __call__(self, phase: str, method: str, path: str) -> bool:
        if f"{method} {path}" != self.kind or self.killed.is_set():
            return False
        if phase == "before":
            self.seen += 1
        if self.seen != self.at or phase != self.phase:
            return False
        assert self.started.wait(60) and self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.killed.set()
        TRIED[f"{phase} {self.kind}"] += 1
        return phase == "before"  # killed before the venue handled it: the request is lost


@pytest.fixture(scope="module", autouse=True)
def report_points():
    yield
    print(f"\nkill -9 points tried: {sum(TRIED.values())} {dict(TRIED)}")


def run_to_end(workers: WorkerServer, database: Path, url: str) -> None:
    process = workers.start(database, url)
    assert process.wait(300) == 0, process.output()


@pytest.fixture(scope="module")
def signed_requests(tmp_path_factory: pytest.TempPathFactory, workers: WorkerServer) -> Counter[str]:
    """How many signed requests of each kind an uninterrupted session makes (the range of kill points)."""
    fake = funded_venue()
    try:
        run_to_end(workers, tmp_path_factory.mktemp("probe") / "ledger.db", fake.url)
        return Counter(fake.signed)
    finally:
        fake.stop()


KINDS = [
    "POST /api/v3/order",
    "GET /api/v3/order",
    "GET /api/v3/myTrades",
    "GET /api/v3/account",
    "GET /api/v3/openOrders",
]


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), n=st.integers(0, 10_000), phase=st.sampled_from(["before", "after"]))
@example(kind="POST /api/v3/order", n=0, phase="after")  # booked at the venue, the answer lost
@example(kind="POST /api/v3/order", n=3, phase="before")  # the intent recorded, the order never arrived
def test_dc_24_kill_9_at_any_point_between_intent_and_answer_never_places_an_order_twice(
    tmp_path_factory, signed_requests, workers, kind, n, phase
):
    # a kind the uninterrupted session never sends (a lookup by client id runs only when recovering) has no kill point
    assume(signed_requests[kind] > 0)
    at = n % signed_requests[kind] + 1
    database = tmp_path_factory.mktemp("kill9") / "ledger.db"
    fake = funded_venue()
    try:
        killer = Killer(kind, at, phase)
        fake.hook = killer
        killer.process = workers.start(database, fake.url)
        killer.started.set()
        while not killer.killed.wait(0.2):  # the kill point is reached, or the worker ended without it
            if killer.process.poll() is not None and not killer.killed.wait(10):  # (or is being killed now)
                raise AssertionError(f"no kill point {kind} #{at}: {killer.process.output()}")
        fake.hook = None
        run_to_end(workers, database, fake.url)

        assert duplicates(fake) == {}
        engine = open_engine(f"sqlite:///{database}")
        with Session(engine) as db:
            orders = list(db.scalars(select(TraderOrderRow)))
        known = {client_order_id(Order(o.id, o.symbol, o.intent)): o for o in orders}
        assert {o["clientOrderId"] for o in fake.account.orders} <= set(known)  # nothing at the venue unknown
        for venue_order in fake.account.orders:
            row = known[venue_order["clientOrderId"]]
            assert row.status == "filled" and row.size == pytest.approx(float(venue_order["executedQty"]))
        assert not [o for o in orders if o.status in ("pending", "sent") and o.decided_bar < 119]
        assert reconcile(engine, "live", broker(fake)).ok
        engine.dispose()
    finally:
        fake.stop()

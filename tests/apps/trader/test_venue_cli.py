"""`tradeops trader reconcile` and `trader halt --flatten` on a venue, through the real CLI entry point."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.apps.cli.test_cli import cli
from tests.apps.trader.conftest import session_config
from tests.apps.trader.venue_helpers import SYMBOLS, broker, funded_venue, left_open, set_prices, venue_trader
from tradeops.data import load_bars
from tradeops.store.database import open_engine
from tradeops.trader.loop import Trader
from tradeops.trader.venue.session import VenueSession

pytestmark = pytest.mark.req("DC-24")
DATA = "sample:synthetic?symbols=2&bars=120"


@pytest.fixture
def traded(tmp_path, monkeypatch):
    """A session that traded 120 bars on the fake venue; the CLI's settings point at both."""
    fake = funded_venue()
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_BROKER_KIND", "ccxt")
    monkeypatch.setenv("TRADEOPS_BROKER_SANDBOX", "false")
    monkeypatch.setenv("TRADEOPS_BROKER_API_KEY", "fake-key")
    monkeypatch.setenv("TRADEOPS_BROKER_API_SECRET", "fake-secret")
    monkeypatch.setenv("TRADEOPS_BROKER_BASE_URL", fake.url)
    monkeypatch.setenv("TRADEOPS_BROKER_SYMBOLS", json.dumps(SYMBOLS))
    monkeypatch.setenv("TRADEOPS_BROKER_REQUEST_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("TRADEOPS_BROKER_ORDER_DEADLINE_SECONDS", "2")
    bars = load_bars(DATA)
    chosen = broker(fake)
    config = session_config("live", "sma_cross", {"fast": 5, "slow": 20}, DATA, cash=20_000.0)
    trader = Trader(
        open_engine(f"sqlite:///{tmp_path / 'tradeops.db'}"), config, broker=chosen, venue=VenueSession(chosen)
    )
    for t in range(bars.n_bars):
        set_prices(fake, {symbol: float(bars.open[t, s]) for s, symbol in enumerate(bars.symbols)})
        trader.step(bars, t)
    trader.engine.dispose()
    yield fake
    fake.stop()


def test_dc_24_reconcile_shows_agreement_then_a_difference_with_exit_1_then_accepts_it(monkeypatch, capsys, traded):
    code, out, _ = cli(monkeypatch, capsys, "trader", "reconcile", "--session", "live")
    assert code == 0 and "venue and ledger agree" in out
    traded.account.balances["USDT"] -= Decimal("10")
    code, out, _ = cli(monkeypatch, capsys, "trader", "reconcile", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert [(d["kind"], d["key"]) for d in report["differences"]] == [("balance", "USDT")]
    code, _, err = cli(monkeypatch, capsys, "trader", "reconcile", "--accept-venue")
    assert code == 2 and "needs a reason" in err and "Traceback" not in err
    code, out, _ = cli(
        monkeypatch, capsys, "trader", "reconcile", "--accept-venue", "--reason", "fee rebate", "--actor", "ops"
    )
    assert code == 0 and "venue and ledger agree" in out
    code, out, _ = cli(monkeypatch, capsys, "trader", "audit", "--json")
    assert any(e["action"] == "venue.correction" and e["actor"] == "ops" for e in json.loads(out))


def test_dc_24_halt_on_a_venue_cancels_its_orders_and_reports_them(monkeypatch, capsys, traded):
    exchange = broker(traded).exchange
    exchange.create_order("ETH/USDT", "limit", "buy", 0.1, 50.0, params={"newClientOrderId": "left-open-1"})
    code, out, _ = cli(monkeypatch, capsys, "trader", "halt", "--reason", "drill", "--flatten", "--json")
    report = json.loads(out)
    assert code == 0 and report["state"] == "halted"
    assert [c["client_id"] for c in report["venue"]["cancelled"]] == [
        "left-open-1"
    ] and traded.account.open_orders() == []
    traded.stop()  # the venue goes away: the halt still applies, and says what it could not do
    code, _, err = cli(monkeypatch, capsys, "trader", "halt", "--reason", "again")
    assert code == 2 and "did not do everything" in err and "Traceback" not in err


def test_dc_24_a_venue_broker_without_its_secret_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOPS_BROKER_KIND", "ccxt")
    code, _, err = cli(monkeypatch, capsys, "trader", "reconcile")
    assert code == 2 and "TRADEOPS_BROKER_API_SECRET" in err and "Traceback" not in err


def test_dc_24_the_trader_services_halt_cancels_the_venues_open_orders(tmp_path):
    import httpx

    from tests.apps.trader.test_service import AUTH, TOKEN, until

    fake = funded_venue()
    try:
        with venue_trader(tmp_path / "data", fake, TOKEN) as base, httpx.Client(base_url=base, timeout=30) as http:
            until(lambda: http.get("/v1/trader/status").json()["status"] == "finished")
            left_open(fake, "manual-1")
            halted = http.post("/v1/trader/state", json={"action": "halt", "reason": "drill"}, headers=AUTH).json()
            assert halted["state"] == "halted"
            assert [c["client_id"] for c in halted["venue"]["cancelled"]] == ["manual-1"]
            assert fake.account.open_orders() == []
    finally:
        fake.stop()

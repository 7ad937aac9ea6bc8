"""The kill switch's venue part when it cannot be done: the halt always stands and the answer says why."""

from __future__ import annotations

import pytest

from tests.apps.slackbot.conftest import add_session
from tests.apps.trader.test_service import TOKEN
from tests.apps.trader.venue_helpers import venue_settings, venue_trader
from tradeops.audit import AuditLog
from tradeops.settings import load_settings
from tradeops.slackbot.replies import plain
from tradeops.store.database import open_engine
from tradeops.trader import killswitch
from tradeops.trader.control import TraderControl

pytestmark = pytest.mark.req("DC-24")


def test_dc_24_a_trader_that_refuses_the_token_leaves_the_halt_standing(tmp_path, fake):
    with venue_trader(tmp_path / "trader", fake, TOKEN) as url:
        database = f"sqlite:///{tmp_path / 'desk.db'}"
        add_session(database)
        settings = load_settings(
            data_dir=tmp_path, database_url=database, api_token="not-the-" + TOKEN, **venue_settings(fake)
        )
        control = TraderControl(open_engine(database))
        status = killswitch.halt(settings, control, actor="ops@desk", reason="drill", trader_url=url)
        flattened = killswitch.halt(settings, control, actor="ops@desk", reason="drill", trader_url=url, flatten=True)
    assert status.state == "halted" and control.status().state == "halted"
    assert status.venue is not None and status.venue["outcome"] == "failed" and "answered 401" in status.venue["error"]
    assert (
        flattened.venue is not None and "--flatten runs only where the venue can be reached" in flattened.venue["error"]
    )


def test_dc_24_a_venue_that_cannot_be_built_is_audited_and_the_halt_stands(tmp_path, fake):
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    add_session(database)
    settings = load_settings(
        data_dir=tmp_path, database_url=database, **(venue_settings(fake) | {"broker_exchange": "nosuchvenue"})
    )
    control = TraderControl(open_engine(database))
    status = killswitch.halt(settings, control, actor="ops@desk", reason="drill")
    assert status.state == "halted" and status.venue is not None
    assert "not a ccxt exchange id" in status.venue["error"]
    assert killswitch.venue_lines(status.venue) == [f"NOT cancelled: {status.venue['error']}"]
    (entry,) = AuditLog(open_engine(database)).entries(action_prefix="venue.halt")
    assert (entry.actor, entry.outcome) == ("ops@desk", "failed")


def test_dc_24_venue_lines_say_when_there_was_nothing_to_cancel_and_slack_shows_them_as_written():
    done = {"cancelled": [], "failed": [], "flattened": [], "outcome": "applied"}
    assert killswitch.venue_lines(done) == ["the venue had no open orders"]
    assert killswitch.venue_lines(None) == []
    assert plain("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"

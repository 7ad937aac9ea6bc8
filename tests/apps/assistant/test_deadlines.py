"""The assistant's store waits on a locked database only as long as the settings allow."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy.exc import OperationalError

from tradeops.assistant.desk import open_desk
from tradeops.settings import load_settings


@pytest.mark.req("DC-16")
def test_dc_16_the_assistant_desk_gives_up_on_a_locked_database_at_the_settings_deadline(desk):
    settings = load_settings(**desk.settings, database_statement_timeout_seconds=0.5)
    opened = open_desk(settings)
    blocker = sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            opened.store.check_writable()
        assert time.monotonic() - started < 10  # 0.5 s asked; without the settings it waited the 15 s default
    finally:
        blocker.rollback()
        blocker.close()
        asyncio.run(opened.close())

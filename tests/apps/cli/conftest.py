"""Every CLI test keeps the runs it stores in its own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEOPS_DATA_DIR", str(tmp_path / "tradeops-data"))

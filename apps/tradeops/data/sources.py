"""What the market-data job fetches: a light, typed model the settings and the stack config share."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DatasetSource(BaseModel):
    """One dataset the market-data job keeps up to date: which venue, symbols and timeframe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$", description="dataset name, e.g. binance-btcusdt-1h")
    exchange: str = Field(pattern=r"^[a-z0-9]{2,32}$", description="ccxt exchange id, e.g. binance")
    symbols: list[str] = Field(min_length=1, description="unified symbols, e.g. [BTC/USDT]")
    timeframe: str = Field(description="bar length in ccxt's spelling, e.g. 1h")
    since: datetime = Field(description="first bar of the first fetch (later fetches continue from the newest bar)")

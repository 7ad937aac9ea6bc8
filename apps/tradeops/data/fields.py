"""The OHLCV columns every bar table has, in order (a module of its own: importing it costs nothing)."""

FIELDS = ("open", "high", "low", "close", "volume")

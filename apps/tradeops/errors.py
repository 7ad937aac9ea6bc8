"""Errors the front door turns into clear messages and exit codes."""


class TradeopsError(Exception):
    """Base class of every error tradeops reports to a user."""


class DataError(TradeopsError):
    """Market data that cannot be used: missing, malformed or failing validation."""


class ConfigError(TradeopsError):
    """A strategy, candidate, threshold or settings value that is invalid."""

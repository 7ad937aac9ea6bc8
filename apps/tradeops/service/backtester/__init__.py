"""The backtester service: backtests, sweeps and gate verdicts over HTTP under /v1/."""

from tradeops.service.backtester.app import create_app

__all__ = ["create_app"]

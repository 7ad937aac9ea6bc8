"""tradeops: backtest-gated, versioned trading on Kubernetes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tradeops")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

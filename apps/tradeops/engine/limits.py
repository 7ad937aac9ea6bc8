"""How big a backtest may be, derived from the memory one process is given (TRADEOPS_MEMORY_LIMIT_MIB).

The pod's memory limit is shared by the API process and its backtest workers, so each worker gets
`memory_limit_mib / (workers + 1)`. Measured peaks (`make bench`): about 200 bytes per bar and
symbol in one backtest (10M synthetic bars peaked at 2.0 GB), a few KiB per grid point of results.
"""

from __future__ import annotations

from dataclasses import dataclass

BYTES_PER_BAR = 200  # peak of one backtest per bar and symbol: 10M synthetic bars used 2.0 GB
BYTES_PER_GRID_POINT = 4096  # one row of the sweep's result table, with headroom
MAX_GRID_POINTS = 100_000  # also a time bound: a sweep this size takes minutes, not hours


@dataclass(frozen=True)
class Limits:
    """The largest backtest (bars x symbols) and sweep (points) one worker may take."""

    max_bars: int
    max_grid_points: int

    @classmethod
    def from_memory(cls, memory_limit_mib: int, workers: int) -> Limits:
        budget = memory_limit_mib * 1024 * 1024 // (workers + 1)
        return cls(
            max_bars=budget // BYTES_PER_BAR,
            max_grid_points=min(MAX_GRID_POINTS, budget // BYTES_PER_GRID_POINT),
        )


def check_grid_points(points: int, limits: Limits) -> None:
    """Refuse a grid larger than the cap, before anything is expanded or run."""
    from tradeops.errors import ConfigError

    if points > limits.max_grid_points:
        raise ConfigError(
            f"--grid has {points:,} points; at most {limits.max_grid_points:,} "
            "(TRADEOPS_MEMORY_LIMIT_MIB and TRADEOPS_WORKERS set the cap: docs/backtester.md)"
        )

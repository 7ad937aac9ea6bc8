"""What a sharded run computes, and how its work is split: deterministic, contiguous, balanced by cost."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
from collections.abc import Sequence
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeops.errors import ConfigError

PART_FORMAT: Final = "tradeops.sweep-part/1"


class SweepSpec(BaseModel):
    """One sweep or walk-forward, independent of how it is sharded: the same spec on every shard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sweep", "walkforward"] = "sweep"
    strategy: str
    data: str = Field(description="the data reference every shard loads, e.g. sample:GOOG")
    max_gap: str | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters")
    grid: dict[str, list[Any]] = Field(description="values per varied parameter")
    settings: dict[str, Any] = Field(default_factory=dict, description="ExecutionSettings as a dict")
    train_bars: int | None = Field(None, description="walk-forward only")
    test_bars: int | None = None
    anchored: bool = False
    sort_by: str = "sharpe"

    def identity(self) -> str:
        """A short hash of the spec: the sweep id every part of one sweep carries."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_shard(text: str) -> tuple[int, int]:
    """Parse `I/N` (I counts from 0, like JOB_COMPLETION_INDEX); a ConfigError names the bad input."""
    index, sep, count = text.partition("/")
    try:
        shard, shards = int(index), int(count)
    except ValueError:
        shard, shards = -1, 0
    if not sep or shards < 1 or not 0 <= shard < shards:
        raise ConfigError(f"--shard {text!r} must be I/N with 0 <= I < N, e.g. 0/4")
    return shard, shards


def split_by_cost(costs: Sequence[float], shards: int) -> list[range]:
    """Split items 0..len-1 into `shards` contiguous ranges whose total costs are as even as cuts allow.

    Cut k falls where the running cost first reaches k/shards of the total, never leaving a shard
    empty; the same costs and count always give the same ranges.
    """
    if shards < 1 or shards > len(costs):
        raise ConfigError(f"{shards} shard(s) for {len(costs)} item(s): need 1 <= shards <= items")
    running = list(itertools.accumulate(costs))
    total = running[-1]
    cuts = [0]
    for k in range(1, shards):
        cut = bisect.bisect_left(running, total * k / shards) + 1
        cut = min(max(cut, cuts[-1] + 1), len(costs) - (shards - k))  # each shard keeps at least one item
        cuts.append(cut)
    cuts.append(len(costs))
    return [range(a, b) for a, b in itertools.pairwise(cuts)]

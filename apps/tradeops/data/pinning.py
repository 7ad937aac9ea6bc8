"""Pin a data reference once, where work is submitted: `dataset:NAME` becomes `dataset:NAME@VERSION`.

A sweep's shards, a study's trials, a gate's check and an API or MCP run each load their data
later, some of them much later; pinned at submission, they all read the version that was latest
then, and every part, trial and result records it, whatever is published in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradeops.data.datasets import PREFIX, open_datasets, parse_ref

if TYPE_CHECKING:
    from tradeops.store.objects import ObjectStore


@dataclass(frozen=True)
class Pinned:
    """A data reference as given, and as every shard, trial and result of one submission reads it."""

    given: str
    reference: str  # `dataset:NAME@VERSION`, or the given reference when it names no dataset
    sha256: str | None = None  # the dataset version's content hash


def pin(reference: str, objects: ObjectStore | None = None) -> Pinned:
    """Resolve `dataset:NAME` to `dataset:NAME@VERSION` and its sha256 (`objects`, else the settings' store).

    A named version is checked to exist; samples and files are returned as given. A DataError says
    what is wrong with the reference.
    """
    if not reference.startswith(PREFIX):
        return Pinned(reference, reference)
    manifest = open_datasets(objects).manifest(parse_ref(reference))
    return Pinned(reference, manifest.ref, manifest.sha256)

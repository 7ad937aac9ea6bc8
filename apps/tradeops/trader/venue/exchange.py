"""The venue broker's ccxt client, declared in `tradeops.venues.client` (where market data opens ccxt too).

Re-exported here for the broker and its callers: one definition, one retry policy.
"""

from __future__ import annotations

from tradeops.venues.client import Deadline as Deadline
from tradeops.venues.client import open_venue as open_venue
from tradeops.venues.client import retrying as retrying

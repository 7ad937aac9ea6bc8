"""Brokers for drills: what a venue that does not fill as modelled does to a session.

`WorseFillsBroker` fills every order the paper model's way but `worse_bps` worse than the price it
was sent at (buys higher, sells lower), as a thin or slow venue does. The divergence tests and
`pipelines/bench/divergence.py` run a session through it to prove the divergence figures, the alert
and the halt; it quotes (`propose`) the model, as a venue's order form does before the fill.
"""

from __future__ import annotations

from tradeops.engine.settings import ExecutionSettings
from tradeops.trader.broker import CLOSE, OPEN_LONG, Account, Execution, Order, PaperBroker, Proposal

BPS = 1e4


class WorseFillsBroker:
    """The paper broker, filling `worse_bps` worse than the price each order was sent at."""

    name = "worse-fills"

    def __init__(self, settings: ExecutionSettings, worse_bps: float) -> None:
        if worse_bps < 0:
            raise ValueError("worse_bps must be >= 0 (a venue filling better than modelled is not this drill)")
        self.paper = PaperBroker(settings)
        self.worse = worse_bps / BPS

    def _price(self, order: Order, account: Account, price: float) -> float:
        buys = order.intent == OPEN_LONG or (order.intent == CLOSE and account.position < 0)
        return price * (1 + self.worse) if buys else price * (1 - self.worse)

    def propose(self, order: Order, account: Account, *, price: float, max_size: float) -> Proposal | None:
        return self.paper.propose(order, account, price=price, max_size=max_size)

    def execute(self, order: Order, account: Account, *, price: float, bar: int, max_size: float) -> Execution:
        return self.paper.execute(order, account, price=self._price(order, account, price), bar=bar, max_size=max_size)

    def lookup(self, order_id: str) -> Execution | None:
        return None  # fills live only in the ledger, as the paper broker's

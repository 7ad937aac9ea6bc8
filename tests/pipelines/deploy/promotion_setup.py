"""A staging paper session on a real ledger, and the promotion request the tests change one condition of."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.config import Promotion
from pipelines.deploy.promote import Request
from pipelines.infra.evaluate import stack_config
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import session_config
from tradeops.bundles import BundleState, BundleStore, Verification
from tradeops.data import load_bars
from tradeops.gate.candidate import Candidate
from tradeops.store.database import open_engine
from tradeops.store.models import TraderEquityRow, TraderSessionRow
from tradeops.trader.feed import ReplayFeed
from tradeops.trader.loop import Trader
from tradeops.trader.soak import SoakEvidence, measure_soak

SESSION = "tradeops-staging-soak"
BARS = 260
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday, no freeze
POLICY = Promotion.model_validate(
    {"from": "staging", "min_soak_hours": 24, "max_divergence_bps": 50, "approvals": 1, "post_deploy_bars": 20}
)


@dataclass
class Ledger:
    """Staging's paper trader ledger with one session that traded the candidate's first BARS bars."""

    engine: Engine
    session: str = SESSION

    def soak_source(self, bundle: BundleState, since: datetime) -> SoakEvidence:
        return measure_soak(self.engine, self.session, Candidate.model_validate(bundle.content.candidate), since)

    def soaked(self, since: datetime, hours: float) -> None:
        """The session went on trading `hours` after `since` (its last update)."""
        with Session(self.engine) as db:
            db.execute(
                update(TraderSessionRow)
                .where(TraderSessionRow.id == self.session)
                .values(created_at=since - timedelta(hours=1), updated_at=since + timedelta(hours=hours))
            )
            db.commit()

    def set(self, table: Any, where: Any, **values: Any) -> None:
        with Session(self.engine) as db:
            db.execute(update(table).where(where).values(**values))
            db.commit()

    def shift_equity(self, bar: int, factor: float) -> None:
        """The paper fill at `bar` came out differently from the backtest (a live-vs-backtest gap)."""
        with Session(self.engine) as db:
            row = db.get(TraderEquityRow, (self.session, bar))
            assert row is not None
            row.equity *= factor
            db.commit()


def open_ledger(url: str, session: str = SESSION) -> Ledger:
    candidate = stack_config("staging")["tradeops:settings"]["candidate"]
    engine = open_engine(url)
    config = session_config(
        session, candidate["strategy"], candidate["params"], candidate["data"], **candidate["execution"]
    )
    Trader(engine, config).run(ReplayFeed(load_bars(candidate["data"]).head(BARS)))
    return Ledger(engine, session)


def revoke(bundles: BundleStore, bundle_id: str, reason: str) -> None:
    """A later gate run failed the bundle (as `tradeops bundles reverify` records it)."""
    at = datetime.now(UTC)
    bundles.record(
        Verification(
            bundle_id=bundle_id, stack="staging", verdict_id="verdict-later", passed=False, reason=reason, at=at
        )
    )


def request(**changes: Any) -> Request:
    settings = stack_config("prod")["tradeops:settings"]
    base = Request(source="staging", target="prod", target_settings=settings, policy=POLICY)
    return replace(base, **changes)

"""A staging paper session on a real ledger, and the promotion request the tests change one condition of."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.config import Promotion
from pipelines.deploy.deployer import Tools
from pipelines.deploy.hooks import gate, validate_settings
from pipelines.deploy.promote import Request
from pipelines.infra.evaluate import stack_config
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.apps.trader.conftest import session_config
from tradeops.bundles import BundleState, BundleStore, Verification, dataset_of
from tradeops.data import load_bars
from tradeops.gate.candidate import Candidate
from tradeops.releases import Release
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


# RiskLimits before this wave's pre-trade (223f2b8) and divergence (eec650a) limits: all it dumped
OLD_RISK_FIELDS = ("max_position_notional", "max_daily_loss_pct", "max_drawdown_pct")


def old_schema_bundle(tools: Tools, version: str = "v0") -> Release:
    """Staging running a bundle as the code before this wave wrote it: its risk without the pre-trade and
    divergence limits, its thresholds without the selection group (deflated Sharpe, PBO, champion), its id the
    hash of those bytes; beside it the passed verdict, the verification and the release that deployed it."""
    settings = stack_config("staging")["tradeops:settings"]
    config = validate_settings(settings, version)
    record = gate("staging", version, config, tools.releases)
    assert record.passed, record.verdict
    candidate = config.candidate.model_dump(mode="json")
    del candidate["thresholds"]["selection"]
    content = {
        "image": "ghcr.io/acme/tradeops@sha256:" + "01d5" * 16,
        "git_sha": f"{version}{'0' * 40}"[:40],
        "candidate": candidate,
        "risk": {name: value for name, value in config.risk.model_dump(mode="json").items() if name in OLD_RISK_FIELDS},
        "dataset": dataset_of(record.verdict, candidate).model_dump(mode="json"),
        "verdict_id": record.id,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    identity = "bundle-" + hashlib.sha256(canonical).hexdigest()[:24]
    at = record.created_at
    document = {"content": content, "created_at": at.isoformat()}
    tools.releases.objects.put(f"bundles/{identity}/content.json", json.dumps(document, indent=2).encode())
    verification = {"bundle_id": identity, "stack": "staging", "verdict_id": record.id, "passed": True, "at": at}
    tools.releases.objects.put(
        f"bundles/{identity}/events/{at:%Y%m%dT%H%M%S%f}Z-0ld000-verification.json",
        json.dumps({"kind": "verification", "event": verification}, default=str).encode(),
    )
    release = Release(
        id=f"deploy-{at:%Y%m%dT%H%M%S%f}Z-0ld000",
        stack="staging",
        kind="deploy",
        version=version,
        git_sha=content["git_sha"],
        config=settings | {"candidate": candidate, "risk": content["risk"]},
        image=content["image"],
        gate_verdict_id=record.id,
        gate_passed=True,
        result="succeeded",
        bundle_id=identity,
        started_at=at,
        finished_at=datetime.now(UTC),
        who="ci@github",
    )
    tools.releases.save(release)
    return release

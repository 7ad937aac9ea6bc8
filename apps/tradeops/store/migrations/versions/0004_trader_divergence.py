"""The trader's divergence from a backtest of the same candidate on the same bars, per compared bar.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "trader_divergence",
        sa.Column(
            "session_id", sa.String(64), sa.ForeignKey("trader_sessions.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("bar", sa.Integer, primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trades_live", sa.Integer, nullable=False),
        sa.Column("trades_backtest", sa.Integer, nullable=False),
        *(
            sa.Column(name, sa.Float, nullable=False)
            for name in ("position_gap", "equity_live", "equity_backtest", "equity_drift_bps", "slippage_bps")
        ),
        sa.Column("fills", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trader_divergence")

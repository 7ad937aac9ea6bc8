"""The trader's ledger (sessions, accounts, orders, trades, equity) and the audit log.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

STAMP = sa.DateTime(timezone=True)


def _session_fk() -> sa.ForeignKey:
    return sa.ForeignKey("trader_sessions.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "trader_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("data_ref", sa.String(512), nullable=False),
        sa.Column("symbols", sa.JSON, nullable=False),
        sa.Column("execution", sa.JSON, nullable=False),
        sa.Column("risk", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_bar", sa.Integer, nullable=False),
        sa.Column("last_time", STAMP),
        sa.Column("data_fingerprint", sa.String(80)),
        sa.Column("peak_equity", sa.Float, nullable=False),
        sa.Column("day", sa.String(10)),
        sa.Column("day_start_equity", sa.Float, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
    )
    op.create_table(
        "trader_accounts",
        sa.Column("session_id", sa.String(64), _session_fk(), primary_key=True),
        sa.Column("symbol", sa.String(64), primary_key=True),
        *(
            sa.Column(name, sa.Float, nullable=False)
            for name in ("cash", "position", "debt", "free_cash", "entry_price", "entry_fees", "cash_before")
        ),
        sa.Column("entry_bar", sa.Integer, nullable=False),
    )
    op.create_table(
        "trader_orders",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("session_id", sa.String(64), _session_fk(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("intent", sa.String(16), nullable=False),
        sa.Column("decided_bar", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("fill_bar", sa.Integer),
        sa.Column("fill_time", STAMP),
        sa.Column("price", sa.Float),
        sa.Column("size", sa.Float),
        sa.Column("fees", sa.Float),
        sa.Column("created_at", STAMP, nullable=False),
    )
    op.create_index("ix_trader_orders_session_status", "trader_orders", ["session_id", "status"])
    op.create_table(
        "trader_trades",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), _session_fk(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("entry_bar", sa.Integer, nullable=False),
        sa.Column("exit_bar", sa.Integer, nullable=False),
        *(sa.Column(name, sa.Float, nullable=False) for name in ("entry_price", "exit_price", "size", "pnl", "fees")),
    )
    op.create_index("ix_trader_trades_session_id", "trader_trades", ["session_id"])
    op.create_table(
        "trader_equity",
        sa.Column("session_id", sa.String(64), _session_fk(), primary_key=True),
        sa.Column("bar", sa.Integer, primary_key=True),
        sa.Column("time", STAMP, nullable=False),
        sa.Column("equity", sa.Float, nullable=False),
        sa.Column("exposure", sa.Float, nullable=False),
        sa.Column("drawdown_pct", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in ("audit_log", "trader_equity", "trader_trades", "trader_orders", "trader_accounts"):
        op.drop_table(table)
    op.drop_table("trader_sessions")

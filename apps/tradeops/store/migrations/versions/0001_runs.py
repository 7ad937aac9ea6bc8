"""Create the runs table.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("data_ref", sa.String(512), nullable=False),
        sa.Column("data_fingerprint", sa.String(80)),
        sa.Column("engine_version", sa.String(64)),
        sa.Column("config_hash", sa.String(80)),
        sa.Column("metrics", sa.JSON),
        sa.Column("verdict", sa.JSON),
        sa.Column("result", sa.JSON),
        sa.Column("report_key", sa.String(256)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_seconds", sa.Float),
    )
    op.create_index("ix_runs_kind_created", "runs", ["kind", "created_at"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_config_hash", "runs", ["config_hash"])


def downgrade() -> None:
    op.drop_table("runs")

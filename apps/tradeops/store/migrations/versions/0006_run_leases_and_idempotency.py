"""The run queue is the database: a claimed run carries its holder's lease; a created run its idempotency key.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.String(128), nullable=True))
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))
        batch.create_index("ux_runs_idempotency_key", ["idempotency_key"], unique=True)
        batch.create_index("ix_runs_status_created", ["status", "created_at"])
    # runs an API instance was running at the upgrade: their lease is over now, the next runner requeues them
    # (a sharded sweep runs in the cluster, owned by no instance: left alone)
    op.execute(
        "UPDATE runs SET lease_expires_at = CURRENT_TIMESTAMP "
        "WHERE status = 'running' AND source IN ('api', 'ui') AND owner IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_status_created")
        batch.drop_index("ux_runs_idempotency_key")
        batch.drop_column("request_hash")
        batch.drop_column("idempotency_key")
        batch.drop_column("heartbeat_at")
        batch.drop_column("lease_expires_at")

"""Fees a venue charged in an asset other than the market's own (BNB), per order, for reconciliation.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("trader_orders") as batch:
        batch.add_column(sa.Column("other_fees", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trader_orders") as batch:
        batch.drop_column("other_fees")

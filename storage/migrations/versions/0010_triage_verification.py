"""Urgency level with its reasons, and verification of a case by the team.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("urgency", sa.String(length=8), nullable=False,
                                   server_default="normaal"))
        batch.add_column(sa.Column("urgency_reasons", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("urgency_set_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("signals", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("verified_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("verified_how", sa.Text(), nullable=True))
    # Cases from before: danger was their only urgency.
    op.execute("UPDATE cases SET urgency = 'spoed' WHERE urgent")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for column in ("verified_how", "verified_by", "verified_at", "signals",
                       "urgency_set_by", "urgency_reasons", "urgency"):
            batch.drop_column(column)

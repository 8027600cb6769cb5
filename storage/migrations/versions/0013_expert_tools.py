"""The expert's tools: blocking an account (``blokkeer``), a colleague reading along with a
case (``overleg``), the reminder of an expert who took a case but did not write, and the
coordinators' sign-ins to the web desk.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_REUSE = {"sqlite_autoincrement": True}


def upgrade() -> None:
    # Nullable columns without a constraint: SQLite adds them in place, without a rebuild.
    op.add_column("people", sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("people", sa.Column("blocked_by", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("contact_due_at", sa.DateTime(timezone=True),
                                     nullable=True))
    op.add_column("cases", sa.Column("contact_reminders", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.create_index(op.f("ix_cases_contact_due_at"), "cases", ["contact_due_at"])
    op.create_table(
        "case_consults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=32), nullable=False),
        sa.Column("asked_by", sa.String(length=32), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_consults_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_consults")),
        **NO_REUSE,
    )
    op.create_index(op.f("ix_case_consults_case_id"), "case_consults", ["case_id"])
    op.create_index(op.f("ix_case_consults_expert"), "case_consults", ["expert"])
    op.create_table(
        "desk_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_logins")),
        **NO_REUSE,
    )
    op.create_index(op.f("ix_desk_logins_expert"), "desk_logins", ["expert"])
    op.create_index(op.f("ix_desk_logins_token_hash"), "desk_logins", ["token_hash"])


def downgrade() -> None:
    op.drop_table("desk_logins")
    op.drop_table("case_consults")
    op.drop_index(op.f("ix_cases_contact_due_at"), table_name="cases")
    with op.batch_alter_table("cases", table_kwargs=NO_REUSE) as batch:
        batch.drop_column("contact_reminders")
        batch.drop_column("contact_due_at")
    with op.batch_alter_table("people", table_kwargs=NO_REUSE) as batch:
        batch.drop_column("blocked_by")
        batch.drop_column("blocked_at")

"""Routing to experts: handoffs, notes, expert sessions, the audit log, and case times.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_TIMES = ("escalate_at", "first_asked_at", "accepted_at", "first_answer_at")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_case_id"), "audit_log", ["case_id"])
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),  # encrypted (storage.crypto)
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_notes_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_case_id"), "case_notes", ["case_id"])
    op.create_table(
        "expert_sessions",
        sa.Column("expert", sa.String(length=32), nullable=False),
        sa.Column("active_case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["active_case_id"], ["cases.id"],
                                name=op.f("fk_expert_sessions_active_case_id_cases"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("expert", name=op.f("pk_expert_sessions")),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_handoffs_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index(op.f("ix_handoffs_case_id"), "handoffs", ["case_id"])
    op.create_index(op.f("ix_handoffs_expert"), "handoffs", ["expert"])
    # Adding nullable columns (or with a default) does not recreate the table on SQLite.
    op.add_column("cases", sa.Column("specialties", sa.JSON(), nullable=True))
    op.add_column("cases", sa.Column("assigned_expert", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("escalation_level", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.add_column("cases", sa.Column("outcome", sa.String(length=32), nullable=True))
    for column in CASE_TIMES:
        op.add_column("cases", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_cases_assigned_expert"), "cases", ["assigned_expert"])
    op.create_index(op.f("ix_cases_escalate_at"), "cases", ["escalate_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_escalate_at"), table_name="cases")
    op.drop_index(op.f("ix_cases_assigned_expert"), table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for column in ("specialties", "assigned_expert", "escalation_level", "outcome",
                       *CASE_TIMES):
            batch.drop_column(column)
    op.drop_table("handoffs")
    op.drop_table("expert_sessions")
    op.drop_table("case_notes")
    op.drop_table("audit_log")

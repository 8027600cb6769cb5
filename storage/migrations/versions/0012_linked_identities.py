"""Linking a person's accounts on several channels: linked identities, one-time codes and the
wrong codes tried.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_REUSE = {"sqlite_autoincrement": True}


def upgrade() -> None:
    bind = op.get_bind()
    counter = _counter(bind)
    with op.batch_alter_table("people", table_kwargs=NO_REUSE) as batch:
        batch.add_column(sa.Column("linked_to", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reply_identity_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_people_linked_to_people"), "people",
                                 ["linked_to"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(op.f("fk_people_reply_identity_id_people"), "people",
                                 ["reply_identity_id"], ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_people_linked_to"), ["linked_to"])
    if counter is not None:  # SQLite rebuilt the table: its counter must not go back
        bind.exec_driver_sql("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?",
                             (counter, "people"))
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"],
                                name=op.f("fk_link_codes_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        **NO_REUSE,
    )
    op.create_index(op.f("ix_link_codes_person_id"), "link_codes", ["person_id"])
    op.create_index(op.f("ix_link_codes_code_hash"), "link_codes", ["code_hash"])
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"],
                                name=op.f("fk_link_attempts_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_attempts")),
        **NO_REUSE,
    )
    op.create_index(op.f("ix_link_attempts_person_id"), "link_attempts", ["person_id"])


def _counter(bind: sa.Connection) -> int | None:
    """SQLite's AUTOINCREMENT counter of ``people`` (None on PostgreSQL)."""
    if bind.dialect.name != "sqlite":
        return None
    value = bind.exec_driver_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = 'people'").scalar()
    return int(value or 0)


def downgrade() -> None:
    op.drop_table("link_attempts")
    op.drop_table("link_codes")
    with op.batch_alter_table("people", table_kwargs=NO_REUSE) as batch:
        batch.drop_index(op.f("ix_people_linked_to"))
        batch.drop_constraint(op.f("fk_people_reply_identity_id_people"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_people_linked_to_people"), type_="foreignkey")
        batch.drop_column("reply_identity_id")
        batch.drop_column("linked_to")

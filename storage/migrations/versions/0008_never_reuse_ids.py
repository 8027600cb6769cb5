"""SQLite: ids are never given out again (AUTOINCREMENT), as PostgreSQL's sequences do.

Without it SQLite reuses the highest id after a delete: a new person's case got an erased
case's number, and with it the erased case's audit trail. The tables are rebuilt with
AUTOINCREMENT (foreign keys are off meanwhile, see env.py), and each table's counter starts
above every id that was ever used and still shows somewhere (a case id in the audit log, say).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table, and where else its ids are kept (so the counter starts above those too).
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "people": (("processed_inbound", "person_id"),),
    "conversations": (("cases", "conversation_id"), ("messages", "conversation_id")),
    "cases": (("audit_log", "case_id"), ("handoffs", "case_id"), ("checkins", "case_id"),
              ("case_notes", "case_id"), ("messages", "case_id"),
              ("expert_sessions", "active_case_id")),
    "messages": (),
    "handoffs": (),
    "checkins": (),
    "case_notes": (),
    "audit_log": (),
    "case_facts": (),
    "accept_facts": (),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table, others in TABLES.items():
        highest = max([_max(bind, table, "id"), *(_max(bind, t, c) for t, c in others)])
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                             (table, highest))


def _max(bind: sa.Connection, table: str, column: str) -> int:
    value = bind.execute(sa.text(f'SELECT MAX("{column}") FROM "{table}"')).scalar()  # noqa: S608
    return int(value or 0)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": False}):
            pass

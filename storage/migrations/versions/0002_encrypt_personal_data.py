"""Encrypt what people wrote: message bodies, conversation answers, case intakes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import crypto

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("messages", "body"), ("conversations", "data"), ("cases", "intake"))


def _table(name: str, column: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column(column, sa.Text))


def upgrade() -> None:
    bind = op.get_bind()
    for name, column in COLUMNS:
        # PostgreSQL checks json columns; SQLite stores the token as text whatever the declared
        # type, and recreating its tables would cascade deletes through the foreign keys.
        if bind.dialect.name == "postgresql":
            op.alter_column(name, column, type_=sa.Text(), existing_type=sa.JSON(),
                            postgresql_using=f"{column}::text")
        table = _table(name, column)
        for row_id, value in bind.execute(sa.select(table.c.id, table.c[column])).all():
            if value is not None:
                token = crypto.cipher().encrypt(str(value).encode("utf-8")).decode("ascii")
                bind.execute(sa.update(table).where(table.c.id == row_id)
                             .values({column: token}))


def downgrade() -> None:
    bind = op.get_bind()
    for name, column in COLUMNS:
        table = _table(name, column)
        for row_id, value in bind.execute(sa.select(table.c.id, table.c[column])).all():
            if value is not None:
                plain = crypto.cipher().decrypt(str(value).encode("ascii")).decode("utf-8")
                bind.execute(sa.update(table).where(table.c.id == row_id)
                             .values({column: plain}))
        if bind.dialect.name == "postgresql":
            op.alter_column(name, column, type_=sa.JSON(), existing_type=sa.Text(),
                            postgresql_using=f"{column}::json")

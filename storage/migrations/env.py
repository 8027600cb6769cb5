"""Alembic environment: runs against the URL the bot is configured with.

On SQLite, foreign keys are off while migrating: a migration that rebuilds a table (copy, drop,
rename, the only way SQLite can change some things) would otherwise cascade the drop into every
row that refers to it. They are checked afterwards, and switched on again.
"""

from __future__ import annotations

from alembic import context

from storage.database import create_db_engine, is_sqlite
from storage.models import Base

url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set"
sqlite = is_sqlite(url)
engine = create_db_engine(url)
try:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:  # outside any transaction: SQLite ignores it inside one
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
            if raw is not None:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"a migration broke {len(broken)} foreign keys")
        connection.commit()
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")
finally:
    engine.dispose()

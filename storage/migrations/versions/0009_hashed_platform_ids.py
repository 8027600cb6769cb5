"""Platform message ids of handled messages are kept as keyed hashes.

A Telegram message id holds the person's chat id ("msg:<chat id>:<n>"), and the id of the
message that asked for an erasure must stay (so that a resend is recognised) after the person
is gone. Stored as a keyed hash (storage.crypto.fingerprints), it still recognises a resend
but identifies nobody.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import crypto

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCESSED = sa.table("processed_inbound", sa.column("channel"),
                     sa.column("platform_message_id"))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(PROCESSED.c.channel, PROCESSED.c.platform_message_id)).all()
    for channel, message_id in rows:
        if str(message_id).startswith("h:"):
            continue
        bind.execute(sa.update(PROCESSED)
                     .where(PROCESSED.c.channel == channel,
                            PROCESSED.c.platform_message_id == message_id)
                     .values(platform_message_id=crypto.fingerprints(str(message_id))[0]))


def downgrade() -> None:
    """The ids cannot be recovered from their hashes; a downgraded bot would handle a
    resend of a message from before the downgrade once more."""

"""What a replica adds to each batch's transaction: one batch at a time across replicas, and
the delivery jobs of the messages it posted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, delete, text
from sqlalchemy.dialects.postgresql import insert

from bot.cluster.queue import defer, delivery_job
from storage.models import OneOffClaim, utcnow

CLAIM_MINUTES = 10
_WRITE_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :name))")


class ReplicaHooks:
    """The turns' code was written for one writer at a time (routing counts an expert's
    cases, an escalation and a turn may touch the same case): replicas keep that rule with a
    transaction-scoped advisory lock, held from a batch's first statement to its commit. A
    batch holds many turns, so the lock is taken once for all of them; the per-person order
    comes from the queue's locks, not from this one."""

    def began(self, connection: Connection) -> None:
        connection.execute(_WRITE_LOCK, {"name": ":batches"})

    def claim(self, connection: Connection, key: str) -> bool:
        """Claims are kept for :data:`CLAIM_MINUTES`: the replicas take a changed experts
        file within seconds of each other, and the same change made again later (an override
        added, removed, added) is told again."""
        connection.execute(delete(OneOffClaim).where(
            OneOffClaim.claimed_at < utcnow() - timedelta(minutes=CLAIM_MINUTES)))
        claimed = connection.execute(insert(OneOffClaim).values(key=key, claimed_at=utcnow())
                                     .on_conflict_do_nothing().returning(OneOffClaim.key))
        return claimed.first() is not None

    def posted(self, connection: Connection, first_ids: dict[tuple[str, str], int]) -> None:
        for (channel, address), message_id in sorted(first_ids.items()):
            defer(connection, delivery_job(channel, address, message_id))

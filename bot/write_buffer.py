"""What a batch of turns writes, collected so it is inserted with one statement at the end of
the batch (messages in the order they were made, so ids increase per recipient), and the turn
context every piece of a turn works with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from bot.events import Attachment, InboundEvent, OutboundMessage, OutboundOption, WipeOrder
from bot.person_state import PersonState
from storage import repository as repo
from storage.cases import insert_audits

JOINED_LIMIT = 4000
"""The longest message that messages of a burst are joined into (Telegram's own limit is 4096)."""


@dataclass
class TurnResult:
    """What one inbound event led to: the replies to deliver (to the sender, and to others
    such as an expert). ``stored``: the event is in the database (False only when even
    keeping the message alone failed; then nothing of the turn was written)."""

    replies: list[OutboundMessage] = field(default_factory=list)
    stored: bool = True


@dataclass
class WriteBuffer:
    """Rows a batch writes at its end: messages (inbound kept, outbound to post once
    committed), audit entries, and the check-ins planned; ``now`` is the batch's time."""

    now: datetime
    messages: list[dict[str, Any]] = field(default_factory=list)
    owners: list[TurnResult | None] = field(default_factory=list)
    expert_counts: dict[str, int] | None = None
    """Open cases per expert, read once per batch by routing (cleared when one is taken)."""
    audits: list[dict[str, Any]] = field(default_factory=list)
    planned_checkins: list[tuple[int, datetime]] = field(default_factory=list)
    """Check-ins planned (or moved) in this batch: the wake-up is set once it is committed."""
    processed: list[dict[str, Any]] = field(default_factory=list)
    """The platform ids of the events handled (so a repeated one is ignored)."""
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    languages: dict[int, str] = field(default_factory=dict)
    reply_to: dict[int, int] = field(default_factory=dict)
    linked_seen: set[int] = field(default_factory=set)
    posted_to: dict[tuple[str, str], int] = field(default_factory=dict)
    """Per (channel, address) a message was posted to in the batch, the first one's id."""
    _joinable: dict[tuple[str, str], tuple[int, int | None]] = field(default_factory=dict)
    """Per recipient, the message a ``continued`` text may join: (index, case)."""

    def flush(self, connection: Connection) -> None:
        """Write what is collected (before the batch ends: before an erasure or an expert's
        action, which must see it); each posted message's owner gets it as a reply."""
        repo.insert_processed(connection, self.processed)
        ids = repo.insert_messages(connection, self.messages)
        for message_id, row, owner in zip(ids, self.messages, self.owners, strict=True):
            if owner is not None:
                owner.replies.append(to_outbound(message_id, row))
                self.posted_to.setdefault((row["channel"], row["address"]), message_id)
        repo.update_conversations(connection, self.conversations, self.now)
        repo.update_people(connection, self.languages, self.now, self.reply_to,
                           self.linked_seen)
        insert_audits(connection, self.audits)
        self.processed, self.messages, self.owners, self.audits = [], [], [], []
        self._joinable.clear()
        self.conversations, self.languages, self.reply_to = {}, {}, {}
        self.linked_seen = set()

    def audit(self, actor: str, action: str, case_id: int | None,
              detail: str | None = None) -> None:
        """Note who read or did what to which case (written with the batch)."""
        self.audits.append({"at": self.now, "actor": actor[:64], "action": action,
                            "case_id": case_id, "detail": detail[:64] if detail else None})

    def keep(self, row: dict[str, Any]) -> None:
        """An inbound message row (made with :func:`repo.message_row`)."""
        self.messages.append(row)
        self.owners.append(None)

    def post(self, owner: TurnResult, *, channel: str, address: str, text: str,
             language: str, person_id: int | None, conversation_id: int | None = None,
             case_id: int | None = None, options: Iterable[OutboundOption] = (),
             attachment: Attachment | None = None, sticky: bool = False,
             continued: str | None = None, wipe: WipeOrder | None = None) -> None:
        """Queue a message to send once the batch is committed. ``continued``: this message
        may instead join the previous one to the same recipient about the same case, if that
        one may be joined too and stays within :data:`JOINED_LIMIT`; then ``continued`` is
        added to it (a burst of a person's messages reaches their expert as one)."""
        recipient = (channel, address)
        joinable = self._joinable.pop(recipient, None)
        if continued is not None and joinable is not None and joinable[1] == case_id:
            row = self.messages[joinable[0]]
            joined = f"{row['body']['text']}\n\n{continued}"
            if len(joined) <= JOINED_LIMIT:
                row["body"] = {**row["body"], "text": joined}
                self._joinable[recipient] = joinable
                return
        if continued is not None and not options and attachment is None:
            self._joinable[recipient] = (len(self.messages), case_id)
        body: dict[str, Any] = {"text": text, "language": language,
                                "options": [[o.payload, o.label] for o in options]}
        if attachment is not None:
            body["attachment"] = attachment_body(attachment)
        if sticky:
            body["sticky"] = True
        if wipe is not None:
            body["wipe"] = {"left_text": wipe.left_text, "silent": wipe.silent}
        row = repo.message_row(channel=channel, address=address, direction=repo.OUTBOUND,
                               kind="wipe" if wipe else "text", body=body, person_id=person_id,
                               conversation_id=conversation_id, now=self.now)
        row["case_id"] = case_id
        self.messages.append(row)
        self.owners.append(owner)


def processed_row(now: datetime, event: InboundEvent, person_id: int | None) -> dict[str, Any]:
    """That ``event`` was handled (so the same platform id is ignored when it comes again)."""
    return {"channel": event.channel, "platform_message_id": event.message_id,
            "person_id": person_id, "processed_at": now}


def inbound_row(now: datetime, event: InboundEvent, state: PersonState) -> dict[str, Any]:
    """The message row that keeps what the person sent."""
    body: dict[str, Any] = {}
    kind = "text"
    if event.text is not None:
        body["text"] = event.text
    if event.option is not None:
        body["option"], kind = event.option, "option"
    if event.attachment is not None:
        body["attachment"] = attachment_body(event.attachment)
        kind = "attachment"
    if event.location is not None:
        body["location"], kind = event.location.as_body(), "location"
    if event.contact is not None:
        body["contact"], kind = event.contact.as_body(), "contact"
    row = repo.message_row(channel=event.channel, address=event.sender,
                           direction=repo.INBOUND, kind=kind, body=body,
                           person_id=state.person_id, conversation_id=state.conversation_id,
                           now=now)
    if event.platform_ref is not None:
        row["platform_refs"] = [event.platform_ref]
    return row


def carried(attachment: Attachment, source: str, destination: str) -> Attachment:
    """``attachment`` from channel ``source``, to send on ``destination``: marked with its
    source when that is another channel, so the engine fetches it from there."""
    return attachment if source == destination else replace(attachment, channel=source)


def attachment_body(attachment: Attachment) -> dict[str, Any]:
    body = {"kind": attachment.kind, "ref": attachment.ref, "name": attachment.name,
            "mime_type": attachment.mime_type}
    if attachment.channel is not None:
        body["channel"] = attachment.channel
    return body


def attachment_from(body: dict[str, Any] | None) -> Attachment | None:
    if not body:
        return None
    return Attachment(kind=body["kind"], ref=body["ref"], name=body.get("name"),
                      mime_type=body.get("mime_type"), channel=body.get("channel"))


def to_outbound(message_id: int, row: dict[str, Any]) -> OutboundMessage:
    """The message to deliver for an outbox row."""
    body: dict[str, Any] = row["body"]
    return OutboundMessage(
        id=message_id, channel=row["channel"], recipient=row["address"], text=body["text"],
        options=tuple(OutboundOption(p, label) for p, label in body.get("options", [])),
        language=body.get("language", "nl"),
        attachment=attachment_from(body.get("attachment")),
        sticky=bool(body.get("sticky")),
        wipe=WipeOrder(**body["wipe"]) if body.get("wipe") else None,
    )


@dataclass
class TurnContext:
    """What the code acting on one event works with: the batch's connection (one
    transaction), the write buffer committed with it, and the result whose replies are
    delivered once it is committed."""

    db: Connection
    writes: WriteBuffer
    result: TurnResult

    @property
    def now(self) -> datetime:
        return self.writes.now

    def audit(self, actor: str, action: str, case_id: int | None,
              detail: str | None = None) -> None:
        self.writes.audit(actor, action, case_id, detail)

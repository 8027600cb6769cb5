"""The Matrix channel, on matrix-nio, with end-to-end encryption (vodozemac).

The bot is one device: its user id, device id and access token are kept in ``store_dir``
with nio's key store, and restored at every start, so it can read messages sent to it before
a restart. The sync token is kept too, so a restart does not replay old messages; it is only
saved once the messages of a sync were handled, so a crash never skips one.

A person is their Matrix user id; the bot answers in the direct-message room they wrote from
and joins rooms it is invited to. Options are a numbered list (Matrix has no buttons). Rooms
with more than two members are not served.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    MemoryDownloadResponse,
    RoomCreateResponse,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError, LocalProtocolError

from bot.adapters.matrix_events import PERSON_MESSAGES, file_content, inbound_event
from bot.adapters.matrix_login import MatrixLogin
from bot.adapters.matrix_store import StateFiles
from bot.channel import (
    DeliveryError,
    InboundHandler,
    PermanentDeliveryError,
    split_text,
)
from bot.events import (
    Attachment,
    ChatItem,
    InboundEvent,
    OutboundMessage,
)

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
MAX_BODY_CHARS = 8_000
"""Characters of text in one event: a Matrix event may be 64 KiB, and a character up to four
bytes of UTF-8 (a third more once encrypted)."""
MAX_SEEN_EVENTS = 10_000
REDACT_ATTEMPTS = 5
"""Tries per event when the homeserver says to slow down."""
ROOMS_WITHOUT_MESSAGES: dict[str, Any] = {"room": {"timeline": {"limit": 0}}}


class MatrixChannel:
    name = "matrix"

    def __init__(self, homeserver: str, user_id: str, store_dir: Path, *,
                 password: str | None = None, access_token: str | None = None,
                 device_name: str = "weerbaar-bot", encryption: bool = True) -> None:
        if password is None and access_token is None:
            raise ValueError("a password or an access token is needed")
        self._user_id = user_id
        self._store = store_dir
        self._store.mkdir(parents=True, exist_ok=True)
        self._files = StateFiles(store_dir)
        self._login = MatrixLogin(user_id, self._files, password=password,
                                  access_token=access_token, device_name=device_name)
        self._homeserver = homeserver
        self._encryption = encryption
        self._client = self._new_client()
        self._handler: InboundHandler | None = None
        self._rooms: dict[str, str] = self._files.load_json("rooms.json")  # person -> DM room
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: list[asyncio.Task[None]] = []
        self._unstored: list[str] = []  # events of this sync that could not be stored
        self._sync_task: asyncio.Task[None] | None = None
        self._keys_lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self._first_sync = asyncio.Event()
        self._catching_up = False
        self._sync_ok = False

    def _new_client(self) -> AsyncClient:
        config = AsyncClientConfig(encryption_enabled=self._encryption, store_sync_tokens=False)
        client = AsyncClient(self._homeserver, self._user_id, store_path=str(self._store),
                             config=config)
        client.add_event_callback(self._on_message, PERSON_MESSAGES)
        client.add_event_callback(self._on_undecryptable, MegolmEvent)
        client.add_event_callback(self._on_invite, InviteMemberEvent)
        return client

    # -- the Channel protocol --------------------------------------------------------------

    async def start(self, handler: InboundHandler) -> None:
        self._handler = handler
        # Read now, not when built: a replica that takes the Matrix lease over finds the
        # rooms its predecessor joined since this process began.
        self._rooms = self._files.load_json("rooms.json")
        await self._log_in()
        self._sync_task = asyncio.create_task(self._sync_loop(), name="matrix-sync")
        await self._first_sync.wait()
        log.info("matrix.started device=%s encrypted=%s", self._client.device_id,
                 self._client.olm is not None)

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            await asyncio.gather(self._sync_task, return_exceptions=True)
        if self._pending:
            await asyncio.wait(self._pending, timeout=10)
        await self._client.close()
        self._closed.set()

    def healthy(self) -> bool:
        """The last sync succeeded."""
        return self._sync_ok

    async def send(self, message: OutboundMessage) -> list[str]:
        """Deliver ``message``; returns the ids of the events it became, for wiping the chat
        later."""
        room_id = self._rooms.get(message.recipient) or await self._open_room(message.recipient)
        room = self._client.rooms.get(room_id)
        if room is not None and room.encrypted and self._client.should_query_keys:
            async with self._keys_lock:
                if self._client.should_query_keys:
                    await self._client.keys_query()
        body = message.text
        if message.options:
            body += "\n\n" + "\n".join(f"{number}. {option.label}" for number, option
                                       in enumerate(message.options, start=1))
        if message.attachment is not None:
            attachment = message.attachment
            if attachment.data is not None:  # from another channel: upload it first
                attachment = await self._upload(attachment, bool(room and room.encrypted))
            return [await self._room_send(
                room_id, file_content(attachment, body[:MAX_BODY_CHARS]),
                f"weerbaar-{message.id}")]
        # An event may be 64 KiB at most: a long text goes as several, each with its own
        # transaction id (a resend after a crash is dropped by the server, piece by piece).
        posted = []
        for index, piece in enumerate(split_text(body, MAX_BODY_CHARS)):
            tx_id = f"weerbaar-{message.id}" + (f"-{index}" if index else "")
            posted.append(await self._room_send(room_id, {"msgtype": "m.text", "body": piece},
                                                tx_id))
        return posted

    async def _room_send(self, room_id: str, content: dict[str, Any], tx_id: str) -> str:
        try:
            response = await self._client.room_send(
                room_id, "m.room.message", content, tx_id=tx_id,
                ignore_unverified_devices=True)
        except LocalProtocolError as exc:
            raise PermanentDeliveryError("no_room") from exc
        except (TimeoutError, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
        if not isinstance(response, RoomSendResponse):
            status = getattr(response, "status_code", None) or "error"
            retry_ms = getattr(response, "retry_after_ms", None)
            if status in ("M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_TOO_LARGE"):
                raise PermanentDeliveryError(str(status))
            raise DeliveryError(str(status), retry_after=retry_ms / 1000 if retry_ms else None,
                                answered=True)
        return str(response.event_id)

    async def wipe(self, recipient: str, items: Sequence[ChatItem]) -> int:
        """Redact the bot's events in the person's room, and theirs where the room's power
        levels let the bot (in a room the person made, they do not). Returns how many are
        left; a redacted event shows as "message deleted" in the person's app."""
        room_id = self._rooms.get(recipient)
        refs = list(dict.fromkeys(item.ref for item in items))
        if room_id is None:
            return len(refs)
        room = self._client.rooms.get(room_id)
        may_redact_theirs = room is not None and room.power_levels.can_user_redact(
            self._client.user_id)
        theirs = {item.ref for item in items if item.inbound}
        left = 0
        for ref in refs:
            if (ref in theirs and not may_redact_theirs) or not await self._redact(room_id, ref):
                left += 1
        return left

    async def _redact(self, room_id: str, event_id: str) -> bool:
        """Whether the event is gone (it may have been before)."""
        for _ in range(REDACT_ATTEMPTS):
            try:
                response = await self._client.room_redact(room_id, event_id)
            except (TimeoutError, OSError) as exc:
                raise DeliveryError(type(exc).__name__) from exc
            if isinstance(response, RoomRedactResponse):
                return True
            status = str(getattr(response, "status_code", None) or "error")
            if status == "M_LIMIT_EXCEEDED":
                retry_ms = getattr(response, "retry_after_ms", None) or 1000
                await asyncio.sleep(retry_ms / 1000)
                continue
            if status in ("M_FORBIDDEN", "M_NOT_FOUND"):
                log.info("matrix.redact_refused status=%s", status)
                return False
            raise DeliveryError(status, answered=True)
        return False

    async def fetch(self, attachment: Attachment) -> bytes:
        """The bytes of a file a person sent here, decrypted when it came from an encrypted
        room (the key travels in the attachment's ref)."""
        stored = json.loads(attachment.ref) if attachment.ref.startswith("{") else {}
        encrypted = stored.get("file")
        url = str(encrypted["url"] if encrypted else stored.get("url") or attachment.ref)
        try:
            response = await self._client.download(mxc=url)
        except (TimeoutError, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
        if not isinstance(response, MemoryDownloadResponse):
            status = str(getattr(response, "status_code", None) or "error")
            if status in ("M_NOT_FOUND", "M_TOO_LARGE", "M_FORBIDDEN"):
                raise PermanentDeliveryError("file_unavailable")
            raise DeliveryError(status)
        if not encrypted:
            return bytes(response.body)
        try:
            return bytes(decrypt_attachment(response.body, encrypted["key"]["k"],
                                            encrypted["hashes"]["sha256"], encrypted["iv"]))
        except (EncryptionError, KeyError) as exc:
            raise PermanentDeliveryError("file_unreadable") from exc

    async def _upload(self, attachment: Attachment, encrypt: bool) -> Attachment:
        """Put the bytes of a file from another channel on the homeserver (encrypted for an
        encrypted room); returns the attachment with the ref :func:`_file_content` reads."""
        data = attachment.data or b""
        try:
            response, keys = await self._client.upload(
                io.BytesIO(data), content_type=attachment.mime_type or "application/octet-stream",
                filename=attachment.name or attachment.kind, encrypt=encrypt,
                filesize=len(data))
        except (TimeoutError, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
        if not isinstance(response, UploadResponse):
            status = str(getattr(response, "status_code", None) or "error")
            if status == "M_TOO_LARGE":
                raise PermanentDeliveryError("file_too_large")
            raise DeliveryError(status)
        if keys is not None:
            ref = json.dumps({"file": {**keys, "url": response.content_uri}})
        else:
            ref = response.content_uri
        return replace(attachment, ref=ref, data=None)

    # -- logging in --------------------------------------------------------------------------

    async def _log_in(self) -> None:
        await self._login.start(self._client)
        next_batch = self._store / "next_batch"
        saved = next_batch.read_text().strip() if next_batch.exists() else None
        if saved:
            await self._load_rooms()
        self._client.next_batch = saved

    async def _load_rooms(self) -> None:
        """The rooms the device is in, with their state and no messages: a sync from the
        saved token brings only rooms with news, and without the others nio sends nothing
        to them ("no such room"). Their messages since the token come with the next sync."""
        response = await self._client.sync(timeout=0, full_state=True,
                                           sync_filter=ROOMS_WITHOUT_MESSAGES)
        if not isinstance(response, SyncResponse):
            log.warning("matrix.rooms_not_loaded status=%s",
                        getattr(response, "status_code", ""))

    async def _recover_login(self) -> bool:
        """The homeserver no longer knows the access token (an admin logged the device out,
        the password changed, the server was reset). With a password: log in as a new device
        (with a key store of its own; it cannot read messages encrypted for the old one).
        With only an access token: a configured token other than the refused one is tried;
        else Matrix cannot go on. Returns whether it is logged in again."""
        refused = self._client.access_token
        next_batch = self._client.next_batch
        await self._client.close()
        self._client = self._new_client()
        if not await self._login.again(self._client, refused):
            return False
        self._client.next_batch = next_batch
        log.warning("matrix.logged_in_again device=%s", self._client.device_id)
        return True

    # -- syncing -----------------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        backoff = 1.0
        while True:
            client = self._client
            first = not self._first_sync.is_set()
            since = client.next_batch
            # The very first sync of a new device only learns where "now" is: it joins rooms
            # it was invited to, but old messages are not answered.
            self._catching_up = since is None
            response = await client.sync(timeout=0 if first else SYNC_TIMEOUT_MS,
                                         since=since, full_state=first)
            self._catching_up = False
            self._sync_ok = isinstance(response, SyncResponse)
            if not isinstance(response, SyncResponse):
                status = getattr(response, "status_code", "")
                log.warning("matrix.sync_failed status=%s", status)
                if status == "M_UNKNOWN_TOKEN" and not await self._recover_login():
                    log.error("matrix.stopped reason=the homeserver refused the access token; "
                              "give a new WEERBAAR_MATRIX_ACCESS_TOKEN or a password")
                    self._first_sync.set()
                    self._closed.set()
                    return
                self._first_sync.set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            await self._keys_housekeeping()
            pending, self._pending = self._pending, []
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            if self._unstored:
                # Not stored (the database failed): the same sync again after a pause, so
                # these come back; those that were stored are recognised as handled.
                for event_id in self._unstored:
                    self._seen.pop(event_id, None)
                self._unstored = []
                client.next_batch = since
                self._first_sync.set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            self._files.write_atomic("next_batch", response.next_batch)
            self._first_sync.set()

    async def _keys_housekeeping(self) -> None:
        client = self._client
        if client.olm is None:
            return
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            async with self._keys_lock:
                await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    # -- inbound -----------------------------------------------------------------------------

    def _fresh(self, event_id: str, sender: str) -> bool:
        if sender == self._client.user_id or event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > MAX_SEEN_EVENTS:
            self._seen.popitem(last=False)
        return True

    async def _on_message(self, room: MatrixRoom, event: Any) -> None:
        if not self._fresh(event.event_id, event.sender) or room.member_count > 2:
            return
        inbound = inbound_event(self.name, event)
        if inbound is None:
            return
        if not inbound.edited:  # an edit is the same message in the room
            inbound = replace(inbound, platform_ref=event.event_id)
        if self._rooms.get(event.sender) != room.room_id:
            self._rooms[event.sender] = room.room_id
            self._files.save_json("rooms.json", self._rooms)
        self._dispatch(inbound)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """A message the bot cannot decrypt still gets an answer, and the keys are asked for."""
        if not self._fresh(event.event_id, event.sender) or room.member_count > 2:
            return
        log.warning("matrix.undecryptable room_encrypted=%s", room.encrypted)
        with contextlib.suppress(LocalProtocolError):
            await self._client.request_room_key(event)
        self._rooms[event.sender] = room.room_id
        self._dispatch(InboundEvent(self.name, event.sender, event.event_id,
                                    attachment=Attachment("unreadable", event.event_id),
                                    platform_ref=event.event_id))

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self._client.user_id or event.membership != "invite":
            return
        response = await self._client.join(room.room_id)
        if isinstance(response, JoinError):
            log.warning("matrix.join_failed status=%s", response.status_code)
        else:
            log.info("matrix.joined")

    def _dispatch(self, event: InboundEvent) -> None:
        if self._handler is None or self._catching_up:
            return

        def committed(stored: bool) -> None:
            if not stored:
                self._unstored.append(event.message_id)

        # Handled in a task, in arrival order; the sync token is saved only after these
        # tasks finish and all were stored, so an event is never skipped by a crash.
        self._pending.append(asyncio.create_task(self._handler(event, on_committed=committed)))

    # -- helpers -----------------------------------------------------------------------------

    async def _open_room(self, user_id: str) -> str:
        """A direct-message room with someone the bot has not talked to yet."""
        initial_state = []
        if self._client.olm is not None:
            initial_state.append({"type": "m.room.encryption", "state_key": "",
                                  "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
        response = await self._client.room_create(is_direct=True, invite=[user_id],
                                                  initial_state=initial_state)
        if not isinstance(response, RoomCreateResponse):
            raise DeliveryError("room_create_failed")
        self._rooms[user_id] = response.room_id
        self._files.save_json("rooms.json", self._rooms)
        return str(response.room_id)

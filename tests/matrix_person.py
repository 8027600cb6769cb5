"""A person on Matrix, as a real nio client of the test Synapse, optionally with encryption."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MatrixRoom,
    RedactedEvent,
    RoomCreateResponse,
    RoomEncryptedMedia,
    RoomMessage,
    RoomMessageMedia,
    RoomMessagesResponse,
    RoomMessageText,
    RoomSendResponse,
    UploadResponse,
)
from nio.crypto.attachments import decrypt_attachment

from bot.adapters.matrix import MatrixChannel
from tests.harness import Bot
from tests.synapse import Synapse


class MatrixPerson:
    def __init__(self, homeserver: str, user_id: str, password: str, store: Path,
                 encryption: bool = False) -> None:
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=encryption, store_sync_tokens=True)
        self.client = AsyncClient(homeserver, user_id, store_path=str(store), config=config)
        self.password = password
        self.received: list[str] = []
        self.received_from: list[tuple[str, str]] = []  # (event id, sender) of each received
        self.room_id = ""
        self.files: list[tuple[str, bytes]] = []  # (body, the file's bytes) the bot sent
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.client.add_event_callback(self._on_file, RoomMessageMedia)
        self.client.add_event_callback(self._on_file, RoomEncryptedMedia)
        self._sync: asyncio.Task[None] | None = None

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != self.client.user_id and room.room_id == self.room_id:
            self.received.append(event.body)
            self.received_from.append((event.event_id, event.sender))

    async def _on_file(self, room: MatrixRoom, event: RoomMessageMedia | RoomEncryptedMedia
                       ) -> None:
        if event.sender == self.client.user_id or room.room_id != self.room_id:
            return
        response = await self.client.download(mxc=event.url)
        data = getattr(response, "body", b"")
        if isinstance(event, RoomEncryptedMedia):
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        self.files.append((event.body, data))

    async def send_image(self, data: bytes, name: str = "screenshot.png") -> None:
        """Upload ``data`` and post it as an image (encrypted in an encrypted room)."""
        room = self.client.rooms[self.room_id]
        response, keys = await self.client.upload(
            io.BytesIO(data), content_type="image/png", filename=name,
            encrypt=room.encrypted, filesize=len(data))
        assert isinstance(response, UploadResponse), response
        content: dict[str, object] = {"msgtype": "m.image", "body": name,
                                      "info": {"mimetype": "image/png"}}
        if keys is not None:
            content["file"] = {**keys, "url": response.content_uri}
        else:
            content["url"] = response.content_uri
        if self.client.olm is not None and self.client.should_query_keys:
            await self.client.keys_query()
        sent = await self.client.room_send(self.room_id, "m.room.message", content,
                                           ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse), sent

    async def start(self) -> None:
        response = await self.client.login(self.password, device_name="phone")
        assert isinstance(response, LoginResponse), response
        if self.client.olm is not None and self.client.should_upload_keys:
            await self.client.keys_upload()
        await self.client.sync(timeout=0, full_state=True)
        self._sync = asyncio.create_task(self.client.sync_forever(timeout=1000))

    async def stop(self) -> None:
        if self._sync is not None:
            self._sync.cancel()
            await asyncio.gather(self._sync, return_exceptions=True)
        await self.client.close()

    async def open_chat_with(self, bot_user_id: str, encrypted: bool = False,
                             redact_level: int | None = None) -> None:
        """Create a direct-message room, invite the bot and wait until it joined.
        ``redact_level``: the power level needed to redact others' messages (0: any member,
        the bot too; by default Synapse's 50, which the bot does not have)."""
        state = [{"type": "m.room.encryption", "state_key": "",
                  "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] if encrypted else []
        powers = {"redact": redact_level} if redact_level is not None else None
        response = await self.client.room_create(is_direct=True, invite=[bot_user_id],
                                                 initial_state=state,
                                                 power_level_override=powers)
        assert isinstance(response, RoomCreateResponse), response
        self.room_id = response.room_id
        for _ in range(300):
            room = self.client.rooms.get(self.room_id)
            if room is not None and bot_user_id in room.users and \
                    bot_user_id not in room.invited_users:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the bot did not join")

    async def say(self, text: str) -> str:
        """Send ``text``; returns its event id."""
        return await self.send_content({"msgtype": "m.text", "body": text})

    async def edit(self, event_id: str, text: str) -> None:
        """Change an earlier message, as Element does."""
        await self.send_content({"msgtype": "m.text", "body": f"* {text}",
                          "m.new_content": {"msgtype": "m.text", "body": text},
                          "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}})

    async def reply(self, text: str) -> None:
        """Answer the latest message with Matrix's reply, with the quote that older clients
        put in front of the text."""
        event_id, sender = self.received_from[-1]
        quoted = "\n".join(f"> {line}" for line in f"<{sender}> {self.received[-1]}".split("\n"))
        await self.send_content({"msgtype": "m.text", "body": f"{quoted}\n\n{text}",
                          "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}})

    async def send_content(self, content: dict[str, object],
                           event_type: str = "m.room.message") -> str:
        """Send any event to the chat with the bot (a location, a sticker, ...)."""
        if self.client.olm is not None and self.client.should_query_keys:
            await self.client.keys_query()
        response = await self.client.room_send(self.room_id, event_type, content,
                                               ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        event_id: str = response.event_id
        return event_id

    async def chat(self) -> list[str]:
        """The messages the room still shows, oldest first, as "bot: ..." and "me: ..."
        (a redacted message shows as deleted and is left out)."""
        response = await self.client.room_messages(self.room_id, limit=500)
        assert isinstance(response, RoomMessagesResponse), response
        lines = []
        for event in reversed(response.chunk):
            if isinstance(event, RoomMessage) and not isinstance(event, RedactedEvent):
                who = "me" if event.sender == self.client.user_id else "bot"
                lines.append(f"{who}: {getattr(event, 'body', '[file]')}")
        return lines

    async def wait_for(self, count: int, within: float = 20.0) -> list[str]:
        """Wait until the bot has sent ``count`` messages in all."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} messages, got "
                                     f"{[t[:50] for t in self.received]}")
            await asyncio.sleep(0.05)
        return self.received

    async def wait_until_files(self, count: int, within: float = 30.0) -> None:
        await self.wait_until(lambda: len(self.files) >= count, within)

    async def wait_until(self, condition: Callable[[], bool], within: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.05)

    async def exchange(self, text: str, replies: int = 1, within: float = 20.0) -> list[str]:
        """Say ``text`` and wait for ``replies`` answers; returns those answers."""
        before = len(self.received)
        await self.say(text)
        return (await self.wait_for(before + replies, within))[before:]


@dataclass
class Pair:
    """The bot on Matrix (engine, real channel) and a person who has a chat open with it."""

    bot_id: str
    channel: MatrixChannel
    bot: Bot
    person: MatrixPerson


@asynccontextmanager
async def bot_and_person(synapse: Synapse, url: str, store: Path,
                         redact_level: int | None = None) -> AsyncIterator[Pair]:
    """A new bot account and person on the test Synapse, the bot running with a password,
    the person in a direct chat with it (see :meth:`MatrixPerson.open_chat_with`); stopped
    afterwards."""
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    person_id = synapse.register(f"p{suffix}", "pw")
    channel = MatrixChannel(synapse.url, bot_id, store / "bot-store", password="bot-pw")
    bot = Bot(url, channel=None)
    await bot.engine.start({"matrix": channel})
    await channel.start(bot.engine.handle)
    person = MatrixPerson(synapse.url, person_id, "pw", store / "person")
    await person.start()
    try:
        await person.open_chat_with(bot_id, redact_level=redact_level)
        yield Pair(bot_id, channel, bot, person)
    finally:
        await person.stop()
        await channel.stop()
        await bot.engine.stop()
        bot.db.dispose()

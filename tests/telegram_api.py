"""A local server that speaks the Telegram Bot API over HTTP, for the real adapter and
python-telegram-bot to talk to. It plays Telegram: it keeps updates for getUpdates, records
what the bot sends, and the test plays the person through :meth:`FakeTelegram.user_says`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

HANG_SECONDS = 30.0  # longer than python-telegram-bot's request timeouts (5 s)
DELETE_LIMIT_SECONDS = 48 * 3600
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Weerbaar", "username": "weerbaar_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


@dataclass
class Sent:
    """A message the bot sent, as Telegram holds it now (edits change it)."""

    message_id: int
    chat_id: int
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, callback data)
    file: tuple[str, str] | None = None  # (kind, file id or name) of a photo, document, ...
    data: bytes | None = None  # the bytes, when the bot uploaded the file
    epoch: int = 0  # which run of the bot sent it (a crash test counts the restarts)


class FakeTelegram:
    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.new_update = asyncio.Event()
        self.sent: list[Sent] = []
        self._sent_to: dict[int, list[Sent]] = {}  # the same, by chat (to() is called a lot)
        self.by_id: dict[int, Sent] = {}
        self.answered_callbacks: list[str] = []
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.calls: list[str] = []
        self.fail_next_sends: list[tuple[int, dict[str, Any]]] = []  # (status, body)
        self.fail_next_polls: list[tuple[int, dict[str, Any]]] = []
        self.hang_next_sends = 0  # requests that never get through (the client times out)
        self.lose_next_responses = 0  # messages delivered whose answer never gets back
        self._stopping = asyncio.Event()
        self.blocked_chats: set[int] = set()
        self.webhook: dict[str, str] = {}
        self.polls: list[tuple[int, float]] = []  # (offset asked, when)
        self.epoch = 0
        self.files: dict[str, bytes] = {}  # file id -> what a person sent, for getFile
        self.allowed_updates = ["message", "edited_message", "callback_query", "channel_post"]
        self.latest_from: dict[int, dict[str, Any]] = {}  # user id -> their latest message
        # Every message in each private chat, both ways, as the person's app shows it:
        # chat id -> message id -> (when, sent by the bot, the person's text); deleted ones go.
        self.chats: dict[int, dict[int, tuple[float, bool, str]]] = {}
        self.deleted: list[int] = []
        self._update_ids: Iterator[int] = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.settle: Callable[[], Awaitable[None]] | None = None  # wait until the bot is idle

    # -- server ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), HANG_SECONDS)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        self.calls.append(method)
        data: dict[str, Any] = {}
        if request.content_type == "application/json":
            data = await request.json()
        else:
            for key, value in (await request.post()).items():
                data[key] = value
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        result = await handler(data)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"].removeprefix("files/"))
        if request.match_info["token"] != self.token or data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    # -- Bot API methods -------------------------------------------------------------------

    async def api_getFile(self, data: dict[str, Any]) -> Any:
        file_id = str(data["file_id"])
        if file_id not in self.files:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: invalid file_id"},
                                     status=400)
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files[file_id]), "file_path": f"files/{file_id}"}

    async def api_getMe(self, data: dict[str, Any]) -> Any:
        return BOT_USER

    async def api_setMyCommands(self, data: dict[str, Any]) -> Any:
        self.commands[str(data.get("language_code", ""))] = json.loads(data["commands"])
        return True

    async def api_getUpdates(self, data: dict[str, Any]) -> Any:
        if self.fail_next_polls:
            status, body = self.fail_next_polls.pop(0)
            return web.json_response(body, status=status)
        offset = int(data.get("offset", 0) or 0)
        timeout = float(data.get("timeout", 0) or 0)
        if data.get("allowed_updates"):  # as Telegram: kept until changed, others dropped
            self.allowed_updates = json.loads(data["allowed_updates"])
        self.polls.append((offset, time.monotonic()))
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        self._drop_unasked()
        if not self.updates and timeout:
            self.new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_update.wait(), timeout=min(timeout, 1.0))
            self._drop_unasked()
        return self.updates[:100]

    def _drop_unasked(self) -> None:
        """As Telegram: the kinds of update the bot did not ask for never reach it."""
        self.updates = [u for u in self.updates
                        if any(kind in self.allowed_updates for kind in u)]

    async def api_sendMessage(self, data: dict[str, Any]) -> Any:
        chat_id = int(data["chat_id"])
        if chat_id in self.blocked_chats:
            return web.json_response({"ok": False, "error_code": 403,
                                      "description": "Forbidden: bot was blocked by the user"},
                                     status=403)
        if self.fail_next_sends:
            status, body = self.fail_next_sends.pop(0)
            return web.json_response(body, status=status)
        if self.hang_next_sends:
            self.hang_next_sends -= 1
            await self._hang()
            return web.json_response({"ok": False, "error_code": 504}, status=504)
        message = Sent(next(self._message_ids), chat_id, str(data["text"]),
                       _buttons(data.get("reply_markup")), epoch=self.epoch)
        self._record(message)
        self._in_chat(chat_id, message.message_id, by_bot=True)
        if self.lose_next_responses:
            self.lose_next_responses -= 1
            await self._hang()
        return self._message_json(message)

    async def _file(self, data: dict[str, Any], field_name: str) -> Any:
        chat_id = int(data["chat_id"])
        value = data[field_name]
        if isinstance(value, web.FileField):
            message = Sent(next(self._message_ids), chat_id, str(data.get("caption", "")),
                           file=(field_name, value.filename), data=value.file.read())
        else:
            message = Sent(next(self._message_ids), chat_id, str(data.get("caption", "")),
                           file=(field_name, str(value)))
        self._record(message)
        self._in_chat(chat_id, message.message_id, by_bot=True)
        return self._message_json(message)

    async def api_sendPhoto(self, data: dict[str, Any]) -> Any:
        return await self._file(data, "photo")

    async def api_sendDocument(self, data: dict[str, Any]) -> Any:
        return await self._file(data, "document")

    async def api_sendVoice(self, data: dict[str, Any]) -> Any:
        return await self._file(data, "voice")

    async def api_editMessageText(self, data: dict[str, Any]) -> Any:
        message = self.by_id[int(data["message_id"])]
        message.text = str(data["text"])
        message.buttons = _buttons(data.get("reply_markup"))
        return self._message_json(message)

    async def api_editMessageReplyMarkup(self, data: dict[str, Any]) -> Any:
        message = self.by_id[int(data["message_id"])]
        message.buttons = _buttons(data.get("reply_markup"))
        return self._message_json(message)

    async def api_deleteMessage(self, data: dict[str, Any]) -> Any:
        """As Telegram: a message older than 48 hours stays; one that is gone is not found."""
        chat = self.chats.get(int(data["chat_id"]), {})
        message_id = int(data["message_id"])
        if message_id not in chat:
            return _bad_request("message to delete not found")
        if time.time() - chat[message_id][0] > DELETE_LIMIT_SECONDS:
            return _bad_request("message can't be deleted")
        del chat[message_id]
        self.deleted.append(message_id)
        return True

    async def api_deleteMessages(self, data: dict[str, Any]) -> Any:
        """Messages not found are skipped; one that can no longer be deleted fails the call
        (the strictest reading of the Bot API's documentation)."""
        chat = self.chats.get(int(data["chat_id"]), {})
        ids = [int(i) for i in (json.loads(data["message_ids"])
                                if isinstance(data["message_ids"], str) else data["message_ids"])]
        assert 1 <= len(ids) <= 100, "deleteMessages takes 1 to 100 ids"
        if any(i in chat and time.time() - chat[i][0] > DELETE_LIMIT_SECONDS for i in ids):
            return _bad_request("message can't be deleted")
        for message_id in ids:
            if chat.pop(message_id, None) is not None:
                self.deleted.append(message_id)
        return True

    def _in_chat(self, chat_id: int, message_id: int, *, by_bot: bool, text: str = "") -> None:
        self.chats.setdefault(chat_id, {})[message_id] = (time.time(), by_bot, text)

    def age(self, chat_id: int, hours: float) -> None:
        """Make every message now in the chat ``hours`` older."""
        chat = self.chats.get(chat_id, {})
        for message_id, (at, by_bot, text) in list(chat.items()):
            chat[message_id] = (at - hours * 3600, by_bot, text)

    def chat(self, chat_id: int) -> list[str]:
        """What the person's app shows of the chat now: "bot: ..." and "me: ..." lines."""
        lines = []
        for message_id, (_, by_bot, text) in sorted(self.chats.get(chat_id, {}).items()):
            shown = self.by_id[message_id].text if by_bot else text
            lines.append(f"{'bot' if by_bot else 'me'}: {shown}")
        return lines

    async def api_setWebhook(self, data: dict[str, Any]) -> Any:
        self.webhook = {"url": str(data["url"]), "secret": str(data.get("secret_token", ""))}
        return True

    async def api_answerCallbackQuery(self, data: dict[str, Any]) -> Any:
        self.answered_callbacks.append(str(data["callback_query_id"]))
        return True

    # -- playing the person ----------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        self.new_update.set()

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queue any update as it is (a malformed one, say); returns its update id."""
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self.new_update.set()
        return int(update["update_id"]) if isinstance(update["update_id"], int) else -1

    def confirmed_up_to(self) -> int:
        """The highest offset the bot has asked for: updates below it are confirmed."""
        return max((offset for offset, _ in self.polls), default=0)

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        """An update as Telegram would POST it to a webhook."""
        return {"update_id": next(self._update_ids),
                "message": self._incoming(user_id, text=text)}

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Raadslid", "language_code": "nl"}

    def _incoming(self, user_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": user_id, "type": "private", "first_name": "Raadslid"},
                   "from": self._user(user_id), **content}
        self.latest_from[user_id] = message
        self._in_chat(user_id, message["message_id"], by_bot=False,
                      text=str(content.get("text") or content.get("caption") or "[file]"))
        return message

    def user_says(self, user_id: int, text: str) -> None:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        self._push({"message": self._incoming(user_id, **content)})

    async def user_types(self, user_id: int, lines: Iterable[str | tuple[str, int]]) -> None:
        """Say each line once the bot has answered the one before; a line is a text, or a
        text and the number of messages the bot answers it with (one if not given)."""
        for line in lines:
            text, replies = (line, 1) if isinstance(line, str) else line
            count = len(self.to(user_id))
            self.user_says(user_id, text)
            await self.wait_for(user_id, count + replies)

    def user_forwards(self, user_id: int, text: str) -> None:
        """The user forwards a message someone else sent them."""
        origin = {"type": "hidden_user", "sender_user_name": "Anoniem",
                  "date": int(time.time()) - 3600}
        self._push({"message": self._incoming(user_id, text=text, forward_origin=origin)})

    def user_shares_location(self, user_id: int, latitude: float, longitude: float) -> None:
        """A pin dropped on the map (sent once)."""
        self._push({"message": self._incoming(user_id, location={"latitude": latitude,
                                                                 "longitude": longitude})})

    def user_shares_contact(self, user_id: int, phone: str, first_name: str,
                            own: bool = False) -> None:
        """A contact card; ``own``: the user's own (Telegram sends its number without "+")."""
        card: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if own:
            card["user_id"] = user_id
        self._push({"message": self._incoming(user_id, contact=card)})

    def user_shares_live_location(self, user_id: int, moves: int) -> None:
        """A live location: one message, then an edit of it each time the user moves."""
        message = self._incoming(user_id, location={"latitude": 52.09, "longitude": 5.12,
                                                    "live_period": 900})
        self._push({"message": message})
        for step in range(1, moves + 1):
            moved = {"latitude": 52.09 + step / 1000, "longitude": 5.12, "live_period": 900}
            self._push({"edited_message": {**message, "location": moved,
                                           "edit_date": message["date"] + step}})

    def user_edits(self, user_id: int, text: str) -> None:
        """The user changes the text of their latest message."""
        edited = {**self.latest_from[user_id], "text": text, "edit_date": int(time.time()) + 1}
        self._push({"edited_message": edited})

    def user_sends_photo(self, user_id: int, caption: str | None = None,
                         data: bytes | None = None) -> None:
        """A photo in two sizes (photo-1, photo-2); ``data``: the bytes of the larger one,
        for the bot to fetch."""
        photo = [{"file_id": f"photo-{i}", "file_unique_id": f"u{i}", "width": 90 * i,
                  "height": 90 * i, "file_size": 1000 * i} for i in (1, 2)]
        if data is not None:
            self.files["photo-2"] = data
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        self._push({"message": self._incoming(user_id, **content)})

    def user_sends_sticker(self, user_id: int) -> None:
        sticker = {"file_id": "sticker-1", "file_unique_id": "s1", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False}
        self._push({"message": self._incoming(user_id, sticker=sticker)})

    def user_presses(self, user_id: int, message: Sent, label: str) -> str:
        """Press the button with ``label`` under ``message``; returns the callback id."""
        data = next(d for text, d in message.buttons if text == label)
        return self.user_presses_data(user_id, message, data)

    def user_presses_data(self, user_id: int, message: Sent, data: str) -> str:
        callback_id = f"cb{next(self._callback_ids)}"
        self._push({"callback_query": {
            "id": callback_id, "from": self._user(user_id), "chat_instance": "ci",
            "data": data, "message": self._message_json(message)}})
        return callback_id

    def _message_json(self, message: Sent) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": message.message_id, "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private", "first_name": "Raadslid"},
            "from": BOT_USER, "text": message.text}
        if message.buttons:
            result["reply_markup"] = {"inline_keyboard": [
                [{"text": text, "callback_data": data}] for text, data in message.buttons]}
        return result

    # -- waiting for the bot ---------------------------------------------------------------

    def _record(self, message: Sent) -> None:
        self.sent.append(message)
        self._sent_to.setdefault(message.chat_id, []).append(message)
        self.by_id[message.message_id] = message

    def to(self, chat_id: int) -> list[Sent]:
        return list(self._sent_to.get(chat_id, ()))

    async def wait_for(self, chat_id: int, count: int, within: float = 10.0) -> list[Sent]:
        """Wait until the bot sent ``count`` messages in all to ``chat_id``. With ``settle``
        (the engine's drain) exactly ``count``: a test that expects too few fails every
        time, not only when the last message happens to be late."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.to(chat_id)) < count:
            if asyncio.get_running_loop().time() > deadline:
                texts = [m.text[:60] for m in self.to(chat_id)]
                raise AssertionError(f"expected {count} messages, got {len(texts)}: {texts}")
            await asyncio.sleep(0.02)
        if self.settle is not None:
            await self.settle()
            if len(self.to(chat_id)) != count:
                texts = [m.text[:60] for m in self.to(chat_id)[count - 1:]]
                raise AssertionError(f"expected {count} messages, got more: ...{texts}")
        return self.to(chat_id)

    async def wait_until(self, condition: Any, within: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached")
            await asyncio.sleep(0.02)


def _buttons(markup: Any) -> list[tuple[str, str]]:
    if not markup:
        return []
    parsed = json.loads(markup) if isinstance(markup, str) else markup
    return [(b["text"], b["callback_data"]) for row in parsed.get("inline_keyboard", [])
            for b in row]


def _bad_request(description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": 400,
                              "description": f"Bad Request: {description}"}, status=400)

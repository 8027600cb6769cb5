"""The comparison: the same incident intake written with python-telegram-bot's own
ConversationHandler, driven through ``Application.process_update`` like the engine is driven
through ``Engine.handle``.

It is what a plain PTB bot would be: one state per question, answers kept in ``user_data``, the
conversation state in the process's memory (a crash forgets it; PTB's persistence writes it out
every minute at best). The questions, their options and the matching of typed answers are the
bot's own, so what differs is the framework and where the state lives. Replies go to an offline
request object that answers ``sendMessage`` at once, as the engine benchmark's channel does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from telegram import ReplyKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bench.engine import RunResult, script
from bot.matching import Choice, match_choices
from config import TEXT_PLACEHOLDERS, Facts, text_facts
from flows import load_flows
from flows.schema import Step

BOT = {"id": 4242, "is_bot": True, "first_name": "Weerbaar", "username": "weerbaar_bot"}
# The intake as the script walks it: the menu, then the incident questions in order.
PATH = [("menu", "menu"), ("incident", "safety"), ("incident", "role"),
        ("incident", "org_type"), ("incident", "org_name"), ("incident", "what"),
        ("incident", "description"), ("incident", "when"), ("incident", "ongoing"),
        ("incident", "how"), ("incident", "perpetrator"), ("incident", "family"),
        ("incident", "internal"), ("incident", "aangifte"), ("incident", "aangifte_address"),
        ("incident", "help_wanted"), ("incident", "contact"), ("incident", "summary"),
        ("incident", "done")]


class OfflineRequest(BaseRequest):
    """Answers the Bot API in-process: getMe, and sendMessage with the message it would be."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.sent = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        result: Any = True
        if name == "getMe":
            result = BOT
        elif name == "sendMessage" and request_data is not None:
            self.sent += 1
            parameters = request_data.parameters
            result = {"message_id": next(self._ids), "date": 0, "from": BOT,
                      "chat": {"id": int(str(parameters["chat_id"])), "type": "private"},
                      "text": parameters["text"]}
        return 200, json.dumps({"ok": True, "result": result}).encode()


@dataclass(frozen=True)
class Question:
    text: str
    step: Step
    choices: list[Choice]


def _questions() -> list[Question]:
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    facts = text_facts(Facts(), 365)
    questions = []
    for flow, name in PATH:
        step = flows.step(flow, name)
        questions.append(Question(step.text.nl.format_map(facts), step,
                                  [Choice.of(option) for option in step.option_list]))
    return questions


def build_application(request: OfflineRequest) -> Application:  # type: ignore[type-arg]
    questions = _questions()
    last = len(questions) - 1

    def keyboard(question: Question) -> ReplyKeyboardMarkup | None:
        labels = [[option.label.nl] for option in question.step.option_list]
        return ReplyKeyboardMarkup(labels, one_time_keyboard=True) if labels else None

    async def ask(update: Update, index: int) -> int:
        assert update.message is not None
        question = questions[index]
        await update.message.reply_text(question.text, reply_markup=keyboard(question))
        return index

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        return await ask(update, 0)

    def answer(index: int) -> Any:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            assert update.message is not None and update.message.text is not None
            question = questions[index]
            text = update.message.text
            if question.choices and question.step.type == "choice":
                chosen = match_choices(text, question.choices, multi=question.step.multi)
                if not chosen:
                    await update.message.reply_text("Sorry, dat begreep ik niet.")
                    return await ask(update, index)
                assert context.user_data is not None
                context.user_data[question.step.text.nl[:20]] = chosen
            else:
                assert context.user_data is not None
                context.user_data[question.step.text.nl[:20]] = text
            return await ask(update, 0 if index == last else index + 1)
        return handle

    text_only = filters.TEXT & ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[MessageHandler(text_only, start)],
        states={index: [MessageHandler(text_only, answer(index))]
                for index in range(len(questions))},
        fallbacks=[])
    application = (ApplicationBuilder().token("123:BENCH").request(request)
                   .get_updates_request(OfflineRequest()).updater(None).build())
    application.add_handler(conversation)
    return application


def _update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Raadslid"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text, "from": user,
        "chat": {"id": user_id, "type": "private"}}}


async def closed_loop(conversations: int, seconds: float) -> RunResult:
    """As :func:`bench.engine.closed_loop`: each person sends the next line of the script as
    soon as the previous one was handled."""
    request = OfflineRequest()
    application = build_application(request)
    await application.initialize()
    update_ids = itertools.count(1)
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def person(user_id: int) -> None:
        for step, line in enumerate(itertools.chain(["hallo"], itertools.cycle(script()))):
            if step and time.perf_counter() >= stop_at:
                return
            update = Update.de_json(_update(next(update_ids), user_id, line), application.bot)
            started = time.perf_counter()
            await application.process_update(update)
            if step:
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(person(1000 + i) for i in range(conversations)))
    elapsed = time.perf_counter() - started
    await application.shutdown()
    assert request.sent >= len(latencies), "every message was answered"
    return RunResult(len(latencies), elapsed, latencies)


def check_script() -> list[str]:
    """The PTB version asks the same questions for the script as the bot (for the tests)."""
    async def run() -> list[str]:
        request = OfflineRequest()
        application = build_application(request)
        await application.initialize()
        said: list[str] = []
        original = request.do_request

        async def recording(url: str, method: str, request_data: RequestData | None = None,
                            *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            if url.endswith("sendMessage") and request_data is not None:
                said.append(str(request_data.parameters["text"]))
            return await original(url, method, request_data, *args, **kwargs)

        request.do_request = recording  # type: ignore[method-assign]
        for index, line in enumerate(["hallo", *script()]):
            await application.process_update(
                Update.de_json(_update(index + 1, 77, line), application.bot))
        await application.shutdown()
        return said

    return asyncio.run(run())


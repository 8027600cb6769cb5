"""The Telegram channel: the real adapter and python-telegram-bot over HTTP against a local
server that speaks the Bot API (tests/telegram_api.py)."""

from __future__ import annotations

import socket
import time

import aiohttp

from bot.adapters.telegram import TelegramChannel, Webhook, split_text
from storage.models import Message
from tests.conftest import Running
from tests.harness import FLOWS, Bot, make_logic
from tests.intake import intake
from tests.telegram_api import FakeTelegram

USER = 5551234


async def test_commands_are_registered_in_dutch_and_english(running: Running) -> None:
    await running.telegram.wait_until(lambda: len(running.telegram.commands) == 2)
    dutch = {c["command"]: c["description"] for c in running.telegram.commands["nl"]}
    english = {c["command"] for c in running.telegram.commands[""]}
    assert dutch["mens"] == "Met een mens praten"
    assert {"human", "back", "stop", "delete", "language"} <= english


async def test_a_whole_intake_by_buttons_and_typed_answers(running: Running) -> None:
    tg = running.telegram
    tg.user_says(USER, "/start")
    sent = await tg.wait_for(USER, 2)
    assert sent[0].text.startswith("Welkom.")
    menu = sent[1]
    assert next(label for label, _ in menu.buttons) == "Een incident melden"

    async def press(label: str, replies: int = 1) -> None:
        count = len(tg.to(USER))
        question = tg.to(USER)[-1]
        callback = tg.user_presses(USER, question, label)
        await tg.wait_for(USER, count + replies)
        assert callback in tg.answered_callbacks, "every press is answered"
        assert question.buttons == [], "the keyboard of an answered question is removed"
        assert question.text.endswith(f"✓ {label}"), "the choice is shown under the question"

    async def say(text: str) -> None:
        count = len(tg.to(USER))
        tg.user_says(USER, text)
        await tg.wait_for(USER, count + 1)

    # What to do at each question of the intake, by step; a question not named here (one
    # added to the flow later) gets its first button.
    plan: dict[str, list[tuple[str, str, int]]] = {
        "safety": [("press", "Nee", 1)],
        "role": [("say", "wethouder", 1)],
        "org_type": [("press", "Gemeente", 1)],
        "org_name": [("say", "Gemeente Ergenshuizen", 1)],
        "what": [("press", "Online haat of smaad", 1)],
        "description": [("say", "Er gaat een filmpje rond met mijn huisadres erin.", 1)],
        "when": [("press", "Gisteren", 1)],
        "ongoing": [("press", "Ja", 1)],
        "how": [("press", "Via sociale media", 1)],
        "perpetrator": [("press", "Ik heb een vermoeden", 1)],
        "family": [("press", "Ja", 1)],
        "internal": [("press", "Nee", 1)],
        "aangifte": [("press", "Nee, nog niet", 2)],  # and the VPT-code is explained
        "aangifte_address": [("press", "Ja", 1)],
        "help_wanted": [("press", "Juridische hulp", 1), ("press", "Beveiliging", 1),
                        ("press", "Klaar", 1)],
        "contact": [("press", "Via deze chat", 1)],
    }
    await press("Een incident melden")
    while (step := running.bot.conversation(str(USER)).state) != "summary":
        first_button = tg.to(USER)[-1].buttons[0][0] if tg.to(USER)[-1].buttons else None
        actions = plan.pop(step, None) or [("press", str(first_button), 1)]
        for how, text, replies in actions:
            await (press(text, replies) if how == "press" else say(text))
        if step == "role":
            assert tg.to(USER)[-3].buttons == [], \
                "typing instead of pressing also clears the buttons"
        if step == "aangifte":
            assert "VPT-code" in tg.to(USER)[-2].text
    assert not plan, f"questions the intake no longer asks: {sorted(plan)}"
    summary = tg.to(USER)[-1]
    assert "• Gewenste hulp: Juridische hulp, Beveiliging" in summary.text
    await press("Ja, het klopt")
    assert "Uw melding is doorgegeven" in tg.to(USER)[-1].text
    (case,) = running.bot.cases(str(USER))
    assert case.status == "submitted" and case.kind == "incident"
    assert case.intake["answers"]["what"] == {"option": "online_hate"}


async def test_a_photo_is_kept_as_evidence_and_a_sticker_is_answered(running: Running) -> None:
    tg = running.telegram
    tg.user_says(USER, "hallo")
    await tg.wait_for(USER, 2)
    tg.user_presses(USER, tg.to(USER)[-1], "Een incident melden")
    await tg.wait_for(USER, 3)
    tg.user_sends_photo(USER, caption="screenshot van het bericht")
    sent = await tg.wait_for(USER, 5)
    assert "bewaard bij uw melding" in sent[3].text
    tg.user_sends_sticker(USER)
    sent = await tg.wait_for(USER, 7)
    assert "kan ik niet lezen" in sent[5].text
    (case,) = running.bot.cases(str(USER))
    evidence = [m for m in running.bot.messages(str(USER)) if m.case_id == case.id]
    assert evidence[0].body["attachment"]["ref"] == "photo-2", "the largest size is kept"
    assert evidence[0].body["text"] == "screenshot van het bericht"


async def test_an_edited_message_is_answered_kept_and_checked_for_danger(
        running: Running) -> None:
    tg = running.telegram
    await tg.user_types(USER, [("hallo", 2), *intake("incident", {"org_name": "Gemeente Oost"},
                                                      until="what")[1:]])
    assert "Wat is er gebeurd?" in tg.to(USER)[-1].text
    count = len(tg.to(USER))
    tg.user_edits(USER, "Gemeente Oost. Hij staat nu voor mijn deur")
    sent = await tg.wait_for(USER, count + 3)
    assert sent[count].text.startswith("Bent u nu in gevaar? Bel direct 112.")
    assert sent[count + 1].text.startswith("U heeft een eerder bericht aangepast.")
    assert "Wat is er gebeurd?" in sent[count + 2].text, "the question is asked again"
    (case,) = running.bot.cases(str(USER))
    assert case.urgent
    kept = [m.body["text"] for m in running.bot.messages(str(USER)) if m.case_id == case.id]
    assert kept == ["Gemeente Oost. Hij staat nu voor mijn deur"]
    conversation = running.bot.conversation(str(USER))
    assert conversation.data["answers"]["incident.org_name"] == {"text": "Gemeente Oost"}


async def test_a_live_location_that_moves_is_kept_and_answered_once(running: Running) -> None:
    tg = running.telegram
    await tg.user_types(USER, [("hallo", 2), "1"])
    count = len(tg.to(USER))
    tg.user_shares_live_location(USER, moves=5)
    tg.user_says(USER, "nee")  # after the location and its moves
    sent = await tg.wait_for(USER, count + 3)
    assert sent[count].text.startswith("Dank u. Ik heb uw locatie bewaard bij uw melding.")
    assert "Ik stuur niemand naar deze plek" in sent[count].text
    assert "bent u nu in gevaar?" in sent[count + 1].text, "the same question again"
    assert "Wat is uw functie?" in sent[count + 2].text
    assert not any("aangepast" in m.text for m in tg.to(USER)), "a move is not an edit"
    assert len(tg.to(USER)) == count + 3
    (case,) = running.bot.cases(str(USER))
    kept = [m.body for m in running.bot.messages(str(USER)) if m.case_id == case.id]
    assert kept == [{"location": {"latitude": 52.09, "longitude": 5.12}}], "where it started"


async def test_their_own_contact_card_answers_the_phone_question(running: Running) -> None:
    tg = running.telegram
    await tg.user_types(USER, [("hallo", 2), ("4", 2), "Ik word steeds gebeld", "bel mij"])
    assert "Op welk telefoonnummer" in tg.to(USER)[-1].text
    count = len(tg.to(USER))
    tg.user_shares_contact(USER, "0612345678", "Onbekende beller")
    sent = await tg.wait_for(USER, count + 2)
    assert sent[count].text.startswith("Dank u. Ik heb dit contact bewaard bij uw melding.")
    assert "Op welk telefoonnummer" in sent[count + 1].text
    tg.user_shares_contact(USER, "31612345678", "Raadslid", own=True)
    sent = await tg.wait_for(USER, count + 3)
    assert "Telefoonnummer: +31 6 12345678" in sent[count + 2].text
    conversation = running.bot.conversation(str(USER))
    assert conversation.data["answers"]["contact.contact_phone"]["value"] == "+31 6 12345678"


async def test_a_pin_on_the_map_is_kept_with_the_report(running: Running) -> None:
    tg = running.telegram
    await tg.user_types(USER, [("hallo", 2), "1", "nee"])
    count = len(tg.to(USER))
    tg.user_shares_location(USER, 52.3676, 4.9041)
    sent = await tg.wait_for(USER, count + 2)
    assert sent[count].text.startswith("Dank u. Ik heb uw locatie bewaard bij uw melding.")
    assert "Wat is uw functie?" in sent[count + 1].text
    (case,) = running.bot.cases(str(USER))
    kept = [m.body for m in running.bot.messages(str(USER)) if m.case_id == case.id]
    assert kept == [{"location": {"latitude": 52.3676, "longitude": 4.9041}}]


async def test_a_forwarded_threat_is_kept_as_evidence_not_taken_as_an_answer(
        running: Running) -> None:
    tg = running.telegram
    await tg.user_types(USER, [("hallo", 2), "1", "nee"])
    assert "Wat is uw functie?" in tg.to(USER)[-1].text
    count = len(tg.to(USER))
    tg.user_forwards(USER, "Wij weten waar je woont. Stop met dat besluit.")
    sent = await tg.wait_for(USER, count + 2)
    assert sent[count].text.startswith("Dank u. Ik heb dit bewaard bij uw melding.")
    assert "Wat is uw functie?" in sent[count + 1].text, "the question is asked again"
    (case,) = running.bot.cases(str(USER))
    kept = [m.body["text"] for m in running.bot.messages(str(USER)) if m.case_id == case.id]
    assert kept == ["Wij weten waar je woont. Stop met dat besluit."]
    assert "incident.role" not in running.bot.conversation(str(USER)).data["answers"]


async def test_a_stale_button_is_handled_kindly(running: Running) -> None:
    tg = running.telegram
    tg.user_says(USER, "hallo")
    menu = (await tg.wait_for(USER, 2))[1]
    old_buttons = list(menu.buttons)
    tg.user_presses(USER, menu, "Een incident melden")
    await tg.wait_for(USER, 3)
    menu.buttons = old_buttons  # a second press on the same old message
    callback = tg.user_presses(USER, menu, "Tips om uzelf te beschermen")
    sent = await tg.wait_for(USER, 5)
    assert callback in tg.answered_callbacks
    assert "Die knop hoort bij een eerdere vraag" in sent[3].text
    assert "bent u nu in gevaar?" in sent[4].text


async def test_a_429_is_retried_after_the_time_telegram_asks(running: Running) -> None:
    tg = running.telegram
    tg.fail_next_sends.append((429, {"ok": False, "error_code": 429,
                                     "description": "Too Many Requests: retry after 1",
                                     "parameters": {"retry_after": 1}}))
    tg.user_says(USER, "hallo")
    sent = await tg.wait_for(USER, 2, within=15)
    assert sent[0].text.startswith("Welkom."), "nothing lost, order kept"
    assert tg.calls.count("sendMessage") == 3
    message = running.bot.messages(str(USER))[1]
    assert message.attempts == 1 and message.last_error == "rate_limited"


def _outbound_texts(running: Running) -> list[str]:
    return [m.body["text"] for m in running.bot.messages(str(USER)) if m.direction == "out"]


async def test_server_errors_and_a_timeout_lose_nothing_and_keep_the_order(
        running: Running) -> None:
    tg = running.telegram
    tg.fail_next_sends += [(500, {"ok": False, "error_code": 500,
                                  "description": "Internal Server Error"}),
                           (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})]
    tg.hang_next_sends = 1  # the third attempt never gets an answer: a timeout
    tg.user_says(USER, "hallo")
    tg.user_says(USER, "1")  # typed before the first reply arrived
    expected = 3  # the welcome, the menu, and the first question of an incident
    sent = await tg.wait_for(USER, expected, within=30)
    assert [m.text for m in sent] == _outbound_texts(running), "in order, none twice"
    assert sent[0].text.startswith("Welkom.")
    assert "bent u nu in gevaar?" in sent[2].text
    await running.bot.engine.settle()  # the delivery marks are written by a later batch
    welcome = running.bot.messages(str(USER))[1]
    assert welcome.attempts == 3 and welcome.delivered_at is not None
    assert welcome.last_error == "TimedOut"


async def test_a_timeout_after_telegram_took_the_message_sends_it_again(
        running: Running) -> None:
    """At-least-once: when the answer to a send is lost, the bot cannot know the message
    arrived, so it sends it again rather than risk losing it."""
    tg = running.telegram
    tg.lose_next_responses = 1
    tg.user_says(USER, "hallo")
    sent = await tg.wait_for(USER, 3, within=30)
    assert [m.text for m in sent] == [_outbound_texts(running)[0], *_outbound_texts(running)]


async def test_polling_survives_server_errors(running: Running) -> None:
    tg = running.telegram
    await tg.wait_until(lambda: len(tg.polls) > 0)
    tg.fail_next_polls += [(500, {"ok": False, "error_code": 500,
                                  "description": "Internal Server Error"})] * 2
    await tg.wait_until(lambda: not tg.fail_next_polls, within=30)
    assert not running.channel.healthy(), "/healthz shows the trouble"
    tg.user_says(USER, "hallo")
    sent = await tg.wait_for(USER, 2, within=30)
    assert sent[0].text.startswith("Welkom.")
    await tg.wait_until(running.channel.healthy, within=10)


async def test_a_person_who_blocked_the_bot_breaks_nothing(running: Running) -> None:
    tg = running.telegram
    tg.blocked_chats.add(USER)
    tg.user_says(USER, "hallo")
    tg.user_says(USER + 1, "hallo")
    await tg.wait_for(USER + 1, 2)

    def replies() -> list[Message]:
        return [m for m in running.bot.messages(str(USER)) if m.direction == "out"]

    await tg.wait_until(lambda: len(replies()) == 2
                        and all(m.failed_at is not None for m in replies()))
    assert [m.last_error for m in replies()] == ["forbidden", "forbidden"]
    assert tg.to(USER) == [], "nothing reached the person who blocked the bot"


async def test_a_long_text_is_split_and_the_buttons_go_with_the_last_piece() -> None:
    text = ("Dit is een alinea met woorden. " * 60 + "\n\n") * 5
    pieces = split_text(text)
    assert len(pieces) >= 3
    assert all(len(p) <= 4096 for p in pieces)
    assert "".join(p.replace(" ", "").replace("\n", "") for p in pieces) == \
        text.replace(" ", "").replace("\n", "")
    assert split_text("kort") == ["kort"]
    assert all(len(p) <= 4096 for p in split_text("x" * 10_000))


def test_every_button_payload_fits_telegram() -> None:
    for flow in FLOWS.flows.values():
        for name, step in flow.steps.items():
            for option in step.option_list:
                assert len(f"{flow.flow}.{name}:{option.id}".encode()) <= 64
            if step.type == "correct":
                for target in flow.steps:
                    assert len(f"{flow.flow}.{name}:edit:{target}".encode()) <= 64


async def test_webhook_mode_receives_updates_and_checks_the_secret(sqlite_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    telegram = FakeTelegram()
    await telegram.start()
    webhook = Webhook(url="https://bot.example.org/telegram", listen="127.0.0.1", port=port,
                      secret="s3cret-token")
    channel = TelegramChannel(telegram.token, base_url=telegram.base_url, webhook=webhook)
    bot = Bot(sqlite_url)
    await bot.engine.start({"telegram": channel})
    await channel.start(bot.engine.handle)
    try:
        assert telegram.webhook == {"url": "https://bot.example.org/telegram",
                                    "secret": "s3cret-token"}
        assert "getUpdates" not in telegram.calls
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            forged = await http.post(url, json=telegram.text_update(USER, "hallo"),
                                     headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status == 403
            real = await http.post(url, json=telegram.text_update(USER, "hallo"),
                                   headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
            assert real.status == 200
        sent = await telegram.wait_for(USER, 2)
        assert sent[0].text.startswith("Welkom.")
        assert len(telegram.to(USER)) == 2, "the forged update was not handled"
    finally:
        await channel.stop()
        await bot.engine.stop()
        await telegram.stop()


async def test_update_ids_that_start_again_do_not_hide_new_messages(running: Running) -> None:
    tg = running.telegram
    tg.user_says(USER, "hallo")
    await tg.wait_for(USER, 2)
    tg._update_ids = iter(range(1, 100))  # as after a quiet week, or a restarted server
    tg.user_says(USER, "1")
    sent = await tg.wait_for(USER, 3)
    assert "bent u nu in gevaar?" in sent[2].text


async def test_an_update_is_confirmed_to_telegram_only_once_it_is_stored(
        sqlite_url: str) -> None:
    logic = make_logic()
    original = logic.turn
    stored_at: list[float] = []

    def slow_turn(snapshot, event):  # type: ignore[no-untyped-def]
        outcome = original(snapshot, event)
        if event.text == "langzaam":
            time.sleep(0.5)  # a slow disk: the commit comes late
            stored_at.append(time.monotonic())
        return outcome

    logic.turn = slow_turn  # type: ignore[method-assign]
    telegram = FakeTelegram()
    await telegram.start()
    channel = TelegramChannel(telegram.token, base_url=telegram.base_url, poll_timeout=1)
    bot = Bot(sqlite_url, logic=logic)
    await bot.engine.start({"telegram": channel})
    await channel.start(bot.engine.handle)
    try:
        telegram.user_says(USER, "langzaam")
        update_id = telegram.updates[-1]["update_id"]
        await telegram.wait_for(USER, 2)
        await telegram.wait_until(lambda: any(o > update_id for o, _ in telegram.polls))
    finally:
        await channel.stop()
        await bot.engine.stop()
        await telegram.stop()
    confirmed_at = min(at for offset, at in telegram.polls if offset > update_id)
    assert stored_at and confirmed_at >= stored_at[0], "confirmed before it was stored"

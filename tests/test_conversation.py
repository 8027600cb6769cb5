"""What a person sees, and what the database holds, through the real engine on SQLite."""

from __future__ import annotations

from bot.events import InboundEvent
from tests.harness import Bot, labels, texts
from tests.intake import INCIDENT_TO_SUMMARY, incident_until


async def test_first_contact_welcomes_says_it_is_a_program_and_offers_the_menu(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        replies = await bot.say("hallo")
    assert "computerprogramma, geen mens" in replies[0].text
    assert "Bel direct 112" in replies[0].text
    assert labels(replies[-1]) == ["Een incident melden", "Onrust in mijn gemeente of organisatie",
                                   "Tips om uzelf te beschermen", "Met een mens praten"]


async def test_help_from_the_menu_as_the_first_message_explains_the_chat_calmly(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        replies = await bot.say("/help")
        said = texts(replies)
        assert "computerprogramma, geen mens" in replies[0].text
        assert "Deze woorden werken altijd" in said
        assert "spoed" not in said
        assert labels(replies[-1])[0] == "Een incident melden"
        assert [case.urgent for case in bot.cases()] == []


async def test_a_choice_by_number_word_sentence_or_button(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        assert bot.conversation().state == "role"
        await bot.say("Ik ben wethouder")
        assert bot.conversation().data["answers"]["incident.role"] == {"option": "wethouder"}
        await bot.press("incident.org_type:waterschap")
        assert bot.conversation().data["answers"]["incident.org_type"] == {"option": "waterschap"}
        await bot.say("Waterschap De Dommel")
        await bot.say("9")
        assert bot.conversation().data["answers"]["incident.what"] == {"option": "other"}


async def test_control_characters_are_neither_stored_nor_echoed(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee", "raadslid", "gemeente"])
        await bot.say("Gemeente\x00 Ergens\x1b[2J\u202ehuizen\r\n")
        replies = await bot.say("terug")
        assert "Gemeente Ergens[2Jhuizen" in texts(replies)
        assert bot.conversation().data["answers"]["incident.org_name"] == {
            "text": "Gemeente Ergens[2Jhuizen"}
        assert not any("\x00" in (m.body.get("text") or "") for m in bot.messages())


async def test_a_forwarded_threat_as_the_first_message_is_kept_and_welcomed(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        replies = await bot.send(InboundEvent("test", "alice", "fw-1", text="1",
                                              forwarded=True))
        said = texts(replies)
        assert "Ik heb dit bewaard bij uw melding" in said and "Welkom." in said
        assert bot.conversation().flow == "menu", "a forwarded '1' is not a choice"
        (case,) = bot.cases()
        kept = [m.body["text"] for m in bot.messages() if m.case_id == case.id]
        assert kept == ["1"]


async def test_an_edit_before_any_report_opens_no_case(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.say("hallo")
        replies = await bot.send(InboundEvent("test", "alice", "edit-1", text="hoi",
                                              edited=True))
        assert replies[0].text.startswith("U heeft een eerder bericht aangepast.")
        assert labels(replies[-1])[0] == "Een incident melden"
        assert bot.cases() == []
        assert [m.body["text"] for m in bot.messages() if m.direction == "in"] == [
            "hallo", "hoi"]


async def test_doubt_about_danger_gets_112_and_an_urgent_case(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        replies = await bot.say("ik weet het niet")
        assert replies[0].text.startswith("Twijfelt u? Bel dan 112.")
        assert "Wat is uw functie?" in replies[-1].text
    assert bot.cases()[0].urgent


async def test_an_unclear_answer_gets_a_kind_reask_with_the_options(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        first = await bot.say("ja en nee")
        assert "Bedoelt u Ja of Nee?" in first[0].text, "two fit: which one, naming both"
        assert labels(first[-1]) == ["Ja", "Nee", "Dat weet ik niet zeker"]
        second = await bot.say("42")
        assert "Sorry, dat begreep ik niet" in second[0].text
        assert "Typ 'mens'" in texts(second), "a person is offered"
        assert bot.conversation().state == "safety"


async def test_danger_now_answered_yes_says_112_marks_urgent_and_goes_on(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        replies = await bot.say("ja")
        assert replies[0].text.startswith("Bel nu direct 112")
        assert "Wat is uw functie?" in replies[-1].text
    (case,) = bot.cases()
    assert case.urgent and case.urgent_at is not None and case.kind == "incident"


async def test_danger_words_mid_intake_get_112_first_and_the_answer_is_kept(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(incident_until("description"))
        assert bot.conversation().state == "description"
        replies = await bot.say("Er stond gisteren een man met een mes voor mijn deur")
        assert "Bel direct 112" in replies[0].text
        assert "Wanneer gebeurde het?" in replies[-1].text, "the intake goes on"
    assert bot.conversation().data["answers"]["incident.description"]["text"].startswith(
        "Er stond gisteren")
    assert bot.cases()[0].urgent


async def test_danger_at_the_menu_opens_an_urgent_case(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.say("hallo")
        replies = await bot.say("help er staat iemand voor de deur")
        assert "Bel direct 112" in replies[0].text
    (case,) = bot.cases()
    assert case.urgent


async def test_crisis_words_give_113(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(incident_until("description"))
        replies = await bot.say("Ik wil niet meer leven")
        assert "0800-0113" in texts(replies) and "113.nl" in texts(replies)


async def test_stop_and_come_back_later_at_the_same_question(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        paused = await bot.say("stop")
        assert "Uw antwoorden zijn bewaard" in paused[0].text
        assert bot.conversation().status == "paused"
        back = await bot.say("hoi")
        assert back[0].text.startswith("Welkom terug")
        assert "Wat is uw functie?" in back[-1].text
        assert bot.conversation().status == "active"


async def test_back_shows_the_previous_question_and_answer(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee", "wethouder"])
        replies = await bot.say("terug")
        assert "Uw vorige antwoord was: Wethouder" in replies[0].text
        assert "Wat is uw functie?" in replies[0].text
        await bot.say("burgemeester")
        assert bot.conversation().data["answers"]["incident.role"] == {"option": "burgemeester"}
        assert bot.conversation().state == "org_type"


async def test_restart_asks_first_then_starts_over(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee", "wethouder"])
        ask = await bot.say("opnieuw")
        assert labels(ask[0]) == ["Ja", "Nee"]
        kept = await bot.say("nee")
        assert "we gaan verder" in kept[0].text.lower()
        assert bot.conversation().state == "org_type"
        await bot.say("opnieuw")
        replies = await bot.press("confirm:yes")
        assert "Waarmee kan ik u helpen?" in replies[-1].text
        conversation = bot.conversation()
        assert (conversation.flow, conversation.state) == ("menu", "menu")
        assert conversation.data["answers"] == {}
    (case,) = bot.cases()
    assert case.status == "abandoned"
    old = [m for m in bot.messages() if m.direction == "in"]
    assert "wethouder" in [m.body.get("text") for m in old], "nothing said is lost"


async def test_language_switch_repeats_the_question_in_english(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        replies = await bot.say("language")
        assert "What is your role?" in replies[-1].text
        assert "Council member (raadslid)" in labels(replies[-1])
        await bot.say("mayor")
        assert bot.conversation().data["answers"]["incident.role"] == {"option": "burgemeester"}
        assert bot.person().language == "en"  # type: ignore[union-attr]


async def test_asking_for_a_person_mid_intake_is_recorded_and_the_intake_goes_on(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        replies = await bot.say("mens")
        assert "070-373 83 14" in replies[0].text
        assert "Wat is uw functie?" in replies[-1].text
    (case,) = bot.cases()
    assert case.human_requested and case.human_requested_at is not None


async def test_talk_to_a_person_from_the_menu(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.say("hallo")
        replies = await bot.say("4")
        assert "Dat is een mens" in replies[0].text
        await bot.script(["Ik word lastiggevallen op straat", "bel mij", "0612345678"])
        done = await bot.say("ja")
        assert "neemt zo snel mogelijk contact" in done[0].text
    (case,) = bot.cases()
    assert case.kind == "contact" and case.human_requested and case.status == "submitted"
    assert case.intake["answers"]["contact_phone"]["value"] == "+31 6 12345678"


async def test_a_contact_card_is_evidence_unless_it_is_their_own_number_when_asked(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "4", "Ik word gebeld door een onbekend nummer"])
        kept = await bot.share_contact("Onbekend", "+31 6 98765432")
        assert kept[0].text.startswith("Dank u. Ik heb dit contact bewaard bij uw melding.")
        assert "Hoe wilt u dat wij contact met u opnemen?" in kept[-1].text
        await bot.say("bel mij")
        other = await bot.share_contact("Buurman", "06 11112222")
        assert "Ik heb dit contact bewaard" in other[0].text, "not her number: evidence"
        assert "Op welk telefoonnummer kunnen wij u bellen?" in other[-1].text
        own = await bot.share_contact("Alice de Vries", "+31612345678", own=True)
        assert "Telefoonnummer: +31 6 12345678" in own[-1].text, "taken as the answer"
        assert bot.conversation().state == "summary"
        await bot.say("ja")
    (case,) = bot.cases()
    assert case.intake["answers"]["contact_phone"]["value"] == "+31 6 12345678"
    evidence = [m.body for m in bot.messages() if m.case_id == case.id]
    assert evidence == [{"contact": {"name": "Onbekend", "phone": "+31 6 98765432"}},
                        {"contact": {"name": "Buurman", "phone": "06 11112222"}}]


async def test_a_stale_or_twice_pressed_button_is_handled_kindly(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        await bot.press("incident.safety:no")
        again = await bot.press("incident.safety:no")
        assert "Die knop hoort bij een eerdere vraag" in again[0].text
        assert "Wat is uw functie?" in again[-1].text
        forged = await bot.press("incident.role:does-not-exist")
        assert "Die knop hoort bij een eerdere vraag" in forged[0].text
        assert bot.conversation().state == "role"


async def test_several_kinds_of_help_by_buttons_then_done(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(incident_until("help_wanted"))
        assert bot.conversation().state == "help_wanted"
        first = await bot.press("incident.help_wanted:legal")
        assert "Juridische hulp" in first[0].text and "Klaar" in labels(first[0])
        await bot.press("incident.help_wanted:security")
        await bot.press("incident.help_wanted:done")
    assert bot.conversation().data["answers"]["incident.help_wanted"] == {
        "options": ["legal", "security"]}
    assert bot.conversation().state == "contact"


async def test_a_photo_is_kept_as_evidence_and_a_sticker_gets_a_kind_reply(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(incident_until("description"))
        saved = await bot.attach("photo")
        assert "bewaard bij uw melding" in saved[0].text
        assert "Wilt u in uw eigen woorden" in saved[-1].text
        sticker = await bot.attach("sticker")
        assert "kan ik niet lezen" in sticker[0].text
        assert bot.conversation().state == "description"
    (case,) = bot.cases()
    evidence = [m for m in bot.messages() if m.case_id == case.id]
    assert [m.body["attachment"]["kind"] for m in evidence] == ["photo"]


async def test_a_shared_location_is_kept_and_the_bot_says_it_sends_nobody(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        first = await bot.share_location(52.0907, 5.1214)
        assert first[0].text.startswith("Dank u. Ik heb uw locatie bewaard bij uw melding.")
        assert "Ik stuur niemand naar deze plek" in first[0].text
        assert "Bel direct 112" in first[0].text
        assert "Waarmee kan ik u helpen?" in first[-1].text
        await bot.script(["1", "nee"])
        again = await bot.share_location(52.1, 5.2)
        assert "Ik heb uw locatie bewaard" in again[0].text
        assert "Wat is uw functie?" in again[-1].text, "the same question, not the next"
        assert bot.conversation().state == "role"
    (case,) = bot.cases()
    kept = [m for m in bot.messages() if m.case_id == case.id]
    assert [(m.kind, m.body["location"]) for m in kept] == [
        ("location", {"latitude": 52.0907, "longitude": 5.1214}),
        ("location", {"latitude": 52.1, "longitude": 5.2})]


async def test_an_unreadable_encrypted_message_is_asked_again(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        replies = await bot.attach("unreadable")
        assert "kon het niet openen" in replies[0].text
        assert "bent u nu in gevaar?" in replies[-1].text
        assert bot.conversation().state == "safety"


async def test_a_screenshot_as_the_very_first_message_is_kept_as_evidence(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        replies = await bot.attach("photo")
        assert "bewaard bij uw melding" in replies[0].text
        assert replies[1].text.startswith("Welkom.")
        assert "Waarmee kan ik u helpen?" in replies[-1].text
    (case,) = bot.cases()
    assert [m.case_id for m in bot.messages() if m.direction == "in"] == [case.id]


async def test_a_very_long_text_is_kept_whole(sqlite_url: str) -> None:
    long_text = ("Dit is een heel lang verhaal. " * 400)[:10_000]
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        reask = await bot.say(long_text)
        assert "Sorry, dat begreep ik niet" in reask[0].text
        await bot.script(incident_until("description")[3:])  # after hallo, 1, nee
        await bot.say(long_text)
    answers = bot.conversation().data["answers"]
    assert answers["incident.description"]["text"] == long_text
    stored = [m.body.get("text") for m in bot.messages() if m.direction == "in"]
    assert stored.count(long_text) == 2


async def test_empty_text_is_answered(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.say("hallo")
        replies = await bot.say("   ")
        assert "geen tekst ontvangen" in replies[0].text


async def test_the_summary_can_be_corrected(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        summary = await bot.script(INCIDENT_TO_SUMMARY)
        assert "• Functie: Raadslid" in summary[-1].text
        which = await bot.say("nee, ik wil iets aanpassen")
        assert "Functie" in labels(which[0])
        await bot.say("Functie")
        corrected = await bot.say("wethouder")
        assert "• Functie: Wethouder" in corrected[-1].text
        assert "Klopt dit?" in corrected[-1].text
        await bot.say("ja")
    (case,) = bot.cases()
    assert case.intake["answers"]["role"] == {"option": "wethouder"}


async def test_changing_the_contact_way_asks_the_new_detail(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(INCIDENT_TO_SUMMARY)
        await bot.script(["nee", "Contact", "mail mij"])
        bad = await bot.say("geen-adres")
        assert "e-mailadres kan ik niet lezen" in bad[0].text
        summary = await bot.say("raadslid@ergenshuizen.nl")
        assert "• E-mailadres: raadslid@ergenshuizen.nl" in summary[-1].text


async def test_after_the_intake_more_can_be_added_and_a_new_report_started(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script([*INCIDENT_TO_SUMMARY, "ja"])
        added = await bot.say("Hij heeft vandaag weer gebeld.")
        assert "toegevoegd aan uw melding" in added[0].text
        await bot.attach("document")
        new = await bot.say("nieuwe melding")
        assert "Waarmee kan ik u helpen?" in new[-1].text
    case = bot.cases()[0]
    linked = [m for m in bot.messages() if m.case_id == case.id]
    assert len(linked) == 2
    assert bot.conversation().flow == "menu" and bot.conversation().id != case.conversation_id


async def test_the_unrest_intake_with_a_key_date(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "onrust", "nee", "bestuurder", "gemeente", "Gemeente Oost",
                          "onrust over een besluit", "Er is veel boosheid over de opvang."])
        yes = await bot.say("ja")
        assert yes[0].text.startswith("Welke datum is dat?")
        unclear = await bot.say("in maart")
        assert "Welke dag in maart is het?" in unclear[0].text, "a month alone: which day?"
        noted = await bot.say("15-03-2027")
        assert "Ik heb genoteerd: maandag 15 maart 2027." in noted[0].text
        await bot.script(["groot", "ja", "nee", "1 2", "via deze chat"])
        summary = bot.channel.sent[-1].text
        assert "• Belangrijke datum: maandag 15 maart 2027" in summary
        done = await bot.say("ja")
        assert "omo@minbzk.nl" in done[0].text
    (case,) = bot.cases()
    assert case.kind == "onrust"
    assert case.intake["answers"]["key_date"] == {"text": "15-03-2027", "value": "2027-03-15"}
    assert case.intake["answers"]["support"] == {"options": ["communication", "meeting"]}


async def test_tips_give_correct_facts_and_lead_back(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "tips"])
        replies = await bot.say("bewijs en aangifte")
        said = texts(replies)
        assert "0900-8844" in said and "VPT-code" in said and "niet online melden" in said
        assert "0900-0101" in said
        back = await bot.say("terug naar het begin")
        assert "Waarmee kan ik u helpen?" in back[-1].text


async def test_delete_then_yes_erases_and_cancel_keeps(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        await bot.say("verwijder")
        kept = await bot.say("nee")
        assert "er is niets verwijderd" in kept[0].text
        assert bot.person() is not None
        await bot.say("/delete")
        await bot.press("confirm:yes")
        assert bot.person() is None
        fresh = await bot.say("hallo")
        assert "Welkom" in fresh[0].text, "coming back later starts afresh"


async def test_danger_at_a_choice_that_names_two_options_asks_which_after_112(
        sqlite_url: str) -> None:
    """The advice first, the message kept with the case, then which of the two it was."""
    async with Bot(sqlite_url) as bot:
        await bot.script(incident_until("what"))
        replies = await bot.say("ze hebben me uitgescholden en geduwd")
        said = texts(replies)
        assert "Bel direct 112" in replies[0].text
        assert "Bedoelt u Online haat of smaad of Fysiek geweld?" in said
        assert bot.conversation().state == "what"
        assert bot.cases()[0].urgent


async def test_danger_at_a_choice_that_names_one_option_takes_it(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(incident_until("what"))
        replies = await bot.say("hij volgt me overal")
        assert "Bel direct 112" in replies[0].text
        assert bot.conversation().data["answers"]["incident.what"]["option"] == "stalking"

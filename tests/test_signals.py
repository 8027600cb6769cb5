"""Danger-now and crisis signals: examples that must trigger, and that must not."""

from __future__ import annotations

import pytest

from bot.conversation import ConversationLogic
from tests.harness import FLOWS

DETECTOR = ConversationLogic(FLOWS, {}).signals  # the word lists and the model, as the bot

MUST_SIGNAL_DANGER = [
    "hij staat voor de deur",
    "Er staat iemand voor mijn huis!!",
    "Er staat een man met een mes",
    "Hij heeft een wapen",
    "ze hebben wapens bij zich",
    "Er is brand",
    "Mijn auto staat in brand",
    "help",
    "HELP!",
    "Help me alsjeblieft",
    "er wordt geschoten",
    "Ik word gevolgd door een auto",
    "ik ben bang dat hij me vermoordt",
    "Er is iemand in mijn huis",
    "iemand breekt in",
    "Ik ben in gevaar",
    "Hij slaat me",
    "someone is at my door",
    "He has a knife",
    "they are outside my house",
    "there is a fire",
    "my car is on fire",
    "Someone is following me",
    "He has a gun",
    "I am in danger",
    "emergency",
    "Bél 112",
    "Ze staan voor ons huis te schreeuwen",
]

MUST_SIGNAL_CRISIS = [
    "ik denk aan zelfmoord",
    "Ik wil niet meer leven",
    "soms wil ik dood",
    "I want to kill myself",
    "I want to end my life",
]

MUST_NOT_SIGNAL = [
    "hallo",
    "Ik wil graag advies over aangifte doen.",
    "Gisteren was de raadsvergadering.",
    "Ik ben niet in gevaar.",
    "Er is geen direct gevaar",
    "Ze hebben mijn adres online gezet.",
    "wethouder",
    "Ik kreeg een bericht via Messenger",
    "Dat was een gunstig moment",
    "De brandweerkazerne ligt naast het gemeentehuis",
    "Kunt u mij helpen met een melding?",
    "I am not in danger",
    "Ik wil met iemand praten",
    "gemeente Utrecht",
    "Ik werd uitgescholden op Facebook",
    "1",
    "nee",
]


@pytest.mark.parametrize("text", MUST_SIGNAL_DANGER)
def test_danger_now_is_recognised(text: str) -> None:
    assert DETECTOR.check(text).danger


@pytest.mark.parametrize("text", MUST_SIGNAL_CRISIS)
def test_a_crisis_is_recognised(text: str) -> None:
    assert DETECTOR.check(text).crisis


@pytest.mark.parametrize("text", MUST_NOT_SIGNAL)
def test_ordinary_messages_do_not_raise_the_alarm(text: str) -> None:
    assert not DETECTOR.check(text)


def test_sleeping_badly_is_not_taken_for_a_beating() -> None:
    from tests.harness import make_logic

    signals = make_logic().signals
    assert not signals.check("Niet zo goed, ik slaap slecht.")
    assert signals.check("hij sloeg me").danger


def test_a_habit_told_as_a_pattern_is_quiet_until_it_happens_now() -> None:
    """A stalking story ("every evening") is an account, not an alarm; "and now again" is."""
    assert not DETECTOR.check("Hij staat elke avond bij de school van mijn kinderen.")
    assert not DETECTOR.check("he waits for me at the station most days")
    assert DETECTOR.check("Hij staat elke avond bij mijn huis en nu staat hij er weer").danger
    assert DETECTOR.check("he waits outside every night and hes outside right now").danger


def test_an_attack_told_as_over_and_said_to_be_over_is_quiet() -> None:
    """Past events that are clearly over may stay quiet; "but now they are back" is danger."""
    assert not DETECTOR.check("vorige maand gooiden ze een steen door mijn ruit, sindsdien is "
                              "het rustig")
    assert not DETECTOR.check("last month they set my car on fire, its been quiet since")
    assert not DETECTOR.check("vorige week stond er iemand bij mijn huis maar dat is nu voorbij")
    assert DETECTOR.check("vorige week gooiden ze stenen, sindsdien is het rustig maar nu staan "
                          "ze weer voor de deur").danger
    assert DETECTOR.check("gooiden ze stenen, sindsdien is het rustig").danger, "not told as past"
    assert DETECTOR.check("last week he threatened me, its quiet now but i want to die").crisis


def test_common_dutch_words_are_not_taken_for_english_signal_words() -> None:
    """"van" (of) is not a van, "heb" (have) is not "he"."""
    assert not DETECTOR.check("ik wil advies over beveiliging van mijn huis")
    assert not DETECTOR.check("ik heb hulp nodig met een reactie naar de krant")
    assert DETECTOR.check("there is a white van outside my house for hours").danger
    assert DETECTOR.check("he is outside my house").danger


def test_words_of_death_that_are_not_about_ending_a_life_raise_no_crisis() -> None:
    """Tiredness and death threats told by the person are not a crisis; their own wish is,
    even in the same message."""
    assert not DETECTOR.check("ik ben doodmoe van alle vergaderingen")
    assert not DETECTOR.check("im dead tired from all the council work")
    assert not DETECTOR.check("ze schreven op facebook dat ik dood moet")
    assert not DETECTOR.check("the letter said i should die")
    assert DETECTOR.check("ze willen me dood, en eerlijk gezegd wil ik zelf ook dood").crisis
    assert DETECTOR.check("they want me dead and i want to die too").crisis


def test_a_danger_word_after_since_is_an_event_in_the_past() -> None:
    """"sinds de brand" tells of a fire that is over; someone at the door now still is danger."""
    assert not DETECTOR.check("ik eet slecht sinds de brand")
    assert not DETECTOR.check("we moved out after the fire")
    assert DETECTOR.check("sinds de brand staat er elke nacht iemand in mijn tuin, nu ook").danger
    assert DETECTOR.check("since the fire theres a man outside my door right now").danger


def test_someone_taken_away_by_the_police_is_told_as_over() -> None:
    assert not DETECTOR.check("gisteren stond hij in mijn tuin, de politie heeft hem opgepakt")
    assert not DETECTOR.check("yesterday he was outside my house but he was arrested")
    assert DETECTOR.check("hij is opgepakt maar nu staat zijn broer voor mijn deur").danger


@pytest.mark.parametrize("text", [
    "ik laat de motor draaien in de garage",
    "ik heb een slang aan de uitlaat gemaakt",
    "the engine is running in the garage and im staying in the car",
    "ive got charcoal in the bedroom",
])
def test_fumes_in_a_closed_space_are_a_crisis(text: str) -> None:
    assert DETECTOR.check(text).crisis


def test_help_as_an_ordinary_verb_is_no_cry_for_help() -> None:
    """"het zou niet helpen" and "ask for help" are not "help!"; the rest of the message still
    counts."""
    assert not DETECTOR.check("ik deed geen aangifte omdat het toch niet zou helpen")
    assert not DETECTOR.check("i find it hard to ask for help")
    assert DETECTOR.check("can you help, hes here").danger
    assert not DETECTOR.check("de jurist heeft me goed geholpen")
    assert not DETECTOR.check("the expert helped me a lot")
    assert DETECTOR.check("help me").danger
    assert DETECTOR.check("ik wil om hulp vragen want er staat iemand voor de deur").danger


def test_a_signal_word_typed_exactly_is_not_another_with_a_letter_off() -> None:
    """"stop" is not "strop" (a noose), "slaapt" is not "slaat" (hits)."""
    assert not DETECTOR.check("mijn vrouw wil dat ik stop met de politiek")
    assert not DETECTOR.check("mijn man slaapt slecht")
    assert DETECTOR.check("ik heb een strop gekocht").crisis


def test_taken_along_is_danger_for_a_person_not_for_a_letter() -> None:
    assert DETECTOR.check("ze appen dat ze mijn dochter hebben meegenomen").danger
    assert not DETECTOR.check("de politie heeft de dreigbrief meegenomen")


def test_ordinary_words_of_the_same_dictionary_form_are_heard_as_typed() -> None:
    """"ik woon" (I live) is not "woning" (home) and "short" is not "shot"; "gesneden" (cut),
    which the lemmatiser reads as "afsnijden", is still harm."""
    assert not DETECTOR.check("ik woon met mijn man en onze dochter")
    assert not DETECTOR.check("i feel i fall short as a parent")
    assert DETECTOR.check("hij staat bij mijn woning").danger
    assert DETECTOR.check("ik heb mezelf gisteren gesneden").crisis


def test_word_fields_are_seen_by_the_model_and_raise_no_alarm_themselves() -> None:
    """A word of a field ("viaduct", height) is one feature with the rest of its field, so
    what the model learned of "brug" holds for it; by the word lists it is no alarm."""
    from bot.understanding.signals import SignalDetector

    lists_only = SignalDetector(FLOWS.signals)
    assert "k:field_height" in DETECTOR.model_features("ik sta boven op het viaduct")
    assert "k:field_means" in DETECTOR.model_features("ik heb de insuline gepakt")
    assert "k:field_exit" in DETECTOR.model_features("the only way out i see is to step out")
    assert "k:field_lived" in DETECTOR.model_features("ik heb een mooi leven gehad")
    assert "k:field_absence" in DETECTOR.model_features("when im not around anymore")
    assert not lists_only.check("ik rijd over het viaduct naar het provinciehuis")
    assert not lists_only.check("ik moet nog insuline halen bij de apotheek")
    assert not DETECTOR.check("ik moet nog medicijnen halen bij de apotheek")


def test_fear_that_lasts_is_not_danger_now() -> None:
    """"nog steeds" with fear tells of a lasting state; "nu" is now."""
    assert not DETECTOR.check("ik schrik nog steeds als er wordt aangebeld")
    assert not DETECTOR.check("i still jump when the phone rings")
    assert DETECTOR.check("ik ben nu echt bang").danger


def test_a_calm_sentence_beside_danger_or_crisis_does_not_hide_it() -> None:
    """Each sentence is judged alone too: the calm words of the others do not pull it down."""
    assert DETECTOR.check("Goedenavond. Ik ben raadslid in Deventer. Iemand heeft net zijn hond "
                          "op mij afgestuurd en hij bijt.").danger
    assert DETECTOR.check("thank you for your help so far. theres a man next to my bed").danger
    assert DETECTOR.check("Ik ben raadslid in Zwolle en word al maanden bedreigd. Ik zie het "
                          "nut er niet meer van in om door te gaan.").crisis


def test_an_event_said_to_be_over_in_the_next_sentence_stays_quiet() -> None:
    assert not DETECTOR.check("Vorige maand is mijn auto in brand gestoken. "
                              "Sindsdien is het rustig.")
    assert not DETECTOR.check("Last month someone set my car on fire. It has been quiet since.")
    # but what is happening now, beside it, is heard
    assert DETECTOR.check("nothing has happened since last week. hes saying on the phone that "
                          "hes in my street and can see me").danger


def test_a_neutral_sentence_of_a_long_account_raises_no_danger_alone() -> None:
    account = "Ik ben raadslid. Het is een lang verhaal. Het begon vorig jaar. " * 20
    assert not DETECTOR.check(account)


def test_words_typed_in_a_hurry_are_read_as_meant() -> None:
    assert DETECTOR.check("erstaatiemandvoordedeur").danger  # no spaces at all
    assert DETECTOR.check("ikwildood").crisis
    assert DETECTOR.check("ik sta op het sptor").crisis  # "spoor" (the railway), a key off
    assert DETECTOR.check("i keep tinking about death").crisis


def test_someone_asked_for_is_not_someone_present() -> None:
    """"iemand" in "kan ik iemand spreken" is no person at the house; a person there still is."""
    assert not DETECTOR.check("kan ik iemand spreken die weet hoe je een huis beveiligt")
    assert not DETECTOR.check("i would like to speak to someone about my house")
    assert DETECTOR.check("kan iemand komen, er staat iemand bij mijn huis").danger
    assert DETECTOR.check("i want to talk to someone, a man is outside my house").danger


def test_damage_told_as_dealt_with_stays_quiet() -> None:
    assert not DETECTOR.check("twee jaar geleden is er een steen door het raam gegooid, dat is "
                              "toen afgehandeld")
    assert not DETECTOR.check("last year they threw a brick through the window, it was dealt "
                              "with")


def test_startled_and_a_camera_put_up_are_no_crisis() -> None:
    """"jump" and "ophangen" also have ordinary senses; wanting to jump is still a crisis."""
    assert not DETECTOR.check("i still jump a bit when someone knocks")
    assert not DETECTOR.check("we hebben een camera laten ophangen bij de achterdeur")
    assert DETECTOR.check("i want to jump off the roof").crisis


def test_coming_to_get_me_and_the_point_of_living_are_heard() -> None:
    assert DETECTOR.check("hij appt dat hij me komt halen").danger
    assert DETECTOR.check("what is the point of living like this").crisis
    assert DETECTOR.check("ik heb net een hele strip slaappillen geslikt").crisis
    assert DETECTOR.check("ik ben levensmoe").crisis


def test_someone_else_in_crisis_gets_the_113_advice_too() -> None:
    """A partner or child who wants to harm themselves: 113 helps the one who writes too."""
    assert DETECTOR.check("mijn broer zegt dat hij zichzelf iets gaat aandoen").crisis
    assert DETECTOR.check("my sister wants to kill herself").crisis


def test_hearing_from_someone_is_no_sound_of_danger() -> None:
    assert not DETECTOR.check("wanneer hoor ik iets van de advocaat")
    assert not DETECTOR.check("when will i hear from the lawyer")
    assert DETECTOR.check("ik hoor iets beneden").danger


def test_nobody_missing_me_is_a_crisis() -> None:
    assert DETECTOR.check("niemand zal me missen als ik weg ben").crisis
    assert DETECTOR.check("no one would miss me").crisis


def test_ending_ones_existence_is_a_crisis() -> None:
    assert DETECTOR.check("ik wil een einde maken aan mijn bestaan").crisis
    assert DETECTOR.check("sometimes i wish i had never existed").crisis
    assert DETECTOR.check("i have nothing to get up for anymore").crisis


def test_a_call_back_and_a_party_backing_me_are_no_one_at_the_house() -> None:
    """"back" and "group" in their ordinary senses; someone back at the door is still danger."""
    assert not DETECTOR.check("can someone call me back tomorrow")
    assert not DETECTOR.check("i feel the group isnt backing me")
    assert DETECTOR.check("can someone call me back, hes back at the door").danger
    assert DETECTOR.check("someone is standing behind me").danger


def test_the_sender_of_the_letter_on_my_yard_is_danger() -> None:
    assert DETECTOR.check("de boer van de brief staat op ons erf").danger
    assert DETECTOR.check("the man who wrote the letter is in my yard").danger


def test_someone_else_not_wanting_to_live_and_cutting_again_are_a_crisis() -> None:
    assert DETECTOR.check("my wife says she doesnt want to live anymore").crisis
    assert DETECTOR.check("i have been cutting again").crisis
    assert not DETECTOR.check("i am cutting back on meetings in the evening")


def test_crisis_typed_with_a_letter_left_out_is_heard() -> None:
    assert DETECTOR.check("wnt to die").crisis
    assert DETECTOR.check("ik heb pilldn gespaard").crisis
    assert DETECTOR.check("my daughter texts that she wants to hurt herself").crisis


def test_back_at_school_and_a_new_lock_are_no_one_at_the_house() -> None:
    assert not DETECTOR.check("the kids are fine, theyre back at school")
    assert not DETECTOR.check("we hebben een nieuw slot op de achterdeur")
    assert DETECTOR.check("hes back at the door").danger
    assert DETECTOR.check("er staat iemand bij de achterdeur, we hebben wel een nieuw slot").danger


def test_exhaust_in_the_garage_a_rope_bought_and_no_reason_to_go_on_are_a_crisis() -> None:
    assert DETECTOR.check("ik zit in de garage met de motor aan").crisis
    assert DETECTOR.check("i just bought a rope").crisis
    assert DETECTOR.check("waarom zou ik nog doorgaan met alles").crisis
    assert DETECTOR.check("her brother says he will hang himself").crisis


def test_lately_and_a_relative_pronoun_are_no_signs_of_crisis() -> None:
    """"de laatste tijd" is lately, not a last time; Dutch "die" is not English "die"."""
    for text in ("ik heb de laatste tijd meer rust", "de laatste tijd slaap ik beter",
                 "ik ben de laatste tijd wat moe"):
        assert not DETECTOR.check(text), text
    assert not DETECTOR.check("het is een buurman die ik goed ken")

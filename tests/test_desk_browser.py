"""A coordinator's first hour at the web desk, in a real headless Chromium, against the bot
as a new user runs it: the console over a pipe, the example experts file (a copy: the desk
writes to it), the desk on a local port. Signing in with the link from the chat, the queue,
opening a case (audited), fixing a gap in the rota (the expert hears of it), the statistics,
a phone-sized screen, English, signing out; and a non-coordinator refused."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from config.timezone import TIMEZONE
from tests.browser import chromium
from tests.console_process import ROOT, ConsoleBot
from tests.intake import INCIDENT_SUBMITTED

pytestmark = pytest.mark.slow  # the bot as a process and a browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def desk_bot(tmp_path: Path) -> Iterator[tuple[ConsoleBot, str, Path]]:
    experts = tmp_path / "experts.yaml"
    shutil.copy(ROOT / "config" / "experts.example.yaml", experts)
    port = free_port()
    bot = ConsoleBot(tmp_path / "data", WEERBAAR_EXPERTS_FILE=str(experts),
                     WEERBAAR_EXPERTS_RELOAD_SECONDS="1", WEERBAAR_DESK_PORT=str(port),
                     WEERBAAR_DESK_SECRET="a-long-test-secret-of-forty-characters!!")
    try:
        yield bot, f"http://127.0.0.1:{port}", tmp_path / "data" / "weerbaar.db"
    finally:
        bot.process.kill()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = chromium(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def link_from_chat(bot: ConsoleBot, who: str = "carla") -> str:
    before = bot.output.count("/login/")
    bot.type(f"@{who}: inloggen")
    bot.wait_for("/login/", count=before + 1)
    return str(re.findall(r"http://\S+/login/\S+", bot.output)[-1])


def press(driver: webdriver.Chrome, by: str, value: str) -> None:
    """Click what loads a new page, and wait until it has (a click does not wait)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, value).click()
    WebDriverWait(driver, 15).until(staleness_of(page))


def text(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def audit(database: Path) -> list[tuple[str, str, int | None, str | None]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return list(connection.execute(
            "SELECT actor, action, case_id, detail FROM audit_log ORDER BY id"))


def test_a_coordinators_first_hour(desk_bot: tuple[ConsoleBot, str, Path],
                                   browser: webdriver.Chrome) -> None:
    bot, desk, database = desk_bot
    bot.type(*INCIDENT_SUBMITTED)
    bot.wait_for("[@anna] Nieuwe zaak #1")
    link = link_from_chat(bot)
    assert link.startswith(desk)

    browser.get(link)
    press(browser, By.ID, "sign-in")
    assert browser.current_url == f"{desk}/"
    row = browser.find_element(By.ID, "case-1").text
    assert "incident" in row and "wacht op een expert" in row and "juridische hulp" in row
    assert "Ingelogd als Carla Smit" in text(browser)
    assert "Ergenshuizen" not in browser.page_source and "kinderen" not in browser.page_source

    Select(browser.find_element(By.ID, "filter-status")).select_by_value("closed")
    press(browser, By.ID, "filter")
    assert browser.find_elements(By.ID, "queue-empty") and "status=closed" in browser.current_url

    browser.get(f"{desk}/cases/1")
    assert "Anna de Vries, gevraagd, nog geen antwoord" in text(browser)
    assert "Ergenshuizen" not in browser.page_source
    assert ("desk:carla", "open", 1, "desk") not in audit(database)
    press(browser, By.ID, "open-file")
    file = browser.find_element(By.ID, "case-file").text
    assert "Gemeente Ergenshuizen" in file and "weet waar mijn kinderen" in file
    assert ("desk:carla", "open", 1, "desk") in audit(database)

    # A gap in the rota: tomorrow morning Bert alone takes legal help.
    press(browser, By.ID, "nav-rota")
    assert "juridische hulp" in browser.find_element(By.ID, "on-call-now").text
    tomorrow = (datetime.now(TIMEZONE) + timedelta(days=1)).date()
    Select(browser.find_element(By.ID, "override-specialty")).select_by_value("rechtshulp")
    for field, hour in (("override-start", "09:00"), ("override-end", "13:00")):
        browser.execute_script("arguments[0].value = arguments[1]",
                               browser.find_element(By.ID, field), f"{tomorrow}T{hour}")
    browser.find_element(By.ID, "override-expert-bert").click()
    press(browser, By.ID, "save-override")
    assert "Opgeslagen" in browser.find_element(By.ID, "notice").text
    assert f"{tomorrow} 09:00 – {tomorrow} 13:00: Bert Jansen" in \
        browser.find_element(By.ID, "overrides").text
    assert ("desk:carla", "override_add", None, "rechtshulp") in audit(database)
    bot.wait_for("[@anna] Uw diensten zijn gewijzigd", within=20)
    assert "• vervallen: " in bot.output

    press(browser, By.ID, "nav-stats")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.bars")
    assert "Aantallen onder 5 staan er niet in" in text(browser)

    # On a phone: the queue fits the screen, nothing to scroll sideways.
    browser.set_window_size(390, 844)
    browser.get(f"{desk}/")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    screen = browser.execute_script("return document.documentElement.clientWidth")
    assert width <= screen, (width, screen)
    assert browser.find_element(By.ID, "case-1").is_displayed()

    press(browser, By.CSS_SELECTOR, "a.lang")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Cases"
    press(browser, By.ID, "sign-out")
    assert "You are signed out." in text(browser)
    browser.get(f"{desk}/")
    assert browser.current_url == f"{desk}/login"
    browser.get(link)  # the link from the chat does not work twice
    press(browser, By.ID, "sign-in")
    assert "does not work (any more)" in browser.find_element(By.ID, "message").text
    assert bot.finish() == 0


def test_an_expert_who_is_no_coordinator_is_refused(desk_bot: tuple[ConsoleBot, str, Path],
                                                     browser: webdriver.Chrome) -> None:
    bot, desk, _ = desk_bot
    bot.type("@anna: inloggen")
    bot.wait_for("[@anna] Alleen een coördinator kan inloggen op het teamoverzicht.")
    assert "/login/" not in bot.output
    browser.get(f"{desk}/cases/1")
    assert browser.current_url == f"{desk}/login"
    assert "Alleen coördinatoren van het team kunnen hier inloggen" in text(browser)
    browser.get(f"{desk}/login/made-up-token")
    press(browser, By.ID, "sign-in")
    assert "werkt niet (meer)" in browser.find_element(By.ID, "message").text
    browser.get(f"{desk}/")
    assert browser.current_url == f"{desk}/login"
    assert bot.finish() == 0

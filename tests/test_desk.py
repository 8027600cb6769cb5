"""The coordinators' web desk over HTTP (Starlette's test client on the real app and database):
signing in with a one-time link, who is refused, form tokens, the audited opening of a case
file, the rota's overrides in the experts file, and the calendar feed. The same pages in a
real browser are in tests/test_desk_browser.py."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from icalendar import Calendar
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.desk.access import now
from bot.desk.app import Desk, desk_app
from bot.desk.links import DeskLinks
from config.experts import load_roster
from storage import desk_logins
from storage.database import create_db_engine
from storage.models import AuditEntry
from tests.harness import FACTS, FLOWS, Bot
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, roster_data

SECRET = "s" * 40
LINKS = DeskLinks("http://127.0.0.1:8090", SECRET)


def experts_file(tmp_path: Path) -> Path:
    path = tmp_path / "experts.yaml"
    path.write_text(yaml.safe_dump(roster_data()))
    return path


def client(url: str, path: Path) -> TestClient:
    db = create_db_engine(url)
    desk = Desk(db=db, roster=lambda: load_roster(path), flows=FLOWS, facts=FACTS, links=LINKS,
                experts_file=path)
    return TestClient(desk_app(desk), base_url="http://127.0.0.1:8090")


def link_for(url: str, expert: str) -> str:
    token = f"token-{expert}-{now().timestamp()}"
    with create_db_engine(url).begin() as connection:
        desk_logins.new_link(connection, expert, token, now(), timedelta(minutes=10))
    return token


def signed_in(web: TestClient, url: str, expert: str = "carla") -> str:
    """Signs in; returns the page's form token."""
    token = link_for(url, expert)
    assert web.get(f"/login/{token}").status_code == 200  # a page with a button, not a login
    answer = web.post("/login", data={"token": token})
    assert answer.status_code == 200 and "Zaken" in answer.text
    found = re.search(r'name="form" value="([^"]+)"', answer.text)
    assert found is not None
    return found.group(1)


def audit(url: str) -> list[tuple[str, str, int | None, str | None]]:
    with create_db_engine(url).connect() as connection:
        return [(a.actor, a.action, a.case_id, a.detail)
                for a in connection.execute(select(AuditEntry).order_by(AuditEntry.id))]


async def a_case(url: str) -> None:
    async with Bot(url, router=make_router(), channel_name="console") as bot:
        await bot.script(INCIDENT_SUBMITTED)


async def test_the_queue_shows_facts_and_the_file_only_after_an_audited_open(
        sqlite_url: str, tmp_path: Path) -> None:
    await a_case(sqlite_url)
    web = client(sqlite_url, experts_file(tmp_path))
    form = signed_in(web, sqlite_url)
    queue = web.get("/").text
    assert 'id="case-1"' in queue and "wacht op een expert" in queue
    assert "Ergenshuizen" not in queue and "kinderen" not in queue
    case = web.get("/cases/1").text
    assert "Anna de Vries, gevraagd, nog geen antwoord" in case and "Ergenshuizen" not in case
    assert ("desk:carla", "open", 1, "desk") not in audit(sqlite_url)
    opened = web.post("/cases/1/open", data={"form": form})
    assert opened.status_code == 200 and "Gemeente Ergenshuizen" in opened.text
    assert "weet waar mijn kinderen naar school gaan" in opened.text
    assert ("desk:carla", "open", 1, "desk") in audit(sqlite_url)
    # Without the page's form token nothing opens and nothing is shown.
    refused = web.post("/cases/1/open", data={"form": "forged"})
    assert refused.status_code == 403 and "Ergenshuizen" not in refused.text
    assert web.get("/cases/99").status_code == 404
    assert web.get("/?status=closed").text.count('id="case-') == 0
    assert "no-store" in opened.headers["cache-control"]
    assert "script-src" not in opened.headers["content-security-policy"]  # none at all


async def test_a_link_works_once_and_only_for_a_coordinator(sqlite_url: str,
                                                            tmp_path: Path) -> None:
    path = experts_file(tmp_path)
    web = client(sqlite_url, path)
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"
    token = link_for(sqlite_url, "carla")
    assert web.post("/login", data={"token": token}).status_code == 200
    again = client(sqlite_url, path).post("/login", data={"token": token})
    assert again.status_code == 403 and "werkt niet (meer)" in again.text
    anna = client(sqlite_url, path).post("/login", data={"token": link_for(sqlite_url, "anna")})
    assert anna.status_code == 403 and "Alleen coördinatoren" in anna.text
    # A coordinator taken off the roster is out at the next page.
    data = roster_data()
    data["experts"][1]["coordinator"] = True
    data["experts"] = [e for e in data["experts"] if e["id"] != "carla"]
    path.write_text(yaml.safe_dump(data))
    assert web.get("/").status_code == 403


async def test_signing_out_ends_the_session_on_the_server(sqlite_url: str,
                                                         tmp_path: Path) -> None:
    web = client(sqlite_url, experts_file(tmp_path))
    form = signed_in(web, sqlite_url)
    cookie = web.cookies.get("weerbaar_desk")
    assert cookie
    assert "U bent uitgelogd" in web.post("/logout", data={"form": form}).text
    # The old cookie, replayed (stolen), no longer works.
    thief = client(sqlite_url, experts_file(tmp_path))
    thief.cookies.set("weerbaar_desk", cookie)
    assert thief.get("/", follow_redirects=False).status_code == 303


async def test_guessing_links_is_limited(sqlite_url: str, tmp_path: Path) -> None:
    web = client(sqlite_url, experts_file(tmp_path))
    codes = [web.post("/login", data={"token": f"guess-{n}"}).status_code for n in range(12)]
    assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]


async def test_overrides_are_added_and_removed_in_the_experts_file_and_audited(
        sqlite_url: str, tmp_path: Path) -> None:
    path = experts_file(tmp_path)
    web = client(sqlite_url, path)
    form = signed_in(web, sqlite_url)
    saved = web.post("/rota/overrides", data={
        "form": form, "specialty": "rechtshulp", "start": "2026-12-24T18:00",
        "end": "2026-12-25T08:00", "experts": ["bert"]})
    assert saved.status_code == 200 and "Opgeslagen" in saved.text
    assert "2026-12-24 18:00 – 2026-12-25 08:00: Bert Jansen" in saved.text
    (override,) = load_roster(path).on_call.overrides
    assert override.experts == ("bert",) and override.specialty == "rechtshulp"
    wrong = web.post("/rota/overrides", data={
        "form": form, "specialty": "rechtshulp", "start": "2026-12-25T08:00",
        "end": "2026-12-24T18:00"})
    assert wrong.status_code == 422 and "het eind moet na het begin liggen" in wrong.text
    unknown = web.post("/rota/overrides", data={
        "form": form, "specialty": "rechtshulp", "start": "2026-12-26T08:00",
        "end": "2026-12-26T18:00", "experts": ["dirk"]})
    assert unknown.status_code == 422 and "Niet opgeslagen" in unknown.text
    assert len(load_roster(path).on_call.overrides) == 1
    assert web.post("/rota/overrides/0/delete", data={"form": "forged"}).status_code == 403
    which = "rechtshulp|2026-12-24T18:00:00|2026-12-25T08:00:00"
    stale = web.post("/rota/overrides/0/delete", data={"form": form, "which": "other|x|y"})
    assert stale.status_code == 409 and "intussen veranderd of al weg" in stale.text
    assert len(load_roster(path).on_call.overrides) == 1  # a page from before removes nothing
    removed = web.post("/rota/overrides/0/delete", data={"form": form, "which": which})
    assert "Verwijderd" in removed.text and load_roster(path).on_call.overrides == ()
    actions = [(actor, action, detail) for actor, action, _, detail in audit(sqlite_url)]
    assert ("desk:carla", "override_add", "rechtshulp") in actions
    assert ("desk:carla", "override_remove", None) in actions


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_the_calendar_feed_needs_its_token_and_lists_the_shifts(
        sqlite_url: str, tmp_path: Path, language: str) -> None:
    data = roster_data()
    data["experts"][0]["languages"] = [language]
    data["on_call"]["shifts"][0].update(days=["mon", "wed"], start="09:00", end="17:00")
    path = tmp_path / "experts.yaml"
    path.write_text(yaml.safe_dump(data))
    web = client(sqlite_url, path)
    assert web.get("/agenda/anna/wrong.ics").status_code == 404
    assert web.get(f"/agenda/anna/{LINKS.calendar_token('bert')}.ics").status_code == 404
    feed = web.get(f"/agenda/anna/{LINKS.calendar_token('anna')}.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = [e for e in Calendar.from_ical(feed.content).walk("VEVENT")]
    assert len(events) == 16  # two a week for eight weeks
    starts = {(e.decoded("dtstart").strftime("%a %H:%M"), e.decoded("dtend").strftime("%H:%M"))
              for e in events}
    assert starts == {("Mon 09:00", "17:00"), ("Wed 09:00", "17:00")}
    word = "shift: legal help" if language == "en" else "Dienst Weerbaar Bestuur: juridische hulp"
    assert all(word in str(e["summary"]) for e in events)

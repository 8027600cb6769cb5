"""What each page of the desk shows, read from the database and the roster (run in a worker
thread: everything here blocks on the database)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.admin.stats import chart_panels, count_cells
from bot.case_marks import level_label
from bot.desk import queries
from bot.desk.access import now
from bot.desk.charts import bar_chart
from bot.routing import Router, RoutingSettings, RoutingTexts
from config.experts import COORDINATOR, DAYS, SPECIALTIES, Expert, Roster, Shift
from config.roster_edit import override_key
from config.rota_text import days, moment, stretch
from config.shifts import spans
from config.timezone import TIMEZONE
from flows.schema import URGENCY_LEVELS
from storage import cases as db

if TYPE_CHECKING:
    from bot.desk.app import Desk

WEEK = timedelta(days=7)


def _specialty(desk: Desk, name: str, language: str) -> str:
    if name == COORDINATOR:
        return desk.texts("rota_coordinator", language)
    text = desk.flows.routing.specialties.get(name)
    return text.get(language) if text else name


def _names(roster: Roster, ids: tuple[str, ...]) -> list[str]:
    return [expert.name if (expert := roster.by_id(i)) else i for i in ids]


def _row(desk: Desk, row: queries.QueueRow, language: str) -> dict[str, Any]:
    roster, t = desk.roster(), desk.texts
    waited = row.accept_seconds()
    kind_key = f"kind_{row.kind}"
    return {
        "id": row.id, "urgent": row.urgency == "spoed", "urgency": row.urgency,
        "kind": t(kind_key, language) if t.has(kind_key) else row.kind,
        "level": level_label(desk.flows.triage, row.urgency, language),
        "status": t(f"status_{row.status}", language),
        "age": RoutingTexts.wait((now() - row.created_at).total_seconds(), language),
        "specialties": ", ".join(_specialty(desk, s, language) for s in row.specialties) or "-",
        "expert": (_names(roster, (row.assigned_expert,))[0] if row.assigned_expert else "-"),
        "accept": RoutingTexts.wait(waited, language) if waited is not None else "-",
        "step": (t("step_coordinator", language) if row.step == "coordinator" else
                 t("step_round", language, n=row.step) if row.step != "-" else "-"),
        "blocked": row.blocked, "verified": row.verified,
        "created": moment(row.created_at, language),
    }


def queue_view(desk: Desk, language: str, chosen: dict[str, str]) -> dict[str, Any]:
    status = chosen["status"] if chosen["status"] in queries.STATUS_FILTERS else "open"
    urgency = chosen["urgency"] if chosen["urgency"] in URGENCY_LEVELS else ""
    specialty = chosen["specialty"] if chosen["specialty"] in SPECIALTIES else ""
    with desk.db.connect() as connection:
        rows = queries.queue(connection, status=status, urgency=urgency, specialty=specialty)
    order: dict[str, int] = {level: rank for rank, level in enumerate(URGENCY_LEVELS)}
    rows.sort(key=lambda r: (r.status == "closed", order.get(r.urgency, 9), r.id))
    return {
        "rows": [_row(desk, r, language) for r in rows],
        "statuses": [(key, desk.texts(f"status_filter_{key}", language))
                     for key in queries.STATUS_FILTERS],
        "urgencies": [(level, level_label(desk.flows.triage, level, language))
                      for level in URGENCY_LEVELS],
        "specialty_options": [(s, _specialty(desk, s, language)) for s in SPECIALTIES],
        "chosen": {"status": status, "urgency": urgency, "specialty": specialty},
    }


def case_view(desk: Desk, language: str, case_id: int) -> dict[str, Any] | None:
    with desk.db.connect() as connection:
        row = queries.case_row(connection, case_id)
        if row is None:
            return None
        offers = queries.offers(connection, case_id)
    roster = desk.roster()
    return {"case": _row(desk, row, language), "file": None, "offers": [
        {"name": _names(roster, (o.expert,))[0], "status": desk.texts(f"offer_{o.status}",
                                                                       language),
         "asked": moment(o.asked_at, language)} for o in offers]}


def case_file(desk: Desk, language: str, case_id: int, reader: Expert
              ) -> dict[str, Any] | None:
    """The case with its file, read now on purpose: the read is audited first."""
    view = case_view(desk, language, case_id)
    if view is None:
        return None
    desk.audit(f"desk:{reader.id}", "open", case_id, "desk")
    router = Router(desk.roster(), desk.flows, desk.facts, RoutingSettings())
    with desk.db.connect() as connection:
        case = db.load_case(connection, case_id)
        assert case is not None
        intake = router.full_intake(connection, case, language, limit=None)
        additions, files = router.evidence(connection, case, language)
    who = {True: router.texts.t("expert_colleague_wrote", language),
           False: router.texts.t("expert_addition", language)}
    view["file"] = {"intake": intake, "messages": [f"{who[by]}: {text}" for by, text in additions],
                    "files": len(files)}
    return view


def rota_view(desk: Desk, language: str) -> dict[str, Any]:
    roster, start = desk.roster(), now()
    on_call = roster.on_call_at(start)
    by_specialty: dict[str, list[dict[str, str]]] = defaultdict(list)
    for span in spans(roster, start, start + WEEK):
        by_specialty[span.specialty].append({
            "when": stretch(span.start, span.end, language),
            "who": ", ".join(_names(roster, span.experts)) or desk.texts("rota_nobody",
                                                                         language)})
    names = [*SPECIALTIES, COORDINATOR]
    week = [(_specialty(desk, s, language), by_specialty[s]) for s in names if s in by_specialty]
    return {
        "now": [(_specialty(desk, s, language), ", ".join(_names(roster, ids))
                 or desk.texts("rota_nobody", language))
                for s in names if (ids := on_call.get(s)) is not None],
        "week": week,
        "shifts": [_shift(desk, s, language) for s in roster.on_call.shifts],
        "holiday_shifts": [_shift(desk, s, language) for s in roster.on_call.holiday_shifts],
        "overrides": [{"index": index, "which": override_key(o),
                       "specialty": _specialty(desk, o.specialty, language),
                       "when": f"{o.start:%Y-%m-%d %H:%M} – {o.end:%Y-%m-%d %H:%M}",
                       "who": ", ".join(_names(roster, o.experts))
                       or desk.texts("rota_nobody", language)}
                      for index, o in enumerate(roster.on_call.overrides)],
        "specialty_options": [(s, _specialty(desk, s, language)) for s in names],
        "experts": [(e.id, e.name) for e in roster.experts],
        "editable": desk.experts_file is not None,
        "default_start": f"{start.astimezone(TIMEZONE):%Y-%m-%dT%H:00}",
    }


def _shift(desk: Desk, shift: Shift, language: str) -> dict[str, str]:
    every = shift.days == DAYS
    return {"specialty": _specialty(desk, shift.specialty, language),
            "days": desk.texts("rota_every_day", language) if every
            else days(shift.days, language),
            "hours": f"{shift.start}–{shift.end}",
            "who": ", ".join(_names(desk.roster(), shift.experts))
            or desk.texts("rota_nobody", language)}


def stats_view(desk: Desk, language: str) -> dict[str, Any]:
    cells = count_cells(desk.db)
    index = 1 if language == "en" else 0
    charts = []
    for panel in chart_panels(cells):
        title = panel.title.split(" / ")[index]
        charts.append({"title": title, "svg": bar_chart(panel) if panel.series else None})
    return {"charts": charts}

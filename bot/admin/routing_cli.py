"""`weerbaar experts`, `weerbaar oncall`, `weerbaar cases show` and `weerbaar audit`: the roster
and rota in the experts file, and reading cases (every read is audited)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin.options import ConfigOption, admin_settings
from config.experts import Override, Roster, RosterError, load_roster, save_roster
from config.roster_edit import add_override
from config.settings import TEXT_PLACEHOLDERS, Settings
from config.timezone import TIMEZONE
from flows import load_flows
from flows.summary import describe
from storage.cases import insert_audits
from storage.database import create_db_engine
from storage.models import AuditEntry, Case, CaseNote, Handoff, Message, utcnow

experts_app = typer.Typer(help="The experts in the experts file.", no_args_is_help=True)
oncall_app = typer.Typer(help="Who is on call.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log (who read or did what to which case).",
                        no_args_is_help=True)



def in_use_when(settings: Settings) -> str:
    """When a running bot starts to use a changed experts file."""
    seconds = settings.experts_reload_seconds
    if seconds:
        return (f"the running bot uses it within {seconds:g} s "
                "(at once after SIGHUP: systemctl reload weerbaar)")
    return "the running bot uses it after SIGHUP (systemctl reload weerbaar)"


def _roster_path(settings: Settings) -> Path:
    if settings.experts_file is None:
        typer.echo("no experts file is configured (experts_file / WEERBAAR_EXPERTS_FILE)",
                   err=True)
        raise typer.Exit(2)
    return settings.experts_file


def _load(settings: Settings) -> tuple[Path, Roster]:
    path = _roster_path(settings)
    try:
        return path, load_roster(path) if path.exists() else Roster()
    except RosterError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _save(path: Path, data: dict[str, object]) -> None:
    try:
        save_roster(path, Roster.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        typer.echo(f"not saved: {problems}", err=True)
        raise typer.Exit(2) from None


@experts_app.command("list")
def experts_list(config: ConfigOption = None) -> None:
    """The experts: id, name, address, specialties, languages, maximum open cases."""
    _, roster = _load(admin_settings(config))
    for e in roster.experts:
        role = " coordinator" if e.coordinator else ""
        typer.echo(f"{e.id:<12} {e.name:<24} {e.address:<28} "
                   f"{','.join(e.specialties) or '-'}  {','.join(e.languages)}  "
                   f"max {e.max_open_cases}{role}")


@experts_app.command("add")
def experts_add(
    expert_id: Annotated[str, typer.Option("--id", help="Short stable name, e.g. anna.")],
    name: Annotated[str, typer.Option(help="Full name; people see the first name.")],
    address: Annotated[str, typer.Option(help="telegram:<id>, matrix:@u:server, console:x")],
    specialty: Annotated[list[str] | None, typer.Option(help="Repeat for more.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="nl or en; first is used.")] = None,
    max_open: Annotated[int, typer.Option(help="Most cases at once.")] = 5,
    coordinator: Annotated[bool, typer.Option(help="Last step at all hours.")] = False,
    config: ConfigOption = None,
) -> None:
    """Add an expert (or replace the one with the same id)."""
    settings = admin_settings(config)
    path, roster = _load(settings)
    entry = {"id": expert_id, "name": name, "address": address,
             "specialties": specialty or [], "languages": language or ["nl"],
             "max_open_cases": max_open, "coordinator": coordinator}
    data = roster.model_dump()
    data["experts"] = [e for e in data["experts"] if e["id"] != expert_id] + [entry]
    _save(path, data)
    typer.echo(f"saved {expert_id}; {in_use_when(settings)}")


@experts_app.command("remove")
def experts_remove(expert_id: Annotated[str, typer.Argument()],
                   config: ConfigOption = None) -> None:
    """Remove an expert and their shifts and overrides; the running bot gives their cases
    to others."""
    settings = admin_settings(config)
    path, roster = _load(settings)
    if roster.by_id(expert_id) is None:
        typer.echo(f"no expert {expert_id!r}", err=True)
        raise typer.Exit(1)
    data = roster.model_dump()
    data["experts"] = [e for e in data["experts"] if e["id"] != expert_id]
    for kind in ("shifts", "holiday_shifts", "overrides"):
        data["on_call"][kind] = [
            {**entry, "experts": [x for x in entry["experts"] if x != expert_id]}
            for entry in data["on_call"][kind]]
    _save(path, data)
    typer.echo(f"removed {expert_id}; {in_use_when(settings)}")


@oncall_app.command("show")
def oncall_show(
    at: Annotated[datetime | None, typer.Option(help="Amsterdam time; default now.")] = None,
    config: ConfigOption = None,
) -> None:
    """Who is on call, per specialty, at a moment (Amsterdam time)."""
    _, roster = _load(admin_settings(config))
    moment = at.replace(tzinfo=TIMEZONE) if at else utcnow()
    typer.echo(f"on call at {moment.astimezone(TIMEZONE):%Y-%m-%d %H:%M} (Europe/Amsterdam):")
    for specialty, ids in sorted(roster.on_call_at(moment).items()):
        typer.echo(f"  {specialty:<20} {', '.join(ids) or '(nobody: goes to the coordinator)'}")


@oncall_app.command("override")
def oncall_override(
    specialty: Annotated[str, typer.Option(help="e.g. rechtshulp, or coordinator.")],
    start: Annotated[datetime, typer.Option(help="Amsterdam time, e.g. 2026-12-24T18:00.")],
    end: Annotated[datetime, typer.Option(help="Amsterdam time.")],
    expert: Annotated[list[str] | None, typer.Option(help="Repeat; none: nobody.")] = None,
    config: ConfigOption = None,
) -> None:
    """From start to end, these experts replace the shifts of a specialty."""
    settings = admin_settings(config)
    path, _ = _load(settings)
    try:
        add_override(path, Override(specialty=specialty, start=start, end=end,
                                    experts=tuple(expert or ())))
    except RosterError as exc:
        typer.echo(f"not saved: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"override saved; {in_use_when(settings)}")


def show_case(settings: Settings, case_id: int, reader: str) -> None:
    """Print a case with its intake, handoffs and notes, and audit the read."""
    engine = create_db_engine(settings.database_url)
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    try:
        with Session(engine) as session, session.begin():
            connection = session.connection()
            case = session.get(Case, case_id)
            if case is None:
                typer.echo(f"no case {case_id}", err=True)
                raise typer.Exit(1)
            insert_audits(connection, [{"at": utcnow(), "actor": f"cli:{reader}"[:64],
                                        "action": "read", "case_id": case_id,
                                        "detail": None}])
            typer.echo(f"case {case.id}: {case.kind}, {case.status}"
                       f"{', URGENT' if case.urgent else ''}"
                       f"{', outcome ' + case.outcome if case.outcome else ''}")
            for label, moment in (("created", case.created_at),
                                  ("first expert asked", case.first_asked_at),
                                  ("accepted", case.accepted_at),
                                  ("first answer", case.first_answer_at),
                                  ("closed", case.closed_at)):
                typer.echo(f"  {label:<19} {moment:%Y-%m-%d %H:%M:%S}" if moment
                           else f"  {label:<19} -")
            typer.echo(f"  expert              {case.assigned_expert or '-'}")
            reasons = ", ".join(case.urgency_reasons or []) or "-"
            chosen = f", chosen by {case.urgency_set_by}" if case.urgency_set_by else ""
            typer.echo(f"  urgency             {case.urgency} ({reasons}){chosen}")
            verified = (f"by {case.verified_by}: {(case.verified_how or {}).get('text', '')}"
                        if case.verified_at else "no")
            typer.echo(f"  verified            {verified}")
            flow = flows.flows.get(str(case.intake.get("flow", case.kind)))
            if flow is not None and case.intake.get("answers"):
                typer.echo("intake:")
                for line in describe(flow, case.intake["answers"], "en", brief=False):
                    typer.echo(f"  {line}")
            for h in session.scalars(select(Handoff).where(Handoff.case_id == case_id)
                                     .order_by(Handoff.id)):
                typer.echo(f"handoff: {h.expert} {h.status} (asked {h.asked_at:%H:%M:%S})")
            for n in session.scalars(select(CaseNote).where(CaseNote.case_id == case_id)
                                     .order_by(CaseNote.id)):
                typer.echo(f"note by {n.author}: {n.body.get('text', '')}")
            kept = dict(session.execute(
                select(Message.kind, func.count()).where(Message.case_id == case_id)
                .group_by(Message.kind)).all())
            typer.echo(f"files kept: {kept.get('attachment', 0)}, locations: "
                       f"{kept.get('location', 0)}, contact cards: {kept.get('contact', 0)}")
    finally:
        engine.dispose()


@audit_app.command("list")
def audit_list(
    case: Annotated[int | None, typer.Option(help="Only this case.")] = None,
    limit: Annotated[int, typer.Option(help="Most recent entries.")] = 50,
    config: ConfigOption = None,
) -> None:
    """The audit log, newest first."""
    settings = admin_settings(config)
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if case is not None:
                query = query.where(AuditEntry.case_id == case)
            for entry in session.scalars(query):
                typer.echo(f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<20} "
                           f"{entry.action:<9} case {entry.case_id or '-'}"
                           f"{'  ' + entry.detail if entry.detail else ''}")
    finally:
        engine.dispose()


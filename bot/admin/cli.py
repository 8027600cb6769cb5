"""`weerbaar`: database upgrades, the retention purge, key rotation, anonymous statistics, the
experts and the rota, cases and the audit log.

Settings come from the same places as for the bot (``--config`` or ``WEERBAAR_CONFIG``, and
``WEERBAAR_*`` in the environment).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from bot.admin.options import ConfigOption, admin_settings
from bot.admin.routing_cli import audit_app, experts_app, oncall_app, show_case
from storage import crypto
from storage.database import create_db_engine, upgrade_database
from storage.models import Base, utcnow
from storage.retention import purge

app = typer.Typer(help=__doc__, no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
stats_app = typer.Typer(help="Anonymous statistics.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(stats_app, name="stats")
app.add_typer(experts_app, name="experts")
app.add_typer(oncall_app, name="oncall")
app.add_typer(audit_app, name="audit")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema up to date (Alembic)."""
    settings = admin_settings(config)
    upgrade_database(settings.database_url)
    typer.echo("database is up to date")


@app.command("purge")
def purge_now(config: ConfigOption = None,
              days: Annotated[int | None, typer.Option(help="Instead of the setting.")] = None,
              ) -> None:
    """Delete what the retention rules say is due now (the bot also does this every night)."""
    settings = admin_settings(config)
    period = settings.retention_days if days is None else days
    if period <= 0:
        typer.echo("retention is off (retention_days is 0); nothing deleted")
        raise typer.Exit()
    engine = create_db_engine(settings.database_url)
    try:
        report = purge(engine, utcnow() - timedelta(days=period))
    finally:
        engine.dispose()
    typer.echo(f"deleted {report.cases} cases and {report.people} people")


@keys_app.command("rotate")
def keys_rotate(config: ConfigOption = None) -> None:
    """Re-encrypt all stored data with the first key (put the new key first, keep the old)."""
    settings = admin_settings(config)
    engine = create_db_engine(settings.database_url)
    try:
        count = crypto.rotate(engine, list(Base.metadata.tables.values()))
    finally:
        engine.dispose()
    typer.echo(f"re-encrypted {count} values with the current key")


@cases_app.command("list")
def cases_list(
    config: ConfigOption = None,
    status: Annotated[str | None, typer.Option(help="Only this status, e.g. submitted.")] = None,
) -> None:
    """Cases without their content: id, kind, status, urgency level (flows/triage.yaml),
    whether the team verified it, person asked for, times. Most urgent first, then the oldest.
    (`cases show` reads one, and is audited.)"""
    from sqlalchemy import case, select

    from storage.models import Case

    settings = admin_settings(config)
    engine = create_db_engine(settings.database_url)
    rank = case({"spoed": 0, "hoog": 1}, value=Case.urgency, else_=2)
    query = select(Case.id, Case.kind, Case.status, Case.urgency, Case.verified_at,
                   Case.human_requested, Case.created_at, Case.submitted_at
                   ).order_by(rank, Case.id)
    if status:
        query = query.where(Case.status == status)
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    typer.echo(f"{'id':>6}  {'kind':<9} {'status':<10} {'urgency':<8} {'verified':<8} "
               f"{'person':<6} {'created (UTC)':<16} submitted (UTC)")
    for case_id, kind, case_status, urgency, verified, human, created, submitted in rows:
        typer.echo(f"{case_id:>6}  {kind:<9} {case_status:<10} {urgency.upper():<8} "
                   f"{'ja' if verified else '-':<8} {'ja' if human else '-':<6} "
                   f"{created:%Y-%m-%d %H:%M} "
                   f"{f'{submitted:%Y-%m-%d %H:%M}' if submitted else '-'}")
    typer.echo(f"{len(rows)} case{'' if len(rows) == 1 else 's'}")


@cases_app.command("show")
def cases_show(
    case_id: Annotated[int, typer.Argument(help="The case number.")],
    reader: Annotated[str, typer.Option("--as", help="Your name, for the audit log.")],
    config: ConfigOption = None,
) -> None:
    """One case with its intake, handoffs, notes and times. The read is written to the audit
    log under your name."""
    show_case(admin_settings(config), case_id, reader)


@stats_app.command("export")
def stats_export(
    csv_path: Annotated[Path, typer.Option("--csv", help="Where to write the counts.")],
    png_path: Annotated[Path | None, typer.Option("--png", help="A chart per month.")] = None,
    config: ConfigOption = None,
) -> None:
    """Counts per month by kind, incident type, how, role, aangifte and platform, and of
    accepted cases by time to accept and escalation; cells under 5 are shown as "<5" so that
    nobody can be recognised."""
    from bot.admin.stats import count_cells, write_chart, write_csv

    settings = admin_settings(config)
    engine = create_db_engine(settings.database_url)
    try:
        cells = count_cells(engine)
    finally:
        engine.dispose()
    write_csv(cells, csv_path)
    if png_path is not None:
        write_chart(cells, png_path)
    typer.echo(f"wrote {len(cells)} cells to {csv_path}" + (f" and {png_path}" if png_path else ""))


def main() -> None:
    app()


if __name__ == "__main__":
    main()

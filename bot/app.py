"""Wiring: settings -> database -> flows -> engine -> channels, and a clean stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine as DbEngine

from bot.adapters.console import ConsoleChannel
from bot.channel import Channel
from bot.checkins import CheckinDesk, CheckinSettings
from bot.conversation import ConversationLogic
from bot.engine import Engine
from bot.health import HealthServer
from bot.metrics import Metrics
from bot.quiet_hours import SendingHours
from bot.roster_watch import RosterWatcher
from bot.routing import Router, RoutingSettings
from bot.scheduler import (
    CheckinTimer,
    build_scheduler,
    schedule_retention,
    set_checkin_sink,
)
from config import TEXT_PLACEHOLDERS, Settings
from config.experts import Roster, RosterError, load_roster
from flows import FlowSet, load_flows
from storage import crypto
from storage.database import create_db_engine, read_only, upgrade_database

log = logging.getLogger(__name__)

# The console is the operator's own terminal (or a script): no flood limit there.
TRUSTED_CHANNELS = frozenset({"console"})


def log_destination(settings: Settings) -> Path | None:
    """Where logs go: the configured file; else a file in the data dir when a person chats on
    the console in a terminal; else stderr (``None``)."""
    if settings.log_file is not None:
        return settings.log_file
    if "console" in settings.enabled_channels and sys.stderr.isatty():
        return settings.data_dir / "weerbaar.log"
    return None


def configure_logging(settings: Settings) -> None:
    """Logs carry ids and events only, never what a person wrote. structlog renders every
    record, as readable lines or, with ``log_format: json``, one JSON object a line."""
    destination = log_destination(settings)
    if destination is not None:
        destination.parent.mkdir(parents=True, exist_ok=True)
    renderer: Any = (structlog.processors.JSONRenderer() if settings.log_format == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    )
    handler: logging.Handler = (logging.FileHandler(destination, encoding="utf-8")
                                if destination is not None else logging.StreamHandler())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    quiet = max(logging.WARNING, logging.getLevelName(settings.log_level))
    for noisy in ("alembic", "httpx", "sqlalchemy", "apscheduler", "nio", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(quiet)


def build_channels(settings: Settings, flows: FlowSet) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for name in settings.enabled_channels:
        if name == "console":
            channels[name] = ConsoleChannel(user=settings.console_user)
        elif name == "telegram":
            channels[name] = telegram_channel(settings, flows)
        elif name == "matrix":
            channels[name] = matrix_channel(settings)
    return channels


def matrix_channel(settings: Settings) -> Channel:
    from bot.adapters.matrix import MatrixChannel

    assert settings.matrix_homeserver is not None and settings.matrix_user_id is not None
    password, token = settings.matrix_password, settings.matrix_access_token
    return MatrixChannel(settings.matrix_homeserver, settings.matrix_user_id,
                         settings.data_dir / "matrix",
                         password=password.get_secret_value() if password else None,
                         access_token=token.get_secret_value() if token else None,
                         device_name=settings.matrix_device_name,
                         encryption=settings.matrix_encryption)


def telegram_channel(settings: Settings, flows: FlowSet) -> Channel:
    from bot.adapters.telegram import TelegramChannel, Webhook

    assert settings.telegram_token is not None
    webhook = None
    if settings.telegram_webhook_url:
        secret = settings.telegram_webhook_secret
        webhook = Webhook(url=settings.telegram_webhook_url,
                          listen=settings.telegram_webhook_listen,
                          port=settings.telegram_webhook_port,
                          secret=secret.get_secret_value() if secret else None)
    menus = {str(language): [(c.command, c.description) for c in commands]
             for language, commands in flows.system.command_menu.items()}
    return TelegramChannel(settings.telegram_token.get_secret_value(),
                           base_url=settings.telegram_base_url,
                           base_file_url=settings.telegram_base_file_url,
                           poll_timeout=settings.telegram_poll_timeout_seconds,
                           webhook=webhook, menus=menus)


def configure_encryption(settings: Settings) -> None:
    crypto.configure(crypto.resolve_keys(
        [key.get_secret_value() for key in settings.encryption_keys],
        settings.encryption_key_file, settings.data_dir))


def load_experts(settings: Settings) -> Roster:
    """The roster, checked against the channels that run: an expert on a channel that is not
    enabled could never be reached."""
    roster = load_roster(settings.experts_file)
    for expert in roster.experts:
        if expert.channel not in settings.enabled_channels:
            raise RosterError(f"expert {expert.id!r} is on channel {expert.channel!r}, which "
                              "is not enabled")
    return roster


def watch_roster(settings: Settings, engine: Engine,
                 roster: Roster) -> asyncio.Task[None] | None:
    """Reload the experts file when it changes and on SIGHUP (see :mod:`bot.roster_watch`)."""
    loop = asyncio.get_running_loop()
    if settings.experts_file is None:
        loop.add_signal_handler(signal.SIGHUP, lambda: log.warning(
            "experts.reload_skipped reason=no experts file configured"))
        return None
    watcher = RosterWatcher(settings.experts_file, lambda: load_experts(settings),
                            engine.use_roster, roster, settings.experts_reload_seconds)
    loop.add_signal_handler(signal.SIGHUP, watcher.request)
    return asyncio.create_task(watcher.run(), name="weerbaar-roster")


def start_scheduler(engine: Engine, db: DbEngine) -> AsyncIOScheduler:
    """Start APScheduler with its jobs in ``db`` and connect it to the running engine: it
    wakes the engine when the next check-in falls due (at once for overdue ones)."""
    scheduler = build_scheduler(db)
    timer = CheckinTimer(scheduler)
    engine.on_schedule(timer.wake_at)
    set_checkin_sink(engine.checkins_due)
    scheduler.start()
    timer.reconcile(db)
    return scheduler


def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    scheduler.shutdown(wait=True)
    set_checkin_sink(None)


async def run(settings: Settings) -> int:
    roster = load_experts(settings)
    configure_encryption(settings)
    if settings.auto_migrate:
        upgrade_database(settings.database_url)
    db = create_db_engine(settings.database_url)
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    facts = settings.text_facts()
    logic = ConversationLogic(flows, facts)
    metrics = Metrics()
    metrics.watch_cases(read_only(db))
    router = Router(roster, flows, facts, RoutingSettings(
        urgent_seconds=settings.escalation_urgent_seconds,
        normal_seconds=settings.escalation_seconds,
        urgent_ask_count=settings.urgent_ask_count), metrics)
    log.info("experts.loaded count=%d", len(roster.experts))
    checkins = CheckinDesk(CheckinSettings(
        plans=settings.checkin_plans,
        hours=SendingHours.parse(settings.checkin_hours, settings.checkin_days),
        grace=timedelta(seconds=settings.checkin_grace_seconds)), logic, metrics)
    engine = Engine(db, logic, default_language=settings.default_language,
                    batch_max_turns=settings.batch_max_turns,
                    max_backoff_seconds=settings.delivery_max_backoff_seconds,
                    flood_limit=settings.flood_limit or None, metrics=metrics,
                    flood_exempt=TRUSTED_CHANNELS, router=router, checkins=checkins,
                    checkin_rate_per_second=settings.checkin_rate_per_second)
    channels = build_channels(settings, flows)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    health = None
    if settings.health_port is not None:
        health = HealthServer(db, channels, metrics, settings.health_listen, settings.health_port)
        await health.start()
    gc.freeze()  # start-up objects live for good: spare them from every full collection
    await engine.start(channels)
    scheduler = start_scheduler(engine, db)
    schedule_retention(scheduler, settings.database_url, settings.retention_days)
    for channel in channels.values():
        await channel.start(engine.handle)
    watcher = watch_roster(settings, engine, roster)
    log.info("bot.started channels=%s", ",".join(channels))
    async def all_closed() -> None:
        await asyncio.gather(*(c.wait_closed() for c in channels.values()))

    async def stop_signal() -> None:
        await stop_requested.wait()

    waiters = {asyncio.create_task(all_closed()), asyncio.create_task(stop_signal())}
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    log.info("bot.stopping")
    for channel in channels.values():
        await channel.stop()
    stop_scheduler(scheduler)
    if health is not None:
        await health.stop()
    for waiter in waiters:
        waiter.cancel()
    if watcher is not None:
        watcher.cancel()
    await engine.stop()
    db.dispose()
    log.info("bot.stopped")
    return 0

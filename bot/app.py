"""Wiring: settings -> database -> flows -> engine -> channels, and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import pkgutil
import signal
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine as DbEngine
from sqlalchemy.engine import make_url

from bot.channel import Channel, ChannelStartError, InboundHandler
from bot.channel_setup import ChannelFactory, sms_pager
from bot.checkins import CheckinDesk, CheckinSettings
from bot.conversation import ConversationLogic
from bot.desk.links import DeskLinks
from bot.engine import Engine
from bot.health import HealthServer
from bot.metrics import Metrics
from bot.roster_watch import LiveRoster, RosterWatcher
from bot.routing import Router, RoutingSettings
from bot.scheduler import (
    CheckinTimer,
    build_scheduler,
    schedule_retention,
    set_checkin_sink,
)
from bot.turns import BatchHooks
from config import TEXT_PLACEHOLDERS, Settings
from config.channels import CHANNELS, TRUSTED_CHANNELS
from config.experts import Roster, RosterError, load_roster
from config.sending_hours import SendingHours
from flows import FlowSet, load_flows
from storage import crypto
from storage.database import create_db_engine, is_sqlite, read_only, upgrade_database
from storage.keycheck import verify_keys

if TYPE_CHECKING:
    from bot.adapters.sms import SmsChannel
    from bot.desk.server import DeskServer

log = logging.getLogger(__name__)

def build_channels(settings: Settings, flows: FlowSet, metrics: Metrics | None = None,
                   names: Sequence[str] | None = None) -> dict[str, Channel]:
    """The enabled channels (or those of them in ``names``), each built by the factory its
    entry in ``config.channels`` names."""
    metrics = metrics or Metrics()
    channels: dict[str, Channel] = {}
    for name in settings.enabled_channels if names is None else names:
        kind = CHANNELS[name]
        factory: ChannelFactory = pkgutil.resolve_name(kind.factory)
        channels[name] = factory(kind.own_settings(settings), settings, flows, metrics)
    return channels


def configure_encryption(settings: Settings) -> None:
    crypto.configure(crypto.resolve_keys(
        [key.get_secret_value() for key in settings.encryption_keys],
        settings.encryption_key_file, settings.data_dir))
    if key_beside_database(settings) and set(settings.enabled_channels) - TRUSTED_CHANNELS:
        log.warning("encryption.key_beside_database: whoever copies the data directory (a "
                    "backup) can read it; give the key in WEERBAAR_ENCRYPTION_KEYS or a key "
                    "file elsewhere (docs/DEPLOYMENT.md)")


def key_beside_database(settings: Settings) -> bool:
    """Whether the key file is in the same directory as the SQLite database file."""
    if settings.encryption_keys or not is_sqlite(settings.database_url):
        return False
    database = make_url(settings.database_url).database
    key_file = settings.encryption_key_file or settings.data_dir / "encryption.key"
    return bool(database) and Path(str(database)).resolve().parent == key_file.resolve().parent


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
                 live: LiveRoster) -> asyncio.Task[None] | None:
    """Reload the experts file when it changes and on SIGHUP (see :mod:`bot.roster_watch`);
    ``live`` then holds the new roster and tells its listeners."""
    loop = asyncio.get_running_loop()
    if settings.experts_file is None:
        loop.add_signal_handler(signal.SIGHUP, lambda: log.warning(
            "experts.reload_skipped reason=no experts file configured"))
        return None

    async def use(changed: Roster) -> None:
        live.changed(changed)
        await engine.use_roster(changed)

    watcher = RosterWatcher(settings.experts_file, lambda: load_experts(settings),
                            use, live.roster, settings.experts_reload_seconds)
    loop.add_signal_handler(signal.SIGHUP, watcher.request)
    live.reload_with(watcher.request)
    return asyncio.create_task(watcher.run(), name="weerbaar-roster")


def build_desk(settings: Settings, db: DbEngine, flows: FlowSet, live: LiveRoster,
               ) -> DeskServer | None:
    """The coordinators' web desk, when a port is set (its libraries load only then)."""
    links = desk_links(settings)
    if links is None or settings.desk_port is None:
        return None
    from bot.desk.app import Desk, desk_app
    from bot.desk.server import DeskServer

    desk = Desk(db=db, roster=live, flows=flows, facts=settings.text_facts(), links=links,
                experts_file=settings.experts_file, session_hours=settings.desk_session_hours,
                roster_saved=live.saved)
    return DeskServer(desk_app(desk), settings.desk_listen, settings.desk_port)


def build_pager(settings: Settings, metrics: Metrics, live: LiveRoster) -> SmsChannel | None:
    """The SMS pager, when configured, with the numbers of the live roster."""
    pager = sms_pager(settings, metrics)
    if pager is not None:
        pager.use_numbers(live.roster.pager_numbers())
        live.on_change(lambda changed: pager.use_numbers(changed.pager_numbers()))
    return pager


def start_scheduler(engine: Engine, db: DbEngine, settings: Settings | None = None,
                    ) -> AsyncIOScheduler:
    """Start APScheduler with its jobs in ``db`` and connect it to the running engine: it
    wakes the engine when the next check-in falls due (at once for overdue ones). With
    ``settings``, the nightly purge is scheduled too (and run now if one was missed)."""
    scheduler = build_scheduler(db)
    timer = CheckinTimer(scheduler)
    engine.on_schedule(timer.wake_at)
    set_checkin_sink(engine.checkins_due)
    scheduler.start()
    if settings is not None:
        schedule_retention(scheduler, settings.database_url, settings.retention_days)
    timer.reconcile(db)
    return scheduler


def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    scheduler.shutdown(wait=True)
    set_checkin_sink(None)


def open_database(settings: Settings) -> DbEngine:
    """Keys, schema and the check that the keys read this database; refuses to go on
    otherwise (:class:`crypto.EncryptionKeyError`), before anything is stored."""
    configure_encryption(settings)
    if settings.auto_migrate:
        upgrade_database(settings.database_url)
    db = create_db_engine(settings.database_url)
    try:
        verify_keys(db)
    except Exception:
        db.dispose()
        raise
    return db


def desk_links(settings: Settings) -> DeskLinks | None:
    address = settings.desk_address
    if address is None or settings.desk_secret is None:
        return None
    return DeskLinks(address, settings.desk_secret.get_secret_value())


def build_engine(settings: Settings, db: DbEngine, flows: FlowSet, roster: Roster,
                 metrics: Metrics, hooks: BatchHooks | None = None) -> Engine:
    facts = settings.text_facts()
    logic = ConversationLogic(flows, facts, quick_exit=settings.quick_exit_words)
    router = Router(roster, flows, facts, RoutingSettings(
        urgent_seconds=settings.escalation_urgent_seconds,
        normal_seconds=settings.escalation_seconds,
        urgent_ask_count=settings.urgent_ask_count,
        high_seconds=settings.escalation_high_seconds,
        high_ask_count=settings.high_ask_count,
        first_contact_seconds=settings.first_contact_seconds,
        paging=settings.sms_provider is not None, desk=desk_links(settings)), metrics)
    log.info("experts.loaded count=%d", len(roster.experts))
    checkins = CheckinDesk(CheckinSettings(
        plans=settings.checkin_plans,
        hours=SendingHours.parse(settings.checkin_hours, settings.checkin_days),
        grace=timedelta(seconds=settings.checkin_grace_seconds)), logic, metrics)
    return Engine(db, logic, default_language=settings.default_language,
                  batch_max_turns=settings.batch_max_turns,
                  max_backoff_seconds=settings.delivery_max_backoff_seconds,
                  flood_limit=settings.flood_limit or None, metrics=metrics,
                  flood_exempt=TRUSTED_CHANNELS, router=router, checkins=checkins,
                  checkin_rate_per_second=settings.checkin_rate_per_second, hooks=hooks)


async def start_channels(channels: Mapping[str, Channel], handler: InboundHandler) -> None:
    for name, channel in channels.items():
        try:
            await channel.start(handler)
        except ChannelStartError as exc:
            hint = CHANNELS[name].credentials
            raise ChannelStartError(f"{exc} (check {hint})") from None


async def run(settings: Settings) -> int:
    if settings.replicated:
        from bot.cluster.replica import run_replica

        return await run_replica(settings)
    roster = load_experts(settings)
    db = open_database(settings)
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    metrics = Metrics()
    metrics.watch_cases(read_only(db))
    engine = build_engine(settings, db, flows, roster, metrics)
    channels = build_channels(settings, flows, metrics)
    live = LiveRoster(roster)
    pager = build_pager(settings, metrics, live)
    desk = build_desk(settings, db, flows, live)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    health = None
    if settings.health_port is not None:
        health = HealthServer(db, channels, metrics, settings.health_listen, settings.health_port,
                              turns_ok=engine.healthy)
        await health.start()
    if desk is not None:
        await desk.start()
    gc.freeze()  # start-up objects live for good: spare them from every full collection
    await engine.start({**channels, **({pager.name: pager} if pager else {})})
    scheduler = start_scheduler(engine, db, settings)
    watcher: asyncio.Task[None] | None = None
    waiters: set[asyncio.Task[None]] = set()
    try:
        await start_channels(channels, engine.handle)
        watcher = watch_roster(settings, engine, live)
        log.info("bot.started channels=%s", ",".join(channels))

        async def all_closed() -> None:
            await asyncio.gather(*(c.wait_closed() for c in channels.values()))

        async def stop_signal() -> None:
            await stop_requested.wait()

        waiters = {asyncio.create_task(all_closed()), asyncio.create_task(stop_signal())}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        log.info("bot.stopping")
        for channel in channels.values():
            with contextlib.suppress(Exception):
                await channel.stop()
        stop_scheduler(scheduler)
        if health is not None:
            await health.stop()
        if desk is not None:
            await desk.stop()
        for waiter in waiters:
            waiter.cancel()
        if watcher is not None:
            watcher.cancel()
        await engine.stop()
        db.dispose()
        log.info("bot.stopped")
    return 0

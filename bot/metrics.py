"""Prometheus metrics of the running bot, and the counters the engine updates.

Cases by status are counted from the database when Prometheus scrapes, so the figure is right
after a restart too.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from storage.models import Case


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.messages = Counter("weerbaar_messages", "Messages handled, per channel and direction",
                                ["channel", "direction"], registry=self.registry)
        self.delivery_failures = Counter(
            "weerbaar_delivery_failures", "Failed delivery attempts (channel errors)",
            ["channel", "permanent"], registry=self.registry)
        self.floods = Counter("weerbaar_flood_held_back", "Messages held back by the flood limit",
                              ["channel"], registry=self.registry)
        self.turn_seconds = Histogram(
            "weerbaar_turn_seconds", "From a message reaching the engine to its replies sent",
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry)
        self.time_to_accept = Histogram(
            "weerbaar_time_to_accept_seconds", "From the first expert asked to an accept",
            buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600),
            registry=self.registry)
        self.handoffs = Counter("weerbaar_handoffs", "Experts asked to take a case, by urgency",
                                ["urgent"], registry=self.registry)
        self.escalations = Counter(
            "weerbaar_escalations", "Cases moved on because nobody accepted in time, by step",
            ["to"], registry=self.registry)
        self.unreadable_updates = Counter(
            "weerbaar_inbound_unreadable", "Updates from a platform that could not be read "
            "(skipped and confirmed, so they do not come back)", ["channel"],
            registry=self.registry)
        self.turns_not_stored = Counter(
            "weerbaar_turns_not_stored", "Messages that could not be stored (the person was "
            "told; the channel hands them in again)", registry=self.registry)
        self.wiped = Counter(
            "weerbaar_chat_messages_wiped", "Messages removed from a person's chat at their "
            "request (wis / the quick exit word)", ["channel"], registry=self.registry)
        self.wipe_left = Counter(
            "weerbaar_chat_messages_not_wiped", "Messages a wipe could not remove (too old for "
            "the platform, or not the bot's to remove); the person was told", ["channel"],
            registry=self.registry)
        self.checkins = Counter(
            "weerbaar_checkins", "Due check-ins by outcome: sent, postponed (quiet hours, person "
            "busy, expert on the case), skipped (later than the grace), failed (not handled; "
            "retried)", ["outcome"], registry=self.registry)

        self.pages = Counter(
            "weerbaar_pages", "Attempts to page an expert by SMS, by result (a failed one is "
            "retried)", ["result"], registry=self.registry)

    def watch_cases(self, db: Engine) -> None:
        self.registry.register(_CasesByStatus(db))


    def watch_queue(self, db: Engine) -> None:
        """Jobs waiting in the shared queue (replicas on PostgreSQL), read at each scrape."""
        self.registry.register(_WaitingJobs(db))


class _WaitingJobs(Collector):
    def __init__(self, db: Engine) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.cluster.queue import waiting_jobs

        with self.db.connect() as connection:
            count, age = waiting_jobs(connection)
        yield GaugeMetricFamily("weerbaar_queue_waiting_jobs",
                                "Jobs in the shared queue that no worker has begun", value=count)
        yield GaugeMetricFamily("weerbaar_queue_oldest_waiting_seconds",
                                "How long the oldest waiting job has waited", value=age)


class _CasesByStatus(Collector):
    def __init__(self, db: Engine) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("weerbaar_cases", "Cases by status", labels=["status"])
        with self.db.connect() as connection:
            for status, count in connection.execute(
                    select(Case.status, func.count()).group_by(Case.status)):
                family.add_metric([status], count)
        yield family

"""Settings of a replica: several bot processes on one PostgreSQL database (see
docs/DEPLOYMENT.md, "Several replicas"). Without ``roles`` the bot is one process, as on
SQLite; with them it is one replica of several, sharing the work through the database."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

Role = Literal["ingress", "worker", "matrix"]
ROLES: tuple[Role, ...] = ("ingress", "worker", "matrix")


class ClusterSettings(BaseModel):
    roles: Annotated[list[Role], NoDecode] = Field(
        default_factory=list,
        description="What this process does as one replica of several on PostgreSQL, "
                    "comma-separated: ingress (takes Telegram webhook calls and stores them), "
                    "worker (runs turns, deliveries and timers from the shared queue), matrix "
                    "(runs the Matrix sync while it holds the lease; one replica at a time). "
                    "Empty (the default): one process doing everything, as on SQLite.")
    workers: int = Field(
        default=16, ge=1, le=1000,
        description="Jobs (turns, deliveries) one replica works on at once; their database "
                    "work goes through the replica's one database thread, in batches.")
    replica_name: str | None = Field(
        default=None, max_length=100,
        description="Name of this replica in /healthz and the log; default: host and process.")
    replica_heartbeat_seconds: float = Field(
        default=2.0, gt=0, le=60,
        description="How often a replica says in the database that it is alive.")
    replica_stalled_seconds: float = Field(
        default=10.0, gt=0, le=600,
        description="A replica silent this long is taken for dead: its unfinished jobs are "
                    "given to the others (its Matrix lease goes at once, with its connection).")

    @field_validator("roles")
    @classmethod
    def _each_once(cls, value: list[Role]) -> list[Role]:
        return sorted(set(value), key=ROLES.index)

    @property
    def replicated(self) -> bool:
        """Whether this process is one replica of several (``roles`` set)."""
        return bool(self.roles)

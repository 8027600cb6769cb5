"""Several replicas of the bot as processes (`python run_bot.py`) on one PostgreSQL schema,
with only WEERBAAR_* settings, as an operator starts them."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.bot_process import free_port, start_bot
from tests.conftest import TEST_KEY
from tests.telegram_api import FakeTelegram

WEBHOOK_SECRET = "replica-test-secret"


def common_env(telegram: FakeTelegram, database_url: str, experts: Path) -> dict[str, str]:
    return {"WEERBAAR_CHANNELS": "telegram", "WEERBAAR_TELEGRAM_TOKEN": telegram.token,
            "WEERBAAR_TELEGRAM_BASE_URL": telegram.base_url,
            "WEERBAAR_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
            "WEERBAAR_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEERBAAR_DATABASE_URL": database_url, "WEERBAAR_ENCRYPTION_KEYS": TEST_KEY,
            "WEERBAAR_EXPERTS_FILE": str(experts), "WEERBAAR_FLOOD_LIMIT": "",
            "WEERBAAR_REPLICA_HEARTBEAT_SECONDS": "0.5",
            "WEERBAAR_REPLICA_STALLED_SECONDS": "3"}


@dataclass
class ReplicaProcess:
    name: str
    env: dict[str, str]
    webhook_port: int
    health_port: int
    process: asyncio.subprocess.Process | None = None
    kills: int = 0
    logs: list[str] = field(default_factory=list)  # of each run that was killed

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def health(self) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.health_port}/healthz", timeout=2) as response:
                body: dict[str, object] = json.loads(response.read())
                return body
        except Exception:
            return None


@dataclass
class ReplicaSet:
    data_dir: Path
    common: dict[str, str]
    replicas: list[ReplicaProcess] = field(default_factory=list)

    def add(self, name: str, roles: str, **env: str) -> ReplicaProcess:
        webhook, health = free_port(), free_port()
        replica = ReplicaProcess(name, {
            **self.common, "WEERBAAR_ROLES": roles, "WEERBAAR_REPLICA_NAME": name,
            "WEERBAAR_TELEGRAM_WEBHOOK_PORT": str(webhook),
            "WEERBAAR_HEALTH_PORT": str(health), **env}, webhook, health)
        self.replicas.append(replica)
        return replica

    async def start(self, replica: ReplicaProcess, within: float = 60) -> None:
        replica.process = await start_bot(self.data_dir, **replica.env)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while replica.health() is None:
            if replica.process.returncode is not None:
                _, err = await replica.process.communicate()
                raise AssertionError(f"{replica.name} stopped: {err.decode()[-2000:]}")
            if loop.time() > deadline:
                raise AssertionError(f"{replica.name} did not start")
            await asyncio.sleep(0.1)

    async def kill(self, replica: ReplicaProcess) -> None:
        assert replica.process is not None
        replica.process.kill()  # SIGKILL
        _, err = await replica.process.communicate()
        replica.logs.append(err.decode())
        replica.kills += 1

    def ingress_ports(self) -> list[int]:
        return [r.webhook_port for r in self.replicas
                if r.running and "ingress" in r.env["WEERBAAR_ROLES"]]

    async def stop_all(self) -> list[tuple[str, int, str]]:
        """SIGTERM to each running replica; (name, exit code, log) of each."""
        results: list[tuple[str, int, str]] = []
        for replica in self.replicas:
            if replica.process is None or replica.process.returncode is not None:
                continue
            replica.process.terminate()
            _, err = await asyncio.wait_for(replica.process.communicate(), timeout=30)
            assert replica.process.returncode is not None
            results.append((replica.name, replica.process.returncode, err.decode()))
        return results

    async def kill_all(self) -> None:
        for replica in self.replicas:
            if replica.running:
                await self.kill(replica)

"""A real Synapse homeserver on loopback for the Matrix tests: generated offline (no
federation, no key servers), rate limits raised, users registered with the shared secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SERVER_NAME = "localhost"
_HIGH = {"per_second": 1000, "burst_count": 1000}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Synapse:
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
             "--config-path", "hs.yaml", "--generate-config", "--report-stats=no"],
            cwd=self.directory, check=True, capture_output=True, timeout=120)
        path = self.directory / "hs.yaml"
        config: dict[str, Any] = yaml.safe_load(path.read_text())
        config["listeners"] = [{
            "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
            "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}]
        config["trusted_key_servers"] = []
        config["suppress_key_server_warning"] = True
        config["enable_registration"] = False
        config["presence"] = {"enabled": False}
        config["federation_domain_whitelist"] = []
        for key in ("rc_message", "rc_registration", "rc_admin_redaction",
                    "rc_3pid_validation", "rc_media_create", "rc_delayed_event_mgmt"):
            config[key] = dict(_HIGH)
        config["rc_login"] = {"address": _HIGH, "account": _HIGH, "failed_attempts": _HIGH}
        config["rc_joins"] = {"local": _HIGH, "remote": _HIGH}
        config["rc_invites"] = {"per_room": _HIGH, "per_user": _HIGH, "per_issuer": _HIGH}
        config["rc_key_requests"] = dict(_HIGH)
        path.write_text(yaml.safe_dump(config))
        log_config = self.directory / f"{SERVER_NAME}.log.config"
        log_config.write_text(log_config.read_text().replace("level: INFO", "level: WARNING"))

    def start(self, within: float = 60.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", "hs.yaml"],
            cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited with {self.process.returncode}; "
                                   f"see {self.directory}/homeserver.log")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError("synapse did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def register(self, name: str, password: str) -> str:
        """Register a user with the shared secret; returns the user id."""
        config = yaml.safe_load((self.directory / "hs.yaml").read_text())
        secret = str(config["registration_shared_secret"]).encode()
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as response:
            nonce = json.load(response)["nonce"]
        signed = b"\x00".join(p.encode() for p in (nonce, name, password, "notadmin"))
        mac = hmac.new(secret, signed, hashlib.sha1).hexdigest()
        body = json.dumps({"nonce": nonce, "username": name, "password": password,
                           "admin": False, "mac": mac}).encode()
        request = urllib.request.Request(endpoint, data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            user_id: str = json.load(response)["user_id"]
        return user_id


def start_synapse(directory: Path) -> Synapse:
    server = Synapse(directory, _free_port())
    server.configure()
    server.start()
    return server

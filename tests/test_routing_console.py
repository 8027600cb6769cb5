"""Routing on the console, as a new user would try it: the bot as a process, the example
experts file, everyone typing in one terminal ("@anna: ..."), and a shortened escalation."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.routing_support import INCIDENT_SUBMITTED
from tests.test_console import ROOT, _env


def test_two_experts_and_a_coordinator_on_the_console(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "run_bot.py"], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        env=_env(tmp_path, WEERBAAR_EXPERTS_FILE=str(ROOT / "config" / "experts.example.yaml"),
                 WEERBAAR_ESCALATION_SECONDS="1.5"))
    assert process.stdin is not None
    try:
        for line in [*INCIDENT_SUBMITTED, "@anna: afwijzen 1"]:
            process.stdin.write(line + "\n")
        process.stdin.flush()
        time.sleep(4.5)  # Bert never answers: the coordinator is asked after 1.5 s
        for line in ["@carla: aannemen 1", "@carla: Goedemiddag, met Carla.",
                     "Dank u, fijn dat u er bent.", "@carla: sluit 1 advies"]:
            process.stdin.write(line + "\n")
        process.stdin.close()
        output = process.stdout.read() if process.stdout else ""
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    assert "[@anna] Nieuwe zaak #1" in output
    assert "[@anna] U heeft zaak #1 afgewezen" in output
    assert "[@bert] Nieuwe zaak #1" in output
    assert "[@carla] Nieuwe zaak #1" in output
    assert "coördinator van het team gevraagd" in output
    assert output.index("[@bert] Nieuwe zaak #1") < output.index("[@carla] Nieuwe zaak #1")
    assert "Carla (coördinator) gaat u helpen." in output
    assert "[@bert] Zaak #1 is al aangenomen door een collega" in output
    assert "Carla:\nGoedemiddag, met Carla." in output
    assert "[@carla] [#1] Dank u, fijn dat u er bent." in output
    assert "Carla heeft het gesprek afgesloten" in output

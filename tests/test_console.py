"""The console channel as a new user runs it: `python run_bot.py`, typed or piped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.intake import INCIDENT, intake

pytestmark = pytest.mark.slow  # starts the bot as a process

ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEERBAAR_")}
    env.update(WEERBAAR_DATA_DIR=str(data_dir), **extra)
    return env


def run_bot(lines: list[str], data_dir: Path, *args: str,
            **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run_bot.py", *args], cwd=ROOT, input="\n".join(lines) + "\n",
        capture_output=True, text=True, timeout=60, env=_env(data_dir, **env), check=False,
    )


ANSWERS = {"role": "raadslid", "org_type": "1", "org_name": "Gemeente Ergenshuizen",
           "what": "bedreiging", "description": "Hij schreef dat hij mijn huis in brand steekt.",
           "when": "gisteren", "ongoing": "ja", "how": "2", "perpetrator": "nee", "family": "ja",
           "internal": "nee", "aangifte": "ja", "help_wanted": "1 3", "contact": "1"}
INTAKE = intake("incident", ANSWERS)


def test_a_whole_intake_through_a_pipe(tmp_path: Path) -> None:
    result = run_bot(INTAKE, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Welkom.")
    assert "  1. Een incident melden" in out, "options are numbered"
    assert "Bel direct 112" in out, "the threat to burn the house raises the alarm"
    assert "• Gewenste hulp: Juridische hulp, Nazorg en steun" in out
    assert "Uw melding is doorgegeven" in out
    assert (tmp_path / "data" / "weerbaar.db").exists(), "the default: a SQLite file in data/"
    assert (tmp_path / "data").stat().st_mode & 0o077 == 0, "only the bot's user can read it"


def test_a_long_script_is_not_taken_for_a_flood(tmp_path: Path) -> None:
    lines = ["hallo", "3", *(["1", "terug naar het begin", "3"] * 14)]
    result = run_bot(lines, tmp_path)
    assert result.returncode == 0
    assert "veel berichten" not in result.stdout
    assert result.stdout.count("Tips voor uw veiligheid") == 14


def test_a_closed_output_does_not_keep_the_bot_running(tmp_path: Path) -> None:
    env = _env(tmp_path)
    result = subprocess.run(
        f"printf 'hallo\\n1\\nnee\\n' | {sys.executable} run_bot.py | head -n 2",
        shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
        check=False)
    assert result.stdout.startswith("Welkom.")


def test_resume_after_the_process_ends_and_starts_again(tmp_path: Path) -> None:
    first = run_bot(["hallo", "1", "nee"], tmp_path)
    assert first.stdout.rstrip().endswith("9. Iets anders")
    second = run_bot(["wethouder"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("Voor welke overheid doet u dit werk?")


def test_resume_after_the_process_is_killed_mid_intake(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "run_bot.py"], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=_env(tmp_path), bufsize=1,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for line in ["hallo", "1", "nee", "burgemeester"]:
            process.stdin.write(line + "\n")
        process.stdin.flush()
        seen = ""
        deadline = time.monotonic() + 30
        while "Voor welke overheid" not in seen and time.monotonic() < deadline:
            seen += process.stdout.readline()
        assert "Voor welke overheid" in seen
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
    again = run_bot(["provincie"], tmp_path)
    # The kill may land between printing the last question and recording it as delivered;
    # then that one question is shown again (at least once, never lost). Nothing earlier is.
    out = again.stdout
    if out.startswith("Voor welke overheid"):
        out = out.split("\n\n", 1)[1]
    assert out.startswith("Wat is de naam?"), again.stdout
    assert "Welkom" not in again.stdout and "Wat is uw functie?" not in again.stdout


def test_settings_from_a_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text(
        "default_language: en\n"
        "facts:\n"
        "  emergency_number: '112'\n"
        "  support_team_number: '070-000 00 00'\n",
        encoding="utf-8",
    )
    from_file = run_bot(["hello", "human"], tmp_path / "a", "--config", str(config))
    assert from_file.stdout.startswith("Welcome."), "language from the file"
    assert "070-000 00 00" in from_file.stdout, "facts from the file"
    overridden = run_bot(["hello", "human"], tmp_path / "b", "--config", str(config),
                         WEERBAAR_FACTS__SUPPORT_TEAM_NUMBER="070-111 11 11")
    assert "070-111 11 11" in overridden.stdout, "the environment wins over the file"
    via_env = run_bot(["hallo"], tmp_path / "c", WEERBAAR_CONFIG=str(config))
    assert via_env.stdout.startswith("Welcome.")


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--config", "/nonexistent.yaml"], {}, "configuration file not found"),
    ([], {"WEERBAAR_CHANNELS": "carrier-pigeon"}, "unknown channel"),
    ([], {"WEERBAAR_DEFAULT_LANGUAGE": "fr"}, "default_language"),
    ([], {"WEERBAAR_CHANNELS": "telegram"}, "needs telegram_token"),
    ([], {"WEERBAAR_CHANNELS": "matrix", "WEERBAAR_MATRIX_HOMESERVER": "http://127.0.0.1:1"},
     "needs matrix_homeserver and matrix_user_id"),
])
def test_a_bad_configuration_is_refused_clearly(tmp_path: Path, args: list[str],
                                                 env: dict[str, str], message: str) -> None:
    result = run_bot(["hallo"], tmp_path, *args, **env)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_refused_configuration_never_shows_a_secret(tmp_path: Path) -> None:
    result = run_bot(["hallo"], tmp_path, WEERBAAR_CHANNELS="matrix",
                     WEERBAAR_MATRIX_PASSWORD="hunter2-very-secret")
    assert result.returncode == 2
    assert "needs matrix_homeserver" in result.stderr
    assert "hunter2" not in result.stderr


def test_logs_can_be_json_lines(tmp_path: Path) -> None:
    result = run_bot(["hallo", "1"], tmp_path, WEERBAAR_LOG_FORMAT="json")
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    turns = [r for r in records if r["event"].startswith("turn flow=")]
    assert len(turns) == 2
    assert {"level", "logger", "timestamp"} <= set(turns[0])


def test_the_logs_never_hold_what_a_person_wrote(tmp_path: Path) -> None:
    secret_lines = ["Mijn adres is Kerkstraat 12 in Ergenshuizen",
                    "Mijn buurman Jansen bedreigt mijn dochter"]
    lines = intake("incident", {**ANSWERS, "org_name": secret_lines[0],
                                "description": secret_lines[1]})
    result = run_bot(lines, tmp_path, WEERBAAR_LOG_LEVEL="DEBUG")
    assert result.returncode == 0
    assert "turn flow=incident" in result.stderr, "the logs do carry events"
    for word in ("Kerkstraat", "Ergenshuizen", "Jansen", "dochter"):
        assert word not in result.stderr


def test_the_logs_of_a_relay_hold_no_words_of_person_or_expert(tmp_path: Path) -> None:
    secret = ["Mijn adres is Kerkstraat 12 in Ergenshuizen",
              "@anna: Ik bel u morgen over uw dochter Femke.",
              "Mijn buurman Jansen stond weer voor de deur.",
              "@anna: notitie 1 Jansen is bekend bij de wijkagent",
              "@anna: sluit 1 advies"]
    submitted = intake("incident", {**INCIDENT, "description": secret[0]})
    result = run_bot([*submitted, "@anna: aannemen 1", *secret[1:]], tmp_path,
                     WEERBAAR_LOG_LEVEL="DEBUG",
                     WEERBAAR_EXPERTS_FILE=str(ROOT / "config" / "experts.example.yaml"))
    assert result.returncode == 0, result.stderr
    assert "[@anna] [#1] Mijn buurman Jansen" in result.stdout, "the relay ran"
    assert ("relay" in result.stderr and "expert.accept" in result.stderr) or \
        "accept" in result.stderr, "the logs do carry events"
    for word in ("Kerkstraat", "Ergenshuizen", "Femke", "dochter", "Jansen", "wijkagent",
                 "buurman"):
        assert word not in result.stderr

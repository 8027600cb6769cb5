"""What the container image relies on, checked without a container engine (there is none on the
development machine): the `pip install .` step gives a working package, and the settings named in
the Containerfile exist."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from config import Settings

pytestmark = pytest.mark.slow  # builds the wheel and runs it in a process

ROOT = Path(__file__).resolve().parent.parent
CONTAINERFILE = ROOT / "Containerfile"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("weerbaar_bot-*.whl"))


def test_the_installed_package_holds_every_flow_migration_and_example(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [path.relative_to(ROOT).as_posix() for pattern in
                ("flows/*.yaml", "config/*.yaml", "storage/migrations/versions/*.py")
                for path in ROOT.glob(pattern)]
    expected += ["storage/alembic.ini", "storage/migrations/env.py"]
    assert len(expected) > 20
    assert [name for name in expected if name not in names] == []


def test_the_admin_command_line_upgrades_a_new_database_from_the_installed_package(
        wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import bot.admin.cli, sys; site = sys.argv.pop(1); "
            "assert bot.admin.cli.__file__.startswith(site), bot.admin.cli.__file__; "
            "bot.admin.cli.main()")
    env = {"PYTHONPATH": str(site), "WEERBAAR_DATA_DIR": str(tmp_path / "data"),
           "PATH": "/usr/bin:/bin"}
    # Run outside the source tree, so only the installed copy can be imported.
    done = subprocess.run([sys.executable, "-c", code, str(site), "db", "upgrade"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "data" / "weerbaar.db").stat().st_size > 0


def test_every_setting_the_containerfile_names_is_a_real_setting() -> None:
    text = CONTAINERFILE.read_text(encoding="utf-8")
    named = set(re.findall(r"\bWEERBAAR_([A-Z_]+)=", text))
    assert {"DATA_DIR", "HEALTH_PORT", "HEALTH_LISTEN"} <= named
    assert {name.lower() for name in named} <= set(Settings.model_fields)
    for copied in re.findall(r"^COPY (.+) \S+$", text, flags=re.MULTILINE):
        for source in copied.split():
            assert (ROOT / source).exists(), source
    port = re.search(r"WEERBAAR_HEALTH_PORT=(\d+)", text)
    assert port is not None and f"EXPOSE {port.group(1)}" in text
    assert f"127.0.0.1:{port.group(1)}/healthz" in text

"""The command line as an operator uses it: settings errors, migrate, invite, run, --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs `python bot.py ARGS` in an empty folder (no .env), with only the given settings."""
    clean = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = bot(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("run", "migrate", "invite", "simulate"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DATABASE_URL", "mysql://nope"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LOCALE", "fr"),
        ("BOT_API_BASE_URL", "ftp://example"),
        ("INVITE_TTL_DAYS", "zero"),
    ],
)
def test_invalid_setting_is_one_clear_line(tmp_path: Path, setting: str, value: str) -> None:
    result = bot(tmp_path, "migrate", **{setting: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {setting}:")
    assert "Traceback" not in result.stderr


def test_run_without_token_names_the_setting(tmp_path: Path) -> None:
    result = bot(tmp_path, "run", DATABASE_URL=sqlite(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("configuration error: BOT_TOKEN:")


def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Nowhere/Land\n")
    result = bot(tmp_path, "migrate")
    assert result.returncode == 2 and "TIMEZONE" in result.stderr


def test_unmigrated_database_is_refused(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    for args in (("run",), ("invite", "--role", "admin", "--area", "示范县")):
        result = bot(tmp_path, *args, DATABASE_URL=url, BOT_TOKEN="1:x")
        assert result.returncode == 2
        assert "python bot.py migrate" in result.stderr
        assert "Traceback" not in result.stderr


def test_migrate_then_invite_prints_link_code_and_validity(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0  # idempotent
    result = bot(
        tmp_path,
        "invite",
        "--role",
        "admin",
        "--area",
        "示范县",
        DATABASE_URL=url,
        BOT_USERNAME="@MyCareBot",
    )
    assert result.returncode == 0, result.stderr
    link = next(line for line in result.stdout.splitlines() if "t.me" in line)
    code = link.rsplit("=", 1)[1]
    assert link == f"invite link: https://t.me/MyCareBot?start={code}"
    assert len(code) >= 22  # at least 128 bits, URL-safe
    assert f"code: {code}" in result.stdout
    assert "valid until" in result.stdout


def test_invite_rejects_a_bad_area_or_a_director_above_village(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    bot(tmp_path, "migrate", DATABASE_URL=url)
    for area, role in (
        ("a/b/c/d", "admin"),
        ("示范县//东村", "volunteer"),
        ("示范县/城关镇", "director"),
    ):
        result = bot(tmp_path, "invite", "--role", role, "--area", area, DATABASE_URL=url)
        assert result.returncode == 2, result.stdout
        assert "invalid area" in result.stderr

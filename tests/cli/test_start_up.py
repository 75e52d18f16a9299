"""`touchpoint web` and `touchpoint migrate` refuse a bad production setting in one line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
_CONFIG = ("TOUCHPOINT_", "REDIS_", "DATABASE_", "SMTP_", "GOOGLE_", "SECRET_KEY")


def touchpoint(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """Run the command as an operator would, with only these settings."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG)}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env={**kept, "PYTHONPATH": str(ROOT), **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def production(tmp_path: Path, redis_url: str) -> dict[str, str]:
    return {
        "TOUCHPOINT_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "TOUCHPOINT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'touchpoint.db'}",
        "REDIS_URL": redis_url,
        "TOUCHPOINT_BASE_URL": "https://touchpoint.example",
    }


@pytest.mark.parametrize(
    "command", [("migrate",), ("web", "--port", "5999")], ids=["migrate", "web"]
)
@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("SECRET_KEY", "x", "touchpoint: SECRET_KEY is too weak"),
        ("SECRET_KEY", "a" * 64, "touchpoint: SECRET_KEY is too weak"),
        (
            "TOUCHPOINT_ENCRYPTION_KEYS",
            "not-a-key",
            "touchpoint: TOUCHPOINT_ENCRYPTION_KEYS: key 1",
        ),
        ("TOUCHPOINT_BASE_URL", "http://touchpoint.example", "touchpoint: TOUCHPOINT_BASE_URL"),
    ],
)
def test_a_bad_production_setting_stops_start_up_with_one_line_naming_it(
    production: dict[str, str], command: tuple[str, ...], setting: str, value: str, said: str
) -> None:
    ran = touchpoint(*command, **{**production, setting: value})

    assert ran.returncode == 2
    assert ran.stderr.startswith(said)
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert ran.stdout == ""


def test_migrate_starts_with_good_production_settings(production: dict[str, str]) -> None:
    ran = touchpoint("migrate", **production)

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "The database is up to date.\n"

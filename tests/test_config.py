"""What production refuses to start with, and the data directory kept for its owner alone."""

from __future__ import annotations

import logging
import secrets
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from service.config import ConfigError, Settings, finish, from_env

KEY = Fernet.generate_key().decode()


def production(**environ: str) -> dict[str, str]:
    """A production environment that starts, with these variables changed."""
    return {
        "TOUCHPOINT_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "TOUCHPOINT_ENCRYPTION_KEYS": KEY,
        "DATABASE_URL": "postgresql+psycopg://touchpoint@db/touchpoint",
        "TOUCHPOINT_BASE_URL": "https://touchpoint.example",
        **environ,
    }


def refusal(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as refused:
        finish(from_env(environ))
    return str(refused.value)


@pytest.mark.parametrize(
    "key",
    ["x", "a" * 64, "correct horse battery staple", "Summer2026!", "0123456789abcdef" * 2],
)
def test_production_refuses_a_guessable_secret_key_naming_it(key: str) -> None:
    message = refusal(production(SECRET_KEY=key))

    assert message.startswith("SECRET_KEY is too weak")
    assert "\n" not in message
    assert key not in message  # a refused key is still someone's secret


@pytest.mark.parametrize("key", [secrets.token_urlsafe(32), secrets.token_hex(32), KEY])
def test_production_starts_with_a_random_secret_key(key: str) -> None:
    assert finish(from_env(production(SECRET_KEY=key))).secret_key == key


@pytest.mark.parametrize("keys", ["not-a-key", f"{KEY},{KEY[:-2]}", "x" * 44])
def test_an_unusable_encryption_key_is_named_in_one_line(keys: str, tmp_path: Path) -> None:
    for environ in (
        production(TOUCHPOINT_ENCRYPTION_KEYS=keys),
        {"TOUCHPOINT_DATA_DIR": str(tmp_path)},
    ):
        message = refusal({**environ, "TOUCHPOINT_ENCRYPTION_KEYS": keys})

        assert message.startswith("TOUCHPOINT_ENCRYPTION_KEYS: key ")
        assert "is not a Fernet key" in message
        assert "\n" not in message


def test_spaces_around_encryption_keys_are_not_part_of_them() -> None:
    settings = finish(from_env(production(TOUCHPOINT_ENCRYPTION_KEYS=f" {KEY} , {KEY}")))

    assert settings.encryption_keys == (KEY, KEY)


def test_production_refuses_an_http_address_unless_allowed_for_a_private_network() -> None:
    plain = production(TOUCHPOINT_BASE_URL="http://touchpoint.internal")

    assert refusal(plain).startswith("TOUCHPOINT_BASE_URL must start with https://")
    assert "TOUCHPOINT_ALLOW_HTTP=true" in refusal(plain)
    assert finish(from_env({**plain, "TOUCHPOINT_ALLOW_HTTP": "true"})).allow_http


def test_production_refuses_the_default_laptop_address() -> None:
    environ = production()
    del environ["TOUCHPOINT_BASE_URL"]

    assert refusal(environ).startswith("TOUCHPOINT_BASE_URL must start with https://")


@pytest.mark.parametrize(("value", "hops"), [(None, 0), ("0", 0), ("2", 2)])
def test_proxy_hops_default_to_trusting_no_proxy(value: str | None, hops: int) -> None:
    environ = production() if value is None else production(TOUCHPOINT_PROXY_HOPS=value)

    assert from_env(environ).proxy_hops == hops


def test_a_bad_proxy_hop_count_is_named() -> None:
    message = refusal(production(TOUCHPOINT_PROXY_HOPS="one"))

    assert message.startswith("TOUCHPOINT_PROXY_HOPS must be a whole number")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_directory_and_its_secrets_are_the_owners_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"

    settings = finish(Settings(data_dir=data))

    assert mode(data) == 0o700
    assert settings.database_url.endswith(str(data / "touchpoint.db"))
    for name in ("secret_key", "encryption_key", "touchpoint.db"):
        assert mode(data / name) == 0o600, name


def test_an_open_data_directory_is_tightened_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    (data / "outbox").mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    (data / "outbox" / "link.eml").write_text("Subject: your link")
    (data / "outbox" / "link.eml").chmod(0o644)

    with caplog.at_level(logging.WARNING):
        finish(Settings(data_dir=data))

    assert (mode(data), mode(data / "outbox"), mode(data / "outbox" / "link.eml")) == (
        0o700,
        0o700,
        0o600,
    )
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith(f"{data} was open to other users of this machine")
    assert "3 entries" in warning


def test_a_private_data_directory_starts_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    finish(Settings(data_dir=tmp_path / "data"))

    with caplog.at_level(logging.WARNING):
        finish(Settings(data_dir=tmp_path / "data"))

    assert caplog.records == []

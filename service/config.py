"""The one place that reads the environment: strict, read once, errors that name the variable.

Every secret can also come from NAME_FILE (a container secret mounted as a file).
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from service.calendars.budget import DEFAULT, Budget
from service.data_dir import create_private_file, own_directory
from service.secret_strength import weakness

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_networks(text: str) -> tuple[Network, ...]:
    """Parse a comma or space separated list of CIDRs, such as "10.1.0.0/16, fd12::/48"."""
    return tuple(_parse_network(entry) for entry in re.split(r"[\s,]+", text.strip()) if entry)


def _parse_network(entry: str) -> Network:
    try:
        return ipaddress.ip_network(entry)
    except ValueError:
        pass
    try:
        hint = f"; did you mean {ipaddress.ip_network(entry, strict=False)}?"
    except ValueError:
        hint = "."
    raise ValueError(f"{entry!r} is not a network in CIDR form like 10.1.0.0/16{hint}")


class ConfigError(ValueError):
    """A setting is wrong; the message names the variable and what is expected."""


@dataclass(frozen=True, slots=True)
class Google:
    client_id: str = ""
    client_secret: str = ""
    auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    certs_uri: str = "https://www.googleapis.com/oauth2/v1/certs"
    api_endpoint: str = ""  # empty: Google's own; tests point it at the local wire-format server

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str = ""
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Touchpoint can be told from outside; tests build one directly."""

    env: str = "development"
    data_dir: Path = Path("data")
    secret_key: str = ""
    # Fernet keys, newest first: the first encrypts, all decrypt (rotation: prepend a new one).
    encryption_keys: tuple[str, ...] = ()
    database_url: str = ""
    redis_url: str = ""
    base_url: str = "http://127.0.0.1:5000"
    # Production serves https only, unless the operator allows http on a private network.
    allow_http: bool = False
    # How many reverse proxies stand in front of the web app (0: trust no X-Forwarded-For).
    proxy_hops: int = 0
    mail_from: str = "Touchpoint <touchpoint@localhost>"
    # Networks an operator allows user-supplied calendar URLs to reach (intranet servers).
    allow_networks: tuple[Network, ...] = ()
    google: Google = field(default_factory=Google)
    smtp: Smtp = field(default_factory=Smtp)
    rate_limits: bool = True
    # What one calendar may cost to read (an upload, a feed, a sync, a scan).
    budget: Budget = field(default_factory=Budget)
    # `touchpoint scan` writes prep notes this many days ahead (the planner's own horizon).
    note_days: int = 14
    # Operations: log lines as text or JSON; who may read /metrics (empty: nobody, it answers
    # 404); the port of a worker's or the scheduler's own metrics (0: none); the error reporter.
    log_format: str = "text"
    metrics_token: str = ""
    metrics_port: int = 0
    metrics_host: str = "0.0.0.0"  # noqa: S104 (a worker's metrics port, for Prometheus)
    sentry_dsn: str = ""

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (os.environ unless given)."""
    env = _Env(os.environ if environ is None else environ)
    mode = env.text("TOUCHPOINT_ENV", "development")
    if mode not in ("development", "production"):
        raise ConfigError("TOUCHPOINT_ENV must be development or production")
    log_format = env.text("TOUCHPOINT_LOG_FORMAT", "text")
    if log_format not in ("text", "json"):
        raise ConfigError("TOUCHPOINT_LOG_FORMAT must be text or json")
    return Settings(
        env=mode,
        data_dir=Path(env.text("TOUCHPOINT_DATA_DIR", "data")),
        secret_key=env.secret("SECRET_KEY"),
        encryption_keys=tuple(
            k.strip() for k in env.secret("TOUCHPOINT_ENCRYPTION_KEYS").split(",") if k.strip()
        ),
        database_url=env.text("DATABASE_URL", ""),
        redis_url=env.text("REDIS_URL", ""),
        base_url=env.text("TOUCHPOINT_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        allow_http=env.boolean("TOUCHPOINT_ALLOW_HTTP", False),
        proxy_hops=env.count("TOUCHPOINT_PROXY_HOPS", 0),
        mail_from=env.text("TOUCHPOINT_MAIL_FROM", "Touchpoint <touchpoint@localhost>"),
        allow_networks=env.networks("TOUCHPOINT_ALLOW_NETWORKS"),
        google=Google(
            client_id=env.text("GOOGLE_CLIENT_ID", ""),
            client_secret=env.secret("GOOGLE_CLIENT_SECRET"),
        ),
        budget=Budget(
            per_series=env.count("TOUCHPOINT_MAX_PER_SERIES", DEFAULT.per_series),
            occurrences=env.count("TOUCHPOINT_MAX_OCCURRENCES", DEFAULT.occurrences),
            per_day=env.count("TOUCHPOINT_MAX_PER_DAY", DEFAULT.per_day),
            seconds=env.count("TOUCHPOINT_READ_SECONDS", int(DEFAULT.seconds)),
            hard_seconds=env.count("TOUCHPOINT_READ_HARD_SECONDS", int(DEFAULT.hard_seconds)),
            megabytes=env.count("TOUCHPOINT_READ_MEGABYTES", DEFAULT.megabytes),
            quick_seconds=env.count("TOUCHPOINT_CONNECT_READ_SECONDS", int(DEFAULT.quick_seconds)),
        ),
        note_days=env.days("TOUCHPOINT_NOTE_DAYS", 14),
        smtp=Smtp(
            host=env.text("SMTP_HOST", ""),
            port=env.integer("SMTP_PORT", 587),
            username=env.text("SMTP_USERNAME", ""),
            password=env.secret("SMTP_PASSWORD"),
            starttls=env.boolean("SMTP_STARTTLS", True),
        ),
        log_format=log_format,
        metrics_token=env.secret("TOUCHPOINT_METRICS_TOKEN"),
        metrics_port=env.count("TOUCHPOINT_METRICS_PORT", 0),
        metrics_host=env.text("TOUCHPOINT_METRICS_HOST", "0.0.0.0"),  # noqa: S104
        sentry_dsn=env.secret("SENTRY_DSN"),
    )


def finish(settings: Settings) -> Settings:
    """Fill what a development run may generate (kept under the data directory) or refuse.

    Production refuses to start without its secrets, or with weak ones, instead of inventing them.
    """
    _check_encryption_keys(settings.encryption_keys)
    if settings.production:
        _check_production(settings)
        if settings.data_dir.is_dir():  # the local outbox, should a deployment use one
            _own(settings.data_dir)
        return settings
    data = settings.data_dir
    _own(data)
    database_url = settings.database_url
    if not database_url:
        database_url = f"sqlite:///{(data / 'touchpoint.db').resolve()}"
        create_private_file(data / "touchpoint.db")  # its WAL and shared-memory files follow
    return settings.with_changes(
        secret_key=settings.secret_key or _kept_secret(data / "secret_key"),
        encryption_keys=settings.encryption_keys or (_kept_fernet_key(data / "encryption_key"),),
        database_url=database_url,
    )


def _check_production(settings: Settings) -> None:
    for name, value in (
        ("SECRET_KEY", settings.secret_key),
        ("TOUCHPOINT_ENCRYPTION_KEYS", settings.encryption_keys),
        ("DATABASE_URL", settings.database_url),
    ):
        if not value:
            raise ConfigError(f"{name} must be set when TOUCHPOINT_ENV=production")
    if problem := weakness("SECRET_KEY", settings.secret_key):
        raise ConfigError(problem)
    if not settings.base_url.startswith("https://") and not settings.allow_http:
        raise ConfigError(
            f"TOUCHPOINT_BASE_URL must start with https:// when TOUCHPOINT_ENV=production, not "
            f"{settings.base_url!r} (set TOUCHPOINT_ALLOW_HTTP=true only on a private network)"
        )


def _check_encryption_keys(keys: tuple[str, ...]) -> None:
    from cryptography.fernet import Fernet

    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"TOUCHPOINT_ENCRYPTION_KEYS: key {number} of {len(keys)} is not a Fernet key "
                "(32 bytes in url-safe base64, 44 characters), e.g. from \"python -c 'from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'\""
            ) from None


def _own(data: Path) -> None:
    try:
        own_directory(data)
    except OSError as exc:
        raise ConfigError(
            f"TOUCHPOINT_DATA_DIR: cannot make {data} private: {exc.strerror}"
        ) from None


def _kept_secret(path: Path) -> str:
    return _kept(path, lambda: secrets.token_urlsafe(48))


def _kept_fernet_key(path: Path) -> str:
    from cryptography.fernet import Fernet

    return _kept(path, lambda: Fernet.generate_key().decode())


def _kept(path: Path, make: Any) -> str:
    """Return the secret stored at path, creating it (readable by the owner only) the first time."""
    if path.exists():
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return str(value)


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, name: str, default: str) -> str:
        return self.environ.get(name, default).strip()

    def secret(self, name: str) -> str:
        """Read NAME, or the file NAME_FILE points at."""
        if path := self.environ.get(f"{name}_FILE"):
            try:
                return Path(path).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
        return self.environ.get(name, "").strip()

    def boolean(self, name: str, default: bool) -> bool:
        value = self.environ.get(name)
        if value is None:
            return default
        if value.strip().lower() in _TRUE:
            return True
        if value.strip().lower() in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, not {value!r}")

    def integer(self, name: str, default: int) -> int:
        value = self.environ.get(name)
        try:
            return default if value is None else int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {value!r}") from None

    def count(self, name: str, default: int) -> int:
        value = self.environ.get(name)
        try:
            number = default if value is None else int(value)
        except ValueError:
            number = -1
        if number < 0:
            raise ConfigError(f"{name} must be a whole number of at least 0, not {value!r}")
        return number

    def days(self, name: str, default: int) -> int:
        number = self.count(name, default)
        if number < 1:
            raise ConfigError(f"{name} must be a whole number of days, at least 1, not 0")
        return number

    def networks(self, name: str) -> tuple[Network, ...]:
        try:
            return tuple(parse_networks(self.environ.get(name, "")))
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None

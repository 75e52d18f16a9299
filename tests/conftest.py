"""Real parts for tests: SQLite and PostgreSQL databases, Redis, an SMTP server on loopback.

PostgreSQL comes from TOUCHPOINT_TEST_POSTGRES (default: the local server with trust auth); when it
is not reachable its tests skip with the reason, unless TOUCHPOINT_REQUIRE_SERVICES is set (CI),
where they fail. Redis is a server of the session's own (tests/redis_server.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from service.adapters.db import Database, upgrade
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.models import Base, User
from tests.factories import ALICE, add_accepted_proposal, connect_google
from tests.google_server import FakeGoogle

pytest_plugins = [
    "tests.smtp_server",
    "tests.google_fixtures",
    "tests.redis_server",
    "tests.feed_server",
]

PG_ADMIN = os.environ.get(
    "TOUCHPOINT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRED = bool(os.environ.get("TOUCHPOINT_REQUIRE_SERVICES"))


def unavailable(what: str, why: str) -> None:
    """Skip with the reason, or fail where the services are required (CI)."""
    message = f"{what} is not available here ({why})"
    if REQUIRED:
        pytest.fail(f"TOUCHPOINT_REQUIRE_SERVICES is set but {message}")
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_behind() -> Iterator[None]:
    """Fail the run if a process a test started outlives the session (a leaked worker, server).

    Runs last of the session fixtures, after the ones that stop what they started (Redis).
    """
    yield
    alive = psutil.Process().children(recursive=True)
    _gone, alive = psutil.wait_procs(alive, timeout=5)
    if alive:
        names = "; ".join(_described(process) for process in alive)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        pytest.fail(f"{len(alive)} process(es) left running by the tests: {names}", pytrace=False)


def _described(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:160]}"
    except psutil.Error:
        return f"{process.pid} (gone)"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    name = f"touchpoint_test_{secrets.token_hex(4)}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any driver error: the server is not there
        unavailable("PostgreSQL", f"{type(exc).__name__} at {PG_ADMIN}")
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on SQLite and on PostgreSQL, each time from empty tables."""
    if request.param == "sqlite":
        path = tmp_path / "touchpoint.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The database of this test, outside Flask (as the workers and the command line use it)."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def alice_id(database: Database) -> int:
    """alice, stored in Berlin with nothing else: her user id."""
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        session.add(user)
        session.flush()
        return user.id


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([Fernet.generate_key().decode()])


@pytest.fixture
def google_proposal(database: Database, box: SecretBox, google_server: FakeGoogle) -> int:
    """A proposal alice accepted (tests.factories.add_accepted_proposal), her Google Calendar
    connected: its id."""
    proposal_id = add_accepted_proposal(database)
    connect_google(database, box, google_server)
    return proposal_id


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_url: str) -> Settings:
    return Settings(
        env="development",
        data_dir=tmp_path / "data",
        secret_key=secrets.token_urlsafe(32),
        encryption_keys=(Fernet.generate_key().decode(),),
        database_url=database_url,
        redis_url=redis_url,
        base_url="http://localhost",
        rate_limits=False,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    from service.web import create_app
    from service.web.extensions import db

    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    db.dispose()


@pytest.fixture(autouse=True)
def _no_pooled_connections_survive_a_test() -> Iterator[None]:
    yield
    from service.web.extensions import db

    db.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()

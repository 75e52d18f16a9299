"""Database engine and sessions, usable from Flask, the workers and the command line alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import ColumnElement, Engine, create_engine, event, text, update
from sqlalchemy.orm import Session, scoped_session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys on and a wait instead of 'database is locked'."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Deleted rows are overwritten, not left in free pages: a deleted account is gone from the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class Database:
    """One engine and a session per request (Flask) or per unit of work (workers)."""

    def __init__(self, url: str | None = None) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))
        if url:
            self.connect(url)

    def connect(self, url: str) -> None:
        self.dispose()
        self.engine = make_engine(url)
        self.session.configure(bind=self.engine)

    def dispose(self) -> None:
        """Close every pooled connection (a new app, or the end of a test)."""
        self.session.remove()
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def init_app(self, app: Any) -> None:
        self.connect(app.config["DATABASE_URL"])
        app.teardown_appcontext(lambda _exc: self.session.remove())

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """Give a session that commits at the end, or rolls back everything on error."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self.session.remove()

    def writable(self) -> bool:
        """Tell whether a write would go through now (and undo it): read-only or locked is no."""
        try:
            assert self.engine is not None
            with self.engine.connect() as connection:
                connection.execute(text("UPDATE users SET id = id WHERE id = 0"))
                connection.rollback()
            return True
        except Exception:  # any driver error means "cannot write" for a health check
            return False

    def reachable(self) -> bool:
        try:
            assert self.engine is not None
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not reachable" for a health check
            return False


def upgrade(url: str) -> None:
    """Bring the database at url to the newest schema (Alembic upgrade head)."""
    command.upgrade(alembic_config(url), "head")


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def claim(
    session: Session, model: Any, row_id: int, *still: ColumnElement[bool], **values: Any
) -> bool:
    """Set values on one row only while the conditions still hold; tell whether this call did.

    The claim-before-act step of every "exactly once": one conditional UPDATE, so of two racing
    callers only one sees True. The caller commits.
    """
    changed = session.execute(
        update(model)
        .where(model.id == row_id, *still)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return changed is not None


def hold(session: Session, model: Any, row_id: int) -> None:
    """Write one row first in this transaction, so racing writers for it wait their turn.

    A row lock on PostgreSQL, the database write lock on SQLite: a second planner (or sender) for
    the same user waits until the first commits, then sees what it did. The caller commits.
    """
    session.execute(
        update(model)
        .where(model.id == row_id)
        .values(id=model.id)
        .execution_options(synchronize_session=False)
    )


def checkpoint(session: Session) -> None:
    """On SQLite, write the WAL back into the database file and empty it (after a deletion)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

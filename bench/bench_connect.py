"""Time connecting each hostile calendar through the web app, and the dashboard afterwards.

For each shape of bench_hostile.py (and 100,000 short events that fit the 10 MiB cap) a fresh
app on SQLite (no Redis: the sync job is run here, as a worker would) gets the file through
POST /connect/upload; then the connection is synced with the full budget, as its job does, and
the planning job runs and the dashboard is loaded five times (median wall and CPU time).
    python bench/bench_connect.py          # a table on stdout
"""

from __future__ import annotations

import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_hostile import SHAPES, _calendar  # noqa: E402

from service.adapters.db import upgrade  # noqa: E402
from service.config import Settings  # noqa: E402
from service.dashboard import past  # noqa: E402
from service.models import Connection, User  # noqa: E402
from service.notes.plan import plan_notes  # noqa: E402
from service.sources.sync import refresh  # noqa: E402
from service.web import create_app  # noqa: E402
from service.web.extensions import db  # noqa: E402


def short_events() -> bytes:
    """100,000 events in under 10 MiB: the most an upload can hold."""
    return _calendar(
        [
            f"BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTART:202603{1 + i % 28:02d}T{8 + i % 10:02d}0000Z\r\n"
            f"SUMMARY:M{i}\r\nEND:VEVENT\r\n"
            for i in range(100_000)
        ]
    )


def measure(name: str, data: bytes) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        upgrade(f"sqlite:///{folder}/bench.db")
        settings = Settings(
            env="development",
            data_dir=Path(folder),
            secret_key=secrets.token_urlsafe(32),
            encryption_keys=(Fernet.generate_key().decode(),),
            database_url=f"sqlite:///{folder}/bench.db",
            redis_url="redis://127.0.0.1:1/0",  # none: jobs are run here
            base_url="http://localhost",
            rate_limits=False,
        )
        app = create_app(settings)
        app.config.update(TESTING=True)
        app.config["NOW"] = lambda: datetime(2026, 3, 2, 8, tzinfo=UTC)
        client = app.test_client()
        _sign_in(app, client)
        page = client.get("/connect").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token is not None
        started = time.perf_counter()
        answer = client.post(
            "/connect/upload",
            data={
                "csrf_token": token.group(1),
                "file": (_stream(data), "hostile.ics", "text/calendar"),
            },
            content_type="multipart/form-data",
        )
        upload = time.perf_counter() - started
        flashed = client.get("/connect").get_data(as_text=True)
        with app.app_context():
            connection = db.session.scalars(select(Connection)).one()
            now = datetime(2026, 3, 2, 8, tzinfo=UTC)
            if connection.synced_at is None:  # left for its sync job: run it as a worker would
                refresh(db.session(), settings, app.extensions["secret_box"], connection, now)
                past.refresh(db.session(), connection.user, now)  # workers.sync: the day rows
                db.session.commit()
            # Then the planning job (workers.notes.plan_user): notes planned, day rows current.
            plan_notes(db.session(), settings, connection.user, now)
            past.refresh(db.session(), connection.user, now, planned=True)
            db.session.commit()
        loads, cpu = [], []
        for _ in range(5):
            started, used = time.perf_counter(), time.process_time()
            client.get("/")
            loads.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        db.dispose()
    said = re.search(r"Connected: [^<]*", flashed)
    return {
        "shape": name,
        "status": answer.status_code,
        "upload_s": round(upload, 2),
        "dashboard_ms": round(statistics.median(loads) * 1000),
        "dashboard_cpu_ms": round(statistics.median(cpu) * 1000),
        "said": said.group(0)[:90] if said else "",
    }


def _stream(data: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(data)


def _sign_in(app, client) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(HERE.parent))
    from tests.web.forms import sign_in_as

    sign_in_as(client, app, "alice@example.com", tz="Europe/Berlin")
    with app.app_context():
        assert db.session.scalars(select(User)).one()


def main() -> None:
    shapes = {**{k: v for k, v in SHAPES.items() if not k.startswith("100,000")}}
    shapes["100,000 short events (9 MB)"] = short_events
    for name, make in shapes.items():
        row = measure(name, make())
        print(
            f"{name:46} upload {row['upload_s']:>5} s ({row['status']})  "
            f"dashboard {row['dashboard_ms']:>5} ms ({row['dashboard_cpu_ms']} ms CPU)  "
            f"{row['said']}",
            flush=True,
        )


if __name__ == "__main__":
    main()

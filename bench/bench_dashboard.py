"""Time the dashboard's server side for a user with a heavy calendar (SQLite, in process).

Generates alice's calendar (bench/gen_calendar.py, deterministic), uploads it as the connect
page does, runs what the workers do next (plan the notes, keep the dashboard's day rows), then
asks for the dashboard again and again through the app's WSGI interface: what is timed is the
server's work (queries, the engine, the templates), not a network. Each request's wall time and
CPU time (this process) are reported.

    --busy-workers 2    also time the dashboard while two `touchpoint worker`-like processes
                        (bench_workers.py's) sync and plan --busy-users other users' changed
                        feeds, served on loopback, against the same database and a Redis of its
                        own (issue 10: the dashboard's p95 while workers run)
    --pin               with --busy-workers: pin this process (the web) to one core and the
                        workers and their Redis to the others (os.sched_setaffinity), as the
                        deployment gives the web and the workers machines or pods of their own
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from bench.gen_calendar import ME, build_calendar  # noqa: E402
from service.account.sessions import open_session  # noqa: E402
from service.adapters.db import upgrade  # noqa: E402
from service.calendars.budget import Budget  # noqa: E402
from service.config import Settings  # noqa: E402
from service.dashboard import ahead, past  # noqa: E402
from service.models import StoredOccurrence, User  # noqa: E402
from service.notes.plan import plan_notes  # noqa: E402
from service.sources.connect import connect_ics_upload  # noqa: E402
from service.web import create_app  # noqa: E402
from service.web.extensions import db  # noqa: E402
from workers import runtime  # noqa: E402

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TARGET_MS = 300


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000, help="events in the calendar")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--busy-workers", type=int, default=0, help="workers syncing meanwhile")
    parser.add_argument("--busy-users", type=int, default=150, help="users they sync (150)")
    parser.add_argument(
        "--busy-nice", type=int, default=0, help="the workers' niceness (19: as if on other cores)"
    )
    parser.add_argument(
        "--pin", action="store_true", help="the web on one core, the workers on the others"
    )
    args = parser.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    if args.pin and len(cores) < 2:
        parser.error("--pin needs two cores or more")
    with tempfile.TemporaryDirectory() as tmp:
        redis = _redis(Path(tmp)) if args.busy_workers else None
        if redis is not None:  # the workers' settings: this database, that Redis, loopback feeds
            from bench_workers import environment

            environment(Path(tmp))
        try:
            app = _app(Path(tmp))
            stored = _seed(app, build_calendar(args.events, seed=7).to_ical())
            client = app.test_client()
            _sign_in(app, client)
            client.get("/")  # warm: templates compiled, zone data loaded
            times = [_timed(client) for _ in range(args.rounds)]
            glance, render = _presentation(app, args.rounds)
            busy = (
                _busy(client, args.busy_workers, args.busy_users, args.busy_nice, args.pin, redis)
                if redis
                else None
            )
            db.dispose()
        finally:
            if redis is not None:
                redis.terminate()
                redis.wait()
    walls, cpus = [wall for wall, _ in times], [cpu for _, cpu in times]
    median = statistics.median(walls)
    print(f"calendar: {args.events} events, {stored} stored occurrences (a year back, 14 days on)")
    print(
        f"dashboard server time over {args.rounds} requests: median {median:.0f} ms, "
        f"p95 {_p95(walls):.0f} ms, max {max(walls):.0f} ms (target < {TARGET_MS} ms); "
        f"CPU median {statistics.median(cpus):.0f} ms, p95 {_p95(cpus):.0f} ms"
    )
    print(
        f"of which the week at a glance (timeline, series, people, strip, calendar check): "
        f"median {glance:.0f} ms; rendering the page: median {render:.0f} ms"
    )
    if busy is not None:
        print(busy)
    return 0 if median < TARGET_MS else 1


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95 + 0.5) - 1)]


def _redis(tmp: Path) -> subprocess.Popen[bytes]:
    """Start a Redis of the benchmark's own on a free port; REDIS_URL names it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = shutil.which("redis-server") or "redis-server"
    command = [server, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return child


def _busy(  # type: ignore[no-untyped-def]
    client, workers: int, users: int, nice: int, pin: bool, redis
) -> str:
    """Time the dashboard while `workers` processes sync and plan `users` other users' feeds.

    nice: the workers' niceness; 19 lets this process run first, as a web server on machines of
    its own would (the workers then slow it only through the database). pin: this process on
    the first core, the workers, their feed server's thread aside, and Redis on the others.
    """
    from bench_workers import add_users, publish, start_worker
    from feeds import Feeds, FeedServer

    from workers.sync import enqueue_sync, sync_queue

    feeds = Feeds()
    with FeedServer(feeds) as server:
        publish(feeds, 1, users)
        ids = add_users(server, 1, users)
        children = [start_worker() for _ in range(workers)]
        cores = sorted(os.sched_getaffinity(0))
        web, rest = {cores[0]}, set(cores[1:])
        for child in children:
            os.setpriority(os.PRIO_PROCESS, child.pid, nice)
            if pin:
                os.sched_setaffinity(child.pid, rest)
        if pin:
            os.sched_setaffinity(redis.pid, rest)
            os.sched_setaffinity(0, web)
        queue = sync_queue(runtime.current().settings)
        for connection_id in ids:
            enqueue_sync(queue, connection_id)
        started = time.perf_counter()
        for child in children:
            child.stdin.write(b"go\n")  # type: ignore[union-attr]
            child.stdin.flush()  # type: ignore[union-attr]
        times = []
        while any(child.poll() is None for child in children):
            times.append(_timed(client))
        seconds = time.perf_counter() - started
        for child in children:
            child.wait()
        if pin:
            os.sched_setaffinity(0, set(cores))
    walls, cpus = [wall for wall, _ in times], [cpu for _, cpu in times]
    where = ", pinned to other cores than the web" if pin else ""
    return (
        f"while {workers} workers (nice {nice}{where}) synced and planned {users} other users' "
        f"changed feeds "
        f"({seconds:.0f} s, {len(times)} requests): median {statistics.median(walls):.0f} ms, "
        f"p95 {_p95(walls):.0f} ms, max {max(walls):.0f} ms; CPU median "
        f"{statistics.median(cpus):.0f} ms, p95 {_p95(cpus):.0f} ms"
    )


def _presentation(app, rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Time the dashboard's own layout work and its template, apart from loading the data."""
    from flask import render_template

    from service.web import dashboard

    glance: list[float] = []
    real = dashboard._glance

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        found = real(*args, **kwargs)
        glance.append((time.perf_counter() - started) * 1000)
        return found

    dashboard._glance = timed  # type: ignore[assignment]
    render: list[float] = []
    with app.test_request_context("/"):
        user = db.session.query(User).one()
        for _ in range(rounds):
            context = dashboard._overview(db.session(), user, NOW)
            started = time.perf_counter()
            render_template("web/dashboard.html", **context)
            render.append((time.perf_counter() - started) * 1000)
    dashboard._glance = real  # type: ignore[assignment]
    return statistics.median(glance), statistics.median(render)


def _app(tmp: Path):  # type: ignore[no-untyped-def]
    settings = Settings(
        env="development",
        data_dir=tmp,
        secret_key="bench-" + "k" * 40,
        encryption_keys=(Fernet.generate_key().decode(),),
        database_url=f"sqlite:///{tmp / 'bench.db'}",
        redis_url="",
        base_url="http://127.0.0.1",
        rate_limits=False,
        budget=Budget(seconds=600),  # the seeding read is not what is measured
    )
    upgrade(settings.database_url)
    app = create_app(settings)
    app.config["NOW"] = lambda: NOW
    return app


def _seed(app, data: bytes) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = User(email=ME, tz="Europe/Berlin", manager_email="bob@example.com")
        db.session.add(user)
        settings = app.extensions["touchpoint"]
        result = connect_ics_upload(db.session(), settings, user, "a.ics", data, NOW)
        db.session.commit()
        # What the workers do next (workers.notes.plan_user): plan the prep notes and keep the
        # dashboard's day rows; the dashboard then reads those instead of the stored year.
        plan_notes(db.session(), settings, user, NOW)
        past.refresh(db.session(), user, NOW, planned=True)
        ahead.keep(db.session(), user, NOW)
        db.session.commit()
        if result.warnings:
            print("reading the calendar said:", "; ".join(result.warnings[:3]))
        return db.session.query(StoredOccurrence).count()


def _sign_in(app, client) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.query(User).one()
        secret = open_session(db.session(), user, NOW)
        db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = secret


def _timed(client) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Return one dashboard request's wall and CPU time, in milliseconds."""
    started, used = time.perf_counter(), time.process_time()
    response = client.get("/")
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed, (time.process_time() - used) * 1000


if __name__ == "__main__":
    raise SystemExit(main())

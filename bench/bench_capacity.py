"""Capacity on PostgreSQL: worker CPU per job, the dispatcher at 100k connections, periodic jobs
at 100k users' data, rows and bytes per user, Redis memory, and Google calls per user per day.

Everything runs on this machine: a PostgreSQL database of its own on the server at
TOUCHPOINT_BENCH_POSTGRES (created and dropped), a redis-server of its own on a free port, feeds
served on loopback (bench/feeds.py) and the tests' wire-format Google. Wall times on a shared
2-core machine are noise: the figures that size a deployment are CPU seconds, measured per job
inside the worker (getrusage of the worker and of any child it forked, around each job).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, text, update

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # feeds, gen_calendar, the service and tests' fake Google

from feeds import Feeds, FeedServer, build_feed, google_calls_per_day  # noqa: E402

from service.adapters.db import upgrade  # noqa: E402
from service.models import Connection  # noqa: E402
from workers import runtime  # noqa: E402
from workers.schedule import QUEUES  # noqa: E402

ADMIN = os.environ.get(
    "TOUCHPOINT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SCENARIOS = ("first", "changed", "unchanged")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# The services ---------------------------------------------------------------------------------


@contextmanager
def postgres() -> Iterator[str]:
    """A database of the benchmark's own, migrated; dropped at the end."""
    name = f"touchpoint_bench_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        runtime.reset()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A redis-server of the benchmark's own on a free loopback port (nothing kept on disk)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    binary = shutil.which("redis-server") or "redis-server"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    server = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(200):
            try:
                if Redis.from_url(url).ping():
                    break
            except Exception:  # still starting
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def environment(tmp: Path, database_url: str, redis_url: str) -> None:
    """Set what the workers read, for this process and the worker processes it starts."""
    os.environ.update(
        TOUCHPOINT_DATA_DIR=str(tmp),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TOUCHPOINT_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        TOUCHPOINT_ALLOW_NETWORKS="127.0.0.1/32",
    )
    runtime.reset()


# Worker CPU per job ---------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU of this process and of every child it has waited for (a forked job's horse)."""
    mine, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def work(fork: bool) -> None:
    """Be one worker as `touchpoint worker` builds it; report CPU per job kind as JSON."""
    from service.adapters.redis import connect
    from workers.schedule import build_worker, configure_logging

    configure_logging()
    runtime.current()  # what `touchpoint worker` sets up before its first job
    worker = build_worker(connect(os.environ["REDIS_URL"]), QUEUES, fork=fork)
    spent: dict[str, list[float]] = defaultdict(list)
    execute = worker.execute_job

    def measured(job: Any, queue: Any) -> None:
        before = cpu_seconds()
        execute(job, queue)
        spent[(job.func_name or "?").rsplit(".", 1)[-1]].append(cpu_seconds() - before)

    worker.execute_job = measured  # type: ignore[method-assign]
    print("ready", flush=True)
    sys.stdin.readline()
    worker.work(burst=True, logging_level="WARNING")
    print(json.dumps(spent), flush=True)


def run_worker(fork: bool) -> dict[str, list[float]]:
    """Start a measuring worker, let it empty the queues, and return its CPU per job kind."""
    log = open(Path(os.environ["TOUCHPOINT_DATA_DIR"]) / "workers.log", "ab")  # noqa: SIM115
    command = [sys.executable, str(Path(__file__)), "--work", "--fork" if fork else "--no-fork"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdout.readline()  # "ready"
    child.stdin.write(b"go\n")
    child.stdin.flush()
    found: dict[str, list[float]] = json.loads(child.stdout.readline())
    child.wait()
    return found


def add_feed_users(server: FeedServer, first: int, count: int) -> list[int]:
    """Create users, each with a calendar address on the local server; return connection ids."""
    from feeds import user_email

    from service.models import User

    work_ = runtime.current()
    with work_.database.unit() as session:
        connections = []
        for user in range(first, first + count):
            person = User(email=user_email(user), tz="Europe/Berlin")
            secret = work_.box.seal(server.address(user))
            connections.append(
                Connection(user=person, kind="ics_url", label="bench", secret=secret)
            )
            session.add_all([person, connections[-1]])
        session.flush()
        return [connection.id for connection in connections]


def sync_round(ids: list[int], fork: bool) -> dict[str, list[float]]:
    """Make the connections due, enqueue their syncs, and let one worker run them."""
    from service.adapters.redis import connect
    from workers.sync import enqueue_sync, sync_queue

    redis = connect(os.environ["REDIS_URL"])
    redis.flushdb()
    work_ = runtime.current()
    with work_.database.unit() as session:
        session.execute(update(Connection).where(Connection.id.in_(ids)).values(next_sync_at=None))
    queue = sync_queue(work_.settings)
    for connection_id in ids:
        enqueue_sync(queue, connection_id)
    found = run_worker(fork)
    left = sum(Queue(name, connection=redis).count for name in QUEUES)
    if left:
        raise SystemExit(f"{left} jobs were left in the queues")
    return found


def worker_cpu(users: int, modes: list[bool]) -> list[dict[str, Any]]:
    """CPU per job for each scenario (first sync, a changed feed, an unchanged one) and mode."""
    feeds, rows = Feeds(), []
    monday = date.today() - timedelta(days=date.today().weekday())
    with FeedServer(feeds) as server:
        for index, fork in enumerate(modes):
            first = 1 + index * users
            ids = add_feed_users(server, first, users)
            for scenario in SCENARIOS:
                for user in range(first, first + users) if scenario != "unchanged" else ():
                    content = build_feed(user, 1 + user - first, monday)
                    if scenario == "changed":  # one event renamed: a new ETag, a full read
                        content = content.replace(b"SUMMARY:", b"SUMMARY:Moved ", 1)
                    feeds.publish(user, content)
                say(f"worker CPU: {scenario} feeds, {'forking' if fork else 'no fork'}")
                spent = sync_round(ids, fork)
                rows.append({"scenario": scenario, "fork": fork, "jobs": summary(spent)})
    return rows


def summary(spent: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        kind: {
            "count": len(values),
            "median_ms": statistics.median(values) * 1000,
            "mean_ms": statistics.fmean(values) * 1000,
        }
        for kind, values in spent.items()
    }


# Rows and bytes per user ------------------------------------------------------------------------

PER_USER_TABLES = ("occurrences", "planned_notes", "outbox", "connections", "users")


def per_user(users: int) -> dict[str, dict[str, float]]:
    """Rows and bytes (tables with their indexes and TOAST) per synced user, by table."""
    found = {}
    with runtime.current().database.unit() as session:
        for table in PER_USER_TABLES:
            rows = session.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0
            size = session.scalar(text(f"SELECT pg_total_relation_size('\"{table}\"')")) or 0
            found[table] = {"rows": rows / users, "bytes": size / users}
    return found


# The dispatcher and the periodic jobs at 100k ---------------------------------------------------

HISTORY = {"emails": 36, "notes": 26, "meetings": 40}  # per user, at --history 1
FILL = (  # users, one calendar address each, and what they leave behind; a few of each due now
    "INSERT INTO users (email, tz, stage, goal, ideal_days, max_days, hours_start, hours_end,"
    " work_days, manager_email, include_people, never_suggest, email_notes, calendar_notes,"
    " lead_minutes, digest, weekly_nudges, created_at)"
    " SELECT 'x' || n || '@example.com', (ARRAY['Europe/Berlin', 'America/New_York',"
    " 'Asia/Tokyo', 'Europe/London', 'America/Los_Angeles', 'Asia/Kolkata'])[1 + n % 6],"
    " 'growth', '', 45, 60, '09:00', '17:30', '0,1,2,3,4', '', '', '', true, false, 60, false,"
    " 1, now() FROM generate_series(1, :users) AS n",
    # Due evenly over 15 minutes, as at the floor: a fifteenth is due at any tick.
    "INSERT INTO connections (user_id, kind, label, scopes, status, last_error, created_at,"
    " sync_token, etag, last_modified, content_hash, next_sync_at)"
    " SELECT id, 'ics_url', 'x', '', 'ok', '', now(), '', '', '', '',"
    " now() - interval '1 second' + (id % 15) * interval '1 minute'"
    " FROM users WHERE email LIKE 'x%'",
    'INSERT INTO outbox (user_id, kind, "to", subject, text, html, message_id, headers,'
    " created_at, claimed_at, sent_at, attempts, last_error)"
    " SELECT u.id, 'prep_note', u.email, 's', 't', '', '<x' || u.id || '.' || n || '@x>', '{}',"
    " now() - n * interval '7 hours', now() - n * interval '7 hours',"
    " CASE WHEN n = 1 AND u.id % 500 = 0 THEN NULL ELSE now() - n * interval '7 hours' END,"
    " 1, '' FROM users u, generate_series(1, :emails) AS n WHERE u.email LIKE 'x%'",
    "INSERT INTO planned_notes (user_id, uid, start, title, kind, due_at, status, subject, text,"
    " calendar_event_id, created_at, updated_at)"
    " SELECT u.id, 'p' || n, now() - n * interval '9 hours' + interval '1 hour',"
    " '', 'meal', now() - n * interval '9 hours', CASE WHEN n = 1 AND u.id % 200 = 0"
    " THEN 'planned' ELSE 'sent' END, '', '', '', now(), now()"
    " FROM users u, generate_series(1, :notes) AS n WHERE u.email LIKE 'x%'",
    'INSERT INTO occurrences (user_id, connection_id, uid, start, "end", all_day, title,'
    " location, organizer, attendees, status, transparent, recurring)"
    " SELECT c.user_id, c.id, 'o' || n, now() - n * interval '6 hours' + (c.id % 360) * interval"
    " '1 minute', now() - n * interval '6 hours' + (c.id % 360 + 30) * interval '1 minute',"
    " false, 'Sync', '', '', '[]', 'confirmed', false, false"
    " FROM connections c, generate_series(1, :meetings) AS n",
    "INSERT INTO proposals (user_id, partner, reason, slots, status, created_at, expires_at,"
    " chosen_start, calendar_event_id, invite_sequence, booking_error)"
    " SELECT id, 'p@example.com', '', '[]', CASE WHEN id % 50 = 0 THEN 'accepted' ELSE 'declined'"
    " END, now(), now() + interval '1 day', now() - (id % 72) * interval '1 hour', '', 0, ''"
    " FROM users WHERE email LIKE 'x%'",
    "VACUUM ANALYZE",
)


def fill(users: int, history: float) -> None:
    """Store users with history (emails, notes, meetings; scaled), by SQL on the server."""
    sizes = {"users": users, **{k: round(n * history) for k, n in HISTORY.items()}}
    engine = create_engine(os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in FILL:
            names = [name for name in sizes if f":{name}" in statement]
            connection.execute(text(statement), {name: sizes[name] for name in names})
    engine.dispose()


def timed(call: Callable[[], Any], rounds: int = 5) -> dict[str, float]:
    """Median wall and CPU milliseconds of a call (the database's share is in the wall time)."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_ms": statistics.median(walls) * 1000, "cpu_ms": statistics.median(cpus) * 1000}


SPREAD = (  # due evenly over the next 15 minutes, as at the floor: a fifteenth due at a tick
    "UPDATE connections SET next_sync_at ="
    " now() - interval '1 second' + (id % 15) * interval '1 minute'"
)
ALL_DUE = "UPDATE connections SET next_sync_at = NULL"


def run_sql(statement: str) -> None:
    engine = create_engine(os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def dispatch(redis: Any) -> dict[str, Any]:
    """One tick of the sync dispatcher, then every batch it fanned out, in this process."""
    from workers import sync

    redis.flushdb()
    start = cpu_seconds(), time.perf_counter()
    inline = sync.dispatch_syncs()
    tick = {
        "cpu_ms": (cpu_seconds() - start[0]) * 1000,
        "wall_ms": (time.perf_counter() - start[1]) * 1000,
        "enqueued itself": inline,
    }
    batches = []
    while True:
        start = cpu_seconds(), time.perf_counter()
        enqueued = sync.dispatch_batch()
        if not enqueued:
            break
        batches.append(
            {
                "syncs": enqueued,
                "cpu_ms": (cpu_seconds() - start[0]) * 1000,
                "wall_ms": (time.perf_counter() - start[1]) * 1000,
            }
        )
    return {
        "tick": tick,
        "batches": len(batches),
        "batch_cpu_ms": statistics.median(b["cpu_ms"] for b in batches) if batches else 0,
        "batch_wall_ms": statistics.median(b["wall_ms"] for b in batches) if batches else 0,
        "queued": Queue(sync.QUEUE, connection=redis).count,
    }


def periodic(users: int, history: float) -> dict[str, Any]:
    """Time the dispatcher's tick and every periodic job's queries at this many users."""
    from service.adapters.redis import connect
    from service.notes.plan import users_with_due_notes
    from workers import email, proposals, reflections

    say(f"periodic jobs: filling the database with {users:,} users")
    fill(users, history)
    say("periodic jobs: timing")
    work_ = runtime.current()
    redis = connect(os.environ["REDIS_URL"])
    redis.flushdb()
    now = datetime.now(UTC)

    def query(job: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        def run() -> Any:
            with work_.database.unit() as session:
                return job(session, *args)

        return run

    found: dict[str, Any] = {
        "outbox sweep": timed(
            query(lambda s, at: (email.release_interrupted(s, at), email.due_emails(s, at)), now)
        ),
        "dispatch-notes": timed(query(users_with_due_notes, now)),
        "dispatch-reflections": timed(
            query(reflections.users_with_reflections_due, work_.settings, now)
        ),
        "dispatch-proposals": timed(query(proposals.morning_users, now)),
    }
    run_sql(SPREAD)
    redis.flushdb()
    memory = int(redis.info("memory")["used_memory"])
    found["dispatcher at the floor"] = dispatch(redis)
    queued = found["dispatcher at the floor"]["queued"]
    found["redis_bytes_per_queued_sync"] = (
        int(redis.info("memory")["used_memory"]) - memory
    ) / max(queued, 1)
    run_sql(ALL_DUE)
    found["dispatcher, everything due"] = dispatch(redis)
    return found


# Main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures as Markdown (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200, help="users whose feeds are synced (200)")
    parser.add_argument(
        "--fork",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only the forking (or only the non-forking) worker",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=100_000,
        help="users (one connection each) for the dispatcher and periodic jobs",
    )
    parser.add_argument("--only", choices=("workers", "periodic"), help="one half only")
    parser.add_argument(
        "--history",
        type=float,
        default=1.0,
        help="scale the stored history per user (1: 36 emails, 26 notes, 40 meetings)",
    )
    parser.add_argument("--changes", type=int, default=5, help="Google changes pushed a day (5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.work:
        work(bool(args.fork))
        return
    modes = [False, True] if args.fork is None else [args.fork]
    found: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="touchpoint-capacity-") as tmp,
        postgres() as url,
        redis_server(Path(tmp)) as redis_url,
    ):
        environment(Path(tmp), url, redis_url)
        if args.only in (None, "workers"):
            found["worker"] = worker_cpu(args.users, modes)
            found["per_user"] = per_user(args.users * len(modes))
            say("Google: one user's day, with a push channel and polling")
            found["google"] = google_calls_per_day(args.changes)
        if args.only in (None, "periodic"):
            found["periodic"] = periodic(args.connections, args.history)
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()

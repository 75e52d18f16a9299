"""How many users' feeds N workers sync and plan per minute, and Google calls per user per day."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import func, select, update

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # feeds, gen_calendar, the service and tests' fake Google

from feeds import Feeds, FeedServer, build_feed, google_calls_per_day, user_email  # noqa: E402

from service.adapters.db import upgrade  # noqa: E402
from service.adapters.redis import connect  # noqa: E402
from service.models import Connection, PlannedNote, User  # noqa: E402
from workers import runtime  # noqa: E402
from workers.schedule import QUEUES  # noqa: E402
from workers.sync import enqueue_sync, sync_queue  # noqa: E402

BENCH_REDIS = "redis://127.0.0.1:6379/12"  # not 15: the tests use it
SCENARIOS = ("changed", "unchanged")  # every feed new (a first sync), then every feed a 304


@dataclass
class Round:
    """One scenario with N workers: how long the queues took to empty, and what the jobs did."""

    scenario: str
    workers: int
    users: int
    seconds: float
    syncs: int
    plans: int
    failed: int
    fetched: int
    not_modified: int

    @property
    def per_minute(self) -> float:
        return self.users / self.seconds * 60


def environment(tmp: Path) -> None:
    """Set what the workers read, for this process and the worker processes it starts."""
    os.environ["TOUCHPOINT_DATA_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = os.environ.get(
        "TOUCHPOINT_BENCH_DATABASE", f"sqlite:///{tmp / 'bench.db'}"
    )
    os.environ.setdefault("REDIS_URL", BENCH_REDIS)
    os.environ["TOUCHPOINT_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ["TOUCHPOINT_ALLOW_NETWORKS"] = "127.0.0.1/32"


def add_users(server: FeedServer, first: int, count: int) -> list[int]:
    """Create users, each with a calendar address on the local server; return connection ids."""
    work = runtime.current()
    with work.database.unit() as session:
        connections = []
        for user in range(first, first + count):
            person = User(email=user_email(user), tz="Europe/Berlin")
            address = server.address(user)
            secret = work.box.seal(address)
            connection = Connection(user=person, kind="ics_url", label="bench", secret=secret)
            session.add_all([person, connection])
            connections.append(connection)
        session.flush()
        return [connection.id for connection in connections]


def publish(feeds: Feeds, first: int, count: int) -> None:
    """Serve each user a calendar around this week (the same seeds for every worker count)."""
    monday = date.today() - timedelta(days=date.today().weekday())
    for user in range(first, first + count):
        feeds.publish(user, build_feed(user, 1 + user - first, monday))


def run_round(scenario: str, workers: int, ids: list[int], feeds: Feeds) -> Round:
    """Make the connections due, enqueue their syncs, and time N burst workers emptying them."""
    work, redis = runtime.current(), connect(os.environ["REDIS_URL"])
    clear(redis)
    with work.database.unit() as session:
        due = update(Connection).where(Connection.id.in_(ids)).values(next_sync_at=None)
        session.execute(due)
    children = [start_worker() for _ in range(workers)]
    queue = sync_queue(work.settings)
    for connection_id in ids:
        enqueue_sync(queue, connection_id)
    before = (feeds.requests, feeds.not_modified)
    started = time.perf_counter()
    for child in children:
        child.stdin.write(b"go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
    for child in children:
        child.wait()
    seconds = time.perf_counter() - started
    done = {name: _count(FinishedJobRegistry, name, redis) for name in ("sync", "notes")}
    failed = sum(_count(FailedJobRegistry, name, redis) for name in QUEUES)
    left = sum(Queue(name, connection=redis).count for name in QUEUES)
    if left:
        raise SystemExit(f"{left} jobs were left in the queues")
    fetched, not_modified = feeds.requests - before[0], feeds.not_modified - before[1]
    counts = (done["sync"], done["notes"], failed, fetched, not_modified)
    return Round(scenario, workers, len(ids), seconds, *counts)


def start_worker() -> subprocess.Popen[bytes]:
    """Start a worker process that has loaded everything and waits for the word to begin."""
    log = open(Path(os.environ["TOUCHPOINT_DATA_DIR"]) / "workers.log", "ab")  # noqa: SIM115
    command = [sys.executable, str(Path(__file__)), "--work"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    assert child.stdout is not None
    child.stdout.readline()  # "ready"
    return child


def work() -> None:
    """Be one worker as deployed (no fork per job), on every queue, until they are empty."""
    from workers.schedule import build_worker, configure_logging

    configure_logging()
    worker = build_worker(connect(os.environ["REDIS_URL"]), QUEUES)
    print("ready", flush=True)
    sys.stdin.readline()
    worker.work(burst=True)


def clear(redis: Any) -> None:
    """Empty the benchmark's queues and their registries, so each round counts only its jobs."""
    for name in QUEUES:
        queue = Queue(name, connection=redis)
        queue.empty()
        for registry in (FinishedJobRegistry, FailedJobRegistry):
            found = registry(name, connection=redis)
            for job_id in found.get_job_ids():
                found.remove(job_id, delete_job=True)


def _count(registry: type[Any], name: str, redis: Any) -> int:
    return int(registry(name, connection=redis).count)


def notes_planned(ids: list[int]) -> int:
    """Return how many prep notes the workers planned for these connections' users."""
    with runtime.current().database.unit() as session:
        users = select(Connection.user_id).where(Connection.id.in_(ids))
        query = select(func.count()).select_from(PlannedNote).where(PlannedNote.user_id.in_(users))
        return int(session.scalar(query) or 0)


def throughput(users: int, worker_counts: list[int]) -> tuple[list[Round], list[int]]:
    """Run both scenarios for each worker count, each with its own users."""
    feeds, rounds, planned = Feeds(), [], []
    with FeedServer(feeds) as server:
        for index, workers in enumerate(worker_counts):
            first = 1 + index * users
            say(f"{workers} worker(s): generating {users} feeds")
            publish(feeds, first, users)
            ids = add_users(server, first, users)
            for scenario in SCENARIOS:
                say(f"{workers} worker(s): {scenario}")
                rounds.append(run_round(scenario, workers, ids, feeds))
            planned.append(notes_planned(ids))
    return rounds, planned


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def machine() -> str:
    """Describe this machine the way the scan benchmark does."""
    cpuinfo = Path("/proc/cpuinfo")
    names = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in names if "model name" in line), "")
    cpu = platform.machine() + (f" ({model})" if model else "")
    return f"Python {platform.python_version()}, {platform.system()} {cpu}, {os.cpu_count()} CPUs"


def table(rounds: list[Round], google: dict[str, dict[str, float]]) -> str:
    """Return the results as Markdown tables."""
    lines = [
        "| scenario | workers | users | wall time | users / minute | syncs | plans | 304s "
        "| failed |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.scenario} | {r.workers} | {r.users} | {r.seconds:.1f} s | "
            f"{r.per_minute:,.0f} | {r.syncs} | {r.plans} | {r.not_modified} | {r.failed} |"
        )
    kinds = sorted({kind for calls in google.values() for kind in calls})
    lines += ["", "| Google calls per user per day | " + " | ".join(kinds) + " | total |"]
    lines.append("|---|" + "--:|" * (len(kinds) + 1))
    for mode, calls in google.items():
        cells = [f"{calls.get(kind, 0):g}" for kind in kinds]
        lines.append(f"| {mode} | " + " | ".join(cells) + f" | {sum(calls.values()):g} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200, help="users per worker count (200)")
    parser.add_argument("--workers", default="1,2", help="worker counts to try (1,2)")
    parser.add_argument("--changes", type=int, default=5, help="Google changes pushed a day (5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--work", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.work:
        work()
        return
    counts = [int(n) for n in args.workers.split(",")]
    if args.users * len(counts) > 9999:
        parser.error("at most 9999 users in all (their addresses have four digits)")
    with tempfile.TemporaryDirectory(prefix="touchpoint-bench-") as tmp:
        environment(Path(tmp))
        upgrade(os.environ["DATABASE_URL"])
        rounds, planned = throughput(args.users, counts)
        say("Google: one user's day, with a push channel and polling")

        google = google_calls_per_day(args.changes)
        runtime.reset()
    if args.json:
        found = {"machine": machine(), "rounds": [asdict(r) for r in rounds], "google": google}
        print(json.dumps({**found, "notes_planned": planned}, indent=2))
    else:
        print(f"{args.users} users per worker count, {machine()}\n")
        print(table(rounds, google))


if __name__ == "__main__":
    main()

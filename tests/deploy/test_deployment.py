"""The deployment of deploy/: gunicorn, two workers and one scheduler, sharing only PostgreSQL and
Redis, each process in a directory of its own, while a worker is SIGKILLed and Redis restarts.

A few hundred users have a calendar address on a local feed server, each with a coffee in about
40 minutes (its prep note is due at once) and a mentoring chat 70 days ago (a career chat is
due). One more user signs in by email through the web and uploads a calendar. The test waits
(with generous deadlines, never asserting a time) until every connection is synced and every due
prep note is sent, then moves forty of them to a time zone where it is morning (a proposal goes
out on a working morning), restarts the scheduler (a release), and waits for their proposals.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from cryptography.fernet import Fernet
from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session

from service import clock
from service.adapters.secrets import SecretBox
from service.models import Connection, OutboxEmail, PlannedNote, Proposal, User
from tests.conftest import PG_ADMIN, unavailable
from tests.feed_server import Feed, FeedServer, serving
from tests.redis_server import RedisProcess, redis_binary, wait_until
from tests.smtp_server import SmtpServer
from tests.web.forms import csrf_token

from .stack import ENTRYPOINT, Part, environment, free_port, wait_for

USERS = int(os.environ.get("TOUCHPOINT_DEPLOY_USERS", "200"))
EARLY = 40  # of them moved to a zone where it is morning: a proposal each
WAIT = 240  # seconds: generous; a run takes about a minute, a kill mid-job adds RQ's 90 s
METRICS_TOKEN = secrets.token_urlsafe(32)
WEB_USER = "web-user@touchpoint.local"
GRACE = "grace@touchpoint.local"


@pytest.fixture
def stack_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, migrated by the entry point, dropped after."""
    name = f"touchpoint_deploy_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any driver error: the server is not there
        unavailable("PostgreSQL", f"{type(exc).__name__} at {PG_ADMIN}")
    yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class KeptRedis(RedisProcess):
    """Redis as deploy/ runs it: noeviction and the append-only file, so a restart keeps the
    queues, the retries and what each worker had started (a dead worker's job is recovered)."""

    def start(self) -> None:
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        kept = ["--appendonly", "yes", "--maxmemory-policy", "noeviction", "--save", ""]
        self.process = subprocess.Popen(
            [self.binary, *arguments, *kept, "--daemonize", "no"], stdout=subprocess.DEVNULL
        )
        wait_until(self._answers, what=f"redis-server on port {self.port}")


@pytest.fixture
def kept_redis(tmp_path: Path) -> Iterator[KeptRedis]:
    (tmp_path / "redis").mkdir()
    server = KeptRedis(redis_binary(), tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def parts() -> Iterator[list[Part]]:
    started: list[Part] = []
    yield started
    for part in started:
        part.kill_leftovers()


def zone_at(hour: int, now: datetime) -> ZoneInfo:
    """A fixed-offset zone where it is now hour:MM (the minutes of UTC)."""
    offset = (hour - now.hour + 36) % 24 - 12  # -12 .. +11
    return ZoneInfo(f"Etc/GMT{-offset:+d}" if offset else "UTC")  # Etc/GMT-3 is UTC+3


def calendar_for(email: str, zone: ZoneInfo, now: datetime) -> bytes:
    """A calendar for email: a coffee with Dan within the hour (its prep note is due at once)
    and a mentoring chat 70 days ago (a career chat is due)."""
    local = now.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=40)
    coffee = local + timedelta(minutes=-local.minute % 5)
    mentoring = datetime.combine(local.date() - timedelta(days=70), time(16), zone)
    events = [
        ("coffee", "Coffee with Dan", coffee, "dan@touchpoint.local", email),
        ("mentoring", "Mentoring with Grace", mentoring, "grace@touchpoint.local", GRACE),
    ]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Touchpoint//Deployment test//EN"]
    for name, title, start, other, organizer in events:
        end = start + timedelta(minutes=30)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{name}-{email}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID={zone.key}:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={zone.key}:{end:%Y%m%dT%H%M%S}",
            f"SUMMARY:{title}",
            f"ORGANIZER:mailto:{organizer}",
            *(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{who}" for who in (email, other)),
            "END:VEVENT",
        ]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


def add_users(url: str, box: SecretBox, feeds: FeedServer, zone: ZoneInfo) -> list[str]:
    """Users with a calendar address each, as if they had connected it (not synced yet); their
    addresses."""
    now, engine = clock.now(), create_engine(url)
    with Session(engine) as session, session.begin():
        users = []
        for number in range(USERS):
            email, path = f"u{number:04d}@touchpoint.local", f"/cal/{number}.ics"
            feeds.feeds[path] = Feed(calendar_for(email, zone, now), etag=f'"v1-{number}"')
            user = User(email=email, tz=zone.key, work_days="0,1,2,3,4,5,6")
            secret = box.seal(feeds.url(path))
            session.add_all([user, Connection(user=user, kind="ics_url", secret=secret)])
            users.append(user)
        addresses = [user.email for user in users]
    engine.dispose()
    return addresses


def _notes_due(url: str) -> int:
    """Count the prep notes due now and not sent (a meeting that has not started)."""
    now = clock.now()
    due = (
        select(func.count())
        .select_from(PlannedNote)
        .where(PlannedNote.status == "planned", PlannedNote.due_at <= now, PlannedNote.start > now)
    )
    sent = select(func.count()).select_from(PlannedNote).where(PlannedNote.status == "sent")
    return count(url, due) + max(USERS + 1 - count(url, sent), 0)


def count(url: str, query: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_a_deployment_sharing_only_postgresql_and_redis_survives_a_killed_worker_and_redis(
    tmp_path: Path,
    stack_database: str,
    kept_redis: KeptRedis,
    smtp_server: SmtpServer,
    parts: list[Part],
) -> None:
    url, port = stack_database, free_port()
    key = Fernet.generate_key().decode()
    env = environment(
        TOUCHPOINT_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        TOUCHPOINT_ENCRYPTION_KEYS=key,
        DATABASE_URL=url,
        REDIS_URL=kept_redis.url,
        TOUCHPOINT_BASE_URL=f"http://127.0.0.1:{port}",
        TOUCHPOINT_ALLOW_HTTP="true",
        TOUCHPOINT_ALLOW_NETWORKS="127.0.0.1/32",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_STARTTLS="false",
        TOUCHPOINT_LOG_FORMAT="json",
        TOUCHPOINT_METRICS_TOKEN=METRICS_TOKEN,
        TOUCHPOINT_METRICS_HOST="127.0.0.1",
    )
    homes = tmp_path / "machines"
    migrate = Part(homes / "migrate", "migrate", **env)
    assert migrate.process.wait(timeout=120) == 0, migrate.text()
    web = Part(
        homes / "web", "web", **env, TOUCHPOINT_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2"
    )
    worker_ports = [free_port(), free_port(), free_port()]
    workers = [
        Part(homes / f"worker-{n}", "worker", **env, TOUCHPOINT_METRICS_PORT=str(worker_ports[n]))
        for n in range(2)
    ]
    parts += [web, *workers]
    site = f"http://127.0.0.1:{port}"
    wait_for(lambda: _status(f"{site}/healthz") == 200, "the web answers /healthz", parts, WAIT)

    with serving() as feeds:
        zone = zone_at(14, clock.now())  # an afternoon: nobody's morning, no proposal yet
        users = add_users(url, SecretBox([key]), feeds, zone)
        scheduler_port = free_port()
        scheduler = Part(
            homes / "scheduler", "scheduler", **env, TOUCHPOINT_METRICS_PORT=str(scheduler_port)
        )
        parts.append(scheduler)
        for part in ("worker", "scheduler"):  # what a container's health check runs
            healthy = functools.partial(_healthy, part, homes / "worker-1", env)
            wait_for(healthy, f"{part} health", parts, WAIT)
        _sign_in_and_upload(site, smtp_server, zone, parts)
        synced = (
            select(func.count()).select_from(Connection).where(Connection.synced_at.is_not(None))
        )

        # A third of the way through, a worker dies in the middle of a sync (with the process
        # running it); another starts. The sync is done again once RQ sees its heartbeat lapse.
        wait_for(lambda: count(url, synced) >= USERS // 3, "a third synced", parts, WAIT)
        redis = Redis.from_url(kept_redis.url)
        wait_for(lambda: _syncing(redis, workers[0].pid), "a sync on the first worker", parts, WAIT)
        workers[0].kill()
        redis.close()
        replacement = Part(
            homes / "worker-0-again", "worker", **env, TOUCHPOINT_METRICS_PORT=str(worker_ports[2])
        )
        parts.append(replacement)
        # Redis restarts two thirds of the way through (its append-only file kept).
        wait_for(lambda: count(url, synced) >= 2 * USERS // 3, "two thirds synced", parts, WAIT)
        kept_redis.restart()

        everyone = len(users) + 1  # and the web user's upload
        wait_for(lambda: count(url, synced) == everyone, "every connection synced", parts, WAIT)
        wait_for(lambda: _notes_due(url) == 0, "every due prep note sent", parts, WAIT)
        unsent = select(func.count()).where(OutboxEmail.sent_at.is_(None))
        wait_for(lambda: count(url, unsent) == 0, "the outbox empty", parts, WAIT)

        # A release, and some users' morning now (their settings changed): a new scheduler.
        assert scheduler.stop() == 0, scheduler.text()
        morning = zone_at(8, clock.now())
        early = _set_zone(url, morning, [*users[:EARLY], WEB_USER])
        scheduler = Part(
            homes / "scheduler-again",
            "scheduler",
            **env,
            TOUCHPOINT_METRICS_PORT=str(scheduler_port),
        )
        parts.append(scheduler)
        proposals = select(func.count(func.distinct(Proposal.user_id)))
        wait_for(lambda: count(url, proposals) >= len(early), "their proposals", parts, WAIT)
        wait_for(lambda: count(url, unsent) == 0, "the outbox empty again", parts, WAIT)

    _every_prep_note_arrived_once(url, smtp_server)
    _one_proposal_each(url, smtp_server, early)
    _metrics_tell_what_happened(site, worker_ports[1], scheduler_port)
    _logs_are_json([part for part in parts if part is not workers[0]])  # not the one cut off
    for part in [web, workers[1], replacement, scheduler]:
        assert part.alive(), f"{part.part} stopped:\n{part.text()}"
        assert part.stop() == 0, part.text()
    # Nothing was kept on any machine: production writes no data directory anywhere.
    assert not [p for p in homes.rglob("*") if p.name not in {"output.log"} and p.is_file()]


def _syncing(redis: Redis, pid: int) -> bool:
    """Tell whether the worker with this process id is running a sync job now."""
    for worker in Worker.all(connection=redis):
        if worker.pid == pid:
            return (worker.get_current_job_id() or "").startswith("sync-")
    return False


def _healthy(part: str, home: Path, env: dict[str, str]) -> bool:
    """Run `entrypoint.sh health PART` in a machine's directory: exit 0, saying who is alive."""
    command = [str(ENTRYPOINT), "health", part]
    ran = subprocess.run(command, cwd=home, env=env, capture_output=True, text=True, check=False)
    return ran.returncode == 0 and ran.stdout.startswith("alive: ")


def _status(address: str) -> int:
    try:
        return requests.get(address, timeout=5).status_code
    except requests.RequestException:
        return 0


def _sign_in_and_upload(site: str, smtp: SmtpServer, zone: ZoneInfo, parts: list[Part]) -> None:
    """Sign in through the emailed link and upload a calendar, as a person does."""
    browser = requests.Session()
    page = browser.get(f"{site}/signin", timeout=10)
    form = {"email": WEB_USER, "csrf_token": csrf_token(page.text)}
    assert browser.post(f"{site}/signin", data=form, timeout=10).status_code == 200
    wait_for(lambda: _link(smtp) is not None, "the sign-in email", parts, WAIT)
    link = _link(smtp)
    assert link is not None
    confirm = browser.get(link, timeout=10)
    browser.post(link, data={"csrf_token": csrf_token(confirm.text)}, timeout=10)
    page = browser.get(f"{site}/connect", timeout=10)
    upload = browser.post(
        f"{site}/connect/upload",
        data={"csrf_token": csrf_token(page.text[page.text.index("/connect/upload") :])},
        files={"file": ("work.ics", calendar_for(WEB_USER, zone, clock.now()), "text/calendar")},
        timeout=60,
    )
    assert upload.status_code == 200
    assert "Connected: work.ics" in upload.text, upload.text[-800:]


def _link(smtp: SmtpServer) -> str | None:
    for message in smtp.messages:
        if message["To"] == WEB_USER:
            body = message.get_body(("plain",))
            assert body is not None
            found = re.search(r"http://\S+/signin/\S+", str(body.get_content()))
            return found.group(0) if found else None
    return None


def _set_zone(url: str, zone: ZoneInfo, users: list[str]) -> set[str]:
    """Move these users (addresses) to a zone, as if they had changed it in their settings."""
    engine = create_engine(url)
    with engine.begin() as connection:
        moved = update(User).where(User.email.in_(users))
        moved = moved.values(tz=zone.key, work_days="0,1,2,3,4,5,6")
        assert connection.execute(moved).rowcount == len(users)
    engine.dispose()
    return set(users)


def _every_prep_note_arrived_once(url: str, smtp: SmtpServer) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEmail.message_id, OutboxEmail.resends, OutboxEmail.kind)
        ).all()
        notes = session.execute(
            select(PlannedNote.id, PlannedNote.outbox_id).where(PlannedNote.status == "sent")
        ).all()
    engine.dispose()
    arrived = Counter(message["Message-ID"] for message in smtp.messages)
    by_id = {message_id: (resends, kind) for message_id, resends, kind in rows}
    assert all(outbox_id for _note, outbox_id in notes)  # every sent note has its one email
    for message_id, (resends, kind) in by_id.items():
        # Every email arrived; twice only when a send was cut off after the server had it
        # (the same Message-ID, which mail clients show once).
        assert 1 <= arrived[message_id] <= 1 + resends, (kind, message_id, arrived[message_id])
    assert set(arrived) <= set(by_id)  # nothing arrived that the outbox does not know
    prep = [m for m in smtp.messages if str(m["Subject"]).startswith("Prep: coffee with Dan")]
    assert len({m["To"] for m in prep}) == USERS + 1


def _one_proposal_each(url: str, smtp: SmtpServer, early: set[str]) -> None:
    """Everyone whose morning it was got one proposal (row and email); nobody else got one."""
    engine = create_engine(url)
    with Session(engine) as session:
        per_user = Counter(session.scalars(select(User.email).join(Proposal)))
    engine.dispose()
    chats = [m for m in smtp.messages if str(m["Subject"]).startswith("15 minutes")]
    assert per_user == Counter(dict.fromkeys(early, 1))
    assert Counter(m["To"] for m in chats) == Counter(dict.fromkeys(early, 1))


def _metrics_tell_what_happened(site: str, worker_port: int, scheduler_port: int) -> None:
    assert _status(f"{site}/metrics") == 404  # not public
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    page = requests.get(f"{site}/metrics", headers=bearer, timeout=10).text
    assert re.search(r'touchpoint_http_requests_total\{endpoint="connect.connect_upload"', page)
    worker = requests.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=10).text
    done = r'touchpoint_jobs_total\{job="sync_connection_job",outcome="done",queue="sync"\} [1-9]'
    assert re.search(done, worker)
    assert re.search(r'touchpoint_emails_total\{outcome="sent"\} [1-9]', worker)
    state = requests.get(f"http://127.0.0.1:{scheduler_port}/metrics", timeout=10).text
    assert "touchpoint_state_up 1.0" in state
    assert f'touchpoint_connections{{kind="ics_url",status="ok"}} {USERS}.0' in state
    assert "touchpoint_oldest_unsent_email_seconds 0.0" in state
    assert 'touchpoint_queue_jobs{queue="email"}' in state


def _logs_are_json(parts: list[Part]) -> None:
    job_ids, accesses = set(), []
    for part in parts:
        for line in part.text().splitlines():
            record = json.loads(line)  # every line is one JSON object
            assert {"time", "level", "message", "part", "request_id", "job_id"} <= set(record)
            assert "/signin/" not in line or "/signin/…" in line  # no live link in a log
            job_ids.add(record["job_id"])
            if record["logger"] == "gunicorn.access":
                accesses.append(record)
    assert any(job_id.startswith("sync-") for job_id in job_ids)  # a job's own lines name it
    assert accesses
    for access in accesses:  # each request's line names its id, as its answer did
        assert access["message"].endswith(f" id={access['request_id']}"), access

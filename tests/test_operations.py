"""What an operator sees: JSON log lines with request and job ids, /metrics behind a token, the
service's state as gauges, errors reported to a DSN (a local server speaking Sentry's protocol),
and `touchpoint health`. Nothing secret in any of them."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from rq import Queue

from service.adapters import logs
from service.adapters.redis import connect
from service.config import Settings
from tests.commands import ROOT, fresh
from tests.factories import ALICE
from workers import runtime
from workers.metrics import ServiceState
from workers.schedule import build_worker

SECRET_LINK = "https://touchpoint.example/signin/12.Sekr1t-T0ken_xyz"
log = logging.getLogger("tests.operations")


def tell(link: str) -> str:
    """A job that logs a line holding a secret link."""
    log.info("sent the link %s", link)
    return "done"


def explode(link: str) -> None:
    """A job that fails with a secret link in its error."""
    raise RuntimeError(f"could not open {link}")


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Log as a deployed part does (call it with the part's name); read the lines it wrote."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def lines() -> list[dict[str, Any]]:
        # RQ's worker adds a handler of its own to its logger: the lines of ours are the objects.
        err = capsys.readouterr().err
        return [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    yield lambda part: logs.configure(part, "json") and lines
    root.handlers[:], root.level = handlers, level


def test_a_job_logs_one_json_object_a_line_with_its_job_id_and_no_secret(
    settings: Settings, json_logs: Any
) -> None:
    lines = json_logs("worker")
    runtime.use(settings)
    connection = connect(settings.redis_url)
    job = Queue("email", connection=connection).enqueue(tell, SECRET_LINK, job_id="job-7")
    try:
        build_worker(connection, ["email"], fork=False).work(burst=True)
    finally:
        runtime.reset()

    told = [record for record in lines() if record["logger"] == "tests.operations"]
    assert job.get_status() == "finished"
    assert told == [
        {
            "time": told[0]["time"],
            "level": "INFO",
            "logger": "tests.operations",
            "part": "worker",
            "message": "sent the link https://touchpoint.example/signin/…",
            "request_id": "",
            "job_id": "job-7",
        }
    ]


def test_a_request_gets_an_id_in_its_log_lines_and_its_answer(app: Any, json_logs: Any) -> None:
    lines = json_logs("web")

    @app.get("/_said")
    def said() -> str:
        logging.getLogger("service.web").warning("looked at %s", SECRET_LINK)
        return "ok"

    client = app.test_client()
    given = client.get("/_said", headers={"X-Request-ID": "edge-42"})
    made = client.get("/_said", headers={"X-Request-ID": "not a sane id; <script>" * 3})

    records = [r for r in lines() if r["logger"] == "service.web"]
    assert given.headers["X-Request-ID"] == "edge-42"
    assert len(made.headers["X-Request-ID"]) == 16  # a new one: the offered one was not plain
    assert [r["request_id"] for r in records] == ["edge-42", made.headers["X-Request-ID"]]
    assert all("Sekr1t" not in r["message"] for r in records)


def test_metrics_answer_only_the_operators_token_and_never_name_a_path(
    app: Any, settings: Settings
) -> None:
    app.extensions["touchpoint"] = settings.with_changes(metrics_token="t" * 40)
    client = app.test_client()
    client.get("/signin/12.Sekr1t-T0ken_xyz")

    nobody = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "u" * 40})
    operator = client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 40})

    assert nobody.status_code == wrong.status_code == 404
    assert operator.status_code == 200
    assert 'endpoint="auth.confirm"' in operator.text
    assert "Sekr1t" not in operator.text


def test_metrics_are_not_served_at_all_without_a_token(client: Any) -> None:
    assert client.get("/metrics").status_code == 404


def test_the_state_gauges_count_connections_and_the_oldest_unsent_email(
    settings: Settings, database: Any
) -> None:
    from datetime import timedelta

    from service import clock
    from service.models import Connection, OutboxEmail, User

    now = clock.now()
    with database.unit() as session:
        user = User(email=ALICE, tz="Europe/Berlin")
        late = Connection(user=user, kind="ics_url", next_sync_at=now - timedelta(minutes=20))
        broken = Connection(user=user, kind="ics_url", status="broken")
        waiting = OutboxEmail(kind="prep_note", to=ALICE, subject="s", text="t", message_id="<m@x>")
        waiting.created_at = now - timedelta(minutes=5)
        session.add_all([user, late, broken, waiting])
    runtime.use(settings)
    Queue("sync", connection=connect(settings.redis_url)).enqueue(tell, "x")
    registry = CollectorRegistry()
    registry.register(ServiceState(connect(settings.redis_url)))
    try:
        page = generate_latest(registry).decode()
    finally:
        runtime.reset()

    values = dict(
        line.rsplit(" ", 1) for line in page.splitlines() if line and not line.startswith("#")
    )
    assert values["touchpoint_state_up"] == "1.0"
    assert values['touchpoint_connections{kind="ics_url",status="ok"}'] == "1.0"
    assert values['touchpoint_connections{kind="ics_url",status="broken"}'] == "1.0"
    assert values['touchpoint_queue_jobs{queue="sync"}'] == "1.0"
    assert 1190 < float(values["touchpoint_sync_lag_seconds"]) < 1300
    assert 290 < float(values["touchpoint_oldest_unsent_email_seconds"]) < 400


class _Sentry(ThreadingHTTPServer):
    """Takes what a Sentry client sends (envelopes), decompressed."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SentryHandler)
        self.received: list[bytes] = []


class _SentryHandler(BaseHTTPRequestHandler):
    server: _Sentry

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.received.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test's output quiet: the reporter's requests are asserted, not logged."""


def test_with_a_dsn_a_failing_job_is_reported_without_its_secret(settings: Settings) -> None:
    sentry = _Sentry()
    thread = threading.Thread(target=sentry.serve_forever, daemon=True)
    thread.start()
    try:
        Queue("email", connection=connect(settings.redis_url)).enqueue(explode, SECRET_LINK)
        ran = subprocess.run(
            [sys.executable, "-m", "service.cli", "worker", "--burst", "--queues", "email"],
            env=fresh(
                DATABASE_URL=settings.database_url,
                REDIS_URL=settings.redis_url,
                TOUCHPOINT_DATA_DIR=str(settings.data_dir),
                SENTRY_DSN=f"http://public@127.0.0.1:{sentry.server_address[1]}/1",
                PYTHONPATH=str(ROOT),
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        sentry.shutdown()
        sentry.server_close()
        thread.join()

    sent = "\n".join(_readable(envelope) for envelope in sentry.received)
    assert ran.returncode == 0, ran.stderr
    assert "RuntimeError" in sent
    assert "could not open https://touchpoint.example/signin/…" in sent
    assert "Sekr1t" not in sent


def _readable(envelope: bytes) -> str:
    """An envelope's JSON lines, with their strings as written (not \\u escapes)."""
    lines = []
    for line in envelope.decode().splitlines():
        try:
            lines.append(json.dumps(json.loads(line), ensure_ascii=False))
        except ValueError:
            lines.append(line)
    return "\n".join(lines)


def test_health_says_whether_a_worker_of_this_machine_is_alive(settings: Settings) -> None:
    from workers.health import alive_here

    connection = connect(settings.redis_url)
    before = alive_here(connection, "worker")
    worker = build_worker(connection, ["email"], fork=False)
    worker.register_birth()
    try:
        during = alive_here(connection, "worker")
        elsewhere = alive_here(connection, "worker", hostname="another-machine")
    finally:
        worker.register_death()

    assert before == []
    assert during == [worker.name]
    assert elsewhere == []
    assert alive_here(connection, "scheduler") == []

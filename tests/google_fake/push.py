"""Push notifications for events.watch channels, delivered in order by one background thread.

Reference: https://developers.google.com/workspace/calendar/api/guides/push
A new channel gets a "sync" message at once; every later change to the calendar an "exists".
Each delivery is recorded in `State.notifications` with the status the receiver answered.
"""

from __future__ import annotations

import http.client
import queue
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tests.google_fake.state import Calendar, Channel, State


class Pusher:
    def __init__(self, state: State, api_url: str) -> None:
        self.state = state
        self.api_url = api_url
        self.queue: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._deliver_all, name="fake-google-push")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)

    def flush(self) -> None:
        """Wait until every notification queued so far has been delivered."""
        self.queue.join()

    def changed(self, calendar: Calendar) -> None:
        """Tell every live channel on this calendar that its events changed."""
        for channel in self.state.channels:
            if channel.calendar_id == calendar.id and channel.live():
                self.send(channel, "exists")

    def send(self, channel: Channel, resource_state: str) -> None:
        channel.messages += 1
        expires = datetime.fromtimestamp(channel.expiration_ms / 1000, UTC)
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Token": channel.token,
            "X-Goog-Channel-Expiration": expires.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "X-Goog-Message-Number": str(channel.messages),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": resource_state,
            "X-Goog-Resource-URI": self.resource_uri(channel.calendar_id),
        }
        self.queue.put((channel.address, headers))

    def resource_uri(self, calendar_id: str) -> str:
        return f"{self.api_url}/calendar/v3/calendars/{calendar_id}/events?alt=json"

    def _deliver_all(self) -> None:
        while (item := self.queue.get()) is not None:
            address, headers = item
            outcome = _post(address, headers)
            with self.state.lock:
                self.state.notifications.append({"address": address, **headers, **outcome})
            self.queue.task_done()


def _post(address: str, headers: dict[str, str]) -> dict[str, object]:
    """POST one notification, keeping Google's header spelling (urllib would recase it)."""
    url = urlsplit(address)
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = kind(url.netloc, timeout=5)
    try:
        connection.request("POST", url.path or "/", body=b"", headers=headers)
        return {"status": connection.getresponse().status}
    except OSError as exc:
        return {"status": None, "error": str(exc)}
    finally:
        connection.close()

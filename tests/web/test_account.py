"""Own the data: export everything (JSON, iCalendar) and delete the account for good."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from service.adapters.redis import connect
from service.config import Settings
from service.models import (
    Connection,
    LoginToken,
    Mark,
    OutboxEmail,
    Proposal,
    Reflection,
    StoredOccurrence,
    User,
)
from service.sources.calendar import store_occurrences, sync_span
from service.web import create_app
from service.web.extensions import db
from tests.factories import ALICE, BERLIN, BOB, CAROL, meeting
from tests.web.forms import csrf_token
from tests.web.forms import sign_in_by_id as sign_in

HOSTILE = "Lunch\r\nATTENDEE:mailto:evil@example.org\r\nX-INJECTED:yes <script>alert(1)</script>"


def recent_lunch_day() -> datetime:
    """Return 12:30 in Berlin on a weekday about ten days back (the export reads the clock)."""
    day = datetime.now(BERLIN) - timedelta(days=10)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day.replace(hour=12, minute=30, second=0, microsecond=0)


def populate(app: Any, email: str, title: str = "Lunch with Carol") -> int:
    """Store a user with something in every table; return the user's id."""
    box = app.extensions["secret_box"]
    with app.app_context():
        user = User(email=email, tz="Europe/Berlin")
        google = Connection(kind="google", label="Work", secret=box.seal(f"refresh-{email}"))
        feed = Connection(kind="ics_url", label="Team", secret=box.seal(f"https://x.org/{email}"))
        user.connections += [google, feed]
        db.session.add(user)
        db.session.flush()
        lunch = meeting(title, recent_lunch_day(), 60, with_=(CAROL,))
        store_occurrences(db.session, google, [lunch], *sync_span(datetime.now(UTC)))
        chat = datetime(2037, 3, 4, 12, 5, tzinfo=UTC)
        slot = [chat.isoformat(), (chat + timedelta(minutes=15)).isoformat()]
        db.session.add_all(
            [
                Mark(user_id=user.id, uid=lunch.uid, kind="meal"),
                Proposal(
                    user_id=user.id, partner=CAROL, reason=f"Reason for {email}", slots=[slot],
                    status="accepted", chosen_start=chat, expires_at=chat,
                ),
                Reflection(user_id=user.id, going_well=f"Going well for {email}"),
                OutboxEmail(
                    user_id=user.id, kind="note", to=email, subject=f"Note for {email}",
                    text="Ask about the roadmap.", message_id=f"<note-{email}>",
                ),
                OutboxEmail(
                    kind="signin", to=email, subject="Sign in", text="a link",
                    message_id=f"<signin-{email}>",
                ),
                LoginToken(email=email, secret_hash=email, expires_at=datetime.now(UTC)),
            ]
        )  # fmt: skip
        db.session.commit()
        return user.id


def rows_of(app: Any, user_id: int, email: str) -> int:
    """Count every row that belongs to the user or is addressed to them."""
    with app.app_context():
        count = sum(
            db.session.scalar(select(func.count()).where(model.user_id == user_id)) or 0
            for model in (Connection, StoredOccurrence, Mark, Proposal, Reflection, OutboxEmail)
        )
        count += db.session.scalar(select(func.count()).where(OutboxEmail.to == email)) or 0
        count += db.session.scalar(select(func.count()).where(LoginToken.email == email)) or 0
        return count + (db.session.scalar(select(func.count()).where(User.id == user_id)) or 0)


def test_the_account_page_offers_both_exports_and_deletion(app: Any, client: Any) -> None:
    sign_in(client, populate(app, ALICE))

    text = client.get("/account").get_data(as_text=True)

    assert 'href="/account/export.json"' in text
    assert 'href="/account/export.ics"' in text
    assert "Delete my account" in text


def test_the_json_export_holds_everything_of_the_user_but_no_secrets(app: Any, client: Any) -> None:
    sign_in(client, populate(app, ALICE))

    response = client.get("/account/export.json")

    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="touchpoint-export.json"'
    )
    data = json.loads(response.data)
    assert data["profile"]["email"] == ALICE
    assert data["connections"] == [
        {"label": "Work", "kind": "google", "status": "ok", **_times(data["connections"][0])},
        {"label": "Team", "kind": "ics_url", "status": "ok", **_times(data["connections"][1])},
    ]
    assert [o["title"] for o in data["occurrences"]] == ["Lunch with Carol"]
    assert [m["kind"] for m in data["marks"]] == ["meal"]
    assert [p["reason"] for p in data["proposals"]] == [f"Reason for {ALICE}"]
    assert [r["going_well"] for r in data["reflections"]] == [f"Going well for {ALICE}"]
    assert [e["subject"] for e in data["emails"]] == [f"Note for {ALICE}"]
    assert b"refresh-" not in response.data
    assert b"https://x.org/" not in response.data


def _times(connection: dict[str, Any]) -> dict[str, Any]:
    return {"created_at": connection["created_at"], "synced_at": connection["synced_at"]}


def test_an_export_holds_nothing_of_another_user(app: Any, client: Any) -> None:
    populate(app, BOB, title="Bob's secret roadmap lunch")
    sign_in(client, populate(app, ALICE))

    exported = client.get("/account/export.json").data + client.get("/account/export.ics").data

    assert b"bob@" not in exported.lower()
    assert b"secret roadmap" not in exported


def test_the_calendar_export_holds_touchpoints_and_booked_chats(app: Any, client: Any) -> None:
    sign_in(client, populate(app, ALICE))

    response = client.get("/account/export.ics")

    assert response.mimetype == "text/calendar"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == ["Career chat with Carol", "Lunch with Carol"]
    chat = next(e for e in events if str(e["SUMMARY"]) == "Career chat with Carol")
    assert chat.decoded("DTSTART") == datetime(2037, 3, 4, 12, 5, tzinfo=UTC)
    assert chat.decoded("DTEND") == datetime(2037, 3, 4, 12, 20, tzinfo=UTC)
    assert [tz["TZID"] for tz in Calendar.from_ical(response.data).walk("VTIMEZONE")] == [
        "Europe/Berlin"
    ]


def test_a_hostile_title_cannot_add_lines_to_the_calendar_export(app: Any, client: Any) -> None:
    sign_in(client, populate(app, ALICE, title=HOSTILE))

    body = client.get("/account/export.ics").data

    lunch = next(e for e in Calendar.from_ical(body).walk("VEVENT") if "Lunch" in e["SUMMARY"])
    assert "\n" not in lunch["SUMMARY"]
    assert "\r" not in lunch["SUMMARY"]
    assert "ATTENDEE" not in lunch
    assert "X-INJECTED" not in lunch
    assert not re.search(rb"^(ATTENDEE|X-INJECTED)", body, re.MULTILINE)


def delete(client: Any, confirm: str) -> Any:
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post("/account/delete", data={"csrf_token": token, "confirm": confirm})


def test_deleting_needs_the_users_own_email_typed(app: Any, client: Any) -> None:
    user_id = populate(app, ALICE)
    sign_in(client, user_id)
    before = rows_of(app, user_id, ALICE)

    page = delete(client, BOB)

    assert page.status_code == 422
    assert "That is not your email address: nothing was deleted." in page.get_data(as_text=True)
    assert rows_of(app, user_id, ALICE) == before


def test_deleting_without_the_forms_csrf_token_is_refused(app: Any, client: Any) -> None:
    user_id = populate(app, ALICE)
    sign_in(client, user_id)
    before = rows_of(app, user_id, ALICE)

    response = client.post("/account/delete", data={"confirm": ALICE})

    assert response.status_code == 400
    assert rows_of(app, user_id, ALICE) == before


class RevokeEndpoint(BaseHTTPRequestHandler):
    """Google's token revocation endpoint, as far as Touchpoint uses it."""

    revoked: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).revoked.append(parse_qs(body)["token"][0])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def revoke_endpoint() -> Iterator[tuple[str, list[str]]]:
    revoked: list[str] = []
    handler = type("Handler", (RevokeEndpoint,), {"revoked": revoked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/revoke", revoked
    server.shutdown()
    server.server_close()
    thread.join()


def app_revoking_at(settings: Settings, revoke_uri: str) -> Any:
    app = create_app(settings.with_changes(google=replace(settings.google, revoke_uri=revoke_uri)))
    app.config["TESTING"] = True
    return app


def test_deleting_revokes_google_and_removes_every_row(
    settings: Settings, revoke_endpoint: tuple[str, list[str]]
) -> None:
    url, revoked = revoke_endpoint
    app = app_revoking_at(settings, url)
    client = app.test_client()
    bob_id, alice_id = populate(app, BOB), populate(app, ALICE)
    bob_rows = rows_of(app, bob_id, BOB)
    sign_in(client, alice_id)

    response = delete(client, " Alice@Example.com ")

    assert response.status_code == 302
    assert revoked == [f"refresh-{ALICE}"]
    assert rows_of(app, alice_id, ALICE) == 0
    assert rows_of(app, bob_id, BOB) == bob_rows
    with client.session_transaction() as session:
        assert "sid" not in session
        assert session["_flashes"] == [("message", "Your account and everything in it is gone.")]


def test_deleting_when_google_cannot_be_reached_still_deletes_and_says_what_to_do(
    settings: Settings,
) -> None:
    app = app_revoking_at(settings, "http://127.0.0.1:9/revoke")  # nothing listens there
    client = app.test_client()
    alice_id = populate(app, ALICE)
    sign_in(client, alice_id)

    delete(client, ALICE)

    assert rows_of(app, alice_id, ALICE) == 0
    with client.session_transaction() as session:
        category, message = session["_flashes"][1]
    assert category == "error"
    assert "Work" in message
    assert "https://myaccount.google.com/permissions" in message


def test_exports_need_a_signed_in_user(client: Any) -> None:
    assert client.get("/account/export.json").status_code == 302
    assert client.get("/account/export.ics").status_code == 302


def test_deleting_leaves_no_email_counter_or_log_of_the_account_behind(
    settings: Settings,
) -> None:
    app = create_app(settings.with_changes(rate_limits=True))
    app.config["TESTING"] = True
    browsers = {}
    for email in (ALICE, BOB):  # a sign-in link each (an email file), a connect attempt each
        browser = app.test_client()
        token = csrf_token(browser.get("/signin").get_data(as_text=True))
        browser.post("/signin", data={"csrf_token": token, "email": email})
        user_id = populate(app, email)
        sign_in(browser, user_id)
        token = csrf_token(browser.get("/connect").get_data(as_text=True))
        browser.post("/connect/url", data={"csrf_token": token, "url": "http://127.0.0.1:1/x.ics"})
        browsers[email] = (browser, user_id)
    outbox = settings.outbox_dir
    assert len(list(outbox.glob("*.eml"))) == 2
    redis = connect(settings.redis_url)
    alice, alice_id = browsers[ALICE]
    bob_id = browsers[BOB][1]
    assert any(f"/user:{alice_id}/".encode() in key for key in redis.keys("*"))

    assert delete(alice, ALICE).status_code == 302

    left = [path.read_text() for path in outbox.glob("*.eml")]
    assert len(left) == 1
    assert f"To: {BOB}" in left[0]
    assert not any(f"/user:{alice_id}/".encode() in key for key in redis.keys("*"))
    assert any(f"/user:{bob_id}/".encode() in key for key in redis.keys("*"))
    wal = Path(settings.database_url.removeprefix("sqlite:///") + "-wal")
    if settings.database_url.startswith("sqlite"):
        assert not wal.exists() or wal.stat().st_size == 0
    db.dispose()

"""Sign in with Google and connect a Google Calendar, against the fake Google's consent screen."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text, update

from service.adapters.google import APP_CALENDARS, EVENTS_OWNED, FREEBUSY
from service.config import Settings
from service.models import Connection, OAuthState, StoredOccurrence, User
from service.sources.schedule import due_connections
from service.web.extensions import db
from tests.factories import ALICE, BOB, CAROL, NOW
from tests.google_server import FakeGoogle
from tests.web.forms import csrf_token, post_form, sign_in_as

LUNCH = {
    "summary": "Lunch with Carol",
    "start": {"dateTime": "2026-03-04T12:00:00Z", "timeZone": "UTC"},
    "end": {"dateTime": "2026-03-04T13:00:00Z", "timeZone": "UTC"},
    "attendees": [
        {"email": ALICE, "responseStatus": "accepted", "self": True},
        {"email": CAROL, "responseStatus": "accepted"},
    ],
}


@pytest.fixture
def settings(settings: Settings, google_server: FakeGoogle) -> Settings:
    return settings.with_changes(google=google_server.google_settings())


@pytest.fixture
def frozen(app: Any) -> Any:
    app.config["NOW"] = lambda: NOW
    return app


def words(response: Any) -> str:
    """Return a page as a user reads it: entities decoded, runs of white space as one."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def start(client: Any, path: str = "/google/signin") -> str:
    """Start a round trip (sign in, or connect when path is the connect form's action)."""
    connect = path == "/google/connect"
    response = post_form(client, path, {}, page="/connect") if connect else client.get(path)
    assert response.status_code == 302
    return str(response.headers["Location"])


def through_google(client: Any, google_server: FakeGoogle, path: str = "/google/signin") -> Any:
    """Start, approve Google's consent screen, and follow its redirect back."""
    return client.get(google_server.approve(start(client, path)))


def rows(app: Any, model: Any) -> list[Any]:
    with app.app_context():
        return list(db.session.scalars(select(model)))


def test_signing_in_with_google_creates_the_account_and_shows_the_lunch_as_a_touchpoint(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    google_server.add_event(ALICE, LUNCH)
    signin = words(client.get("/signin?next=/settings"))
    assert 'href="/google/signin?next=/settings">Sign in with Google' in signin

    response = through_google(client, google_server, "/google/signin?next=/settings")

    assert (response.status_code, response.headers["Location"]) == (302, "/settings")
    assert f"Connected Google Calendar {ALICE}: 1 event" in words(client.get("/settings"))
    dashboard = words(client.get("/"))
    assert "Lunch with Carol" in dashboard.split("Coming up in the next 14 days")[1]
    [user] = rows(frozen, User)
    [connection] = rows(frozen, Connection)
    assert user.email == ALICE
    assert (connection.user_id, connection.kind, connection.label) == (user.id, "google", ALICE)


def test_a_first_google_sign_in_goes_on_to_the_second_step_and_a_later_one_home(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    google_server.add_event(ALICE, LUNCH)

    first = through_google(client, google_server)
    assert first.headers["Location"] == "/welcome/you"  # the calendar is connected: step 2
    assert "Check who you are" in words(client.get("/welcome/you"))
    post_form(client, "/signout", {}, page="/welcome/you")
    again = through_google(client, google_server)

    assert again.headers["Location"] == "/"


def test_an_account_made_by_email_link_connects_google_from_the_connect_page(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    user_id = sign_in_as(client, frozen, ALICE)
    google_server.add_event(ALICE, LUNCH)
    assert "Connect Google Calendar" in words(client.get("/connect"))

    response = through_google(client, google_server, "/google/connect")

    assert response.headers["Location"] == "/"
    [connection] = rows(frozen, Connection)
    assert (connection.user_id, connection.label) == (user_id, ALICE)
    assert len(rows(frozen, User)) == 1
    assert len(rows(frozen, StoredOccurrence)) == 1


def test_calendar_notes_add_the_scope_for_a_calendar_of_touchpoints_own(
    frozen: Any, client: Any
) -> None:
    sign_in_as(client, frozen, ALICE)
    plain = query(start(client, "/google/connect"))
    with frozen.app_context():
        db.session.execute(update(User).values(calendar_notes=True))
        db.session.commit()
    notes = query(start(client, "/google/connect"))

    assert APP_CALENDARS not in plain["scope"].split()
    assert {EVENTS_OWNED, FREEBUSY, APP_CALENDARS} <= set(notes["scope"].split())


def test_an_unticked_calendar_box_signs_in_but_connects_nothing_and_says_why(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    google_server.consent(grant={EVENTS_OWNED})

    response = through_google(client, google_server)

    page = words(response)
    assert response.status_code == 200
    assert f"You are signed in as <strong>{ALICE}</strong>." in page
    assert "Your Google Calendar is not connected" in page
    assert "See the availability on Google calendars you have access to" in page
    assert "See, create, change, and delete events" not in page  # that box stayed ticked
    assert "Try again</button>" in page
    assert rows(frozen, Connection) == []
    assert client.get("/").status_code == 200  # signed in
    again = client.post("/google/connect", data={"csrf_token": csrf_token(response.text)})
    assert again.headers["Location"].startswith(google_server.auth_uri)


def test_unticking_on_connect_stores_nothing_for_the_calendar(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    sign_in_as(client, frozen, ALICE)
    google_server.consent(grant=set())

    page = words(through_google(client, google_server, "/google/connect"))

    assert "See, create, change, and delete events on Google calendars you own" in page
    assert "See the availability on Google calendars you have access to" in page
    assert rows(frozen, Connection) == []


def test_saying_no_at_google_shows_a_page_to_try_again_and_creates_no_account(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    google_server.consent(deny=True)

    page = words(through_google(client, google_server))

    assert "You did not allow Touchpoint to use your Google account" in page
    assert 'href="/google/signin">Try again' in page
    assert rows(frozen, User) == []


def test_a_callback_used_twice_or_made_up_is_refused(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    callback = google_server.approve(start(client))
    assert client.get(callback).status_code == 302

    again = client.get(callback)

    assert again.status_code == 400
    assert "This Google sign-in has expired or was already used" in words(again)
    assert client.get("/google/callback?state=made-up-é&code=any").status_code == 400


def test_a_round_trip_older_than_ten_minutes_is_refused(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    consent = start(client)
    with frozen.app_context():
        old = frozen.config["NOW"]() - timedelta(minutes=11)
        db.session.execute(update(OAuthState).values(created_at=old))
        db.session.commit()

    response = client.get(google_server.approve(consent))

    assert response.status_code == 400
    assert "expired or was already used" in words(response)
    assert rows(frozen, User) == []


def test_a_callback_opened_in_another_browser_signs_nobody_in(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    callback = google_server.approve(start(client))  # the attacker's browser and account

    victim = frozen.test_client()
    response = victim.get(callback)

    assert response.status_code == 400
    assert victim.get("/").status_code == 302  # still signed out
    assert rows(frozen, User) == []


def test_the_pkce_verifier_stays_on_the_server(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    consent = start(client)
    [flight] = rows(frozen, OAuthState)
    cookie = client.get_cookie("session").value
    in_session = frozen.session_interface.get_signing_serializer(frozen).loads(cookie)

    asked = query(consent)
    assert asked["code_challenge_method"] == "S256"
    assert asked["state"] == flight.state == in_session["google_oauth"]["state"]
    assert flight.code_verifier not in consent
    assert flight.code_verifier not in str(in_session)
    client.get(google_server.approve(consent))
    exchange = google_server.calls("POST", r"^/token$")[0]
    assert exchange.body["code_verifier"] == flight.code_verifier


@pytest.fixture
def grant(frozen: Any, client: Any, google_server: FakeGoogle) -> Any:
    """Alice signed in with Google, her calendar (with the lunch) connected: Google's grant."""
    google_server.add_event(ALICE, LUNCH)
    through_google(client, google_server)
    [grant] = google_server.state.grants
    return grant


def disconnect(client: Any, app: Any) -> Any:
    [connection] = rows(app, Connection)
    url = f"/connect/{connection.id}/disconnect"
    return post_form(client, url, {}, page="/connect", follow_redirects=True)


def test_only_a_sealed_refresh_token_is_stored(
    frozen: Any, google_server: FakeGoogle, grant: Any
) -> None:
    with frozen.app_context():
        [(secret, scopes)] = db.session.execute(text("SELECT secret, scopes FROM connections"))
    assert grant.refresh_token.encode() not in bytes(secret)
    assert google_server.client_secret.encode() not in bytes(secret)
    assert frozen.extensions["secret_box"].open(bytes(secret)) == grant.refresh_token
    assert set(scopes.split()) == grant.scopes


def test_disconnecting_revokes_the_grant_and_deletes_what_was_synced(
    frozen: Any, client: Any, google_server: FakeGoogle, grant: Any
) -> None:
    page = words(disconnect(client, frozen))

    assert f"Disconnected: {ALICE}." in page
    assert grant.refresh_token in google_server.revoked
    assert rows(frozen, Connection) == []
    assert rows(frozen, StoredOccurrence) == []


def test_disconnecting_while_google_is_down_deletes_and_says_where_to_remove_access(
    frozen: Any, client: Any, google_server: FakeGoogle, grant: Any
) -> None:
    google_server.fail_next(r"^/revoke$", 503)

    page = words(disconnect(client, frozen))

    assert "Remove it yourself at https://myaccount.google.com/permissions" in page
    assert google_server.revoked == set()
    assert rows(frozen, Connection) == []
    assert rows(frozen, StoredOccurrence) == []


def test_a_google_outage_during_refresh_shows_a_sentence_and_keeps_the_calendar_retrying(
    frozen: Any, client: Any, google_server: FakeGoogle, grant: Any
) -> None:
    [connection] = rows(frozen, Connection)
    google_server.fail_next(r"/events$", 503)

    url = f"/connect/{connection.id}/refresh"
    response = post_form(client, url, {}, page="/connect", follow_redirects=True)

    assert response.status_code == 200  # it was the 500 page
    page = words(response)
    assert f"{ALICE} could not be refreshed. Google is unavailable for now" in page
    assert "Touchpoint will try again later by itself." in page
    [failing] = rows(frozen, Connection)
    assert failing.status == "failing"
    with frozen.app_context():
        later = frozen.config["NOW"]() + timedelta(hours=3)
        assert due_connections(db.session(), later) == [connection.id]


def test_a_google_outage_at_the_token_endpoint_shows_a_page_not_an_error(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    google_server.fail_next(r"^/token$", 500, method="POST")

    response = through_google(client, google_server)

    assert response.status_code == 502
    assert "Google did not answer" in words(response)
    assert rows(frozen, User) == []


def test_a_connect_started_by_one_account_cannot_finish_in_another(
    frozen: Any, client: Any, google_server: FakeGoogle
) -> None:
    sign_in_as(client, frozen, ALICE)
    consent = start(client, "/google/connect")
    sign_in_as(client, frozen, BOB)
    with client.session_transaction() as session:  # even with alice's round trip carried over
        session["google_oauth"] = {"state": query(consent)["state"], "next": ""}

    response = client.get(google_server.approve(consent))

    assert response.status_code == 400
    assert rows(frozen, Connection) == []

"""The secret .ics feed of prep notes and booked chats, and the links in every note email."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import icalendar
import pytest
from flask import Flask

from service.adapters.db import Database
from service.adapters.links import Purpose
from service.config import Settings
from service.models import Proposal, User
from service.notes.email import SNOOZE_LINK, UNSUBSCRIBE_LINK, token
from service.notes.feed import feed_token, retire_feed
from service.proposals.propose import unsubscribe_token
from service.web import notes_feed
from tests.factories import CAROL, DAN, NOW, add_user, at, lunch_with_carol, meeting, plan, resync
from tests.web.forms import csrf_token, sign_in_by_id

# Tuesday 3 March, the day after NOW: a lunch and a coffee, each with a prep note.
LUNCH = lunch_with_carol(at(3, 12))
COFFEE = meeting("Coffee with Dan", at(3, 15), 30, with_=(DAN,), uid="coffee-dan@test")
CHAT = at(5, 9, 15)
SLOTS = [[CHAT.isoformat(), (CHAT + timedelta(minutes=15)).isoformat()]]


@pytest.fixture
def app(app: Flask) -> Flask:
    if "notes_feed" not in app.blueprints:  # until create_app registers it
        app.register_blueprint(notes_feed.bp)
    app.config["NOW"] = lambda: NOW
    return app


def alice_with_notes(database: Database, settings: Settings, **changes: Any) -> int:
    """Store alice with a lunch and a coffee tomorrow, their notes planned, and a booked chat."""
    user_id = add_user(database, [LUNCH, COFFEE], **changes)
    plan(database, settings, user_id)
    with database.unit() as session:
        booked = {"status": "accepted", "chosen_start": CHAT, "booked_at": NOW}
        session.add(
            Proposal(user_id=user_id, partner=CAROL, slots=SLOTS, expires_at=CHAT, **booked)
        )
    return user_id


def feed_path(settings: Settings, database: Database, user_id: int) -> str:
    with database.unit() as session:
        return f"/feed/{feed_token(settings.secret_key, session.get_one(User, user_id))}.ics"


def link(settings: Settings, database: Database, user_id: int, purpose: Purpose) -> str:
    """Return the path of the user's unsubscribe or snooze link, as the emails carry it."""
    page = "unsubscribe" if purpose == UNSUBSCRIBE_LINK else "snooze"
    return f"/notes/{page}/{token(settings.secret_key, user_of(database, user_id), purpose)}"


def events_of(response: Any) -> list[Any]:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return list(icalendar.Calendar.from_ical(response.data).walk("VEVENT"))


def user_of(database: Database, user_id: int) -> User:
    with database.unit() as session:
        return session.get_one(User, user_id)


def test_the_feed_serves_the_notes_and_the_booked_chat(
    client: Any, settings: Settings, database: Database
) -> None:
    user_id = alice_with_notes(database, settings)

    events = events_of(client.get(feed_path(settings, database, user_id)))

    by_title = {str(e["SUMMARY"]): e for e in events}
    assert sorted(by_title) == [
        "Career chat: Alice and Carol",
        "Prep: coffee with Dan (Tue 15:00)",
        "Prep: lunch with Carol (Tue 12:00)",
    ]
    lunch = by_title["Prep: lunch with Carol (Tue 12:00)"]
    assert lunch.decoded("DTSTART") == lunch.decoded("DTEND") == at(3, 11)
    assert "Carol" in str(lunch["DESCRIPTION"])
    assert by_title["Career chat: Alice and Carol"].decoded("DTSTART") == CHAT


def test_a_cancelled_meeting_leaves_the_feed(
    client: Any, settings: Settings, database: Database
) -> None:
    user_id = alice_with_notes(database, settings)
    resync(database, user_id, [COFFEE])
    plan(database, settings, user_id)

    events = events_of(client.get(feed_path(settings, database, user_id)))

    # Planned again after the chat was booked: the chat itself gets a prep note now.
    assert sorted(str(e["SUMMARY"]) for e in events) == [
        "Career chat: Alice and Carol",
        "Prep: career chat with Carol (Thu 09:15)",
        "Prep: coffee with Dan (Tue 15:00)",
    ]


def test_an_unchanged_feed_answers_not_modified(
    client: Any, settings: Settings, database: Database
) -> None:
    path = feed_path(settings, database, alice_with_notes(database, settings))
    first = client.get(path)

    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert "private" in first.headers["Cache-Control"]


def test_a_tampered_retired_or_foreign_token_is_not_found(
    client: Any, settings: Settings, database: Database
) -> None:
    user_id = alice_with_notes(database, settings)
    old = feed_path(settings, database, user_id)
    with database.unit() as session:
        retire_feed(session.get_one(User, user_id))
    new = feed_path(settings, database, user_id)
    unsubscribe = unsubscribe_token(settings.secret_key, user_of(database, user_id))

    assert client.get(old).status_code == 404
    tampered = "y" if new[-8] == "x" else "x"
    assert client.get(new[:-8] + tampered + new[-7:]).status_code == 404
    assert client.get(f"/feed/{unsubscribe}.ics").status_code == 404
    assert client.get(new).status_code == 200


def test_a_hostile_title_cannot_add_events_or_lines_to_the_feed(
    client: Any, settings: Settings, database: Database
) -> None:
    title = "Lunch\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Injected <b>x</b>"
    user_id = add_user(database, [meeting(title, at(3, 12), 60, with_=(CAROL,))])
    plan(database, settings, user_id)

    (event,) = events_of(client.get(feed_path(settings, database, user_id)))

    assert "\n" not in str(event["SUMMARY"])
    assert not str(event["SUMMARY"]).startswith("Injected")


def test_one_click_unsubscribe_stops_prep_notes_only(
    client: Any, settings: Settings, database: Database
) -> None:
    user_id = alice_with_notes(database, settings)
    path = link(settings, database, user_id, UNSUBSCRIBE_LINK)

    assert "Unsubscribe from prep notes" in client.get(path).text
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    user = user_of(database, user_id)
    assert (user.email_notes, user.weekly_nudges) == (False, 1)


def test_an_unsubscribe_link_of_another_kind_is_not_found(
    client: Any, settings: Settings, database: Database
) -> None:
    user = user_of(database, alice_with_notes(database, settings))
    snooze = token(settings.secret_key, user, SNOOZE_LINK)

    assert client.post(f"/notes/unsubscribe/{snooze}").status_code == 404
    assert client.get(f"/notes/snooze/{snooze}x").status_code == 404
    assert user_of(database, user.id).email_notes is True


def test_the_snooze_link_pauses_notes_for_a_week_after_one_button(
    client: Any, settings: Settings, database: Database
) -> None:
    user_id = alice_with_notes(database, settings)
    path = link(settings, database, user_id, SNOOZE_LINK)

    page = client.get(path)
    assert user_of(database, user_id).paused_until is None
    done = client.post(path, data={"csrf_token": csrf_token(page.text), "snooze": "Pause"})

    assert "Paused until Mon 9 Mar" in done.text
    assert user_of(database, user_id).paused_until == NOW.astimezone(UTC) + timedelta(days=7)


def test_snoozing_without_the_form_token_changes_nothing(
    client: Any, settings: Settings, database: Database
) -> None:
    user_id = alice_with_notes(database, settings)
    path = link(settings, database, user_id, SNOOZE_LINK)

    assert client.post(path, data={"snooze": "Pause"}).status_code == 400
    assert user_of(database, user_id).paused_until is None


FEED_ADDRESS = re.compile(r'id="feed-url" type="text" value="http://localhost(/feed/[^"]+\.ics)"')


def feed_on_settings(client: Any) -> str | None:
    """The feed address the settings page shows, as a path; None when it shows none."""
    found = FEED_ADDRESS.search(client.get("/settings").text)
    return found.group(1) if found else None


def press(client: Any, action: str) -> Any:
    token = csrf_token(client.get("/settings").text)
    return client.post("/settings/feed", data={"csrf_token": token, "action": action})


def test_settings_show_the_feed_address_to_copy_renew_or_turn_off(
    client: Any, settings: Settings, database: Database
) -> None:
    sign_in_by_id(client, alice_with_notes(database, settings))
    first = feed_on_settings(client)
    assert first is not None
    assert client.get(first).status_code == 200
    assert 'data-copy="feed-url"' in client.get("/settings").text

    press(client, "new")
    second = feed_on_settings(client)
    assert second is not None
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200

    press(client, "off")
    assert feed_on_settings(client) is None
    assert "Your prep notes feed is off." in client.get("/settings").text
    assert client.get(second).status_code == 404

    press(client, "new")  # on again, at an address never given out before
    third = feed_on_settings(client)
    assert third not in (None, first, second)
    assert client.get(third or "").status_code == 200
    assert client.get(second).status_code == 404


def test_the_feed_controls_need_the_csrf_token_and_a_known_action(
    client: Any, settings: Settings, database: Database
) -> None:
    sign_in_by_id(client, alice_with_notes(database, settings))
    path = feed_on_settings(client)

    assert client.post("/settings/feed", data={"action": "off"}).status_code == 400
    assert press(client, "explode").status_code == 400
    assert feed_on_settings(client) == path

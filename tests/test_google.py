"""The Google Calendar client, through the real google-api-python-client, against the fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from service.adapters import google
from tests.factories import ALICE, BOB, CAROL, DAN, at, calendar_client, google_lunch
from tests.google_server import FakeGoogle


def titles(events: list[dict[str, Any]]) -> set[str]:
    return {event.get("summary", event["status"]) for event in events}


def test_a_full_sync_follows_every_page_and_ends_with_a_sync_token(google_server: FakeGoogle):
    for day in range(2, 7):
        google_server.add_event(ALICE, google_lunch(f"Lunch {day}", day))

    events, token = google.list_events(calendar_client(google_server), page_size=2)

    assert titles(events) == {f"Lunch {day}" for day in range(2, 7)}
    assert token
    assert len(google_server.calls("GET", "/calendar/v3/calendars/primary/events$")) == 3


def test_an_incremental_sync_brings_only_changes_and_deletions(google_server: FakeGoogle):
    kept = google_server.add_event(ALICE, google_lunch("Coffee with Carol"))
    moved = google_server.add_event(ALICE, google_lunch("Lunch with Bob"))
    gone = google_server.add_event(ALICE, google_lunch("Project sync"))
    service = calendar_client(google_server)
    _, token = google.list_events(service)

    google_server.update_event(ALICE, moved["id"], start={"dateTime": at(4, 12).isoformat()})
    google_server.remove_event(ALICE, gone["id"])
    google_server.add_event(ALICE, google_lunch("Mentoring chat", 5))
    changes, token = google.list_events(service, sync_token=token)

    by_id = {event["id"]: event for event in changes}
    assert kept["id"] not in by_id
    assert by_id[moved["id"]]["start"]["dateTime"] == at(4, 12).isoformat()
    assert by_id[gone["id"]]["status"] == "cancelled"
    assert "Mentoring chat" in titles(changes)
    assert google.list_events(service, sync_token=token)[0] == []


def test_a_full_sync_keeps_cancelled_instances_of_a_series_but_not_deleted_events(
    google_server: FakeGoogle,
):
    weekly = google_lunch("1:1 Bob", recurrence=["RRULE:FREQ=WEEKLY;BYDAY=TU"])
    series = google_server.add_event(ALICE, weekly)
    google_server.add_event(
        ALICE,
        {
            "id": f"{series['id']}_20260310T110000Z",
            "status": "cancelled",
            "recurringEventId": series["id"],
            "originalStartTime": {"dateTime": "2026-03-10T12:00:00+01:00"},
        },
    )
    deleted = google_server.add_event(ALICE, google_lunch("Old lunch"))
    google_server.remove_event(ALICE, deleted["id"])

    events, _ = google.list_events(calendar_client(google_server))

    assert {event.get("recurringEventId", event["id"]) for event in events} == {series["id"]}
    assert sorted(event["status"] for event in events) == ["cancelled", "confirmed"]


def test_a_full_sync_can_start_at_a_date(google_server: FakeGoogle):
    google_server.add_event(ALICE, {**google_lunch("Last month"), **_in(2, 2)})
    google_server.add_event(ALICE, google_lunch("This week", day=3))

    events, _ = google.list_events(calendar_client(google_server), time_min=at(1, 0))

    assert titles(events) == {"This week"}


def _in(month: int, day: int) -> dict[str, Any]:
    start = at(day, 12, month=month)
    return {
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


def test_a_sync_token_cannot_be_combined_with_a_window(google_server: FakeGoogle):
    with pytest.raises(ValueError, match="sync token"):
        google.list_events(calendar_client(google_server), sync_token="t", time_min=at(1, 0))


def test_an_expired_sync_token_asks_for_a_full_sync(google_server: FakeGoogle):
    google_server.add_event(ALICE, google_lunch())
    service = calendar_client(google_server)
    _, token = google.list_events(service)
    google_server.expire_sync_tokens()

    with pytest.raises(google.SyncTokenExpired):
        google.list_events(service, sync_token=token)
    events, fresh = google.list_events(service)

    assert titles(events) == {"Lunch with Bob"}
    assert google.list_events(service, sync_token=fresh)[0] == []


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (429, None, google.RateLimited),
        (403, "userRateLimitExceeded", google.RateLimited),
        (500, None, google.TransientGoogleError),
        (503, None, google.TransientGoogleError),
    ],
)
def test_overload_is_a_transient_error_and_the_next_try_succeeds(
    google_server: FakeGoogle, status: int, reason: str | None, error: type[Exception]
):
    google_server.add_event(ALICE, google_lunch())
    service = calendar_client(google_server)
    google_server.fail_next("/events$", status, reason=reason)

    with pytest.raises(error) as raised:
        google.list_events(service)

    assert isinstance(raised.value, google.TransientGoogleError)
    assert titles(google.list_events(service)[0]) == {"Lunch with Bob"}


def test_a_missing_event_is_a_permanent_error(google_server: FakeGoogle):
    with pytest.raises(google.NotFound) as raised:
        google.get_event(calendar_client(google_server), "primary", "nosuchevent")

    assert isinstance(raised.value, google.PermanentGoogleError)
    assert not isinstance(raised.value, google.TransientGoogleError)


def test_a_calendar_without_the_calendar_scope_is_refused_for_good(google_server: FakeGoogle):
    sign_in_only = {"openid", "https://www.googleapis.com/auth/userinfo.email"}

    with pytest.raises(google.PermanentGoogleError) as raised:
        google.list_events(calendar_client(google_server, scopes=sign_in_only))

    assert raised.value.status == 403


def test_a_revoked_grant_means_the_user_must_reconnect(google_server: FakeGoogle):
    service = calendar_client(google_server)
    google.list_events(service)  # holds a valid access token now
    google_server.revoke_user(ALICE)

    with pytest.raises(google.CredentialsRevoked):
        google.list_events(service)


def test_a_token_refused_once_is_refreshed_and_the_call_goes_through(google_server: FakeGoogle):
    google_server.add_event(ALICE, google_lunch())
    google_server.fail_next("/events$", 401)

    events, _ = google.list_events(calendar_client(google_server))

    assert titles(events) == {"Lunch with Bob"}


def test_fresh_tokens_refused_again_and_again_count_as_revoked(google_server: FakeGoogle):
    google_server.fail_next("/events$", 401, times=3)

    with pytest.raises(google.CredentialsRevoked):
        google.list_events(calendar_client(google_server))


def test_inserting_twice_with_the_same_id_books_one_event(google_server: FakeGoogle):
    service = calendar_client(google_server)
    event_id = google.event_id_for("proposal:42")
    chat = google_lunch("Career chat with Bob")

    first = google.insert_event(service, "primary", event_id, chat)
    again = google.insert_event(service, "primary", event_id, chat)

    assert first["id"] == again["id"] == event_id
    assert [e["id"] for e in google_server.events(ALICE)] == [event_id]
    inserts = google_server.calls("POST", "/events$")
    assert [call.query["sendUpdates"] for call in inserts] == ["all", "all"]


def test_event_ids_are_stable_per_thing_and_valid_for_google():
    first, again = google.event_id_for("proposal:42"), google.event_id_for("proposal:42")

    assert first == again != google.event_id_for("proposal:43")
    assert set(first) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(first) <= 1024


def test_a_moved_and_then_deleted_event_reaches_the_next_sync(google_server: FakeGoogle):
    service = calendar_client(google_server)
    note = google.insert_event(service, "primary", google.event_id_for("note:1"), google_lunch())
    _, token = google.list_events(service)

    moved = google.patch_event(service, "primary", note["id"], _in(3, 4))
    google.delete_event(service, "primary", note["id"])
    google.delete_event(service, "primary", note["id"])  # already gone: fine
    changes, _ = google.list_events(service, sync_token=token)

    assert moved["sequence"] == note["sequence"] + 1
    assert [(e["id"], e["status"]) for e in changes] == [(note["id"], "cancelled")]


def test_free_busy_shows_only_calendars_the_user_may_see(google_server: FakeGoogle):
    google_server.busy(BOB, at(3, 10), at(3, 11))
    google_server.busy(BOB, at(3, 10, 30), at(3, 12))
    google_server.busy(CAROL, at(3, 14), at(3, 15))
    google_server.hide_free_busy(CAROL)

    busy = google.free_busy(calendar_client(google_server), [BOB, CAROL, DAN], at(3, 0), at(4, 0))

    assert busy == {BOB: [(at(3, 10), at(3, 12))]}


def test_free_busy_asks_for_many_people_in_batches(google_server: FakeGoogle):
    people = [f"person{n}@example.com" for n in range(120)]
    for email in people:
        google_server.busy(email, at(3, 9), at(3, 10))

    busy = google.free_busy(calendar_client(google_server), people, at(3, 0), at(4, 0))

    assert set(busy) == set(people)
    assert len(google_server.calls("POST", "/freeBusy$")) == 3


def test_the_prep_note_calendar_is_created_once_and_recreated_if_deleted(
    google_server: FakeGoogle,
):
    service = calendar_client(google_server)

    made = google.ensure_app_calendar(service, time_zone="Europe/Berlin")
    kept = google.ensure_app_calendar(service, known_id=made)
    del google_server.calendars[made]  # the user deleted it in Google Calendar
    remade = google.ensure_app_calendar(service, known_id=made)

    assert kept == made != remade
    assert google_server.calendars[remade].summary == "Touchpoint prep notes"
    assert len(google_server.calls("POST", "/calendars$")) == 2

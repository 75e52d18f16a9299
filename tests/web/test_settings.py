"""The settings page: what a user sets is saved; what is wrong is explained and kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from service.models import User
from service.web.extensions import db
from service.web.settings import UNTIL_RESUMED
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN
from tests.web.forms import csrf_token, sign_in_as

GOOD = {
    "stage": "internal_move",
    "goal": "Move to the platform team within a year",
    "ideal_days": "30",
    "max_days": "45",
    "hours_start": "08:30",
    "hours_end": "16:00",
    "work_days": ["0", "2", "4"],
    "tz": "Europe/Berlin",
    "manager_email": "Bob@Example.com",
    "include_people": f"{CAROL}\n{DAN}, {ERIN}",
    "never_suggest": BOB,
    "email_notes": "y",
    "lead_minutes": "30",
    "digest": "y",
    "weekly_nudges": "2",
}


def signed_in(app: Any, client: Any, **changes: object) -> int:
    """Store alice as a user (with any settings changed) and sign her in; return her id."""
    return sign_in_as(client, app, ALICE, **changes)


def user_row(app: Any, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user


def save(client: Any, **changes: Any) -> Any:
    token = csrf_token(client.get("/settings").get_data(as_text=True))
    return client.post("/settings", data={**GOOD, **changes, "csrf_token": token})


def test_the_page_shows_the_current_settings(app: Any, client: Any) -> None:
    signed_in(app, client, goal="Lead the Atlas team", stage="external_move", max_days=90)

    page = client.get("/settings")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Lead the Atlas team" in text
    assert '<option selected value="external_move">' in text
    assert 'value="90"' in text


def test_saving_stores_every_setting_and_says_saved(app: Any, client: Any) -> None:
    user_id = signed_in(app, client)

    response = save(client)

    assert response.status_code == 302
    assert "Saved." in client.get(response.headers["Location"]).get_data(as_text=True)
    user = user_row(app, user_id)
    assert (user.stage, user.goal) == ("internal_move", "Move to the platform team within a year")
    assert (user.ideal_days, user.max_days) == (30, 45)
    assert (user.hours_start, user.hours_end, user.work_days) == ("08:30", "16:00", "0,2,4")
    assert (user.tz, user.manager_email) == ("Europe/Berlin", BOB)
    assert user.include_people.split() == [CAROL, DAN, ERIN]
    assert user.never_suggest == BOB
    assert (user.email_notes, user.calendar_notes, user.digest) == (True, False, True)
    assert (user.lead_minutes, user.weekly_nudges) == (30, 2)


def test_wrong_answers_are_explained_next_to_their_fields_and_kept(app: Any, client: Any) -> None:
    user_id = signed_in(app, client)

    page = save(
        client,
        ideal_days="90",
        max_days="30",
        hours_end="07:00",
        never_suggest="carol@example.com, not-an-address",
        lead_minutes="2",
        goal="Keep what I typed",
    )

    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Must be at least the ideal (90 days)." in text
    assert "The end of the day must come after its start." in text
    assert "Not email addresses: not-an-address" in text
    assert "A whole number from 5 to 1440." in text
    assert "Keep what I typed" in text
    assert "carol@example.com, not-an-address" in text
    assert user_row(app, user_id).ideal_days == 45


def test_a_number_that_is_not_a_number_is_explained(app: Any, client: Any) -> None:
    signed_in(app, client)

    page = save(client, weekly_nudges="lots")

    assert page.status_code == 422
    assert 'value="lots"' in page.get_data(as_text=True)
    assert "Not a valid integer value." in page.get_data(as_text=True)


def test_an_unknown_time_zone_is_refused(app: Any, client: Any) -> None:
    user_id = signed_in(app, client)

    page = save(client, tz="Mars/Olympus_Mons")

    assert page.status_code == 422
    assert user_row(app, user_id).tz == "UTC"


def test_at_least_one_working_day_is_needed(app: Any, client: Any) -> None:
    signed_in(app, client)

    page = save(client, work_days=[])

    assert page.status_code == 422
    assert "Pick at least one working day." in page.get_data(as_text=True)


def test_saving_without_the_forms_csrf_token_is_refused(app: Any, client: Any) -> None:
    user_id = signed_in(app, client)

    response = client.post("/settings", data=GOOD)

    assert response.status_code == 400
    assert user_row(app, user_id).stage == "growth"


def test_the_browser_time_zone_is_offered_while_the_account_has_the_default(
    app: Any, client: Any
) -> None:
    signed_in(app, client)

    text = client.get("/settings").get_data(as_text=True)

    assert 'data-detect="yes"' in text
    assert '<script src="/static/tz.js" defer></script>' in text
    with client.get("/static/tz.js") as script:
        assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in script.get_data(as_text=True)


def test_a_chosen_time_zone_is_not_overridden_by_the_browser(app: Any, client: Any) -> None:
    signed_in(app, client, tz="America/New_York")

    text = client.get("/settings").get_data(as_text=True)

    assert "data-detect" not in text
    assert '<option selected value="America/New_York">' in text


def test_a_hostile_goal_is_shown_as_text(app: Any, client: Any) -> None:
    signed_in(app, client, goal="</textarea><script>alert(1)</script>")

    text = client.get("/settings").get_data(as_text=True)

    assert "<script>alert(1)" not in text
    assert "&lt;/textarea&gt;&lt;script&gt;" in text


def pause(client: Any, button: str) -> Any:
    token = csrf_token(client.get("/settings").get_data(as_text=True))
    return client.post("/settings/pause", data={"csrf_token": token, button: "x"})


def test_pausing_for_a_week_stops_nudges_for_seven_days(app: Any, client: Any) -> None:
    user_id = signed_in(app, client)

    response = pause(client, "week")

    paused_until = user_row(app, user_id).paused_until
    assert paused_until is not None
    assert abs(paused_until - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Paused until" in page
    assert 'name="resume"' in page


def test_pausing_until_resumed_and_resuming(app: Any, client: Any) -> None:
    user_id = signed_in(app, client)

    pause(client, "until_resumed")
    assert user_row(app, user_id).paused_until == UNTIL_RESUMED
    assert "paused until you resume" in client.get("/settings").get_data(as_text=True)

    pause(client, "resume")
    assert user_row(app, user_id).paused_until is None


def test_an_anonymous_visitor_is_sent_to_sign_in_first(client: Any) -> None:
    response = client.get("/settings")

    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/settings"]

"""The dashboard: cadence clock, touchpoints with notes, marks, proposals, mix, reflection log."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from service.engine.model import Occurrence
from service.models import Connection, Mark, PlannedNote, Proposal, Reflection, User
from service.sources.calendar import store_occurrences, sync_span
from service.web.extensions import db
from tests.factories import ALICE, BOB, CAROL, DAN, ERIN, NOW, at, meeting
from tests.web.forms import sign_in_by_id as sign_in

MENTORING = meeting("Mentoring with Dan", at(17, 9, month=2), with_=(DAN,))  # 12 days before NOW
COFFEE = meeting("Coffee with Carol", at(27, 10, month=2), with_=(CAROL,))  # last Friday
LUNCH = meeting("Lunch with Carol", at(4, 12), 60, with_=(CAROL,))  # Wednesday


@pytest.fixture
def frozen(app: Any) -> Any:
    app.config["NOW"] = lambda: NOW
    return app


def add_user(email: str = ALICE, **changes: Any) -> int:
    with db.unit() as session:
        fields: dict[str, Any] = {"tz": "Europe/Berlin", "manager_email": BOB, **changes}
        user = User(email=email, **fields)
        session.add(user)
        session.flush()
        return user.id


def add_calendar(user_id: int, occurrences: list[Occurrence]) -> None:
    with db.unit() as session:
        connection = Connection(user_id=user_id, kind="ics_upload", label="work.ics")
        session.add(connection)
        session.flush()
        store_occurrences(session, connection, occurrences, *sync_span(NOW))


def alice_with(client: Any, occurrences: list[Occurrence], **changes: Any) -> int:
    user_id = add_user(**changes)
    add_calendar(user_id, occurrences)
    sign_in(client, user_id)
    return user_id


def page(client: Any, path: str = "/") -> str:
    """Return the page as a user reads it: entities decoded, runs of white space as one."""
    response = client.get(path)
    assert response.status_code == 200
    return " ".join(unescape(response.get_data(as_text=True)).split())


def post(client: Any, path: str, **data: str) -> Any:
    """Post a form with the CSRF token the dashboard gave, as a browser would."""
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    return client.post(path, data={"csrf_token": token.group(1), **data})


def section(html: str, heading: str) -> str:
    """Return the text of the page from a heading to the next h2."""
    start = html.index(heading)
    end = html.find("<h2", start)
    return html[start : end if end != -1 else None]


def marks_of(user_id: int) -> list[tuple[str, str | None]]:
    with db.unit() as session:
        return [
            (m.uid, m.kind) for m in session.scalars(select(Mark).where(Mark.user_id == user_id))
        ]


# The cadence clock and the touchpoints ------------------------------------------------------


def test_it_says_how_many_days_ago_the_last_career_conversation_was(
    frozen: Any, client: Any
) -> None:
    alice_with(client, [MENTORING, LUNCH])

    html = page(client)

    assert "Your last career conversation was 12 days ago." in html
    assert "You aim for one every 45 days, 60 at most." in html
    assert '<meter min="0" max="60" low="45" high="60" optimum="0" value="12"' in html


def test_without_any_career_conversation_it_says_one_is_due(frozen: Any, client: Any) -> None:
    alice_with(client, [LUNCH])

    html = page(client)

    assert "No career conversation on your calendar yet." in html
    assert "A career conversation is due." in html


def test_an_upcoming_lunch_shows_with_its_prep_note_and_reasons(frozen: Any, client: Any) -> None:
    alice_with(client, [MENTORING, LUNCH])

    upcoming = section(page(client), "Coming up in the next 14 days")

    assert "Wednesday 4 March" in upcoming
    assert "12:00\u201313:00" in upcoming
    assert "Lunch with Carol" in upcoming
    assert "Why: title mentions Lunch; just you and Carol; at lunchtime" in upcoming
    assert "Prep: lunch with Carol (Wed 12:00)" in upcoming
    assert "<li>At lunch with Carol, keep it light: one question is enough." in upcoming


def test_not_a_touchpoint_removes_the_lunch_and_is_remembered(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [MENTORING, LUNCH])

    response = post(client, "/marks", uid=LUNCH.uid, kind="none")
    html = page(client)

    assert response.status_code == 302
    assert "Marked “Lunch with Carol” as not a touchpoint." in html
    assert "Lunch with Carol" not in section(html, "Coming up in the next 14 days")
    assert "Lunch with Carol: not a touchpoint" in section(html, "Your marks")
    assert marks_of(user_id) == [(LUNCH.uid, None)]


def test_this_was_a_career_conversation_resets_the_clock(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [MENTORING, COFFEE, LUNCH])
    assert "This was a career conversation" in section(page(client), "The last 7 days")

    post(client, "/marks", uid=COFFEE.uid, kind="career")

    assert "Your last career conversation was 2 days ago." in page(client)
    assert marks_of(user_id) == [(COFFEE.uid, "career")]


def test_marking_again_changes_the_mark_instead_of_adding_one(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [COFFEE])

    post(client, "/marks", uid=COFFEE.uid, kind="career")
    post(client, "/marks", uid=COFFEE.uid, kind="none")

    assert marks_of(user_id) == [(COFFEE.uid, None)]


def test_undo_puts_the_clock_back(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [MENTORING, COFFEE])
    post(client, "/marks", uid=COFFEE.uid, kind="career")
    [mark_id] = _mark_ids(user_id)

    response = post(client, f"/marks/{mark_id}/undo")

    assert response.status_code == 302
    assert "Your last career conversation was 12 days ago." in page(client)
    assert marks_of(user_id) == []


def _mark_ids(user_id: int) -> list[int]:
    with db.unit() as session:
        return list(session.scalars(select(Mark.id).where(Mark.user_id == user_id)))


def test_someone_elses_mark_cannot_be_undone(frozen: Any, client: Any) -> None:
    bob_id = add_user(BOB)
    add_calendar(bob_id, [COFFEE])
    with db.unit() as session:
        session.add(Mark(user_id=bob_id, uid=COFFEE.uid, kind="career"))
    alice_with(client, [COFFEE])

    response = post(client, f"/marks/{_mark_ids(bob_id)[0]}/undo")

    assert response.status_code == 404
    assert marks_of(bob_id) == [(COFFEE.uid, "career")]


def test_an_event_not_on_your_own_calendar_cannot_be_marked(frozen: Any, client: Any) -> None:
    bob_id = add_user(BOB)
    add_calendar(bob_id, [LUNCH])
    user_id = alice_with(client, [COFFEE])

    assert post(client, "/marks", uid=LUNCH.uid, kind="none").status_code == 404
    assert post(client, "/marks", uid="x\x00y", kind="none").status_code == 404
    assert marks_of(user_id) == []


def test_an_odd_mark_is_refused_with_a_message(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [COFFEE])

    response = post(client, "/marks", uid=COFFEE.uid, kind="<b>boss</b>")

    assert response.status_code == 302
    assert "That mark did not make sense; nothing was changed." in page(client)
    assert marks_of(user_id) == []


def test_a_mark_without_the_csrf_token_is_refused(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [COFFEE])

    response = client.post("/marks", data={"uid": COFFEE.uid, "kind": "none"})

    assert response.status_code == 400
    assert marks_of(user_id) == []


def test_a_hostile_title_renders_as_plain_text(frozen: Any, client: Any) -> None:
    title = "Lunch <script>alert(1)</script>\r\nBcc: victim@example.com"
    alice_with(client, [meeting(title, at(4, 12), 60, with_=(CAROL,))])

    html = client.get("/").get_data(as_text=True)

    assert "<script>alert(1)" not in html
    assert "Lunch &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_without_a_calendar_it_invites_to_connect_one(frozen: Any, client: Any) -> None:
    sign_in(client, add_user())

    html = page(client)

    assert "Connect a calendar to begin" in html
    assert 'href="/connect' in html
    assert "Touchpoint will find your last career conversation" in html
    assert "is due" not in html  # nothing is known yet, so nothing is due


def test_the_navigation_links_the_pages_that_exist(frozen: Any, client: Any) -> None:
    alice_with(client, [LUNCH])

    nav = page(client).split('<nav class="main" aria-label="Main">')[1].split("</nav>")[0]

    assert '<a href="/" aria-current="page">Dashboard</a>' in nav  # the page you are on
    assert '<a href="/reflections">Reflections</a>' in nav


def test_anonymous_visitors_are_sent_to_sign_in(app: Any, client: Any) -> None:
    if "auth.signin" not in app.view_functions:
        pytest.skip("the sign-in page (auth.signin) is not written yet")

    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signin?next=/")


# Proposals and suggestions ------------------------------------------------------------------


def test_open_proposals_show_their_times_and_reason(app: Any, frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [LUNCH])
    with db.unit() as session:
        for status, expires in (("proposed", 3), ("proposed", -1), ("accepted", 3)):
            session.add(_proposal(user_id, status, NOW + timedelta(days=expires)))

    proposals = section(page(client), "Open proposals")

    assert proposals.count("15 minutes with Carol") == 1
    assert "Carol has lunch with you on Wednesday." in proposals
    assert "Wed 4 Mar 13:05" in proposals
    assert "Suggested:" not in proposals
    if "proposals.show" in app.view_functions:
        assert 'href="/p/' in proposals


def _proposal(user_id: int, status: str, expires: Any) -> Proposal:
    slot = [at(4, 13, 5).isoformat(), at(4, 13, 20).isoformat()]
    return Proposal(
        user_id=user_id,
        partner=CAROL,
        reason="Carol has lunch with you on Wednesday.",
        slots=[slot, ["not a time", "either"]],
        status=status,
        expires_at=expires,
        created_at=NOW,
    )


def test_when_a_chat_is_due_it_suggests_one(frozen: Any, client: Any) -> None:
    alice_with(client, [MENTORING, LUNCH], max_days=10)

    suggested = section(page(client), "Suggested career chat")

    assert "Suggested: 15 minutes with Carol, at one of these times:" in suggested
    assert "<li>Wed 4 Mar 13:05</li>" in suggested
    assert (
        "You have lunch with Carol on Wed 4 Mar; ask for fifteen minutes right after." in suggested
    )


def test_a_day_with_many_touchpoints_shows_the_first_ones_and_how_many_more(
    frozen: Any, client: Any
) -> None:
    coffees = [
        meeting(
            f"Coffee {n:02d} with Carol", at(4, 8) + timedelta(minutes=20 * n), 15, with_=(CAROL,)
        )
        for n in range(20)
    ]
    alice_with(client, coffees)

    html = page(client)
    day = html[html.index('data-date="2026-03-04"') : html.index('data-date="2026-03-05"')]

    assert day.count('class="chip kind-coffee"') == 12
    assert "Coffee 11 with Carol" in day
    assert "Coffee 12 with Carol" not in day
    assert "and 8 more" in day
    upcoming = section(html, "Coming up in the next 14 days")
    assert upcoming.count('<span class="tp-title">Coffee') == 12
    assert "And 8 more on the busiest days, not listed here." in upcoming


# The people mix -----------------------------------------------------------------------------


def test_the_people_mix_counts_each_category(frozen: Any, client: Any) -> None:
    alice_with(
        client,
        [
            MENTORING,
            meeting("1:1 Alice / Bob", at(23, 10, month=2), with_=(BOB,)),
            meeting("Sprint planning", at(10, 10, month=2), 45, with_=(CAROL, DAN)),
            meeting("Lunch with Erin", at(5, 12, month=2), 60, with_=(ERIN,)),
        ],
    )

    mix = section(page(client), "Who you talked to this past year")

    assert '<th scope="row">Manager</th> <td>1</td> <td>Bob (1)</td>' in mix
    assert '<th scope="row">Mentors</th> <td>2</td> <td>Dan (2)</td>' in mix
    assert '<th scope="row">Peers</th> <td>1</td> <td>Carol (1)</td>' in mix
    assert '<th scope="row">External</th> <td>1</td> <td>Erin (1)</td>' in mix
    assert "Mentors: anyone else you had a career conversation with." in mix


# The reflection log -------------------------------------------------------------------------


def reflect(client: Any, **fields: str) -> Any:
    data = {"going_well": "", "missing": "", "opportunity": "", "person": "", "back": "dashboard"}
    return post(client, "/reflections", **{**data, **fields})


def test_a_reflection_is_added_and_listed(frozen: Any, client: Any) -> None:
    alice_with(client, [LUNCH])

    response = reflect(client, going_well="Shipped <the> importer", person="Carol")

    assert response.status_code == 302
    assert "Shipped <the> importer" in section(page(client), "Reflection log")
    assert "Shipped <the> importer" in page(client, "/reflections")
    assert "Mon 2 Mar 08:00" in page(client, "/reflections")


def test_an_empty_reflection_is_refused_with_a_message(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [LUNCH])

    response = reflect(client, going_well="   ", person="Carol")

    assert response.status_code == 400
    assert "Write at least one line" in unescape(response.get_data(as_text=True))
    assert _reflections(user_id) == []


def test_an_overlong_reflection_is_refused_and_its_text_kept(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [LUNCH])
    words = "x" * 2001

    response = reflect(client, missing=words)
    html = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "At most 2000 characters, please." in html
    assert words in html
    assert _reflections(user_id) == []


def _reflections(user_id: int) -> list[str]:
    with db.unit() as session:
        query = select(Reflection.missing).where(Reflection.user_id == user_id)
        return list(session.scalars(query))


def test_reflections_export_as_json_and_markdown(frozen: Any, client: Any) -> None:
    alice_with(client, [LUNCH])
    reflect(client, missing="Feedback from Bob", opportunity="Lead the importer")

    as_json = client.get("/reflections.json")
    as_markdown = client.get("/reflections.md")

    assert as_json.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(as_json.data)["reflections"][0]["missing"] == "Feedback from Bob"
    assert as_markdown.headers["Content-Disposition"].startswith("attachment")
    assert "**What the opportunity is:**\n\nLead the importer" in as_markdown.get_data(as_text=True)


def test_someone_elses_reflection_cannot_be_read_deleted_or_exported(
    frozen: Any, client: Any
) -> None:
    bob_id = add_user(BOB)
    with db.unit() as session:
        entry = Reflection(user_id=bob_id, missing="Bob's secret", created_at=NOW)
        session.add(entry)
        session.flush()
        entry_id = entry.id
    alice_with(client, [LUNCH])

    assert client.get(f"/reflections/{entry_id}").status_code == 404
    assert post(client, f"/reflections/{entry_id}/delete").status_code == 404
    assert "Bob's secret" not in client.get("/reflections.json").get_data(as_text=True)
    assert "Bob's secret" not in client.get("/reflections.md").get_data(as_text=True)
    assert _reflections(bob_id) == ["Bob's secret"]


def test_your_own_reflection_can_be_read_and_deleted(frozen: Any, client: Any) -> None:
    user_id = alice_with(client, [LUNCH])
    reflect(client, missing="More feedback")
    with db.unit() as session:
        [entry_id] = session.scalars(select(Reflection.id).where(Reflection.user_id == user_id))

    assert "More feedback" in page(client, f"/reflections/{entry_id}")
    assert post(client, f"/reflections/{entry_id}/delete").status_code == 302
    assert _reflections(user_id) == []


def test_a_user_still_on_utc_is_asked_to_set_a_time_zone(frozen: Any, client: Any) -> None:
    sign_in(client, add_user(tz="UTC"))

    assert "Set your time zone" in page(client)


def test_a_user_with_a_time_zone_is_not_asked_again(frozen: Any, client: Any) -> None:
    sign_in(client, add_user())

    assert "Set your time zone" not in page(client)


def test_a_daily_stand_up_is_one_row_with_its_next_date_and_one_note_a_week(
    frozen: Any, client: Any
) -> None:
    days = [at(2, 9, 30) + timedelta(days=n) for n in range(14)]
    standups = [
        meeting("Atlas stand-up", day, 15, with_=(CAROL, DAN), uid="standup@test", recurring=True)
        for day in days
        if day.weekday() < 5
    ]
    alice_with(client, standups)

    text = page(client)

    assert text.count('<span class="tp-title">Atlas stand-up</span>') == 1  # one card, not ten
    assert text.count("Prep: Atlas stand-up") == 1
    assert "Repeats 9 more times, until Fri 13 Mar: one note a week." in text
    assert "Today" in text  # the row sits on its next date


def test_the_dashboard_shows_the_note_the_email_will_send_prompts_remembered(
    frozen: Any, client: Any
) -> None:
    user_id = alice_with(client, [LUNCH])
    with db.unit() as session:  # a note about Carol went out yesterday with these prompts
        session.add(
            PlannedNote(
                user_id=user_id,
                uid="earlier@test",
                start=NOW - timedelta(days=1),
                due_at=NOW - timedelta(days=1),
                status="sent",
                person=CAROL,
                prompts="first,growth_skill",
            )
        )

    upcoming = section(page(client), "Coming up in the next 14 days")

    assert "Prep: lunch with Carol (Wed 12:00)" in upcoming
    assert "Your first meeting with Carol" not in upcoming
    assert "feedback on one skill" not in upcoming

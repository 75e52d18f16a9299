"""The one-minute reflection after a career conversation: asked once by email, kept in the log.

A chat is due for a reflection once it has ended: a booked proposal 15 minutes after its chosen
time, a career conversation detected on the calendar when it ends. Each has a stable key
(`Reflection.source`): "proposal:<id>" or "chat:<uid>@<start ISO>"; the email's Message-ID is
derived from the user and that key, so the outbox's unique column lets it go once. The reply
link carries the key, so answering twice edits the same entry of the log.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.db import hold
from service.adapters.links import LinkInvalid, Purpose, read_user_token, user_token
from service.config import Settings
from service.engine import dates
from service.engine.classify import classify
from service.engine.i18n import N_, language
from service.engine.i18n import gettext as _
from service.engine.people import address, clean, display_name
from service.engine.relations import Ledger
from service.models import Mark, OutboxEmail, Proposal, Reflection, StoredOccurrence, User
from service.models.proposals import ACCEPTED
from service.proposals.propose import unsubscribe_url
from service.sources.calendar import profile_of, to_engine

LINK_DAYS = 14
REPLY_LINK = Purpose("reflect", max_age=LINK_DAYS * 24 * 60 * 60)
CHAT = timedelta(minutes=15)
# How long after a chat its reflection may still be asked: a worker down for a while catches
# up, and an old chat is never asked about (outbox rows may be purged by then).
BOOKED_WINDOW = timedelta(days=3)
DETECTED_WINDOW = timedelta(hours=24)
TITLE_CHARS = 80
FIELD_CHARS = 2000
LAST_CHARS = 160


@dataclass(frozen=True, slots=True)
class Chat:
    """A conversation that has ended and may be reflected on."""

    source: str  # the stable key: "proposal:<id>" or "chat:<uid>@<start ISO>"
    person: str  # the other person's address, or "" when unknown
    start: datetime
    title: str = ""  # the calendar's title, for a detected one


def due_reflections(session: Session, user: User, now: datetime) -> list[Chat]:
    """Return the user's ended chats whose reflection email has not been queued yet."""
    booked = list(_booked_chats(session, user, now))
    starts = {chat.start for chat in booked}
    # A booked chat synced back from the calendar is the same conversation: ask once.
    detected = [c for c in _detected_chats(session, user, now) if c.start not in starts]
    asked = _asked(session, user)
    return [c for c in booked + detected if _digest(user, c.source) not in asked]


def _booked_chats(session: Session, user: User, now: datetime) -> Iterator[Chat]:
    query = select(Proposal).where(
        Proposal.user_id == user.id,
        Proposal.status == ACCEPTED,
        Proposal.chosen_start < now - CHAT,
        Proposal.chosen_start > now - BOOKED_WINDOW,
    )
    for proposal in session.scalars(query.order_by(Proposal.chosen_start, Proposal.id)):
        assert proposal.chosen_start is not None  # the query says so
        yield Chat(f"proposal:{proposal.id}", proposal.partner or "", proposal.chosen_start)


def _detected_chats(session: Session, user: User, now: datetime) -> Iterator[Chat]:
    """Yield the stored occurrences the engine calls career conversations, ended lately."""
    marks = session.scalars(select(Mark).where(Mark.user_id == user.id)).all()
    profile = profile_of(user, marks)
    query = select(StoredOccurrence).where(
        StoredOccurrence.user_id == user.id,
        StoredOccurrence.all_day.is_(False),
        StoredOccurrence.end > now - DETECTED_WINDOW,
        StoredOccurrence.end <= now,
    )
    for row in session.scalars(query.order_by(StoredOccurrence.start, StoredOccurrence.id)):
        verdict = classify(to_engine(row, profile.tz), profile)
        if verdict.kind == "career":
            person = next((p for p in verdict.people if mail.is_plain_address(p)), "")
            start = row.start.astimezone(UTC)
            yield Chat(f"chat:{row.uid}@{start.isoformat()}", person, start, row.title)


def _asked(session: Session, user: User) -> set[str]:
    """Return the keys of the chats the user was already asked about (domain aside)."""
    query = select(OutboxEmail.message_id).where(
        OutboxEmail.user_id == user.id, OutboxEmail.kind == "reflect"
    )
    return {mid.partition("@")[0].removeprefix("<reflect.") for mid in session.scalars(query)}


def message_id(user: User, source: str, domain: str) -> str:
    """Return the stable Message-ID of the reflection email about one chat of one user."""
    return f"<reflect.{_digest(user, source)}@{domain}>"


def _digest(user: User, source: str) -> str:
    # The user is in the hash: two users of one meeting share its uid, not its email.
    return hashlib.sha256(f"{user.id}:{source}".encode()).hexdigest()[:32]


# The email -------------------------------------------------------------------------------------


def queue_reflections(
    session: Session, settings: Settings, user: User, now: datetime
) -> list[OutboxEmail]:
    """Queue one reflection email per chat due; nothing for a paused or unsubscribed user.

    The caller commits. Racing callers for one user wait for each other on the user's row.
    """
    hold(session, User, user.id)
    session.refresh(user)
    paused = user.paused_until is not None and user.paused_until > now
    if paused or user.weekly_nudges <= 0:
        return []
    domain = mail.domain(settings)
    with language(user.language):
        due = due_reflections(session, user, now)
        return [_queue(session, settings, user, chat, domain) for chat in due]


def _queue(
    session: Session, settings: Settings, user: User, chat: Chat, domain: str
) -> OutboxEmail:
    return mail.queue_to(
        session,
        settings,
        user,
        "reflect",
        email_context(settings, user, chat),
        unsubscribe=unsubscribe_url(settings, user),
        message_id=message_id(user, chat.source, domain),
    )


def email_context(settings: Settings, user: User, chat: Chat) -> dict[str, Any]:
    """Return what the reflection email shows."""
    start = chat.start.astimezone(user.zone)
    return {
        "name": display_name(chat.person),
        "title": clean(chat.title, TITLE_CHARS),
        "booked": chat.source.startswith("proposal:"),
        "when": dates.moment(start),
        "reply_url": reply_url(settings, user, chat),
        "days": LINK_DAYS,
    }


# The reply link --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """What a reply link names: whose reflection, about which chat, with whom."""

    user: User
    source: str
    person: str


def reply_url(settings: Settings, user: User, chat: Chat) -> str:
    """Return the absolute address of the reflection form for one chat."""
    token = user_token(
        REPLY_LINK, settings.secret_key, user, source=chat.source, person=chat.person
    )
    return f"{settings.base_url}/reflect/{token}"


def reply_from_token(session: Session, secret_key: str, token: str) -> Reply:
    """Return what a reply link names, or raise LinkInvalid / LinkExpired."""
    user, claims = read_user_token(REPLY_LINK, session, secret_key, token)
    source = claims.get("source")
    if not isinstance(source, str) or not source:  # "" would name the entries typed in the log
        raise LinkInvalid
    return Reply(user, source, str(claims.get("person", "")))


# The answer, in the reflection log -------------------------------------------------------------


def reflection_for(session: Session, reply: Reply) -> Reflection | None:
    """Return the log entry already written for this chat, if any."""
    query = select(Reflection).where(
        Reflection.user_id == reply.user.id, Reflection.source == reply.source
    )
    return session.scalars(query.order_by(Reflection.id).limit(1)).first()


def save_reflection(
    session: Session, reply: Reply, answers: dict[str, str], now: datetime
) -> Reflection:
    """Write the answers into the log: a new entry the first time, the same one after.

    answers: learned, follow_up, offered and person. The caller commits.
    """
    hold(session, User, reply.user.id)  # racing answers wait here, so the entry is made once
    entry = reflection_for(session, reply)
    if entry is None:
        entry = Reflection(user_id=reply.user.id, source=reply.source, created_at=now)
        session.add(entry)
    entry.person = " ".join(answers.get("person", "").split())[:254]
    for field in ("learned", "follow_up", "offered"):
        setattr(entry, field, answers.get(field, "").strip()[:FIELD_CHARS])
    session.flush()
    return entry


def last_with(session: Session, user_id: int) -> dict[str, str]:
    """Return, per person's address, one short sentence from the latest reflection with them."""
    query = select(Reflection).where(Reflection.user_id == user_id)
    latest_first = query.order_by(Reflection.created_at.desc(), Reflection.id.desc())
    found: dict[str, str] = {}
    for entry in session.scalars(latest_first):
        person = entry.person.strip().lower()
        if "@" in person and person not in found and (sentence := _sentence(entry)):
            found[person] = sentence
    return found


def ledgers(session: Session, user_id: int) -> dict[str, Ledger]:
    """Return, per person's address, how often the user offered them something and asked them
    for something: an offer or a lesson in the log, and each chat they accepted to give."""
    offered: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for entry in session.scalars(select(Reflection).where(Reflection.user_id == user_id)):
        person = address(entry.person)
        if "@" in person:
            offered[person] += bool(_plain(entry.offered))
            asked[person] += bool(_plain(entry.learned))
    chats = select(Proposal.partner).where(
        Proposal.user_id == user_id, Proposal.status == ACCEPTED, Proposal.partner.is_not(None)
    )
    for partner in session.scalars(chats):
        asked[address(partner or "")] += 1
    return {p: Ledger(offered[p], asked[p]) for p in offered.keys() | asked.keys()}


def _sentence(entry: Reflection) -> str:
    # The follow-up first: it is what the next meeting can act on.
    parts = (
        (N_("you meant to follow up on: %(text)s"), entry.follow_up),
        (N_("you learned: %(text)s"), entry.learned),
        (N_("you offered: %(text)s"), entry.offered),
    )
    said = [_(lead, text=_plain(text)) for lead, text in parts if _plain(text)]
    return clean("; ".join(said), LAST_CHARS)


def _plain(text: str) -> str:
    return " ".join(text.split()).rstrip(" .!?;")

"""Auto-pause: proposals that expire unanswered are ignored, and three in a row pause proposals.

A proposal nobody answered before its expiry counts as ignored; any answer (accept, decline,
other times: proposals.answer.answer) resets the count. At IGNORED_LIMIT the user is paused for
PAUSE_DAYS (long enough to be a real break, short enough that a busy month does not silence
Touchpoint for good) and told so once, with a link that resumes at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.adapters import mail
from service.adapters.links import Purpose, read_user_token, user_token
from service.config import Settings
from service.engine import dates
from service.engine.i18n import language
from service.models import OutboxEmail, Proposal, User
from service.models.proposals import EXPIRED, PROPOSED

IGNORED_LIMIT = 3
PAUSE_DAYS = 30
# No expiry: resuming is harmless and idempotent, and the link should work for the whole pause.
RESUME_LINK = Purpose("resume")


def expire_proposals(session: Session, now: datetime) -> list[User]:
    """Close every open proposal past its expiry as ignored; return the users paused just now.

    The caller commits, after queue_paused_email for each user returned.
    """
    # One conditional UPDATE: a proposal leaves "proposed" once, so two sweeps racing count
    # each expired proposal once.
    expired = session.scalars(
        update(Proposal)
        .where(Proposal.status == PROPOSED, Proposal.expires_at <= now)
        .values(status=EXPIRED)
        .returning(Proposal.user_id)
        .execution_options(synchronize_session=False)
    ).all()
    paused: list[User] = []
    for user_id, count in sorted(Counter(expired).items()):
        user = _count_ignored(session, user_id, count, now)
        if user is not None:
            paused.append(user)
    return paused


def _count_ignored(session: Session, user_id: int, count: int, now: datetime) -> User | None:
    """Count ignored proposals; pause the user and return them when the count reaches the limit."""
    user = session.get(User, user_id)
    if user is None or is_paused(user, now):
        return None  # a proposal left unanswered during a pause the user chose is not ignored
    total = session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(ignored_proposals=User.ignored_proposals + count)
        .returning(User.ignored_proposals)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user)
    if total is None or total < IGNORED_LIMIT:
        return None
    # The pause uses up the count: after it, three more must go unanswered to pause again.
    user.paused_until, user.ignored_proposals = now + timedelta(days=PAUSE_DAYS), 0
    return user


def is_paused(user: User, now: datetime) -> bool:
    """Say whether the user's proposals are paused at this moment."""
    return user.paused_until is not None and user.paused_until > now


def queue_paused_email(session: Session, settings: Settings, user: User) -> OutboxEmail:
    """Queue the email saying proposals were paused, with a link to resume; the caller commits."""
    until = user.paused_until
    if until is None:
        raise ValueError("the user is not paused")
    with language(user.language):
        return _queue_paused(session, settings, user, dates.short_date(until.astimezone(user.zone)))


def _queue_paused(session: Session, settings: Settings, user: User, day: str) -> OutboxEmail:
    until = user.paused_until
    assert until is not None
    return mail.queue_to(
        session,
        settings,
        user,
        "paused",
        {
            "count": IGNORED_LIMIT,
            "until": day,
            "resume_url": resume_url(settings, user),
            "settings_url": f"{settings.base_url}/settings",
        },
        # Once per pause: the same pause can never be announced twice.
        message_id=f"<paused.{user.id}.{int(until.timestamp())}@{mail.domain(settings)}>",
    )


# Resuming from the email's link ----------------------------------------------------------------


def resume(user: User) -> None:
    """Resume proposals now, with a fresh count of ignored ones; the caller commits."""
    user.paused_until, user.ignored_proposals = None, 0


def resume_url(settings: Settings, user: User) -> str:
    """Return the absolute address of the page that resumes this user's proposals."""
    return f"{settings.base_url}/resume/{resume_token(settings.secret_key, user)}"


def resume_token(secret_key: str, user: User) -> str:
    """Return the signed token naming the user whose proposals the link resumes."""
    return user_token(RESUME_LINK, secret_key, user)


def user_from_resume_token(session: Session, secret_key: str, token: str) -> User:
    """Return the user a resume token names, or raise LinkInvalid."""
    return read_user_token(RESUME_LINK, session, secret_key, token)[0]

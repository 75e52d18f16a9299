"""How long since the last career conversation, and whether one is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from service.engine import dates
from service.engine.i18n import gettext as _
from service.engine.i18n import ngettext
from service.engine.model import Cadence


def cadence_of(
    career_starts: Sequence[datetime],
    now: datetime,
    *,
    ideal_days: int,
    max_days: int,
    lookback_days: int | None = None,
) -> Cadence:
    """Return the last career conversation, the next booked one, and whether one is due."""
    # The issue sets "due" on max_days alone; ideal_days is the user's target, for wording.
    del ideal_days
    # Conversations older than the lookback are outside what the calendar covers: unknown.
    moment = now.astimezone(UTC)
    horizon = moment - timedelta(days=lookback_days) if lookback_days is not None else None
    before = [s for s in career_starts if s < moment and (horizon is None or s >= horizon)]
    last = max(before, key=_instant, default=None)
    booked = min((s for s in career_starts if s >= moment), key=_instant, default=None)
    recent = last is not None and last >= moment - timedelta(days=max_days)
    return Cadence(
        last=last,
        days_since=(moment - _instant(last)).days if last is not None else None,
        due=not recent and booked is None,
        booked_ahead=booked,
    )


def describe(c: Cadence, *, max_days: int | None = None) -> str:
    """Say in one or two sentences where the user stands; name `max_days` when it is known."""
    parts: list[str] = []
    if c.days_since is not None:
        parts.append(_("Your last career conversation was %(ago)s", ago=_ago(c.days_since)))
    elif c.due and max_days is not None:
        parts.append(_("No career conversation in the last %(days)s days", days=max_days))
    elif c.due:
        parts.append(_("No career conversation on your calendar"))
    if c.booked_ahead is not None:
        parts.append(_("One is booked for %(day)s", day=short_date(c.booked_ahead)))
    text = ". ".join(parts)
    return _("%(text)s: one is due.", text=text) if c.due else f"{text}."


def short_date(moment: datetime) -> str:
    """Return 'Tue 10 Mar' in the current language, whatever the process locale."""
    return dates.short_date(moment)


def _ago(days: int) -> str:
    if days == 0:
        return _("less than a day ago")
    return ngettext("%(num)d day ago", "%(num)d days ago", days)


def _instant(moment: datetime) -> datetime:
    # Datetimes sharing a ZoneInfo compare and subtract by wall clock; UTC keeps them exact.
    return moment.astimezone(UTC)

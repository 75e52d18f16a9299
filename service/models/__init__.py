"""The database models; importing this package registers every table on Base.metadata."""

from service.models.activity import OutboxEmail, Proposal, Reflection
from service.models.base import Base, utcnow
from service.models.calendars import Connection, Mark, StoredOccurrence
from service.models.notes import PlannedNote
from service.models.users import LoginToken, OAuthState, User

__all__ = [
    "Base",
    "Connection",
    "LoginToken",
    "Mark",
    "OAuthState",
    "OutboxEmail",
    "PlannedNote",
    "Proposal",
    "Reflection",
    "StoredOccurrence",
    "User",
    "utcnow",
]

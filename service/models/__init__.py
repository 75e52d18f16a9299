"""The database models; importing this package registers every table on Base.metadata."""

from service.models.base import Base, utcnow
from service.models.calendars import Connection, Mark, StoredOccurrence
from service.models.dashboard import (
    DashboardDay,
    DashboardDirty,
    DashboardPlan,
    DashboardSummary,
)
from service.models.notes import PlannedNote
from service.models.outbox import OutboxEmail
from service.models.proposals import Proposal
from service.models.reflections import Reflection
from service.models.users import LoginToken, OAuthState, SignInSession, User

__all__ = [
    "Base",
    "Connection",
    "DashboardDay",
    "DashboardDirty",
    "DashboardPlan",
    "DashboardSummary",
    "LoginToken",
    "Mark",
    "OAuthState",
    "OutboxEmail",
    "PlannedNote",
    "Proposal",
    "Reflection",
    "SignInSession",
    "StoredOccurrence",
    "User",
    "utcnow",
]

"""The reflection log: what the user wrote, read back and exported (JSON or Markdown)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.engine.i18n import N_, gettext
from service.models import Reflection

REFLECTION_FIELDS = (
    ("going_well", N_("What is going well")),
    ("missing", N_("What is missing")),
    ("opportunity", N_("What the opportunity is")),
    ("learned", N_("What I learned")),
    ("follow_up", N_("What I will follow up on")),
    ("offered", N_("What I offered")),
)


def reflections_json(entries: Sequence[Reflection]) -> str:
    """Return the reflection log as a JSON document, newest first."""
    records = [
        {"created_at": e.created_at.astimezone(UTC).isoformat(), "person": e.person}
        | {field: getattr(e, field) for field, _ in REFLECTION_FIELDS}
        for e in entries
    ]
    return json.dumps({"reflections": records}, indent=2)


def reflections_markdown(entries: Sequence[Reflection], tz: ZoneInfo) -> str:
    """Return the reflection log as a Markdown document, newest first."""
    parts = ["# " + gettext("My reflection log"), ""]
    for entry in entries:
        local = entry.created_at.astimezone(tz)
        with_whom = f" · {_line(entry.person)}" if entry.person else ""
        parts += [f"## {local:%Y-%m-%d %H:%M}{with_whom}", ""]
        for field, label in REFLECTION_FIELDS:
            if text := getattr(entry, field).strip():
                parts += [f"**{gettext(label)}:**", "", _paragraph(text), ""]
    return "\n".join(parts).rstrip() + "\n"


def _line(text: str) -> str:
    return " ".join(text.split())


def _paragraph(text: str) -> str:
    # A line starting with "#" would become a heading of the export; keep the user's words as text.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join("\\" + line if line.lstrip().startswith("#") else line for line in lines)


def reflections_of(session: Session, user_id: int) -> Sequence[Reflection]:
    """Return the user's reflection log, the newest first."""
    query = (
        select(Reflection)
        .where(Reflection.user_id == user_id)
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())
    )
    return session.scalars(query).all()

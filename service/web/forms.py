"""What the forms share: text without NUL characters, reflection entries that say what is wrong."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from service.reflections.ask import FIELD_CHARS

PERSON_CHARS = 254  # an email address at most


def no_nul(value: str | None) -> str:
    """Return submitted text without NUL characters (PostgreSQL refuses them; nobody types one)."""
    return (value or "").replace("\x00", "")


class EntryForm(FlaskForm):
    """A reflection: some answers, at least one of them filled in, and with whom."""

    ANSWERS: ClassVar[tuple[str, ...]] = ()
    EMPTY: ClassVar[Any] = _l("Write at least one line.")

    def validate(self, extra_validators: Any = None) -> bool:
        """Refuse an empty entry and overlong fields, saying which."""
        ok = super().validate(extra_validators)
        for name in (*self.ANSWERS, "person"):
            field = getattr(self, name)
            limit = PERSON_CHARS if name == "person" else FIELD_CHARS
            if len(field.data) > limit:
                field.errors = [
                    *field.errors,
                    _("At most %(limit)s characters, please.", limit=limit),
                ]
                ok = False
        if not any(getattr(self, name).data.strip() for name in self.ANSWERS):
            self.form_errors.append(self.EMPTY)
            ok = False
        return ok

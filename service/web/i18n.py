"""The language of each request: the signed-in user's choice, else the browser's.

Flask-Babel translates the pages (templates and service/web's strings); the same language is
set in service.engine.i18n for the text the layers below make during the request (notes,
reasons, calendar errors), so a page never mixes two languages. The language is worked out
only when something asks for it: a health check or a static file never touches the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, request
from flask_babel import refresh
from sqlalchemy.exc import SQLAlchemyError

from service.engine import dates, i18n
from service.web.extensions import babel

if TYPE_CHECKING:
    from service.models import User


def init_app(app: Flask) -> None:
    """Attach Flask-Babel, the request's language and the date helpers the templates call."""
    app.config["BABEL_DEFAULT_LOCALE"] = i18n.DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(i18n.DIRECTORY)
    babel.init_app(app, locale_selector=i18n.current)
    # One policy for every {% trans %} block: whitespace and line breaks inside are collapsed,
    # as the catalog (babel.cfg: trimmed = true) has them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(
        page_language=i18n.current,
        format_date=dates.full_date,
        format_datetime=dates.full_moment,
        day_month=dates.day_month,
        languages=i18n.LANGUAGES,
    )

    @app.before_request
    def _language() -> None:
        i18n.defer(request_language)

    @app.teardown_request
    def _done(_exc: BaseException | None) -> None:
        i18n.defer(None)


def request_language() -> str:
    """Return the signed-in user's language, else the browser's best match, else English."""
    from service.web.session import current_user

    try:
        user = current_user()
    except SQLAlchemyError:  # the error page of a failed database still gets words
        user = None
    code = user.language if user is not None else browser_language()
    i18n.translations(code)  # loads the catalog now: a missing one is said once in the log
    return i18n.supported(code)


def speak_to(user: User | None) -> None:
    """Write the rest of the request in the language of the user a signed link names: its
    owner may open it signed out, or on a phone whose browser says something else."""
    if user is not None:
        chosen = i18n.supported(user.language)
        i18n.defer(lambda: chosen)
        refresh()  # Flask-Babel asks again, should it have asked already


def browser_language() -> str:
    """Return the language the browser asks for first among Touchpoint's (Accept-Language)."""
    found = request.accept_languages.best_match(list(i18n.LANGUAGES))
    return found or i18n.DEFAULT

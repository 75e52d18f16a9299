"""The Flask application factory."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from service import config as config_module
from service.adapters.secrets import SecretBox
from service.config import Settings
from service.web import i18n as languages
from service.web.extensions import csrf, db, limiter
from service.web.security import add_security_headers, content_security_policy

ROOT = Path(__file__).resolve().parents[2]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app from settings (read from the environment when not given)."""
    settings = config_module.finish(settings or config_module.from_env())
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(_flask_config(settings))
    if settings.proxy_hops:
        # The client's own address (rate limits) and scheme, as the trusted proxies saw them.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.extensions["touchpoint"] = settings
    app.extensions["secret_box"] = SecretBox(settings.encryption_keys)
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    languages.init_app(app)
    _register_blueprints(app)
    _register_errors(app)
    app.after_request(add_security_headers)
    app.context_processor(_signed_in_user)
    return app


def _signed_in_user() -> dict[str, Any]:
    from service.web.session import current_user

    return {"signed_in_user": current_user()}


def _flask_config(settings: Settings) -> dict[str, Any]:
    return {
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies(settings),
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
        "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,  # an uploaded .ics up to 10 MiB, plus the form
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
        "RATELIMIT_ENABLED": settings.rate_limits,
        "RATELIMIT_STORAGE_URI": _limits_storage(settings.redis_url),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis away: count in this process's memory (with a warning in the log), never a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "CSP": content_security_policy(settings.google.auth_uri),
        "HSTS": settings.production and settings.base_url.startswith("https://"),
    }


def secure_cookies(settings: Settings) -> bool:
    """Tell whether the session cookie may travel over https only.

    Always in production, except where the operator allowed an http:// address on a private
    network: a browser never sends a Secure cookie back over http, so nobody could sign in.
    """
    if settings.base_url.startswith("https://"):
        return True
    return settings.production and not settings.allow_http


def _limits_storage(redis_url: str) -> str:
    """Return where rate-limit counters live: Redis when there is one (shared by processes)."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def _register_blueprints(app: Flask) -> None:
    from service.web import (
        account,
        assets,
        auth,
        connect,
        dashboard,
        google,
        health,
        metrics,
        notes_feed,
        onboarding,
        outbox,
        proposals,
        push,
        reflect,
        settings,
    )

    modules = (health, auth, connect, google, push, settings, dashboard, proposals, reflect)
    for module in (*modules, notes_feed, outbox, account, assets, onboarding, metrics):
        app.register_blueprint(module.bp)
    metrics.count_requests(app)


def _register_errors(app: Flask) -> None:
    def page(code: int, message: Any) -> Any:
        return lambda _exc: (render_template("web/error.html", code=code, message=message), code)

    app.register_error_handler(400, page(400, _l("That request did not make sense.")))
    app.register_error_handler(403, page(403, _l("That is not yours to see.")))
    app.register_error_handler(404, page(404, _l("There is nothing here.")))
    app.register_error_handler(413, page(413, _l("That file is too big: 10 MiB at most.")))
    app.register_error_handler(429, page(429, _l("Too many tries. Wait a minute and try again.")))
    broke = page(500, _l("Something broke on our side. Nothing was lost."))

    def server_error(exc: Any) -> Any:
        # The failure may have left the session unusable (a locked or refused write): the error
        # page must not touch the database again, or it fails too.
        with contextlib.suppress(Exception):
            db.session.rollback()
        g.signed_in = None
        return broke(exc)

    app.register_error_handler(500, server_error)

"""/healthz: is the service able to work (database reachable and writable, Redis reachable)?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.adapters.redis import redis_reachable
from service.web.context import app_settings
from service.web.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    settings = app_settings()
    checks = {
        "database": db.reachable(),
        "database_writable": db.writable(),
        "redis": redis_reachable(settings.redis_url),
    }
    status = 200 if all(checks.values()) else 503
    return jsonify(ok=status == 200, **checks), status

"""/metrics for Prometheus, readable with the operator's token only; a request id on every answer.

Without TOUCHPOINT_METRICS_TOKEN, /metrics answers 404: the counts say how busy the service is,
and the site is public. Prometheus sends the token as `Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import hmac
import secrets
import time

from flask import Blueprint, Flask, Response, abort, g, request
from flask.typing import ResponseReturnValue

from service.adapters import metrics
from service.adapters.logs import request_id, sane_request_id
from service.web.context import app_settings
from service.web.extensions import limiter

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@limiter.exempt
def exposition() -> ResponseReturnValue:
    token = app_settings().metrics_token
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(offered.encode(), token.encode()):
        abort(404)
    response = Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def count_requests(app: Flask) -> None:
    """Give each request an id (logged, and answered as X-Request-ID) and count it.

    Under gunicorn the id stays set until its access line is written (gunicorn.conf.py's
    post_request forgets it); elsewhere it is forgotten when the request ends.
    """
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _forget(_exc: BaseException | None) -> None:
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        request_id.set("")


def _start() -> None:
    g.started = time.perf_counter()
    g.request_id = sane_request_id(request.headers.get("X-Request-ID")) or secrets.token_hex(8)
    request_id.set(g.request_id)


def _finish(response: Response) -> Response:
    endpoint = request.endpoint or "unknown"  # a route's name, never its path (secret links)
    if "started" in g:
        seconds = time.perf_counter() - g.started
        metrics.REQUEST_SECONDS.labels(endpoint).observe(seconds)
    metrics.REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response

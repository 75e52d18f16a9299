"""/healthz tells an operator whether the database and Redis are reachable."""

from __future__ import annotations

from typing import Any

from service.config import Settings
from service.web import create_app


def test_healthz_says_database_and_redis_are_reachable(client: Any) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "database": True, "redis": True}


def test_healthz_answers_503_when_redis_is_down(settings: Settings) -> None:
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:9/0"))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "database": True, "redis": False}


def test_every_page_carries_the_security_headers(client: Any) -> None:
    headers = client.get("/healthz").headers

    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_an_unknown_page_is_a_plain_404_page(client: Any) -> None:
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert b"There is nothing here." in response.data

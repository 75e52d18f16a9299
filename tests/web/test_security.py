"""What a production deployment adds to every answer: https only, no stored pages, real clients."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from service.config import Settings
from service.web import create_app
from tests.factories import ALICE
from tests.smtp_server import SmtpServer, smtp_server_fixture  # noqa: F401 (the fixture)
from tests.web.forms import post_form, sign_in_as

HTTPS = "https://touchpoint.example"
PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # the reverse proxy every request comes through


def production_app(settings: Settings, **changes: Any) -> Flask:
    app = create_app(settings.with_changes(env="production", base_url=HTTPS, **changes))
    app.config["TESTING"] = True
    return app


def test_production_tells_browsers_to_use_https_on_every_answer(settings: Settings) -> None:
    client = production_app(settings).test_client()

    for url in ("/signin", "/healthz", "/static/app.css", "/nothing-here", "/settings"):
        with client.get(url) as response:  # a file answer is closed, not left to the collector
            hsts = response.headers.get("Strict-Transport-Security", "")

        assert hsts.startswith("max-age=31536000"), url


def test_a_laptop_over_http_gets_no_https_only_header(client: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/signin").headers


def test_production_session_cookies_travel_over_https_only(settings: Settings) -> None:
    app = production_app(settings)
    client = app.test_client()
    sign_in_as(client, app, ALICE)

    cookie = client.get("/settings").headers.get("Set-Cookie", "")

    assert cookie.startswith("session=")
    assert "; Secure" in cookie
    assert "; HttpOnly" in cookie


@pytest.mark.parametrize("url", ["/", "/settings", "/connect", "/reflections"])
def test_signed_in_pages_are_never_stored_by_browsers_or_proxies(
    app: Flask, client: Any, url: str
) -> None:
    sign_in_as(client, app, ALICE)

    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_stylesheet_may_be_cached(client: Any) -> None:
    with client.get("/static/app.css") as response:
        assert response.headers.get("Cache-Control") != "no-store"


def ask_for_links(client: Any, client_address: str | None, count: int) -> list[int]:
    """Ask for sign-in links from one client (its address as the proxy forwards it)."""
    headers = {"X-Forwarded-For": client_address} if client_address else {}
    return [
        post_form(
            client, "/signin", {"email": f"person{n}@example.com"}, headers=headers
        ).status_code
        for n in range(count)
    ]


def test_behind_a_proxy_each_client_has_its_own_rate_limit(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    app = production_app(
        settings, proxy_hops=1, rate_limits=True, redis_url="", smtp=smtp_server.settings
    )
    client = app.test_client()
    client.environ_base.update(PROXY)

    assert ask_for_links(client, "203.0.113.7", 6) == [302] * 5 + [429]
    assert ask_for_links(client, "198.51.100.4", 1) == [302]


def test_without_a_trusted_proxy_a_forged_forwarded_address_changes_nothing(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    app = production_app(settings, rate_limits=True, redis_url="", smtp=smtp_server.settings)
    client = app.test_client()

    answers = [ask_for_links(client, f"203.0.113.{n}", 1)[0] for n in range(6)]

    assert answers == [302] * 5 + [429]

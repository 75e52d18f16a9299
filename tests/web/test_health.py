"""/healthz tells an operator whether the database and Redis are reachable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, make_url, text

from service.config import Settings
from service.models import User
from service.web import create_app
from service.web.extensions import db
from tests.web.forms import csrf_token


def test_healthz_says_database_and_redis_are_reachable(client: Any) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {
        "ok": True,
        "database": True,
        "database_writable": True,
        "redis": True,
    }


def test_healthz_answers_503_when_redis_is_down(settings: Settings) -> None:
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:9/0"))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {
        "ok": False,
        "database": True,
        "database_writable": True,
        "redis": False,
    }


def test_every_page_carries_the_security_headers(client: Any) -> None:
    headers = client.get("/healthz").headers

    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_an_unknown_page_is_a_plain_404_page(client: Any) -> None:
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert b"There is nothing here." in response.data


def test_healthz_answers_503_when_the_database_only_reads(
    settings: Settings, postgres_database: str
) -> None:
    admin = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    name = make_url(postgres_database).database
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        app = create_app(settings.with_changes(database_url=postgres_database))
        response = app.test_client().get("/healthz")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()
        db.dispose()

    assert response.status_code == 503
    assert response.get_json()["database"] is True
    assert response.get_json()["database_writable"] is False


def test_sign_in_still_works_with_redis_down(settings: Settings) -> None:
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:9/0", rate_limits=True))
    client = app.test_client()
    token = csrf_token(client.get("/signin").text)

    response = client.post("/signin", data={"csrf_token": token, "email": "alice@example.com"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/signin/sent"


def test_the_error_page_shows_even_after_a_refused_write(settings: Settings) -> None:
    app = create_app(settings)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def breaks() -> str:
        db.session.add_all([User(email="twin@example.com"), User(email="twin@example.com")])
        db.session.flush()  # refused: the session needs a rollback before any other query
        return "unreachable"

    app.add_url_rule("/breaks", "breaks", breaks)

    response = app.test_client().get("/breaks")

    assert response.status_code == 500
    assert "Something broke on our side. Nothing was lost." in response.text
    db.dispose()

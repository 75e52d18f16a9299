"""The local outbox page: the emails a laptop without SMTP wrote, readable from that laptop only."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.adapters import mail
from service.adapters.db import Database
from service.adapters.mail_delivery import deliver
from service.config import Settings, Smtp
from service.web import create_app
from service.web.outbox import bp as outbox
from service.web.outbox import is_loopback
from tests.factories import ALICE, BOB

ELSEWHERE = {"REMOTE_ADDR": "10.1.2.3"}
SENT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def with_outbox(app: Flask) -> Flask:
    """Return the app with the outbox pages (until create_app registers them itself)."""
    if "outbox" not in app.blueprints:
        app.register_blueprint(outbox)
    return app


@pytest.fixture
def app(app: Flask) -> Flask:
    return with_outbox(app)


@pytest.fixture
def sent(settings: Settings, database: Database) -> list[str]:
    """Send a sign-in link to alice, then one to bob a minute later; return the file names."""
    names = [send_link(settings, database, ALICE, SENT), send_link(settings, database, BOB, SENT)]
    for minutes, name in enumerate(names):
        written = (SENT + timedelta(minutes=minutes)).timestamp()
        os.utime(settings.outbox_dir / name, (written, written))
    return names


def send_link(settings: Settings, database: Database, to: str, now: datetime) -> str:
    """Queue and deliver a magic-link email; return the name of the .eml file it became."""
    before = set(files(settings.outbox_dir))
    with database.unit() as session:
        row = mail.queue_magic_link(session, settings, to, f"{settings.base_url}/signin/7.secret")
    assert deliver(database, row.id, settings, now) == "sent"
    (name,) = set(files(settings.outbox_dir)) - before
    return name


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.eml")) if folder.is_dir() else []


def test_the_outbox_lists_the_written_emails_newest_first(client: Any, sent: list[str]) -> None:
    page = client.get("/outbox").text

    assert page.count("Your Touchpoint sign-in link") == 2
    assert page.index(BOB) < page.index(ALICE)
    assert f'href="/outbox/{sent[0]}"' in page
    assert "2 Mar 2026 07:00" in page  # as the reader's language writes a date


def test_an_email_shows_its_text_with_this_sites_links_clickable(
    client: Any, sent: list[str]
) -> None:
    page = client.get(f"/outbox/{sent[0]}").text

    assert f"To {ALICE}" in page
    assert '<a href="http://localhost/signin/7.secret">' in page
    assert f'href="/outbox/{sent[0]}/raw"' in page


def test_links_to_other_sites_stay_plain_text(settings: Settings, client: Any) -> None:
    from service.web.outbox import linked

    lines = linked("Ours: http://localhost/p/1\nTheirs: https://evil.example/x", settings.base_url)

    assert lines[0] == [("Ours: ", False), ("http://localhost/p/1", True), ("", False)]
    assert lines[1] == [("Theirs: https://evil.example/x", False)]


def test_the_eml_file_downloads_as_it_was_written(
    client: Any, settings: Settings, sent: list[str]
) -> None:
    response = client.get(f"/outbox/{sent[0]}/raw")

    assert response.status_code == 200
    assert response.mimetype == "message/rfc822"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data == (settings.outbox_dir / sent[0]).read_bytes()


def test_the_html_part_opens_sandboxed(client: Any, sent: list[str]) -> None:
    response = client.get(f"/outbox/{sent[0]}/html")

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert b"http://localhost/signin/7.secret" in response.data


def test_the_outbox_is_empty_before_any_email(client: Any) -> None:
    page = client.get("/outbox")

    assert page.status_code == 200
    assert "No emails yet." in page.text


def test_a_client_on_another_machine_finds_nothing(client: Any, sent: list[str]) -> None:
    for url in ("/outbox", f"/outbox/{sent[0]}", f"/outbox/{sent[0]}/raw"):
        assert client.get(url, environ_base=ELSEWHERE).status_code == 404


def test_a_request_through_a_proxy_finds_nothing(client: Any, sent: list[str]) -> None:
    # A reverse proxy on the same machine connects from 127.0.0.1 on behalf of anyone.
    response = client.get("/outbox", headers={"X-Forwarded-For": "203.0.113.9"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    "host", ["rebound.example", "rebound.example:5000", "127.0.0.1.nip.io", "localhost.evil"]
)
def test_a_page_that_rebinds_its_own_name_to_this_machine_finds_nothing(
    client: Any, sent: list[str], host: str
) -> None:
    # DNS rebinding: the browser connects to 127.0.0.1 but sends the attacker's name as Host.
    for url in ("/outbox", f"/outbox/{sent[0]}", f"/outbox/{sent[0]}/raw"):
        response = client.get(url, headers={"Host": host})

        assert response.status_code == 404
        assert b"/signin/7.secret" not in response.data


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:5000", "127.0.0.1", "127.0.0.1:5000", "[::1]", "[::1]:8080"]
)
def test_the_outbox_answers_to_this_machines_names_on_any_port(
    client: Any, sent: list[str], host: str
) -> None:
    response = client.get(f"/outbox/{sent[0]}", headers={"Host": host})

    assert response.status_code == 200
    assert "/signin/7.secret" in response.text


@pytest.mark.parametrize(
    "name",
    ["..%2Fsecret_key", "../secret_key", ".hidden.eml", "secret_key", "..eml", "nothing.eml"],
)
def test_names_outside_the_outbox_are_not_found(
    client: Any, settings: Settings, sent: list[str], name: str
) -> None:
    (settings.outbox_dir / ".hidden.eml").write_bytes(b"Subject: partial\r\n\r\nx")

    assert client.get(f"/outbox/{name}").status_code == 404


def test_a_link_in_the_outbox_pointing_elsewhere_is_not_followed(
    client: Any, settings: Settings, sent: list[str]
) -> None:
    (settings.outbox_dir / "link.eml").symlink_to(settings.data_dir / "secret_key")
    (settings.data_dir / "secret_key").write_text("Subject: the secret\r\n\r\nsecret")

    assert client.get("/outbox/link.eml").status_code == 404
    assert "the secret" not in client.get("/outbox").text


def test_the_outbox_is_off_when_smtp_is_configured(settings: Settings, sent: list[str]) -> None:
    app = with_outbox(create_app(settings.with_changes(smtp=Smtp(host="127.0.0.1"))))

    assert app.test_client().get("/outbox").status_code == 404


def test_the_outbox_is_off_in_production(settings: Settings, sent: list[str]) -> None:
    production = settings.with_changes(env="production", base_url="https://touchpoint.example")
    app = with_outbox(create_app(production))

    assert app.test_client().get("/outbox").status_code == 404


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.1.2.3", False),
        ("::ffff:10.1.2.3", False),
        ("", False),
        (None, False),
    ],
)
def test_only_this_machines_addresses_count_as_local(address: str | None, local: bool) -> None:
    assert is_loopback(address) is local


def test_an_email_without_a_date_is_listed_without_one(
    client: Any, settings: Settings, sent: list[str]
) -> None:
    (settings.outbox_dir / "undated.eml").write_bytes(b"Subject: no date\r\nTo: a@b.c\r\n\r\nx")
    earlier = (SENT - timedelta(days=1)).timestamp()
    os.utime(settings.outbox_dir / "undated.eml", (earlier, earlier))

    page = client.get("/outbox").text

    assert page.index(ALICE) < page.index("no date")

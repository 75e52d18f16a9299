"""Connecting and signing in with Google: the real google-auth-oauthlib against the fake Google."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

import pytest
from google_auth_oauthlib.flow import Flow

from service.adapters import google
from tests.factories import ALICE, BOB
from tests.google_fake.oauth import id_token_for
from tests.google_fake.state import Grant
from tests.google_server import FakeGoogle

REDIRECT = "http://127.0.0.1:5000/connect/google/callback"
STATE = "state-kept-in-the-session"
WANTED = (*google.SIGN_IN_SCOPES, *google.CALENDAR_SCOPES)


def flow(fake: FakeGoogle, scopes: Iterable[str] = WANTED) -> Flow:
    """Return the OAuth flow the web app builds from its settings."""
    settings = fake.google_settings()
    return google.make_flow(
        settings.client_id,
        settings.client_secret,
        REDIRECT,
        scopes,
        auth_uri=settings.auth_uri,
        token_uri=settings.token_uri,
    )


def start(fake: FakeGoogle, scopes: Iterable[str] = WANTED) -> tuple[str, str]:
    """Begin a connect as the web app does: the consent URL and the verifier to keep."""
    return google.authorization_url(flow(fake, scopes), STATE)


def finish(fake: FakeGoogle, callback: str, verifier: str) -> google.Grant:
    """Complete it as the callback does: a new flow, the code, the kept verifier."""
    code, certs = answer(callback)["code"], fake.google_settings().certs_uri
    return google.exchange_code(flow(fake), code, verifier, certs_uri=certs)


def answer(callback: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}


def connect(fake: FakeGoogle, scopes: Iterable[str] = WANTED) -> google.Grant:
    url, verifier = start(fake, scopes)
    return finish(fake, fake.approve(url), verifier)


def test_connecting_gives_a_refresh_token_the_scopes_and_the_verified_email(
    google_server: FakeGoogle,
):
    url, verifier = start(google_server)
    callback = google_server.approve(url)
    grant = finish(google_server, callback, verifier)

    asked = answer(url)
    assert (asked["access_type"], asked["prompt"], asked["code_challenge_method"]) == (
        "offline",
        "consent",
        "S256",
    )
    assert answer(callback)["state"] == STATE
    assert grant.refresh_token
    assert grant.scopes == frozenset(WANTED)
    assert grant.identity is not None
    assert (grant.identity.email, grant.identity.email_verified) == (ALICE, True)


def test_the_account_chosen_on_the_consent_screen_is_the_one_reported(google_server: FakeGoogle):
    google_server.consent(email=BOB)

    grant = connect(google_server)

    assert grant.identity is not None
    assert grant.identity.email == BOB


def test_a_wrong_code_verifier_is_rejected(google_server: FakeGoogle):
    url, _ = start(google_server)
    callback = google_server.approve(url)
    _, someone_elses = start(google_server)

    with pytest.raises(google.AuthorizationFailed):
        finish(google_server, callback, someone_elses)


def test_an_authorization_code_works_only_once(google_server: FakeGoogle):
    url, verifier = start(google_server)
    callback = google_server.approve(url)
    finish(google_server, callback, verifier)

    with pytest.raises(google.AuthorizationFailed):
        finish(google_server, callback, verifier)


def test_an_unticked_scope_is_missing_from_the_grant(google_server: FakeGoogle):
    google_server.consent(grant={google.EVENTS_OWNED})

    grant = connect(google_server)

    assert grant.missing(google.CALENDAR_SCOPES) == {google.FREEBUSY}
    assert grant.identity is not None


def test_denying_consent_sends_the_user_back_with_access_denied(google_server: FakeGoogle):
    google_server.consent(deny=True)
    url, _ = start(google_server)

    back = answer(google_server.approve(url))

    assert back == {"error": "access_denied", "state": STATE}


def test_asking_for_one_more_scope_later_keeps_the_earlier_ones(google_server: FakeGoogle):
    connect(google_server)

    later = connect(google_server, scopes=(*google.SIGN_IN_SCOPES, google.APP_CALENDARS))

    assert later.scopes >= {*google.CALENDAR_SCOPES, google.APP_CALENDARS}


def test_a_token_endpoint_outage_during_connect_is_transient(google_server: FakeGoogle):
    url, verifier = start(google_server)
    callback = google_server.approve(url)
    google_server.fail_next("/token$", 503)

    with pytest.raises(google.TransientGoogleError):
        finish(google_server, callback, verifier)

    assert finish(google_server, callback, verifier).refresh_token


def test_an_id_token_for_another_app_is_refused(google_server: FakeGoogle):
    token = id_token_for(Grant(ALICE, "another-app", frozenset(google.SIGN_IN_SCOPES), None))

    with pytest.raises(google.AuthorizationFailed, match="id token"):
        google.verify_id_token(
            token, client_id=google_server.client_id, certs_uri=google_server.certs_uri
        )


def read_calendar(fake: FakeGoogle, refresh_token: str, scopes: Iterable[str]) -> None:
    """Read the calendar as a worker does, from the stored refresh token and scopes."""
    credentials = google.credentials_from_refresh_token(
        refresh_token,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        token_uri=fake.token_uri,
        scopes=scopes,
    )
    google.list_events(google.build_calendar_service(credentials, endpoint=fake.api_endpoint))


def test_disconnecting_revokes_the_grant_and_can_be_repeated(google_server: FakeGoogle):
    grant = connect(google_server)
    assert grant.refresh_token
    read_calendar(google_server, grant.refresh_token, grant.scopes)

    google.revoke(grant.refresh_token, revoke_uri=google_server.revoke_uri)
    google.revoke(grant.refresh_token, revoke_uri=google_server.revoke_uri)

    assert grant.refresh_token in google_server.revoked
    with pytest.raises(google.CredentialsRevoked):
        read_calendar(google_server, grant.refresh_token, grant.scopes)


def test_a_refresh_must_not_ask_for_scopes_the_user_unticked(google_server: FakeGoogle):
    google_server.consent(grant={google.EVENTS_OWNED})
    grant = connect(google_server)
    assert grant.refresh_token

    with pytest.raises(google.PermanentGoogleError) as raised:
        read_calendar(google_server, grant.refresh_token, WANTED)
    read_calendar(google_server, grant.refresh_token, grant.scopes)

    assert not isinstance(raised.value, google.CredentialsRevoked)

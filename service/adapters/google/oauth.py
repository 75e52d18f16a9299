"""OAuth 2.0 and OpenID Connect with Google: connect, sign in, refresh, revoke.

Only the refresh token is stored (encrypted, by the caller), never a credentials blob: that
would embed the client secret. oauthlib refuses plain-http endpoints unless the process has
OAUTHLIB_INSECURE_TRANSPORT=1; only the test fixture sets it (its fake Google is http on
loopback), the service never does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import requests
from google.auth.exceptions import GoogleAuthError, TransportError
from google.auth.transport.requests import Request
from google.oauth2 import id_token
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error

from service.adapters.google.errors import AuthorizationFailed, TransientGoogleError, for_status

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
GOOGLE_CERTS_URI = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})

# Scopes as Google reports them back: asking for "email" would come back as the userinfo URL
# and make oauthlib treat the grant as changed.
OPENID = "openid"
EMAIL = "https://www.googleapis.com/auth/userinfo.email"
EVENTS_OWNED = "https://www.googleapis.com/auth/calendar.events.owned"
FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
APP_CALENDARS = "https://www.googleapis.com/auth/calendar.app.created"
SIGN_IN_SCOPES = (OPENID, EMAIL)
CALENDAR_SCOPES = (EVENTS_OWNED, FREEBUSY)

TIMEOUT = 30.0
USER_AGENT = "Touchpoint/0.1 (+https://github.com/touchpoint)"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in, from a verified id token."""

    subject: str  # Google's stable account id ("sub"): emails can change, this cannot
    email: str
    email_verified: bool


class Grant(NamedTuple):
    """What a completed consent gave us."""

    refresh_token: str | None
    scopes: frozenset[str]
    identity: Identity | None  # None when "openid" was not asked for

    def missing(self, wanted: Iterable[str]) -> frozenset[str]:
        """Return the wanted scopes the user unticked on the consent screen."""
        return frozenset(wanted) - self.scopes


def credentials_from_refresh_token(
    refresh_token: str,
    *,
    client_id: str,
    client_secret: str,
    token_uri: str = GOOGLE_TOKEN_URI,
    scopes: Iterable[str],
    access_token: str | None = None,
    expires_at: datetime | None = None,
    on_refresh: Callable[[str, datetime], None] | None = None,
) -> Credentials:
    """Return credentials that use access_token until expires_at, then fetch a new one.

    scopes must be the ones granted (Grant.scopes), not the ones asked for: a refresh that
    asks for more than was granted is refused with invalid_scope. on_refresh(token, expiry)
    hears of each new access token, so the next job can use it too. A token Google refuses
    (revoked with its grant) is refreshed once by the client library, then the refusal stands.
    """
    # Reference: https://developers.google.com/identity/protocols/oauth2/web-server#offline
    credentials = _Remembering(
        token=access_token if expires_at is not None else None,
        # google-auth keeps expiry as a naive UTC time.
        expiry=expires_at.astimezone(UTC).replace(tzinfo=None) if expires_at else None,
        refresh_token=refresh_token,
        token_uri=token_uri,
        client_id=client_id,
        client_secret=client_secret,
        scopes=sorted(scopes),
    )
    credentials.on_refresh = on_refresh
    return credentials


class _Remembering(Credentials):  # type: ignore[misc]
    """Credentials that tell on_refresh about every access token they fetch."""

    on_refresh: Callable[[str, datetime], None] | None = None

    def refresh(self, request: Any) -> None:
        super().refresh(request)
        if self.on_refresh is not None and self.token and self.expiry is not None:
            self.on_refresh(self.token, self.expiry.replace(tzinfo=UTC))


def make_flow(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    scopes: Iterable[str],
    *,
    auth_uri: str = GOOGLE_AUTH_URI,
    token_uri: str = GOOGLE_TOKEN_URI,
) -> Flow:
    """Return a web-server OAuth flow; build a new one for the start and for the callback."""
    config = {
        "web": {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_uri": auth_uri,
            "token_uri": token_uri,
            "redirect_uris": [redirect_uri],
        }
    }
    return Flow.from_client_config(
        config, scopes=list(scopes), redirect_uri=redirect_uri, autogenerate_code_verifier=False
    )


def new_code_verifier() -> str:
    """Return a PKCE code verifier: 86 characters from the unreserved set, 43-128 allowed."""
    return secrets.token_urlsafe(64)


def authorization_url(flow: Flow, state: str, *, login_hint: str | None = None) -> tuple[str, str]:
    """Return the consent URL to send the browser to, and the PKCE verifier to keep server-side.

    Keep the verifier with the state (in the server-side session, not in a cookie the browser
    can read) and hand it back to exchange_code on the callback.
    """
    flow.code_verifier = new_code_verifier()
    hint = {"login_hint": login_hint} if login_hint else {}
    # Reference: https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient
    url, _ = flow.authorization_url(
        state=state,
        access_type="offline",
        prompt="consent",
        include_granted_scopes="true",
        **hint,
    )
    return str(url), str(flow.code_verifier)


def exchange_code(
    flow: Flow, code: str, code_verifier: str, *, certs_uri: str = GOOGLE_CERTS_URI
) -> Grant:
    """Trade the callback's code for a grant; the id token, if any, is verified."""
    flow.code_verifier = code_verifier
    token = _fetch_token(flow, code)
    scope = token.get("scope") or []
    granted = frozenset(scope.split() if isinstance(scope, str) else scope)
    raw_id_token = token.get("id_token")
    identity = None
    if raw_id_token:
        client_id = str(flow.client_config["client_id"])
        identity = verify_id_token(raw_id_token, client_id=client_id, certs_uri=certs_uri)
    return Grant(token.get("refresh_token"), granted, identity)


def _fetch_token(flow: Flow, code: str) -> Mapping[str, Any]:
    flow.oauth2session.register_compliance_hook("access_token_response", _refuse_server_errors)
    try:
        # Reference: https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
        return dict(flow.fetch_token(code=code, timeout=TIMEOUT))
    except Warning as changed:
        # oauthlib raises (not warns) when the granted scopes differ from the requested ones,
        # e.g. an unticked box; the token is attached and the caller checks Grant.scopes.
        return dict(getattr(changed, "token", {}))
    except InsecureTransportError:
        raise
    except OAuth2Error as exc:
        raise AuthorizationFailed(f"Google refused the authorization code: {exc.error}") from exc
    except requests.RequestException as exc:
        raise TransientGoogleError(f"could not reach Google's token endpoint: {exc}") from exc


def _refuse_server_errors(response: requests.Response) -> requests.Response:
    """Raise on a 5xx before oauthlib mistakes its body for a malformed token."""
    if response.status_code >= 500:
        raise TransientGoogleError(
            f"Google's token endpoint answered {response.status_code}", status=response.status_code
        )
    return response


def verify_id_token(token: str, *, client_id: str, certs_uri: str = GOOGLE_CERTS_URI) -> Identity:
    """Check an id token's signature (keys from certs_uri), audience, expiry and issuer.

    The same code path verifies Google's tokens and the test server's: only certs_uri changes.
    """
    with requests.Session() as session:
        try:
            # Reference: https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken
            claims = id_token.verify_token(
                token,
                Request(session),
                audience=client_id,
                certs_url=certs_uri,
                clock_skew_in_seconds=10,
            )
        except TransportError as exc:
            raise TransientGoogleError(f"could not fetch Google's signing keys: {exc}") from exc
        except (GoogleAuthError, ValueError) as exc:
            raise AuthorizationFailed(f"Google's id token did not verify: {exc}") from exc
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise AuthorizationFailed(f"id token issued by {claims.get('iss')!r}, not Google")
    return Identity(
        subject=str(claims["sub"]),
        email=str(claims.get("email", "")),
        email_verified=bool(claims.get("email_verified")),
    )


def revoke(token: str, *, revoke_uri: str = GOOGLE_REVOKE_URI) -> None:
    """Revoke a refresh (or access) token at Google; an already revoked one is fine."""
    try:
        # Reference: https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
        response = requests.post(
            revoke_uri, data={"token": token}, headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        raise TransientGoogleError(f"could not reach Google's revoke endpoint: {exc}") from exc
    if response.ok or _oauth_error(response) == "invalid_token":
        return
    raise for_status(response.status_code, f"Google refused to revoke: {response.status_code}")


def _oauth_error(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except (ValueError, AttributeError):
        return ""

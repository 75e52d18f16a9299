"""The fake's token, revoke, certs and userinfo endpoints, and its signed id tokens.

Id tokens are RS256 JWTs signed with a key generated once per test process; /oauth2/v1/certs
serves its certificate in the same {kid: PEM} shape as Google's, so the app verifies them with
google-auth exactly as it verifies Google's (only the certs URL differs).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from tests.google_fake.state import ACCESS_TOKEN_SECONDS, Grant, State
from tests.google_fake.wire import Request, Response, json_response, oauth_error

ISSUER = "https://accounts.google.com"
CODE_SECONDS = 600
SIGN_IN_SCOPES = frozenset({"openid", "https://www.googleapis.com/auth/userinfo.email"})


@cache
def _signing_key() -> tuple[bytes, str, str]:
    """Return (private key PEM, key id, certificate PEM), made once per test run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kid = hashlib.sha1(private).hexdigest()
    return private, kid, cert.public_bytes(serialization.Encoding.PEM).decode()


def subject_for(email: str) -> str:
    """Return a stable, Google-looking numeric account id for an email."""
    return str(int(hashlib.sha256(email.lower().encode()).hexdigest(), 16))[:21]


def id_token_for(grant: Grant, nonce: str = "") -> str:
    private, kid, _ = _signing_key()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "azp": grant.client_id,
        "aud": grant.client_id,
        "sub": subject_for(grant.email),
        "email": grant.email,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    if nonce:
        claims["nonce"] = nonce
    signer = crypt.RSASigner.from_string(private, kid)
    return jwt.encode(signer, claims).decode()


def certs(state: State, request: Request) -> Response:
    _, kid, cert = _signing_key()
    return json_response({kid: cert})


def token(state: State, request: Request) -> Response:
    """Answer the token endpoint: authorization_code and refresh_token grants."""
    if not _client_authenticated(state, request):
        return oauth_error("invalid_client", "Unauthorized", 401)
    grant_type = request.field("grant_type")
    if grant_type == "authorization_code":
        return _exchange(state, request)
    if grant_type == "refresh_token":
        return _refresh(state, request)
    return oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")


def _client_authenticated(state: State, request: Request) -> bool:
    client_id, secret = request.field("client_id"), request.field("client_secret")
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        decoded = base64.b64decode(basic[6:]).decode()
        client_id, _, secret = decoded.partition(":")
    return (client_id, secret) == (state.client_id, state.client_secret)


def _exchange(state: State, request: Request) -> Response:
    code = state.codes.get(request.field("code"))
    if code is None or code.used or time.time() - code.issued > CODE_SECONDS:
        return oauth_error("invalid_grant", "Bad Request")
    code.used = True
    if request.field("redirect_uri") != code.redirect_uri:
        return oauth_error("redirect_uri_mismatch", "Bad Request")
    verifier = request.field("code_verifier")
    if code.challenge and not verifier:
        return oauth_error("invalid_grant", "Missing code verifier.")
    if code.challenge and _challenge(verifier, code.challenge_method) != code.challenge:
        return oauth_error("invalid_grant", "Invalid code verifier.")
    state.grants.append(code.grant)
    reply = _tokens(state, code.grant, code.nonce)
    if code.grant.refresh_token:
        reply["refresh_token"] = code.grant.refresh_token
    return json_response(reply)


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _refresh(state: State, request: Request) -> Response:
    grant = state.grant_for_refresh_token(request.field("refresh_token"))
    if grant is None:
        return oauth_error("invalid_grant", "Token has been expired or revoked.")
    asked = frozenset(request.field("scope").split())
    if not asked <= grant.scopes:
        invalid = sorted(asked - grant.scopes)
        return oauth_error("invalid_scope", f"Some requested scopes were invalid. {invalid}")
    return json_response(_tokens(state, grant))


def _tokens(state: State, grant: Grant, nonce: str = "") -> dict[str, Any]:
    reply: dict[str, Any] = {
        "access_token": state.issue_access_token(grant),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": " ".join(sorted(grant.scopes)),
        "token_type": "Bearer",
    }
    if "openid" in grant.scopes:
        reply["id_token"] = id_token_for(grant, nonce)
    return reply


def revoke(state: State, request: Request) -> Response:
    """Revoke the grant behind a refresh or access token (Google revokes both either way)."""
    value = request.field("token") or request.query.get("token", "")
    grant = state.grant_for_refresh_token(value) or state.grant_for_access_token(value)
    if grant is None:
        return oauth_error("invalid_token", "Token expired or revoked")
    state.revoke(grant)
    return json_response({})


def userinfo(state: State, request: Request) -> Response:
    """Answer OpenID Connect userinfo for a bearer token with a sign-in scope."""
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    grant = state.grant_for_access_token(bearer)
    if grant is None or not grant.scopes & SIGN_IN_SCOPES:
        return json_response({"error": "invalid_request", "error_description": "Invalid"}, 401)
    claims = {"sub": subject_for(grant.email), "email": grant.email, "email_verified": True}
    return json_response(claims)


def new_refresh_token() -> str:
    return "1//fake-" + secrets.token_urlsafe(32)

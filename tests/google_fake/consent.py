"""The fake consent screen at /o/oauth2/auth: a plain HTML form a real browser can click through.

Like Google's granular consent, the sign-in scopes (openid, email) are always shared and each
other scope is a checkbox the user may untick. Allow redirects back with code and state;
Cancel with error=access_denied. Client and redirect-URI errors are shown, never redirected.
"""

from __future__ import annotations

import secrets
from html import escape

from tests.google_fake.oauth import SIGN_IN_SCOPES, new_refresh_token
from tests.google_fake.state import Code, Grant, State
from tests.google_fake.wire import Request, Response, html, redirect

DESCRIPTIONS = {
    "https://www.googleapis.com/auth/calendar.events.owned": (
        "See, create, change, and delete events on Google calendars you own"
    ),
    "https://www.googleapis.com/auth/calendar.freebusy": (
        "See the availability on Google calendars you have access to"
    ),
    "https://www.googleapis.com/auth/calendar.app.created": (
        "Make secondary Google calendars, and see, create, change, and delete events on them"
    ),
}
CARRIED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "access_type",
    "include_granted_scopes",
    "nonce",
)


def show(state: State, request: Request) -> Response:
    """Render the consent page for an authorization request."""
    params = request.query
    problem = _problem(state, params.get("client_id", ""), params.get("redirect_uri", ""))
    if problem or params.get("response_type") != "code" or not params.get("scope"):
        return html(f"<h1>Error 400: {escape(problem or 'invalid_request')}</h1>", 400)
    hidden = [(name, params[name]) for name in CARRIED if name in params]
    hidden.append(("requested_scope", params["scope"]))
    email = params.get("login_hint") or state.consent.email
    return html(_page(hidden, params["scope"].split(), email, state.consent.grant))


def decide(state: State, request: Request) -> Response:
    """Turn the submitted consent form into a redirect back to the app."""
    client_id, redirect_uri = request.field("client_id"), request.field("redirect_uri")
    problem = _problem(state, client_id, redirect_uri)
    if problem:
        return html(f"<h1>Error 400: {escape(problem)}</h1>", 400)
    back = {"state": request.field("state")} if request.field("state") else {}
    if request.field("decision") != "allow":
        return redirect(redirect_uri, {"error": "access_denied", **back})
    grant = _grant(state, request)
    code = secrets.token_urlsafe(32)
    state.codes[code] = Code(
        grant,
        redirect_uri,
        challenge=request.field("code_challenge"),
        challenge_method=request.field("code_challenge_method", "plain"),
        nonce=request.field("nonce"),
    )
    scope = " ".join(sorted(grant.scopes))
    return redirect(redirect_uri, {**back, "code": code, "scope": scope, "authuser": "0"})


def _grant(state: State, request: Request) -> Grant:
    requested = frozenset(request.field("requested_scope").split())
    ticked = frozenset(request.form.get("scope", []))
    email = request.field("email", state.consent.email)
    scopes = (ticked & requested) | (requested & SIGN_IN_SCOPES)
    if request.field("include_granted_scopes") == "true":
        scopes |= _granted_before(state, email)
    offline = request.field("access_type") == "offline"
    return Grant(email, state.client_id, scopes, new_refresh_token() if offline else None)


def _granted_before(state: State, email: str) -> frozenset[str]:
    """Return the scopes this account still grants this client (incremental authorization)."""
    live = [
        grant.scopes
        for grant in state.grants
        if (grant.email, grant.client_id) == (email, state.client_id)
        and not state.is_revoked(grant)
    ]
    return frozenset().union(*live)


def _problem(state: State, client_id: str, redirect_uri: str) -> str:
    if client_id != state.client_id:
        return "invalid_client"
    if not redirect_uri or (
        state.redirect_uris is not None and redirect_uri not in state.redirect_uris
    ):
        return "redirect_uri_mismatch"
    return ""


def _page(
    hidden: list[tuple[str, str]], scopes: list[str], email: str, keep: frozenset[str] | None
) -> str:
    fields = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden
    )
    items = "".join(_scope_item(scope, keep) for scope in scopes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Google Accounts (fake)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>Touchpoint wants to access your Google Account</h1>
<form method="post" action="/o/oauth2/auth">{fields}
<p><label>Signed in as <input name="email" id="email" value="{escape(email)}"></label></p>
<ul>{items}</ul>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
</form></main></body></html>"""


def _scope_item(scope: str, keep: frozenset[str] | None) -> str:
    if scope in SIGN_IN_SCOPES:
        return f'<li><input type="hidden" name="scope" value="{escape(scope)}">{escape(scope)}</li>'
    checked = " checked" if keep is None or scope in keep else ""
    label = escape(DESCRIPTIONS.get(scope, scope))
    return (
        f'<li><label><input type="checkbox" name="scope" value="{escape(scope)}"{checked}>'
        f"{label}</label></li>"
    )

"""Headers every response carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, request

HSTS_SECONDS = 365 * 24 * 60 * 60  # browsers remember to use https only for a year


def content_security_policy(google_auth_uri: str) -> str:
    """Return the policy: own origin only, plus Google's consent page as a form target.

    Pages are server-rendered with one stylesheet and no inline script. The "Connect Google"
    button is a form whose answer redirects to Google, which form-action must allow.
    """
    google = urlsplit(google_auth_uri)
    origin = f"{google.scheme}://{google.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    )


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", current_app.config["CSP"])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Signed links (magic links, accept links) must never leak through the Referer header.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["HSTS"]:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    if request.endpoint != "static":
        # Every page is someone's own (signed in, or opened by a secret link): no shared cache,
        # and no copy on disk or in the back button after signing out.
        response.headers.setdefault("Cache-Control", "no-store")
    return response

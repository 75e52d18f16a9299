"""The files a browser asks for by itself: /favicon.ico and the web app manifest."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, send_from_directory, url_for
from flask_babel import gettext as _

from service.engine.i18n import current

bp = Blueprint("assets", __name__)

WEEK = 7 * 24 * 60 * 60


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Answer the icon every browser asks for at the root, from the static folder."""
    folder = current_app.static_folder or ""
    response = send_from_directory(folder, "favicon.ico", mimetype="image/vnd.microsoft.icon")
    response.cache_control.max_age = WEEK
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Describe Touchpoint to a phone that adds it to its home screen."""
    svg = {"src": url_for("static", filename="favicon.svg"), "sizes": "any"}
    icons = [{**svg, "type": "image/svg+xml"}]
    for n in (192, 512):
        png = url_for("static", filename=f"icon-{n}.png")
        icons.append({"src": png, "sizes": f"{n}x{n}", "type": "image/png"})
    body = {
        "name": "Touchpoint",
        "short_name": "Touchpoint",
        "description": _(
            "Career conversations, prepared, in the moments your calendar already has."
        ),
        "lang": current(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f5f6f8",
        "theme_color": "#17624f",
        "icons": icons,
    }
    return Response(json.dumps(body), mimetype="application/manifest+json")

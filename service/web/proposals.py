"""The proposals pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("proposals", __name__)

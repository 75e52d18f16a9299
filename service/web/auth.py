"""The auth pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)

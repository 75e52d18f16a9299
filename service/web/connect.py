"""The connect pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("connect", __name__)

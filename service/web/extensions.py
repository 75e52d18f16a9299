"""Extensions, created unbound here and attached to the app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from service.adapters.db import Database

babel = Babel()
db = Database()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

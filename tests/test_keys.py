"""Rotating the encryption key keeps every secret readable and retires the old key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from service.adapters.db import Database
from service.adapters.secrets import SecretBox
from service.models import Connection, User
from service.sources.keys import reseal_secrets

FEED = "https://calendar.example.com/private-4f9a/basic.ics"


def test_after_rotation_only_the_new_key_is_needed(database_url: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    database = Database(database_url)
    with database.unit() as session:
        user = User(email="alice@example.com")
        session.add(user)
        session.flush()
        session.add(Connection(user_id=user.id, kind="ics_url", secret=SecretBox([old]).seal(FEED)))
        session.add(Connection(user_id=user.id, kind="ics_upload", label="work.ics"))

    with database.unit() as session:
        count = reseal_secrets(session, SecretBox([new, old]))
    with database.unit() as session:
        sealed = session.query(Connection).filter_by(kind="ics_url").one().secret
    database.dispose()

    assert count == 1
    assert SecretBox([new]).open(sealed) == FEED
    with pytest.raises(ValueError, match="no longer configured"):
        SecretBox([old]).open(sealed)

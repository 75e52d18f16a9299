"""Key rotation: re-seal every stored secret under the newest encryption key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.adapters.secrets import SecretBox
from service.models import Connection


def reseal_secrets(session: Session, box: SecretBox) -> int:
    """Re-encrypt every connection secret with the first key; return how many were re-sealed.

    Rotation: put a new key first in TOUCHPOINT_ENCRYPTION_KEYS, run this, then drop the old key.
    """
    count = 0
    for connection in session.scalars(select(Connection).where(Connection.secret.is_not(None))):
        assert connection.secret is not None
        connection.secret = box.rotate(connection.secret)
        # A kept Google access token lives an hour: dropped rather than re-sealed.
        connection.access_token, connection.access_token_expires_at = None, None
        count += 1
    return count

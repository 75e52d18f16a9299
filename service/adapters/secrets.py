"""Secrets at rest (refresh tokens, secret feed URLs), encrypted with rotatable Fernet keys."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBox:
    """Encrypt with the newest key, decrypt with any; rotate() re-encrypts under the newest."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def seal(self, plain: str) -> bytes:
        return self._fernet.encrypt(plain.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            raise ValueError(
                "this secret was sealed with a key that is no longer configured"
            ) from None

    def rotate(self, sealed: bytes) -> bytes:
        return self._fernet.rotate(sealed)

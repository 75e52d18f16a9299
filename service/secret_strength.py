"""How much randomness a configured secret holds, estimated from what it looks like.

A production SECRET_KEY signs sessions and every link; one an attacker can guess forges them
all. The estimate cannot know how a key was made, only catch the keys a person typed.
"""

from __future__ import annotations

import math
import string

NEEDED_BITS = 256  # 32 random bytes, what secrets.token_urlsafe(32) gives
MIN_DISTINCT = 10  # fewer different characters than this is a pattern, not randomness
MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation)


def estimated_bits(key: str) -> float:
    """Estimate a key's randomness: its length times the bits each character can carry."""
    if set(key) <= set(string.hexdigits):
        alphabet = 16
    else:
        alphabet = sum(len(chars) for chars in _CLASSES if set(key) & set(chars))
        alphabet += len(set(key) - set().union(*map(set, _CLASSES)))  # anything else, counted once
    return len(key) * math.log2(max(alphabet, 1))


def weakness(name: str, key: str) -> str | None:
    """Say in one line why the key held in variable `name` is too weak to use, or None."""
    distinct = len(set(key))
    if distinct < MIN_DISTINCT:
        found = f"{len(key)} characters, only {distinct} of them different"
    elif (bits := estimated_bits(key)) < NEEDED_BITS:
        found = f"{len(key)} characters, about {bits:.0f} bits"
    else:
        return None
    return (
        f"{name} is too weak ({found}): it needs at least {NEEDED_BITS} bits of randomness "
        f'(32 random bytes), e.g. from "{MAKE_ONE}"'
    )

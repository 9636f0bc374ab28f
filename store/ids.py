"""Opaque identifiers and secrets.

IDs are 16 random base62 characters (~95 bits): never sequential, so they leak neither
counts nor creation order, and they are URL-safe as-is.
"""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 16


# Bytes below this map evenly onto the 62 characters (4 x 62 = 248); the rest are dropped
# (rejection sampling), so every character stays uniformly random.
_UNBIASED = 4 * len(ALPHABET)


def random_token(length: int) -> str:
    """``length`` uniformly random base62 characters from the OS CSPRNG.

    One ``token_bytes`` call per token rather than one ``secrets.choice`` per character: a bulk
    import mints several IDs per lead, and this is ~10x cheaper.
    """
    chars: list[str] = []
    while len(chars) < length:
        chars += [ALPHABET[b % len(ALPHABET)] for b in secrets.token_bytes(length + 8) if b < _UNBIASED]
    return "".join(chars[:length])


def new_id() -> str:
    return random_token(ID_LENGTH)

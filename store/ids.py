"""Opaque identifiers and secrets.

IDs are 16 random base62 characters (~95 bits): never sequential, so they leak neither
counts nor creation order, and they are URL-safe as-is.
"""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 16


def new_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def random_token(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))

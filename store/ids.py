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
# Byte -> its character, and the bytes dropped: `bytes.translate` does the mapping in C (a
# Python loop over the bytes was most of an id's cost, and a bulk import mints ~5 per lead).
_TO_CHAR = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))
_DROPPED = bytes(range(_UNBIASED, 256))


def _chars(count: int) -> bytes:
    """``count`` uniformly random base62 characters (ASCII bytes) from the OS CSPRNG."""
    chars = b""
    while len(chars) < count:
        # Half again as many bytes as wanted (3 % are dropped): a shortfall just draws again.
        chars += secrets.token_bytes(count + count // 2 + 8).translate(_TO_CHAR, _DROPPED)
    return chars[:count]


def random_token(length: int) -> str:
    """``length`` uniformly random base62 characters from the OS CSPRNG."""
    return _chars(length).decode("ascii")


def new_id() -> str:
    return random_token(ID_LENGTH)


def new_ids(count: int) -> list[str]:
    """``count`` ids from one draw of the CSPRNG (bulk imports: one system call, not one per id)."""
    text = _chars(count * ID_LENGTH).decode("ascii")
    return [text[start : start + ID_LENGTH] for start in range(0, len(text), ID_LENGTH)]

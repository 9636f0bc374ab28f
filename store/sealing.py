"""Secrets at rest that the server must read back (unlike API keys, which are only hashed).

AES-GCM under a key derived (HKDF-SHA256) from a server secret (``LEADPIPE_SECRET_KEY``), a
purpose-specific salt and the identity of what is sealed, so a sealed value cannot be moved
to another row or purpose, and someone holding the database alone can read nothing. Several
server secrets may be configured: the first seals, every one of them opens (rotation). Used
for idempotent replies (`store.idempotency.replays`) and webhook signing secrets
(`store.webhooks.secrets`).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _cipher(server_secret: str, salt: bytes, identity: tuple[str, ...]) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info="\x00".join(identity).encode())
    return AESGCM(hkdf.derive(server_secret.encode()))


def seal(server_secret: str, salt: bytes, identity: tuple[str, ...], plaintext: bytes) -> str:
    """``base64(nonce || ciphertext+tag)`` under the key for ``salt`` and ``identity``."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(server_secret, salt, identity).encrypt(nonce, plaintext, None)
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(
    server_secrets: tuple[str, ...], salt: bytes, identity: tuple[str, ...], stored: str
) -> bytes | None:
    """The plaintext, opened with the first server secret that fits; None if none does."""
    raw = base64.b64decode(stored)
    for secret in server_secrets:
        try:
            return _cipher(secret, salt, identity).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except InvalidTag:
            continue
    return None

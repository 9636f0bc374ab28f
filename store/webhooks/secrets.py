"""Endpoint signing secrets: generated, sealed at rest, and used to sign deliveries.

The server computes HMACs with the secret on every delivery, so unlike API keys it cannot be
stored as a hash. It is sealed with AES-GCM under a key derived (HKDF) from
``LEADPIPE_SECRET_KEY`` and the endpoint's identity, as `store.idempotency` seals replies:
someone holding the database alone cannot sign. Every configured server key opens it (the
first seals), so the server secret can rotate. The plaintext is shown once, never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from standardwebhooks.webhooks import Webhook

PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24-64 bytes


class SecretUnavailable(Exception):
    """No configured server key opens the sealed secret (the server key was changed)."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii")


def _cipher(server_key: str, tenant_id: str, endpoint_id: str) -> AESGCM:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"leadpipe-webhook-secret-v1",
        info=f"{tenant_id}\x00{endpoint_id}".encode(),
    )
    return AESGCM(hkdf.derive(server_key.encode()))


def seal(server_keys: tuple[str, ...], tenant_id: str, endpoint_id: str, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(server_keys[0], tenant_id, endpoint_id).encrypt(nonce, secret.encode(), None)
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(server_keys: tuple[str, ...], tenant_id: str, endpoint_id: str, stored: str) -> str:
    raw = base64.b64decode(stored)
    for key in server_keys:
        try:
            return _cipher(key, tenant_id, endpoint_id).decrypt(raw[:12], raw[12:], None).decode()
        except InvalidTag:
            continue
    raise SecretUnavailable("no configured LEADPIPE_SECRET_KEY opens this endpoint's secret")


def signature(secrets: list[str], message_id: str, moment: dt.datetime, body: str) -> str:
    """The ``webhook-signature`` value: ``v1,<base64>`` per secret, space-separated (during the
    24 hours after a rotation a delivery is signed with the new and the previous secret)."""
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)

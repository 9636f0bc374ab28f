"""Endpoint signing secrets: generated, sealed at rest, and used to sign deliveries.

The server computes HMACs with the secret on every delivery, so unlike API keys it cannot be
stored as a hash. It is sealed (`store.sealing`: AES-GCM, key derived from
``LEADPIPE_SECRET_KEY`` and the endpoint's identity), as `store.idempotency` seals replies:
someone holding the database alone cannot sign. Every configured server key opens it (the
first seals), so the server secret can rotate. The plaintext is shown once, never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import os

from standardwebhooks.webhooks import Webhook

from store import sealing

PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24-64 bytes


class SecretUnavailable(Exception):
    """No configured server key opens the sealed secret (the server key was changed)."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii")


SALT = b"leadpipe-webhook-secret-v1"


def seal(server_keys: tuple[str, ...], tenant_id: str, endpoint_id: str, secret: str) -> str:
    return sealing.seal(server_keys[0], SALT, (tenant_id, endpoint_id), secret.encode())


def unseal(server_keys: tuple[str, ...], tenant_id: str, endpoint_id: str, stored: str) -> str:
    plain = sealing.unseal(server_keys, SALT, (tenant_id, endpoint_id), stored)
    if plain is None:
        raise SecretUnavailable("no configured LEADPIPE_SECRET_KEY opens this endpoint's secret")
    return plain.decode()


def signature(secrets: list[str], message_id: str, moment: dt.datetime, body: str) -> str:
    """The ``webhook-signature`` value: ``v1,<base64>`` per secret, space-separated (during the
    24 hours after a rotation a delivery is signed with the new and the previous secret)."""
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)

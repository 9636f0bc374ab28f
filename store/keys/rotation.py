"""Rotating an API key's secret, optionally with a grace period for the old one.

Without an outage: a deploy holding the old secret keeps working until the grace period ends
(at most `MAX_GRACE_SECONDS`), and the key shows when (``previousSecretExpiresAt``). Only the
SHA-256 of the old secret is kept, in ``previous_key_hash``, exactly like the current one.
Rotating hands out a secret, so the caller must hold all the key's power
(`store.access.power.ensure_within`): a key with only ``admin:api_keys`` cannot rotate a
full-scope key and walk away with its secret.
"""

from __future__ import annotations

import datetime as dt

from store.access import power
from store.access.principals import Principal
from store.audit import log as audit
from store.db import transaction
from store.errors import FieldError, NotFound, ValidationFailed
from store.keys.api_keys import IssuedKey, creator_role, find_key, hash_key, key_status, mint
from store.models import ApiKey, utcnow

MAX_GRACE_SECONDS = 7 * 24 * 3600  # a week, as Stripe's key roll allows


@transaction
def rotate_key(caller: Principal, key_id: str, *, grace_seconds: int = 0) -> IssuedKey:
    """Give the key a new secret. The old one keeps working for ``grace_seconds`` (at most
    `MAX_GRACE_SECONDS`; 0: it stops at once), so running deploys can switch without an outage.
    A second rotation ends the first one's grace: a key has at most two live secrets."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise ValidationFailed([FieldError("gracePeriodSeconds", f"Must be 0-{MAX_GRACE_SECONDS}")])
    key = find_key(caller, key_id)
    if key_status(key) != "active":
        raise NotFound("API key not found or no longer active")
    result = power.of_key(
        key.tenant_id, key.environment, frozenset(key.scopes), creator_role(key.tenant_id, key.created_by)
    )
    power.ensure_within(caller, result, "rotate this key")
    plaintext, prefix = mint(key.environment, key.type)
    old_prefix, old_grace = key.prefix, key.previous_expires_at
    if grace_seconds:
        key.previous_key_hash = key.key_hash
        key.previous_expires_at = utcnow() + dt.timedelta(seconds=grace_seconds)
    else:
        key.previous_key_hash = key.previous_expires_at = None
    key.key_hash, key.prefix = hash_key(plaintext), prefix
    key.save()
    changes = {"prefix": [old_prefix, prefix], "previous_expires_at": [old_grace, key.previous_expires_at]}
    audit.record(caller, "api_key.rotated", "api_key", key.id, changes)
    return IssuedKey(key, plaintext)


def previous_secret_expires_at(key: ApiKey, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the secret replaced by the last rotation stops working; None once it has."""
    expires = key.previous_expires_at
    return (
        expires
        if expires is not None and expires > (now or utcnow()) and key_status(key) == "active"
        else None
    )

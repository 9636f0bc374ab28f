"""Session tokens: signed, expiring, revocable Bearer credentials for users.

A token is an itsdangerous ``URLSafeTimedSerializer`` payload ``{"t": tenant, "u": user,
"v": session_version, "j": token id}``. The key list is the same rotation scheme as cursors (the first key
signs, every key verifies) under its own salt, so a cursor can never pass for a token. The
signature's timestamp gives expiry (``max_age``); the session version gives revocation: a
password change or a deactivation bumps the user's version and every older token dies. The
token id gives signing out one token (`logout`): its id goes into ``revoked_sessions`` until
the token would have expired anyway, and that token alone dies; the user's other sessions live.
Tokens never start with ``lp_``, so a Bearer value is unambiguous: API key or session.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from store.access import power
from store.access.principals import Principal
from store.db import reading, transaction
from store.errors import PermissionDenied, Unauthenticated
from store.models import RevokedSession, Tenant, User, utcnow

SALT = "leadpipe.session"


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: dt.datetime


class _FixedTimeSigner(TimestampSigner):
    """Signs with a given issue time: lets tests mint an already-expired token honestly."""

    issued_at: int = 0

    def get_timestamp(self) -> int:
        return self.issued_at


class SessionCodec:
    def __init__(self, secret_keys: Sequence[str], ttl_seconds: int) -> None:
        # itsdangerous signs with the *last* key of its list; ours signs with the first.
        self._keys = list(reversed(secret_keys))
        self.ttl_seconds = ttl_seconds
        self._serializer = URLSafeTimedSerializer(self._keys, salt=SALT)

    def issue(self, user: User, *, issued_at: int | None = None) -> IssuedSession:
        payload = {"t": user.tenant_id, "u": user.id, "v": user.session_version, "j": secrets.token_hex(16)}
        now = int(time.time()) if issued_at is None else issued_at
        signer = type("_Signer", (_FixedTimeSigner,), {"issued_at": now})
        serializer = URLSafeTimedSerializer(self._keys, salt=SALT, signer=signer)
        expires = dt.datetime.fromtimestamp(now + self.ttl_seconds, dt.UTC).replace(tzinfo=None)
        return IssuedSession(str(serializer.dumps(payload)), expires)

    def read(self, token: str) -> dict[str, Any]:
        """The payload of a genuine, unexpired token, else `Unauthenticated`."""
        try:
            payload = self._serializer.loads(token, max_age=self.ttl_seconds)
        except SignatureExpired as exc:
            raise Unauthenticated("Session expired: sign in again") from exc
        except BadSignature as exc:
            raise Unauthenticated("Invalid API key or token") from exc
        # Tokens without an id ("j") predate logout and could not be signed out: refused.
        if not isinstance(payload, dict) or not {"t", "u", "v", "j"} <= payload.keys():
            raise Unauthenticated("Invalid API key or token")
        return payload


@reading
def authenticate(token: str, codec: SessionCodec) -> Principal:
    """Resolve a session token to its user's principal, or raise `Unauthenticated`."""
    payload = codec.read(token)
    tenant_id, token_id = str(payload["t"]), str(payload["j"])
    revoked = RevokedSession.select(RevokedSession.token_id).where(
        (RevokedSession.tenant_id == tenant_id) & (RevokedSession.token_id == token_id)
    )
    row = (
        User.select(User, Tenant.plan, peewee.fn.EXISTS(revoked).alias("revoked"))
        .join(Tenant, on=(Tenant.id == User.tenant_id))
        .where((User.tenant_id == tenant_id) & (User.id == str(payload["u"])))
        .objects()
        .first()
    )
    if row is None or not row.active or row.session_version != payload["v"] or row.revoked:
        raise Unauthenticated("Session revoked: sign in again")
    # Derived from the user's role on every request: a demotion narrows live sessions at once.
    held = power.of_role(row.tenant_id, row.role)
    return power.for_user(held, row.id, plan=row.plan, session_id=token_id)


@transaction
def logout(caller: Principal, ttl_seconds: int) -> None:
    """Revoke the session token ``caller`` signed in with, and only that one.

    The row outlives the token (at most ``ttl_seconds`` from now); the tenant's rows past that
    are pruned here, so the table holds only tokens that could still be presented.
    """
    if caller.session_id is None:
        raise PermissionDenied("Signing out needs a session token, not an API key")
    now = utcnow()
    RevokedSession.delete().where(
        (RevokedSession.tenant_id == caller.tenant_id) & (RevokedSession.expires_at < now)
    ).execute()
    RevokedSession.insert(
        tenant_id=caller.tenant_id,
        token_id=caller.session_id,
        user_id=caller.actor_id,
        revoked_at=now,
        expires_at=now + dt.timedelta(seconds=ttl_seconds),
    ).on_conflict_ignore().execute()

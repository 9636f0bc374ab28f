"""Session tokens: signed, expiring, revocable Bearer credentials for users.

A token is an itsdangerous ``URLSafeTimedSerializer`` payload ``{"t": tenant, "u": user,
"v": session_version}``. The key list is the same rotation scheme as cursors (the first key
signs, every key verifies) under its own salt, so a cursor can never pass for a token. The
signature's timestamp gives expiry (``max_age``); the session version gives revocation: a
password change or a deactivation bumps the user's version and every older token dies.
Tokens never start with ``lp_``, so a Bearer value is unambiguous: API key or session.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from store.access import power
from store.access.principals import Principal
from store.db import reading
from store.errors import Unauthenticated
from store.models import Tenant, User

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
        payload = {"t": user.tenant_id, "u": user.id, "v": user.session_version}
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
        if not isinstance(payload, dict) or not {"t", "u", "v"} <= payload.keys():
            raise Unauthenticated("Invalid API key or token")
        return payload


@reading
def authenticate(token: str, codec: SessionCodec) -> Principal:
    """Resolve a session token to its user's principal, or raise `Unauthenticated`."""
    payload = codec.read(token)
    row = (
        User.select(User, Tenant.plan)
        .join(Tenant, on=(Tenant.id == User.tenant_id))
        .where((User.tenant_id == str(payload["t"])) & (User.id == str(payload["u"])))
        .objects()
        .first()
    )
    if row is None or not row.active or row.session_version != payload["v"]:
        raise Unauthenticated("Session revoked: sign in again")
    # Derived from the user's role on every request: a demotion narrows live sessions at once.
    held = power.of_role(row.tenant_id, row.role)
    return Principal(
        tenant_id=row.tenant_id,
        plan=row.plan,
        environment=held.environment,
        scopes=held.scopes,
        actor_type="user",
        actor_id=row.id,
        api_key_id=None,
        user_id=row.id,
        role=held.role,
    )

"""Sign-in and sign-out: email and password in, a signed, expiring session token out; logout
revokes the one token it is called with."""

from __future__ import annotations

from typing import Any

from connexion import request

from handlers.http import envelope
from handlers.http.context import request_id
from handlers.http.identity import login_policy, session_codec
from handlers.http.security import principal_of
from store.users import sessions
from store.users import signin as logins


def login(body: dict[str, Any]) -> envelope.Reply:
    client = request.scope.get("client")
    origin = logins.Origin(
        ip=client[0] if client else None,
        user_agent=request.headers.get("user-agent"),
        request_id=request_id(),
    )
    issued = logins.login(
        body["email"],
        body["password"],
        tenant_id=body.get("tenantId"),
        origin=origin,
        policy=login_policy(),
        codec=session_codec(),
    )
    return envelope.ok(
        {"token": issued.token, "expiresAt": envelope.timestamp(issued.expires_at)},
        message="Signed in",
    )


def logout(token_info: dict[str, Any]) -> envelope.Reply:
    sessions.logout(principal_of(token_info), session_codec().ttl_seconds)
    return envelope.ok({"revoked": True}, message="Signed out")

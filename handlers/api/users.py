"""User endpoints. A user's password goes in; neither it nor its hash ever comes out."""

from __future__ import annotations

from typing import Any

from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.idempotency import idempotent
from handlers.http.names import to_snake
from handlers.http.security import principal_of
from store.models import User
from store.users import accounts as users


def present(row: User) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenantId": row.tenant_id,
        "email": row.email,
        "name": row.name,
        "role": row.role,
        "active": row.active,
        "createdAt": envelope.timestamp(row.created_at),
        "updatedAt": envelope.timestamp(row.updated_at),
    }


def _fingerprintable(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the idempotency fingerprint sees it: never a (fast-hashed) password."""
    return {**body, "password": "[redacted]"} if "password" in body else body


def create_user(body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    caller = principal_of(token_info)

    def produce() -> envelope.Reply:
        user = users.create_user(
            caller, email=body["email"], name=body["name"], role=body["role"], password=body["password"]
        )
        return envelope.created(present(user))

    return idempotent(caller, _fingerprintable(body), produce)


def list_users(token_info: dict[str, Any], limit: int = 20, cursor: str | None = None) -> envelope.Reply:
    result = users.list_users(principal_of(token_info), limit=limit, cursor=cursor, codec=app_state().cursors)
    return envelope.page(result, present, limit=limit)


def get_user(user_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    return envelope.ok(present(users.get_user(principal_of(token_info), user_id)))


def update_user(user_id: str, body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    caller = principal_of(token_info)
    fields = {to_snake(name): value for name, value in body.items()}

    def produce() -> envelope.Reply:
        user = users.update_user(caller, user_id, fields)
        return envelope.ok(present(user), message="Resource updated successfully")

    return idempotent(caller, _fingerprintable(body), produce)

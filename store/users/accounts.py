"""A tenant's users: create, list, view, update, and resolving who an API key acts as.

Users are the assignees of leads and the people behind sessions and keys. Emails are unique
per tenant (stored lowercased); the password exists only as an Argon2id hash. A password
change or a deactivation bumps ``session_version``, which revokes every session token issued
before it. Every change is audited in its own transaction, the password only as redacted.
"""

from __future__ import annotations

from typing import Any

import peewee

from store.access import power, roles
from store.access.principals import Principal
from store.audit import log as audit
from store.db import is_postgres, reading, transaction
from store.emails import is_valid_email
from store.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from store.ids import new_id
from store.models import User, utcnow
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page
from store.users.passwords import hash_password

MIN_PASSWORD, MAX_PASSWORD = 8, 256
UPDATABLE = ("name", "role", "active", "password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_email(email: str) -> None:
    if not is_valid_email(email):
        raise ValidationFailed([FieldError("email", "Invalid email format")])


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed([FieldError("password", f"Must be {MIN_PASSWORD}-{MAX_PASSWORD} characters")])


def _find(tenant_id: str, user_id: str) -> User | None:
    return User.select().where((User.tenant_id == tenant_id) & (User.id == user_id)).first()


def _get(caller: Principal, user_id: str) -> User:
    user = _find(caller.tenant_id, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def _active_owners(tenant_id: str) -> int:
    """Count the active owners, locking their rows (PostgreSQL) so two concurrent demotions
    cannot both see "one other owner remains"; SQLite's IMMEDIATE transactions already serialise.
    """
    query = User.select(User.id).where(
        (User.tenant_id == tenant_id) & (User.role == roles.OWNER) & (User.active == True)  # noqa: E712
    )
    return len(list(query.for_update() if is_postgres() else query))


@transaction
def create_user(caller: Principal, *, email: str, name: str, role: str, password: str) -> User:
    roles.check_may_manage(caller.role or "", None, role)
    # The caller chooses the password, so it can sign in as this user: it must hold all of it.
    power.ensure_within(caller, power.of_role(caller.tenant_id, role), f"create a user with role {role}")
    _check_email(email.strip())
    _check_password(password)
    now = utcnow()
    try:
        with User._meta.database.atomic():
            user = User.create(
                tenant_id=caller.tenant_id,
                id=new_id(),
                email=normalize_email(email),
                name=name.strip(),
                role=role,
                password_hash=hash_password(password),
                created_at=now,
                updated_at=now,
            )
    except peewee.IntegrityError as exc:
        raise Conflict("A user with that email already exists in this tenant") from exc
    audit.record(
        caller,
        "user.created",
        "user",
        user.id,
        {
            "email": [None, user.email],
            "name": [None, user.name],
            "role": [None, role],
            "active": [None, True],
        },
    )
    return user


@reading
def get_user(caller: Principal, user_id: str) -> User:
    return _get(caller, user_id)


@reading
def list_users(caller: Principal, *, limit: int, cursor: str | None, codec: CursorCodec) -> PageResult[User]:
    """Oldest first (the owner leads), keyset-paginated on (created_at, id)."""
    query = User.select().where(User.tenant_id == caller.tenant_id)
    return keyset_page(
        query,
        PageRequest(limit, cursor, codec),
        Keyset(User.created_at, User.id),
        "users",
        {},
    )


@transaction
def update_user(caller: Principal, user_id: str, fields: dict[str, Any]) -> User:
    user = _get(caller, user_id)
    new_role = fields.get("role") if fields.get("role") != user.role else None
    roles.check_may_manage(caller.role or "", user.role, new_role)
    power.ensure_within(caller, _yielded(user, fields), "change this user")
    if "password" in fields:
        _check_password(fields["password"])
    changes: dict[str, list[Any]] = {}
    for name in ("name", "role", "active"):
        if name in fields:
            value = fields[name].strip() if name == "name" else fields[name]
            if getattr(user, name) != value:
                changes[name] = [getattr(user, name), value]
                setattr(user, name, value)
    if "password" in fields:
        user.password_hash = hash_password(fields["password"])
        changes["password"] = ["", ""]  # recorded as changed, redacted by the audit log
    if not changes:
        return user
    if _was_active_owner(changes, user) and not (user.role == roles.OWNER and user.active):
        # The database still counts this user as an active owner: one fewer remains.
        roles.check_keeps_an_owner(_active_owners(user.tenant_id) - 1)
    if "password" in changes or ("active" in changes and not user.active):
        user.session_version += 1
    user.updated_at = utcnow()
    user.save()
    audit.record(caller, "user.updated", "user", user.id, changes)
    return user


def _yielded(user: User, fields: dict[str, Any]) -> power.Power:
    """The power a change hands out. A new role, a reactivation (which revives the user's keys)
    or a password the caller chooses (it can then sign in) yield everything the resulting role
    holds; any other change still needs a live credential, since users span environments."""
    reactivated = fields.get("active") is True and not user.active
    if "role" in fields or reactivated or "password" in fields:
        return power.of_role(user.tenant_id, fields.get("role", user.role))
    return power.tenant_wide(user.tenant_id)


def _was_active_owner(changes: dict[str, list[Any]], user: User) -> bool:
    old_role = changes["role"][0] if "role" in changes else user.role
    old_active = changes["active"][0] if "active" in changes else user.active
    return bool(old_role == roles.OWNER and old_active)


@reading
def acting_as(caller: Principal, user_id: str) -> Principal:
    """The caller acting as ``user_id`` (``X-On-Behalf-Of``): an active user of its own tenant,
    with the key's power narrowed to that user's (`store.access.power.acting_for`).

    Unknown, inactive and other tenants' users are refused alike, so the answer never tells
    whether an id exists elsewhere.
    """
    if caller.actor_type != "api_key":
        raise PermissionDenied("X-On-Behalf-Of is for API keys; a session acts as its own user")
    user = _find(caller.tenant_id, user_id)
    if user is None or not user.active:
        raise PermissionDenied("X-On-Behalf-Of must be the id of an active user of this tenant")
    return power.acting_for(caller, user.id, user.role)

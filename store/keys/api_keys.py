"""API keys: minting, authentication, listing and revocation (rotation: `store.keys.rotation`).

The plaintext secret exists only in the return value of `create_key` / `rotate_key`; the
database keeps its SHA-256. Keys are 32 random base62 characters (~190 bits), so a fast hash
is safe against guessing, and looking a key up by its hash is a single index probe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import peewee

from store.access import power
from store.access.principals import CAPTURE_SCOPE, SANDBOX, SCOPES, Principal
from store.access.roles import ADMIN
from store.audit import log as audit
from store.db import reading, transaction
from store.errors import (
    DuplicateName,
    FieldError,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from store.ids import new_id, random_token
from store.keys.origins import normalize_origins
from store.models import ApiKey, Tenant, User, utcnow
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page
from store.prepared import Prepared, param

SECRET, PUBLISHABLE = "secret", "publishable"
KEY_PATTERN = re.compile(r"^lp_(live|sandbox)_(sk|pk)_[A-Za-z0-9]{32}$")
TIERS = ("standard", "high", "unmetered")


@dataclass(frozen=True)
class IssuedKey:
    """A key record plus its plaintext: returned once, never stored."""

    record: ApiKey
    plaintext: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def mint(environment: str, key_type: str) -> tuple[str, str]:
    """A fresh key's plaintext and its display prefix (``lp_<env>_<sk|pk>_`` + 4 characters)."""
    kind = "pk" if key_type == PUBLISHABLE else "sk"
    head = f"lp_{environment}_{kind}_"
    plaintext = head + random_token(32)
    return plaintext, plaintext[: len(head) + 4]


def key_status(key: ApiKey, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def _key_query(shape: str) -> peewee.ModelSelect[Any]:
    """The key matching a digest (``shape`` "current": its secret; "previous": its secret before a
    rotation, within the grace period), with its tenant's plan and limits and its creator's role
    and state joined on as extra attributes (hence ``Any``: an `ApiKey` plus those)."""
    if shape == "current":
        condition = ApiKey.key_hash == param("digest")
    else:
        condition = (ApiKey.previous_key_hash == param("digest")) & (
            ApiKey.previous_expires_at > param("now")
        )
    return (
        ApiKey.select(
            ApiKey,
            Tenant.plan,
            Tenant.rate_limit,
            Tenant.rate_burst,
            User.role.alias("creator_role"),
            User.active.alias("creator_active"),
        )
        .join(Tenant, on=(Tenant.id == ApiKey.tenant_id))
        .join(
            User,
            peewee.JOIN.LEFT_OUTER,
            on=((User.tenant_id == ApiKey.tenant_id) & (User.id == ApiKey.created_by)),
        )
        .where(condition)
        .limit(1)
    )


# Every authenticated request runs it: built once (`store.prepared`).
KEY_LOOKUP = Prepared(_key_query, ("digest", "now"))


def _key_row(shape: str, digest: str) -> Any:
    rows = KEY_LOOKUP.rows(ApiKey, shape, {"digest": digest, "now": utcnow()})
    return rows[0] if rows else None


def digest_of(plaintext: str) -> str:
    """The lookup digest of a presented key, or `Unauthenticated` if it is not shaped like one."""
    if not KEY_PATTERN.match(plaintext):
        raise Unauthenticated("Invalid API key")
    return hash_key(plaintext)


@reading
def authenticate(plaintext: str) -> Principal:
    """Resolve a presented key (its current secret, or its previous one within the grace period
    of a rotation) to its principal, or raise `Unauthenticated`."""
    return authenticate_digest(digest_of(plaintext))


@reading
def authenticate_digest(digest: str) -> Principal:
    """`authenticate` for a key already reduced to its digest (`digest_of`): the request path
    hashes once and may confirm the same key again later in the request."""
    row = _key_row("current", digest)
    stored = row.key_hash if row is not None else None
    if row is None:
        row = _key_row("previous", digest)
        stored = row.previous_key_hash if row is not None else None
    # The index lookup already matched; the constant-time compare keeps it that way even if
    # a database collation ever compared loosely.
    if row is None or stored is None or not hmac.compare_digest(stored, digest):
        raise Unauthenticated("Invalid API key")
    if key_status(row) != "active":
        raise Unauthenticated("API key is revoked or expired")
    scopes = frozenset(row.scopes)
    role = power.key_role(
        scopes,
        has_creator=row.created_by is not None,
        creator_active=bool(row.creator_active),
        creator_role=row.creator_role,
    )
    return power.acting(
        power.of_key(row.tenant_id, row.environment, scopes, role),
        plan=row.plan,
        actor_type="api_key",
        actor_id=row.id,
        api_key_id=row.id,
        user_id=row.created_by,
        rate_limit_tier=row.rate_limit_tier,
        rate_limit=row.rate_limit,
        rate_burst=row.rate_burst,
    )


def creator_role(tenant_id: str, user_id: str | None) -> str | None:
    """The role a key made by ``user_id`` acts with (no user: admin; inactive: none)."""
    if user_id is None:
        return ADMIN
    user = User.get_or_none((User.tenant_id == tenant_id) & (User.id == user_id))
    return user.role if user is not None and user.active else None


def _check_request(
    caller: Principal,
    *,
    key_type: str,
    scopes: list[str],
    environment: str,
    tier: str,
    expires_at: dt.datetime | None,
) -> None:
    """The rules no schema can express; raises before anything is written."""
    errors: list[FieldError] = []
    if key_type == PUBLISHABLE and set(scopes) != {CAPTURE_SCOPE}:
        errors.append(FieldError("scopes", f"Publishable keys carry exactly ['{CAPTURE_SCOPE}']"))
    if key_type == SECRET and (not scopes or not set(scopes) <= set(SCOPES)):
        errors.append(FieldError("scopes", f"Secret keys take one or more of {', '.join(SCOPES)}"))
    if tier == "unmetered" and caller.plan != "enterprise":
        errors.append(FieldError("rateLimitTier", "'unmetered' is available on enterprise plans only"))
    if expires_at is not None and expires_at <= utcnow():
        errors.append(FieldError("expiresAt", "Must be in the future"))
    if errors:
        raise ValidationFailed(errors)


@transaction
def create_key(
    caller: Principal,
    *,
    name: str,
    scopes: list[str],
    key_type: str = SECRET,
    environment: str | None = None,
    description: str | None = None,
    rate_limit_tier: str = "standard",
    expires_at: dt.datetime | None = None,
    allowed_origins: list[str] | None = None,
) -> IssuedKey:
    environment = environment or caller.environment
    scopes = sorted(set(scopes or ([CAPTURE_SCOPE] if key_type == PUBLISHABLE else [])))
    origins = normalize_origins(allowed_origins, publishable=key_type == PUBLISHABLE)
    _check_request(
        caller,
        key_type=key_type,
        scopes=scopes,
        environment=environment,
        tier=rate_limit_tier,
        expires_at=expires_at,
    )
    result = power.of_key(
        caller.tenant_id, environment, frozenset(scopes), creator_role(caller.tenant_id, caller.user_id)
    )
    power.ensure_within(caller, result, "create this key")
    issued = insert_key(
        caller.tenant_id,
        name=name,
        scopes=scopes,
        key_type=key_type,
        environment=environment,
        description=description,
        rate_limit_tier=rate_limit_tier,
        expires_at=expires_at,
        created_by=caller.user_id,
        allowed_origins=origins,
    )
    shown: tuple[str, ...] = ("name", "type", "environment", "scopes", "description", "rate_limit_tier")
    shown += ("expires_at", "prefix", *(("allowed_origins",) if origins is not None else ()))
    audit.record(
        caller,
        "api_key.created",
        "api_key",
        issued.record.id,
        {field: [None, getattr(issued.record, field)] for field in shown},
    )
    return issued


def insert_key(
    tenant_id: str,
    *,
    name: str,
    scopes: list[str],
    key_type: str,
    environment: str,
    description: str | None,
    rate_limit_tier: str,
    expires_at: dt.datetime | None,
    created_by: str | None,
    allowed_origins: list[str] | None = None,
) -> IssuedKey:
    """Store a new key (hashed) and return it with its plaintext, shown once. No power or audit
    check here: callers (`create_key`, tenant provisioning) decide who may mint what."""
    _free_name_of_expired_keys(tenant_id, name)
    plaintext, prefix = mint(environment, key_type)
    try:
        with ApiKey._meta.database.atomic():
            record = ApiKey.create(
                tenant_id=tenant_id,
                id=new_id(),
                key_hash=hash_key(plaintext),
                prefix=prefix,
                type=key_type,
                environment=environment,
                name=name,
                description=description,
                scopes=scopes,
                rate_limit_tier=rate_limit_tier,
                created_by=created_by,
                expires_at=expires_at,
                allowed_origins=allowed_origins,
            )
    except peewee.IntegrityError as exc:
        raise DuplicateName(f"An active key named {name!r} already exists") from exc
    return IssuedKey(record, plaintext)


def _free_name_of_expired_keys(tenant_id: str, name: str) -> None:
    """An expired key is not active, so its name is free: retire it for good."""
    now = utcnow()
    (
        ApiKey.update(revoked_at=now)
        .where(
            (ApiKey.tenant_id == tenant_id)
            & (ApiKey.name == name)
            & ApiKey.revoked_at.is_null()
            & (ApiKey.expires_at <= now)
        )
        .execute()
    )


def _visible(caller: Principal) -> peewee.Expression:
    """Live keys manage the whole tenant; sandbox keys see sandbox keys only."""
    condition = ApiKey.tenant_id == caller.tenant_id
    if caller.environment == SANDBOX:
        condition &= ApiKey.environment == SANDBOX
    return condition


def find_key(caller: Principal, key_id: str) -> ApiKey:
    """The caller's key (its tenant and environment), or `NotFound`; for use inside a transaction."""
    key = ApiKey.select().where(_visible(caller) & (ApiKey.id == key_id)).first()
    if key is None:
        raise NotFound("API key not found")
    return key


@reading
def get_key(caller: Principal, key_id: str) -> ApiKey:
    return find_key(caller, key_id)


@reading
def list_keys(caller: Principal, *, limit: int, cursor: str | None, codec: CursorCodec) -> PageResult[ApiKey]:
    """Newest first, keyset-paginated on (created_at, id)."""
    return keyset_page(
        ApiKey.select().where(_visible(caller)),
        PageRequest(limit, cursor, codec),
        Keyset(ApiKey.created_at, ApiKey.id, descending=True),
        "api_keys",
        {"env": caller.environment},
    )


@transaction
def revoke_key(caller: Principal, key_id: str) -> ApiKey:
    key = find_key(caller, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        key.save()
        audit.record(caller, "api_key.revoked", "api_key", key.id, {"revoked_at": [None, key.revoked_at]})
    return key

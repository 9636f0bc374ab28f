"""Signing in: email + password -> session token, throttled, and silent about who exists.

How the tenant is found: emails are unique per tenant only, so the login body may carry a
``tenantId``. Without it, the password is checked against every active account with that
email (at most `MAX_CANDIDATES`); exactly one match signs in, several matches answer 409
asking for ``tenantId`` -- which only someone who knows the password can ever see.

Nothing reveals whether an email exists: an unknown email costs one Argon2 verification
against a dummy hash, fails with the same 401 as a wrong password, and counts toward the same
throttle. Failures are counted per account (a hash of the normalized email) and per client IP
in a sliding window held in the database, so every app process shares them; past the limit
the answer is 429 with ``retryAfterMs`` before any password is checked. A success clears the
account's count. Attempts on a known account are audited (``auth.login`` /
``auth.login_failed``) with the account as the actor; the password never is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib

from store.access import power
from store.access.principals import Principal
from store.audit import log as audit
from store.db import reading, transaction
from store.errors import Conflict, RateLimited, Unauthenticated
from store.ids import new_id
from store.models import LoginFailure, User, utcnow
from store.users.accounts import normalize_email
from store.users.passwords import hash_password, verify_password
from store.users.sessions import IssuedSession, SessionCodec

MAX_CANDIDATES = 5


@dataclasses.dataclass(frozen=True)
class LoginPolicy:
    max_failures_per_account: int = 5
    max_failures_per_ip: int = 100
    window_seconds: int = 900


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where the attempt came from, for the throttle and the audit row."""

    ip: str | None
    user_agent: str | None
    request_id: str | None


@functools.cache
def _dummy_hash() -> str:
    # Built on first use, not at import: the unknown-email path must cost one real verification.
    return hash_password("leadpipe-dummy-password-for-constant-work")


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _window_start(policy: LoginPolicy) -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=policy.window_seconds)


@reading
def _check_throttle(keys: dict[str, int], policy: LoginPolicy) -> None:
    since = _window_start(policy)
    for key_hash, limit in keys.items():
        recent = LoginFailure.select(LoginFailure.occurred_at).where(
            (LoginFailure.key_hash == key_hash) & (LoginFailure.occurred_at > since)
        )
        if recent.count() >= limit:
            oldest = recent.order_by(LoginFailure.occurred_at).first()
            assert oldest is not None
            free_at = oldest.occurred_at + dt.timedelta(seconds=policy.window_seconds)
            retry_ms = int((free_at - utcnow()).total_seconds() * 1000) + 1
            raise RateLimited("Too many failed sign-in attempts; retry later", retry_ms, "login")


@reading
def _candidates(email: str, tenant_id: str | None) -> list[User]:
    query = User.select().where((User.email == email) & (User.active == True))  # noqa: E712
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    return list(query.order_by(User.tenant_id).limit(MAX_CANDIDATES))


def _as_principal(user: User, origin: Origin) -> Principal:
    held = power.of_role(user.tenant_id, user.role)
    return Principal(
        tenant_id=user.tenant_id,
        plan="",
        environment=held.environment,
        scopes=held.scopes,
        role=held.role,
        actor_type="user",
        actor_id=user.id,
        api_key_id=None,
        user_id=user.id,
        request_id=origin.request_id,
        ip=origin.ip,
        user_agent=origin.user_agent,
    )


@transaction
def _record_failure(key_hashes: list[str], accounts: list[User], origin: Origin, policy: LoginPolicy) -> None:
    stale = _window_start(policy)
    for key_hash in key_hashes:
        LoginFailure.delete().where(
            (LoginFailure.key_hash == key_hash) & (LoginFailure.occurred_at <= stale)
        ).execute()
        LoginFailure.create(key_hash=key_hash, id=new_id(), occurred_at=utcnow())
    for user in accounts:
        audit.record(_as_principal(user, origin), "auth.login_failed", "user", user.id)


@transaction
def _record_success(user: User, account_key: str, origin: Origin) -> None:
    LoginFailure.delete().where(LoginFailure.key_hash == account_key).execute()
    audit.record(_as_principal(user, origin), "auth.login", "user", user.id)


def login(
    email: str,
    password: str,
    *,
    tenant_id: str | None,
    origin: Origin,
    policy: LoginPolicy,
    codec: SessionCodec,
) -> IssuedSession:
    """A session for the account ``email``/``password`` names, or `Unauthenticated` / 409 / 429.

    Argon2 runs outside any transaction, so a slow verification never holds a write lock.
    """
    normalized = normalize_email(email)
    account_key, ip_key = _key("account", normalized), _key("ip", origin.ip or "-")
    _check_throttle(
        {account_key: policy.max_failures_per_account, ip_key: policy.max_failures_per_ip}, policy
    )
    candidates = _candidates(normalized, tenant_id)
    if not candidates:
        verify_password(_dummy_hash(), password)
    matches = [user for user in candidates if verify_password(user.password_hash, password)]
    if not matches:
        _record_failure([account_key, ip_key], candidates, origin, policy)
        raise Unauthenticated("Invalid email or password")
    if len(matches) > 1:
        raise Conflict("This email signs in to several tenants: send tenantId")
    user = matches[0]
    _record_success(user, account_key, origin)
    return codec.issue(user)

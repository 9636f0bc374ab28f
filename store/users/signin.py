"""Signing in: email + password -> session token, throttled, and silent about who exists.

How the tenant is found: emails are unique per tenant only, so the login body may carry a
``tenantId``. Without it, the password is checked against every active account with that
email (at most `MAX_CANDIDATES`); exactly one match signs in, several matches answer 409
asking for ``tenantId`` -- which only someone who knows the password can ever see.

Nothing reveals whether an email exists: an unknown email costs one Argon2 verification
against a dummy hash, fails with the same 401 as a wrong password, and counts toward the same
throttle. Failures are counted per account -- tenant + email, so failures in one tenant never
lock the same email out of another -- and per client IP, in a sliding window held in the
database, so every app process shares them. Counting is atomic: an attempt *reserves* its
place in the window (check and insert in one transaction, under a per-key lock on PostgreSQL)
before its password is checked, so N parallel wrong passwords get exactly the limit's worth of
tries and 429s after that, with ``retryAfterMs``. A success removes its own reservation and
clears that one account's count, nobody else's. Attempts on a known account are audited
(``auth.login`` / ``auth.login_failed``) with the account as the actor; the password never is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib

from store.access import power
from store.access.principals import Principal
from store.audit import log as audit
from store.db import database, is_postgres, reading, transaction
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


def _lock_keys(key_hashes: list[str]) -> None:
    """Serialise attempts on these keys until commit (PostgreSQL; SQLite writers are serial).

    Taken in sorted order, so two attempts sharing keys can never wait on each other in a cycle.
    """
    if is_postgres():
        for key_hash in sorted(key_hashes):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (int(key_hash[:15], 16),))


def _retry_ms(key_hash: str, since: dt.datetime, policy: LoginPolicy) -> int:
    oldest = (
        LoginFailure.select(LoginFailure.occurred_at)
        .where((LoginFailure.key_hash == key_hash) & (LoginFailure.occurred_at > since))
        .order_by(LoginFailure.occurred_at)
        .first()
    )
    free_at = (oldest.occurred_at if oldest else utcnow()) + dt.timedelta(seconds=policy.window_seconds)
    return int((free_at - utcnow()).total_seconds() * 1000) + 1


def _recent(key_hash: str, since: dt.datetime) -> int:
    return int(
        LoginFailure.select()
        .where((LoginFailure.key_hash == key_hash) & (LoginFailure.occurred_at > since))
        .count()
    )


@transaction
def _reserve(accounts: dict[str, str], ip_key: str, policy: LoginPolicy) -> tuple[str, set[str]]:
    """Count this attempt, before any password is checked: ``accounts`` maps a tenant id (or
    "" for an unknown email) to its account key. Returns the attempt's id and the tenants whose
    account is still open; raises `RateLimited` if the IP, or every account, is at its limit."""
    keys = [*accounts.values(), ip_key]
    _lock_keys(keys)
    since = _window_start(policy)
    LoginFailure.delete().where(
        LoginFailure.key_hash.in_(keys) & (LoginFailure.occurred_at <= since)
    ).execute()
    if _recent(ip_key, since) >= policy.max_failures_per_ip:
        raise RateLimited(
            "Too many failed sign-in attempts; retry later", _retry_ms(ip_key, since, policy), "login"
        )
    open_accounts = {
        tenant: key
        for tenant, key in accounts.items()
        if _recent(key, since) < policy.max_failures_per_account
    }
    if not open_accounts:
        retry = min(_retry_ms(key, since, policy) for key in accounts.values())
        raise RateLimited("Too many failed sign-in attempts; retry later", retry, "login")
    attempt, now = new_id(), utcnow()
    for key_hash in [*open_accounts.values(), ip_key]:
        LoginFailure.create(key_hash=key_hash, id=attempt, occurred_at=now)
    return attempt, set(open_accounts)


@reading
def _candidates(email: str, tenant_id: str | None) -> list[User]:
    query = User.select().where((User.email == email) & (User.active == True))  # noqa: E712
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    return list(query.order_by(User.tenant_id).limit(MAX_CANDIDATES))


def _as_principal(user: User, origin: Origin) -> Principal:
    held = power.of_role(user.tenant_id, user.role)
    return power.for_user(
        held, user.id, plan="", request_id=origin.request_id, ip=origin.ip, user_agent=origin.user_agent
    )


@transaction
def _record_failure(accounts: list[User], origin: Origin) -> None:
    """The attempt is already counted (`_reserve`); only the audit rows remain."""
    for user in accounts:
        audit.record(_as_principal(user, origin), "auth.login_failed", "user", user.id)


@transaction
def _release(key_hashes: list[str], attempt: str) -> None:
    """The password was right: this attempt counts against nothing."""
    LoginFailure.delete().where(
        LoginFailure.key_hash.in_(key_hashes) & (LoginFailure.id == attempt)
    ).execute()


@transaction
def _record_success(
    user: User, account_key: str, key_hashes: list[str], attempt: str, origin: Origin
) -> None:
    _release(key_hashes, attempt)
    LoginFailure.delete().where(LoginFailure.key_hash == account_key).execute()
    audit.record(_as_principal(user, origin), "auth.login", "user", user.id)


def _account_keys(normalized: str, tenant_id: str | None, candidates: list[User]) -> dict[str, str]:
    if candidates:
        return {user.tenant_id: _key("account", f"{user.tenant_id}:{normalized}") for user in candidates}
    return {"": _key("account", f"{tenant_id or '*'}:{normalized}")}


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
    candidates = _candidates(normalized, tenant_id)
    accounts, ip_key = _account_keys(normalized, tenant_id, candidates), _key("ip", origin.ip or "-")
    attempt, open_tenants = _reserve(accounts, ip_key, policy)
    keys = [*accounts.values(), ip_key]
    # An account at its limit is not tried at all, whatever the password.
    candidates = [user for user in candidates if user.tenant_id in open_tenants]
    if not candidates:
        verify_password(_dummy_hash(), password)
    matches = [user for user in candidates if verify_password(user.password_hash, password)]
    if not matches:
        _record_failure(candidates, origin)
        raise Unauthenticated("Invalid email or password")
    if len(matches) > 1:
        _release(keys, attempt)
        raise Conflict("This email signs in to several tenants: send tenantId")
    user = matches[0]
    _record_success(user, accounts[user.tenant_id], keys, attempt, origin)
    return codec.issue(user)

"""Sign-in in the store: throttles per account and per IP, audit rows, tenant resolution."""

from __future__ import annotations

import uuid

import pytest

from store.errors import RateLimited, Unauthenticated
from store.models import AuditEvent, User
from store.users import signin as logins
from store.users.sessions import SessionCodec
from tests.support import SeededTenant

CODEC = SessionCodec(["login-test-secret-0123456789-0123456789"], 600)
PASSWORD = "correct horse battery staple"


def origin(ip: str | None = None) -> logins.Origin:
    return logins.Origin(
        ip=ip or f"10.{uuid.uuid4().int % 250}.0.{uuid.uuid4().int % 250}", user_agent="t", request_id="r"
    )


def email_of(tenant: SeededTenant) -> str:
    return str(User.get((User.tenant_id == tenant.id) & (User.id == tenant.owner_id)).email)


def test_success_audits_and_failure_audits_without_the_password(tenant: SeededTenant) -> None:
    policy = logins.LoginPolicy()
    issued = logins.login(
        email_of(tenant), PASSWORD, tenant_id=None, origin=origin(), policy=policy, codec=CODEC
    )
    assert issued.token
    with pytest.raises(Unauthenticated):
        logins.login(
            email_of(tenant), "bad-pass-9", tenant_id=None, origin=origin(), policy=policy, codec=CODEC
        )

    rows = list(AuditEvent.select().where(AuditEvent.tenant_id == tenant.id).order_by(AuditEvent.occurred_at))
    assert [row.action for row in rows] == ["auth.login", "auth.login_failed"]
    assert all(row.actor_id == tenant.owner_id and row.changes == {} for row in rows)
    assert "bad-pass-9" not in str([row.__data__ for row in rows])


def test_per_ip_limit_spans_accounts(tenant: SeededTenant) -> None:
    policy = logins.LoginPolicy(max_failures_per_account=100, max_failures_per_ip=3, window_seconds=60)
    ip = origin().ip
    for n in range(3):
        with pytest.raises(Unauthenticated):
            logins.login(
                f"x{n}-{uuid.uuid4().hex}@example.com",
                "pw",
                tenant_id=None,
                origin=origin(ip),
                policy=policy,
                codec=CODEC,
            )
    with pytest.raises(RateLimited) as raised:
        logins.login(
            email_of(tenant), PASSWORD, tenant_id=None, origin=origin(ip), policy=policy, codec=CODEC
        )
    assert 0 < raised.value.retry_after_ms <= 60_000
    # Another address is unaffected.
    assert logins.login(
        email_of(tenant), PASSWORD, tenant_id=None, origin=origin(), policy=policy, codec=CODEC
    )


def test_success_clears_the_account_count(tenant: SeededTenant) -> None:
    policy = logins.LoginPolicy(max_failures_per_account=2, max_failures_per_ip=100, window_seconds=60)
    email = email_of(tenant)
    with pytest.raises(Unauthenticated):
        logins.login(email, "wrong", tenant_id=None, origin=origin(), policy=policy, codec=CODEC)
    logins.login(email, PASSWORD, tenant_id=None, origin=origin(), policy=policy, codec=CODEC)
    with pytest.raises(Unauthenticated):
        logins.login(email, "wrong", tenant_id=None, origin=origin(), policy=policy, codec=CODEC)
    assert logins.login(email, PASSWORD, tenant_id=None, origin=origin(), policy=policy, codec=CODEC)


def test_tenant_id_picks_the_account(tenant: SeededTenant, other_tenant: SeededTenant) -> None:
    with pytest.raises(Unauthenticated):
        logins.login(
            email_of(tenant),
            PASSWORD,
            tenant_id=other_tenant.id,
            origin=origin(),
            policy=logins.LoginPolicy(),
            codec=CODEC,
        )

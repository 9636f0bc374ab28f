"""API keys in the store: minting, hashing, authentication, naming, scope rules, rotation."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest

from store.access.principals import SCOPES
from store.errors import DuplicateName, NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from store.keys import api_keys, rotation
from store.models import ApiKey, utcnow
from store.pagination import CursorCodec
from tests.support import TEST_SECRET, SeededTenant, principal


def _expire(key_id: str) -> None:
    ApiKey.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(ApiKey.id == key_id).execute()


@pytest.mark.parametrize(
    ("environment", "key_type", "pattern"),
    [
        ("live", "secret", r"^lp_live_sk_[A-Za-z0-9]{32}$"),
        ("sandbox", "secret", r"^lp_sandbox_sk_[A-Za-z0-9]{32}$"),
        ("live", "publishable", r"^lp_live_pk_[A-Za-z0-9]{32}$"),
        ("sandbox", "publishable", r"^lp_sandbox_pk_[A-Za-z0-9]{32}$"),
    ],
)
def test_minted_keys_have_the_documented_format(
    tenant: SeededTenant, environment: str, key_type: str, pattern: str
) -> None:
    caller = principal(tenant.live_key if environment == "live" else tenant.sandbox_key)
    scopes = ["read:leads"] if key_type == "secret" else []
    issued = api_keys.create_key(caller, name="k", scopes=scopes, key_type=key_type)

    assert re.match(pattern, issued.plaintext)
    assert issued.record.environment == environment and issued.record.type == key_type
    assert issued.plaintext.startswith(issued.record.prefix)
    assert api_keys.authenticate(issued.plaintext).environment == environment


def test_seeded_keys_have_the_documented_format(tenant: SeededTenant) -> None:
    assert re.match(r"^lp_live_sk_[A-Za-z0-9]{32}$", tenant.live_key)
    assert re.match(r"^lp_sandbox_sk_[A-Za-z0-9]{32}$", tenant.sandbox_key)
    assert principal(tenant.live_key).scopes == frozenset(SCOPES)
    assert principal(tenant.sandbox_key).scopes == frozenset(SCOPES)


def test_only_the_sha256_is_stored(tenant: SeededTenant) -> None:
    issued = api_keys.create_key(principal(tenant.live_key), name="hashed", scopes=["read:leads"])

    row: Any = (
        ApiKey.select()
        .where((ApiKey.tenant_id == tenant.id) & (ApiKey.id == issued.record.id))
        .tuples()
        .get()
    )
    secret_part = issued.plaintext.rsplit("_", 1)[1]
    assert not any(secret_part in str(value) for value in row)
    stored = ApiKey.get((ApiKey.tenant_id == tenant.id) & (ApiKey.id == issued.record.id))
    assert stored.key_hash == hashlib.sha256(issued.plaintext.encode()).hexdigest()
    assert len(stored.prefix) < len(issued.plaintext) - 16


def test_authenticate_resolves_tenant_environment_and_scopes(tenant: SeededTenant) -> None:
    issued = api_keys.create_key(principal(tenant.sandbox_key), name="reader", scopes=["read:leads"])

    caller = api_keys.authenticate(issued.plaintext)

    assert (caller.tenant_id, caller.environment, caller.plan) == (tenant.id, "sandbox", "pro")
    assert caller.scopes == frozenset({"read:leads"})
    assert (caller.actor_type, caller.api_key_id, caller.user_id) == (
        "api_key",
        issued.record.id,
        tenant.owner_id,
    )


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "garbage",
        "lp_live_sk_" + "a" * 32,
        "lp_live_sk_short",
        "lp_test_sk_" + "a" * 32,
        "Bearer lp_live_sk_x",
    ],
)
def test_unknown_or_malformed_keys_are_refused(app: Any, presented: str) -> None:
    with pytest.raises(Unauthenticated):
        api_keys.authenticate(presented)


def test_revoked_key_is_refused_at_once(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    issued = api_keys.create_key(caller, name="short-lived", scopes=["read:leads"])

    revoked = api_keys.revoke_key(caller, issued.record.id)

    assert api_keys.key_status(revoked) == "revoked"
    with pytest.raises(Unauthenticated):
        api_keys.authenticate(issued.plaintext)
    again = api_keys.revoke_key(caller, issued.record.id)  # idempotent: keeps the first time
    assert again.revoked_at == revoked.revoked_at


def test_expired_key_is_refused(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    issued = api_keys.create_key(
        caller, name="expiring", scopes=["read:leads"], expires_at=utcnow() + dt.timedelta(hours=1)
    )
    assert api_keys.authenticate(issued.plaintext).api_key_id == issued.record.id

    _expire(issued.record.id)

    with pytest.raises(Unauthenticated):
        api_keys.authenticate(issued.plaintext)
    assert api_keys.key_status(api_keys.get_key(caller, issued.record.id)) == "expired"


def test_expiry_in_the_past_is_refused(tenant: SeededTenant) -> None:
    with pytest.raises(ValidationFailed) as caught:
        api_keys.create_key(
            principal(tenant.live_key), name="x", scopes=["read:leads"], expires_at=utcnow() - dt.timedelta(1)
        )
    assert [e.field for e in caught.value.errors] == ["expiresAt"]


def test_duplicate_name_among_active_keys(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    api_keys.create_key(caller, name="worker", scopes=["read:leads"])
    before = ApiKey.select().where(ApiKey.tenant_id == tenant.id).count()

    with pytest.raises(DuplicateName):
        api_keys.create_key(caller, name="worker", scopes=["write:leads"])
    with pytest.raises(DuplicateName):  # the name is per tenant, whatever the environment
        api_keys.create_key(principal(tenant.sandbox_key), name="worker", scopes=["read:leads"])

    assert ApiKey.select().where(ApiKey.tenant_id == tenant.id).count() == before


def test_revoked_name_is_free_again(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    first = api_keys.create_key(caller, name="worker", scopes=["read:leads"])
    api_keys.revoke_key(caller, first.record.id)

    second = api_keys.create_key(caller, name="worker", scopes=["read:leads"])

    assert second.record.id != first.record.id
    assert api_keys.authenticate(second.plaintext).api_key_id == second.record.id


def test_expired_name_is_free_again(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    first = api_keys.create_key(
        caller, name="worker", scopes=["read:leads"], expires_at=utcnow() + dt.timedelta(hours=1)
    )
    _expire(first.record.id)

    second = api_keys.create_key(caller, name="worker", scopes=["read:leads"])

    assert api_keys.authenticate(second.plaintext).api_key_id == second.record.id
    with pytest.raises(Unauthenticated):
        api_keys.authenticate(first.plaintext)


def test_same_name_in_another_tenant_is_fine(tenant: SeededTenant, other_tenant: SeededTenant) -> None:
    api_keys.create_key(principal(tenant.live_key), name="worker", scopes=["read:leads"])
    api_keys.create_key(principal(other_tenant.live_key), name="worker", scopes=["read:leads"])


def test_a_key_cannot_grant_scopes_it_lacks(tenant: SeededTenant) -> None:
    admin = api_keys.create_key(
        principal(tenant.live_key), name="key admin", scopes=["admin:api_keys", "read:leads"]
    )
    caller = principal(admin.plaintext)
    before = ApiKey.select().where(ApiKey.tenant_id == tenant.id).count()

    with pytest.raises(PermissionDenied):
        api_keys.create_key(caller, name="escalated", scopes=["read:leads", "write:leads"])

    assert ApiKey.select().where(ApiKey.tenant_id == tenant.id).count() == before
    narrower = api_keys.create_key(caller, name="narrower", scopes=["read:leads"])
    assert narrower.record.scopes == ["read:leads"]


def test_sandbox_key_cannot_mint_live_keys(tenant: SeededTenant) -> None:
    caller = principal(tenant.sandbox_key)
    with pytest.raises(PermissionDenied):
        api_keys.create_key(caller, name="live from sandbox", scopes=["read:leads"], environment="live")
    assert api_keys.create_key(caller, name="sandbox", scopes=["read:leads"]).record.environment == "sandbox"


def test_live_key_may_mint_sandbox_keys(tenant: SeededTenant) -> None:
    issued = api_keys.create_key(
        principal(tenant.live_key), name="sbx", scopes=["read:leads"], environment="sandbox"
    )
    assert issued.plaintext.startswith("lp_sandbox_sk_")


@pytest.mark.parametrize("plan", ["free", "starter", "pro", "team"])
def test_unmetered_tier_is_enterprise_only(new_tenant: Any, plan: str) -> None:
    seeded = new_tenant(plan)
    with pytest.raises(ValidationFailed) as caught:
        api_keys.create_key(
            principal(seeded.live_key), name="fast", scopes=["read:leads"], rate_limit_tier="unmetered"
        )
    assert [e.field for e in caught.value.errors] == ["rateLimitTier"]
    high = api_keys.create_key(
        principal(seeded.live_key), name="high", scopes=["read:leads"], rate_limit_tier="high"
    )
    assert high.record.rate_limit_tier == "high"


def test_unmetered_tier_on_enterprise(new_tenant: Any) -> None:
    seeded = new_tenant("enterprise")
    issued = api_keys.create_key(
        principal(seeded.live_key), name="fast", scopes=["read:leads"], rate_limit_tier="unmetered"
    )
    assert api_keys.authenticate(issued.plaintext).rate_limit_tier == "unmetered"


@pytest.mark.parametrize(
    ("key_type", "scopes", "field"),
    [
        ("publishable", ["read:leads"], "scopes"),
        ("publishable", ["capture:leads", "read:leads"], "scopes"),
        ("secret", [], "scopes"),
        ("secret", ["capture:leads"], "scopes"),
        ("secret", ["no:such"], "scopes"),
    ],
)
def test_scope_sets_per_key_type(tenant: SeededTenant, key_type: str, scopes: list[str], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        api_keys.create_key(principal(tenant.live_key), name="x", scopes=scopes, key_type=key_type)
    assert [e.field for e in caught.value.errors] == [field]


def test_publishable_key_carries_only_capture(tenant: SeededTenant) -> None:
    issued = api_keys.create_key(principal(tenant.live_key), name="site", scopes=[], key_type="publishable")
    assert api_keys.authenticate(issued.plaintext).scopes == frozenset({"capture:leads"})


def test_rotate_invalidates_the_old_secret(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    issued = api_keys.create_key(caller, name="rotating", scopes=["read:leads", "write:leads"])

    rotated = rotation.rotate_key(caller, issued.record.id)

    assert rotated.plaintext != issued.plaintext and rotated.plaintext.startswith("lp_live_sk_")
    assert rotated.record.id == issued.record.id and rotated.record.name == "rotating"
    with pytest.raises(Unauthenticated):
        api_keys.authenticate(issued.plaintext)
    fresh = api_keys.authenticate(rotated.plaintext)
    assert (fresh.api_key_id, fresh.scopes) == (issued.record.id, frozenset({"read:leads", "write:leads"}))


def test_revoked_key_cannot_be_rotated(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    issued = api_keys.create_key(caller, name="gone", scopes=["read:leads"])
    api_keys.revoke_key(caller, issued.record.id)
    with pytest.raises(NotFound):
        rotation.rotate_key(caller, issued.record.id)
    with pytest.raises(Unauthenticated):
        api_keys.authenticate(issued.plaintext)


def test_other_tenants_keys_are_not_found(tenant: SeededTenant, other_tenant: SeededTenant) -> None:
    theirs = api_keys.create_key(principal(other_tenant.live_key), name="theirs", scopes=["read:leads"])
    mine = principal(tenant.live_key)
    for operation in (api_keys.get_key, api_keys.revoke_key, rotation.rotate_key):
        with pytest.raises(NotFound):
            operation(mine, theirs.record.id)
    assert api_keys.authenticate(theirs.plaintext).tenant_id == other_tenant.id


def test_sandbox_keys_see_only_sandbox_keys(tenant: SeededTenant) -> None:
    live = api_keys.create_key(principal(tenant.live_key), name="live one", scopes=["read:leads"])
    sandbox_caller = principal(tenant.sandbox_key)
    with pytest.raises(NotFound):
        api_keys.get_key(sandbox_caller, live.record.id)
    codec = CursorCodec([TEST_SECRET])
    listed = api_keys.list_keys(sandbox_caller, limit=100, cursor=None, codec=codec).items
    assert {k.environment for k in listed} == {"sandbox"}


def test_list_walks_every_key_once_newest_first(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    made = [api_keys.create_key(caller, name=f"k{i}", scopes=["read:leads"]).record.id for i in range(5)]
    codec = CursorCodec([TEST_SECRET])

    seen: list[str] = []
    cursor = None
    while True:
        page = api_keys.list_keys(caller, limit=2, cursor=cursor, codec=codec)
        assert len(page.items) <= 2
        seen += [k.id for k in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    all_ids = {k.id for k in ApiKey.select().where(ApiKey.tenant_id == tenant.id)}
    assert len(seen) == len(set(seen)) == len(all_ids) == 7
    assert set(seen) == all_ids
    assert seen[:5] == made[::-1]

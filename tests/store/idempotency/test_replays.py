"""The idempotency store: sealing, replay, expiry, purge, and what is never cached."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from store.errors import IdempotencyConflict, Unavailable
from store.idempotency import replays as idempotency
from store.models import IdempotencyRecord, utcnow
from tests.support import SeededTenant, principal

SECRETS = ("first-secret-0123456789abcdef0123456789", "older-secret-0123456789abcdef012345678")


def counter() -> tuple[list[int], Any]:
    calls: list[int] = []

    def produce() -> tuple[dict[str, Any], int]:
        calls.append(1)
        return {"data": {"n": len(calls)}, "secret": "lp_live_sk_plaintext"}, 201

    return calls, produce


def test_seal_round_trips_and_needs_the_same_secret_and_key() -> None:
    sealed = idempotency.seal(SECRETS[0], "t1", "live", "key-1", {"key": "lp_live_sk_abc"})

    assert "lp_live_sk_abc" not in sealed
    assert idempotency.unseal(SECRETS, "t1", "live", "key-1", sealed) == {"key": "lp_live_sk_abc"}
    assert idempotency.unseal(SECRETS, "t1", "live", "key-2", sealed) is None
    assert idempotency.unseal(SECRETS, "t2", "live", "key-1", sealed) is None
    assert idempotency.unseal(("another-secret",), "t1", "live", "key-1", sealed) is None


def test_a_rotated_secret_still_opens_old_records() -> None:
    sealed = idempotency.seal(SECRETS[1], "t1", "live", "k", {"a": 1})

    assert idempotency.unseal(SECRETS, "t1", "live", "k", sealed) == {"a": 1}


def test_run_stores_once_and_replays(tenant: SeededTenant) -> None:
    calls, produce = counter()
    fingerprint = idempotency.fingerprint("POST", "/v1/x", {"a": 1})

    first = idempotency.run(principal(tenant.live_key), "k1", fingerprint, SECRETS, produce)
    second = idempotency.run(principal(tenant.live_key), "k1", fingerprint, SECRETS, produce)

    assert (first.status, first.replayed, second.replayed) == (201, False, True)
    assert second.body == first.body and len(calls) == 1
    record = IdempotencyRecord.get(IdempotencyRecord.tenant_id == tenant.id)
    assert record.key_hash != "k1" and len(record.key_hash) == 64
    assert "plaintext" not in (record.response or "")
    assert record.expires_at - record.created_at == dt.timedelta(hours=24)


def test_fingerprints_differ_by_method_path_and_body() -> None:
    base = idempotency.fingerprint("POST", "/v1/leads", {"a": 1, "b": 2})

    assert idempotency.fingerprint("post", "/v1/leads", {"b": 2, "a": 1}) == base
    assert idempotency.fingerprint("PATCH", "/v1/leads", {"a": 1, "b": 2}) != base
    assert idempotency.fingerprint("POST", "/v1/leads?x=1", {"a": 1, "b": 2}) != base
    assert idempotency.fingerprint("POST", "/v1/leads", {"a": 1, "b": 3}) != base


def test_a_different_request_under_a_used_key_conflicts(tenant: SeededTenant) -> None:
    _, produce = counter()
    idempotency.run(
        principal(tenant.live_key), "k", idempotency.fingerprint("POST", "/a", {}), SECRETS, produce
    )

    with pytest.raises(IdempotencyConflict):
        idempotency.run(
            principal(tenant.live_key), "k", idempotency.fingerprint("POST", "/b", {}), SECRETS, produce
        )


@pytest.mark.parametrize("error", [Unavailable("database down"), RuntimeError("bug")])
def test_failures_leave_nothing_behind(tenant: SeededTenant, error: Exception) -> None:
    def failing() -> tuple[dict[str, Any], int]:
        raise error

    fingerprint = idempotency.fingerprint("POST", "/a", {})
    with pytest.raises(type(error)):
        idempotency.run(principal(tenant.live_key), "k", fingerprint, SECRETS, failing)
    calls, produce = counter()
    outcome = idempotency.run(principal(tenant.live_key), "k", fingerprint, SECRETS, produce)

    assert (outcome.replayed, len(calls)) == (False, 1)


def test_an_expired_record_runs_afresh_and_purge_removes_expired_ones(
    tenant: SeededTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The opportunistic purge on writes is random; here only the explicit purge may run.
    monkeypatch.setattr(idempotency, "PURGE_PROBABILITY", 0.0)
    calls, produce = counter()
    fingerprint = idempotency.fingerprint("POST", "/a", {})
    idempotency.run(principal(tenant.live_key), "old", fingerprint, SECRETS, produce)
    idempotency.run(principal(tenant.live_key), "stale", fingerprint, SECRETS, produce)
    past = utcnow() - dt.timedelta(seconds=1)
    IdempotencyRecord.update(expires_at=past).where(IdempotencyRecord.tenant_id == tenant.id).execute()

    again = idempotency.run(principal(tenant.live_key), "old", fingerprint, SECRETS, produce)
    purged = idempotency.purge_all_expired()

    assert again.replayed is False and len(calls) == 3
    assert purged >= 1
    remaining = IdempotencyRecord.select().where(IdempotencyRecord.tenant_id == tenant.id)
    assert [r.expires_at > utcnow() for r in remaining] == [True]


def test_records_are_scoped_by_tenant_and_environment(
    tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    calls, produce = counter()
    fingerprint = idempotency.fingerprint("POST", "/a", {})
    shared = str(uuid.uuid4())

    for key in (tenant.live_key, tenant.sandbox_key, other_tenant.live_key):
        assert idempotency.run(principal(key), shared, fingerprint, SECRETS, produce).replayed is False

    assert len(calls) == 3

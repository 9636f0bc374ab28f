"""The one power check itself: each dimension refuses on its own, and narrowing only narrows."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.access import power
from store.access.principals import SCOPES, Principal
from store.errors import IdempotencyConflict, PermissionDenied, Unauthenticated

ALL = frozenset(SCOPES)
CALLER = Principal(
    tenant_id="t1",
    plan="pro",
    environment="live",
    scopes=ALL,
    actor_type="api_key",
    actor_id="k1",
    api_key_id="k1",
    user_id="u1",
    role="admin",
)


def test_within_passes_for_equal_or_less() -> None:
    power.ensure_within(CALLER, power.power_of(CALLER), "x")
    power.ensure_within(CALLER, power.of_key("t1", "sandbox", frozenset({"read:leads"}), "member"), "x")
    power.ensure_within(CALLER, power.of_role("t1", "admin"), "x")
    power.ensure_within(CALLER, power.tenant_wide("t1"), "x")
    power.ensure_within(CALLER, power.of_webhook_secret("t1", "live"), "x")


@pytest.mark.parametrize(
    ("result", "word"),
    [
        (power.Power("t2", "live", frozenset(), None), "tenant"),
        (power.Power("t1", "live", frozenset(), None), "live"),
        (power.Power("t1", "sandbox", frozenset({"read:audit"}), None), "read:audit"),
        (power.Power("t1", "sandbox", frozenset(), "owner"), "owner"),
    ],
)
def test_each_dimension_refuses_alone(result: power.Power, word: str) -> None:
    caller = dataclasses.replace(CALLER, environment="sandbox", scopes=frozenset({"read:leads"}))

    with pytest.raises(PermissionDenied, match=word):
        power.ensure_within(caller, result, "do it")


def test_write_leads_covers_capture_and_nothing_else_does() -> None:
    capture = power.of_key("t1", "live", frozenset({"capture:leads"}), "admin")
    power.ensure_within(dataclasses.replace(CALLER, scopes=frozenset({"write:leads"})), capture, "x")
    with pytest.raises(PermissionDenied):
        power.ensure_within(dataclasses.replace(CALLER, scopes=frozenset({"admin:api_keys"})), capture, "x")


@given(
    scopes=st.frozensets(st.sampled_from(SCOPES)),
    key_role=st.sampled_from(["owner", "admin", "member"]),
    user_role=st.sampled_from(["owner", "admin", "member"]),
)
def test_acting_for_a_user_never_widens(scopes: frozenset[str], key_role: str, user_role: str) -> None:
    caller = dataclasses.replace(CALLER, scopes=scopes, role=key_role)

    acting = power.acting_for(caller, "u2", user_role)

    power.ensure_within(caller, power.power_of(acting), "act")
    assert acting.scopes <= power.of_role("t1", user_role).scopes
    assert power.RANK[acting.role] <= power.RANK[user_role]
    assert (acting.environment, acting.user_id, acting.on_behalf_of) == ("live", "u2", "u2")


def test_a_key_needs_an_active_creator_whose_role_grants_its_scopes() -> None:
    assert power.key_role(ALL, has_creator=False, creator_active=False, creator_role=None) == "admin"
    assert power.key_role(ALL, has_creator=True, creator_active=True, creator_role="owner") == "owner"
    capture = frozenset({"capture:leads"})
    assert power.key_role(capture, has_creator=True, creator_active=True, creator_role="member") == "member"
    with pytest.raises(Unauthenticated, match="deactivated"):
        power.key_role(ALL, has_creator=True, creator_active=False, creator_role="owner")
    with pytest.raises(Unauthenticated, match="role"):
        power.key_role(ALL, has_creator=True, creator_active=True, creator_role="member")


def test_replays_belong_to_one_credential() -> None:
    session = dataclasses.replace(CALLER, actor_type="user", actor_id="u1", api_key_id=None)
    acting = dataclasses.replace(CALLER, on_behalf_of="u2")
    owners = {power.credential_of(p) for p in (CALLER, session, acting)}
    assert owners == {"k:k1", "u:u1", "k:k1>u2"}

    power.ensure_same_credential(CALLER, "k:k1")
    for owner in (None, "u:u1", "k:k1>u2"):
        with pytest.raises(IdempotencyConflict):
            power.ensure_same_credential(CALLER, owner)

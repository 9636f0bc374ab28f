"""The audit log in the store: scrubbing, same-transaction writes, erasure of values."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.audit import log as audit
from store.db import transaction
from store.models import AuditEvent
from tests.support import SeededTenant, principal


def test_secret_fields_are_redacted_and_values_json_safe(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    moment = dt.datetime(2026, 1, 2, 3, 4, 5)
    event = audit.record(
        caller,
        "x.changed",
        "user",
        "u1",
        {"password": ["a", "b"], "key_hash": [None, "h"], "at": [None, moment]},
    )
    stored = AuditEvent.get((AuditEvent.tenant_id == tenant.id) & (AuditEvent.id == event.id))
    assert stored.changes == {
        "password": ["[redacted]", "[redacted]"],
        "key_hash": ["[redacted]", "[redacted]"],
        "at": [None, "2026-01-02T03:04:05"],
    }
    assert (stored.actor_type, stored.actor_id, stored.api_key_id) == (
        "api_key",
        caller.api_key_id,
        caller.api_key_id,
    )


def test_an_event_rolls_back_with_its_change(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)

    @transaction
    def failing_mutation() -> None:
        audit.record(caller, "lead.updated", "lead", "l1", {"score": [1, 2]})
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_mutation()
    assert not AuditEvent.select().where(AuditEvent.tenant_id == tenant.id).exists()


def test_erase_values_keeps_the_trail(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    audit.record(caller, "lead.created", "lead", "l1", {"email": [None, "a@b.co"]})
    audit.record(caller, "lead.created", "lead", "l2", {"email": [None, "c@d.co"]})
    audit.erase_values(tenant.id, "lead", "l1")
    rows = {
        row.resource_id: row.changes for row in AuditEvent.select().where(AuditEvent.tenant_id == tenant.id)
    }
    assert rows == {"l1": {"email": ["[erased]", "[erased]"]}, "l2": {"email": [None, "c@d.co"]}}


def _reference_json_safe(value: Any) -> Any:
    """`audit._json_safe` as it was before its exact-type fast path."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_reference_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _reference_json_safe(item) for key, item in value.items()}
    return value


_LEAF = st.one_of(
    st.none(), st.text(max_size=4), st.integers(), st.booleans(), st.floats(allow_nan=False), st.datetimes()
)
_VALUE = st.recursive(
    _LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
)


@given(
    changes=st.dictionaries(
        st.sampled_from(["email", "password", "token", "tags", "custom_fields", "score", "key"]),
        st.lists(_VALUE, min_size=2, max_size=2),
        max_size=5,
    )
)
def test_safe_changes_is_scrub_then_json_safe(changes: dict[str, Any]) -> None:
    ours = audit.safe_changes(changes)
    assert ours == _reference_json_safe(audit._scrub(changes))
    assert json.dumps(ours) == json.dumps(_reference_json_safe(audit._scrub(changes)))

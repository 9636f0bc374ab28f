"""Public capture in the store: key checks, name splitting, collapsing repeats."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from store.capture import submissions as capture
from store.errors import AuthRequired, PermissionDenied, ValidationFailed
from store.keys import api_keys
from store.models import CaptureSubmission, Lead, utcnow
from tests.support import SeededTenant, principal


def _key(tenant: SeededTenant, origins: list[str] | None = None) -> str:
    issued = api_keys.create_key(
        principal(tenant.live_key),
        name=f"site-{uuid.uuid4().hex[:6]}",
        scopes=[],
        key_type=api_keys.PUBLISHABLE,
        allowed_origins=origins,
    )
    return issued.plaintext


def _submit(key: str | None, **fields: Any) -> capture.Captured:
    values = {"email": f"v.{uuid.uuid4().hex[:6]}@example.com", "name": "Ann Lee", **fields}
    return capture.capture_lead(capture.Submission(key=key, fields=values))


@pytest.mark.parametrize(
    ("fields", "first", "last"),
    [
        ({"name": "Ann Lee"}, "Ann", "Lee"),
        ({"name": "  Ann  van der Berg "}, "Ann", "van der Berg"),
        ({"name": "Cher"}, "Cher", "-"),
        ({"name": "Ann Lee", "first_name": "Annie"}, "Annie", "Lee"),
        ({"first_name": "Bo", "last_name": "Diddley"}, "Bo", "Diddley"),
    ],
)
def test_names(tenant: SeededTenant, fields: dict[str, Any], first: str, last: str) -> None:
    captured = capture.capture_lead(
        capture.Submission(key=_key(tenant), fields={"email": "n@example.com", **fields})
    )
    lead = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == captured.lead_id))
    assert (lead.first_name, lead.last_name, lead.source) == (first, last, "web")


def test_a_name_is_needed(tenant: SeededTenant) -> None:
    with pytest.raises(ValidationFailed):
        capture.capture_lead(capture.Submission(key=_key(tenant), fields={"email": "x@example.com"}))


def test_keys(tenant: SeededTenant) -> None:
    with pytest.raises(AuthRequired):
        _submit(None)
    with pytest.raises(PermissionDenied):
        _submit(tenant.live_key)


def test_repeats_collapse_only_within_the_window(tenant: SeededTenant) -> None:
    key = _key(tenant)
    body = {"email": "same@example.com", "message": "hi"}
    first = _submit(key, **body)
    assert _submit(key, **body).lead_id == first.lead_id
    CaptureSubmission.update(created_at=utcnow() - capture.COLLAPSE_WINDOW - dt.timedelta(seconds=1)).where(
        CaptureSubmission.tenant_id == tenant.id
    ).execute()
    later = _submit(key, **body)
    assert later.lead_id != first.lead_id
    assert _submit(_key(tenant), **body).lead_id not in (first.lead_id, later.lead_id)  # another key


def test_a_repeat_of_an_erased_lead_creates_it_again(tenant: SeededTenant) -> None:
    key = _key(tenant)
    first = _submit(key, email="gone@example.com")
    Lead.delete().where((Lead.tenant_id == tenant.id) & (Lead.id == first.lead_id)).execute()
    assert _submit(key, email="gone@example.com").lead_id != first.lead_id


def test_preflight(tenant: SeededTenant) -> None:
    key = _key(tenant, ["https://a.example"])
    assert capture.preflight(key, "https://a.example") == "https://a.example"
    with pytest.raises(PermissionDenied):
        capture.preflight(key, "https://b.example")
    with pytest.raises(PermissionDenied):
        capture.preflight(key, None)

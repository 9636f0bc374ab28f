"""Lead rules beyond the schema: email syntax, E.164 derivation, assignees, limits."""

from __future__ import annotations

from typing import Any

import pytest

from store.errors import ValidationFailed
from store.leads import rules as lead_rules
from store.models import User
from tests.support import SeededTenant


@pytest.mark.parametrize(
    "email",
    ["jane@example.com", "o'brien@example.ie", "user@xn--bcher-kva.example", "  padded@example.com  "],
)
def test_valid_emails(app: Any, email: str) -> None:
    checked = lead_rules.check_fields("T", {"email": email})
    assert checked["email"] == email.strip()
    assert checked["email_normalized"] == email.strip().lower()


def test_normalized_email_ignores_case(app: Any) -> None:
    assert lead_rules.check_fields("T", {"email": "Jane.Doe@Example.CO.uk"})["email_normalized"] == (
        "jane.doe@example.co.uk"
    )


@pytest.mark.parametrize(
    ("email", "key"),
    [
        (" Jane.Doe+News@Example.com ", "jane.doe@example.com"),  # +tag dropped, dots kept
        ("j.a.n.e+x@Gmail.com", "jane@gmail.com"),  # gmail ignores dots
        ("Jane.Doe@googlemail.com", "janedoe@gmail.com"),  # and googlemail is gmail
        ("+only@example.com", "+only@example.com"),  # nothing before the + : keep it
    ],
)
def test_normalized_email_rules_for_tags_and_dots(email: str, key: str) -> None:
    assert lead_rules.normalize_email(email) == key


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "@example.com",
        "jane@",
        "jane@@example.com",
        "jane doe@example.com",
        "jane@exa mple.com",
        "jane@.example.com",
        "jane@example..com",
    ],
)
def test_invalid_emails(app: Any, email: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        lead_rules.check_fields("T", {"email": email})
    assert [(e.field, e.message) for e in caught.value.errors] == [("email", "Invalid email format")]


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+1-555-0199", None),  # the seed's example: accepted, kept, but no real number to derive
        ("+1 650-253-0000", "+16502530000"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("650-253-0000", None),  # no country code: no guess
        ("12345", None),
        ("", None),
        (None, None),
    ],
)
def test_e164_derivation(phone: str | None, expected: str | None) -> None:
    assert lead_rules.e164(phone) == expected


def test_phone_is_kept_as_sent(app: Any) -> None:
    checked = lead_rules.check_fields("T", {"phone": "+1-555-0199"})
    assert (checked["phone"], checked["phone_e164"]) == ("+1-555-0199", None)
    assert lead_rules.check_fields("T", {"phone": None})["phone_e164"] is None


@pytest.mark.parametrize("name", ["email", "first_name", "last_name"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_required_fields_must_not_be_blank(app: Any, name: str, value: str | None) -> None:
    with pytest.raises(ValidationFailed) as caught:
        lead_rules.check_fields("T", {name: value})
    assert [e.field for e in caught.value.errors] == [name]


def test_names_are_trimmed(app: Any) -> None:
    checked = lead_rules.check_fields("T", {"first_name": "  Jane ", "last_name": "Doe  "})
    assert (checked["first_name"], checked["last_name"]) == ("Jane", "Doe")


def test_assignee_must_be_an_active_user_of_the_tenant(
    tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    assert (
        lead_rules.check_fields(tenant.id, {"assigned_to": tenant.owner_id})["assigned_to"] == tenant.owner_id
    )
    assert lead_rules.check_fields(tenant.id, {"assigned_to": None})["assigned_to"] is None
    for stranger in (other_tenant.owner_id, "NoSuchUser000000"):
        with pytest.raises(ValidationFailed) as caught:
            lead_rules.check_fields(tenant.id, {"assigned_to": stranger})
        assert [e.field for e in caught.value.errors] == ["assigned_to"]

    User.update(active=False).where((User.tenant_id == tenant.id) & (User.id == tenant.owner_id)).execute()
    with pytest.raises(ValidationFailed):
        lead_rules.check_fields(tenant.id, {"assigned_to": tenant.owner_id})


def test_custom_fields_limit(app: Any) -> None:
    fifty = {f"k{i}": i for i in range(50)}
    assert lead_rules.check_fields("T", {"custom_fields": fifty})["custom_fields"] == fifty
    with pytest.raises(ValidationFailed) as caught:
        lead_rules.check_fields("T", {"custom_fields": {**fifty, "k50": 1}})
    assert [e.field for e in caught.value.errors] == ["custom_fields"]


def test_every_error_is_reported_at_once(tenant: SeededTenant) -> None:
    with pytest.raises(ValidationFailed) as caught:
        lead_rules.check_fields(
            tenant.id, {"email": "bad", "first_name": " ", "assigned_to": "NoSuchUser000000"}
        )
    assert {e.field for e in caught.value.errors} == {"email", "first_name", "assigned_to"}


def test_tags_are_trimmed_and_deduplicated_in_order(app: Any) -> None:
    assert lead_rules.check_fields("T", {"tags": ["b", " a", "b ", "a"]})["tags"] == ["b", "a"]
    assert lead_rules.check_fields("T", {"tags": None})["tags"] == []

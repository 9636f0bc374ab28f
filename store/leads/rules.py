"""The rules that guard a lead's data beyond what the schema can say.

The OpenAPI schema already bounds types, lengths and enums at the edge; these rules need
libraries or the database: a real email syntax check, E.164 phone normalization for duplicate
matching, and that an assignee is an active user of the same tenant.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from store.emails import is_valid_email
from store.errors import FieldError, ValidationFailed
from store.models import User

REQUIRED = ("email", "first_name", "last_name")
MAX_CUSTOM_FIELDS = 50
# Keys are client data stored in every copy of the lead (history, audit, exports): bounded like
# values. The spec says the same (``CustomFields``' ``x-propertyNames``); import rows and every
# other path that skips the HTTP validator meet this rule.
MAX_CUSTOM_FIELD_KEY_LENGTH = 100
MAX_TAGS = 20


GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalize_email(email: str) -> str:
    """The key two addresses of one mailbox share (duplicate matching, ``onDuplicate``).

    Case and surrounding whitespace never matter. A ``+tag`` suffix of the local part is
    dropped for every domain (sub-addressing is near-universal and the base mailbox is the same
    person). Dots in the local part are dropped only for gmail.com / googlemail.com (the one
    big provider where they are documented to be ignored) and googlemail.com counts as gmail.com.
    """
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    base = local.split("+", 1)[0] or local
    if domain in GMAIL_DOMAINS:
        base, domain = base.replace(".", "") or base, GMAIL_DOMAINS[0]
    return f"{base}@{domain}"


def e164(phone: str | None) -> str | None:
    """E.164 form where the number parses as a real one; the client's text is kept as sent."""
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _email_error(email: str) -> FieldError | None:
    return None if is_valid_email(email) else FieldError("email", "Invalid email format")


def _blank_required(fields: dict[str, Any]) -> list[FieldError]:
    return [
        FieldError(name, "Must not be blank")
        for name in REQUIRED
        if name in fields and (fields[name] is None or not str(fields[name]).strip())
    ]


def _assignee_error(tenant_id: str, user_id: str | None) -> FieldError | None:
    if user_id is None:
        return None
    exists = (
        User.select(User.id)
        .where((User.tenant_id == tenant_id) & (User.id == user_id) & (User.active == True))  # noqa: E712
        .exists()
    )
    return None if exists else FieldError("assigned_to", "Must be an active user of this tenant")


def check_fields(tenant_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate ``fields`` (create or patch) and return them with derived columns added."""
    errors = _blank_required(fields)
    if fields.get("email") and fields["email"].strip():  # a blank one is already reported
        # Validate what will be stored: the trimmed address (padding is a copy-paste artefact).
        error = _email_error(fields["email"].strip())
        errors += [error] if error else []
    if "assigned_to" in fields:
        error = _assignee_error(tenant_id, fields["assigned_to"])
        errors += [error] if error else []
    custom = fields.get("custom_fields") or {}
    if len(custom) > MAX_CUSTOM_FIELDS:
        errors.append(FieldError("custom_fields", f"At most {MAX_CUSTOM_FIELDS} keys"))
    if any(len(key) > MAX_CUSTOM_FIELD_KEY_LENGTH for key in custom):
        errors.append(
            FieldError("custom_fields", f"Keys must be at most {MAX_CUSTOM_FIELD_KEY_LENGTH} characters")
        )
    if errors:
        raise ValidationFailed(errors)

    checked = dict(fields)
    for name in ("first_name", "last_name", "email"):
        if name in checked:
            checked[name] = checked[name].strip()
    if "email" in checked:
        checked["email_normalized"] = normalize_email(checked["email"])
    if "phone" in checked:
        checked["phone_e164"] = e164(checked["phone"])
    if "tags" in checked:
        checked["tags"] = list(dict.fromkeys(tag.strip() for tag in checked["tags"] or []))
    return checked

"""``onDuplicate``: what creating a lead whose normalized email already exists does.

One policy for the single create (`create_lead`) and the import (`store.imports.rows`):
``allow`` creates anyway (duplicate detection still flags it), ``reject`` refuses naming the
existing lead, ``update`` updates the oldest match. The match is the oldest lead of the same
tenant and environment with the same normalized email. The lookups happen under the tenant's
lead-counter lock, so two racing creates of one new email cannot both create.
"""

from __future__ import annotations

from typing import Any

from store.access.principals import Principal
from store.db import transaction
from store.duplicates import lookups
from store.errors import Conflict, FieldError
from store.leads import lifecycle
from store.leads.rules import normalize_email
from store.limits import quotas
from store.models import Lead

ALLOW, REJECT, UPDATE = "allow", "reject", "update"
ON_DUPLICATE = (ALLOW, REJECT, UPDATE)


def _same_email(caller: Principal, keys: list[str]) -> Any:
    """The caller's leads with one of these normalized emails, oldest first."""
    return (
        Lead.select()
        .where(
            (Lead.tenant_id == caller.tenant_id)
            & (Lead.environment == caller.environment)
            & Lead.email_normalized.in_(keys)
        )
        .order_by(Lead.created_at, Lead.id)
    )


def find_by_email(caller: Principal, email: str) -> Lead | None:
    """The oldest lead of the caller's tenant and environment with this email (normalized here)."""
    lead: Lead | None = _same_email(caller, [normalize_email(email)]).first()
    return lead


def oldest_by_email(caller: Principal, keys: set[str]) -> dict[str, str]:
    """Normalized email -> the oldest lead that has it, for a whole batch in one query."""
    if not keys:
        return {}
    found: dict[str, str] = {}
    ordered = sorted(keys)  # in slices by email: every lead of one email is in one slice
    for start in range(0, len(ordered), lookups.MAX_VALUES):
        part = ordered[start : start + lookups.MAX_VALUES]
        for lead_id, key in lookups.same_email(caller.tenant_id, caller.environment, part):
            found.setdefault(key, lead_id)  # oldest first: the first one wins
    return found


def rejection(existing_id: str) -> FieldError:
    """The error ``reject`` reports, on the email field, naming the lead that already has it."""
    return FieldError("email", f"Matches existing lead {existing_id}")


def rejection_message(existing_id: str) -> str:
    return f"A lead with this email already exists: {existing_id}"


def create_lead(caller: Principal, fields: dict[str, Any], on_duplicate: str = ALLOW) -> tuple[Lead, bool]:
    """Create, or with ``reject``/``update`` look for an existing lead by normalized email first.

    Returns the lead and whether it was created (False: an existing lead was updated).
    """
    if on_duplicate == ALLOW:  # nothing to look up: the create is the whole transaction
        return lifecycle.create_lead(caller, fields), True
    return _create_or_match(caller, fields, on_duplicate)


@transaction
def _create_or_match(caller: Principal, fields: dict[str, Any], on_duplicate: str) -> tuple[Lead, bool]:
    quotas.lock(caller.tenant_id, caller.environment)  # lookups wait for creates: counter, then lead
    existing = find_by_email(caller, fields["email"])
    if existing is not None and on_duplicate == REJECT:
        raise Conflict(rejection_message(existing.id), [rejection(existing.id)])
    if existing is not None:
        return lifecycle.update_lead(caller, existing.id, fields), False
    return lifecycle.create_lead(caller, fields), True

"""Lead endpoints: validated arguments in, one store call, the envelope out."""

from __future__ import annotations

from typing import Any

from handlers.api import presenters, timestamps
from handlers.http import envelope, names
from handlers.http.context import app_state
from handlers.http.idempotency import idempotent
from handlers.http.preconditions import if_match, with_etag
from handlers.http.security import principal_of
from store.duplicates import policy
from store.leads import lifecycle as leads
from store.leads import queries as lead_queries


def lead_filters(params: dict[str, Any]) -> lead_queries.LeadFilters:
    """The filter parameters of the list and the CSV export as `LeadFilters`.

    The parameter list lives once, in the spec (``LeadFilter*`` parameters) and in
    `LeadFilters`' fields: both operations take them as ``**params`` (Connexion passes every
    validated parameter, unknown ones were already refused by strict validation), and only the
    fields `LeadFilters` declares are read here.
    """
    values = {name: params.get(name) for name in lead_queries.FILTER_NAMES}
    values["created_after"] = timestamps.parse(values["created_after"], "createdAfter")
    values["created_before"] = timestamps.parse(values["created_before"], "createdBefore")
    return lead_queries.LeadFilters(**values)


def create_lead(body: dict[str, Any], token_info: dict[str, Any], on_duplicate: str = "allow") -> Any:
    caller = principal_of(token_info)

    def produce() -> envelope.Reply:
        lead, created = policy.create_lead(caller, names.snake_keys(body), on_duplicate)
        if created:
            return envelope.created(presenters.lead(lead))
        return envelope.ok(presenters.lead(lead), message="Existing lead updated")

    return with_etag(idempotent(caller, body, produce))


def list_leads(
    token_info: dict[str, Any],
    sort: str = lead_queries.DEFAULT_SORT,
    limit: int = 20,
    cursor: str | None = None,
    **params: Any,
) -> envelope.Reply:
    filters = lead_filters(params)
    result = lead_queries.list_leads(
        principal_of(token_info), filters, sort=sort, limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, presenters.lead, limit=limit)


def get_lead(lead_id: str, token_info: dict[str, Any]) -> Any:
    return with_etag(envelope.ok(presenters.lead(lead_queries.read_lead(principal_of(token_info), lead_id))))


def update_lead(lead_id: str, body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    caller, expected = principal_of(token_info), if_match()

    def produce() -> envelope.Reply:
        lead = leads.update_lead(caller, lead_id, names.snake_keys(body), if_match=expected)
        return envelope.ok(presenters.lead(lead), message="Resource updated successfully")

    return with_etag(idempotent(caller, body, produce))


def delete_lead(lead_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    lead = leads.delete_lead(principal_of(token_info), lead_id, if_match=if_match())
    return envelope.ok({"id": lead.id, "deleted": True}, message="Resource deleted successfully")


def get_lead_history(
    lead_id: str, token_info: dict[str, Any], limit: int = 20, cursor: str | None = None
) -> envelope.Reply:
    result = lead_queries.list_history(
        principal_of(token_info), lead_id, limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, presenters.lead_event, limit=limit)

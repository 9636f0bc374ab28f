"""Duplicate endpoints: list a lead's detected duplicates, merge duplicates into a lead."""

from __future__ import annotations

from typing import Any

from handlers.api import presenters
from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.idempotency import idempotent
from handlers.http.preconditions import with_etag
from handlers.http.security import principal_of
from store.duplicates import merge, queries


def get_lead_duplicates(
    lead_id: str, token_info: dict[str, Any], limit: int = 20, cursor: str | None = None
) -> envelope.Reply:
    result = queries.list_duplicates(
        principal_of(token_info), lead_id, limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, presenters.duplicate, limit=limit)


def merge_leads(lead_id: str, body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    caller = principal_of(token_info)

    def produce() -> envelope.Reply:
        lead = merge.merge_leads(caller, lead_id, body["sourceIds"])
        return envelope.ok(presenters.lead(lead), message="Leads merged successfully")

    return with_etag(idempotent(caller, body, produce))

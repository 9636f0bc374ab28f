"""Turning new events into deliveries, inside the event's own transaction.

Each enabled endpoint of the event's tenant *and environment* that subscribes to its type gets
one ``pending`` delivery and one ``webhook`` job (`store.jobs`), committed with the change: a
sandbox change never reaches a live endpoint, and a crash after the commit still delivers.
A disabled endpoint gets nothing (the feed keeps every event; re-enable and replay to catch up).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from store import bulk
from store.ids import new_id
from store.jobs import queue as jobs
from store.models import utcnow
from store.prepared import Prepared, param
from store.webhooks.models import WebhookDelivery, WebhookEndpoint

KIND = "webhook"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# A webhook job fails (and is retried by the queue, with backoff up to 10 min) only when the
# database does; its own HTTP failures are the delivery schedule's. Patient enough for an
# outage of a couple of hours, so a delivery is not left pending without a job.
JOB_ATTEMPTS = 20
WILDCARD = "*"


def subscribes(endpoint: WebhookEndpoint, event_type: str, data: dict[str, Any]) -> bool:
    """Does ``endpoint`` want this event? ``fields`` narrows ``lead.updated`` to changes of them."""
    if WILDCARD not in endpoint.events and event_type not in endpoint.events:
        return False
    if event_type == "lead.updated" and endpoint.fields:
        return bool(set(endpoint.fields) & set(data.get("previous") or {}))
    return True


def delivery_row(endpoint: WebhookEndpoint, event_id: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "tenant_id": endpoint.tenant_id,
        "id": new_id(),
        "endpoint_id": endpoint.id,
        "event_id": event_id,
        "environment": endpoint.environment,
        "status": PENDING,
        "attempt_count": 0,
        "generation": 0,
        "next_attempt_at": now,
        "sending_until": None,
        "last_status_code": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
        "finished_at": None,
    }


def job_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {"deliveryId": row["id"], "generation": row["generation"]}


def queue(tenant_id: str, rows: list[dict[str, Any]]) -> None:
    """Insert new deliveries with their jobs (in the caller's transaction)."""
    if rows:
        bulk.insert_rows(WebhookDelivery, rows)
        jobs.enqueue_many(tenant_id, KIND, [job_payload(row) for row in rows], max_attempts=JOB_ATTEMPTS)


def _enabled_endpoints(_shape: None) -> Any:
    return WebhookEndpoint.select().where(
        (WebhookEndpoint.tenant_id == param("tenant_id"))
        & (WebhookEndpoint.environment == param("environment"))
        & (WebhookEndpoint.enabled == True)  # noqa: E712 (a SQL comparison)
    )


# Read on every event (every create), in the event's transaction: built once, not per event
# (peewee's query building was the largest part of a create's store CPU). Not cached: an
# endpoint created or disabled by another process is seen by the very next event.
ENABLED_ENDPOINTS = Prepared(_enabled_endpoints, ("tenant_id", "environment"))


def fan_out(tenant_id: str, environment: str, events: Sequence[dict[str, Any]]) -> int:
    values = {"tenant_id": tenant_id, "environment": environment}
    endpoints: list[WebhookEndpoint] = ENABLED_ENDPOINTS.rows(WebhookEndpoint, None, values)
    if not endpoints:
        return 0
    rows = [
        delivery_row(endpoint, event["id"])
        for event in events
        for endpoint in endpoints
        if subscribes(endpoint, event["type"], event["data"])
    ]
    queue(tenant_id, rows)
    return len(rows)

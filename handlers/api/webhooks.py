"""Webhook endpoints (scope ``admin:webhooks``). The signing secret leaves the server only in
the create and rotate-secret replies."""

from __future__ import annotations

from typing import Any

from handlers.api import timestamps
from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.idempotency import idempotent
from handlers.http.security import principal_of
from store.webhooks import endpoints, log
from store.webhooks.models import WebhookAttempt, WebhookEndpoint

WRITABLE = {
    "url": "url",
    "events": "events",
    "fields": "fields",
    "description": "description",
    "enabled": "enabled",
}


def _ts(value: Any) -> str | None:
    return envelope.timestamp(value) if value is not None else None


def present(row: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "environment": row.environment,
        "url": row.url,
        "events": row.events,
        "fields": row.fields,
        "description": row.description,
        "enabled": row.enabled,
        "disabledReason": row.disabled_reason,
        "disabledAt": _ts(row.disabled_at),
        "previousSecretExpiresAt": _ts(row.previous_secret_until),
        "createdAt": _ts(row.created_at),
        "updatedAt": _ts(row.updated_at),
    }


def _issued(issued: endpoints.Issued) -> dict[str, Any]:
    return {**present(issued.endpoint), "secret": issued.secret}


def _attempt(row: WebhookAttempt) -> dict[str, Any]:
    return {
        "attemptedAt": _ts(row.attempted_at),
        "statusCode": row.status_code,
        "durationMs": row.duration_ms,
        "error": row.error,
        "responseBody": row.response_body,
        "nextAttemptAt": _ts(row.next_attempt_at),
    }


def present_delivery(view: log.DeliveryView) -> dict[str, Any]:
    row = view.delivery
    return {
        "id": row.id,
        "endpointId": row.endpoint_id,
        "eventId": row.event_id,
        "eventType": view.event_type,
        "status": row.status,
        "attemptCount": row.attempt_count,
        "nextAttemptAt": _ts(row.next_attempt_at) if row.status == "pending" else None,
        "lastStatusCode": row.last_status_code,
        "lastError": row.last_error,
        "createdAt": _ts(row.created_at),
        "finishedAt": _ts(row.finished_at),
        "attempts": [_attempt(a) for a in view.attempts],
    }


def create_webhook_endpoint(body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    caller = principal_of(token_info)

    def produce() -> envelope.Reply:
        issued = endpoints.create_endpoint(
            caller, url=body["url"], events=body["events"], fields=body.get("fields"),
            description=body.get("description"), enabled=body.get("enabled", True),
        )  # fmt: skip
        return envelope.created(_issued(issued))

    return idempotent(caller, body, produce)


def list_webhook_endpoints(
    token_info: dict[str, Any], limit: int = 20, cursor: str | None = None
) -> envelope.Reply:
    result = endpoints.list_endpoints(
        principal_of(token_info), limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, present, limit=limit)


def get_webhook_endpoint(endpoint_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    return envelope.ok(present(endpoints.get_endpoint(principal_of(token_info), endpoint_id)))


def update_webhook_endpoint(
    endpoint_id: str, body: dict[str, Any], token_info: dict[str, Any]
) -> envelope.Reply:
    values = {WRITABLE[name]: value for name, value in body.items()}
    return envelope.ok(present(endpoints.update_endpoint(principal_of(token_info), endpoint_id, values)))


def delete_webhook_endpoint(endpoint_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    endpoint = endpoints.delete_endpoint(principal_of(token_info), endpoint_id)
    return envelope.ok({"id": endpoint.id, "deleted": True}, message="Webhook endpoint deleted")


def rotate_webhook_secret(endpoint_id: str, token_info: dict[str, Any]) -> Any:
    caller = principal_of(token_info)

    def produce() -> envelope.Reply:
        issued = endpoints.rotate_secret(caller, endpoint_id)
        return envelope.ok(_issued(issued), message="Signing secret rotated")

    return idempotent(caller, None, produce)


def list_webhook_deliveries(
    endpoint_id: str, token_info: dict[str, Any], status: str | None = None, limit: int = 20,
    cursor: str | None = None,
) -> envelope.Reply:  # fmt: skip
    result = log.list_deliveries(
        principal_of(token_info),
        endpoint_id,
        status=status,
        limit=limit,
        cursor=cursor,
        codec=app_state().cursors,
    )
    return envelope.page(result, present_delivery, limit=limit)


def replay_webhook_events(
    endpoint_id: str, body: dict[str, Any], token_info: dict[str, Any]
) -> envelope.Reply:
    since = timestamps.parse(body.get("since"), "since")
    queued = log.replay(principal_of(token_info), endpoint_id, event_ids=body.get("eventIds"), since=since)
    return envelope.ok({"queued": len(queued), "deliveryIds": queued}, 202, "Replay queued")


def test_webhook_endpoint(endpoint_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    view = log.send_test(principal_of(token_info), endpoint_id)
    return envelope.ok(present_delivery(view), 202, "Test event queued")

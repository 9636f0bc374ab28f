"""The ``webhook`` job: one attempt of one delivery, Standard Webhooks style.

Each attempt is its own job. A job carries the delivery's ``generation``; only the job of the
current generation may send, and every (re)scheduling bumps it, so however the queue redelivers
jobs (a worker killed mid-send, a replay) a delivery is never sent by two workers at once. An
attempt first takes one of the endpoint's ``max_in_flight`` sending slots (the endpoint row is
locked while counting, so the bound holds across workers and processes); with none free the
job steps aside for a second without counting an attempt.

Request: ``POST`` the body ``{"id", "type", "timestamp", "data"}`` with ``webhook-id`` (the
event id, the same on every retry and replay), ``webhook-timestamp`` (this attempt, Unix
seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``; two,
space-separated, for 24 h after a rotation).

Outcomes (the job's ``result.outcome``, countable by the metrics): ``succeeded`` (2xx),
``retry_scheduled``, ``failed`` (no attempt left, or the endpoint is disabled or gone),
``endpoint_disabled`` (410 Gone, or failing for `WebhookConfig.disable_after`), ``deferred``
(no free slot) and ``skipped`` (a stale job).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
from dataclasses import dataclass
from typing import Any

import peewee

from store.db import is_postgres, transaction
from store.events.models import Event
from store.events.objects import timestamp
from store.ids import new_id
from store.jobs import queue as jobs
from store.jobs import registry
from store.models import Job, utcnow
from store.webhooks import config, endpoint_state, fanout, schedule, secrets, transport
from store.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("leadpipe.webhooks")

PENDING, SUCCEEDED, FAILED = fanout.PENDING, fanout.SUCCEEDED, fanout.FAILED
SENDING_GRACE = dt.timedelta(seconds=30)
USER_AGENT = "Leadpipe-Webhooks/1"


@dataclass(frozen=True)
class Send:
    delivery: WebhookDelivery
    url: str
    body: str
    secrets: list[str]


def body_of(event: Event) -> str:
    payload = {
        "id": event.id,
        "type": event.type,
        "timestamp": timestamp(event.created_at),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _lock_endpoint(tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
    query = WebhookEndpoint.select().where(
        (WebhookEndpoint.tenant_id == tenant_id) & (WebhookEndpoint.id == endpoint_id)
    )
    return query.for_update().first() if is_postgres() else query.first()


def _key(delivery: WebhookDelivery) -> peewee.Expression:
    return (WebhookDelivery.tenant_id == delivery.tenant_id) & (WebhookDelivery.id == delivery.id)


def _close(delivery: WebhookDelivery, error: str) -> str:
    now = utcnow()
    WebhookDelivery.update(
        status=FAILED,
        last_error=error,
        next_attempt_at=None,
        sending_until=None,
        finished_at=now,
        updated_at=now,
    ).where(_key(delivery)).execute()
    return FAILED


def _reschedule(delivery: WebhookDelivery, at: dt.datetime, **values: Any) -> None:
    """Hand the delivery to a new job at ``at`` (the old job's generation goes stale)."""
    generation = delivery.generation + 1
    WebhookDelivery.update(
        generation=generation, next_attempt_at=at, sending_until=None, updated_at=utcnow(), **values
    ).where(_key(delivery)).execute()
    payload = {"deliveryId": delivery.id, "generation": generation}
    jobs.enqueue(delivery.tenant_id, fanout.KIND, payload, run_at=at, max_attempts=fanout.JOB_ATTEMPTS)


def _signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    keys = config.current().secret_keys
    found = [secrets.unseal(keys, endpoint.tenant_id, endpoint.id, endpoint.secret_sealed)]
    if (
        endpoint.previous_secret_sealed
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > now
    ):
        found.append(secrets.unseal(keys, endpoint.tenant_id, endpoint.id, endpoint.previous_secret_sealed))
    return found


@transaction
def begin(tenant_id: str, delivery_id: str, generation: int) -> Send | str:
    """Take a sending slot for the delivery, or say why not (an outcome)."""
    delivery = WebhookDelivery.get_or_none(
        (WebhookDelivery.tenant_id == tenant_id) & (WebhookDelivery.id == delivery_id)
    )
    if delivery is None or delivery.generation != generation or delivery.status != PENDING:
        return "skipped"
    endpoint = _lock_endpoint(tenant_id, delivery.endpoint_id)
    if endpoint is None:
        return _close(delivery, "The endpoint was deleted")
    if not endpoint.enabled:
        return _close(delivery, f"The endpoint is disabled: {endpoint.disabled_reason or 'by a user'}")
    now = utcnow()
    busy = (
        WebhookDelivery.select()
        .where(
            (WebhookDelivery.tenant_id == tenant_id)
            & (WebhookDelivery.endpoint_id == endpoint.id)
            & (WebhookDelivery.sending_until > now)
            & (WebhookDelivery.id != delivery.id)
        )
        .count()
    )
    if busy >= config.current().max_in_flight:
        _reschedule(delivery, now + dt.timedelta(seconds=random.uniform(0.5, 1.5)))
        return "deferred"
    event = Event.get_or_none((Event.tenant_id == tenant_id) & (Event.id == delivery.event_id))
    if event is None:
        return _close(delivery, "The event is no longer kept")
    until = now + dt.timedelta(seconds=config.current().total_timeout) + SENDING_GRACE
    WebhookDelivery.update(sending_until=until).where(_key(delivery)).execute()
    return Send(delivery, endpoint.url, body_of(event), _signing_secrets(endpoint, now))


def headers_for(send: Send, moment: dt.datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": send.delivery.event_id,
        "webhook-timestamp": str(math.floor(moment.timestamp())),
        "webhook-signature": secrets.signature(send.secrets, send.delivery.event_id, moment, send.body),
    }


def _error_of(outcome: transport.Outcome) -> str | None:
    code = outcome.status_code
    if code is None:
        return outcome.error
    if 300 <= code < 400:
        return f"HTTP {code}: redirects are not followed"
    return None if 200 <= code < 300 else f"HTTP {code}"


@transaction
def finish(send: Send, outcome: transport.Outcome, attempted_at: dt.datetime) -> str:
    """Record the attempt and decide what comes next, in one transaction."""
    cfg = config.current()
    delivery = WebhookDelivery.get_or_none(_key(send.delivery))
    if delivery is None:
        return "skipped"  # the endpoint was deleted meanwhile
    endpoint = _lock_endpoint(delivery.tenant_id, delivery.endpoint_id)
    code, error, now = outcome.status_code, _error_of(outcome), utcnow()
    number = delivery.attempt_count + 1
    next_at: dt.datetime | None = None
    if code is not None and 200 <= code < 300:
        result = SUCCEEDED
        if endpoint is not None and endpoint.failing_since is not None:
            endpoint_state.recovered(endpoint)
    elif endpoint is not None and code == 410:
        endpoint_state.disable(endpoint, "The endpoint answered 410 Gone")
        result = "endpoint_disabled"
    elif endpoint is not None and endpoint_state.failing_too_long(endpoint, attempted_at, cfg.disable_after):
        endpoint_state.disable(endpoint, f"Every delivery failed for {cfg.disable_after.days} days")
        result = "endpoint_disabled"
    else:
        delay = schedule.next_delay(number, cfg.retry_delays)
        if delay is not None and code in schedule.RETRY_AFTER_STATUSES:
            delay = max(delay, schedule.retry_after(outcome.retry_after, now, cfg.retry_after_cap) or 0.0)
        next_at = now + dt.timedelta(seconds=delay) if delay is not None else None
        result = "retry_scheduled" if next_at else FAILED
    WebhookAttempt.create(
        tenant_id=delivery.tenant_id,
        id=new_id(),
        delivery_id=delivery.id,
        attempted_at=attempted_at,
        status_code=code,
        duration_ms=outcome.duration_ms,
        error=error,
        response_body=outcome.body[: transport.MAX_BODY] if outcome.body else None,
        next_attempt_at=next_at,
    )
    if delivery.generation != send.delivery.generation or delivery.status != PENDING:
        return "superseded"  # a replay re-armed it meanwhile: the attempt is logged, the rest is its job's
    values: dict[str, Any] = {"attempt_count": number, "last_status_code": code, "last_error": error}
    if next_at is not None:
        _reschedule(delivery, next_at, **values)
        return result
    status = SUCCEEDED if result == SUCCEEDED else FAILED
    WebhookDelivery.update(
        status=status, next_attempt_at=None, sending_until=None, finished_at=now, updated_at=now, **values
    ).where(_key(delivery)).execute()
    return result


@registry.job_handler(fanout.KIND)
def run_delivery(job: Job) -> dict[str, Any]:
    delivery_id = job.payload["deliveryId"]
    begun = begin(job.tenant_id, delivery_id, job.payload["generation"])
    if isinstance(begun, str):
        return {"deliveryId": delivery_id, "outcome": begun}
    moment = dt.datetime.now(dt.UTC)
    outcome = transport.post(begun.url, begun.body.encode(), headers_for(begun, moment), config.current())
    result = finish(begun, outcome, moment.replace(tzinfo=None))
    log.info("webhook delivery %s: %s (HTTP %s)", delivery_id, result, outcome.status_code)
    return {"deliveryId": delivery_id, "outcome": result, "statusCode": outcome.status_code}

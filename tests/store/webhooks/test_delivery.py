"""Delivery under concurrency: exactly one send per event and endpoint however many workers,
and a bounded number of deliveries in flight per endpoint."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from starlette.testclient import TestClient

from handlers.worker import Worker
from store.webhooks import config, delivery
from store.webhooks.models import WebhookDelivery
from tests.support import SeededTenant, lead_body
from tests.webhook_support import create_endpoint, receiver


def test_two_workers_deliver_each_event_exactly_once_per_endpoint(
    client: TestClient, tenant: SeededTenant
) -> None:
    with receiver() as first, receiver() as second:
        create_endpoint(client, tenant.headers, first.url, events=["lead.created"])
        create_endpoint(client, tenant.headers, second.url, events=["lead.created"])
        created = client.post(
            "/v1/leads/import", json=[lead_body() for _ in range(40)], headers=tenant.headers
        )
        assert created.status_code == 200, created.text
        barrier = threading.Barrier(2)

        def work() -> None:
            barrier.wait()
            Worker().run_until_idle(tenant_id=tenant.id)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        Worker().run_until_idle(tenant_id=tenant.id)  # anything a lost race left behind
    for rx in (first, second):
        ids = Counter(r.headers["webhook-id"] for r in rx.received)
        assert len(ids) == 40 and set(ids.values()) == {1}, ids.most_common(3)
    rows = WebhookDelivery.select().where(WebhookDelivery.tenant_id == tenant.id)
    assert Counter(d.status for d in rows) == {"succeeded": 80}


def test_the_in_flight_bound_per_endpoint_defers_the_extra_delivery(
    client: TestClient, tenant: SeededTenant
) -> None:
    saved = config.current()
    config.configure(config.WebhookConfig(**{**saved.__dict__, "max_in_flight": 1}))
    try:
        create_endpoint(client, tenant.headers, "https://hooks.example.com/bound", events=["lead.created"])
        for _ in range(2):
            client.post("/v1/leads", json=lead_body(), headers=tenant.headers)
        a, b = WebhookDelivery.select().where(WebhookDelivery.tenant_id == tenant.id)
        first: Any = delivery.begin(tenant.id, a.id, a.generation)
        assert isinstance(first, delivery.Send)  # holds the endpoint's only slot
        assert delivery.begin(tenant.id, b.id, b.generation) == "deferred"
        stale = delivery.begin(tenant.id, b.id, b.generation)  # the deferred job's generation is stale
        assert stale == "skipped"
    finally:
        config.configure(saved)

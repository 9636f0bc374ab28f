"""An endpoint made or disabled through one server governs the very next event of another server
on the same database: the fan-out reads the tenant's endpoints in each event's own transaction,
with no per-process copy to go stale (`store.webhooks.fanout`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server_support import two_servers
from tests.support import assert_ok, lead_body


def _event_of(client: httpx.Client, headers: dict[str, str], lead_id: str) -> str:
    events = assert_ok(client.get("/v1/events", params={"limit": 100}, headers=headers))
    ids = [e["id"] for e in events if e["resourceId"] == lead_id and e["type"] == "lead.created"]
    assert len(ids) == 1, events
    return str(ids[0])


def _delivered_events(client: httpx.Client, headers: dict[str, str], endpoint_id: str) -> set[str]:
    rows: list[dict[str, Any]] = assert_ok(
        client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=headers)
    )
    return {row["eventId"] for row in rows}


@pytest.mark.slow
def test_an_endpoint_made_on_one_server_gets_the_next_event_of_the_other(tmp_path: Path) -> None:
    with two_servers(tmp_path) as pair:
        a, b = pair.a, pair.b
        owner = {"X-API-Key": pair.tenant["apiKey"]}
        # Server b fans out a create while the tenant has no endpoint at all.
        before = assert_ok(b.post("/v1/leads", json=lead_body(), headers=owner), 201)
        made = assert_ok(
            a.post(
                "/v1/webhook-endpoints",
                json={"url": "https://example.com/hook", "events": ["lead.created"]},
                headers=owner,
            ),
            201,
        )
        endpoint_id = made["endpoint"]["id"] if "endpoint" in made else made["id"]
        # The very next create on server b is delivered to the endpoint server a made.
        after = assert_ok(b.post("/v1/leads", json=lead_body(), headers=owner), 201)
        delivered = _delivered_events(a, owner, endpoint_id)
        assert delivered == {_event_of(a, owner, after["id"])}
        assert _event_of(a, owner, before["id"]) not in delivered
        # Disabled on server a: server b's next event is not delivered to it.
        assert_ok(a.patch(f"/v1/webhook-endpoints/{endpoint_id}", json={"enabled": False}, headers=owner))
        assert_ok(b.post("/v1/leads", json=lead_body(), headers=owner), 201)
        assert _delivered_events(a, owner, endpoint_id) == delivered
    assert pair.errors() == ""

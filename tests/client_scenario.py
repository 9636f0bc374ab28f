"""A client nobody here wrote: generate one from the *served* spec and drive a live server with it.

``tox -e client`` runs ``python -m tests.client_scenario``: it starts ``leadpipe serve`` on a
fresh database (tests/live_server.py), runs ``openapi-python-client generate --url
<served spec>`` into a temporary folder (failing on any generator warning), imports the
generated package and walks a user's scenario with it: create, list with a cursor, get, patch,
history, duplicates, CSV import (a multipart file upload and a text/csv body), export, keys, the
event feed, a webhook endpoint (create, test, deliveries, replay, delete), and a 422 parsed as
``ErrorEnvelope``. Every call returns ``<Success>Envelope | ErrorEnvelope``.

The one generator template in tests/client_templates/ works around openapi-python-client 0.29
emitting ``isinstance(body, list[...])`` (a TypeError) for an operation whose bodies include a
JSON array; everything else is the generator's stock output.
"""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.live_server import LiveServer, live_server

PACKAGE = "leadpipe_api_client"
TEMPLATES = Path(__file__).resolve().parent / "client_templates"
CONFIG = "content_type_overrides:\n  text/csv: application/octet-stream\n"  # a file body, sent as text/csv


def generate(spec_url: str, into: Path) -> int:
    """Generate the client package into ``into``; return its model count."""
    config = into / "generator.yaml"
    config.write_text(CONFIG)
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--url", spec_url,
         "--output-path", str(into / PACKAGE), "--meta", "none", "--config", str(config),
         "--custom-template-path", str(TEMPLATES)],
        capture_output=True, text=True, check=False,
        # It formats its output with ruff, installed beside this interpreter.
        env={**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])},
    )  # fmt: skip
    output = result.stdout + result.stderr
    if result.returncode != 0 or "warning" in output.lower():
        raise SystemExit(f"openapi-python-client failed or warned:\n{output}")
    return len([p for p in (into / PACKAGE / "models").glob("*.py") if p.name != "__init__.py"])


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"client scenario failed: {what}")
    print(f"  ok  {what}")


def scenario(server: LiveServer) -> None:
    api = importlib.import_module(PACKAGE)
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")

    def op(group: str, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{group}.{name}")

    client = api.AuthenticatedClient(
        base_url=server.base_url, token=server.api_key, raise_on_unexpected_status=True
    )
    tag = uuid.uuid4().hex[:6]

    created = [
        op("leads", "create_lead").sync(
            client=client,
            body=models.LeadCreate(
                email=f"{name.lower()}.{tag}@example.com",
                first_name=name,
                last_name="Client",
                company="Acme Inc",
            ),
        )
        for name in ("Ann", "Ben", "Cat")
    ]
    check(all(isinstance(r, models.LeadEnvelope) for r in created), "create: 3 x LeadEnvelope")
    ids = [r.data.id for r in created]

    first = op("leads", "list_leads").sync(client=client, limit=2, sort=models.ListLeadsSort.CREATED_AT)
    check(
        isinstance(first, models.LeadListEnvelope) and first.meta.pagination.has_more, "list: page 1 has more"
    )
    second = op("leads", "list_leads").sync(
        client=client, limit=2, sort=models.ListLeadsSort.CREATED_AT, cursor=first.meta.pagination.next_cursor
    )
    listed = [lead.id for lead in first.data + second.data]
    check(listed == ids, "list + cursor: every lead once, in order")

    got = op("leads", "get_lead").sync(ids[0], client=client)
    check(isinstance(got, models.LeadEnvelope) and got.data.email == created[0].data.email, "get")

    patched = op("leads", "update_lead").sync(
        ids[0], client=client, body=models.LeadUpdate(status=models.LeadStatus.QUALIFIED, score=80)
    )
    check(patched.data.status == models.LeadStatus.QUALIFIED and patched.data.score == 80, "patch")

    history = op("leads", "get_lead_history").sync(ids[0], client=client)
    check([e.action for e in history.data] == ["created", "updated"], "history: created, updated")

    twin = op("leads", "create_lead").sync(
        client=client, body=models.LeadCreate(email=created[1].data.email, first_name="Ben", last_name="Twin")
    )
    duplicates: list[Any] = []
    for _ in range(300):  # detection runs in the server's job worker
        duplicates = op("leads", "get_lead_duplicates").sync(ids[1], client=client).data
        if duplicates:
            break
        time.sleep(0.1)
    check([d.lead.id for d in duplicates] == [twin.data.id], "duplicates: the twin is found")

    csv_text = (
        f"email,firstName,lastName,tags\ndee.{tag}@example.com,Dee,Csv,vip;csv\nnot-an-email,Bad,Row,\n"
    )
    uploaded = op("leads", "import_leads").sync(
        client=client,
        body=models.ImportLeadsFilesBody(
            file=types.File(
                payload=io.BytesIO(csv_text.encode()), file_name="leads.csv", mime_type="text/csv"
            )
        ),
    )
    check(isinstance(uploaded, models.LeadImportEnvelope), "import: multipart file accepted (202)")
    streamed = op("leads", "import_leads").sync(
        client=client,
        body=types.File(payload=io.BytesIO(csv_text.replace("dee.", "eve.").encode())),
        on_duplicate=models.ImportLeadsOnDuplicate.ALLOW,
    )
    check(isinstance(streamed, models.LeadImportEnvelope), "import: text/csv body accepted (202)")
    for accepted in (uploaded, streamed):
        status = accepted.data
        for _ in range(300):
            status = op("leads", "get_import").sync(accepted.data.id, client=client).data
            if status.status.value in ("completed", "failed"):
                break
            time.sleep(0.1)
        counts = (status.counts.created, status.counts.failed)
        check(
            status.status.value == "completed" and counts == (1, 1),
            f"import {status.id}: 1 created, 1 row error",
        )
        check(status.errors[0].row == 3 and status.errors[0].field == "email", "import: row 3 email error")

    exported = op("leads", "export_leads").sync(client=client)
    rows = exported.payload.read().decode().splitlines()
    check(rows[0].startswith("id,email,firstName") and len(rows) == 1 + 6, "export: header + 6 leads")

    issued = op("api_keys", "create_api_key").sync(
        client=client,
        body=models.SecretApiKeyCreate(name="ci", scopes=[models.SecretApiKeyCreateScopesItem.READ_LEADS]),
    )
    check(
        isinstance(issued, models.IssuedApiKeyEnvelope) and issued.data.key.startswith("lp_live_sk_"),
        "key: created",
    )
    rotated = op("api_keys", "rotate_api_key").sync(issued.data.id, client=client)
    check(rotated.data.key != issued.data.key, "key: rotated")
    revoked = op("api_keys", "revoke_api_key").sync(issued.data.id, client=client)
    check(revoked.data.status.value == "revoked", "key: revoked")
    keys = op("api_keys", "list_api_keys").sync(client=client)
    check(issued.data.id in [k.id for k in keys.data], "key: listed")

    feed = op("events", "list_events").sync(client=client, resource_id=ids[0])
    check(
        [e.type_ for e in feed.data] == [models.EventType.LEAD_CREATED, models.EventType.LEAD_UPDATED],
        "events: lead.created, lead.updated for the first lead",
    )
    event = op("events", "get_event").sync(feed.data[0].id, client=client)
    check(isinstance(event, models.EventEnvelope) and event.data.resource_id == ids[0], "events: get one")
    hook = op("webhooks", "create_webhook_endpoint").sync(
        client=client,
        body=models.WebhookEndpointCreate(
            url="https://hooks.example.com/leadpipe", events=[models.WebhookEventSelectorItem.LEAD_CREATED]
        ),
    )
    check(
        isinstance(hook, models.IssuedWebhookEndpointEnvelope) and hook.data.secret.startswith("whsec_"),
        "webhook: endpoint created, secret shown once",
    )
    sent = op("webhooks", "test_webhook_endpoint").sync(hook.data.id, client=client)
    check(
        isinstance(sent, models.WebhookDeliveryEnvelope) and sent.data.event_type == "webhook.test",
        "webhook: test",
    )
    log = op("webhooks", "list_webhook_deliveries").sync(hook.data.id, client=client)
    check(sent.data.id in [d.id for d in log.data], "webhook: the test delivery is in the log")
    replayed = op("webhooks", "replay_webhook_events").sync(
        hook.data.id, client=client, body=models.WebhookReplay(event_ids=[feed.data[0].id])
    )
    check(isinstance(replayed, models.WebhookReplayEnvelope) and replayed.data.queued == 1, "webhook: replay")
    gone = op("webhooks", "delete_webhook_endpoint").sync(hook.data.id, client=client)
    check(isinstance(gone, models.DeletedEnvelope) and gone.data.deleted, "webhook: deleted")

    refused = op("leads", "create_lead").sync(
        client=client, body=models.LeadCreate(email="not-an-email", first_name="No", last_name="Way")
    )
    check(
        isinstance(refused, models.ErrorEnvelope)
        and refused.status == 422
        and refused.code == models.ErrorEnvelopeCode.VALIDATION_ERROR
        and [e.field for e in refused.errors] == ["email"],
        "422: parsed as ErrorEnvelope, field email",
    )


def main() -> int:
    with live_server() as server, tempfile.TemporaryDirectory(prefix="leadpipe-client-") as scratch:
        count = generate(server.spec_url, Path(scratch))
        print(f"generated {PACKAGE} from {server.spec_url}: {count} models, no warnings")
        sys.path.insert(0, scratch)
        scenario(server)
    print("client scenario: passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

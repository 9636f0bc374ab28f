"""Capture ``redirect`` over HTTP: only a plain URL on an allowed origin answers 303; anything a
browser could read differently (or a CR/LF that would split the Location header) is a 422 before
the lead is stored."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import CaptureSubmission, Lead
from tests.support import SeededTenant, assert_error

SITE = "https://www.example.com"
_ips = itertools.count(1)


@pytest.fixture
def web(app: Any) -> Iterator[TestClient]:
    n = next(_ips)
    with TestClient(app, raise_server_exceptions=False, client=(f"10.77.{n // 250}.{n % 250 + 1}", 1)) as c:
        yield c


@pytest.fixture
def key(client: TestClient, tenant: SeededTenant) -> str:
    body = {"name": f"site-{uuid.uuid4().hex[:8]}", "type": "publishable", "allowedOrigins": [SITE]}
    response = client.post("/v1/api-keys", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["key"])


def _stored(tenant: SeededTenant) -> tuple[int, int]:
    return (
        Lead.select().where(Lead.tenant_id == tenant.id).count(),
        CaptureSubmission.select().where(CaptureSubmission.tenant_id == tenant.id).count(),
    )


BAD = [
    "https://evil.example\\@www.example.com/",
    "https://evil.example@www.example.com/",
    "https://www.example.com/thanks\r\nSet-Cookie: session=x",
    "https://www.example.com\r\n",
    "https://www.exa\tmple.com/",
    "//www.example.com/thanks",
    "https://www%2eexample.com/",
    "https://www。example。com/",
]


@pytest.mark.parametrize("redirect", BAD)
@pytest.mark.parametrize("as_form", [True, False])
def test_a_tricky_redirect_is_refused_before_anything_is_stored(
    web: TestClient, tenant: SeededTenant, key: str, redirect: str, as_form: bool
) -> None:
    fields = {"email": "visitor@example.com", "name": "Jane Doe", "redirect": redirect}
    send = {"data": fields} if as_form else {"json": fields}
    response = web.post(f"/v1/public/leads?key={key}", follow_redirects=False, **send)  # type: ignore[arg-type]
    assert_error(response, 422, "validation_error", "redirect")
    assert "location" not in response.headers
    assert _stored(tenant) == (0, 0)


def test_a_plain_redirect_on_the_allowed_origin_still_answers_303(
    web: TestClient, tenant: SeededTenant, key: str
) -> None:
    thanks = f"{SITE}/thanks?from=contact#top"
    response = web.post(
        f"/v1/public/leads?key={key}",
        data={"email": "visitor@example.com", "name": "Jane Doe", "redirect": thanks},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == thanks
    assert _stored(tenant) == (1, 1)

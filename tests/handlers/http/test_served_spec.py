"""The served spec is the document as written: refs kept, internals stripped, servers absolute."""

from __future__ import annotations

import gzip
import json
from typing import Any

import yaml
from starlette.testclient import TestClient

from handlers.app import load_spec
from handlers.http.served_spec import INTERNAL_EXTENSIONS


def _keys(node: Any) -> set[str]:
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found |= set(item)
            pending += item.values()
        elif isinstance(item, list):
            pending += item
    return found


def _refs(text: str) -> int:
    return text.count('"$ref"')


def test_json_keeps_refs_and_components_and_strips_internal_extensions(client: TestClient) -> None:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = response.json()
    written = load_spec()
    assert served["components"]["schemas"].keys() == written["components"]["schemas"].keys()
    assert served["paths"].keys() == written["paths"].keys()
    assert _refs(response.text) == _refs(json.dumps(written)) > 100
    keys = _keys(served)
    assert not keys & INTERNAL_EXTENSIONS
    assert _keys(written) & INTERNAL_EXTENSIONS, "the written spec does carry them"
    # Client-facing extensions stay.
    assert {"x-scopes", "x-enum-varnames"} <= keys
    assert len(response.content) < 250_000


def test_yaml_is_the_same_document(client: TestClient) -> None:
    response = client.get("/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(response.text) == client.get("/v1/openapi.json").json()


def test_servers_default_to_the_requests_scheme_and_host(client: TestClient) -> None:
    served = client.get("/v1/openapi.json", headers={"Host": "api.example.com:8443"}).json()
    (server,) = served["servers"]
    assert server["url"] == "{scheme}://{host}/v1"
    assert server["variables"]["host"]["default"] == "api.example.com:8443"
    assert server["variables"]["scheme"]["default"] == "http"
    # An X-Forwarded-Proto from an untrusted client is not believed (uvicorn applies trusted ones).
    forwarded = client.get("/v1/openapi.json", headers={"X-Forwarded-Proto": "https"}).json()
    assert forwarded["servers"][0]["variables"]["scheme"]["default"] == "http"


def test_https_scheme_from_the_asgi_scope(app: Any) -> None:
    with TestClient(app, base_url="https://secure.example.org") as tls:
        served = tls.get("/v1/openapi.json").json()
    assert served["servers"][0]["variables"]["scheme"]["default"] == "https"
    assert served["servers"][0]["variables"]["host"]["default"] == "secure.example.org"


def test_an_implausible_host_header_is_not_echoed(client: TestClient) -> None:
    served = client.get("/v1/openapi.json", headers={"Host": "evil.example/<script>"}).json()
    host = served["servers"][0]["variables"]["host"]["default"]
    assert "<" not in host and "/" not in host


def test_gzip_when_accepted_and_plain_otherwise(client: TestClient) -> None:
    plain = client.get("/v1/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    # httpx decodes gzip itself: read the raw stream to see the compressed bytes.
    with client.stream("GET", "/v1/openapi.json", headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["vary"]
    assert len(raw) < len(plain.content) / 4
    assert json.loads(gzip.decompress(raw)) == plain.json()


def test_other_methods_and_paths_pass_through(client: TestClient) -> None:
    assert client.post("/v1/openapi.json").status_code == 405
    assert client.get("/v1/openapi.txt").status_code == 404


def test_swagger_ui_loads_the_served_spec(client: TestClient) -> None:
    page = client.get("/v1/ui/")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    # The UI's initializer fetches this URL; it is the served (as-written) document.
    assert (
        '"/v1/openapi.json"' in page.text
        or "'/v1/openapi.json'" in page.text
        or "/v1/openapi.json" in page.text
    )
    spec = client.get("/v1/openapi.json").json()
    assert "$ref" in json.dumps(spec["paths"]["/leads"])
    assert client.get("/v1/ui/swagger-ui-bundle.js").status_code == 200

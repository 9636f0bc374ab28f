"""``/v1/openapi.json`` and ``/v1/openapi.yaml``: the spec as written, for clients and tools.

Connexion serves its *resolved* spec (every ``$ref`` inlined, ~700 KB), which client
generators turn into a model per inlined copy. This serves the YAML document itself, with its
components and ``$ref``s, minus the extensions that only tell Connexion where our Python
functions live (client-facing ones such as ``x-enum-varnames`` and ``x-scopes`` stay).

``servers`` is made absolute for the caller: ``{scheme}://{host}/v1`` with the request's own
scheme and host as the variables' defaults, so a generator or Schemathesis pointed at the
served URL needs no base URL of its own. Scheme and host are taken as uvicorn presents them in
the ASGI scope: its proxy-header handling (trusted proxies only) has already applied any
``X-Forwarded-Proto``; an implausible ``Host`` header falls back to the server address.
Bodies are gzip-compressed when the client accepts it. Swagger UI (``/v1/ui/``) loads
``/v1/openapi.json``, so it shows this document too.
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import re
from typing import Any

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

# Connexion's wiring: where handlers and security functions are, nothing a client can use.
INTERNAL_EXTENSIONS = frozenset(
    {
        "x-openapi-router-controller",
        "x-swagger-router-controller",
        "x-apikeyInfoFunc",
        "x-bearerInfoFunc",
        "x-basicInfoFunc",
        "x-tokenInfoFunc",
        "x-tokenInfoUrl",
        "x-scopeValidateFunc",
        "x-body-name",
    }
)
PLAUSIBLE_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")
MEDIA_TYPES = {"json": "application/json", "yaml": "application/yaml"}


def public_document(spec: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``spec`` without `INTERNAL_EXTENSIONS`, anywhere in the document."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in INTERNAL_EXTENSIONS}
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    result: dict[str, Any] = strip(copy.deepcopy(spec))
    return result


def servers_for(base_path: str, scheme: str, host: str) -> list[dict[str, Any]]:
    return [
        {
            "url": "{scheme}://{host}" + base_path,
            "description": "This server (the defaults are the host this document was fetched from)",
            "variables": {
                "scheme": {"default": scheme, "enum": sorted({scheme, "http", "https"})},
                "host": {"default": host, "description": "Host name and port"},
            },
        }
    ]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_origin(scope: Scope) -> tuple[str, str]:
    """(scheme, host) of this request as uvicorn presents it (trusted proxies applied)."""
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    host = (_header(scope, b"host") or "").strip()
    if not PLAUSIBLE_HOST.match(host):
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    return scheme, host


class ServedSpec:
    """ASGI middleware answering ``GET {base}/openapi.json|yaml``; everything else passes on."""

    def __init__(self, app: ASGIApp, spec: dict[str, Any], base_path: str) -> None:
        self.app = app
        self.base_path = base_path
        self.document = public_document(spec)
        self.paths = {f"{base_path}/openapi.{kind}": kind for kind in MEDIA_TYPES}
        self._render = functools.lru_cache(maxsize=32)(self._render_uncached)

    def _render_uncached(self, kind: str, scheme: str, host: str, compressed: bool) -> bytes:
        document = {**self.document, "servers": servers_for(self.base_path, scheme, host)}
        if kind == "json":
            text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        else:
            text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        body = text.encode("utf-8")
        return gzip.compress(body, compresslevel=6, mtime=0) if compressed else body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        accepted = _header(scope, b"accept-encoding") or ""
        compressed = any(part.split(";")[0].strip() == "gzip" for part in accepted.lower().split(","))
        body = self._render(kind, *request_origin(scope), compressed)
        headers = [
            (b"content-type", f"{MEDIA_TYPES[kind]}; charset=utf-8".encode()),
            (b"content-length", str(len(body)).encode()),
            (b"vary", b"Accept-Encoding, Host"),
            (b"cache-control", b"no-cache"),
        ]
        if compressed:
            headers.append((b"content-encoding", b"gzip"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

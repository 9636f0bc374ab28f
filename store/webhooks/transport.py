"""One HTTP POST to a webhook endpoint, to the vetted address only.

The host name is resolved and vetted (`store.webhooks.ssrf.resolve`) and the request is sent
to that IP address: the URL carries the address, ``Host`` the original host, and for https the
TLS SNI and certificate check use the host name (httpx's ``sni_hostname``). No redirect is
followed (a 3xx is a failure), proxies from the environment are ignored, the connection must
open within 5 s and the whole exchange end within 15 s (a hard deadline, not per read). Only
the first 1 KB of the response body is read and kept. No connection is reused between
deliveries: a pooled connection is keyed by address, and two host names on one address must
each get their own TLS handshake (SNI and certificate check).
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from store.webhooks import ssrf
from store.webhooks.config import WebhookConfig

MAX_BODY = 1024


_local = threading.local()


def _loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, kept for the thread's life: ``asyncio.run`` per delivery
    (a loop built and torn down each time) cost more than the HTTP exchange itself."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every delivery (building one costs tens of milliseconds)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None = None
    body: str | None = None
    retry_after: str | None = None


def _target(url: str, address: str) -> tuple[str, str, str]:
    """(URL with the address as host, Host header, host name for SNI)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{port}" if port else literal
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, host


async def _post(url: str, body: bytes, headers: dict[str, str], sni: str, config: WebhookConfig) -> Outcome:
    started = time.monotonic()
    timeout = httpx.Timeout(config.total_timeout, connect=config.connect_timeout)
    extensions = {"sni_hostname": sni} if url.startswith("https:") else {}
    # TCP_NODELAY: headers and body go out as two writes; without it Nagle's algorithm and the
    # receiver's delayed ACK add ~40 ms to every delivery.
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    transport = httpx.AsyncHTTPTransport(verify=_tls(), socket_options=nodelay, retries=0)
    async with httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    ) as client:
        async with asyncio.timeout(config.total_timeout):
            request = client.build_request("POST", url, content=body, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                kept = bytearray()
                async for chunk in response.aiter_bytes():
                    kept += chunk
                    if len(kept) >= MAX_BODY:
                        break
            finally:
                await response.aclose()
    return Outcome(
        status_code=response.status_code,
        duration_ms=int((time.monotonic() - started) * 1000),
        body=bytes(kept[:MAX_BODY]).decode("utf-8", errors="replace") or None,
        retry_after=response.headers.get("retry-after"),
    )


def post(url: str, body: bytes, headers: dict[str, str], config: WebhookConfig) -> Outcome:
    """Send; never raises for network trouble (it becomes ``error``)."""
    started = time.monotonic()

    def failed(error: str) -> Outcome:
        return Outcome(None, int((time.monotonic() - started) * 1000), error=error[:500])

    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = ssrf.resolve((parts.hostname or "").rstrip("."), port, config.allow_networks)
    except (ssrf.Refused, ValueError) as exc:
        return failed(str(exc))
    target, host_header, sni = _target(url, addresses[0])
    try:
        return _loop().run_until_complete(_post(target, body, {**headers, "Host": host_header}, sni, config))
    except TimeoutError:
        return failed(f"Timed out (the exchange must end within {config.total_timeout:g} s)")
    except httpx.ConnectTimeout:
        return failed(f"Connection timed out ({config.connect_timeout:g} s)")
    except httpx.TimeoutException:
        return failed("Timed out")
    except httpx.HTTPError as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return failed(f"Connection error: {exc}")

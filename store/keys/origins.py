"""The web origins a publishable key admits (``scheme://host[:port]``): normalizing and matching.

A publishable key lists the sites allowed to post to public capture from a browser. Origins
compare exactly after normalization (lower case, no default port, no path): the same rule a
browser applies to the ``Origin`` header it sends.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from store.errors import FieldError, ValidationFailed

MAX_ORIGINS = 20
DEFAULT_PORTS = {"http": 80, "https": 443}

# The one form of redirect target accepted: ``http(s)://host[:port]`` then an optional path,
# query and fragment of RFC 3986 characters. No userinfo (``@`` before the host), no backslash,
# no whitespace or control characters, no percent-encoding or non-ASCII in the host: exactly the
# inputs on which Python's parser and a browser's (WHATWG) disagree about the host, e.g.
# ``https://evil.example\\@www.example.com/`` (Python: www.example.com; browsers: evil.example)
# or a tab inside the host (browsers strip it). A CR/LF would also split the Location header.
_REDIRECT = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<rest>[/?#][A-Za-z0-9\-._~%!$&'()*+,;=:@/?#]*)?",
    re.IGNORECASE | re.ASCII,  # ASCII: under Unicode rules [a-z] also matches the Kelvin sign
)


def origin_of(url: str) -> str | None:
    """The origin of an absolute http(s) URL, or None if it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def redirect_origin(url: str) -> str | None:
    """The origin of a redirect target in the strict form above, or None for anything else."""
    match = _REDIRECT.fullmatch(url)
    if match is None or ".." in match["host"]:
        return None
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port is not None and not 0 < int(port) <= 65535:
        return None
    suffix = f":{int(port)}" if port is not None and int(port) != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def is_allowed_redirect(url: str, allowed: list[str] | None) -> bool:
    """A capture ``redirect`` against a key's list: strict form and an exactly matching origin."""
    origin = redirect_origin(url)
    return origin is not None and origin in (allowed or [])


def normalize_origins(origins: list[str] | None, *, publishable: bool) -> list[str] | None:
    """Check a key's ``allowedOrigins``: bare origins only, and only on publishable keys."""
    if origins is None:
        return None
    if not publishable:
        raise ValidationFailed([FieldError("allowedOrigins", "Only publishable keys have allowed origins")])
    errors: list[FieldError] = []
    normalized: list[str] = []
    for index, raw in enumerate(origins):
        origin = origin_of(raw)
        bare = (
            origin is not None
            and urlsplit(raw.strip()).path in ("", "/")
            and "?" not in raw
            and "#" not in raw
        )
        if origin is None or not bare:
            errors.append(
                FieldError(f"allowedOrigins[{index}]", "Must be an origin like https://www.example.com")
            )
        elif origin not in normalized:
            normalized.append(origin)
    if len(normalized) > MAX_ORIGINS:
        errors.append(FieldError("allowedOrigins", f"At most {MAX_ORIGINS} origins"))
    if errors:
        raise ValidationFailed(errors)
    return normalized


def is_allowed(origin: str | None, allowed: list[str] | None) -> bool:
    """An ``Origin`` header value against a key's list (no list: no browser origin is allowed)."""
    normalized = origin_of(origin) if origin else None
    return normalized is not None and normalized in (allowed or [])

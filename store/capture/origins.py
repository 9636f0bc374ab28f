"""Web origins (``scheme://host[:port]``) for publishable keys: normalizing and matching.

A publishable key lists the sites allowed to post to public capture from a browser. Origins
compare exactly after normalization (lower case, no default port, no path): the same rule a
browser applies to the ``Origin`` header it sends.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from store.errors import FieldError, ValidationFailed

MAX_ORIGINS = 20
DEFAULT_PORTS = {"http": 80, "https": 443}


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

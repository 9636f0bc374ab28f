"""Security functions named by the spec's ``x-apikeyInfoFunc`` / ``x-bearerInfoFunc``.

Connexion calls them on the event loop, so the database lookup runs in a worker thread.
Connexion checks scopes itself only for OAuth2; for our schemes each operation lists the scopes
it needs in its ``x-scopes`` extension (`handlers.http.scopes`) and we check them here. The
tenant comes from the credential alone: an ``X-Tenant-ID`` header is never read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
from connexion.security import NO_VALUE, BearerSecurityHandler

from handlers.http import scopes
from handlers.http.context import request_id
from handlers.http.identity import session_codec
from handlers.http.rate_limit import note_principal
from store.access.principals import CAPTURE_SCOPE, Principal
from store.errors import PermissionDenied, Unauthenticated
from store.keys import api_keys
from store.users import accounts as users
from store.users import sessions

ON_BEHALF_OF = "x-on-behalf-of"


def _client(request: Any) -> tuple[str | None, str | None]:
    client = request.scope.get("client")
    return (client[0] if client else None), request.headers.get("user-agent")


CREDENTIAL_HEADERS = ("x-api-key", "authorization", "x-publishable-key")


def refuse_repeated_credentials(headers: Any) -> None:
    """Starlette (and Connexion) read the first of repeated headers: two ``X-API-Key`` (or two
    ``Authorization``) would authenticate with the first, whatever the second says. 401."""
    for name in CREDENTIAL_HEADERS:
        if len(headers.getlist(name)) > 1:
            raise Unauthenticated(f"Send the {name} header once")


def _one_credential(request: Any) -> None:
    """Connexion accepts the first scheme that passes; a request carrying a bad credential
    next to a good one must not pass on the good one, so two different credentials are 401."""
    if request is None:
        return
    refuse_repeated_credentials(request.headers)
    api_key = (request.headers.get("x-api-key") or "").strip()
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if api_key and scheme and (scheme.lower() != "bearer" or token.strip() != api_key):
        raise Unauthenticated("Send one credential: X-API-Key or Authorization, not two different ones")


async def _authorize(principal: Principal, required_scopes: list[str] | None, request: Any) -> dict[str, Any]:
    _one_credential(request)
    # The operation's x-scopes, plus any still listed on its security requirement; none
    # declared at all fails closed.
    declared = scopes.required_for(request)
    if declared is None:
        raise PermissionDenied("This operation declares no scopes (x-scopes)")
    required = sorted({*declared, *(required_scopes or [])})
    # A recognised caller refused below still counts against (and is told) its rate limit.
    note_principal(request, principal)
    if CAPTURE_SCOPE in principal.scopes and CAPTURE_SCOPE not in required:
        # A publishable key sits in web pages: it captures leads and nothing else, not even
        # operations that any credential may call.
        raise PermissionDenied("A publishable key can only capture leads")
    # An API key acts as its creator; X-On-Behalf-Of makes it act as another active user,
    # which only narrows its power: the scopes are checked after, against the narrowed ones.
    on_behalf_of = request.headers.get(ON_BEHALF_OF) if request is not None else None
    if on_behalf_of is not None:
        principal = await anyio.to_thread.run_sync(users.acting_as, principal, on_behalf_of.strip())
    if not principal.has_scopes(required):
        raise PermissionDenied(f"This operation needs scope(s): {', '.join(required)}")
    ip, user_agent = _client(request)
    principal = dataclasses.replace(principal, request_id=request_id(), ip=ip, user_agent=user_agent)
    return {"sub": principal.actor_id, "scopes": sorted(principal.scopes), "principal": principal}


async def api_key_auth(
    apikey: str, required_scopes: list[str] | None = None, request: Any = None
) -> dict[str, Any]:
    principal: Principal = await anyio.to_thread.run_sync(api_keys.authenticate, apikey.strip())
    return await _authorize(principal, required_scopes, request)


async def bearer_auth(
    token: str, required_scopes: list[str] | None = None, request: Any = None
) -> dict[str, Any]:
    """``lp_...`` is an API key; anything else must be a user's session token."""
    token = token.strip()
    if token.startswith("lp_"):
        principal: Principal = await anyio.to_thread.run_sync(api_keys.authenticate, token)
    else:
        principal = await anyio.to_thread.run_sync(sessions.authenticate, token, session_codec())
    return await _authorize(principal, required_scopes, request)


async def publishable_key_auth(
    apikey: str, required_scopes: list[str] | None = None, request: Any = None
) -> dict[str, Any]:
    """The ``publishableKey`` scheme, should an operation ever require it in its ``security``
    (public capture authenticates in the store instead, see `store.capture.submissions`)."""
    from store.capture.submissions import publishable_key

    principal, _ = await anyio.to_thread.run_sync(publishable_key, apikey)
    return {"sub": principal.actor_id, "scopes": sorted(principal.scopes), "principal": principal}


def principal_of(token_info: dict[str, Any]) -> Principal:
    principal = token_info["principal"]
    assert isinstance(principal, Principal)
    return principal


class ScopedBearerSecurityHandler(BearerSecurityHandler):
    """Connexion 3.3 drops an operation's required scopes for ``http: bearer`` schemes.

    Without this, ``bearer_auth`` would get ``required_scopes=None`` and any valid token, API
    key or session, would pass every scope check. Registered in the app's ``security_map``.
    """

    def get_fn(self, security_scheme: dict[str, Any], required_scopes: list[str]) -> Any:
        func = self._resolve_func(security_scheme)
        if not func:
            return None
        check = self._generic_check(func, "Provided token is not valid")

        def wrapper(request: Any) -> Any:
            auth_type, token = self.get_auth_header_value(request)
            if auth_type != "bearer":
                return NO_VALUE
            return check(request, token, required_scopes=list(required_scopes or []))

        return wrapper


SECURITY_MAP = {"bearer": ScopedBearerSecurityHandler}

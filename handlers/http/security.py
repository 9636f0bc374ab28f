"""Security functions named by the spec's ``x-apikeyInfoFunc`` / ``x-bearerInfoFunc``.

Connexion calls them on the event loop, so a database lookup runs in a worker thread. A key
seen before is checked on the loop against its last principal (`handlers.http.credentials`) and
resolved from the database in the handler's own thread instead (`principal_of`): one thread hop
per request, and revocation is as immediate as a lookup here would make it.
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
from handlers.http.context import UNCONFIRMED, app_state, hinted_credential_var, request_id
from handlers.http.identity import session_codec
from handlers.http.rate_limit import count_deferred, note_principal, slot_of, tenant_refusal
from store.access.principals import CAPTURE_SCOPE, Principal
from store.errors import PermissionDenied, RateLimited, StoreError, Unauthenticated
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


def _required(required_scopes: list[str] | None, request: Any) -> list[str]:
    """The operation's x-scopes, plus any still listed on its security requirement; none
    declared at all fails closed."""
    declared = scopes.required_for(request)
    if declared is None:
        raise PermissionDenied("This operation declares no scopes (x-scopes)")
    return sorted({*declared, *(required_scopes or [])})


def _permit(principal: Principal, required: list[str]) -> None:
    if CAPTURE_SCOPE in principal.scopes and CAPTURE_SCOPE not in required:
        # A publishable key sits in web pages: it captures leads and nothing else, not even
        # operations that any credential may call.
        raise PermissionDenied("A publishable key can only capture leads")
    if not principal.has_scopes(required):
        raise PermissionDenied(f"This operation needs scope(s): {', '.join(required)}")


async def _authorize(
    principal: Principal, required_scopes: list[str] | None, request: Any, unconfirmed: str | None = None
) -> dict[str, Any]:
    """``unconfirmed``: the digest of a key whose principal came from `KnownKeys`, to be
    resolved again in the handler's thread (`principal_of`)."""
    _one_credential(request)
    required = _required(required_scopes, request)
    if unconfirmed is None:
        # A recognised caller refused below still counts against (and is told) its rate limit.
        # Not a hint: until `principal_of` confirms it, nothing counts, logs or shows its tenant.
        note_principal(request, principal)
    # An API key acts as its creator; X-On-Behalf-Of makes it act as another active user,
    # which only narrows its power: the scopes are checked after, against the narrowed ones.
    on_behalf_of = request.headers.get(ON_BEHALF_OF) if request is not None else None
    if on_behalf_of is not None:
        principal = await anyio.to_thread.run_sync(users.acting_as, principal, on_behalf_of.strip())
    _permit(principal, required)
    ip, user_agent = _client(request)
    principal = dataclasses.replace(principal, request_id=request_id(), ip=ip, user_agent=user_agent)
    token_info = {"sub": principal.actor_id, "scopes": sorted(principal.scopes), "principal": principal}
    if unconfirmed is not None:
        # What `principal_of` needs to confirm it: the digest, the scopes the operation needs,
        # the rate-limit slot its tenant is to be counted in (`TenantRateLimit` defers to us).
        token_info[UNCONFIRMED] = (unconfirmed, required, slot_of(getattr(request, "scope", None)))
        hinted_credential_var.set(token_info)  # for `stopped_credential`, if no handler runs
    return token_info


async def _key_auth(plaintext: str, required_scopes: list[str] | None, request: Any) -> dict[str, Any]:
    digest = api_keys.digest_of(plaintext)
    known = app_state().known_keys
    hint = known.get(digest)
    # X-On-Behalf-Of reads a user anyway (a thread hop): resolve the key fresh beside it.
    if hint is not None and (request is None or ON_BEHALF_OF not in request.headers):
        try:
            return await _authorize(hint, required_scopes, request, unconfirmed=digest)
        except PermissionDenied:
            pass  # refused on a hint: let the database decide (a revoked key is 401, not 403)
    try:
        principal: Principal = await anyio.to_thread.run_sync(api_keys.authenticate_digest, digest)
    except Unauthenticated:
        known.forget(digest)
        raise
    known.remember(digest, principal)
    return await _authorize(principal, required_scopes, request)


async def api_key_auth(
    apikey: str, required_scopes: list[str] | None = None, request: Any = None
) -> dict[str, Any]:
    return await _key_auth(apikey.strip(), required_scopes, request)


async def bearer_auth(
    token: str, required_scopes: list[str] | None = None, request: Any = None
) -> dict[str, Any]:
    """``lp_...`` is an API key; anything else must be a user's session token."""
    token = token.strip()
    if token.startswith("lp_"):
        return await _key_auth(token, required_scopes, request)
    principal = await anyio.to_thread.run_sync(sessions.authenticate, token, session_codec())
    return await _authorize(principal, required_scopes, request)


def principal_of(token_info: dict[str, Any]) -> Principal:
    """The request's principal, for a handler (in its thread, before it touches the store).

    A key checked on a hint (`handlers.http.credentials`) is resolved from the database here,
    once per request: revoked, expired or no longer backed by its creator is 401, with the
    hint dropped from token_info so neither the access log nor the rate-limit headers name its
    tenant; a changed power is checked again against the operation's scopes and replaces the
    hint. The confirmed principal is then counted against its tenant (`TenantRateLimit` left
    it to us): 429 when over budget, as the middleware would have answered; a 403 for a lost
    scope is counted too, as a refused recognised caller always is.
    """
    principal = token_info.get("principal")
    if not isinstance(principal, Principal):
        raise Unauthenticated("Invalid API key")  # refused already on this request
    pending = token_info.pop(UNCONFIRMED, None)
    if pending is None:
        return principal
    digest, required, slot = pending
    known = app_state().known_keys
    try:
        fresh = api_keys.authenticate_digest(digest)
    except Exception as exc:  # refused, or not confirmed at all (a store outage): never trusted
        if isinstance(exc, Unauthenticated):
            known.forget(digest)
        del token_info["principal"]
        raise
    stamped = dataclasses.replace(
        fresh, request_id=principal.request_id, ip=principal.ip, user_agent=principal.user_agent
    )
    changed = stamped != principal
    if changed:
        known.remember(digest, fresh)
        token_info.update(principal=stamped, sub=stamped.actor_id, scopes=sorted(stamped.scopes))
    verdict = count_deferred(slot, stamped)  # sync, in this thread: no extra hop
    if changed:
        _permit(fresh, required)
    refused = tenant_refusal(verdict)
    if refused is not None:
        raise refused
    return stamped


def stopped_credential() -> StoreError | None:
    """For an error answer (in its worker thread), when no handler confirmed a key checked only
    on a hint: the 401 it would have been without the hint if the database no longer accepts
    it (not the 422 of a bad body), else its tenant counted as `TenantRateLimit` would have
    before validation: the 429 if over budget. None when the original answer stands."""
    token_info = hinted_credential_var.get()
    if token_info is None or UNCONFIRMED not in token_info:
        return None
    try:
        principal_of(token_info)
    except (Unauthenticated, RateLimited) as exc:
        return exc
    except PermissionDenied:
        return None  # still a valid key (counted), now short of a scope: the answer stands
    return None


async def principal_of_async(token_info: dict[str, Any]) -> Principal:
    """`principal_of` for an async handler: its database part in a worker thread, off the loop."""
    if UNCONFIRMED in token_info:
        principal: Principal = await anyio.to_thread.run_sync(principal_of, token_info)
        return principal
    return principal_of(token_info)


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

"""Operations built once: the same decorated handler and validators serve every request, and the
answers are exactly those of Connexion's per-request build (valid, invalid body, bad parameter)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from handlers.http import connexion_pinned
from tests.support import SeededTenant, lead_body


def _api_operations(middleware: Any, operation_id: str) -> Any:
    for apis in middleware.apis.values():
        for api in apis:
            for routed_id, operation in api.operations.items():
                if routed_id and routed_id.endswith(operation_id):
                    return operation
    raise AssertionError(f"{operation_id} not routed")


def _validation_middleware(app: Any) -> Any:
    """The request-validation middleware Connexion built for ``app`` (after its first request)."""
    for middleware in app.middleware.middleware_stack or []:
        if isinstance(middleware, connexion_pinned.CachedRequestValidationMiddleware):
            return middleware
    raise AssertionError("the cached request validation middleware is not in the stack")


def test_the_app_uses_the_cached_operations(app: Any, client: TestClient, tenant: SeededTenant) -> None:
    assert client.get("/v1/leads", headers=tenant.headers).status_code == 200
    handler_op = _api_operations(app._middleware_app, "createLead")
    assert isinstance(handler_op, connexion_pinned.CachedAsyncOperation)
    validation_op = _api_operations(_validation_middleware(app), "createLead")
    assert isinstance(validation_op, connexion_pinned.CachedRequestValidationOperation)


def test_each_operation_builds_its_handler_and_validators_once(
    app: Any, client: TestClient, tenant: SeededTenant
) -> None:
    for i in range(2):
        created = client.post(
            "/v1/leads", json=lead_body(email=f"once{i}@example.com"), headers=tenant.headers
        )
        assert created.status_code == 201, created.text
    handler_op = _api_operations(app._middleware_app, "createLead")
    assert handler_op.fn is handler_op.fn
    validation_op = _api_operations(_validation_middleware(app), "createLead")
    parameters = validation_op._parameter_validator
    [body] = [v for v in validation_op._body_validators.values() if v is not None]
    client.post("/v1/leads", json=lead_body(email="once2@example.com"), headers=tenant.headers)
    assert validation_op._parameter_validator is parameters
    assert [v for v in validation_op._body_validators.values() if v is not None] == [body]
    assert body._validator is body._validator  # the compiled schema validator is kept too


def test_cached_validators_still_reject_every_bad_request(client: TestClient, tenant: SeededTenant) -> None:
    for _ in range(2):  # the second pass runs on the validators the first one built
        bad_body = client.post("/v1/leads", json={"email": "x"}, headers=tenant.headers)
        assert bad_body.status_code == 422
        fields = {e["field"] for e in bad_body.json()["errors"]}
        assert {"firstName", "lastName"} <= fields
        bad_param = client.get("/v1/leads?limit=abc", headers=tenant.headers)
        assert bad_param.status_code == 400
        unknown = client.get("/v1/leads?nope=1", headers=tenant.headers)
        assert unknown.status_code == 422
        ok = client.get("/v1/leads?limit=5", headers=tenant.headers)
        assert ok.status_code == 200 and ok.json()["meta"]["pagination"]["limit"] == 5


def test_connexion_is_the_version_the_pinned_module_was_written_for() -> None:
    """Fails on any Connexion upgrade: re-read the parent methods `connexion_pinned` copies (and
    the default stack `create_app` lists) against the new release, then move `WRITTEN_FOR`."""
    assert connexion_pinned.installed_version() == connexion_pinned.WRITTEN_FOR


def test_create_app_lists_connexions_whole_default_stack_in_order(app: Any) -> None:
    """Our middlewares sit between Connexion's own, which keep Connexion's order; only request
    validation and routing are swapped for the pinned ones."""
    from functools import partial

    from connexion.middleware import ConnexionMiddleware
    from connexion.middleware.request_validation import RequestValidationMiddleware
    from connexion.middleware.routing import RoutingMiddleware

    listed = [m.func if isinstance(m, partial) else m for m in app.middleware.middlewares]
    swapped = {
        RequestValidationMiddleware: connexion_pinned.CachedRequestValidationMiddleware,
        RoutingMiddleware: connexion_pinned.IndexedRoutingMiddleware,
    }
    stock = [swapped.get(m, m) for m in ConnexionMiddleware.default_middlewares]
    assert connexion_pinned.middlewares() == stock
    assert [m for m in listed if m in stock] == stock
    ours = [m.__name__ for m in listed if m not in stock]
    assert ours == [
        "RequestContext", "Observe", "ConsoleStatic", "BodyLimit", "ServedSpec",
        "ObserveRoute", "IpRateLimit", "TenantRateLimit",
    ]  # fmt: skip


def test_parameter_names_map_as_connexion_maps_them(client: TestClient, tenant: SeededTenant) -> None:
    """The memoised name sanitizer answers exactly as Connexion's own functions, and the handler
    gets the pythonic names (``assignedTo`` -> ``assigned_to``, ``scoreMin`` -> ``score_min``)."""
    from connexion.decorators.parameter import pythonic, sanitized

    for name in ("assignedTo", "scoreMin", "createdAfter", "filter[x]", "id", "limit", "9lives", "type"):
        assert connexion_pinned._SANITIZERS[pythonic](name) == pythonic(name)
        assert connexion_pinned._SANITIZERS[sanitized](name) == sanitized(name)
    created = client.post("/v1/leads", json=lead_body(score=70), headers=tenant.headers)
    assert created.status_code == 201, created.text
    listed = client.get("/v1/leads", params={"scoreMin": 60, "scoreMax": 80}, headers=tenant.headers)
    assert [lead["id"] for lead in listed.json()["data"]] == [created.json()["data"]["id"]]
    assert client.get("/v1/leads", params={"scoreMin": 71}, headers=tenant.headers).json()["data"] == []


def _api_router(app: Any) -> Any:
    """The `IndexedRouter` of the app's ``/v1`` API (after its first request)."""
    for middleware in app.middleware.middleware_stack or []:
        if isinstance(middleware, connexion_pinned.IndexedRoutingMiddleware):
            [mount] = [r for r in middleware.router.routes if getattr(r, "path", None) == "/v1"]
            assert isinstance(mount.app, connexion_pinned.IndexedRouter)
            return mount.app
    raise AssertionError("the indexed routing middleware is not in the stack")


def _recording_routes(routes: list[Any]) -> list[Any]:
    """Copies of ``routes`` (same paths and methods) whose endpoints say which one ran."""
    from starlette.routing import Route

    class Endpoint:  # an ASGI app (not a function: Starlette would take that for a view)
        def __init__(self, index: int) -> None:
            self.index = index

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            scope["chosen"] = self.index

    return [
        Route(route.path, endpoint=Endpoint(i), methods=sorted(route.methods or []) or None)
        for i, route in enumerate(routes)
    ]


def _resolve(router: Any, method: str, path: str) -> tuple[Any, ...]:
    """(route index or None, status sent, path params) as ``router`` answers ``method path``."""
    import asyncio

    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    sent: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    asyncio.run(router(scope, receive, send))
    return scope.get("chosen"), tuple(sent), scope.get("path_params")


def test_the_indexed_router_picks_the_route_starlette_picks(
    app: Any, client: TestClient, tenant: Any
) -> None:
    """Over the spec's own routes, any method, paths made from the templates with any segment
    text (and others): the same route, the same 404/405, the same path parameters."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from starlette.routing import Router

    assert client.get("/v1/leads", headers=tenant.headers).status_code == 200
    routes = _recording_routes(_api_router(app).routes)
    stock = Router(routes=routes, redirect_slashes=False)
    indexed = connexion_pinned.IndexedRouter(routes=routes, redirect_slashes=False)
    templates = sorted({route.path for route in routes})
    segment = st.text(alphabet="abcXYZ019-_.~%/", min_size=0, max_size=12)

    @st.composite
    def paths(draw: Any) -> str:
        if draw(st.booleans()):
            return "/" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz/{}-", max_size=30))
        template = draw(st.sampled_from(templates))
        parts = [draw(segment) if p.startswith("{") else p for p in template.split("/")]
        return "/".join(parts) + draw(st.sampled_from(["", "", "/", "/x"]))

    methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(method=methods, path=paths())
    def check(method: str, path: str) -> None:
        assert _resolve(indexed, method, path) == _resolve(stock, method, path)

    check()


def test_the_security_signature_memo_answers_as_connexion_does() -> None:
    from connexion.security import AbstractSecurityHandler

    from handlers.http import security

    def with_kwargs(token: str, **kwargs: Any) -> None: ...

    def bare(token: str) -> None: ...

    for func in (security.api_key_auth, security.bearer_auth, with_kwargs, bare):
        for keyword in ("required_scopes", "request", "other"):
            expected = AbstractSecurityHandler._accepts_kwarg(func, keyword)
            assert connexion_pinned._accepts_kwarg(func, keyword) is expected
    for name, cls in connexion_pinned.security_map(security.SECURITY_MAP).items():
        assert cls._accepts_kwarg is connexion_pinned._accepts_kwarg, name
    bearer = connexion_pinned.security_map(security.SECURITY_MAP)["bearer"]
    assert issubclass(bearer, security.ScopedBearerSecurityHandler)


def test_sync_handlers_run_on_the_handler_pool(app: Any, client: TestClient, tenant: SeededTenant) -> None:
    """The pinned decorator hands sync handlers to `handler_threads`, and they still see the
    request's context (its request id comes back in the envelope's meta)."""
    from handlers.http import handler_threads

    pool = handler_threads.pool()
    reply = client.get("/v1/leads", headers={**tenant.headers, "X-Request-ID": "pinned-pool-1"})
    assert reply.status_code == 200
    assert pool.size >= 1
    assert reply.headers["x-request-id"] == "pinned-pool-1"
    assert "pinned-pool-1" in reply.text

"""Connexion's routing with the API's routes indexed by method (`IndexedRouter`)."""

from __future__ import annotations

from typing import Any

from connexion.middleware.routing import RoutingAPI, RoutingMiddleware
from starlette._utils import get_route_path
from starlette.routing import Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send


class IndexedRouter(Router):
    """A Starlette `Router` that finds a full match without trying every route on the way.

    Starlette tries each route in order (a regex, a dict, a path-params copy each), ~6 % of a
    GET's CPU on our ~50 operations. The first route to match fully is the first *plain*
    `Route` whose methods include the request's and whose regex matches: a route of another
    method can only match partially, which matters only when nothing matches fully. So this
    tries, per method, only those routes, in their order, and hands the winner to Starlette's
    own `Route.matches`/`handle`; no full match (a 405, a redirect, a 404) or any route that is
    not a plain `Route` goes to the parent's `app` unchanged.
    """

    _index: dict[str, list[tuple[Any, Route]]] | None = None
    _indexed_routes = -1

    def _candidates(self, method: str) -> list[tuple[Any, Route]] | None:
        if self._indexed_routes != len(self.routes):  # routes are added at startup only
            plain = all(type(route) is Route for route in self.routes)
            self._index = {} if plain else None
            self._indexed_routes = len(self.routes)
        if self._index is None:
            return None
        candidates = self._index.get(method)
        if candidates is None:
            candidates = [
                (route.path_regex, route)
                for route in self.routes
                if isinstance(route, Route) and (route.methods is None or method in route.methods)
            ]
            # Kept only for a method some route declares: a client can send any method string,
            # and one entry per string would grow without bound.
            if any(route.methods is not None and method in route.methods for _, route in candidates):
                self._index[method] = candidates
        return candidates

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            candidates = self._candidates(scope["method"])
            if candidates is not None:
                path = get_route_path(scope)
                for regex, route in candidates:
                    if regex.match(path):
                        match, child_scope = route.matches(scope)
                        if match is Match.FULL:
                            scope.setdefault("router", self)
                            scope["route"] = route
                            scope.update(child_scope)
                            await route.handle(scope, receive, send)
                            return
                        break
        await super().app(scope, receive, send)


class IndexedRoutingAPI(RoutingAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stock: Router = getattr(self, "router")  # noqa: B009 (set by the untyped parent)
        self.router = IndexedRouter(routes=stock.routes, default=stock.default)


class IndexedRoutingMiddleware(RoutingMiddleware):
    """`RoutingMiddleware` whose API routers are `IndexedRouter`s; `add_api` is the parent's."""

    def add_api(
        self,
        specification: Any,
        base_path: str | None = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        api = IndexedRoutingAPI(
            specification, base_path=base_path, arguments=arguments, next_app=self.app, **kwargs
        )
        for route in self.router.routes:
            if isinstance(route, Mount) and route.path == api.base_path:
                route.app.default = api.router  # type: ignore[attr-defined]
        self.router.mount(api.base_path, app=api.router)

"""Serves the console's static files at ``/console/``, outside ``/v1``, with strict headers.

The console is a client of the public API only, so this module knows nothing of leads or
sessions: it answers GET/HEAD for the files shipped in ``static/`` (listed once at startup, so
no request path ever reaches the file system and no traversal is possible) and leaves every
other path to the API. Every answer under ``/console`` -- files, redirects, 404s -- carries the
Content-Security-Policy and its companions: the page may run only its own scripts (no inline
code, no eval), talk only to its own origin and never be framed.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/console"
STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # New code takes effect on the next load (the files are small); no stale console after an upgrade.
    "Cache-Control": "no-cache",
}
# Module scripts are refused unless served with a JavaScript type (and nosniff is on).
MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}


def shipped_files(root: Path = STATIC_DIR) -> dict[str, Path]:
    """URL path (below the prefix) -> file, for every servable file; ``/`` is the index."""
    files = {
        "/" + path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in MEDIA_TYPES
    }
    files["/"] = root / "index.html"
    return files


class ConsoleStatic:
    """ASGI middleware: answers ``/console`` and below, passes everything else on."""

    def __init__(self, app: ASGIApp, root: Path = STATIC_DIR) -> None:
        self.app = app
        self.files = shipped_files(root)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        response = self._respond(scope["method"], path[len(PREFIX) :])
        response.headers.update(SECURITY_HEADERS)
        await response(scope, receive, send)

    def _respond(self, method: str, subpath: str) -> Response:
        if method not in ("GET", "HEAD"):
            return PlainTextResponse("Method not allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        if subpath == "":
            return RedirectResponse(PREFIX + "/", status_code=308)
        file = self.files.get(subpath)
        if file is None:
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(file, media_type=MEDIA_TYPES[file.suffix])

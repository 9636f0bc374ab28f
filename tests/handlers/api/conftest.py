"""A real server for the concurrency tests: uvicorn on a free port in a thread of this process.

The app is built like production's (`create_app`), on the suite's fresh database (SQLite or
PostgreSQL), with every plan's request rate lifted so that the tests meet the rules under test
(row locks, quotas, the sign-in throttle) rather than the rate limiter. Requests come from
real sockets, and Connexion runs the handlers in its thread pool, as in production.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from handlers.app import create_app
from handlers.settings import Settings
from store import db

UNLIMITED = tuple((plan, 1_000_000, 100_000) for plan in ("free", "starter", "pro", "team", "enterprise"))


@pytest.fixture(scope="module")
def server(app: Any, settings: Settings) -> Iterator[str]:
    """The base URL of a running server (``http://127.0.0.1:<port>``)."""
    original = db.database.obj
    real = dataclasses.replace(
        settings, rate_limit_plans=UNLIMITED, rate_limit_per_ip=None, capture_rate_per_ip=None
    )
    application = create_app(real)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(application, log_level="warning", lifespan="off", proxy_headers=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not running.started:
            if not thread.is_alive():
                raise RuntimeError("the test server did not start")
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        running.should_exit = True
        thread.join()
        sock.close()
        opened = db.database.obj
        db.bind(original)
        if opened is not original:
            close_all = getattr(opened, "close_all", None)
            close_all() if close_all else opened.close()

"""A real ``leadpipe serve`` on a free port with a fresh SQLite database and a seeded tenant.

For the checks that must go through a real server and socket, as their users would: the
generated-client scenario (tests/client_scenario.py) and the ``st run`` CLI contract test.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.server_support import create_tenant, serving


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # e.g. http://127.0.0.1:8123/v1
    api_key: str
    owner_email: str
    tenant_id: str

    @property
    def spec_url(self) -> str:
        return f"{self.base_url}/openapi.json"


@contextlib.contextmanager
def live_server(**env_overrides: str) -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="leadpipe-live-") as scratch:
        env = {
            "LEADPIPE_DATABASE_URL": f"sqlite:///{Path(scratch) / 'leadpipe.db'}",
            "LEADPIPE_SECRET_KEY": "live-server-secret-key-0123456789abcdef",
            "LEADPIPE_VALIDATE_RESPONSES": "true",
            "LEADPIPE_RATE_LIMIT_PER_IP": "off",
            "LEADPIPE_RATE_LIMITS": "enterprise=10000000/1000000",
            "LEADPIPE_LOG_LEVEL": "WARNING",
            **env_overrides,
        }
        email = "owner@live.example.com"
        database_url = env.pop("LEADPIPE_DATABASE_URL")
        tenant = create_tenant(database_url, "live", email, **env)
        with serving(Path(scratch), LEADPIPE_DATABASE_URL=database_url, **env) as server:
            yield LiveServer(f"{server.base}/v1", tenant["apiKey"], email, tenant["tenantId"])

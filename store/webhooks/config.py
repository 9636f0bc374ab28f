"""What the delivery side needs from the settings, handed down once at startup.

Jobs run in worker threads with no request (and so no app state) around them; the HTTP layer
reads `handlers.settings.Settings` and calls `configure` (the layers point one way: handlers
-> store). Until then the defaults below apply, which are the settings' defaults.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 1 d, 1 d, 1 d: ~4.2 days, so even with the -10 %
# jitter the last attempt comes more than 3 days after the first.
DEFAULT_RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400, 86400)


@dataclass(frozen=True)
class WebhookConfig:
    secret_keys: tuple[str, ...] = ("unconfigured",)
    production: bool = False
    retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS
    allow_networks: tuple[IPNetwork, ...] = ()
    max_in_flight: int = 4
    event_retention: dt.timedelta = field(default=dt.timedelta(days=30))
    # How long an endpoint may fail without one success before it is disabled.
    disable_after: dt.timedelta = field(default=dt.timedelta(days=5))
    # Retry-After on 429/503 is honoured up to this long.
    retry_after_cap: dt.timedelta = field(default=dt.timedelta(hours=6))
    connect_timeout: float = 5.0
    total_timeout: float = 15.0


_current = WebhookConfig()


def configure(config: WebhookConfig) -> None:
    global _current
    _current = config


def current() -> WebhookConfig:
    return _current

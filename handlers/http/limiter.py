"""A reusable rate limiter: a per-minute limit with a burst, over memory or Redis.

It knows nothing of tenants or plans (the middleware in `handlers.http.rate_limit` maps
a caller to a `Policy`), so any endpoint with its own budget (public capture, logins) can use
the same object: ``verdict = limiter.hit(Policy("capture", 30, 5), "ip", address)``.

Why two moving windows and not a hand-written token bucket: the plan table promises
"N requests per minute, burst B". A token bucket of size B refilled at N/60 per second says
exactly that, but the maintained `limits` library (memory and Redis back ends, atomic Lua on
Redis) has no token bucket. A *moving* window of B requests per W = B*60/N seconds gives the
same guarantees: at most B back to back, and at most N in any minute on average, with no
doubled burst at a window edge as fixed windows allow. The per-minute window of N is kept as
well, so the advertised limit also holds exactly when W does not divide a minute (custom
enterprise limits). Moving windows cost memory proportional to the limit per key (a list of
timestamps), which the plan limits bound.

State lives in process (``memory://``) for one worker, or in Redis (``redis://host:port/db``)
so several workers and hosts share one budget. Redis calls block on the network, so the async
entry point runs them in a worker thread; memory calls are microseconds and run inline. If
the store fails, the limiter fails open (logs, allows): an outage of the counters must not
become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from handlers.http.windows import MemoryWindows

log = logging.getLogger("leadpipe.ratelimit")
# After a store failure, requests go through uncounted for this many seconds before retrying it.
RETRY_STORE_AFTER = 5.0


@dataclass(frozen=True)
class Policy:
    """``limit`` requests per minute, at most ``burst`` of them back to back."""

    name: str
    limit: int
    burst: int

    @property
    def burst_window(self) -> int:
        """Seconds over which ``burst`` requests are allowed: the time the limit needs to earn them."""
        return max(1, math.ceil(self.burst * 60 / self.limit))

    @property
    def header(self) -> str:
        """The IETF ``RateLimit-Policy`` value: the minute quota and the burst quota."""
        return f'"{self.name}";q={self.limit};w=60, "{self.name}-burst";q={self.burst};w={self.burst_window}'

    def items(self) -> tuple[RateLimitItem, RateLimitItem]:
        return RateLimitItemPerSecond(self.burst, self.burst_window), RateLimitItemPerMinute(self.limit, 1)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one hit (or a peek): what the client may still do, and when it refills."""

    policy: Policy
    allowed: bool
    remaining: int
    reset_at: float  # epoch seconds at which the constraining window frees capacity
    now: float

    @property
    def reset_after(self) -> int:
        return max(0, math.ceil(self.reset_at - self.now))

    @property
    def retry_after_ms(self) -> int:
        return 0 if self.allowed else max(1, math.ceil((self.reset_at - self.now) * 1000))

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The de-facto ``X-RateLimit-*`` trio plus the IETF draft's structured pair.

        ``X-RateLimit-Reset`` is a Unix timestamp in seconds (GitHub's convention); the IETF
        ``t`` parameter is seconds from now.
        """
        p = self.policy
        values = {
            b"x-ratelimit-limit": str(p.limit),
            b"x-ratelimit-remaining": str(self.remaining),
            b"x-ratelimit-reset": str(math.ceil(self.reset_at)),
            b"ratelimit-policy": p.header,
            b"ratelimit": f'"{p.name}";r={self.remaining};t={self.reset_after}',
        }
        return [(name, value.encode("latin-1")) for name, value in values.items()]


class Limiter:
    """Moving-window counting over a `limits` storage URL (``memory://`` or ``redis://...``)."""

    def __init__(self, url: str = "memory://", namespace: str = "leadpipe") -> None:
        options: dict[str, float | str | bool] = {}
        if url.startswith(("redis://", "rediss://")):
            # Bounded waits: a stalled Redis delays a request by at most this, then fails open.
            options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        self.url = url
        self.remote = not url.startswith("memory://")
        self.namespace = namespace
        # In memory, our own windows: `limits`' memory storage starts a timer thread per hit.
        self._storage: Any
        self._strategy: MemoryWindows | MovingWindowRateLimiter
        if self.remote:
            self._storage = storage_from_string(url, **options)
            assert isinstance(self._storage, Storage) and isinstance(self._storage, MovingWindowSupport)
            self._strategy = MovingWindowRateLimiter(self._storage)
        else:  # our own windows: `limits`' memory storage starts a timer thread per hit
            self._storage = self._strategy = MemoryWindows()
        self._down_until = 0.0

    def _key(self, identifiers: tuple[str, ...]) -> tuple[str, ...]:
        return (self.namespace, *identifiers)

    def hit(self, policy: Policy, *identifiers: str) -> Verdict:
        """Count one request; the burst window first, so a refused request spends no minute budget."""
        key = self._key(identifiers)
        burst, minute = policy.items()

        def count() -> Verdict:
            allowed = self._strategy.hit(burst, *key) and self._strategy.hit(minute, *key)
            return self._verdict(policy, key, allowed)

        return self._guarded(policy, count)

    def peek(self, policy: Policy, *identifiers: str) -> Verdict:
        """The current state without counting a request (for ``GET /v1/tenant``)."""
        key = self._key(identifiers)
        return self._guarded(policy, lambda: self._verdict(policy, key, True))

    def _guarded(self, policy: Policy, call: Callable[[], Verdict]) -> Verdict:
        """Fail open when the store fails, and stop asking it for a while (no timeout per request)."""
        now = time.time()
        if now >= self._down_until:
            try:
                return call()
            except Exception:  # the counters' store is down: fail open, loudly
                log.exception(
                    "rate-limit store %s failed; allowing requests for %s s", self.url, RETRY_STORE_AFTER
                )
                self._down_until = time.time() + RETRY_STORE_AFTER
        return Verdict(policy, True, policy.burst, now, now)

    def _verdict(self, policy: Policy, key: tuple[str, ...], allowed: bool) -> Verdict:
        stats = [self._strategy.get_window_stats(item, *key) for item in policy.items()]
        now = time.time()
        remaining = max(0, min(s.remaining for s in stats))
        if remaining >= policy.burst:
            reset_at = now  # nothing in use: the full budget is there now
        elif allowed:
            # The window that will run dry first decides when the client gets capacity back.
            reset_at = min(stats, key=lambda s: s.remaining).reset_time
        else:
            reset_at = max((s.reset_time for s in stats if s.remaining <= 0), default=now)
        return Verdict(policy, allowed, remaining, max(reset_at, now), now)

    async def hit_async(self, policy: Policy, *identifiers: str) -> Verdict:
        if self.remote:
            return await anyio.to_thread.run_sync(self.hit, policy, *identifiers)
        return self.hit(policy, *identifiers)

    async def peek_async(self, policy: Policy, *identifiers: str) -> Verdict:
        if self.remote:
            return await anyio.to_thread.run_sync(self.peek, policy, *identifiers)
        return self.peek(policy, *identifiers)

    def ping(self) -> bool:
        """Does the counters' store answer? (readiness; memory always does)."""
        try:
            return bool(self._storage.check())
        except Exception:  # any failure to answer is "not ready", never a 500 of the probe
            return False

    def reset(self) -> None:
        """Forget every counter (tests, and an operator's escape hatch)."""
        self._storage.reset()

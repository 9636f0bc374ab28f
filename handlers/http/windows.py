"""Moving windows in process memory, for `handlers.http.limiter` with ``memory://``.

The same calls and the same arithmetic as `limits`' memory storage driven by
`limits.strategies.MovingWindowRateLimiter`, without its expiry thread: that storage
starts a `threading.Timer` on every hit whose previous timer has fired (a thread start per
request under steady load, bench/RESULTS.md). Here a window drops its expired entries when it is
used, and a sweep every `SWEEP_EVERY` acquisitions forgets windows nobody used for their expiry.
"""

from __future__ import annotations

import bisect
import threading
import time

from limits import RateLimitItem
from limits.util import WindowStats

SWEEP_EVERY = 10_000


class MemoryWindows:
    def __init__(self) -> None:
        # Per key: hit times, newest first (as `limits` keeps them), and the window's length.
        self._hits: dict[str, list[float]] = {}
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Record ``amount`` hits now unless ``limit`` of them already fall within ``expiry`` s."""
        if amount > limit:
            return False
        with self._lock:
            self._maybe_sweep()
            now = time.time()
            hits = self._hits.setdefault(key, [])
            self._expiry[key] = expiry
            if len(hits) > limit - amount and hits[limit - amount] >= now - expiry:
                return False
            hits[:0] = [now] * amount
            del hits[limit:]  # older hits can no longer decide anything in this window
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest hit within the window and how many hits it holds (now and 0 if none)."""
        now = time.time()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return now, 0
            inside = bisect.bisect_left(hits, -(now - expiry), key=lambda moment: -moment)
            return (hits[inside - 1], inside) if inside else (now, 0)

    def _maybe_sweep(self) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        now = time.time()
        for key in [k for k, hits in self._hits.items() if not hits or hits[0] < now - self._expiry[k]]:
            self._hits.pop(key, None)
            self._expiry.pop(key, None)

    # The two calls of `limits.strategies.MovingWindowRateLimiter` that `Limiter` makes.
    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self.acquire_entry(item.key_for(*identifiers), item.amount, item.get_expiry())

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        start, count = self.get_moving_window(item.key_for(*identifiers), item.amount, item.get_expiry())
        return WindowStats(start + item.get_expiry(), item.amount - count)

    def check(self) -> bool:
        return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._expiry.clear()

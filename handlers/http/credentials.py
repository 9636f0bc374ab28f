"""API keys this process has recently authenticated: a hint that saves the security check its
own trip to a worker thread, never the word that lets a request through.

Connexion calls the security functions on the event loop, and a database lookup there needs a
worker thread; the sync handler then needs another. Two thread hops cost more CPU than the
rest of a ``GET`` lead (bench/RESULTS.md). So a key seen before is checked on the loop against
the principal it resolved to last time (its scopes only), and the handler's own thread resolves
it again from the database (`handlers.http.security.principal_of`, which every handler calls
before it touches the store). Whatever changed in between (a revoke from another worker or the
CLI, a rotation, the creator deactivated or demoted, a new plan) is seen there, on the same
request: a key no longer valid is 401 before the handler does anything, one whose power changed
is re-checked with its new power. Nothing acts on the hint's tenant before that: the tenant
rate limit counts the confirmed principal there (`handlers.http.rate_limit.count_deferred`),
and the access log names it only once confirmed.

Keyed by the key's SHA-256 (never the plaintext), bounded, per app.
"""

from __future__ import annotations

import threading

from store.access.principals import Principal

MAX_KEYS = 4096


class KnownKeys:
    def __init__(self, size: int = MAX_KEYS) -> None:
        self._size = size
        self._principals: dict[str, Principal] = {}
        self._lock = threading.Lock()  # the loop reads and fills it; handler threads forget

    def get(self, digest: str) -> Principal | None:
        return self._principals.get(digest)

    def remember(self, digest: str, principal: Principal) -> None:
        with self._lock:
            if digest not in self._principals and len(self._principals) >= self._size:
                self._principals.pop(next(iter(self._principals)))  # the oldest one in
            self._principals[digest] = principal

    def forget(self, digest: str) -> None:
        with self._lock:
            self._principals.pop(digest, None)

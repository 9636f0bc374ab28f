"""The reusable limiter, on both back ends: burst, minute budget, headers, shared state."""

from __future__ import annotations

import pytest

from handlers.http.limiter import Limiter, Policy
from tests.ratelimit_support import BACKENDS, backend_url, require_redis, unique


@pytest.fixture(params=BACKENDS)
def limiter(request: pytest.FixtureRequest) -> Limiter:
    return Limiter(backend_url(request.param), namespace=unique("ns"))


def test_burst_is_allowed_back_to_back_then_refused(limiter: Limiter) -> None:
    policy = Policy("free", 60, 10)
    verdicts = [limiter.hit(policy, "tenant", "a") for _ in range(12)]

    assert [v.allowed for v in verdicts] == [True] * 10 + [False, False]
    assert [v.remaining for v in verdicts[:10]] == list(range(9, -1, -1))
    refused = verdicts[-1]
    assert refused.remaining == 0
    assert 0 < refused.retry_after_ms <= 10_000  # one slot frees when the oldest hit is 10 s old


def test_identifiers_have_separate_budgets(limiter: Limiter) -> None:
    policy = Policy("free", 60, 10)
    for _ in range(10):
        limiter.hit(policy, "tenant", "a")

    assert not limiter.hit(policy, "tenant", "a").allowed
    assert limiter.hit(policy, "tenant", "b").allowed


def test_peek_does_not_count(limiter: Limiter) -> None:
    policy = Policy("starter", 300, 30)
    limiter.hit(policy, "tenant", "a")

    assert [limiter.peek(policy, "tenant", "a").remaining for _ in range(3)] == [29, 29, 29]


@pytest.mark.parametrize(
    ("limit", "burst", "window"),
    [(60, 10, 10), (300, 30, 6), (1_000, 100, 6), (5_000, 500, 6), (100, 7, 5), (10, 10, 60)],
)
def test_burst_window_is_the_time_needed_to_earn_the_burst(limit: int, burst: int, window: int) -> None:
    assert Policy("p", limit, burst).burst_window == window


def test_the_minute_limit_holds_when_the_burst_window_does_not_divide_a_minute(limiter: Limiter) -> None:
    # burst 5 of 7/min: the burst window is ceil(5*60/7) = 43 s, and the minute cap is 7.
    policy = Policy("odd", 7, 5)
    assert [limiter.hit(policy, "k").allowed for _ in range(6)] == [True] * 5 + [False]


def test_headers_carry_both_conventions(limiter: Limiter) -> None:
    verdict = limiter.hit(Policy("free", 60, 10), "tenant", "a")
    headers = {name.decode(): value.decode() for name, value in verdict.headers()}

    assert headers["x-ratelimit-limit"] == "60"
    assert headers["x-ratelimit-remaining"] == "9"
    assert int(headers["x-ratelimit-reset"]) >= int(verdict.now)
    assert headers["ratelimit-policy"] == '"free";q=60;w=60, "free-burst";q=10;w=10'
    assert headers["ratelimit"].startswith('"free";r=9;t=')


def test_two_limiters_on_one_redis_share_one_budget() -> None:
    """Two workers (two limiter objects, as two processes would have) see one budget."""
    url, namespace = require_redis(), unique("ns")
    worker_a, worker_b = Limiter(url, namespace=namespace), Limiter(url, namespace=namespace)
    policy = Policy("free", 60, 10)

    verdicts = [(worker_a if i % 2 else worker_b).hit(policy, "tenant", "shared") for i in range(11)]

    assert [v.allowed for v in verdicts] == [True] * 10 + [False]
    assert worker_a.peek(policy, "tenant", "shared").remaining == 0


def test_memory_limiters_do_not_share() -> None:
    """In-process state is per worker: the reason several workers need Redis."""
    policy = Policy("free", 60, 10)
    first, second = Limiter("memory://"), Limiter("memory://")
    for _ in range(10):
        first.hit(policy, "tenant", "x")

    assert not first.hit(policy, "tenant", "x").allowed
    assert second.hit(policy, "tenant", "x").allowed


def test_an_unreachable_store_fails_open() -> None:
    """Losing the counters must not take the API down with them."""
    limiter = Limiter("redis://127.0.0.1:1/0", namespace=unique("ns"))
    verdicts = [limiter.hit(Policy("free", 60, 10), "tenant", "a") for _ in range(12)]

    assert all(v.allowed for v in verdicts)

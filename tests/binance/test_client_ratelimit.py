"""The rate limiter: weights, limits from exchangeInfo, header corrections, 429 pauses, 418 bans."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tradewire.binance.client import BinanceClient
from tradewire.binance.ratelimit import RateLimit, RateLimiter, request_weight
from tradewire.errors import IPBanned, RateLimitExceeded
from tradewire.exchange import LocalExchange

MINUTE = 60_000


def test_weights_follow_binance_docs() -> None:
    assert request_weight("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 100}) == 5
    assert request_weight("GET", "/api/v3/depth", {"limit": 500}) == 25
    assert request_weight("GET", "/api/v3/depth", {"limit": 1000}) == 50
    assert request_weight("GET", "/api/v3/depth", {"limit": 5000}) == 250
    assert request_weight("GET", "/api/v3/exchangeInfo") == 20
    assert request_weight("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}) == 6
    assert request_weight("GET", "/api/v3/openOrders", {}) == 80
    assert request_weight("GET", "/api/v3/myTrades", {"symbol": "X", "orderId": 1}) == 5
    assert request_weight("GET", "/api/v3/ticker/24hr", {"symbols": '["A","B","C"]'}) == 6
    assert request_weight("POST", "/api/v3/order/test", {"computeCommissionRates": True}) == 20
    assert request_weight("POST", "/api/v3/order") == 1
    assert request_weight("GET", "/api/v3/account") == 20


class FakeClock:
    """A server clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def blocks(limiter: RateLimiter, weight: int, orders: int = 0) -> bool:
    """Whether acquiring ``weight`` has to wait (the attempt is abandoned if so)."""
    try:
        await asyncio.wait_for(limiter.acquire(weight, orders), 0.05)
    except asyncio.TimeoutError:
        return True
    return False


@pytest.mark.asyncio
async def test_waits_for_the_next_window_instead_of_exceeding() -> None:
    clock = FakeClock(10 * MINUTE + 1000)
    limiter = RateLimiter(clock, [RateLimit("REQUEST_WEIGHT", MINUTE, 100)], guard_ms=100)
    for _ in range(4):
        await limiter.acquire(25)
    assert await blocks(limiter, 1)
    clock.now = 11 * MINUTE + 50  # inside the guard: the server may still be in the old window
    assert await blocks(limiter, 1)
    clock.now = 11 * MINUTE + 150
    assert not await blocks(limiter, 100)


@pytest.mark.asyncio
async def test_limits_from_exchange_info_and_orders_bucket() -> None:
    clock = FakeClock(5 * MINUTE + 1000)
    limiter = RateLimiter(clock)
    limiter.set_limits_from_exchange_info(
        [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 50,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 100},
        ]
    )
    assert RateLimit("ORDERS", 10_000, 2) in limiter.limits
    await limiter.acquire(1, 1)
    await limiter.acquire(1, 1)
    assert await blocks(limiter, 1, 1)  # a third order in 10 s would be -1015
    assert not await blocks(limiter, 1)  # other requests still go
    with pytest.raises(RateLimitExceeded, match="limit is 50"):
        await limiter.acquire(60)


@pytest.mark.asyncio
async def test_headers_correct_the_count() -> None:
    clock = FakeClock(3 * MINUTE + 5000)
    limiter = RateLimiter(clock, [RateLimit("REQUEST_WEIGHT", MINUTE, 100)])
    reservation = await limiter.acquire(5)
    # Someone else on this IP has spent 90 already: the server counts 95.
    limiter.update_from_headers(reservation, {"x-mbx-used-weight-1m": "95", "other": "1"})
    assert not await blocks(limiter, 5)
    assert await blocks(limiter, 1)
    clock.now = 4 * MINUTE + 1000  # a new window forgets the old count
    assert not await blocks(limiter, 90)


@pytest.mark.asyncio
async def test_pause_holds_every_request_and_ban_refuses() -> None:
    clock = FakeClock(MINUTE + 1000)
    limiter = RateLimiter(clock, [RateLimit("REQUEST_WEIGHT", MINUTE, 100)])
    limiter.pause(0.2)  # a 429: the window counts as full, and nothing goes for 0.2 s
    assert await blocks(limiter, 1)
    clock.now = 2 * MINUTE + 1000
    started = time.monotonic()
    await limiter.acquire(1)
    limiter.ban(int(clock.now) + 60_000)
    with pytest.raises(IPBanned) as banned:
        await limiter.acquire(1)
    assert banned.value.banned_until == int(clock.now) + 60_000
    assert time.monotonic() - started >= 0.1


def skew_to_minute_end(ex: LocalExchange, before_ms: int) -> None:
    """Skew the exchange's clock so that a minute (a weight window) ends in ``before_ms``."""
    now = time.time_ns() // 1_000_000
    ex.set_faults(clock_skew_ms=MINUTE - now % MINUTE - before_ms)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_load_is_throttled_never_429() -> None:
    async with LocalExchange(
        symbols=("BTCUSDT",), market="none", request_weight_per_minute=150
    ) as ex:
        secret = "f" * 64
        api_key = ex.add_key(secret)
        skew_to_minute_end(ex, 2500)
        async with BinanceClient(
            api_key, secret, rest_url=ex.rest_url, clock_samples=3, rate_limit_guard_ms=200
        ) as client:
            assert client.limiter.limits[0] == RateLimit("REQUEST_WEIGHT", MINUTE, 150)

            async def task() -> None:
                await client.server_time()  # 1
                await client.book_ticker("BTCUSDT")  # 2
                await client.open_orders("BTCUSDT")  # 6

            started = time.monotonic()
            await asyncio.gather(*(task() for _ in range(25)))  # 225 weight + 23 at start
            elapsed = time.monotonic() - started
        metrics = ex.metrics()
    assert metrics["responses_429"] == 0 and metrics["responses_418"] == 0
    assert metrics["requests"] == 3 + 1 + 25 * 3  # every request answered, none retried
    assert client.limiter.waits > 0 and elapsed > 1.0  # throttled into the next window


@pytest.mark.slow
@pytest.mark.asyncio
async def test_429_pauses_and_418_is_ip_banned() -> None:
    async with LocalExchange(
        symbols=("BTCUSDT",),
        market="none",
        request_weight_per_minute=30,
        ban_after_violations=1,
        ban_ms=600_000,
    ) as ex:
        skew_to_minute_end(ex, 3000)
        async with (
            BinanceClient(rest_url=ex.rest_url, clock_samples=1) as client,  # weight 1 + 20
            httpx.AsyncClient(base_url=ex.rest_url) as other,
        ):
            # Another program on this IP spends the rest of the budget behind the client's back.
            for path in ["/api/v3/depth?symbol=BTCUSDT&limit=5"] + ["/api/v3/time"] * 4:
                assert (await other.get(path)).status_code == 200
            with pytest.raises(RateLimitExceeded) as limited:
                await client.depth_raw("BTCUSDT", 5)
            assert limited.value.status == 429 and limited.value.code == -1003
            assert limited.value.retry_after is not None and limited.value.retry_after > 0
            assert not isinstance(limited.value, IPBanned)
            # The client holds every request now; the other program does not, and earns a ban.
            assert (await other.get("/api/v3/time")).status_code == 418
            started = time.monotonic()
            with pytest.raises(IPBanned) as banned:
                await client.server_time()  # sent after the pause: the server says 418
            assert time.monotonic() - started > 0.5  # it waited for Retry-After first
            assert banned.value.status == 418
            assert banned.value.banned_until is not None
            assert 590_000 < banned.value.banned_until - client.clock.now_ms() <= 600_000
            requests = ex.metrics()["requests"]
            with pytest.raises(IPBanned):  # refused locally: nothing more is sent
                await client.server_time()
            assert ex.metrics()["requests"] == requests


@pytest.mark.asyncio
async def test_answers_out_of_order_do_not_count_twice() -> None:
    clock = FakeClock(7 * MINUTE + 5000)
    limiter = RateLimiter(clock, [RateLimit("REQUEST_WEIGHT", MINUTE, 100)])
    first = await limiter.acquire(5)
    for _ in range(9):
        await limiter.acquire(5)
    # The first request reached the server last: its answer counts all ten.
    limiter.update_from_headers(first, {"X-MBX-USED-WEIGHT-1M": "50"})
    assert not await blocks(limiter, 50)
    assert await blocks(limiter, 1)


@pytest.mark.asyncio
async def test_usage_shows_the_exchanges_own_count_in_the_current_window() -> None:
    clock = FakeClock(10 * MINUTE + 1000)
    weight = RateLimit("REQUEST_WEIGHT", MINUTE, 6000)
    limiter = RateLimiter(clock, [weight, RateLimit("ORDERS", 10_000, 50)], guard_ms=100)
    reservation = await limiter.acquire(20)
    (spent, orders) = limiter.usage()
    assert (spent.limit, spent.used, spent.reported) == (weight, 20, False)
    assert (orders.used, orders.reported) == (0, False)
    # Other programs on this IP spent 3000: the header says so.
    limiter.update_from_headers(reservation, {"x-mbx-used-weight-1m": "3020"})
    spent = limiter.usage()[0]
    assert (spent.used, spent.reported, spent.share) == (3020, True, 3020 / 6000)
    clock.now = 11 * MINUTE + 1000  # a new window: that count is gone
    assert limiter.usage()[0].reported is False


@pytest.mark.asyncio
async def test_rate_limits_come_from_a_small_exchange_info() -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), market="none") as ex,
        BinanceClient(rest_url=ex.rest_url, load_exchange_info=False, clock_samples=1) as client,
    ):
        limits = await client.rate_limits()
        assert RateLimit("REQUEST_WEIGHT", MINUTE, 6000) in limits
        assert client.limiter.limits == limits
        (spent,) = [u for u in client.limiter.usage() if u.limit.kind == "REQUEST_WEIGHT"]
        assert spent.reported and spent.used >= 21  # the time sample and exchangeInfo

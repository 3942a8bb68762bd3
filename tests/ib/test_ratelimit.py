"""The limiter: sliding windows that wait before a request, a penalty-box lock, max_wait."""

from __future__ import annotations

import asyncio

import pytest

from tradewire.errors import IBPenaltyBox, IBRateLimited
from tradewire.ib.ratelimit import IBLimiter, WindowRule


class FakeTime:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


def limiter(t: FakeTime, **kw: object) -> IBLimiter:
    return IBLimiter(clock=t.clock, sleep=t.sleep, **kw)  # type: ignore[arg-type]


async def send(lim: IBLimiter, path: str, t: FakeTime, took: float = 0.0) -> None:
    """One request through ``lim`` whose answer takes ``took`` seconds."""
    done = await lim.acquire(path)
    t.now += took
    done()


@pytest.mark.asyncio
async def test_one_live_orders_call_per_five_seconds() -> None:
    t = FakeTime()
    lim = limiter(t)
    await send(lim, "/iserver/account/orders", t)
    await send(lim, "/iserver/account/orders", t)
    assert t.slept == [pytest.approx(5.05)]
    # other endpoints are not held up by that rule
    await send(lim, "/iserver/accounts", t)
    assert len(t.slept) == 1


@pytest.mark.asyncio
async def test_the_global_window_never_lets_eleven_through_in_a_second() -> None:
    t = FakeTime()
    lim = limiter(t)
    sent: list[float] = []
    for _ in range(25):
        await send(lim, "/iserver/accounts", t)
        sent.append(t.now)
    for i in range(len(sent) - 10):
        assert sent[i + 10] - sent[i] > 1.0  # any 11 consecutive requests span over a second
    assert lim.sent == 25


@pytest.mark.asyncio
async def test_a_request_counts_from_its_answer_not_from_its_start() -> None:
    t = FakeTime()
    lim = limiter(t)
    await send(lim, "/iserver/account/trades", t, took=3.0)  # a slow answer
    start = t.now
    await send(lim, "/iserver/account/trades", t)
    assert t.now - start == pytest.approx(5.05)  # 5 s after the answer, not after the send


@pytest.mark.asyncio
async def test_requests_in_flight_hold_their_place_in_the_window() -> None:
    t = FakeTime()
    lim = limiter(t)
    pending = [await lim.acquire("/iserver/accounts") for _ in range(10)]
    assert lim.headroom() == 0
    eleventh = asyncio.ensure_future(lim.acquire("/iserver/accounts"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not eleventh.done()  # polling while the ten are in flight
    for done in pending:
        done()
    (await eleventh)()
    assert t.now - 1000.0 >= 1.0  # the eleventh went a window after the ten answers


@pytest.mark.asyncio
async def test_prefix_rules_and_headroom() -> None:
    t = FakeTime()
    lim = limiter(t)
    assert lim.headroom("/pa/performance") == 1
    await send(lim, "/pa/performance", t)
    assert lim.headroom("/pa/summary") == 0
    assert lim.headroom() == 9


@pytest.mark.asyncio
async def test_a_wait_beyond_max_wait_is_refused() -> None:
    t = FakeTime()
    lim = limiter(t, max_wait=1.0)
    await send(lim, "/sso/validate", t)
    with pytest.raises(IBRateLimited, match="1 per 60 s") as info:
        await send(lim, "/sso/validate", t)
    assert info.value.retry_after == pytest.approx(60.05)
    assert t.slept == []


@pytest.mark.asyncio
async def test_the_penalty_box_refuses_everything_until_it_ends() -> None:
    t = FakeTime()
    lim = limiter(t)
    lim.lock(900)
    with pytest.raises(IBPenaltyBox, match="900 s") as info:
        await send(lim, "/tickle", t)
    assert info.value.retry_after == 900
    assert lim.sent == 0
    t.now += 900
    await send(lim, "/tickle", t)
    assert lim.sent == 1


@pytest.mark.asyncio
async def test_history_requests_run_at_most_five_at_once() -> None:
    lim = IBLimiter()
    inside = 0
    peak = 0
    release = asyncio.Event()

    async def one() -> None:
        nonlocal inside, peak
        async with lim.slot("/iserver/marketdata/history"):
            inside += 1
            peak = max(peak, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(one()) for _ in range(7)]
    for _ in range(20):  # let every task run as far as it can
        await asyncio.sleep(0)
    assert inside == 5
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 5


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        WindowRule(0, 1.0)

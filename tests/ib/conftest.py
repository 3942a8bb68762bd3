"""Fixtures: a LocalIBGateway during US market hours and an IBClient connected to it."""

from __future__ import annotations

import datetime
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tradewire.ib import IBClient, IBLimiter
from tradewire.ib.ratelimit import DEFAULT_RULES, WindowRule
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

# A Monday at 10:00 in New York: the regular session is open.
MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()


def market_clock(start: float = MONDAY_10AM) -> Callable[[], float]:
    """A wall clock that starts at ``start`` and runs at real speed."""
    t0 = time.time()
    return lambda: start + time.time() - t0


def quick_limiter() -> IBLimiter:
    """IB's limits, except live orders (1 per 5 s) at 1 per 0.2 s so tests stay quick."""
    rules = dict(DEFAULT_RULES)
    rules["/iserver/account/orders"] = WindowRule(1, 0.2)
    return IBLimiter(rules)


@pytest.fixture
def clock_at() -> Callable[[float], Callable[[], float]]:
    """A factory of wall clocks that start at a given epoch second (market hours by default)."""
    return market_clock


@pytest_asyncio.fixture
async def gw() -> AsyncIterator[LocalIBGateway]:
    """A gateway listing AAPL and MSFT during market hours."""
    async with LocalIBGateway(symbols=("AAPL", "MSFT"), seed=1, clock=market_clock()) as gateway:
        yield gateway


@pytest.fixture
def connect(gw: LocalIBGateway, tmp_path: Path) -> Callable[..., Any]:
    """``async with connect(**options) as ib``: an IBClient on the gateway (trusting its cert)."""

    @asynccontextmanager
    async def open_client(**options: Any) -> AsyncIterator[IBClient]:
        options.setdefault("cafile", gw.cert_path)
        options.setdefault("limiter", quick_limiter())
        options.setdefault("error_log", tmp_path / "ib-errors.jsonl")
        async with IBClient(gw.url, **options) as ib:
            yield ib

    return open_client

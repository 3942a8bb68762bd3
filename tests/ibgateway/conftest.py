"""Fixtures: a LocalIBGateway during US market hours, an HTTPS client that trusts it, and the
shape (key sets and value types) of recorded IB bodies."""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
import pytest_asyncio

from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

# ibind (the third-party client the gateway is judged by) logs to files unless told not to.
os.environ.setdefault("IBIND_LOG_TO_FILE", "False")

DATA = Path(__file__).parent.parent / "data" / "ib"
# A Monday at 10:00 in New York: the regular session is open.
MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()


def fixture(name: str) -> Any:
    """A recorded body from tests/data/ib."""
    return json.loads((DATA / name).read_text())


def shape(value: Any) -> Any:
    """The key sets and value types of a JSON value (null matches any type, lists by first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return None
    return type(value).__name__


def assert_same_shape(got: Any, recorded: Any, where: str = "$") -> None:
    """Fail unless ``got`` has the recorded body's keys and value types (nulls match anything)."""
    if recorded is None or got is None:
        return
    if isinstance(recorded, dict):
        assert isinstance(got, dict), f"{where}: {got!r} is not an object"
        assert set(got) == set(recorded), (
            f"{where}: keys differ: extra {sorted(set(got) - set(recorded))}, "
            f"missing {sorted(set(recorded) - set(got))}"
        )
        for key in recorded:
            assert_same_shape(got[key], recorded[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(got, list), f"{where}: {got!r} is not a list"
        if recorded and got:
            for item in got:
                assert_same_shape(item, recorded[0], f"{where}[]")
    else:
        assert type(got) is type(recorded), f"{where}: {got!r} is not a {type(recorded).__name__}"


def market_clock(start: float = MONDAY_10AM) -> Callable[[], float]:
    """A wall clock that starts at ``start`` and runs at real speed."""
    t0 = time.time()
    return lambda: start + time.time() - t0


@pytest_asyncio.fixture
async def gw() -> AsyncIterator[LocalIBGateway]:
    """A gateway listing AAPL and MSFT during market hours."""
    async with LocalIBGateway(symbols=("AAPL", "MSFT"), seed=1, clock=market_clock()) as gateway:
        yield gateway


@pytest_asyncio.fixture
async def http(gw: LocalIBGateway) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTPS client that trusts the gateway's self-signed certificate."""
    connector = aiohttp.TCPConnector(ssl=gw.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


@pytest.fixture
def clock_at() -> Callable[[float], Callable[[], float]]:
    """A factory of wall clocks that start at a given epoch second and run at real speed."""
    return market_clock


@pytest.fixture
def same_shape() -> Callable[..., None]:
    """Check a body against a recorded one in tests/data/ib by key sets and value types
    (``key``: against that member of the recorded body)."""

    def check(got: Any, name: str, key: str | None = None) -> None:
        recorded = fixture(name)
        assert_same_shape(got, recorded if key is None else recorded[key])

    return check

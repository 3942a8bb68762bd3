"""Fixtures: a LocalExchange on 127.0.0.1, funded keys, and a signing REST client."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest_asyncio

from tradewire import Signer
from tradewire.exchange import LocalExchange, StreamConfig

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DATA = Path(__file__).parent / "data"


def encode(params: dict[str, Any] | list[tuple[str, Any]]) -> str:
    """Percent-encode parameters in order, as Binance wants them signed and sent."""
    items = params.items() if isinstance(params, dict) else params
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in items)


class Trader:
    """An API key and its secret, signing REST requests against one exchange."""

    def __init__(self, client: httpx.AsyncClient, api_key: str, secret: str) -> None:
        self.client = client
        self.api_key = api_key
        self.signer = Signer.from_secret(secret)

    def sign_query(self, params: dict[str, Any], timestamp: int | None = None) -> str:
        """The signed query string for ``params`` plus timestamp."""
        body = dict(params)
        body.setdefault(
            "timestamp", timestamp if timestamp is not None else int(time.time() * 1000)
        )
        query = encode(body)
        return f"{query}&signature={quote(self.signer.sign(query), safe='')}"

    async def call(self, method: str, path: str, **params: Any) -> httpx.Response:
        """Send a signed request with the parameters in the query string."""
        return await self.client.request(
            method, f"{path}?{self.sign_query(params)}", headers={"X-MBX-APIKEY": self.api_key}
        )

    async def ok(self, method: str, path: str, **params: Any) -> Any:
        """A signed request that must succeed: its JSON body."""
        response = await self.call(method, path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def order(self, **params: Any) -> Any:
        """Place an order that must be accepted."""
        return await self.ok("POST", "/api/v3/order", **params)

    async def balance(self, asset: str) -> tuple[str, str]:
        """(free, locked) of ``asset``."""
        account = await self.ok("GET", "/api/v3/account")
        for row in account["balances"]:
            if row["asset"] == asset:
                return row["free"], row["locked"]
        return "0.00000000", "0.00000000"


def new_trader(ex: LocalExchange, client: httpx.AsyncClient, **kwargs: Any) -> Trader:
    """A new HMAC key (and account) on ``ex``."""
    secret = secrets.token_hex(32)
    return Trader(client, ex.add_key(secret, **kwargs), secret)


@pytest_asyncio.fixture
async def client(ex: LocalExchange) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client on the exchange's REST URL."""
    async with httpx.AsyncClient(base_url=ex.rest_url, timeout=10) as c:
        yield c


@pytest_asyncio.fixture
async def alice(ex: LocalExchange, client: httpx.AsyncClient) -> Trader:
    """A trader with the default balances (10,000 USDT, 1 BTC, 10 ETH)."""
    return new_trader(ex, client)


@pytest_asyncio.fixture
async def bob(ex: LocalExchange, client: httpx.AsyncClient) -> Trader:
    """A second trader with the default balances."""
    return new_trader(ex, client)


@pytest_asyncio.fixture
async def make_trader(ex: LocalExchange, client: httpx.AsyncClient) -> Any:
    """A factory of new traders: ``make_trader(balances=..., permissions=...)``."""
    return lambda **kwargs: new_trader(ex, client, **kwargs)


# Stream cadences shortened for the client tests (Binance: 1000 ms depth, 2000 ms klines,
# 1000 ms tickers).
QUICK_STREAMS = StreamConfig(slow_ms=100, kline_ms=100, kline_1s_ms=100, ticker_ms=100)


@pytest_asyncio.fixture
async def market() -> AsyncIterator[LocalExchange]:
    """A local exchange (BTCUSDT, ETHUSDT) with its synthetic market running and a tape to read,
    for the third-party client tests."""
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), seed=1, market_interval_ms=20, streams=QUICK_STREAMS
    ) as ex:
        ex.advance(50)
        yield ex

"""BinanceMarket as a CandleSource: the closed history from REST klines, closed candles from the
kline stream, a reconnect's gap refilled from REST, never a candle twice."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.binance import parse_message
from tradewire.binance.answers import Candlestick
from tradewire.binance.streams import Reconnected
from tradewire.errors import ConfigError
from tradewire.model import Bar
from tradewire.venues.binance import BinanceMarket
from tradewire.venues.protocols import CandleSource

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

T0 = 1_723_161_600_000  # a minute boundary
M = 60_000


def row(n: int, close: str = "100.5") -> Candlestick:
    """The REST kline of the ``n``-th minute from T0."""
    return Candlestick(
        T0 + n * M,
        D("100.00"),
        D("101.25"),
        D("99.50"),
        D(close),
        D("2.00000"),
        T0 + (n + 1) * M - 1,
        D("201.000"),
        7 + n,
        D("1.0"),
        D("100.5"),
    )


def kline(n: int, *, closed: bool, close: str = "100.5") -> object:
    """The kline stream event of the ``n``-th minute, as parsed from its JSON."""
    k = {
        "t": T0 + n * M,
        "T": T0 + (n + 1) * M - 1,
        "s": "BTCUSDT",
        "i": "1m",
        "f": 1,
        "L": 7 + n,
        "o": "100.00",
        "c": close,
        "h": "101.25",
        "l": "99.50",
        "v": "2.00000",
        "n": 7 + n,
        "x": closed,
        "q": "201.000",
        "V": "1.0",
        "Q": "100.5",
        "B": "0",
    }
    body = {"e": "kline", "E": T0 + (n + 1) * M, "s": "BTCUSDT", "k": k}
    return parse_message(json.dumps(body).encode())


def bar(n: int, close: str = "100.5") -> Bar:
    return Bar(
        "BTCUSDT",
        "1m",
        T0 + n * M,
        T0 + (n + 1) * M - 1,
        D("100.00"),
        D("101.25"),
        D("99.50"),
        D(close),
        D("2.00000"),
        D("201.000"),
        7 + n,
    )


class FixedClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)

    def observe(self, time_ms: int) -> bool:
        return False


class FakeKlines:
    """REST klines over ``rows`` as Binance filters them (open time within start..end; the
    last ``limit`` without a start), and a kline stream of ``stream`` items."""

    def __init__(self, rows: list[Candlestick], stream: list[object] | None = None) -> None:
        self.rows = rows
        self.stream_items = stream or []
        self.calls: list[dict[str, Any]] = []
        self.names: list[str] = []

    async def klines(
        self,
        symbol: str,
        interval: str,
        *,
        limit: int = 500,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Candlestick]:
        self.calls.append({"limit": limit, "start_time": start_time, "end_time": end_time})
        rows = [
            r
            for r in self.rows
            if (start_time is None or r.open_time >= start_time)
            and (end_time is None or r.open_time <= end_time)
        ]
        return rows[:limit] if start_time is not None else rows[-limit:]

    async def watch_book(self, symbol: str) -> AsyncIterator[Any]:
        await asyncio.Event().wait()
        yield None  # pragma: no cover

    async def stream(self, *names: str) -> AsyncIterator[Any]:
        self.names.extend(names)
        for item in self.stream_items:
            yield item
        await asyncio.Event().wait()


async def _take(market: BinanceMarket, count: int, since_ms: int | None = None) -> list[Bar]:
    out: list[Bar] = []
    candles = market.closed_candles("BTCUSDT", "1m", since_ms=since_ms)
    async for one in candles:
        out.append(one)
        if len(out) == count:
            break
    await candles.aclose()  # type: ignore[attr-defined]
    return out


def test_binance_market_is_a_candle_source() -> None:
    assert isinstance(BinanceMarket(FakeKlines([])), CandleSource)


@pytest.mark.asyncio
async def test_the_history_leaves_out_the_forming_candle_and_keeps_exact_decimals() -> None:
    # Minutes 0..9 closed, minute 10 forming (its close time is still ahead).
    client = FakeKlines([row(n, close=f"100.{n}0") for n in range(11)])
    market = BinanceMarket(client, clock=FixedClock(T0 + 10 * M + 5_000))
    history = await market.candle_history("BTCUSDT", "1m", 4)
    assert history == [bar(n, close=f"100.{n}0") for n in range(6, 10)]
    assert str(history[-1].close) == "100.90"  # the venue's string, exactly
    assert client.calls == [{"limit": 5, "start_time": None, "end_time": None}]


@pytest.mark.asyncio
async def test_a_long_history_is_read_in_pages_backwards() -> None:
    client = FakeKlines([row(n) for n in range(2_500)])
    market = BinanceMarket(client, clock=FixedClock(T0 + 2_500 * M))
    history = await market.candle_history("BTCUSDT", "1m", 2_200)
    assert [b.open_time_ms for b in history] == [T0 + n * M for n in range(300, 2_500)]
    assert len(client.calls) == 3
    assert all(c["limit"] <= 1000 for c in client.calls)


@pytest.mark.asyncio
async def test_only_closed_updates_are_given_each_once_and_a_gap_is_refilled() -> None:
    rows = [row(n) for n in range(8)]
    stream = [
        kline(1, closed=False),
        kline(1, closed=True),
        kline(2, closed=False),
        kline(2, closed=True),
        Reconnected("dropped", 1),
        kline(2, closed=True),  # sent again after the reconnect: not given twice
        kline(5, closed=False),
        kline(5, closed=True),  # 3 and 4 closed while the stream was away: from REST
        kline(6, closed=True),
    ]
    client = FakeKlines(rows, stream)
    market = BinanceMarket(client, clock=FixedClock(T0 + 7 * M))
    got = await _take(market, 6)
    assert got == [bar(n) for n in (1, 2, 3, 4, 5, 6)]
    assert client.names == ["btcusdt@kline_1m"]
    assert client.calls == [{"limit": 1000, "start_time": T0 + 3 * M, "end_time": T0 + 5 * M - 1}]


@pytest.mark.asyncio
async def test_the_candles_between_the_history_and_the_first_closed_update_come_from_rest() -> None:
    # The caller holds minutes up to 1 (since = minute 2); the stream's first close is minute 4.
    client = FakeKlines([row(n) for n in range(6)], [kline(1, closed=True), kline(4, closed=True)])
    market = BinanceMarket(client, clock=FixedClock(T0 + 5 * M))
    assert await _take(market, 3, since_ms=T0 + 2 * M) == [bar(2), bar(3), bar(4)]


@pytest.mark.asyncio
async def test_a_client_without_klines_is_a_clear_error() -> None:
    class BookOnly:
        async def watch_book(self, symbol: str) -> AsyncIterator[Any]:
            yield None  # pragma: no cover

        async def stream(self, *names: str) -> AsyncIterator[Any]:
            yield None  # pragma: no cover

    with pytest.raises(ConfigError, match="has no klines"):
        await BinanceMarket(BookOnly()).candle_history("BTCUSDT", "1m", 5)

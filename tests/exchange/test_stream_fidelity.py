"""Market streams as Binance's web-socket-streams.md documents them, over real sockets.

Any path under /ws/ connects (ccxt.pro uses /ws/0), request ids may be strings (UUIDs from
binance-sdk-spot), the ticker and average price streams carry the documented fields computed
from the tape, and kline streams close each candle with ``x: true`` exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_asyncio
import websockets

from tradewire.exchange import LocalExchange, StreamConfig

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

# Field names in the order web-socket-streams.md lists them.
TICKER_FIELDS = [
    *("e", "E", "s", "p", "P", "w", "x", "c", "Q", "b", "B", "a", "A"),
    *("o", "h", "l", "v", "q", "O", "C", "F", "L", "n"),
]
MINI_TICKER_FIELDS = ["e", "E", "s", "c", "o", "h", "l", "v", "q"]
WINDOW_TICKER_FIELDS = [
    *("e", "E", "s", "p", "P", "o", "h", "l", "c", "w", "v", "q", "O", "C", "F", "L", "n")
]
AVG_PRICE_FIELDS = ["e", "E", "s", "i", "w", "T"]
KLINE_FIELDS = [
    *("t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B")
]


async def request(ws: Any, method: str, params: list[Any] | None, req_id: object) -> Any:
    """Send one control request and return its answer (stream events on the way are skipped)."""
    body: dict[str, Any] = {"method": method, "id": req_id}
    if params is not None:
        body["params"] = params
    await ws.send(json.dumps(body))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if isinstance(reply, dict) and ("result" in reply or "code" in reply):
            return reply


async def next_event(ws: Any, accept: Callable[[Any], bool]) -> Any:
    """The next message that ``accept`` takes."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if accept(message):
            return message


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ws/0", "/ws/7", "/ws/anything-at-all", "/ws/btcusdt@nonsense"])
async def test_any_path_under_ws_connects_ready_for_subscribe(path: str) -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), seed=2, market_interval_ms=10) as ex,
        websockets.connect(f"{ex.stream_url}{path}") as ws,
    ):
        assert await request(ws, "LIST_SUBSCRIPTIONS", None, 1) == {"result": [], "id": 1}
        assert await request(ws, "SUBSCRIBE", ["btcusdt@trade"], 2) == {"result": None, "id": 2}
        trade = await next_event(ws, lambda m: m.get("e") == "trade")
        assert trade["s"] == "BTCUSDT"


@pytest.mark.asyncio
async def test_stream_names_in_the_path_still_subscribe() -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT", "ETHUSDT"), seed=2, market_interval_ms=10) as ex,
        websockets.connect(f"{ex.stream_url}/ws/btcusdt@trade/0/ethusdt@bookTicker") as ws,
    ):
        reply = await request(ws, "LIST_SUBSCRIPTIONS", None, 1)
        assert reply == {"result": ["btcusdt@trade", "ethusdt@bookTicker"], "id": 1}


@pytest.mark.asyncio
async def test_request_ids_are_echoed_as_given_and_bad_ones_refused() -> None:
    sdk_id = str(uuid.uuid4())  # what binance-sdk-spot sends: 36 characters with hyphens
    async with (
        LocalExchange(
            symbols=("BTCUSDT",), market="none", streams=StreamConfig(max_incoming_per_s=100)
        ) as ex,
        websockets.connect(f"{ex.stream_url}/ws/0") as ws,
    ):
        reply = await request(ws, "SUBSCRIBE", ["btcusdt@trade"], sdk_id)
        assert reply == {"result": None, "id": sdk_id}
        for good in ("abc123", "Z" * 36, None, 0, -(2**63), 2**63 - 1):
            reply = await request(ws, "LIST_SUBSCRIPTIONS", None, good)
            assert reply == {"result": ["btcusdt@trade"], "id": good}
        refused = {
            "code": 2,
            "msg": "Invalid request: request ID must be an unsigned integer",
        }
        for bad in ("Z" * 37, "", "bad id", "naïve", "1;2", 1.5, True, 2**63, -(2**63) - 1, [1]):
            assert await request(ws, "LIST_SUBSCRIPTIONS", None, bad) == refused
        # The connection stays open and keeps its subscriptions.
        reply = await request(ws, "UNSUBSCRIBE", ["btcusdt@trade"], sdk_id.upper())
        assert reply == {"result": None, "id": sdk_id.upper()}
        assert await request(ws, "LIST_SUBSCRIPTIONS", None, 9) == {"result": [], "id": 9}


# --- tickers and average price -----------------------------------------------------------------


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """This module's ``ex`` (which ``client`` and ``make_trader`` use): no market flow, so the
    test makes every trade; ticker streams every 50 ms; up to 50 requests a second."""
    config = StreamConfig(ticker_ms=50, max_incoming_per_s=50)
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), market="none", streams=config
    ) as exchange:
        yield exchange


async def trade_three_times(make_trader: Any) -> None:
    """Three BTCUSDT trades: 0.02 and 0.03 at 60,000, then 0.01 at 61,000."""
    alice, bob = make_trader(), make_trader()
    limit = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    await alice.order(**limit, side="SELL", quantity="0.05", price="60000")
    await alice.order(**limit, side="SELL", quantity="0.02", price="61000")
    await alice.order(**limit, side="BUY", quantity="0.01", price="59000")
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.02")
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.04")


TICKER_STREAMS = [
    "btcusdt@ticker",
    "btcusdt@miniTicker",
    "btcusdt@ticker_1h",
    "btcusdt@avgPrice",
    "ethusdt@miniTicker",
    "!miniTicker@arr",
    "!ticker@arr",
    "!ticker_4h@arr",
]


@pytest.mark.asyncio
async def test_ticker_streams_carry_the_documented_fields_from_the_tape(
    ex: LocalExchange, client: httpx.AsyncClient, make_trader: Any
) -> None:
    url = f"{ex.stream_url}/stream?streams={'/'.join(TICKER_STREAMS)}"
    async with websockets.connect(url) as ws:
        await ex.wait_for_stream_connections(1)
        await trade_three_times(make_trader)
        latest: dict[str, Any] = {}
        arrays: list[tuple[str, list[Any]]] = []

        def complete(stream: str, data: Any) -> bool:
            """Whether ``data`` shows all three trades."""
            if stream.startswith("!"):
                return bool(data[0]["v"] == "0.06000000")
            if stream == "btcusdt@avgPrice":
                return bool(data["w"] == "60166.66666666")
            return stream.startswith("eth") or data["v"] == "0.06000000"

        while len(latest) < len(TICKER_STREAMS):
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            stream, data = message["stream"], message["data"]
            if stream.startswith("!"):
                arrays.append((stream, data))
            if complete(stream, data):
                latest[stream] = data
        # From now on nothing changes: the arrays stay silent, the symbols' streams go on.
        quiet_ticks = 0
        while quiet_ticks < 3:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert not message["stream"].startswith("!"), message
            quiet_ticks += message["stream"] == "ethusdt@miniTicker"
    rest = (await client.get("/api/v3/ticker/24hr?symbol=BTCUSDT")).json()
    avg_rest = (await client.get("/api/v3/avgPrice?symbol=BTCUSDT")).json()

    ticker = latest["btcusdt@ticker"]
    assert list(ticker) == TICKER_FIELDS
    assert (ticker["e"], ticker["s"], ticker["C"] - ticker["O"]) == (
        "24hrTicker",
        "BTCUSDT",
        86_400_000,
    )
    assert ticker["p"] == "1000.00000000"
    assert ticker["P"] == "1.667"
    assert ticker["w"] == "60166.66666666"  # 3610 / 0.06
    assert ticker["x"] == "0.00000000"  # no trade before the window
    assert (ticker["c"], ticker["Q"], ticker["o"], ticker["h"], ticker["l"]) == (
        "61000.00000000",
        "0.01000000",
        "60000.00000000",
        "61000.00000000",
        "60000.00000000",
    )
    assert (ticker["v"], ticker["q"], ticker["F"], ticker["L"], ticker["n"]) == (
        "0.06000000",
        "3610.00000000",
        1,
        3,
        3,
    )
    assert (ticker["b"], ticker["B"], ticker["a"], ticker["A"]) == (
        "59000.00000000",
        "0.01000000",
        "61000.00000000",
        "0.01000000",
    )
    # One computation for REST and streams.
    same = {
        "p": "priceChange",
        "P": "priceChangePercent",
        "w": "weightedAvgPrice",
        "x": "prevClosePrice",
        "c": "lastPrice",
        "Q": "lastQty",
        "b": "bidPrice",
        "B": "bidQty",
        "a": "askPrice",
        "A": "askQty",
        "o": "openPrice",
        "h": "highPrice",
        "l": "lowPrice",
        "v": "volume",
        "q": "quoteVolume",
        "F": "firstId",
        "L": "lastId",
        "n": "count",
    }
    assert {k: ticker[k] for k in same} == {k: rest[v] for k, v in same.items()}

    mini = latest["btcusdt@miniTicker"]
    assert list(mini) == MINI_TICKER_FIELDS
    assert mini["e"] == "24hrMiniTicker"
    assert {k: mini[k] for k in "cohlvq"} == {k: ticker[k] for k in "cohlvq"}
    eth = latest["ethusdt@miniTicker"]  # no trade at all: zeros
    assert (eth["s"], eth["c"], eth["v"]) == ("ETHUSDT", "0.00000000", "0.00000000")

    hour = latest["btcusdt@ticker_1h"]
    assert list(hour) == WINDOW_TICKER_FIELDS
    assert hour["e"] == "1hTicker"
    assert hour["O"] % 60_000 == 0  # the window opens on a minute
    assert 3_600_000 <= hour["C"] - hour["O"] < 3_660_000
    assert {k: hour[k] for k in "pPohlcwvqFLn"} == {k: ticker[k] for k in "pPohlcwvqFLn"}

    avg = latest["btcusdt@avgPrice"]
    assert list(avg) == AVG_PRICE_FIELDS
    assert (avg["e"], avg["s"], avg["i"], avg["w"]) == (
        "avgPrice",
        "BTCUSDT",
        "5m",
        "60166.66666666",
    )
    assert (avg["w"], avg["T"]) == (avg_rest["price"], avg_rest["closeTime"])

    # The arrays hold only the symbol that changed (ETHUSDT never did), in the same shapes.
    assert arrays
    assert all([d["s"] for d in data] == ["BTCUSDT"] for _, data in arrays)
    times = {"E": 0, "O": 0, "C": 0}  # the latest of each may come from different updates
    assert latest["!ticker@arr"][0] | times == ticker | times
    assert latest["!miniTicker@arr"][0] | {"E": 0} == mini | {"E": 0}
    four = latest["!ticker_4h@arr"][0]
    assert list(four) == WINDOW_TICKER_FIELDS
    assert four["e"] == "4hTicker"


@pytest.mark.asyncio
async def test_ticker_streams_are_subscribable_and_unknown_windows_are_not(
    ex: LocalExchange,
) -> None:
    async with websockets.connect(f"{ex.stream_url}/ws/0") as ws:
        names = ["btcusdt@ticker", "btcusdt@ticker_4h", "!ticker_1d@arr", "btcusdt@avgPrice"]
        assert await request(ws, "SUBSCRIBE", names, 1) == {"result": None, "id": 1}
        event = await next_event(ws, lambda m: isinstance(m, dict) and m.get("e") == "4hTicker")
        assert event["s"] == "BTCUSDT"
        for bad in ("btcusdt@ticker_2h", "!ticker_1w@arr", "!bookTicker@arr", "btcusdt@avgprice"):
            reply = await request(ws, "SUBSCRIBE", [bad], 2)
            assert reply == {"code": 2, "msg": "Invalid request: invalid stream name", "id": 2}


# --- klines ------------------------------------------------------------------------------------


def kline_values(k: dict[str, Any]) -> list[Any]:
    """A kline event's candle in the order of a GET /api/v3/klines row (ignore field aside)."""
    return [k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"], k["V"], k["Q"]]


@pytest.mark.asyncio
async def test_each_one_second_candle_closes_once_with_the_final_values() -> None:
    # 1s candles updated every 50 ms (Binance: every 1000 ms) so that each gets several updates.
    config = StreamConfig(kline_1s_ms=50)
    async with (
        LocalExchange(symbols=("BTCUSDT",), seed=4, market_interval_ms=10, streams=config) as ex,
        websockets.connect(f"{ex.stream_url}/ws/btcusdt@kline_1s") as ws,
    ):
        events = []
        closed = 0
        while closed < 3:
            event = json.loads(await asyncio.wait_for(ws.recv(), 5))
            events.append(event["k"])
            closed += event["k"]["x"]
        async with httpx.AsyncClient(base_url=ex.rest_url) as client:
            klines = await client.get("/api/v3/klines?symbol=BTCUSDT&interval=1s")
    rows = {row[0]: row[:11] for row in klines.json()}
    finals = [k for k in events if k["x"]]
    assert len({k["t"] for k in finals}) == len(finals) == 3  # once per candle
    for k in events:
        assert list(k) == KLINE_FIELDS
        assert (k["s"], k["i"], k["T"] - k["t"]) == ("BTCUSDT", "1s", 999)
    for final in finals:
        position = events.index(final)
        # The final update is the candle's last: every later event is of a later candle.
        assert all(k["t"] > final["t"] for k in events[position + 1 :])
        # ... and it is the whole candle, as REST serves it once it has closed.
        assert kline_values(final) == rows[final["t"]]
        assert final["n"] > 0
        assert Decimal(final["l"]) <= Decimal(final["c"]) <= Decimal(final["h"])
    # Each final follows its own open updates, and no candle is skipped.
    opens = sorted({k["t"] for k in events})
    assert all(b - a == 1000 for a, b in itertools.pairwise(opens))


@pytest.mark.asyncio
async def test_a_minute_candle_closes_when_the_server_clock_passes_its_end() -> None:
    async with (
        LocalExchange(
            symbols=("BTCUSDT",), seed=5, market_interval_ms=10, streams=StreamConfig(kline_ms=50)
        ) as ex,
        websockets.connect(f"{ex.stream_url}/ws/btcusdt@kline_1m") as ws,
    ):
        first = (await next_event(ws, lambda m: m["k"]["n"] > 0))["k"]
        assert first["x"] is False
        # Move the server clock past the end of that minute (the skew fault shifts server time).
        ex.set_faults(clock_skew_ms=first["T"] + 1 - ex.server_time())
        final = (await next_event(ws, lambda m: m["k"]["x"]))["k"]
        after = (await next_event(ws, lambda m: m["k"]["t"] != first["t"]))["k"]
    assert final["t"] == first["t"]
    assert final["n"] >= first["n"]
    assert (after["t"], after["x"]) == (first["t"] + 60_000, False)


@pytest.mark.asyncio
async def test_update_speeds_are_binances() -> None:
    """Default timings: tickers and 1s klines every 1000 ms, other klines every 2000 ms."""
    names = ["btcusdt@miniTicker", "btcusdt@kline_1s", "btcusdt@kline_1m"]
    async with (
        LocalExchange(symbols=("BTCUSDT",), seed=6, market_interval_ms=20) as ex,
        websockets.connect(f"{ex.stream_url}/stream?streams={'/'.join(names)}") as ws,
    ):
        times: dict[str, list[int]] = {name: [] for name in names}
        seconds: list[Any] = []
        while len(times["btcusdt@kline_1m"]) < 3:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            times[message["stream"]].append(message["data"]["E"])
            if message["stream"] == "btcusdt@kline_1s":
                seconds.append(message["data"]["k"])
    for name, low, high in (
        ("btcusdt@miniTicker", 900, 1500),
        ("btcusdt@kline_1s", 900, 1500),
        ("btcusdt@kline_1m", 1900, 2500),
    ):
        gaps = [b - a for a, b in itertools.pairwise(times[name])]
        assert gaps, name
        assert all(low <= gap <= high for gap in gaps), (name, gaps)
    # A 1s candle closes at each update: the first update shows the open candle, every later
    # one is the final state of the candle that just closed, one after the other.
    assert [k["x"] for k in seconds] == [False] + [True] * (len(seconds) - 1)
    assert seconds[1]["t"] == seconds[0]["t"]
    finals = seconds[1:]
    assert [b["t"] - a["t"] for a, b in itertools.pairwise(finals)] == [1000] * (len(finals) - 1)

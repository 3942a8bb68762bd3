"""The market's own flow: a seeded synthetic market, and replay of a depth file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tradewire import Signer
from tradewire.exchange import LocalExchange

DATA = Path(__file__).parent / "data"
DEPTH = DATA / "depth-btcusdt.jsonl"  # written by gen_binance_depth.py 60 ... --seed 7


async def book(ex: LocalExchange, symbol: str = "BTCUSDT") -> Any:
    async with httpx.AsyncClient(base_url=ex.rest_url) as client:
        return (await client.get(f"/api/v3/depth?symbol={symbol}&limit=1000")).json()


@pytest.mark.asyncio
async def test_same_seed_same_market() -> None:
    books = []
    for _ in range(2):
        async with LocalExchange(
            symbols=("BTCUSDT", "ETHUSDT"), seed=42, market_interval_ms=60_000
        ) as ex:
            ex.advance(200)
            books.append(
                (
                    await book(ex),
                    await book(ex, "ETHUSDT"),
                    [t.price for t in ex.core.engine.recent_trades("BTCUSDT")],
                )
            )
    assert books[0] == books[1]
    assert len(books[0][2]) > 50  # it traded
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), seed=43, market_interval_ms=60_000
    ) as other:
        other.advance(200)
        assert await book(other) != books[0][0]


@pytest.mark.asyncio
async def test_market_moves_through_a_resting_order_and_fills_it() -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), seed=5, market_interval_ms=60_000) as ex,
        httpx.AsyncClient(base_url=ex.rest_url) as client,
    ):
        secret = "k" * 32
        api_key = ex.add_key(secret)
        key = ex.core.keys.get(api_key)
        assert key is not None
        signer = Signer.from_secret(secret)
        top = await book(ex)
        bid = Decimal(top["bids"][0][0])
        query = (
            f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001"
            f"&price={bid}&timestamp={ex.server_time()}"
        )
        placed = await client.post(
            f"/api/v3/order?{query}&signature={signer.sign(query)}",
            headers={"X-MBX-APIKEY": api_key},
        )
        order_id = placed.json()["orderId"]
        for _ in range(500):
            ex.advance(1)
            order = ex.core.engine.order(key.account, "BTCUSDT", order_id=order_id)
            if order.status == "FILLED":
                break
        assert order.status == "FILLED"
        query = f"symbol=BTCUSDT&orderId={order_id}&timestamp={ex.server_time()}"
        trades = await client.get(
            f"/api/v3/myTrades?{query}&signature={signer.sign(query)}",
            headers={"X-MBX-APIKEY": api_key},
        )
    fills = trades.json()
    assert all(t["isMaker"] and Decimal(t["price"]) == bid for t in fills)
    assert sum(Decimal(t["qty"]) for t in fills) == Decimal("0.001")


def expected_book(path: Path) -> tuple[list[Any], list[Any]]:
    """The book a depth file ends with: its snapshot with every event applied in order."""
    snapshot = json.loads(path.with_name(path.name.replace(".jsonl", ".snapshot.json")).read_text())
    bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
    asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        for side, levels in ((bids, event["b"]), (asks, event["a"])):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = Decimal(qty)
    return sorted(bids.items(), reverse=True)[:1000], sorted(asks.items())[:1000]


@pytest.mark.asyncio
async def test_replay_of_two_files_reproduces_both_books() -> None:
    files = [DEPTH, DATA / "depth-ethusdt.jsonl"]  # gen_binance_depth.py 40 ... --seed 8
    events = sum(len(f.read_text().splitlines()) for f in files)
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), replay=files, market_interval_ms=60_000
    ) as ex:
        ex.advance(events)
        for symbol, path in zip(("BTCUSDT", "ETHUSDT"), files, strict=True):
            ours = await book(ex, symbol)
            bids, asks = expected_book(path)
            assert [(Decimal(p), Decimal(q)) for p, q in ours["bids"]] == bids
            assert [(Decimal(p), Decimal(q)) for p, q in ours["asks"]] == asks

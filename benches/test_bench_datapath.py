"""The data path: raw depth bytes to a strategy's ``on_book``, beside ccxt pro's, in one run.

* ``datapath/depth-to-on_book``: ``EVENTS`` Binance ``depthUpdate`` payloads (bytes, already
  received) go through everything between the socket and a no-op strategy:

  - ``tradewire``: :class:`~tradewire.venues.replay.RawDepthMarket` applies each payload to the
    Rust ``OrderBook`` and yields a :class:`~tradewire.model.BookUpdate` view of it; the
    :class:`~tradewire.trading.runner.Runner` hands it to the paper broker (which fills
    nothing: the strategy has no orders) and to the strategy's ``on_book``, which reads the
    best bid and ask exactly (``Decimal``), as the grid and DCA bots do.
  - ``ccxt``: what a ccxt pro user's loop does per message: ``json.loads`` of the payload,
    ccxt pro's own ``handle_order_book_message`` into its order book, and an async ``on_book``
    callback that reads the best bid and ask (floats: ccxt's book holds floats).

Both sides end on the same book (checked against a reference replay). ``extra_info`` has the
time per event in microseconds.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire._core import OrderBook
from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import RawDepthMarket

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tradewire.model import BookUpdate
    from tradewire.trading.strategy import StrategyContext

EVENTS = 20_000
RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))


class NoOp(Strategy):
    """Reads the top of the book on each event, and does nothing else."""

    def __init__(self) -> None:
        self.books = 0
        self.top: tuple[Decimal | None, Decimal | None] = (None, None)

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self.books += 1
        self.top = (book.best_bid, book.best_ask)


@pytest.fixture(scope="module")
def depth() -> tuple[bytes, list[bytes]]:
    stream = SyntheticDepthStream(seed=11)
    return stream.snapshot(), list(stream.events(EVENTS))


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


async def _tradewire(snapshot: bytes, payloads: list[bytes]) -> tuple[int, float]:
    strategy = NoOp()
    broker = PaperBroker(RULES, {"USDT": "1000"})
    runner = Runner(strategy, broker, RawDepthMarket(snapshot, payloads), RULES, mode="paper")
    await runner.run()
    bid = strategy.top[0]
    assert bid is not None
    return strategy.books, float(bid)


async def _ccxt(snapshot: bytes, payloads: list[bytes]) -> tuple[int, float]:
    ccxtpro = pytest.importorskip("ccxt.pro")
    exchange = ccxtpro.binance()
    seen = [0]
    top: list[Any] = [None, None]

    async def on_book(book: Any) -> None:
        seen[0] += 1
        top[0], top[1] = book["bids"][0][0], book["asks"][0][0]

    try:
        body = json.loads(snapshot)
        book = exchange.order_book(
            {
                "bids": [[float(p), float(q)] for p, q in body["bids"]],
                "asks": [[float(p), float(q)] for p, q in body["asks"]],
                "nonce": body["lastUpdateId"],
            }
        )
        for raw in payloads:
            exchange.handle_order_book_message(None, json.loads(raw), book)
            await on_book(book)
    finally:
        await exchange.close()
    return seen[0], float(top[0])


IMPLS: dict[str, Callable[[bytes, list[bytes]], Any]] = {"tradewire": _tradewire, "ccxt": _ccxt}


@pytest.mark.parametrize("impl", list(IMPLS))
def test_depth_to_on_book(
    benchmark: Any,  # pytest-benchmark's fixture is untyped
    depth: tuple[bytes, list[bytes]],
    loop: asyncio.AbstractEventLoop,
    impl: str,
) -> None:
    snapshot, payloads = depth
    results: list[tuple[int, float]] = []

    def round_() -> None:
        results.append(loop.run_until_complete(IMPLS[impl](snapshot, payloads)))

    benchmark.group = "datapath/depth-to-on_book"
    benchmark.extra_info.update(impl=impl, events_per_round=EVENTS)
    benchmark.pedantic(round_, rounds=5, iterations=1)
    books, best_bid = results[-1]
    reference = OrderBook("BTCUSDT")
    reference.apply_snapshot(snapshot)
    applied = sum(reference.apply_depth_update(raw) for raw in payloads)
    best = reference.best_bid()
    assert best is not None
    # tradewire's source yields one event per applied payload; ccxt's loop calls on_book once
    # per payload (the synthetic stream has no stale payload: all are applied).
    assert books == applied == len(payloads)
    assert best_bid == best[0]
    benchmark.extra_info["matches_reference"] = True
    if benchmark.stats is not None:
        benchmark.extra_info["us_per_event"] = round(benchmark.stats.stats.mean / books * 1e6, 2)

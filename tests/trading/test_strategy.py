"""One strategy, unchanged, read-only and on paper; paper orders go through the journal."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.journal import Journal
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy, StrategyContext
from tradewire.venues.paper import PaperBroker
from tradewire.venues.readonly import ReadOnlyVenue
from tradewire.venues.replay import ReplayMarket

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import BookUpdate, OrderUpdate

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


class Touch(Strategy):
    """Keeps one buy at the best bid; counts its callbacks."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.updates: list[OrderUpdate] = []

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    async def on_start(self, ctx: StrategyContext) -> None:
        self._count("start")

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self._count("book")
        if not ctx.open_orders() and book.best_bid is not None and len(self.updates) < 3:
            await ctx.buy(D("0.001"), book.best_bid)

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        self.updates.append(update)

    async def on_stop(self, ctx: StrategyContext) -> None:
        self._count("stop")


@pytest.mark.asyncio
async def test_read_only_sees_the_market_and_sends_nothing() -> None:
    venue = ReadOnlyVenue(RULES, {"USDT": "1000"})
    strategy = Touch()
    runner = Runner(
        strategy, venue, ReplayMarket(SyntheticDepthStream(seed=2), 200), RULES, mode="read-only"
    )
    result = await runner.run()
    assert strategy.calls["start"] == 1 and strategy.calls["stop"] == 1
    assert strategy.calls["book"] == result.log.market_events
    assert len(venue.placed) == 1 and result.log.fills == []
    assert any(m.startswith("would place BUY LIMIT 0.001") for m in result.log.messages)


@pytest.mark.asyncio
async def test_paper_orders_and_fills_are_journaled(tmp_path: Path) -> None:
    strategy = Touch()
    broker = PaperBroker(RULES, {"USDT": "1000", "BTC": "0"})
    with Journal.for_bot(tmp_path, "touch") as journal:
        runner = Runner(
            strategy, broker, ReplayMarket(SyntheticDepthStream(seed=2), 1500), RULES,
            mode="paper", bot="touch", journal=journal,
        )  # fmt: skip
        result = await runner.run()
        fills = result.log.fills
        assert fills, "the replay should cross a bid-side order"
        recorded = journal.fills()
        assert [(f.price, f.quantity, f.commission) for f in recorded] == [
            (f.price, f.quantity, f.commission) for f in fills
        ]
        orders = journal.orders()
        assert len(orders) == result.log.orders_placed
        assert all(o.client_order_id.startswith("touch-") for o in orders)
        assert {o.state for o in orders} <= {"NEW", "FILLED"}
        assert journal.unresolved() == []

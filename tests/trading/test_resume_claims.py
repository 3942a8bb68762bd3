"""After a restart the strategy takes back the orders it wants; the runner cancels the rest.

The venue is a ``ReadOnlyVenue`` run in live mode: it keeps the orders placed on it, so a second
runner on the same venue and journal is a restart.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.bots.grid import GridPlan
from tradewire.bots.params import GridParams
from tradewire.clock import WallClock
from tradewire.model import Order, SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.journal import Journal, OrderIntent
from tradewire.trading.runner import Runner, resume_journal
from tradewire.trading.strategy import Strategy, StrategyContext
from tradewire.venues.readonly import ReadOnlyVenue
from tradewire.venues.replay import ReplayMarket

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import Side

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
LINES: tuple[tuple[Side, D], ...] = (("BUY", D("60000")), ("BUY", D("61000")), ("SELL", D("70000")))


class Ladder(Strategy):
    """Places (or takes back) a buy or sell on each of ``lines`` at the start."""

    def __init__(self, lines: tuple[tuple[Side, D], ...]) -> None:
        self.lines = lines
        self.kept: list[str] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        for side, price in self.lines:
            if ctx.claim(side, D("0.001"), price) is not None:
                self.kept.append(price.to_eng_string())
            else:
                await ctx.place(side, D("0.001"), price)


async def _run(venue: ReadOnlyVenue, journal: Journal, strategy: Strategy) -> Runner:
    market = ReplayMarket(SyntheticDepthStream(seed=2), 5)
    runner = Runner(strategy, venue, market, RULES, mode="live", bot="ladder", journal=journal)
    await runner.run()
    return runner


@pytest.mark.asyncio
async def test_orders_the_strategy_does_not_take_back_are_canceled(tmp_path: Path) -> None:
    venue = ReadOnlyVenue(RULES, {"USDT": "100000", "BTC": "1"})
    with Journal.for_bot(tmp_path, "ladder") as journal:
        await _run(venue, journal, Ladder(LINES))
        assert len(journal.open_orders()) == 3
        # Restarted with one line moved: two orders kept, the third canceled, one placed.
        moved = Ladder((*LINES[:2], ("SELL", D("71000"))))
        runner = await _run(venue, journal, moved)
        assert moved.kept == ["60000", "61000"]
        open_now = await venue.open_orders("BTCUSDT")
        assert sorted(o.price for o in open_now if o.price) == [D(60000), D(61000), D(71000)]
        states = {o.price: o.state for o in journal.orders()}
        assert states == {D(60000): "NEW", D(61000): "NEW", D(70000): "CANCELED", D(71000): "NEW"}
        assert {o.client_order_id for o in journal.open_orders()} == {
            o.client_order_id for o in open_now
        }
        assert any(
            m.startswith("canceled SELL 0.00100 @ 70000.00 from the last run")
            for m in runner.ctx.run_log.messages
        ), runner.ctx.run_log.messages
        # A strategy that takes nothing back leaves nothing of the last run working.
        await _run(venue, journal, Strategy())
        assert await venue.open_orders("BTCUSDT") == [] and journal.open_orders() == []


@pytest.mark.asyncio
async def test_resume_journal_lists_what_is_still_open(tmp_path: Path) -> None:
    venue = ReadOnlyVenue(RULES, {"USDT": "100000", "BTC": "1"})
    with Journal.for_bot(tmp_path, "ladder") as journal:
        await _run(venue, journal, Ladder(LINES))
        first = journal.orders()[0]
        await venue.cancel_order("BTCUSDT", first.client_order_id)  # canceled while down
        resumption = await resume_journal(journal, venue, grace_ms=0)
        assert resumption.report.checked == 3
        assert sorted(o.price for o in resumption.open_orders if o.price) == [D(61000), D(70000)]
        assert journal.get(first.client_order_id) is not None
        assert journal.get(first.client_order_id).state == "CANCELED"  # type: ignore[union-attr]


def _order(side: Side, price: str, qty: str = "0.1") -> Order:
    return Order("BTCUSDT", side, "LIMIT", D(qty), f"o-{side}-{price}", "NEW", price=D(price))


def test_a_restarted_grid_leaves_empty_the_line_its_orders_left_empty() -> None:
    params = GridParams(D(100), D(200), 10, quantity_per_grid=D("0.1"))
    # Price 154: line 150 is nearest; the last run left 160 empty (buys to 150, sells from 170).
    fresh = GridPlan(params, RULES, D(154))
    assert fresh.levels[fresh.empty] == D(150)
    kept = [_order("BUY", p) for p in ("100", "110", "120", "130", "140", "150")] + [
        _order("SELL", p) for p in ("170", "180", "190", "200")
    ]
    plan = GridPlan(params, RULES, D(154), kept=kept)
    assert plan.levels[plan.empty] == D(160)
    assert {(s, p) for _, s, p in plan.orders} == {(o.side, o.price) for o in kept}
    # Orders of another size are not this grid's: the nearest line stays empty.
    other = GridPlan(params, RULES, D(154), kept=[_order("BUY", "150", "0.2")])
    assert other.levels[other.empty] == D(150)


class _FillsWhileWaiting(WallClock):
    """A clock whose sleep is when things happen on the venue: the open buy fills, and the
    order sent just before the crash shows up."""

    def __init__(self, venue: ReadOnlyVenue, fills: str, shows: str) -> None:
        self.venue, self.fills, self.shows = venue, fills, shows

    async def sleep(self, seconds: float) -> None:
        orders = self.venue._orders
        buy = orders[self.fills]
        orders[self.fills] = replace(
            buy, status="FILLED", executed_qty=buy.quantity, cumulative_quote_qty=D("60")
        )
        orders[self.shows] = Order(
            "BTCUSDT", "SELL", "LIMIT", D("0.001"), self.shows, "NEW", D(70000)
        )


@pytest.mark.asyncio
async def test_an_order_that_fills_while_a_resume_waits_is_not_taken_back_as_open(
    tmp_path: Path,
) -> None:
    # The resume waits for an order sent just before the crash (younger than the grace); an
    # open order that fills meanwhile must not come back open from its first look, since its
    # fill may have happened before the order updates are read again.
    venue = ReadOnlyVenue(RULES, {"USDT": "100000", "BTC": "1"})
    with Journal.for_bot(tmp_path, "ladder") as journal:
        await _run(venue, journal, Ladder(LINES[:1]))
        buy = journal.orders()[0].client_order_id
        journal.record_intent(
            OrderIntent("ladder-sent", "BTCUSDT", "SELL", "LIMIT", D("0.001"), D(70000), "GTC")
        )
        clock = _FillsWhileWaiting(venue, buy, "ladder-sent")
        resumption = await resume_journal(journal, venue, grace_ms=60_000, clock=clock)
        assert [o.client_order_id for o in resumption.open_orders] == ["ladder-sent"]
        assert journal.get(buy).state == "FILLED"  # type: ignore[union-attr]


class CutOff(Ladder):
    """Places its lines; then one of them is canceled on the venue and the answer never comes
    back (as when a run's stop cuts off a cancel in flight, or its order update)."""

    def __init__(self, venue: ReadOnlyVenue) -> None:
        super().__init__(LINES)
        self.venue = venue
        self.cut = False

    async def on_book(self, ctx: StrategyContext, book: object) -> None:
        for order in ctx.open_orders():
            if order.price == D(70000) and not self.cut:
                self.cut = True
                await self.venue.cancel_order("BTCUSDT", order.client_order_id)


@pytest.mark.asyncio
async def test_a_run_ends_with_the_journal_agreeing_with_the_venue(tmp_path: Path) -> None:
    venue = ReadOnlyVenue(RULES, {"USDT": "100000", "BTC": "1"})
    with Journal.for_bot(tmp_path, "ladder") as journal:
        strategy = CutOff(venue)
        runner = await _run(venue, journal, strategy)
        assert strategy.cut and runner.exception is None
        # The run looked at its open orders once more at its end: the one canceled behind its
        # back is journaled CANCELED now, not only at the next start.
        states = {o.price: o.state for o in journal.orders()}
        assert states == {D(60000): "NEW", D(61000): "NEW", D(70000): "CANCELED"}
        assert {o.client_order_id for o in journal.open_orders()} == {
            o.client_order_id for o in await venue.open_orders("BTCUSDT")
        }

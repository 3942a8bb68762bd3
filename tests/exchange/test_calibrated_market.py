"""The calibrated synthetic market driving the local exchange: its book and trades come through
the exchange like the real market's, it moves, and it fills an account's resting order it
trades through."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewire.exchange import LocalExchange
from tradewire.exchange.engine import NewOrder

pytestmark = pytest.mark.asyncio


async def test_the_calibrated_market_moves_and_trades_through_the_exchange() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="calibrated", seed=3) as ex:
        ex.pause()
        book = ex.core.engine.depth("BTCUSDT", 5)
        assert book.bids and book.asks
        first_bid, first_ask = book.bids[0][0], book.asks[0][0]
        assert first_ask - first_bid == Decimal("0.01")  # one tick, as BTCUSDT most of the time
        ex.advance(600)  # one minute of market time, 100 ms a step
        trades = ex.core.engine.recent_trades("BTCUSDT")
        assert len(trades) > 100  # ~30 a second in the calibrated market, bursty
        later = ex.core.engine.depth("BTCUSDT", 5)
        assert later.bids[0][0] < later.asks[0][0]
        assert (later.bids[0][0], later.asks[0][0]) != (first_bid, first_ask)


async def test_the_same_seed_gives_the_same_market() -> None:
    tops = []
    for _ in range(2):
        async with LocalExchange(symbols=("BTCUSDT",), market="calibrated", seed=9) as ex:
            ex.pause()
            ex.advance(300)
            book = ex.core.engine.depth("BTCUSDT", 3)
            tops.append((book.bids, book.asks, len(ex.core.engine.recent_trades("BTCUSDT"))))
    assert tops[0] == tops[1]


async def test_a_resting_order_fills_when_the_calibrated_market_trades_through_it() -> None:
    async with LocalExchange(
        symbols=("BTCUSDT",), market="calibrated", seed=4, market_speed=1.0
    ) as ex:
        ex.pause()
        account = 77
        ex.core.engine.open_account(account, {"USDT": Decimal(100_000), "BTC": Decimal(1)})
        bid = ex.core.engine.depth("BTCUSDT", 1).bids[0][0]
        # buy orders a few dollars under the touch, sells a few over: the market's moves reach
        # some of them within ten minutes
        for k in range(1, 6):
            for side, price in (("BUY", bid - 5 * k), ("SELL", bid + 5 * k)):
                ex.core.engine.place(
                    account,
                    NewOrder(
                        "BTCUSDT",
                        side,
                        "LIMIT",
                        quantity=Decimal("0.001"),
                        price=price,
                        time_in_force="GTC",
                    ),
                )
        ex.advance(6000)
        filled = [o for o in ex.core.engine.all_orders(account, "BTCUSDT") if o.status == "FILLED"]
        assert filled, "ten minutes of a 50% volatility market reached none of the orders"

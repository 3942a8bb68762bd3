"""Paper trading and backtests fill alike: the same strategy on the same data, through the
Runner and the paper broker event by event, and through the backtest driver, gives the same
fills, to the last digit."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

import pytest

from tradewire._core import Tape
from tradewire.backtest import run_tapes
from tradewire.bots.grid import GridBot
from tradewire.bots.params import GridParams
from tradewire.clock import MarketClock
from tradewire.model import Fill, SymbolRules
from tradewire.trading.runner import Runner
from tradewire.venues.paper import FILL_MODELS, FillModel, PaperBroker
from tradewire.venues.replay import TapeMarket

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
BALANCES = {"USDT": "100000", "BTC": "1"}
U = 10**8
TICK = U // 100
BUY, SELL, BID, ASK, END, CLEAR = range(6)


def _market(steps: int) -> list[Tape]:
    """A two-level book around a mid swinging 5 dollars each way, a trade after each move."""
    kind: list[int] = []
    time_us: list[int] = []
    price: list[int] = []
    qty: list[int] = []

    def row(k: int, t: int, p: int, q: int) -> None:
        kind.append(k)
        time_us.append(t)
        price.append(p)
        qty.append(q)

    t0 = 1_723_161_255_000_000
    row(CLEAR, t0, 0, 0)
    last_bids: tuple[int, ...] = ()
    last_asks: tuple[int, ...] = ()
    for i in range(steps):
        t = t0 + i * 50_000
        mid = 6_500_000 + round(500 * math.sin(i / 40)) + (i * 7919) % 5 - 2
        bid, ask = (mid - 1) * TICK, (mid + 1) * TICK
        bids, asks = (bid, bid - TICK), (ask, ask + TICK)
        for p in last_bids:
            if p not in bids:
                row(BID, t, p, 0)
        for p in last_asks:
            if p not in asks:
                row(ASK, t, p, 0)
        size = (1 + (i * 31) % 7) * U // 10
        row(BID, t, bid, size)
        row(BID, t, bid - TICK, 2 * U)
        row(ASK, t, ask, size)
        row(ASK, t, ask + TICK, 2 * U)
        row(END, t, 0, 0)
        last_bids, last_asks = bids, asks
        taker_buys = i % 3 != 0
        row(BUY if taker_buys else SELL, t + 1, ask if taker_buys else bid, (1 + i % 4) * U // 200)
    cut = len(kind) // 2
    return [
        Tape.from_columns(kind[:cut], time_us[:cut], price[:cut], qty[:cut]),
        Tape.from_columns(kind[cut:], time_us[cut:], price[cut:], qty[cut:]),
    ]


def _grid() -> GridBot:
    return GridBot(
        GridParams(
            Decimal(64960), Decimal(65040), 16, quantity_per_grid=Decimal("0.01"), force=True
        )
    )


def _key(f: Fill) -> tuple[object, ...]:
    return (f.time_ms, f.side, f.price, f.quantity, f.commission, f.commission_asset, f.is_maker)


@pytest.mark.parametrize("fill_model", FILL_MODELS)
def test_paper_and_backtest_fill_alike(fill_model: FillModel) -> None:
    tapes = _market(4000)
    backtest = run_tapes(
        _grid(), tapes, RULES, fill_model=fill_model, start_balances=BALANCES, book_every_ms=0
    )
    broker = PaperBroker(RULES, BALANCES, fill_model=fill_model)
    runner = Runner(_grid(), broker, TapeMarket(tapes), RULES, mode="paper", clock=MarketClock())
    paper = asyncio.run(runner.run())
    assert len(backtest.fills) > 50  # the grid traded through the swings
    assert [_key(f) for f in backtest.fills] == [_key(f) for f in paper.log.fills]
    assert backtest.run.end_balances == paper.end_balances
    assert Decimal(backtest.report["total_pnl"]) == paper.pnl.total

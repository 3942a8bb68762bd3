"""Backtests on the real BTCUSDT recording in tests/data/market (2024-08-08, six minutes):
fills never larger than what traded, fees exact, runs deterministic, paper equal to backtest."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tradewire._core import Tape
from tradewire.backtest import backtest, default_rules
from tradewire.backtest.data import read_tape
from tradewire.bots.grid import GridBot
from tradewire.bots.params import GridParams
from tradewire.clock import MarketClock
from tradewire.rules import commission
from tradewire.trading.runner import Runner
from tradewire.venues.paper import FillModel, PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from tradewire.model import Fill

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
RULES = default_rules("BTCUSDT")
BALANCES = {"USDT": "20000", "BTC": "0.3"}
U = 10**8


def _tapes() -> list[Tape]:
    return list(read_tape(RECORDING, "BTCUSDT"))


def _trades_only(tapes: list[Tape]) -> list[Tape]:
    out = []
    for tape in tapes:
        keep = tape.kind <= 1
        out.append(
            Tape.from_columns(
                tape.kind[keep].tolist(),
                tape.time_us[keep].tolist(),
                tape.price[keep].tolist(),
                tape.qty[keep].tolist(),
            )
        )
    return out


def _grid() -> GridBot:
    # 61,500-62,100 over 30 lines ($20 apart): the six minutes cross several lines.
    return GridBot(
        GridParams(
            Decimal(61500), Decimal(62100), 30, quantity_per_grid=Decimal("0.002"), force=True
        )
    )


def _key(f: Fill) -> tuple[object, ...]:
    return (f.time_ms, f.side, f.price, f.quantity, f.commission, f.commission_asset, f.is_maker)


def test_no_fill_is_larger_than_what_traded_through_it() -> None:
    tapes = _trades_only(_tapes())
    result = backtest(_grid(), tapes, start_balances=BALANCES)
    maker = [f for f in result.fills if f.is_maker]
    assert len(maker) >= 10
    # what traded strictly through each price, per millisecond, on each side
    kinds = np.concatenate([t.kind for t in tapes])
    times = np.concatenate([t.time_us for t in tapes]) // 1000
    prices = np.concatenate([t.price for t in tapes])
    qtys = np.concatenate([t.qty for t in tapes])
    filled: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for f in maker:
        filled[(f.time_ms, f.side)] += f.quantity
        at = times == f.time_ms
        limit = int(f.price * U)
        # a resting buy fills on sells below it; a resting sell on buys above it
        through = (
            (kinds == 1) & (prices < limit) if f.side == "BUY" else (kinds == 0) & (prices > limit)
        )
        traded = Decimal(int(qtys[at & through].sum())) / U
        assert filled[(f.time_ms, f.side)] <= traded, f
    touch = backtest(_grid(), tapes, start_balances=BALANCES, fill_model="touch")
    # touch fills whole orders: never fewer base units than trade-through, usually more pieces
    assert sum(f.quantity for f in touch.fills) >= sum(f.quantity for f in maker)


def test_fees_are_exact() -> None:
    result = backtest(_grid(), _tapes(), start_balances=BALANCES)
    assert result.fills
    for f in result.fills:
        received = f.quantity if f.side == "BUY" else f.price * f.quantity
        assert f.commission == commission(received, Decimal("0.001"))
        assert f.commission_asset == ("BTC" if f.side == "BUY" else "USDT")
    report = result.report
    assert Decimal(report["total_pnl"]) == (
        Decimal(report["realized_pnl"])
        + Decimal(report["unrealized_pnl"])
        - Decimal(report["fees"])
    )


def test_two_runs_give_the_same_result() -> None:
    a = backtest(_grid(), _tapes(), start_balances=BALANCES, fill_model="queue")
    b = backtest(_grid(), _tapes(), start_balances=BALANCES, fill_model="queue")
    assert [_key(f) for f in a.fills] == [_key(f) for f in b.fills]
    assert a.run.end_balances == b.run.end_balances
    assert a.report["total_pnl"] == b.report["total_pnl"]


@pytest.mark.parametrize("fill_model", ["trade-through", "touch"])
def test_paper_on_the_recording_fills_as_the_backtest(fill_model: FillModel) -> None:
    """Paper sees the top 20 levels of each book (what its market source carries), the
    backtest the whole book; the fills agree. (The queue model also agrees when both see the
    same depth, test_parity.py; here paper learns a deep level's queue later.)"""
    tapes = _tapes()
    result = backtest(
        _grid(), tapes, start_balances=BALANCES, fill_model=fill_model, book_every_ms=0
    )
    broker = PaperBroker(RULES, BALANCES, fill_model=fill_model)
    runner = Runner(_grid(), broker, TapeMarket(tapes), RULES, mode="paper", clock=MarketClock())
    paper = asyncio.run(runner.run())
    assert len(result.fills) >= 5
    assert [_key(f) for f in result.fills] == [_key(f) for f in paper.log.fills]
    assert result.run.end_balances == paper.end_balances

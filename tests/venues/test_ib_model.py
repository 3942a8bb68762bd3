"""The neutral model's broker values: tick schedules in the one rules path, trading sessions,
signed positions, stop-market requests (the paper broker takes IB's STP, not a take-profit
market order IB does not have)."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from tradewire.errors import DecimalError, InvalidOrder
from tradewire.ibgateway.market import NEW_YORK
from tradewire.model import OrderRequest, Position, SymbolRules, TradingSessions
from tradewire.venues.ib import US_STOCK_TICKS, us_stock_rules
from tradewire.venues.paper import PaperBroker


def test_the_tick_schedule_decides_the_tick_by_price() -> None:
    rules = us_stock_rules("aapl")
    assert (rules.symbol, rules.quote_asset, rules.step_size, rules.min_notional) == (
        "AAPL",
        "USD",
        D(1),
        D(0),
    )
    assert rules.tick_for(D("0.9999")) == D("0.0001")
    assert rules.tick_for(D("1")) == D("0.01")
    assert rules.round_price(D("0.12345"), "BUY") == D("0.1234")
    assert rules.round_price(D("190.129"), "SELL") == D("190.13")
    sub_dollar = rules.prepare("BUY", "LIMIT", quantity="10.9", price="0.51239")
    assert (sub_dollar.quantity, sub_dollar.price) == (D(10), D("0.5123"))
    with pytest.raises(InvalidOrder, match=r"tickSize 0\.01"):
        rules.prepare("BUY", "LIMIT", quantity="1", price="190.005", rounding=False)
    with pytest.raises(InvalidOrder, match=r"floors to 0|below LOT_SIZE"):
        rules.prepare("BUY", "LIMIT", quantity="0.5", price="190")


def test_a_schedule_band_with_a_zero_tick_is_refused() -> None:
    with pytest.raises(DecimalError, match="positive"):
        SymbolRules("X", "X", "USD", D("0.01"), D(1), tick_schedule=((D(0), D(0)),))
    same = SymbolRules("X", "X", "USD", D("0.0001"), D(1), tick_schedule=US_STOCK_TICKS[::-1])
    assert same.tick_schedule == US_STOCK_TICKS  # sorted by edge


def test_regular_hours_skip_weekends_and_nights() -> None:
    friday = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=NEW_YORK)
    monday = datetime.datetime(2026, 11, 30, 9, 30, tzinfo=NEW_YORK)
    start_ms = int(friday.timestamp() * 1000)
    sessions = TradingSessions.regular_hours(start_ms, int(monday.timestamp() * 1000) + 1)
    assert len(sessions.intervals) == 2  # Friday and Monday
    assert sessions.is_open(start_ms)
    saturday = int(datetime.datetime(2026, 11, 28, 12, 0, tzinfo=NEW_YORK).timestamp() * 1000)
    assert not sessions.is_open(saturday)
    assert sessions.next_open(saturday) == int(monday.timestamp() * 1000)
    with pytest.raises(ValueError, match="ascending"):
        TradingSessions(((10, 20), (15, 30)))


def test_a_short_position_and_a_stop_market_request() -> None:
    short = Position("AAPL", D(-30), D("190.02"), "265598")
    assert short.is_short and not Position("AAPL", D(5), D(1)).is_short
    request = OrderRequest("AAPL", "SELL", "STOP_LOSS", D(3), "c1", stop_price=D("180"))
    assert (request.price, request.time_in_force) == (None, None)


@pytest.mark.asyncio
async def test_the_paper_broker_takes_a_stop_market_on_ib_rules_but_no_take_profit() -> None:
    rules = us_stock_rules("AAPL")
    broker = PaperBroker(rules, {"USD": "1000", "AAPL": "10"})
    stp = OrderRequest("AAPL", "SELL", "STOP_LOSS", D(3), "c1", stop_price=D("180"))
    placed = await broker.place_order(stp)
    assert (placed.status, placed.type, placed.stop_price) == ("NEW", "STOP_LOSS", D("180"))
    assert (await broker.balances())["AAPL"].locked == D(3)
    take_profit = OrderRequest("AAPL", "SELL", "TAKE_PROFIT", D(3), "c2", stop_price=D("200"))
    with pytest.raises(InvalidOrder, match="TAKE_PROFIT is not allowed"):
        await broker.place_order(take_profit)

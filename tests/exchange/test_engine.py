"""The engine through its query API: resting, crossing, partial fills, locks, commission, copies."""

from __future__ import annotations

import doctest
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import ExchangeRejection
from tradewire.exchange import engine as engine_module
from tradewire.exchange.engine import ExchangeEngine, NewOrder
from tradewire.exchange.events import AggTradePrinted, LevelChanged, OrderChanged, TradePrinted
from tradewire.exchange.ledger import LedgerBalance, commission
from tradewire.exchange.symbols import spec_for

if TYPE_CHECKING:
    from tradewire.exchange.events import EngineEvent

NOW = 1_700_000_000_000
MAKER, TAKER = 1, 2


def d(text: str) -> Decimal:
    return Decimal(text)


def limit(
    side: str, qty: str, price: str, tif: str = "GTC", client_id: str | None = None
) -> NewOrder:
    return NewOrder(
        "BTCUSDT",
        side,
        "LIMIT",
        quantity=d(qty),
        price=d(price),
        time_in_force=tif,
        client_order_id=client_id,
    )


@pytest.fixture
def engine() -> ExchangeEngine:
    made = ExchangeEngine([spec_for("BTCUSDT")], lambda: NOW)
    made.open_account(MAKER)
    made.open_account(TAKER)
    return made


def test_a_limit_order_rests_and_locks_its_quote(engine: ExchangeEngine) -> None:
    placed = engine.place(MAKER, limit("BUY", "0.01", "60000", client_id="bid-1"))
    assert (placed.order.status, placed.fills) == ("NEW", ())
    usdt = engine.account_balances(MAKER)["USDT"]
    assert (usdt.free, usdt.locked) == (d("9400"), d("600"))
    assert [o.client_order_id for o in engine.open_orders(MAKER)] == ["bid-1"]
    depth = engine.depth("BTCUSDT", 5)
    assert depth.bids == ((d("60000"), d("0.01")),)
    assert depth.asks == ()
    assert depth.update_id == 2  # one change after the first id


def test_a_crossing_order_partially_fills_the_maker_and_charges_commission(
    engine: ExchangeEngine,
) -> None:
    engine.place(MAKER, limit("SELL", "0.03", "60000"))
    placed = engine.place(TAKER, limit("BUY", "0.01", "61000"))  # crosses at the maker's price
    assert placed.order.status == "FILLED"
    [fill] = placed.fills
    assert (fill.price, fill.qty, fill.is_maker) == (d("60000"), d("0.01"), False)
    assert fill.commission == commission(d("0.01"), d("0.001")) == d("0.00001")
    assert fill.commission_asset == "BTC"

    maker = engine.order(MAKER, "BTCUSDT", order_id=1)
    assert (maker.status, maker.executed_qty, maker.remaining) == (
        "PARTIALLY_FILLED",
        d("0.01"),
        d("0.02"),
    )
    taker = engine.account_balances(TAKER)
    assert taker["USDT"] == LedgerBalance(free=d("9400"), locked=d("0"))  # 61000's excess freed
    assert taker["BTC"].free == d("1") + d("0.01") - d("0.00001")
    seller = engine.account_balances(MAKER)
    assert (seller["BTC"].free, seller["BTC"].locked) == (d("0.97"), d("0.02"))
    assert seller["USDT"].free == d("10000") + d("600") - commission(d("600"), d("0.001"))
    [maker_fill] = engine.my_trades(MAKER, "BTCUSDT")
    assert (maker_fill.is_maker, maker_fill.commission_asset) == (True, "USDT")
    [trade] = engine.recent_trades("BTCUSDT")
    assert (trade.price, trade.qty, trade.buyer_is_maker) == (d("60000"), d("0.01"), False)
    assert engine.last_price("BTCUSDT") == d("60000")
    assert engine.depth("BTCUSDT", 5).asks == ((d("60000"), d("0.02")),)


def test_cancel_frees_what_the_order_locked(engine: ExchangeEngine) -> None:
    engine.place(MAKER, limit("BUY", "0.01", "60000", client_id="bid-1"))
    cancelled = engine.cancel(MAKER, "BTCUSDT", client_id="bid-1", cancel_client_id="undo")
    assert cancelled.status == "CANCELED"
    usdt = engine.account_balances(MAKER)["USDT"]
    assert (usdt.free, usdt.locked) == (d("10000"), d("0"))
    assert engine.open_orders(MAKER) == []
    assert [o.status for o in engine.all_orders(MAKER, "BTCUSDT")] == ["CANCELED"]
    with pytest.raises(ExchangeRejection) as again:
        engine.cancel(MAKER, "BTCUSDT", order_id=cancelled.order_id)
    assert again.value.code == -2011
    with pytest.raises(ExchangeRejection) as unknown:
        engine.order(MAKER, "BTCUSDT", order_id=99)
    assert unknown.value.code == -2013


def test_ioc_and_fok_against_a_thin_book(engine: ExchangeEngine) -> None:
    engine.place(MAKER, limit("SELL", "0.01", "60000"))
    fok = engine.place(TAKER, limit("BUY", "0.02", "60000", tif="FOK"))
    assert (fok.order.status, fok.fills) == ("EXPIRED", ())
    ioc = engine.place(TAKER, limit("BUY", "0.02", "60000", tif="IOC"))
    assert (ioc.order.status, ioc.order.executed_qty) == ("EXPIRED", d("0.01"))
    assert engine.account_balances(TAKER)["USDT"].locked == 0
    assert engine.depth("BTCUSDT", 5).asks == ()


def test_insufficient_balance_is_rejected_and_changes_nothing(engine: ExchangeEngine) -> None:
    before = engine.account(MAKER)
    with pytest.raises(ExchangeRejection) as rejected:
        engine.place(MAKER, limit("BUY", "1", "60000"))  # 60,000 USDT of 10,000
    assert rejected.value.code == -2010
    assert engine.account(MAKER).balances["USDT"] == before.balances["USDT"]
    assert engine.all_orders(MAKER, "BTCUSDT") == []


def test_what_the_query_api_returns_cannot_change_the_engine(engine: ExchangeEngine) -> None:
    engine.place(MAKER, limit("BUY", "0.01", "60000"))
    order = engine.open_orders(MAKER)[0]
    order.status = "FILLED"
    order.orig_qty = d("5")
    engine.open_orders(MAKER).clear()
    engine.all_orders(MAKER, "BTCUSDT").clear()
    engine.my_trades(MAKER).append(None)  # type: ignore[arg-type]
    assert engine.order(MAKER, "BTCUSDT", order_id=order.order_id).status == "NEW"
    assert engine.open_orders(MAKER)[0].orig_qty == d("0.01")
    assert engine.my_trades(MAKER) == []
    balances = engine.account_balances(MAKER)
    with pytest.raises(TypeError):
        balances["USDT"] = balances["BTC"]  # type: ignore[index]
    assert not hasattr(engine, "books") and not hasattr(engine, "accounts")
    public = [n for n in vars(engine) if not n.startswith("_")]
    assert public == []


def test_events_come_in_order_and_subscribe_can_be_undone(engine: ExchangeEngine) -> None:
    seen: list[EngineEvent] = []
    stop = engine.subscribe(seen.append)
    engine.place(MAKER, limit("SELL", "0.01", "60000"))
    engine.place(TAKER, limit("BUY", "0.01", "60000"))
    kinds = [type(e).__name__ for e in seen]
    assert kinds[:3] == ["OrderChanged", "LevelChanged", "BalancesChanged"]  # maker: NEW, rests
    trades = [e for e in seen if isinstance(e, TradePrinted)]
    aggs = [e for e in seen if isinstance(e, AggTradePrinted)]
    assert len(trades) == len(aggs) == 1
    fills = [e for e in seen if isinstance(e, OrderChanged) and e.exec_type == "TRADE"]
    assert {e.order.account for e in fills} == {MAKER, TAKER}
    assert any(isinstance(e, LevelChanged) and e.total == 0 for e in seen)
    first = fills[0].order
    first.status = "NEW"  # the event holds a copy
    assert engine.order(first.account, "BTCUSDT", order_id=first.order_id).status == "FILLED"
    stop()
    count = len(seen)
    engine.deposit(MAKER, "BNB", d("2"))
    assert len(seen) == count
    assert engine.account_balances(MAKER)["BNB"].free == d("2")


def test_the_market_makers_quotes_trade_with_accounts(engine: ExchangeEngine) -> None:
    engine.place(MAKER, limit("BUY", "0.01", "60000"))
    engine.quote("BTCUSDT", "SELL", d("59990"), d("0.004"))  # crosses the bid: trades
    assert engine.order(MAKER, "BTCUSDT", order_id=1).executed_qty == d("0.004")
    assert not engine.is_quoted("BTCUSDT", "SELL", d("59990"))
    engine.quote("BTCUSDT", "SELL", d("60010"), d("0.5"))
    assert engine.is_quoted("BTCUSDT", "SELL", d("60010"))
    engine.take("BTCUSDT", "BUY", d("0.5"))
    assert not engine.is_quoted("BTCUSDT", "SELL", d("60010"))
    assert [t.price for t in engine.recent_trades("BTCUSDT")] == [d("60000"), d("60010")]
    assert [t.price for t in engine.recent_trades("BTCUSDT", 1)] == [d("60010")]


def test_the_engine_docstring_example_runs() -> None:
    result = doctest.testmod(engine_module)
    assert result.failed == 0
    assert result.attempted >= 5


def test_commission_follows_each_accounts_rates() -> None:
    engine = ExchangeEngine([spec_for("BTCUSDT")], lambda: NOW)
    engine.open_account(MAKER, maker_rate=d("0.0002"))
    engine.open_account(TAKER, taker_rate=d("0.00075"))
    assert engine.account(MAKER).commission_body()["makerCommission"] == 2
    engine.place(MAKER, limit("BUY", "0.01234", "60000.5"))
    engine.place(TAKER, limit("SELL", "0.01234", "60000"))
    [maker_fill] = engine.my_trades(MAKER)
    [taker_fill] = engine.my_trades(TAKER)
    assert maker_fill.commission == d("0.00000247")  # 0.01234 * 0.0002 = 0.000002468, nearest
    assert taker_fill.commission == d("0.55530463")  # 740.40617 * 0.00075 = 0.5553046275
    assert taker_fill.commission == commission(d("0.01234") * d("60000.5"), d("0.00075"))


def test_the_tick_and_step_grids_start_at_zero_not_at_the_minimum() -> None:
    # filters.md: price % tickSize == 0 and quantity % stepSize == 0, whatever minPrice/minQty.
    from tradewire.exchange.filters import check_lot, check_price
    from tradewire.exchange.symbols import SymbolSpec

    spec = SymbolSpec(
        symbol="XYZUSDT", base="XYZ", quote="USDT", tick_size=d("0.01"), step_size=d("0.1"),
        min_notional=d("0"), start_price=d("1"), min_price=d("0.015"), min_qty=d("0.15"),
    )  # fmt: skip
    check_price(spec, d("0.02"))
    check_lot(spec, d("0.2"))
    with pytest.raises(ExchangeRejection, match="PRICE_FILTER"):
        check_price(spec, d("0.025"))
    with pytest.raises(ExchangeRejection, match="PRICE_FILTER"):
        check_price(spec, d("0.01"))  # on the grid, below minPrice
    with pytest.raises(ExchangeRejection, match="LOT_SIZE"):
        check_lot(spec, d("0.25"))

"""The local exchange's stop-market orders (STOP_LOSS, TAKE_PROFIT) as rest-api.md "New order"
describes them: listed in exchangeInfo's orderTypes, quantity and stopPrice mandatory, no price
or timeInForce; held until the last price reaches the stop, then a MARKET order. A symbol
whose orderTypes do not list them refuses them: by default the local exchange's symbols list
the bundled 2021 exchangeInfo's types, which do not; ``order_types=`` adds them."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tradewire.errors import ExchangeRejection
from tradewire.exchange import LocalExchange
from tradewire.exchange.engine import ExchangeEngine, NewOrder
from tradewire.exchange.symbols import ALL_ORDER_TYPES, ORDER_TYPES, spec_for

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

D = Decimal
STOP = {"symbol": "BTCUSDT", "type": "STOP_LOSS", "side": "SELL", "quantity": "0.01"}
#: BTCUSDT listing the stop-market types too (the bundled 2021 exchangeInfo does not).
SPEC = replace(spec_for("BTCUSDT"), order_types=ALL_ORDER_TYPES)


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """The exchange of the module's tests, its symbols listing the stop-market types."""
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), market="none", order_types=ALL_ORDER_TYPES
    ) as exchange:
        yield exchange


@pytest.mark.asyncio
async def test_exchange_info_lists_the_stop_markets_when_told_to(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
    assert info["symbols"][0]["orderTypes"] == list(ALL_ORDER_TYPES)


@pytest.mark.asyncio
async def test_by_default_the_symbols_list_the_2021_exchange_info_types() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as exchange:
        [spec] = exchange.core.engine.specs()
        assert spec.order_types == ORDER_TYPES
        assert not {"STOP_LOSS", "TAKE_PROFIT"} & set(spec.order_types)
    with pytest.raises(ValueError, match="unknown order types"):
        LocalExchange(order_types=("LIMIT", "TRAILING_STOP"))


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("extra", "answer"),
    [
        (
            {},
            (-1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."),
        ),
        (
            {"stopPrice": "59000", "price": "58000"},
            (-1106, "Parameter 'price' sent when not required."),
        ),
        (
            {"stopPrice": "59000", "timeInForce": "GTC"},
            (-1114, "TimeInForce parameter sent when not required."),
        ),
        (
            {"stopPrice": "59000", "quoteOrderQty": "100"},
            (-1106, "Parameter 'quoteOrderQty' sent when not required."),
        ),
    ],
)
async def test_a_stop_market_takes_a_stop_price_and_no_price(
    alice: Any, extra: dict[str, str], answer: tuple[int, str]
) -> None:
    response = await alice.call("POST", "/api/v3/order", **STOP, **extra)
    assert (response.json()["code"], response.json()["msg"]) == answer
    assert await alice.balance("BTC") == ("1.00000000", "0.00000000")


@pytest.mark.asyncio
async def test_a_take_profit_market_sell_waits_then_sells_at_the_market(
    alice: Any, bob: Any, make_trader: Any
) -> None:
    carol = make_trader()
    await bob.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="0.02", price="60000")  # fmt: skip
    await carol.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001")  # 60000
    placed = await alice.order(
        symbol="BTCUSDT", side="SELL", type="TAKE_PROFIT", quantity="0.01", stopPrice="61000"
    )
    assert "status" not in placed  # an ACK, the default of the types other than LIMIT, MARKET
    queried = await alice.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
    assert (queried["status"], queried["isWorking"], queried["price"], queried["stopPrice"]) == (
        "NEW",
        False,
        "0.00000000",
        "61000.00000000",
    )
    assert await alice.balance("BTC") == ("0.99000000", "0.01000000")
    # A trade at 61000 (bob's buy lifts carol's ask): the last price rises to the stop, and
    # alice's order sells into bob's bid at 60000, as taker.
    await carol.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="0.001", price="61000")  # fmt: skip
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    done = await alice.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
    assert (done["status"], done["executedQty"], done["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.01000000",
        "600.00000000",
    )
    [trade] = await alice.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert (trade["price"], trade["isMaker"], trade["commission"]) == (
        "60000.00000000",
        False,
        "0.60000000",
    )
    assert await alice.balance("BTC") == ("0.99000000", "0.00000000")


def test_a_symbol_that_does_not_list_them_refuses_them() -> None:
    spec = spec_for("BTCUSDT")  # the bundled 2021 exchangeInfo's types
    engine = ExchangeEngine([spec], lambda: 1)
    engine.open_account(1, {"BTC": D(1)})
    for order_type, msg in (
        ("STOP_LOSS", "Stop loss orders are not supported for this symbol."),
        ("TAKE_PROFIT", "Take profit orders are not supported for this symbol."),
    ):
        with pytest.raises(ExchangeRejection) as refused:
            engine.place(
                1, NewOrder("BTCUSDT", "SELL", order_type, quantity=D("0.01"), stop_price=D(1))
            )
        assert (refused.value.code, refused.value.msg) == (-2010, msg)
    assert "STOP_LOSS" not in spec.exchange_info()["orderTypes"]  # type: ignore[operator]


def test_a_triggered_stop_market_buy_short_of_funds_expires_and_unlocks() -> None:
    engine = ExchangeEngine([SPEC], lambda: 1)
    engine.open_account(1, {"USDT": D(1000)})
    for account in (2, 3):
        engine.open_account(account, {"USDT": D(100_000), "BTC": D(10)})

    def limit(account: int, side: str, qty: str, price: str) -> None:
        engine.place(
            account,
            NewOrder(
                "BTCUSDT", side, "LIMIT", quantity=D(qty), price=D(price), time_in_force="GTC"
            ),
        )

    limit(2, "SELL", "0.001", "60000")
    limit(3, "BUY", "0.001", "60000")  # the last price: 60000
    placed = engine.place(
        1,
        NewOrder(
            "BTCUSDT", "BUY", "STOP_LOSS", quantity=D("0.01"), stop_price=D("61000"),
            client_order_id="stop-1",
        ),
    ).order  # fmt: skip
    balance = engine.account_balances(1)["USDT"]
    assert (placed.status, balance.free, balance.locked) == ("NEW", D(400), D(600))
    # The book above: 0.001 at 61000, then 0.02 at 150000. Someone buys the 61000: the stop
    # triggers, and 0.01 at 150000 would cost 1500, more than the 1000 the account has.
    limit(2, "SELL", "0.001", "61000")
    limit(2, "SELL", "0.02", "150000")
    limit(3, "BUY", "0.001", "61000")
    done = engine.order(1, "BTCUSDT", client_id="stop-1")
    assert (done.status, done.executed_qty) == ("EXPIRED", D(0))
    balance = engine.account_balances(1)["USDT"]
    assert (balance.free, balance.locked) == (D(1000), D(0))
    assert engine.my_trades(1) == []

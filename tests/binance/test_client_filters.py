"""Symbol filters: exact rounding and local rejection (real exchangeInfo, the local exchange)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tradewire import ExactDecimal
from tradewire.binance.filters import ExchangeInfo, rules_from_exchange_info
from tradewire.errors import InvalidOrder

if TYPE_CHECKING:
    from tradewire.binance.client import BinanceClient
    from tradewire.exchange import LocalExchange

DATA = Path(__file__).parent.parent / "data" / "binance"


@pytest.fixture(scope="module")
def info() -> ExchangeInfo:
    """Binance's real exchangeInfo (a 2021-10 subset)."""
    return ExchangeInfo(json.loads((DATA / "exchangeInfo-2021-10-subset.json").read_text()))


def test_reads_every_symbol_and_the_rate_limits(info: ExchangeInfo) -> None:
    assert len(info.symbols) == 15
    btc = info.filters("btcusdt")
    assert btc.tick_size == Decimal("0.01") and btc.step_size == Decimal("0.00001")
    assert btc.min_notional == Decimal("10") and btc.min_notional_to_market
    assert btc.bid_multipliers == (Decimal("0.2"), Decimal("5"))
    assert {"LIMIT", "MARKET", "LIMIT_MAKER"} <= btc.order_types
    assert info.rate_limits[0]["limit"] == 1200
    with pytest.raises(InvalidOrder, match="unknown symbol 'NOPE'"):
        info.filters("NOPE")


def test_rounding_is_exact_and_never_worse_than_asked(info: ExchangeInfo) -> None:
    btc = info.filters("BTCUSDT")
    buy = btc.prepare("BUY", "LIMIT", quantity="0.0012345678", price="61234.5678")
    assert buy.params() == {"quantity": "0.00123", "price": "61234.56"}
    sell = btc.prepare("SELL", "LIMIT", quantity=Decimal("0.0012399"), price="61234.561")
    assert sell.params() == {"quantity": "0.00123", "price": "61234.57"}
    exact = btc.prepare("SELL", "LIMIT", quantity="1", price=ExactDecimal("61234.56"))
    assert exact.params() == {"quantity": "1.00000", "price": "61234.56"}  # step/tick decimals
    shib = info.filters("SHIBUSDT")  # tick 0.00000001, step 1
    order = shib.prepare("BUY", "LIMIT", quantity="1000000.9", price="0.000041239")
    assert order.params() == {"quantity": "1000000", "price": "0.00004123"}
    # Rounding agrees with the Rust core's exact decimals.
    for q in ("0.00001", "0.123456789", "12.3"):
        expected = ExactDecimal(q).floor_to(btc.step_size).to_decimal()
        assert btc.prepare("BUY", "LIMIT", quantity=q, price="1000000").quantity == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": "0.000009", "price": "60000"}, "below LOT_SIZE minQty 0.00001"),
        ({"quantity": "9001", "price": "1"}, "above LOT_SIZE maxQty 9000"),
        (
            {"quantity": "0.0001", "price": "60000"},
            r"notional 6 .* below MIN_NOTIONAL minNotional 10",
        ),
        ({"quantity": "1", "price": "0.001"}, "below PRICE_FILTER minPrice 0.01"),
        ({"quantity": "0.001", "price": "2000000"}, "above PRICE_FILTER maxPrice 1000000"),
        ({"quantity": "-1", "price": "60000"}, "quantity must be positive"),
        ({"quantity": "abc", "price": "60000"}, "'abc' is not a decimal number"),
        ({"quantity": "0.000011", "price": "0"}, "price must be positive"),
        ({"quantity": "0.001"}, "a LIMIT order needs a price"),
    ],
)
def test_bad_orders_fail_with_the_filter_limit_and_value(
    info: ExchangeInfo, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidOrder, match=message) as err:
        info.filters("BTCUSDT").prepare(
            "BUY", "LIMIT", quantity=kwargs.get("quantity"), price=kwargs.get("price")
        )
    assert str(err.value).startswith("BTCUSDT: ")


def test_market_orders_and_percent_price(info: ExchangeInfo) -> None:
    btc = info.filters("BTCUSDT")
    market = btc.prepare("SELL", "MARKET", quantity="0.5000009")
    assert market.params() == {"quantity": "0.50000"} and market.price is None
    with pytest.raises(InvalidOrder, match="MARKET_LOT_SIZE maxQty"):
        btc.prepare("SELL", "MARKET", quantity="1000")
    with pytest.raises(InvalidOrder, match=r"notional 5 .* below MIN_NOTIONAL minNotional 10"):
        btc.prepare("SELL", "MARKET", quantity="0.0001", reference_price="50000")
    with pytest.raises(InvalidOrder, match=r"notional 5 .* below MIN_NOTIONAL minNotional 10"):
        btc.prepare("BUY", "MARKET", quote_order_qty="5")
    with pytest.raises(InvalidOrder, match="a MARKET order takes no price"):
        btc.prepare("BUY", "MARKET", quantity="1", price="60000")
    with pytest.raises(InvalidOrder, match="outside the PERCENT_PRICE range"):
        btc.prepare("BUY", "LIMIT", quantity="1", price="300000", reference_price="50000")
    assert btc.prepare("BUY", "LIMIT", quantity="1", price="60000", reference_price="50000")
    with pytest.raises(InvalidOrder, match=r"BTCUSDT: quantity must be exact .* not the float"):
        btc.prepare("BUY", "LIMIT", quantity=0.1, price="60000")  # type: ignore[arg-type]
    with pytest.raises(InvalidOrder, match="order type OCO is not allowed"):
        btc.prepare("BUY", "OCO", quantity="1")


def test_percent_price_by_side_and_notional_filter() -> None:
    symbol = rules_from_exchange_info(
        {
            "symbol": "XYZUSDT",
            "status": "TRADING",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0.5"},
                {"filterType": "LOT_SIZE", "minQty": "1", "maxQty": "100", "stepSize": "1"},
                {
                    "filterType": "PERCENT_PRICE_BY_SIDE",
                    "bidMultiplierUp": "1.2",
                    "bidMultiplierDown": "0.2",
                    "askMultiplierUp": "5",
                    "askMultiplierDown": "0.8",
                    "avgPriceMins": 5,
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": "10",
                    "applyMinToMarket": False,
                    "maxNotional": "1000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
        }
    )
    assert symbol.prepare("BUY", "LIMIT", quantity="2", price="5.9").price == Decimal("5.5")
    assert symbol.prepare("SELL", "LIMIT", quantity="2", price="5.1").price == Decimal("5.5")
    with pytest.raises(InvalidOrder, match="above NOTIONAL maxNotional 1000"):
        symbol.prepare("BUY", "LIMIT", quantity="100", price="11")
    market = symbol.prepare("SELL", "MARKET", quantity="1", reference_price="1")
    assert market.params() == {"quantity": "1"}  # applyMinToMarket is false
    with pytest.raises(InvalidOrder, match="outside the PERCENT_PRICE_BY_SIDE range"):
        symbol.prepare("BUY", "LIMIT", quantity="2", price="13", reference_price="10")
    assert symbol.prepare("SELL", "LIMIT", quantity="2", price="13", reference_price="10")


@pytest.mark.asyncio
async def test_client_rejects_bad_orders_before_sending(
    ex: LocalExchange, client: BinanceClient
) -> None:
    sent = ex.metrics()["requests"]
    with pytest.raises(InvalidOrder, match="below LOT_SIZE minQty") as err:
        await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.000001", price="60000", time_in_force="GTC"
        )
    assert err.value.code is None and err.value.endpoint == "local filter check"
    with pytest.raises(InvalidOrder, match="minimum notional"):
        await client.test_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.00001", price="60000", time_in_force="GTC"
        )
    with pytest.raises(InvalidOrder, match="unknown symbol"):
        await client.place_order("DOGEUSDT", "BUY", "MARKET", quantity="1")
    assert ex.metrics()["requests"] == sent + 1  # only exchangeInfo, reloaded for DOGEUSDT
    # A rounded order is accepted as is by the exchange's own filters.
    order = await client.place_order(
        "BTCUSDT", "BUY", "LIMIT", quantity="0.00123456", price="60000.019", time_in_force="GTC"
    )
    assert order.orig_qty == "0.00123000" and order.price == "60000.01000000"

"""tradewire.rules: rounding, Binance's filters, formatting, open statuses, ids, coercion, fees."""

from __future__ import annotations

import doctest
from decimal import Decimal as D

import pytest

import tradewire.rules
from tradewire import ExactDecimal
from tradewire.errors import BotConfigError, DecimalError, InvalidOrder
from tradewire.model import OrderRequest
from tradewire.rules import (
    OPEN_STATUSES,
    SymbolRules,
    commission,
    floor_to_step,
    format_amount,
    is_multiple,
    is_open,
    is_valid_client_order_id,
    new_client_order_id,
    places,
    round_to_tick,
    to_decimal,
)

BTC = SymbolRules(
    "BTCUSDT",
    "BTC",
    "USDT",
    D("0.01"),
    D("0.00001"),
    D("0.00001"),
    D("5"),
    max_qty=D("9000"),
    min_price=D("0.01"),
    max_price=D("1000000"),
    market_max_qty=D("100"),
    max_notional=D("9000000"),
    bid_multipliers=(D("0.2"), D("5")),
    ask_multipliers=(D("0.2"), D("5")),
)


def test_the_module_example_runs() -> None:
    result = doctest.testmod(tradewire.rules)
    assert result.attempted > 0 and result.failed == 0


# --- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        ("0.001234", "0.00001", "0.00123"),
        ("0.00123", "0.00001", "0.00123"),
        ("0.000009", "0.00001", "0.00000"),
        ("7.9", "0.5", "7.5"),
        ("1234", "10", "1230"),
        ("1", "1", "1"),
        ("0.12345678901234567891234", "0.00000001", "0.12345678"),  # beyond 18 decimals
        ("5.5", "0", "5.5"),  # a zero step is a disabled filter
    ],
)
def test_floor_to_step_never_rounds_up_and_carries_the_step_decimals(
    value: str, step: str, expected: str
) -> None:
    result = floor_to_step(value, step)
    assert format(result, "f") == expected
    assert result <= D(value)


@pytest.mark.parametrize(
    ("value", "buy", "sell"),
    [
        ("60000.005", "60000.00", "60000.01"),
        ("60000.01", "60000.01", "60000.01"),
        ("0.000041239", "0.00004123", "0.00004124"),
        ("61234.5678", "61234.56", "61234.57"),
    ],
)
def test_prices_round_away_from_the_market(value: str, buy: str, sell: str) -> None:
    tick = "0.00000001" if value.startswith("0.0000") else "0.01"
    assert str(round_to_tick(value, tick, "BUY")) == buy
    assert str(round_to_tick(value, tick, "SELL")) == sell
    assert BTC.round_price(value, "BUY") <= D(value) <= BTC.round_price(value, "SELL")


def test_without_a_side_the_nearest_tick_wins_and_ties_go_even() -> None:
    assert round_to_tick("65000.014", "0.01", None) == D("65000.01")
    assert round_to_tick("65000.016", "0.01", None) == D("65000.02")
    assert round_to_tick("65000.015", "0.01", None) == D("65000.02")  # 6500002 is even
    assert round_to_tick("65000.025", "0.01", None) == D("65000.02")
    assert round_to_tick("7.75", "0.5", None) == D("8.0")
    with pytest.raises(InvalidOrder, match="side must be BUY or SELL"):
        round_to_tick("1", "0.01", "buy")


def test_rules_round_market_quantities_to_both_lot_steps() -> None:
    rules = SymbolRules("X", "A", "B", D("0.01"), D("0.001"), market_step_size=D("0.01"))
    assert rules.floor_quantity("1.2345") == D("1.234")
    assert rules.floor_quantity("1.2345", market=True) == D("1.23")


def test_is_multiple_is_binances_modulo_test() -> None:
    assert is_multiple("60000.01", "0.01") and not is_multiple("60000.005", "0.01")
    assert is_multiple("7.5", "0.5") and not is_multiple("7.25", "0.5")
    assert is_multiple("0.1234567890123456789", "0")  # disabled
    assert not is_multiple("1.0000000000000000000001", "0.00000001")


# --- formatting -------------------------------------------------------------------------------


def test_amounts_are_formatted_as_sent() -> None:
    assert format_amount(D("60000"), "0.01") == "60000.00"
    assert format_amount(D("1E+2"), "0.01000000") == "100.00"
    assert format_amount(D("1E-8"), "0.00000001") == "0.00000001"
    assert format_amount("1230", "10") == "1230"
    assert format_amount(D("0.00123000")) == "0.00123"
    assert format_amount(D("1E+3")) == "1000"
    assert format_amount(D("-0.0")) == "0"
    assert places("0.01000000") == 2 and places("10") == 0 and places("0.5") == 1
    with pytest.raises(DecimalError, match=r"not on the step 0\.01"):
        format_amount("60000.005", "0.01")


def test_prepared_amounts_print_exactly_what_is_sent() -> None:
    prepared = BTC.prepare("SELL", "LIMIT", quantity="1", price="60000.005")
    assert prepared.params() == {"quantity": "1.00000", "price": "60000.01"}
    assert (str(prepared.quantity), str(prepared.price)) == ("1.00000", "60000.01")
    market = BTC.prepare("BUY", "MARKET", quote_order_qty="25.5")
    assert market.params() == {"quoteOrderQty": "25.5"}


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "rule", "limit", "value"),
    [
        ({"quantity": "1", "price": "0.001"}, "PRICE_FILTER minPrice", "0.01", "0.001"),
        ({"quantity": "0.001", "price": "2000000"}, "PRICE_FILTER maxPrice", "1000000", "2000000"),
        ({"quantity": "0.000001", "price": "60000"}, "LOT_SIZE minQty", "0.00001", "0.000001"),
        ({"quantity": "9000.5", "price": "1"}, "LOT_SIZE maxQty", "9000", "9000.5"),
        ({"quantity": "0.00001", "price": "60000"}, "NOTIONAL minNotional", "5", "0.6"),
        ({"quantity": "8000", "price": "2000"}, "NOTIONAL maxNotional", "9000000", "16000000"),
        (
            {"quantity": "1", "price": "300000", "reference_price": "50000"},
            "PERCENT_PRICE range",
            "250000",
            "300000",
        ),
    ],
)
def test_every_filter_names_itself_its_limit_and_the_value(
    kwargs: dict[str, str], rule: str, limit: str, value: str
) -> None:
    with pytest.raises(InvalidOrder) as err:
        BTC.prepare(
            "BUY",
            "LIMIT",
            quantity=kwargs["quantity"],
            price=kwargs["price"],
            reference_price=kwargs.get("reference_price"),
        )
    message = err.value.msg
    assert message.startswith("BTCUSDT: ")
    assert rule in message and limit in message and value in message
    assert err.value.endpoint == "local filter check" and err.value.code is None


def test_market_lot_size_min_notional_and_percent_price_by_side_name_their_filter() -> None:
    rules = SymbolRules(
        "XYZUSDT",
        "XYZ",
        "USDT",
        D("0.5"),
        D("1"),
        D("1"),
        D("10"),
        market_min_qty=D("2"),
        market_max_qty=D("50"),
        market_step_size=D("2"),
        notional_filter="MIN_NOTIONAL",
        min_notional_to_market=False,
        bid_multipliers=(D("0.2"), D("1.2")),
        ask_multipliers=(D("0.8"), D("5")),
        percent_price_filter="PERCENT_PRICE_BY_SIDE",
    )
    with pytest.raises(InvalidOrder, match="quantity 60 is above MARKET_LOT_SIZE maxQty 50"):
        rules.prepare("SELL", "MARKET", quantity="60")
    with pytest.raises(InvalidOrder, match=r"quantity 1\.5 .* below MARKET_LOT_SIZE minQty 2"):
        rules.prepare("SELL", "MARKET", quantity="1.5")
    with pytest.raises(InvalidOrder, match="not a multiple of MARKET_LOT_SIZE stepSize 2"):
        rules.check(OrderRequest("XYZUSDT", "SELL", "MARKET", D("3"), "c"))
    assert rules.prepare("SELL", "MARKET", quantity="3", reference_price="1").quantity == D(2)
    with pytest.raises(InvalidOrder, match=r"notional 9 .* below MIN_NOTIONAL minNotional 10"):
        rules.prepare("BUY", "LIMIT", quantity="2", price="4.5")
    with pytest.raises(InvalidOrder, match=r"outside the PERCENT_PRICE_BY_SIDE range \[2, 12\]"):
        rules.prepare("BUY", "LIMIT", quantity="2", price="13", reference_price="10")
    assert rules.prepare("SELL", "LIMIT", quantity="2", price="13", reference_price="10")


def test_check_refuses_what_prepare_would_round() -> None:
    off_step = OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.001234"), "c", D("60000"))
    off_tick = OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.00123"), "c", D("60000.005"))
    with pytest.raises(InvalidOrder, match=r"0\.001234 is not a multiple of LOT_SIZE stepSize"):
        BTC.check(off_step)
    with pytest.raises(
        InvalidOrder, match=r"60000\.005 is not a multiple of PRICE_FILTER tickSize"
    ):
        BTC.check(off_tick)
    BTC.check(OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.00123"), "c", D("60000")))


def test_rules_that_are_not_amounts() -> None:
    halted = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), status="HALT")
    with pytest.raises(InvalidOrder, match="not trading"):
        halted.prepare("BUY", "LIMIT", quantity="1", price="1")
    limited = SymbolRules("X", "A", "B", D("0.01"), D("1"), order_types=frozenset({"LIMIT"}))
    with pytest.raises(InvalidOrder, match="order type MARKET is not allowed"):
        limited.prepare("BUY", "MARKET", quantity="1")
    with pytest.raises(InvalidOrder, match="side must be BUY or SELL"):
        BTC.prepare("HOLD", "LIMIT", quantity="1", price="1")
    with pytest.raises(InvalidOrder, match=r"quantity 0\.0000001 floors to 0"):
        SymbolRules("X", "A", "B", D("0.01"), D("0.00001")).prepare(
            "BUY", "LIMIT", quantity="0.0000001", price="1"
        )
    with pytest.raises(InvalidOrder, match="out of range"):
        BTC.prepare("BUY", "LIMIT", quantity="1e25", price="1")
    with pytest.raises(DecimalError, match="must not be negative"):
        SymbolRules("X", "A", "B", D("-0.01"), D("1"))


# --- statuses, ids, coercion, commission ------------------------------------------------------


def test_open_statuses_are_binances() -> None:
    for status in ("NEW", "PENDING_NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"):
        assert is_open(status)
    for status in ("FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH", "new"):
        assert not is_open(status)
    assert len(OPEN_STATUSES) == 4


def test_client_order_ids_follow_binances_rule() -> None:
    ids = {new_client_order_id("grid1") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_valid_client_order_id(i) and i.startswith("grid1-") for i in ids)
    odd = new_client_order_id("a.b:c/d é" + "x" * 40)
    assert is_valid_client_order_id(odd) and len(odd) == 36 and odd.startswith("abcd")
    assert is_valid_client_order_id(new_client_order_id(""))
    assert is_valid_client_order_id("A" * 36) and not is_valid_client_order_id("A" * 37)
    for bad in ("", "a.b", "a:b", "a/b", "a b", "ä"):
        assert not is_valid_client_order_id(bad)


def test_the_coercer_takes_exact_values_and_refuses_floats() -> None:
    for value in (D("0.1"), "0.1", " 0.1 ", ExactDecimal("0.1")):
        assert to_decimal(value) == D("0.1")
    assert to_decimal(7) == D(7)
    with pytest.raises(DecimalError, match=r"not the float 0\.1"):
        to_decimal(0.1, "quantity")
    for bad in (True, None, [1]):
        with pytest.raises(DecimalError, match="must be a decimal string"):
            to_decimal(bad)
    for text in ("abc", "", "NaN", "Infinity"):
        with pytest.raises(DecimalError):
            to_decimal(text)
    with pytest.raises(BotConfigError, match="investment must be exact"):
        to_decimal(1.5, "investment", error=BotConfigError)


@pytest.mark.parametrize(
    ("received", "rate", "expected"),
    [
        ("0.00123", "0.001", "0.00000123"),
        ("1.5", "0.001", "0.00150000"),
        ("73.80000615", "0.001", "0.07380001"),  # 0.07380000615 to the nearest
        ("73.80000415", "0.001", "0.07380000"),  # 0.07380000415 to the nearest
        ("17491.25", "0.0000023", "0.04022988"),  # Binance's commission FAQ: 0.040229875
        ("0.00000001", "0.00075", "0.00000000"),
    ],
)
def test_commission_is_rounded_to_the_nearest_8th_decimal(
    received: str, rate: str, expected: str
) -> None:
    assert format(commission(received, rate), "f") == expected
    assert abs(commission(received, rate) - D(received) * D(rate)) <= D("0.000000005")

"""tradewire.ExactDecimal: exact parsing, formatting and step/tick rounding, against decimal."""

from __future__ import annotations

import decimal
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire import DecimalError, ExactDecimal, ParseError

CTX = decimal.Context(prec=80)
LIMIT = Decimal("170141183460469231731.687303715884105727")  # i128::MAX / 10**18

# Exchange-shaped numbers: up to 12 integer digits and 8 decimals, or prices with 10 decimals.
quantities = st.decimals(min_value=0, max_value=Decimal(10) ** 12, places=8)
prices = st.decimals(min_value=0, max_value=Decimal(10) ** 7, places=10)
steps = st.sampled_from(
    [Decimal(s) for s in ("0.00000001", "0.001", "0.01", "0.1", "1", "0.5", "0.025", "10")]
)


def canonical(d: Decimal) -> str:
    """What ExactDecimal's str() should be: plain notation, no trailing zeros."""
    text = format(d.normalize(CTX), "f")
    return "0" if text in ("-0", "0") else text


@given(st.one_of(quantities, prices))
def test_parse_and_format_round_trip(d: Decimal) -> None:
    for text in (format(d, "f"), f"{d:.10f}"):
        x = ExactDecimal(text)
        assert str(x) == canonical(Decimal(text))
        assert x.to_decimal() == Decimal(text)
        assert float(x) == float(Decimal(text))


@given(quantities, quantities)
def test_add_sub_are_exact(a: Decimal, b: Decimal) -> None:
    x, y = ExactDecimal(a), ExactDecimal(format(b, "f"))
    assert (x + y).to_decimal() == CTX.add(a, b)
    assert (x - y).to_decimal() == CTX.subtract(a, b)
    assert (x < y) == (a < b)
    assert (x == y) == (a == b)


@given(prices, st.decimals(min_value=0, max_value=Decimal(10) ** 6, places=8))
def test_price_times_quantity_is_exact(p: Decimal, q: Decimal) -> None:
    assert (ExactDecimal(p) * ExactDecimal(q)).to_decimal() == CTX.multiply(p, q)


@given(st.one_of(quantities, prices), steps)
def test_floor_ceil_and_tick_rounding(v: Decimal, step: Decimal) -> None:
    x = ExactDecimal(v)
    floor = CTX.multiply(CTX.divide_int(v, step), step)
    ceil = CTX.multiply((v / step).to_integral_value(ROUND_CEILING, CTX), step)
    assert x.floor_to(step).to_decimal() == floor
    assert x.ceil_to(step).to_decimal() == ceil
    assert x.round_to_tick(step, "BUY").to_decimal() == floor
    assert x.round_to_tick(step, "SELL").to_decimal() == ceil
    assert x.is_multiple_of(step) == (floor == v)
    assert (v / step).to_integral_value(ROUND_FLOOR, CTX) * step == floor


def test_the_documented_range_is_exact() -> None:
    big = "999999999999.99999999"  # 10^12 with 8 decimals
    assert str(ExactDecimal(big)) == big
    assert str(ExactDecimal("0.0000000001")) == "0.0000000001"  # 10-decimal price
    assert ExactDecimal("65000.01000000").to_string_fixed(8) == "65000.01000000"
    assert ExactDecimal(str(LIMIT)).to_decimal() == LIMIT
    with pytest.raises(DecimalError, match="out of range"):
        ExactDecimal(str(LIMIT + 1))
    with pytest.raises(DecimalError, match="18 decimal"):
        ExactDecimal("0.0000000000000000001")
    with pytest.raises(DecimalError, match="18 decimal"):
        ExactDecimal("0.000000001") * ExactDecimal("0.0000000001")
    with pytest.raises(ValueError, match="more than 2 decimals"):
        ExactDecimal("1.234").to_string_fixed(2)


@pytest.mark.parametrize("bad", ["", "1e5", "1.2.3", "NaN", "inf", "0x10", "1,5", "--1", "."])
def test_bad_strings_are_typed_errors(bad: str) -> None:
    with pytest.raises(DecimalError):
        ExactDecimal(bad)


def test_floats_never_become_money() -> None:
    with pytest.raises(TypeError, match="floats are not accepted"):
        ExactDecimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ExactDecimal(True)
    assert ExactDecimal(Decimal("1E-7")) == ExactDecimal("0.0000001")
    assert ExactDecimal(10**15) == ExactDecimal("1000000000000000")
    with pytest.raises(DecimalError):
        ExactDecimal(Decimal("NaN"))
    with pytest.raises(DecimalError, match="positive"):
        ExactDecimal("1").floor_to("0")
    with pytest.raises(ValueError, match="BUY"):
        ExactDecimal("1").round_to_tick("0.1", "HOLD")


def test_values_are_hashable_and_ordered() -> None:
    a, b = ExactDecimal("1.10"), ExactDecimal("1.1")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert sorted([ExactDecimal("2"), ExactDecimal("-1"), ExactDecimal("0.5")]) == [
        ExactDecimal("-1"),
        ExactDecimal("0.5"),
        ExactDecimal("2"),
    ]
    assert repr(a) == "ExactDecimal('1.1')"
    assert ExactDecimal("2") > "1.5"
    assert not ExactDecimal("0")


def test_parse_error_is_not_a_decimal_error() -> None:
    assert not issubclass(DecimalError, ParseError)


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        value = ExactDecimal(text)
    except DecimalError:
        return
    assert Decimal(text.strip()) == value.to_decimal()

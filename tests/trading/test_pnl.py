"""PnL from fills: exact to the last digit against the balances, fees in base, quote or neither."""

from __future__ import annotations

import itertools
from decimal import Decimal as D
from decimal import localcontext
from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.model import Fill
from tradewire.rules import commission
from tradewire.trading.pnl import EquityCurve, PnLTracker

if TYPE_CHECKING:
    from tradewire.model import Side


def fill(side: Side, price: str, qty: str, fee: str, asset: str) -> Fill:
    return Fill("c", "t", "BTCUSDT", side, D(price), D(qty), D(fee), asset, 0, True)


def test_a_hand_computed_run_with_fees_in_base_quote_and_bnb() -> None:
    fills = [
        fill("BUY", "100", "0.01", "0.00001", "BTC"),  # Binance takes a buy's fee in base
        fill("BUY", "90", "0.01", "0.00001", "BTC"),
        fill("SELL", "95", "0.01", "0.00095", "USDT"),
        fill("SELL", "110", "0.005", "0.001", "BNB"),  # moves neither BTC nor USDT
    ]
    tracker = PnLTracker("BTC", "USDT")
    for f in fills:
        tracker.apply(f)
    pnl = tracker.snapshot(D("105"))
    # Balances: BTC 0.00999 + 0.00999 - 0.01 - 0.005; USDT -1 - 0.9 + 0.94905 + 0.55.
    assert pnl.position == D("0.00498")
    assert pnl.fees == D("0.00285")  # 0.00001 x 100 + 0.00001 x 90 + 0.00095
    # Average cost: 0.01998 BTC for 1.8981 USDT is 95 a coin; the first sell makes nothing.
    assert pnl.realized == D("0.075")  # (110 - 95) x 0.005
    assert pnl.unrealized == D("0.0498")  # 0.00498 x (105 - 95)
    assert pnl.total == D("0.12195") == D("-0.40095") + D("0.00498") * 105
    # Last in, first out: the 95 sell closes the 90 buy (0.00999) and 0.00001 of the 100 buy.
    assert pnl.round_trips == D("0.04995") - D("0.00005") + D("0.05")
    assert pnl.grid_profit == D("0.0999") - D("0.00285")
    assert pnl.trend == D("0.00498") * (105 - 100)
    assert pnl.grid_profit + pnl.trend == pnl.total
    assert tracker.lots == [(D("0.00498"), D("100"))]
    assert pnl.volume == D("1") + D("0.9") + D("0.95") + D("0.55")


_SIDES: tuple[Side, Side] = ("BUY", "SELL")
_FILL = st.tuples(
    st.sampled_from(_SIDES),
    st.integers(1, 10_000_000),  # price in ticks of 0.01
    st.integers(1, 200_000),  # quantity in steps of 0.00001
    st.sampled_from(["0", "0.001", "0.00075", "0.0002"]),  # fee rate
    st.sampled_from(["received", "BNB", "USDT"]),  # the asset the fee is taken in
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FILL, max_size=40), st.integers(1, 10_000_000))
def test_total_pnl_is_the_equity_change_at_the_mark_to_the_last_digit(
    rows: list[tuple[Side, int, int, str, str]], mark_ticks: int
) -> None:
    tracker = PnLTracker("BTC", "USDT")
    base = quote = D(0)
    lots: list[tuple[D, D]] = []  # a reference of the last-in-first-out pairing
    round_trips = D(0)
    with localcontext() as ctx:
        ctx.prec = 100
        for side, ticks, steps, rate, where in rows:
            price, qty = D(ticks) / 100, D(steps) / 100_000
            value = price * qty
            asset = ("BTC" if side == "BUY" else "USDT") if where == "received" else where
            fee = commission(qty if asset == "BTC" else value, rate)
            f = fill(side, str(price), str(qty), str(fee), asset)
            tracker.apply(f)
            # The account, as a broker moves it.
            base += qty if side == "BUY" else -qty
            quote += -value if side == "BUY" else value
            base -= fee if asset == "BTC" else 0
            quote -= fee if asset == "USDT" else 0
            dq = (qty if side == "BUY" else -qty) - (fee if asset == "BTC" else 0)
            while dq and lots and (lots[-1][0] > 0) != (dq > 0):
                lot, at = lots.pop()
                close = min(abs(lot), abs(dq))
                round_trips += (price - at) * close * (1 if lot > 0 else -1)
                if abs(lot) > close:
                    lots.append((lot - close if lot > 0 else lot + close, at))
                dq += close if dq < 0 else -close
            if dq:
                lots.append((dq, price))
        mark = D(mark_ticks) / 100
        pnl = tracker.snapshot(mark)
        assert pnl.position == base
        assert pnl.total == quote + base * mark
        assert pnl.realized + pnl.unrealized - pnl.fees == pnl.total
        assert pnl.round_trips == round_trips
        assert pnl.grid_profit + pnl.trend == pnl.total
        assert pnl.trend == sum(((mark - at) * q for q, at in lots), D(0))
        assert tracker.lots == lots


def test_the_equity_curve_keeps_the_drawdown_of_every_sample_and_a_bounded_series() -> None:
    curve = EquityCurve(max_points=100)
    values = [D(1000) + i // 10 - (20 if i == 777 else 0) for i in range(10_000)]
    for i, v in enumerate(values):
        curve.add(i, D(1), v, D(0))
    assert curve.samples == 10_000
    assert 50 <= len(curve.points) <= 101
    assert curve.points[0][0] == 0 and curve.points[-1][0] == 9_999  # first and last kept
    # The one dip, at sample 777 (20 below the peak of 1077), is thinned out of the points,
    # but it is the run's drawdown.
    assert 777 not in {t for t, _, _, _ in curve.points}
    assert curve.max_drawdown == D(20)
    assert curve.max_drawdown_pct.quantize(D("1e-9")) == D("1.857010214")  # 20 / 1077
    times = [t for t, _, _, _ in curve.points]
    assert times == sorted(times)
    strides = {b - a for a, b in itertools.pairwise(times[:-1])}
    assert len(strides) == 1  # evenly thinned

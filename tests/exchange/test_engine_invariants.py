"""Hypothesis: whatever orders arrive, the engine conserves assets and never crosses the book."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.errors import ExchangeRejection
from tradewire.exchange.amounts import ZERO
from tradewire.exchange.engine import ExchangeEngine, NewOrder
from tradewire.exchange.symbols import ALL_ORDER_TYPES, spec_for

START = {"USDT": Decimal(100_000), "BTC": Decimal(2)}

#: What a step does: an order of each kind (STOP a STOP_LOSS_LIMIT, QUOTE a MARKET by quote
#: amount, STOP_LOSS and TAKE_PROFIT the stop-markets), or a cancel.
KINDS = ["LIMIT", "MARKET", "LIMIT_MAKER", "IOC", "FOK", "QUOTE", "STOP"]
KINDS += ["STOP_LOSS", "TAKE_PROFIT", "CANCEL"]

orders = st.lists(
    st.tuples(
        st.integers(1, 3),  # account
        st.sampled_from(["BUY", "SELL"]),
        st.sampled_from(KINDS),
        st.integers(1, 300),  # quantity in 0.0001 BTC
        st.integers(-20, 20),  # price offset from 60000 in 0.5 USDT
    ),
    max_size=60,
)


def request(side: str, kind: str, qty: int, offset: int) -> NewOrder:
    quantity = Decimal(qty) / 10_000
    price = Decimal(60_000) + Decimal(offset) / 2
    if kind == "MARKET":
        return NewOrder("BTCUSDT", side, "MARKET", quantity=quantity)
    if kind == "QUOTE":
        return NewOrder("BTCUSDT", side, "MARKET", quote_qty=Decimal(qty * 6))
    if kind == "LIMIT_MAKER":
        return NewOrder("BTCUSDT", side, "LIMIT_MAKER", quantity=quantity, price=price)
    if kind == "STOP":
        return NewOrder(
            "BTCUSDT",
            side,
            "STOP_LOSS_LIMIT",
            quantity=quantity,
            price=price,
            stop_price=price,
            time_in_force="GTC",
        )
    if kind in ("STOP_LOSS", "TAKE_PROFIT"):  # stop-market: a MARKET order once triggered
        return NewOrder("BTCUSDT", side, kind, quantity=quantity, stop_price=price)
    tif = kind if kind in ("IOC", "FOK") else "GTC"
    return NewOrder("BTCUSDT", side, "LIMIT", quantity=quantity, price=price, time_in_force=tif)


@settings(max_examples=150, deadline=None)
@given(orders)
def test_assets_are_conserved_and_locks_match_open_orders(
    flow: list[tuple[int, str, str, int, int]],
) -> None:
    spec = replace(spec_for("BTCUSDT"), order_types=ALL_ORDER_TYPES)  # with the stop-markets
    engine = ExchangeEngine([spec], lambda: 1_700_000_000_000)
    accounts = (1, 2, 3)
    for number in accounts:
        engine.open_account(number, dict(START))
    for account_id, side, kind, qty, offset in flow:
        if kind == "CANCEL":
            open_orders = engine.open_orders(account_id)
            if open_orders:
                chosen = open_orders[qty % len(open_orders)]
                engine.cancel(account_id, chosen.symbol, order_id=chosen.order_id)
            continue
        with contextlib.suppress(ExchangeRejection):  # rejected orders must change nothing either
            engine.place(account_id, request(side, kind, qty, offset))

    fees = {"USDT": ZERO, "BTC": ZERO}
    for account_id in accounts:
        for fill in engine.my_trades(account_id):
            fees[fill.commission_asset] += fill.commission
    views = [engine.account(a) for a in accounts]
    for asset, start in START.items():
        held = sum((v.balance(asset).free + v.balance(asset).locked for v in views), ZERO)
        assert held + fees[asset] == 3 * start
    resting: dict[tuple[str, Decimal], Decimal] = {}
    for view in views:
        opened = engine.open_orders(view.account_id)
        for asset in START:
            bal = view.balance(asset)
            assert bal.free >= 0
            locked = sum((o.locked for o in opened if o.locked_asset == asset), ZERO)
            assert bal.locked == locked
        for order in opened:
            if order.is_working:
                key = (order.side, order.price)
                resting[key] = resting.get(key, ZERO) + order.remaining
    depth = engine.depth("BTCUSDT", 1000)
    if depth.bids and depth.asks:
        assert depth.bids[0][0] < depth.asks[0][0]
    levels = [("BUY", p, q) for p, q in depth.bids] + [("SELL", p, q) for p, q in depth.asks]
    assert {(side, p): q for side, p, q in levels} == resting  # level totals match the orders
    assert [p for p, _ in depth.bids] == sorted((p for p, _ in depth.bids), reverse=True)
    assert [p for p, _ in depth.asks] == sorted(p for p, _ in depth.asks)

"""Hypothesis: whatever orders arrive, the engine conserves assets and never crosses the book."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.errors import ExchangeRejection
from tradewire.exchange.amounts import ZERO
from tradewire.exchange.symbols import spec_for
from tradewire.exchange.venue import OrderRequest, Venue

START = {"USDT": Decimal(100_000), "BTC": Decimal(2)}

orders = st.lists(
    st.tuples(
        st.integers(1, 3),  # account
        st.sampled_from(["BUY", "SELL"]),
        st.sampled_from(
            ["LIMIT", "MARKET", "LIMIT_MAKER", "IOC", "FOK", "QUOTE", "STOP", "CANCEL"]
        ),
        st.integers(1, 300),  # quantity in 0.0001 BTC
        st.integers(-20, 20),  # price offset from 60000 in 0.5 USDT
    ),
    max_size=60,
)


def request(side: str, kind: str, qty: int, offset: int) -> OrderRequest:
    quantity = Decimal(qty) / 10_000
    price = Decimal(60_000) + Decimal(offset) / 2
    if kind == "MARKET":
        return OrderRequest("BTCUSDT", side, "MARKET", quantity=quantity)
    if kind == "QUOTE":
        return OrderRequest("BTCUSDT", side, "MARKET", quote_qty=Decimal(qty * 6))
    if kind == "LIMIT_MAKER":
        return OrderRequest("BTCUSDT", side, "LIMIT_MAKER", quantity=quantity, price=price)
    if kind == "STOP":
        return OrderRequest(
            "BTCUSDT",
            side,
            "STOP_LOSS_LIMIT",
            quantity=quantity,
            price=price,
            stop_price=price,
            time_in_force="GTC",
        )
    tif = kind if kind in ("IOC", "FOK") else "GTC"
    return OrderRequest("BTCUSDT", side, "LIMIT", quantity=quantity, price=price, time_in_force=tif)


@settings(max_examples=150, deadline=None)
@given(orders)
def test_assets_are_conserved_and_locks_match_open_orders(
    flow: list[tuple[int, str, str, int, int]],
) -> None:
    venue = Venue([spec_for("BTCUSDT")], lambda: 1_700_000_000_000)
    for number in (1, 2, 3):
        venue.open_account(number, dict(START))
    for account_id, side, kind, qty, offset in flow:
        if kind == "CANCEL":
            open_orders = venue.open_orders(account_id)
            if open_orders:
                venue.cancel(open_orders[qty % len(open_orders)])
            continue
        with contextlib.suppress(ExchangeRejection):  # rejected orders must change nothing either
            venue.place(account_id, request(side, kind, qty, offset))

    fees = {"USDT": ZERO, "BTC": ZERO}
    for fills in venue.fills.values():
        for fill in fills:
            fees[fill.commission_asset] += fill.commission
    for asset, start in START.items():
        held = sum(
            (a.balance(asset).free + a.balance(asset).locked for a in venue.accounts.values()), ZERO
        )
        assert held + fees[asset] == 3 * start
    for account_id, account in venue.accounts.items():
        for asset in START:
            bal = account.balance(asset)
            assert bal.free >= 0
            locked = sum(
                (o.locked for o in venue.open_orders(account_id) if o.locked_asset == asset), ZERO
            )
            assert bal.locked == locked
    book = venue.books["BTCUSDT"]
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None:
        assert bid[0] < ask[0]
    for half in (book.bids, book.asks):
        for price, level in half.levels.items():
            assert half.totals[price] == sum((o.remaining for o in level), ZERO)

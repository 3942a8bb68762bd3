"""``tradewire live grid --venue ib``: a grid on an account of a LocalIBGateway started per test
(US market hours on its clock), end to end from the command line; and the refusals."""

from __future__ import annotations

import datetime
import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tradewire.ib import IBClient, IBOrderRequest
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK
from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()
AAPL = 265598


@pytest_asyncio.fixture
async def gw() -> AsyncIterator[LocalIBGateway]:
    """A gateway listing AAPL, its clock at 10:00 on a Monday in New York."""
    t0 = time.time()
    async with LocalIBGateway(
        symbols=("AAPL",), seed=5, clock=lambda: MONDAY_10AM + time.time() - t0
    ) as gateway:
        yield gateway


def live_args(gw: LocalIBGateway, *more: str) -> tuple[str, ...]:
    """``live grid --venue ib`` on the gateway with a tight grid."""
    return (
        "live",
        "grid",
        "--venue",
        "ib",
        "--symbol",
        "AAPL",
        "--ib-url",
        gw.url,
        "--ib-cafile",
        str(gw.cert_path),
        "--ib-confirm",
        "o163,o354",
        "--investment",
        "2000",
        "--grids",
        "4",
        "--lower",
        "189.60",
        "--upper",
        "190.40",
        "--force",
        "--no-view",
        *more,
    )


@pytest.mark.asyncio
async def test_a_live_grid_trades_on_the_gateway_and_cancels_at_the_end(
    gw: LocalIBGateway, tmp_path: Path
) -> None:
    async with IBClient(
        gw.url, cafile=gw.cert_path, confirm_questions=("o354", "o10151")
    ) as ib:  # shares for the sell lines
        await ib.place_order(IBOrderRequest(AAPL, "BUY", Decimal(40), "MKT", "seed-shares"))
        await gw.wait_for(lambda: gw.blotter.positions.get(AAPL) is not None)
    status, out, err = await TradewireCommand(tmp_path).run(
        *live_args(gw, "--account", gw.account_id, "--duration", "8", "--out", str(tmp_path))
    )
    assert status == 0, out + err
    assert "on AAPL@NASDAQ (USD) (conid 265598), account DU1234567" in out
    # The report says where it ran and what the grid did, as a Binance run's does.
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["mode"] == "live" and report["venue"] == "ib"
    assert {"round_trips", "trailing_moves", "range"} <= report["grid"].keys()
    ours = [o for o in gw.blotter.orders.values() if o.coid != "seed-shares"]
    assert len(ours) >= 4  # one order per line but the one at the price
    assert all(o.quantity == o.quantity.to_integral_value() for o in ours)
    assert all(o.price is not None and o.price % Decimal("0.01") == 0 for o in ours)
    assert not [o for o in ours if o.status in ("PreSubmitted", "Submitted")]  # canceled
    assert "canceled" in out


@pytest.mark.asyncio
async def test_live_without_an_account_is_refused(gw: LocalIBGateway, tmp_path: Path) -> None:
    status, out, _ = await TradewireCommand(tmp_path).run(*live_args(gw, "--duration", "1"))
    assert status == 2
    assert "REFUSED" in out and "--account" in out
    assert not gw.blotter.orders


@pytest.mark.asyncio
async def test_live_on_a_logged_out_gateway_is_refused(gw: LocalIBGateway, tmp_path: Path) -> None:
    gw.set_faults(logged_out=True)
    status, out, _ = await TradewireCommand(tmp_path).run(
        *live_args(gw, "--account", gw.account_id, "--duration", "1")
    )
    assert status == 2
    assert "REFUSED" in out
    assert not gw.blotter.orders


TWO_STOCKS = """
from decimal import Decimal
from tradewire import BookUpdate, Strategy, StrategyContext

class PairBidder(Strategy):
    symbols = ("AAPL", "MSFT")

    def __init__(self) -> None:
        self.placed: set[str] = set()

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        if book.symbol in self.placed or book.best_bid is None:
            return
        self.placed.add(book.symbol)
        await ctx.buy(Decimal(3), book.best_bid * Decimal("0.98"), symbol=book.symbol)
"""


@pytest.mark.asyncio
async def test_a_live_strategy_bids_on_two_stocks_and_cancels_both(tmp_path: Path) -> None:
    source = tmp_path / "pair.py"
    source.write_text(TWO_STOCKS)
    t0 = time.time()
    async with LocalIBGateway(
        symbols=("AAPL", "MSFT"), seed=5, clock=lambda: MONDAY_10AM + time.time() - t0
    ) as gw:
        status, out, err = await TradewireCommand(tmp_path).run(
            "live", "run", f"{source}:PairBidder", "--venue", "ib", "--ib-url", gw.url,
            "--ib-cafile", str(gw.cert_path), "--account", gw.account_id, "--duration", "3",
            "--no-view", "--out", str(tmp_path / "report"),
        )  # fmt: skip
        assert status == 0, out + err
        # One bid per stock, each 2% under its own market, both canceled at the end.
        orders = sorted(gw.blotter.orders.values(), key=lambda o: o.contract.conid)
        assert [o.contract.conid for o in orders] == [AAPL, 272093]
        assert all(o.side == "BUY" and o.quantity == 3 for o in orders)
        assert all(o.status == "Cancelled" for o in orders)
        assert "canceled 2 open orders" in out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert set(report["symbols"]) == {"AAPL", "MSFT"}

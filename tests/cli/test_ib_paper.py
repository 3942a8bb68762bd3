"""``tradewire paper grid --venue ib``: a grid on paper, filled by the paper broker from the
market data of a LocalIBGateway started per test (during US market hours, on its clock)."""

from __future__ import annotations

import datetime
import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK
from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()


@pytest_asyncio.fixture
async def gw() -> AsyncIterator[LocalIBGateway]:
    """A gateway listing AAPL, its clock at 10:00 on a Monday in New York."""
    t0 = time.time()
    async with LocalIBGateway(
        symbols=("AAPL",), seed=4, clock=lambda: MONDAY_10AM + time.time() - t0
    ) as gateway:
        yield gateway


@pytest.mark.asyncio
async def test_a_paper_grid_runs_on_ib_market_data(gw: LocalIBGateway, tmp_path: Path) -> None:
    out = tmp_path / "report"
    status, stdout, stderr = await TradewireCommand(tmp_path / "home").run(
        "paper",
        "grid",
        "--venue",
        "ib",
        "--symbol",
        "AAPL",
        "--ib-url",
        gw.url,
        "--ib-cafile",
        str(gw.cert_path),
        "--grids",
        "10",
        "--lower",
        "189.50",
        "--upper",
        "190.50",
        "--force",
        "--duration",
        "4",
        "--no-view",
        "--out",
        str(out),
    )
    assert status == 0, stdout + stderr
    assert "AAPL@NASDAQ (USD): conid 265598" in stdout
    assert "market open now: True" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["exchange"] == "ib"
    assert report["market"]["conid"] == 265598
    assert report["paused_events"] == 0
    assert report["market_events"] > 0
    # The grid's own section, as on Binance: the range it was given.
    assert [Decimal(v) for v in report["grid"]["range"]] == [Decimal("189.50"), Decimal("190.50")]
    # Whole shares, and every fill pays IB's commission in USD: at least the USD 1 minimum.
    start, end = report["balances"]["start"], report["balances"]["end"]
    assert start["USD"] == "10000"
    assert Decimal(start["AAPL"]) % 1 == 0
    assert Decimal(end["AAPL"]) % 1 == 0
    assert set(report["fees_by_asset"]) <= {"USD"}
    assert Decimal(report["fees"]) >= report["fills"]
    # Whole shares, priced on the cent tick, nothing sent to the gateway (paper).
    assert not gw.blotter.orders


TWO_STOCKS = """
from decimal import Decimal
from tradewire import BookUpdate, Strategy, StrategyContext

class PairBuyer(Strategy):
    symbols = ("AAPL", "MSFT")

    def __init__(self) -> None:
        self.bought: set[str] = set()

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        if book.symbol not in self.bought:
            self.bought.add(book.symbol)
            await ctx.buy(Decimal(2), symbol=book.symbol)
"""


@pytest.mark.asyncio
async def test_a_strategy_trades_two_stocks_on_paper_from_one_account(tmp_path: Path) -> None:
    source = tmp_path / "pair.py"
    source.write_text(TWO_STOCKS)
    t0 = time.time()
    async with LocalIBGateway(
        symbols=("AAPL", "MSFT"), seed=4, clock=lambda: MONDAY_10AM + time.time() - t0
    ) as gw:
        status, stdout, stderr = await TradewireCommand(tmp_path).run(
            "paper", "run", f"{source}:PairBuyer", "--venue", "ib", "--ib-url", gw.url,
            "--ib-cafile", str(gw.cert_path), "--base-balance", "0", "--duration", "3",
            "--no-view", "--out", str(tmp_path / "report"),
        )  # fmt: skip
        assert status == 0, stdout + stderr
        assert not gw.blotter.orders  # paper: nothing reached the gateway
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert set(report["symbols"]) == {"AAPL", "MSFT"}
    start, end = report["balances"]["start"], report["balances"]["end"]
    assert Decimal(start["AAPL"]) == Decimal(start["MSFT"]) == 0
    # Two shares of each, bought at each one's own market (AAPL near 190, MSFT near 380), and
    # IB's USD 1 minimum commission per fill, all from the one USD balance.
    assert Decimal(end["AAPL"]) == Decimal(end["MSFT"]) == 2
    spent = Decimal(start["USD"]) - Decimal(end["USD"])
    fees = Decimal(report["fees"])
    assert fees >= 2
    assert 2 * (150 + 300) < spent - fees < 2 * (250 + 450)

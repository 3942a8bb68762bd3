"""``tradewire live``: refused keys say why and nothing starts; a short run ends clean.

Rotation while running is in test_live_rotation.py, a kill and restart in
tests/trading/test_restart.py (the runner resuming from its journal).
"""

from __future__ import annotations

import json
import socket
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.binance.urls import BINANCE, TESTNET, endpoints
from tradewire.exchange import LocalExchange
from tradewire.testing.command import TradewireCommand
from tradewire.testing.local_exchange import add_local_key
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.trading.journal import JournaledOrder


def test_urls_follow_the_rest_url() -> None:
    local = endpoints("http://127.0.0.1:8080")
    assert (local.stream_url, local.ws_api_url) == (
        "ws://127.0.0.1:8080",
        "ws://127.0.0.1:8080/ws-api/v3",
    )
    assert endpoints("https://api.binance.com/") == BINANCE
    assert BINANCE.stream_url == "wss://stream.binance.com:9443"
    assert BINANCE.ws_api_url == "wss://ws-api.binance.com:443/ws-api/v3"
    assert endpoints("https://testnet.binance.vision") == TESTNET
    given = endpoints("https://api.binance.com", "wss://elsewhere:9443/")
    assert (given.stream_url, given.ws_api_url) == ("wss://elsewhere:9443", BINANCE.ws_api_url)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_refused_keys_say_why_and_nothing_is_sent(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        store = cli.key_store()
        cases = {
            "withdraw": (("reading", "spot", "withdrawals"), "can WITHDRAW funds"),
            "reader": (("reading",), "This key cannot trade"),
        }
        for name, (permissions, why) in cases.items():
            key = add_local_key(ex, permissions=permissions)
            store.add(name, key.api_key, key.secret)
            status, out, err = await cli.run(
                "live", "grid", "--key", name, "--rest-url", ex.rest_url,
                "--investment", "100", "--no-view",
            )  # fmt: skip
            assert status == 2, err
            assert why in out
            assert f"Not starting: key {name} is refused for live trading" in out
        store.add("unknown", "U" * 64, "0" * 64)
        status, out, _ = await cli.run(
            "live", "grid", "--key", "unknown", "--rest-url", ex.rest_url, "--no-view"
        )
        assert status == 2 and "the exchange refused the key" in out
        status, _, err = await cli.run("live", "dca", "--rest-url", ex.rest_url)
        assert status == 1 and "no key for bot live-dca: pass --key NAME" in err
        assert ex.metrics()["orders_placed"] == 0
        assert not (tmp_path / "journals").exists()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_short_live_grid_run_journals_and_cancels_its_orders(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        (tmp_path / "config.toml").write_text(
            f'[bots.g1]\nkey = "bot1"\nsymbol = "BTCUSDT"\nrest_url = "{ex.rest_url}"\n'
        )
        status, out, err = await cli.run(
            "live", "grid", "--name", "g1", "--lower", "64990", "--upper", "65010",
            "--grids", "4", "--quantity", "0.0001", "--duration", "1.5", "--no-view",
            "--out", str(tmp_path / "report"), "--force",
        )  # fmt: skip
        assert status == 0, err
        assert "WARNING  This key has no IP whitelist" in out
        assert "Starting grid bot g1 on BTCUSDT" in out
        # 5 USDT steps against the account's 0.1% commission: forced, and warned about.
        [warning] = json.loads((tmp_path / "report" / "report.json").read_text())["warnings"]
        assert warning.startswith("grid step 5.00 USDT") and "costs 0.2% = 130 USDT" in warning
        assert f"warning: {warning}" in err
        with Journal.for_bot(tmp_path, "g1") as journal:
            orders = journal.orders()
        assert len(orders) >= 4 and not journal_open(orders)
        assert not cli.leaked(key.secret)


def journal_open(orders: list[JournaledOrder]) -> list[JournaledOrder]:
    """The journaled orders still open."""
    return [o for o in orders if o.is_open]


OWN_STRATEGY = """
from decimal import Decimal
from tradewire import BookUpdate, Strategy, StrategyContext

class Quoter(Strategy):
    def __init__(self, size: Decimal, below: Decimal) -> None:
        self.size, self.below, self.placed = size, below, False

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        if not self.placed and book.best_bid is not None:
            self.placed = True
            await ctx.buy(self.size, book.best_bid - self.below)
"""


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_live_runs_a_users_strategy_file(tmp_path: Path) -> None:
    source = tmp_path / "quoter.py"
    source.write_text(OWN_STRATEGY)
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        status, out, err = await cli.run(
            "live", "run", f"{source}:Quoter", "--param", "size=0.0002", "--param", "below=100",
            "--key", "bot1", "--rest-url", ex.rest_url, "--duration", "1.5", "--no-view",
            "--out", str(tmp_path / "report"),
        )  # fmt: skip
        assert status == 0, err
        assert "Starting Quoter bot live-Quoter on BTCUSDT" in out
        assert "canceled 1 open orders" in out
        report = json.loads((tmp_path / "report" / "report.json").read_text())
        assert report["bot"] == "Quoter" and report["strategy_params"] == {
            "size": "0.0002",
            "below": "100",
        }
        with Journal.for_bot(tmp_path, "live-Quoter") as journal:
            [order] = journal.orders()
        assert (order.side, order.quantity) == ("BUY", D("0.0002")) and not order.is_open
        assert not cli.leaked(key.secret)


TWO_SYMBOLS = """
from decimal import Decimal
from tradewire import BookUpdate, Strategy, StrategyContext

class PairQuoter(Strategy):
    symbols = ("BTCUSDT", "ETHUSDT")

    def __init__(self) -> None:
        self.placed: set[str] = set()

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        if book.symbol in self.placed or book.best_bid is None:
            return
        self.placed.add(book.symbol)
        rules = ctx.rules_for(book.symbol)
        size = (Decimal(12) / book.best_bid).quantize(rules.step_size, rounding="ROUND_UP")
        await ctx.buy(size, book.best_bid * Decimal("0.98"), symbol=book.symbol)
"""


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_live_runs_a_strategy_on_two_symbols_from_one_account(tmp_path: Path) -> None:
    source = tmp_path / "pair.py"
    source.write_text(TWO_SYMBOLS)
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT", "ETHUSDT"), market_interval_ms=20) as ex:
        key = add_local_key(ex, balances={"USDT": "1000"})
        cli.key_store().add("bot1", key.api_key, key.secret)
        status, out, err = await cli.run(
            "live", "run", f"{source}:PairQuoter", "--key", "bot1", "--rest-url", ex.rest_url,
            "--duration", "2", "--no-view", "--out", str(tmp_path / "report"),
        )  # fmt: skip
        assert status == 0, err
        assert "canceled 2 open orders" in out
        with Journal.for_bot(tmp_path, "live-PairQuoter") as journal:
            orders = journal.orders()
        # one buy per symbol, each 2% under its own market, each canceled at the end
        assert sorted(o.symbol for o in orders) == ["BTCUSDT", "ETHUSDT"]
        assert all(o.side == "BUY" and not o.is_open for o in orders)
        assert ex.metrics()["orders_placed"] == 2
        report = json.loads((tmp_path / "report" / "report.json").read_text())
        assert set(report["symbols"]) == {"BTCUSDT", "ETHUSDT"}
        assert not cli.leaked(key.secret)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_live_says_unreachable_not_refused_when_the_exchange_cannot_be_reached(
    tmp_path: Path,
) -> None:
    cli = TradewireCommand(tmp_path)
    cli.key_store().add("bot1", "K" * 64, "0" * 64)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status, out, err = await cli.run(
        "live", "grid", "--key", "bot1", "--rest-url", f"http://127.0.0.1:{port}", "--no-view"
    )
    assert status == 3, (out, err)
    assert "UNREACHABLE  could not reach the exchange to audit the key" in out
    assert "REFUSED" not in out
    assert not (tmp_path / "journals").exists()

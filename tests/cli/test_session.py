"""What paper and live share: bot arguments, the bot built from them, the mid price."""

from __future__ import annotations

import argparse
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

from tradewire.binance import BinanceClient
from tradewire.bots import DcaBot, GridBot
from tradewire.bots.params import DcaParams, GridParams, params_from_record, params_record
from tradewire.cli.session import (
    add_bot_arguments,
    build_strategy,
    decimal_argument,
    journal_params,
    journaled_params,
    mid_price,
    resolve_params,
)
from tradewire.errors import BotConfigError, TradewireError
from tradewire.exchange import LocalExchange
from tradewire.model import Balance, Order, SymbolRules
from tradewire.trading.journal import BotParameters, Journal

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
RICH = {"USDT": Balance("USDT", D(100_000)), "BTC": Balance("BTC", D(2))}


def _args(bot: str, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bot_arguments(parser, bot)
    args = parser.parse_args(list(argv))
    args.bot = bot
    return args


def test_amounts_on_the_command_line_are_exact_or_refused() -> None:
    assert decimal_argument("0.1") == D("0.1")
    with pytest.raises(argparse.ArgumentTypeError, match="not a decimal number: 'x'"):
        decimal_argument("x")


def test_the_grid_defaults_to_a_range_around_the_price() -> None:
    args = _args("grid", "--investment", "1000")
    bot = build_strategy(args, RULES, D("65000"), RICH, local_market=False)
    assert isinstance(bot, GridBot)
    assert bot.params.lower_price == D("64350.00") and bot.params.upper_price == D("65650.00")
    local = build_strategy(args, RULES, D("65000"), RICH, local_market=True)
    assert isinstance(local, GridBot)
    assert local.params.upper_price - local.params.lower_price == D("0.60")


def test_a_bot_the_balances_cannot_fund_is_refused_before_it_starts() -> None:
    poor = {"USDT": Balance("USDT", D(10)), "BTC": Balance("BTC", D(0))}
    with pytest.raises(BotConfigError):
        build_strategy(_args("dca"), RULES, D("65000"), poor, local_market=False)
    assert isinstance(
        build_strategy(_args("dca"), RULES, D("65000"), RICH, local_market=False), DcaBot
    )


@pytest.mark.asyncio
async def test_mid_price_is_exact() -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), seed=2) as ex,
        BinanceClient(rest_url=ex.rest_url, stream_url=ex.stream_url) as client,
    ):
        ex.pause()  # the market stands still between the two reads
        price = await mid_price(client, "BTCUSDT")
        depth = await client.depth("BTCUSDT", 5)
        assert price == (D(depth.bids[0][0]) + D(depth.asks[0][0])) / 2


def _journaled(bot: str, params: GridParams | DcaParams, symbol: str = "BTCUSDT") -> BotParameters:
    return BotParameters(bot, symbol, params_record(params), 1)


OPEN = [Order("BTCUSDT", "BUY", "LIMIT", D("0.001"), "g1-a", "NEW", price=D("64500"))]


def test_a_restart_with_open_orders_rebuilds_the_bot_from_its_journal() -> None:
    first = resolve_params(
        _args("grid", "--investment", "1000"), RULES, D(65000), local_market=False
    )
    last = _journaled("grid", first)
    # The price moved: without options the journaled range is used, not one around the price.
    again = _args("grid")
    moved = _args("grid", "--investment", "1000")
    assert resolve_params(moved, RULES, D(65100), local_market=False) != first
    assert journaled_params(again, last, OPEN, name="g1", symbol="BTCUSDT") == first
    same = _args("grid", "--lower", "64350", "--grids", "10", "--investment", "1000.0")
    assert journaled_params(same, last, OPEN, name="g1", symbol="BTCUSDT") == first
    # Nothing left open, or nothing journaled: the options decide, as on a first start.
    assert journaled_params(again, last, [], name="g1", symbol="BTCUSDT") is None
    assert journaled_params(again, None, OPEN, name="g1", symbol="BTCUSDT") is None
    dca = resolve_params(_args("dca"), RULES, D(65000), local_market=False)
    assert (
        journaled_params(_args("dca"), _journaled("dca", dca), OPEN, name="d", symbol="BTCUSDT")
        == dca
    )


def test_options_that_would_move_the_open_orders_off_the_grid_are_refused() -> None:
    first = resolve_params(
        _args("grid", "--investment", "1000"), RULES, D(65000), local_market=False
    )
    last = _journaled("grid", first)
    moved = _args("grid", "--lower", "64000", "--grids", "12")
    with pytest.raises(TradewireError) as refused:
        journaled_params(moved, last, OPEN, name="g1", symbol="BTCUSDT")
    message = str(refused.value)
    assert "bot g1 has 1 orders open from its last run" in message
    assert "--lower 64000 (journaled: 64350.00), --grids 12 (journaled: 10)" in message
    assert "--cancel-old-orders" in message and "--upper" not in message
    with pytest.raises(TradewireError, match="a grid bot on BTCUSDT; this is a dca bot"):
        journaled_params(_args("dca"), last, OPEN, name="g1", symbol="BTCUSDT")
    with pytest.raises(TradewireError, match="a grid bot on BTCUSDT; this is a grid bot on ETH"):
        journaled_params(_args("grid"), last, OPEN, name="g1", symbol="ETHUSDT")
    # Orders on another symbol would be followed by nobody, even in a journal without parameters.
    with pytest.raises(TradewireError, match="1 orders open from its last run, orders on BTC"):
        journaled_params(_args("grid"), None, OPEN, name="g1", symbol="ETHUSDT")


def test_parameters_are_journaled_once_per_change(tmp_path: Path) -> None:
    first = resolve_params(
        _args("grid", "--investment", "1000"), RULES, D(65000), local_market=False
    )
    moved = resolve_params(
        _args("grid", "--investment", "1000"), RULES, D(65100), local_market=False
    )
    with Journal.for_bot(tmp_path, "g1") as journal:
        journal_params(journal, first, "BTCUSDT")
        recorded = journal.last_params()
        journal_params(journal, first, "BTCUSDT")
        assert journal.last_params() == recorded
        journal_params(journal, moved, "BTCUSDT")
        last = journal.last_params()
        assert last is not None and params_from_record(last.kind, last.params) == moved

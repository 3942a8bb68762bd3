"""What paper and live share: bot arguments, the bot built from them, the mid price."""

from __future__ import annotations

import argparse
from decimal import Decimal as D

import pytest

from tradewire.binance import BinanceClient
from tradewire.bots import DcaBot, GridBot
from tradewire.cli.session import add_bot_arguments, build_strategy, decimal_argument, mid_price
from tradewire.errors import BotConfigError
from tradewire.exchange import LocalExchange
from tradewire.model import Balance, SymbolRules

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

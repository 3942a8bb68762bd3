"""What paper and live share: bot arguments, the bot built from them, the mid price."""

from __future__ import annotations

import argparse
from dataclasses import replace
from decimal import Decimal as D
from itertools import pairwise
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest

if TYPE_CHECKING:
    from pathlib import Path

from tradewire.binance import BinanceClient
from tradewire.bots import DcaBot, GridBot
from tradewire.bots.params import (
    DcaParams,
    GridParams,
    grid_levels,
    params_from_record,
    params_record,
)
from tradewire.cli.session import (
    account_fees,
    add_bot_arguments,
    apply_account_defaults,
    bot_warnings,
    build_strategy,
    decimal_argument,
    default_balances,
    journal_params,
    journaled_params,
    mid_price,
    resolve_params,
    strategy_for,
)
from tradewire.errors import APIError, BotConfigError, EmptyBook, TradewireError
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
    # 10 lines 0.5% (325 USDT) apart, half below 65,000.
    args = _args("grid", "--investment", "1000")
    bot = build_strategy(args, RULES, D("65000"), RICH)
    assert isinstance(bot, GridBot)
    assert bot.params.lower_price == D("63375.00") and bot.params.upper_price == D("66625.00")
    assert bot.warnings == []
    # More grids, the same step: the range grows with them.
    wide = resolve_params(_args("grid", "--grids", "20", "--investment", "1000"), RULES, D(65000))
    assert isinstance(wide, GridParams)
    assert (wide.lower_price, wide.upper_price) == (D("61750.00"), D("68250.00"))
    with pytest.raises(BotConfigError, match=r"400 grids of the default step .* reach below zero"):
        resolve_params(_args("grid", "--grids", "400"), RULES, D(65000))


@pytest.mark.parametrize("spacing", ["arithmetic", "geometric"])
@pytest.mark.parametrize("fee", ["0.001", "0.00075", "0.002", "0.0001", "0"])
def test_the_default_grid_step_is_two_and_a_half_round_trips_or_more(
    spacing: str, fee: str
) -> None:
    rate = D(fee)
    args = _args("grid", "--investment", "1000", "--spacing", spacing)
    params = resolve_params(args, RULES, D(65000), maker_fee=rate)
    assert isinstance(params, GridParams)
    levels = grid_levels(params, RULES)
    step = max(D("0.005"), D("2.5") * 2 * rate)  # 0.5%, or 2.5 round trips if more
    for low, high in pairwise(levels):
        # Of the start price (arithmetic) or of the buy price (geometric), a tick of rounding
        # aside; at the pair's own prices (±2.5%) it is still 2 round trips or more.
        of = D(65000) if spacing == "arithmetic" else low
        assert high - low >= step * of - RULES.tick_size
        assert high - low >= 2 * rate * (low + high)
    assert levels[0] < 65000 < levels[-1]
    bot = strategy_for(params, RULES, D(65000), RICH, maker_fee=rate, taker_fee=rate)
    assert bot.warnings == []


def test_a_losing_grid_is_refused_unless_forced() -> None:
    narrow = ("--lower", "64999.70", "--upper", "65000.30", "--investment", "1000")
    with pytest.raises(BotConfigError, match=r"grid step 0\.06 USDT .* costs 0\.2% = 130 USDT"):
        build_strategy(_args("grid", *narrow), RULES, D(65000), RICH)
    # The account's rate decides: at 0.01% the same grid still loses (13 USDT of fees a BTC).
    with pytest.raises(BotConfigError, match=r"maker fee 0\.01%\) costs 0\.02% = 13 USDT"):
        build_strategy(
            _args("grid", *narrow),
            RULES,
            D(65000),
            RICH,
            maker_fee=D("0.0001"),
            taker_fee=D("0.0001"),
        )
    forced = build_strategy(_args("grid", *narrow, "--force"), RULES, D(65000), RICH)
    assert isinstance(forced, GridBot) and forced.params.force
    [warning] = bot_warnings(forced)
    assert "0.06 USDT" in warning and "running anyway" in warning
    with pytest.raises(BotConfigError, match=r"take profit 0\.1% is not above"):
        build_strategy(_args("dca", "--take-profit", "0.1"), RULES, D(65000), RICH)
    dca = build_strategy(_args("dca", "--take-profit", "0.1", "--force"), RULES, D(65000), RICH)
    assert isinstance(dca, DcaBot) and len(bot_warnings(dca)) == 1


def test_the_dca_defaults_clear_the_fees() -> None:
    params = resolve_params(_args("dca"), RULES, D(65000))
    assert isinstance(params, DcaParams)
    assert params.take_profit == D(1)  # 5 round trips of 0.2%
    dear = resolve_params(
        _args("dca"),
        RULES,
        D(65000),
        maker_fee=D("0.003"),
        taker_fee=D("0.003"),
    )
    assert isinstance(dear, DcaParams) and dear.take_profit == D("1.5")  # 2.5 x 0.6%


ETHUSDT = SymbolRules("ETHUSDT", "ETH", "USDT", D("0.01"), D("0.0001"), D("0.0001"), D("5"))
ETHBTC = SymbolRules("ETHBTC", "ETH", "BTC", D("0.00001"), D("0.0001"), D("0.0001"), D("0.0001"))


def test_paper_balances_follow_the_symbol() -> None:
    # BTCUSDT keeps 10,000 USDT and 0.1 BTC; others get their own assets, worth the same.
    assert default_balances(RULES, D("65000.37")) == (D(10_000), D("0.1"))
    assert default_balances(ETHUSDT, D("3500")) == (D(10_000), D("1.9"))
    quote, base = default_balances(ETHBTC, D("0.054"))
    assert (quote, base) == (D("0.2"), D("2.4"))  # 0.2 BTC; 2.4 ETH = 0.13 BTC at 0.054
    # The DCA order sizes and the grid's investment scale with the quote asset too.
    dca = resolve_params(_args("dca"), ETHBTC, D("0.054"))
    assert isinstance(dca, DcaParams) and dca.base_order_size == D("0.002")
    args = _args("grid")
    args.quote_balance = args.base_balance = None
    apply_account_defaults(args, ETHBTC, D("0.054"))
    assert (args.quote_balance, args.base_balance, args.investment) == (
        D("0.2"),
        D("2.4"),
        D("0.02"),
    )
    held = {"BTC": Balance("BTC", args.quote_balance), "ETH": Balance("ETH", args.base_balance)}
    grid = build_strategy(args, ETHBTC, D("0.054"), held)
    assert isinstance(grid, GridBot) and grid.warnings == []
    # What the user gives is kept.
    given = _args("grid", "--quantity", "0.01")
    given.quote_balance, given.base_balance = D(5), None
    apply_account_defaults(given, ETHUSDT, D("3500"))
    assert (given.quote_balance, given.base_balance, given.investment) == (D(5), D("1.9"), None)


def test_a_forced_restart_keeps_the_journaled_lines() -> None:
    first = resolve_params(_args("grid", "--investment", "1000"), RULES, D(65000))
    again = journaled_params(
        _args("grid", "--force"), _journaled("grid", first), OPEN, name="g1", symbol="BTCUSDT"
    )
    assert again == replace(first, force=True)


def test_a_bot_the_balances_cannot_fund_is_refused_before_it_starts() -> None:
    poor = {"USDT": Balance("USDT", D(10)), "BTC": Balance("BTC", D(0))}
    with pytest.raises(BotConfigError):
        build_strategy(_args("dca"), RULES, D("65000"), poor)
    assert isinstance(build_strategy(_args("dca"), RULES, D("65000"), RICH), DcaBot)


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


_Book = tuple[list[list[str]], list[list[str]]]


class _Depths:
    """A client whose depth answers are given in turn (the last one repeats)."""

    def __init__(self, *books: _Book) -> None:
        self.books = list(books)
        self.calls = 0

    async def depth(self, symbol: str, limit: int) -> SimpleNamespace:
        bids, asks = self.books[min(self.calls, len(self.books) - 1)]
        self.calls += 1
        return SimpleNamespace(bids=bids, asks=asks)


@pytest.mark.asyncio
async def test_a_book_swept_bare_for_a_moment_is_asked_again() -> None:
    one_sided: _Book = ([["100.00", "1"]], [])
    two_sided: _Book = ([["100.00", "1"]], [["100.02", "2"]])
    client = _Depths(one_sided, one_sided, two_sided)
    assert await mid_price(cast("BinanceClient", client), "BTCUSDT") == D("100.01")
    assert client.calls == 3


@pytest.mark.asyncio
async def test_a_book_that_stays_one_sided_is_a_typed_error() -> None:
    client = _Depths(([], [["100.02", "2"]]))
    with pytest.raises(EmptyBook, match=r"BTCUSDT has no bids after 0\.5 s"):
        await mid_price(cast("BinanceClient", client), "BTCUSDT", wait_s=0.5)
    assert client.calls >= 2


def _journaled(bot: str, params: GridParams | DcaParams, symbol: str = "BTCUSDT") -> BotParameters:
    return BotParameters(bot, symbol, params_record(params), 1)


OPEN = [Order("BTCUSDT", "BUY", "LIMIT", D("0.001"), "g1-a", "NEW", price=D("64500"))]


def test_a_restart_with_open_orders_rebuilds_the_bot_from_its_journal() -> None:
    first = resolve_params(_args("grid", "--investment", "1000"), RULES, D(65000))
    last = _journaled("grid", first)
    # The price moved: without options the journaled range is used, not one around the price.
    again = _args("grid")
    moved = _args("grid", "--investment", "1000")
    assert resolve_params(moved, RULES, D(65100)) != first
    assert journaled_params(again, last, OPEN, name="g1", symbol="BTCUSDT") == first
    same = _args("grid", "--lower", "63375", "--grids", "10", "--investment", "1000.0")
    assert journaled_params(same, last, OPEN, name="g1", symbol="BTCUSDT") == first
    # Nothing left open (all filled or canceled while the bot was down): without options the
    # journaled parameters still hold, never the defaults; options given start it anew.
    assert journaled_params(again, last, [], name="g1", symbol="BTCUSDT") == first
    assert journaled_params(moved, last, [], name="g1", symbol="BTCUSDT") is None
    assert journaled_params(_args("dca"), last, [], name="g1", symbol="BTCUSDT") is None
    # Nothing journaled: the options decide, as on a first start.
    assert journaled_params(again, None, OPEN, name="g1", symbol="BTCUSDT") is None
    dca = resolve_params(_args("dca"), RULES, D(65000))
    assert (
        journaled_params(_args("dca"), _journaled("dca", dca), OPEN, name="d", symbol="BTCUSDT")
        == dca
    )


def test_options_that_would_move_the_open_orders_off_the_grid_are_refused() -> None:
    first = resolve_params(_args("grid", "--investment", "1000"), RULES, D(65000))
    last = _journaled("grid", first)
    moved = _args("grid", "--lower", "64000", "--grids", "12")
    with pytest.raises(TradewireError) as refused:
        journaled_params(moved, last, OPEN, name="g1", symbol="BTCUSDT")
    message = str(refused.value)
    assert "bot g1 has 1 orders open from its last run" in message
    assert "--lower 64000 (journaled: 63375.00), --grids 12 (journaled: 10)" in message
    assert "--cancel-old-orders" in message and "--upper" not in message
    with pytest.raises(TradewireError, match="a grid bot on BTCUSDT; this is a dca bot"):
        journaled_params(_args("dca"), last, OPEN, name="g1", symbol="BTCUSDT")
    with pytest.raises(TradewireError, match="a grid bot on BTCUSDT; this is a grid bot on ETH"):
        journaled_params(_args("grid"), last, OPEN, name="g1", symbol="ETHUSDT")
    # Orders on another symbol would be followed by nobody, even in a journal without parameters.
    with pytest.raises(TradewireError, match="1 orders open from its last run, orders on BTC"):
        journaled_params(_args("grid"), None, OPEN, name="g1", symbol="ETHUSDT")


def test_parameters_are_journaled_once_per_change(tmp_path: Path) -> None:
    first = resolve_params(_args("grid", "--investment", "1000"), RULES, D(65000))
    moved = resolve_params(_args("grid", "--investment", "1000"), RULES, D(65100))
    with Journal.for_bot(tmp_path, "g1") as journal:
        journal_params(journal, first, "BTCUSDT")
        recorded = journal.last_params()
        journal_params(journal, first, "BTCUSDT")
        assert journal.last_params() == recorded
        journal_params(journal, moved, "BTCUSDT")
        last = journal.last_params()
        assert last is not None and params_from_record(last.kind, last.params) == moved


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("mode", ["paper", "live", "backtest"])
def test_help_shows_every_default(mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tradewire.cli.main import _parser, main

    for bot, parser in _subcommands(_subcommands(_parser())[mode]).items():
        for action in parser._actions:
            if action.required or not action.option_strings or action.nargs == 0:
                continue  # required, positional, or an on/off flag (off unless given)
            shown = parser._get_formatter()._get_help_string(action)
            assert shown is not None and "default" in shown, (mode, bot, action.option_strings)
        with pytest.raises(SystemExit):
            main([mode, bot, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        if bot == "grid":
            assert "number of grids (default: 10)" in text
            assert "0.5% of the price, or 2.5 round-trip fees if more" in text
        if bot == "dca":
            assert "(default: 1, or 2.5 round-trip fees if more)" in text
        if mode != "live":
            assert "(default: BTCUSDT)" in text and "(default: 10000 USDT" in text


class _Account:
    """A client whose ``account()`` answers as ``GET /api/v3/account`` would, or fails."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    async def account(self, *, omit_zero_balances: bool = False) -> object:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.asyncio
async def test_live_fees_are_the_accounts_commission_else_binances_default() -> None:
    rates = SimpleNamespace(maker=D("0.00075"), taker=D("0.00090"))
    told = SimpleNamespace(commission_rates=rates, maker_commission=10, taker_commission=10)
    assert await account_fees(cast("BinanceClient", _Account(told))) == (D("0.00075"), D("0.0009"))
    older = SimpleNamespace(commission_rates=None, maker_commission=8, taker_commission=9)
    assert await account_fees(cast("BinanceClient", _Account(older))) == (D("0.0008"), D("0.0009"))
    refused = _Account(APIError("Invalid API-key, IP, or permissions for action.", code=-2015))
    assert await account_fees(cast("BinanceClient", refused)) == (D("0.001"), D("0.001"))


def test_a_grid_with_orders_open_is_taken_back_when_the_price_left_its_range() -> None:
    params = resolve_params(_args("grid", "--investment", "1000"), RULES, D(65000))
    assert isinstance(params, GridParams)
    above = params.upper_price + 500  # the market ran above the lines while the bot was down
    with pytest.raises(BotConfigError, match="outside the grid"):
        strategy_for(params, RULES, above, RICH)  # a fresh start there is refused
    assert isinstance(strategy_for(params, RULES, above, RICH, resuming=True), GridBot)

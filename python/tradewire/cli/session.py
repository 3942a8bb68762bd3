"""What ``tradewire paper`` and ``tradewire live`` share: bot arguments, bot building, a run.

Both commands take the same bot parameters (:func:`add_bot_arguments`), build and check the
bot the same way (:func:`build_strategy`), stop on Ctrl-C or SIGTERM (:func:`stop_on_signals`),
size from the same mid price (:func:`mid_price`) and run with the same live view and report
(:func:`run_with_view`, :func:`write_run_report`); they differ only in the venue they run on.

Parameters that cannot make money after fees (a grid step or DCA take profit under the
round-trip fee at the run's rates) are refused before anything starts, unless ``--force``: the
warning is then printed (:func:`say_warnings`), logged by the bot, and written to report.json
(``warnings``). Paper and backtest accounts default to the symbol's own assets
(:func:`apply_account_defaults`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from dataclasses import asdict, replace
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from tradewire.bots.dca import DcaBot, funds_needed
from tradewire.bots.grid import GridBot, GridPlan
from tradewire.bots.params import (
    BINANCE_FEE,
    DcaParams,
    GridParams,
    check_fees,
    check_funds,
    default_grid_step,
    default_take_profit,
    params_from_record,
    params_record,
)
from tradewire.cli.view import LiveView
from tradewire.errors import BotConfigError, EmptyBook, TradewireError
from tradewire.trading.loading import load_strategy, make_strategy, parse_params
from tradewire.trading.report import write_report
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence
    from pathlib import Path

    from tradewire.binance.client import BinanceClient
    from tradewire.model import Balance, Order, SymbolRules
    from tradewire.trading.journal import BotParameters, Journal
    from tradewire.trading.runner import Runner, RunResult
    from tradewire.trading.strategy import Strategy
    from tradewire.venues.ib import IBVenue

__all__ = [
    "BOTS",
    "BotHelpFormatter",
    "SymbolsAction",
    "account_fees",
    "add_bot_arguments",
    "add_bot_commands",
    "add_ib_arguments",
    "add_strategy_command",
    "apply_account_defaults",
    "bot_label",
    "bot_report",
    "bot_warnings",
    "build_strategy",
    "decimal_argument",
    "default_balances",
    "describe_params",
    "finish_run",
    "ib_confirm",
    "ib_fee_rate",
    "journal_params",
    "journaled_params",
    "mid_price",
    "open_ib_venue",
    "own_strategy",
    "pnl_line",
    "quote_unit",
    "resolve_params",
    "run_failed",
    "run_identity",
    "run_with_view",
    "say_warnings",
    "stock_defaults",
    "stop_on_signals",
    "strategy_for",
    "strategy_symbols",
    "write_run_report",
]


def decimal_argument(text: str) -> Decimal:
    """An exact amount from the command line (argparse's ``type=``)."""
    try:
        return Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None


class BotHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with every default: the value of options that have one; options whose default
    depends on the market (None here) or on/off flags say theirs in their own help text."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.help is None:
            return action.help
        if "(default" in action.help:
            return action.help
        return super()._get_help_string(action)


def add_bot_arguments(p: argparse.ArgumentParser, bot: str) -> None:
    """The grid (``bot="grid"``) or DCA bot's parameters, as ``paper`` and ``live`` take them.

    Options left out are None here (their defaults come from :func:`resolve_params`), so a
    restart can tell what the user passed from what the journal holds.
    """
    p.add_argument(
        "--force",
        action="store_true",
        help="run even if the parameters cannot make money after fees (the warning is printed, "
        "logged and written to report.json; default: refuse them)",
    )
    if bot == "grid":
        p.add_argument(
            "--lower",
            type=decimal_argument,
            help="lower price (default: the price less half the grids' default steps)",
        )
        p.add_argument(
            "--upper",
            type=decimal_argument,
            help="upper price (default: the price plus half the grids' default steps; a "
            "default step is 0.5%% of the price, or 2.5 round-trip fees if more)",
        )
        p.add_argument("--grids", type=int, help="number of grids (default: 10)")
        p.add_argument(
            "--spacing",
            choices=("arithmetic", "geometric"),
            help="grid lines (default: arithmetic)",
        )
        p.add_argument(
            "--investment",
            type=decimal_argument,
            help="quote to spread over the grid (default on paper: a fifth of the quote "
            "balance, at most 1000 USDT or the same in other quotes)",
        )
        p.add_argument(
            "--quantity",
            type=decimal_argument,
            help="base quantity per grid, instead of --investment (default: none)",
        )
        p.add_argument(
            "--stop-loss", type=decimal_argument, help="stop below this price (default: none)"
        )
        p.add_argument(
            "--take-profit", type=decimal_argument, help="stop above this price (default: none)"
        )
        p.add_argument(
            "--trailing-up",
            action="store_true",
            default=None,
            help="when the price rises above the range, move the range up one line at a time "
            "(default: off)",
        )
        p.add_argument(
            "--trailing-up-limit",
            type=decimal_argument,
            help="highest line a trailing-up range may reach (default: none)",
        )
        p.add_argument(
            "--trailing-down",
            action="store_true",
            default=None,
            help="when the price falls below the range, move the range down one line at a time "
            "(default: off)",
        )
        p.add_argument(
            "--trailing-down-limit",
            type=decimal_argument,
            help="lowest line a trailing-down range may reach (default: none)",
        )
        p.add_argument(
            "--infinity",
            action="store_true",
            default=None,
            help="infinity grid: no upper bound, geometric lines, the base kept worth "
            "--investment (default: off)",
        )
        p.add_argument(
            "--reverse",
            action="store_true",
            default=None,
            help="reverse grid: start holding base, sells above the price only, profit kept in "
            "base (default: off)",
        )
        p.add_argument(
            "--trigger-price",
            type=decimal_argument,
            help="place nothing until the price crosses this price (default: start at once)",
        )
        p.add_argument(
            "--start-order",
            choices=("market", "limit", "none"),
            help="how the base (or quote) the starting orders lack is bought (or sold) first: "
            "one MARKET order, one LIMIT at the best price, or none (refuse) (default: market)",
        )
        return
    p.add_argument(
        "--base-order",
        type=decimal_argument,
        help="quote (default: 100 USDT, or the same in other quotes)",
    )
    p.add_argument(
        "--safety-order",
        type=decimal_argument,
        help="quote (default: 100 USDT, or the same in other quotes)",
    )
    p.add_argument("--max-safety-orders", type=int, help="(default: 5)")
    p.add_argument(
        "--deviation",
        type=decimal_argument,
        help="percent to the first safety order (default: 1; 5 ticks on the local exchange)",
    )
    p.add_argument("--step-scale", type=decimal_argument, help="(default: 1)")
    p.add_argument("--volume-scale", type=decimal_argument, help="(default: 1)")
    p.add_argument(
        "--take-profit",
        type=decimal_argument,
        help="percent above the average price (default: 1, or 2.5 round-trip fees if more)",
    )
    p.add_argument(
        "--stop-loss",
        type=decimal_argument,
        help="percent below the base order price (default: none)",
    )
    p.add_argument("--deals", type=int, help="deals before stopping (default: 1000)")
    p.add_argument(
        "--trailing-deviation",
        type=decimal_argument,
        help="trailing take profit: once the take profit is reached, sell when the price "
        "falls this percent from its peak (default: off, a limit take profit)",
    )
    p.add_argument(
        "--trailing-stop-loss",
        action="store_true",
        default=None,
        help="the stop loss trails the deal's highest price by --stop-loss percent "
        "(default: off, below the base order price)",
    )
    p.add_argument(
        "--cooldown",
        type=int,
        help="seconds between a deal's end (or the last start) and the next deal (default: 0)",
    )
    p.add_argument(
        "--max-active-deals",
        type=int,
        help="deals open at once; above 1 a new deal starts --cooldown seconds after the "
        "last one started (default: 1)",
    )


# Each bot option (its argparse dest, its flag) and the parameter it sets.
_OPTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "grid": (
        ("lower", "--lower", "lower_price"),
        ("upper", "--upper", "upper_price"),
        ("grids", "--grids", "grid_number"),
        ("spacing", "--spacing", "grid_mode"),
        ("investment", "--investment", "investment"),
        ("quantity", "--quantity", "quantity_per_grid"),
        ("stop_loss", "--stop-loss", "stop_loss"),
        ("take_profit", "--take-profit", "take_profit"),
        ("trailing_up", "--trailing-up", "trailing_up"),
        ("trailing_up_limit", "--trailing-up-limit", "trailing_up_limit"),
        ("trailing_down", "--trailing-down", "trailing_down"),
        ("trailing_down_limit", "--trailing-down-limit", "trailing_down_limit"),
        ("infinity", "--infinity", "infinity"),
        ("reverse", "--reverse", "reverse"),
        ("trigger_price", "--trigger-price", "trigger_price"),
        ("start_order", "--start-order", "start_order"),
    ),
    "dca": (
        ("base_order", "--base-order", "base_order_size"),
        ("safety_order", "--safety-order", "safety_order_size"),
        ("max_safety_orders", "--max-safety-orders", "max_safety_orders"),
        ("deviation", "--deviation", "price_deviation"),
        ("step_scale", "--step-scale", "safety_order_step_scale"),
        ("volume_scale", "--volume-scale", "safety_order_volume_scale"),
        ("take_profit", "--take-profit", "take_profit"),
        ("stop_loss", "--stop-loss", "stop_loss"),
        ("deals", "--deals", "max_deals"),
        ("trailing_deviation", "--trailing-deviation", "trailing_deviation"),
        ("trailing_stop_loss", "--trailing-stop-loss", "trailing_stop_loss"),
        ("cooldown", "--cooldown", "cooldown"),
        ("max_active_deals", "--max-active-deals", "max_active_deals"),
    ),
}


def _given(args: argparse.Namespace, dest: str, default: Any) -> Any:
    value = getattr(args, dest, None)
    return default if value is None else value


def resolve_params(
    args: argparse.Namespace,
    rules: SymbolRules,
    price: Decimal,
    *,
    maker_fee: Decimal = BINANCE_FEE,
    taker_fee: Decimal = BINANCE_FEE,
) -> GridParams | DcaParams:
    """The bot's parameters from ``args``, the defaults filled in for the market at ``price``.

    Without a range the grid's lines are one default step apart
    (:func:`~tradewire.bots.params.default_grid_step`: 0.5% of the price, or 2.5 round trips
    at ``maker_fee`` if more), half of them below the price and half above. The DCA take profit
    defaults to 1%, or 2.5 round trips if more; its deviation to 1%.
    """
    force = bool(getattr(args, "force", False))
    unit = quote_unit(rules)
    if args.bot == "grid":
        grids = _given(args, "grids", 10)
        infinity = bool(_given(args, "infinity", False))
        mode = _given(args, "spacing", "geometric" if infinity else "arithmetic")
        lower, upper = args.lower, args.upper
        if lower is None or upper is None:
            lower, upper = _default_range(price, grids, mode, default_grid_step(maker_fee))
            lower = args.lower or rules.round_price(lower, "BUY")
            upper = args.upper or rules.round_price(upper, "SELL")
        return GridParams(
            lower_price=lower,
            upper_price=upper,
            grid_number=grids,
            grid_mode=mode,
            investment=args.investment,
            quantity_per_grid=args.quantity,
            stop_loss=args.stop_loss,
            take_profit=args.take_profit,
            force=force,
            trailing_up=bool(_given(args, "trailing_up", False)),
            trailing_up_limit=_given(args, "trailing_up_limit", None),
            trailing_down=bool(_given(args, "trailing_down", False)),
            trailing_down_limit=_given(args, "trailing_down_limit", None),
            infinity=infinity,
            reverse=bool(_given(args, "reverse", False)),
            trigger_price=_given(args, "trigger_price", None),
            start_order=_given(args, "start_order", "market"),
        )
    deviation = args.deviation or Decimal(1)
    return DcaParams(
        base_order_size=_given(args, "base_order", 100 * unit),
        safety_order_size=_given(args, "safety_order", 100 * unit),
        max_safety_orders=_given(args, "max_safety_orders", 5),
        price_deviation=deviation,
        take_profit=args.take_profit or default_take_profit(maker_fee, taker_fee),
        safety_order_step_scale=_given(args, "step_scale", Decimal(1)),
        safety_order_volume_scale=_given(args, "volume_scale", Decimal(1)),
        stop_loss=args.stop_loss,
        max_deals=_given(args, "deals", 1000),
        force=force,
        trailing_deviation=_given(args, "trailing_deviation", None),
        trailing_stop_loss=bool(_given(args, "trailing_stop_loss", False)),
        cooldown=_given(args, "cooldown", 0),
        max_active_deals=_given(args, "max_active_deals", 1),
    )


def _default_range(price: Decimal, grids: int, mode: str, step: Decimal) -> tuple[Decimal, Decimal]:
    """Lines ``step`` (a fraction of the price) apart, half the grids below ``price``."""
    half = Decimal(grids) / 2
    with localcontext() as c:
        c.prec = 34
        if mode == "geometric":
            ratio = (1 + step) ** half
            return price / ratio, price * ratio
        if step * half >= 1:
            raise BotConfigError(
                f"{grids} grids of the default step ({step * 100}% of the price) reach below "
                "zero: give --lower and --upper, or fewer grids"
            )
        return price * (1 - step * half), price * (1 + step * half)


#: Quote assets worth one US dollar: the defaults count them as USDT.
DOLLAR_QUOTES = frozenset({"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDP", "DAI"})


def quote_unit(rules: SymbolRules) -> Decimal:
    """What plays the part of one USDT in the defaults, in the symbol's quote asset.

    The defaults are written for USDT pairs (a 10,000 USDT account, 100 USDT DCA orders). A
    dollar stablecoin quote counts as USDT. Another quote is scaled by ``min_notional / 5``:
    today's Binance sets a symbol's minimum order value (NOTIONAL) at about 5 USDT's worth in
    every quote asset (0.0001 BTC); a symbol without a minimum counts its quote as USDT.
    """
    if rules.quote_asset in DOLLAR_QUOTES or rules.min_notional <= 0:
        return Decimal(1)
    return rules.min_notional / 5


def default_balances(rules: SymbolRules, price: Decimal) -> tuple[Decimal, Decimal]:
    """The paper account's default (quote, base) balances, in the symbol's own assets.

    10,000 USDT (or the same in the quote asset, :func:`quote_unit`) and base worth 6,500 of
    them at ``price`` (0.1 BTC at 65,000 on BTCUSDT), to 2 significant digits on the step.
    """
    unit = quote_unit(rules)
    quote = 10_000 * unit
    with localcontext() as c:
        c.prec = 34
        worth = 6_500 * unit / price
        base = worth.quantize(Decimal(1).scaleb(worth.adjusted() - 1), ROUND_HALF_EVEN)
    return quote, rules.floor_quantity(base)


def apply_account_defaults(args: argparse.Namespace, rules: SymbolRules, price: Decimal) -> None:
    """Fill in a paper or backtest run's balances (:func:`default_balances`) and the grid's
    investment (a fifth of the quote balance, at most 1,000 USDT or the same) left out."""
    quote, base = default_balances(rules, price)
    if args.quote_balance is None:
        args.quote_balance = quote
    if args.base_balance is None:
        args.base_balance = base
    if args.bot == "grid" and args.investment is None and args.quantity is None:
        args.investment = min(args.quote_balance / 5, 1000 * quote_unit(rules))


def strategy_for(
    params: GridParams | DcaParams,
    rules: SymbolRules,
    price: Decimal,
    balances: dict[str, Balance],
    *,
    maker_fee: Decimal = BINANCE_FEE,
    taker_fee: Decimal = BINANCE_FEE,
    resuming: bool = False,
) -> GridBot | DcaBot:
    """The bot that runs ``params``, once it is known to clear the fees at the run's rates
    (or to be forced past them: :attr:`~tradewire.bots.grid.GridBot.warnings` says so) and its
    starting orders to be funded (a grid's after its start order, counted at ``price``, bought
    or sold what they lack). ``resuming``: orders of the last run are open, so a grid takes them
    back even with the price outside its lines."""
    bot: GridBot | DcaBot
    if isinstance(params, GridParams):
        trails = params.trailing_up or params.trailing_down or params.infinity
        plan = GridPlan(params, rules, price, clamp=trails or resuming)
        warnings = check_fees(params, rules, price, maker_fee=maker_fee, taker_fee=taker_fee)
        start = plan.check(balances, rules, bid=price, ask=price, fee=taker_fee)
        bot = GridBot(params, maker_fee=maker_fee, taker_fee=taker_fee)
        if start is not None:
            bot.start_plan = f"{start.describe(rules)}, then the grid's orders"
    else:
        warnings = check_fees(params, rules, price, maker_fee=maker_fee, taker_fee=taker_fee)
        check_funds(balances, rules, funds_needed(params, rules, price), Decimal(0))
        bot = DcaBot(params, maker_fee=maker_fee, taker_fee=taker_fee)
    bot.warnings = warnings
    return bot


def bot_warnings(strategy: Strategy) -> list[str]:
    """The warnings a built-in bot carries (forced past the fee check); none for others."""
    return list(strategy.warnings) if isinstance(strategy, (GridBot, DcaBot)) else []


def bot_report(strategy: Strategy) -> dict[str, Any]:
    """What report.json says of a built-in bot's own work: a DCA bot's closed deals
    (``deals``: start and end, average price, safety orders filled, P&L, close reason), a
    grid's round trips, trailing moves and range at the end (``grid``); nothing for others."""
    if isinstance(strategy, DcaBot):
        return {
            "deals": [asdict(d) for d in strategy.history],
            "open_deals": len(strategy.deals),
        }
    if isinstance(strategy, GridBot) and strategy.plan is not None:
        levels = strategy.plan.levels
        return {
            "grid": {
                "round_trips": strategy.round_trips,
                "trailing_moves": strategy.trailing_moves,
                "range": [format(levels[0], "f"), format(levels[-1], "f")],
            }
        }
    return {}


def say_warnings(strategy: Strategy) -> list[str]:
    """Print the bot's warnings to stderr (``warning: ...``), and a grid's start order (``plan:
    ...``) to stdout before anything is placed; returns the warnings for the report."""
    warnings = bot_warnings(strategy)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    if isinstance(strategy, GridBot) and strategy.start_plan is not None:
        print(f"plan: {strategy.start_plan}", flush=True)
    return warnings


async def account_fees(client: BinanceClient) -> tuple[Decimal, Decimal]:
    """The account's maker and taker commission rates, or Binance's default 0.1% if the
    exchange does not say (an error, or an answer without them)."""
    try:
        account = await client.account(omit_zero_balances=True)
    except TradewireError:
        return BINANCE_FEE, BINANCE_FEE
    rates = account.commission_rates
    if rates is not None:
        return rates.maker, rates.taker
    return (
        Decimal(account.maker_commission) / 10_000,
        Decimal(account.taker_commission) / 10_000,
    )


def build_strategy(
    args: argparse.Namespace,
    rules: SymbolRules,
    price: Decimal,
    balances: dict[str, Balance],
    *,
    maker_fee: Decimal = BINANCE_FEE,
    taker_fee: Decimal = BINANCE_FEE,
) -> GridBot | DcaBot:
    """The grid or DCA bot from ``args`` (``add_bot_arguments``), checked against the fees and
    ``balances`` (defaults as :func:`resolve_params` fills them)."""
    params = resolve_params(args, rules, price, maker_fee=maker_fee, taker_fee=taker_fee)
    return strategy_for(params, rules, price, balances, maker_fee=maker_fee, taker_fee=taker_fee)


def describe_params(params: GridParams | DcaParams) -> str:
    """``lower_price 64350.00, upper_price 65650.00, ...`` (the parameters that are set)."""
    return ", ".join(f"{k} {v}" for k, v in params_record(params).items() if v is not None)


def journaled_params(
    args: argparse.Namespace,
    last: BotParameters | None,
    open_orders: Sequence[Order],
    *,
    name: str,
    symbol: str,
) -> GridParams | DcaParams | None:
    """The parameters to rebuild the bot with after a restart, or None to resolve them anew.

    While orders of the last run are open (``open_orders``, checked on the exchange), the bot
    is rebuilt from the parameters journaled at its start (``last``), so its lines are the same
    and it takes those orders back; options the user passes must then agree with them. With no
    order open (all filled or canceled while it was down), a restart given none of the bot's
    options runs the journaled parameters too, never the defaults; given options, it starts
    anew with them.

    Raises:
        TradewireError: the user's options differ from the journaled parameters, or the open
            orders belong to another bot or symbol; the message says what differs and how to
            go on.
    """
    if not open_orders:
        if last is None or last.kind != args.bot or last.symbol != symbol:
            return None
        if any(getattr(args, dest, None) is not None for dest, _, _ in _OPTIONS[last.kind]):
            return None  # nothing open to keep: a fresh start with the options given
        journaled = params_from_record(last.kind, last.params)
        if getattr(args, "force", False) and not journaled.force:
            journaled = replace(journaled, force=True)
        return journaled
    how = (
        f"Start it with the same options (or none of them: the journaled ones are used), or add "
        f"--cancel-old-orders to cancel its {len(open_orders)} open orders and start anew."
    )
    symbols = sorted({o.symbol for o in open_orders} | ({last.symbol} if last else set()))
    if (last is not None and last.kind != args.bot) or symbols != [symbol]:
        was = f"a {last.kind} bot" if last is not None else "orders"
        raise TradewireError(
            f"bot {name} has {len(open_orders)} orders open from its last run, {was} "
            f"on {', '.join(symbols)}; this is a {args.bot} bot on {symbol}. {how}"
        )
    if last is None:  # a journal from before parameters were journaled
        return None
    params = params_from_record(last.kind, last.params)
    differs = []
    for dest, flag, field_name in _OPTIONS[last.kind]:
        value = getattr(args, dest, None)
        journaled = getattr(params, field_name)
        if value is not None and value != journaled:
            differs.append(f"{flag} {value} (journaled: {journaled})")
    if getattr(args, "force", False) and not params.force:
        params = replace(params, force=True)
    if differs:
        raise TradewireError(
            f"bot {name} has {len(open_orders)} orders open from its last run, placed with "
            f"{describe_params(params)}; you passed {', '.join(differs)}. Changing them now "
            f"would leave those orders off the new lines. {how}"
        )
    return params


def journal_params(journal: Journal, params: GridParams | DcaParams, symbol: str) -> None:
    """Record ``params`` in the bot's journal, unless they are the ones recorded last."""
    kind = "grid" if isinstance(params, GridParams) else "dca"
    record = params_record(params)
    last = journal.last_params()
    if last is None or (last.kind, last.symbol, last.params) != (kind, symbol, record):
        journal.record_params(kind, symbol, record)


BOTS = (("grid", "a spot grid bot"), ("dca", "a DCA bot with safety orders"))
"""The built-in bots, as ``paper`` and ``live`` offer them."""


def add_bot_commands(
    group: argparse.ArgumentParser,
    mode_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> argparse._SubParsersAction[Any]:
    """One subcommand per built-in bot under ``group``: the mode's options, then the bot's.

    Returns the subcommands, for a mode that offers more than the built-in bots.
    """
    bots = group.add_subparsers(dest="bot", required=True)
    for name, help_text in BOTS:
        bot = bots.add_parser(name, help=help_text, formatter_class=BotHelpFormatter)
        mode_arguments(bot)
        add_bot_arguments(bot, name)
        bot.set_defaults(func=run)
    return bots


def add_strategy_command(
    bots: argparse._SubParsersAction[Any],
    mode_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """The ``run FILE.py:Class`` subcommand beside the built-in bots: the user's own strategy,
    with the mode's options."""
    own = bots.add_parser(
        "run",
        help="your own Strategy subclass, from FILE.py:Class",
        description="Run your own Strategy subclass. Each --param NAME=VALUE is a keyword "
        "argument of its __init__, converted to the type the parameter is annotated with "
        "(int, float, Decimal, bool, str).",
        formatter_class=BotHelpFormatter,
    )
    own.add_argument("strategy", help="FILE.py:ClassName or package.module:ClassName")
    own.add_argument(
        "--param",
        "--arg",
        dest="arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a keyword argument of the class (repeat for more)",
    )
    mode_arguments(own)
    own.set_defaults(func=run)


def own_strategy(args: argparse.Namespace) -> Strategy:
    """The user's strategy of a ``run`` command, built with its ``--param``\\ s; the symbols
    given with ``--symbol`` (several) replace those its class declares."""
    strategy = make_strategy(load_strategy(args.strategy), parse_params(args.arg))
    given = getattr(args, "symbols", None)
    if given and (len(given) > 1 or strategy.symbols):
        strategy.symbols = tuple(given)
    return strategy


class SymbolsAction(argparse.Action):
    """``--symbol`` given once, several times or as a comma list: ``args.symbols`` holds them
    all in order (upper case, each once), ``args.symbol`` the first (the primary)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        symbols = list(getattr(namespace, "symbols", None) or [])
        for part in str(values).split(","):
            symbol = part.strip().upper()
            if not symbol:
                parser.error(f"{option_string}: an empty symbol in {values!r}")
            if symbol not in symbols:
                symbols.append(symbol)
        namespace.symbols = symbols
        setattr(namespace, self.dest, symbols[0])


def strategy_symbols(args: argparse.Namespace, strategy: Strategy | None) -> tuple[str, ...]:
    """The symbols a run trades: ``--symbol`` (several), else those the strategy declares,
    else the one ``--symbol`` (or its default); the first is the primary.

    Raises:
        BotConfigError: several symbols for a built-in bot (they trade one).
    """
    given = tuple(getattr(args, "symbols", None) or ())
    declared = () if strategy is None else tuple(s.upper() for s in strategy.symbols)
    symbols = given or declared or (str(args.symbol).upper(),)
    if len(symbols) > 1 and args.bot != "run":
        raise BotConfigError(
            f"the {args.bot} bot trades one symbol, not {', '.join(symbols)}: give --symbol once"
        )
    return symbols


def bot_label(args: argparse.Namespace) -> str:
    """The name a run goes by: the built-in bot's, or the user's class's."""
    if args.bot == "run":
        return str(args.strategy).rpartition(":")[2]
    return str(args.bot)


def run_identity(args: argparse.Namespace) -> dict[str, Any]:
    """What a report says of what ran: the bot's name, and for ``run`` the strategy spec and
    its parameters as given."""
    identity: dict[str, Any] = {"bot": bot_label(args)}
    if args.bot == "run":
        identity["strategy"] = args.strategy
        identity["strategy_params"] = parse_params(args.arg)
    return identity


def stop_on_signals() -> asyncio.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, so a run ends cleanly with its report."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # not on Windows' proactor loop
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    return stop


async def mid_price(client: BinanceClient, symbol: str, *, wait_s: float = 10.0) -> Decimal:
    """Halfway between the best bid and ask of ``symbol`` now (exact), to size a bot from.

    A book that is one-sided for a moment (a taker swept a side, a thin market between quotes)
    is asked again every 0.2 s for up to ``wait_s`` seconds; after that, :class:`EmptyBook`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        depth = await client.depth(symbol, 5)
        if depth.bids and depth.asks:
            return (Decimal(depth.bids[0][0]) + Decimal(depth.asks[0][0])) / 2
        if loop.time() >= deadline:
            side = "bids" if not depth.bids else "asks"
            raise EmptyBook(
                f"{symbol} has no {side} after {wait_s:g} s: cannot size the bot without a price"
            )
        await asyncio.sleep(0.2)


async def run_with_view(
    runner: Runner,
    *,
    title: str,
    show_view: bool,
    duration_s: float | None,
    stop: asyncio.Event,
) -> RunResult:
    """Run ``runner`` with the live terminal view (when asked for and stdout is a terminal);
    its last frame says why the run stopped."""
    market = runner.market
    view = LiveView(
        runner.ctx,
        title=title,
        speed=market.speed if isinstance(market, TapeMarket) else None,
        warnings=lambda: bot_warnings(runner.strategy),
    )
    view.enabled = show_view and view.enabled
    async with view:
        result = await runner.run(duration_s, stop)
        view.stop_reason(result.stop_reason, result.stop_detail)
        return result


async def write_run_report(
    result: RunResult, out_dir: Path, extra: dict[str, Any]
) -> tuple[Path, Path]:
    """``report.json`` and ``report.png`` of a run, written off the event loop (a run that
    ended in an error has its report too, the error in it)."""
    return await asyncio.to_thread(write_report, result, out_dir, extra)


def pnl_line(result: RunResult) -> str:
    """A run's P&L in one line: ``total P&L ... (realized ... + unrealized ... - fees ...)``."""
    pnl = result.pnl
    return (
        f"total P&L {pnl.total:.6f} {result.quote_asset} (realized {pnl.realized:.6f} + "
        f"unrealized {pnl.unrealized:.6f} - fees {pnl.fees:.6f}); stopped: {result.stop_reason}"
    )


async def finish_run(
    result: RunResult,
    out_dir: Path,
    extra: dict[str, Any],
    headline: str,
    say: Callable[[str], None] = print,
) -> int:
    """Write the run's report, say ``headline`` and where the report is; the exit status (1
    for a run that ended in an error, said once on stderr)."""
    json_path, png_path = await write_run_report(result, out_dir, extra)
    say(headline)
    say(f"report written to {json_path} and {png_path}")
    failed = run_failed(result, json_path)
    if failed is not None:
        print(failed, file=sys.stderr)
        return 1
    return 0


def run_failed(result: RunResult, report: Path | None = None) -> str | None:
    """The one-line message for a run that ended in an error (None if it did not)."""
    if result.error is None:
        return None
    where = f" (report: {report})" if report is not None else ""
    line = " ".join(str(result.error).split())  # one line, whatever the exception's message
    return f"error: the run stopped: {line}{where}"


# --- Interactive Brokers (--venue ib) ----------------------------------------------------------

IB_PAPER_QUESTIONS = ("o163", "o354", "o403", "o10151", "o10331")
"""IB's order questions a paper run confirms by default (live confirms only ``--ib-confirm``)."""


def add_ib_arguments(p: argparse.ArgumentParser, *, live: bool) -> None:
    """``--venue``, ``--ib-url``, ``--ib-cafile``, ``--ib-confirm`` (and ``--account`` live)."""
    p.add_argument(
        "--venue",
        choices=("binance", "ib"),
        default="binance",
        help="binance, or ib: Interactive Brokers through a Client Portal gateway (paper: a "
        "local IB gateway started here unless --ib-url) (default: %(default)s)",
    )
    p.add_argument(
        "--ib-url",
        help="with --venue ib: the gateway's REST URL, e.g. https://localhost:5000/v1/api "
        + ("(default: none: required live)" if live else "(default: a local IB gateway)"),
    )
    p.add_argument(
        "--ib-cafile",
        help="with --venue ib: the gateway's certificate to trust (default: the system's CAs; "
        "the local gateway's own certificate when it is started here)",
    )
    p.add_argument(
        "--ib-confirm",
        help="with --venue ib: IB order question ids to confirm, comma separated (default: "
        + ("none: any question refuses the order" if live else ", ".join(IB_PAPER_QUESTIONS))
        + ")",
    )
    if live:
        p.add_argument(
            "--account",
            help="with --venue ib: the IB account to trade (default: none: required)",
        )


def ib_confirm(args: argparse.Namespace, *, live: bool) -> tuple[str, ...]:
    """The question ids to confirm: ``--ib-confirm``, or the paper defaults."""
    given = getattr(args, "ib_confirm", None)
    if given is None:
        return () if live else IB_PAPER_QUESTIONS
    return tuple(q.strip() for q in given.split(",") if q.strip())


@contextlib.asynccontextmanager
async def open_ib_venue(
    args: argparse.Namespace, symbols: Sequence[str], *, live: bool
) -> AsyncIterator[IBVenue]:
    """An :class:`~tradewire.venues.ib.IBVenue` on ``--ib-url`` (or, on paper, on a local IB
    gateway started here listing ``symbols``), its client started."""
    from tradewire.ib import IBClient
    from tradewire.venues.ib import IBVenue

    async with contextlib.AsyncExitStack() as stack:
        url, cafile = args.ib_url, args.ib_cafile
        if url is None:
            from tradewire.ibgateway import LocalIBGateway

            seed = getattr(args, "seed", None)
            gw = await stack.enter_async_context(
                LocalIBGateway(symbols=tuple(symbols), seed=1 if seed is None else seed)
            )
            url, cafile = gw.url, str(gw.cert_path)
            print(f"local IB gateway: {url}", flush=True)
        client = await stack.enter_async_context(
            IBClient(
                url,
                cafile=cafile,
                account_id=getattr(args, "account", None),
                confirm_questions=ib_confirm(args, live=live),
            )
        )
        yield IBVenue(client)


def ib_fee_rate(rules: SymbolRules, price: Decimal, shares: Decimal) -> Decimal:
    """IB's fixed commission on ``shares`` at ``price`` as a fraction of the trade value (the
    rate the bots' fee checks and defaults use)."""
    from tradewire.rules import per_share_commission

    shares = max(shares, rules.step_size or Decimal(1))
    with localcontext() as c:
        c.prec = 34
        return per_share_commission(shares, price) / (shares * price)


def stock_defaults(args: argparse.Namespace, rules: SymbolRules, price: Decimal) -> Decimal:
    """Fill in a stock run's defaults (whole shares) and return the fee rate to check against.

    The grid invests half the quote balance (so each line holds whole shares); DCA orders are
    worth ten shares each; the fee rate is IB's fixed commission on one line's shares.
    """
    grids = getattr(args, "grids", None) or 10
    if args.bot == "grid":
        if args.investment is None and args.quantity is None:
            args.investment = args.quote_balance / 2
        with localcontext() as c:
            c.prec = 34
            per_line = (
                args.quantity
                if args.quantity is not None
                else rules.floor_quantity(args.investment / grids / price)
            )
        return ib_fee_rate(rules, price, per_line)
    if args.bot == "dca":
        ten = (price * 10).quantize(Decimal(1))
        if getattr(args, "base_order", None) is None:
            args.base_order = ten
        if getattr(args, "safety_order", None) is None:
            args.safety_order = ten
        return ib_fee_rate(rules, price, Decimal(10))
    return ib_fee_rate(rules, price, Decimal(1))

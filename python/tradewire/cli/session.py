"""What ``tradewire paper`` and ``tradewire live`` share: bot arguments, bot building, a run.

Both commands take the same bot parameters (:func:`add_bot_arguments`), build and check the
bot the same way (:func:`build_strategy`), stop on Ctrl-C or SIGTERM (:func:`stop_on_signals`),
size from the same mid price (:func:`mid_price`) and run with the same live view and report
(:func:`run_with_view`, :func:`write_run_report`); they differ only in the venue they run on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewire.bots.dca import DcaBot, funds_needed
from tradewire.bots.grid import GridBot, GridPlan
from tradewire.bots.params import DcaParams, GridParams, check_funds
from tradewire.cli.view import LiveView
from tradewire.errors import TradewireError
from tradewire.trading.report import write_report

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tradewire.binance.client import BinanceClient
    from tradewire.model import Balance, SymbolRules
    from tradewire.trading.runner import Runner, RunResult
    from tradewire.trading.strategy import Strategy

__all__ = [
    "BOTS",
    "add_bot_arguments",
    "add_bot_commands",
    "build_strategy",
    "decimal_argument",
    "mid_price",
    "run_with_view",
    "stop_on_signals",
    "write_run_report",
]


def decimal_argument(text: str) -> Decimal:
    """An exact amount from the command line (argparse's ``type=``)."""
    try:
        return Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None


def add_bot_arguments(p: argparse.ArgumentParser, bot: str) -> None:
    """The grid (``bot="grid"``) or DCA bot's parameters, as ``paper`` and ``live`` take them."""
    if bot == "grid":
        p.add_argument(
            "--lower", type=decimal_argument, help="lower price (default: below the price)"
        )
        p.add_argument(
            "--upper", type=decimal_argument, help="upper price (default: above the price)"
        )
        p.add_argument("--grids", type=int, default=10, help="number of grids (default 10)")
        p.add_argument("--spacing", choices=("arithmetic", "geometric"), default="arithmetic")
        p.add_argument("--investment", type=decimal_argument, help="quote to spread over the grid")
        p.add_argument("--quantity", type=decimal_argument, help="base quantity per grid (instead)")
        p.add_argument("--stop-loss", type=decimal_argument, help="stop below this price")
        p.add_argument("--take-profit", type=decimal_argument, help="stop above this price")
        return
    p.add_argument("--base-order", type=decimal_argument, default=Decimal(100), help="quote")
    p.add_argument("--safety-order", type=decimal_argument, default=Decimal(100), help="quote")
    p.add_argument("--max-safety-orders", type=int, default=5)
    p.add_argument("--deviation", type=decimal_argument, help="percent to the first safety order")
    p.add_argument("--step-scale", type=decimal_argument, default=Decimal(1))
    p.add_argument("--volume-scale", type=decimal_argument, default=Decimal(1))
    p.add_argument("--take-profit", type=decimal_argument, help="percent above the average price")
    p.add_argument("--stop-loss", type=decimal_argument, help="percent below the base order price")
    p.add_argument("--deals", type=int, default=1000, help="deals before stopping")


def build_strategy(
    args: argparse.Namespace,
    rules: SymbolRules,
    price: Decimal,
    balances: dict[str, Balance],
    *,
    local_market: bool,
) -> Strategy:
    """The grid or DCA bot from ``args`` (``add_bot_arguments``), checked against ``balances``.

    Without a range the grid spans 30 ticks each side of ``price`` on the local market and 1%
    on Binance; the DCA deviation is 5 ticks or 1%.
    """
    if args.bot == "grid":
        width = rules.tick_size * 30 if local_market else price / 100
        params = GridParams(
            lower_price=args.lower or rules.round_price(price - width, "BUY"),
            upper_price=args.upper or rules.round_price(price + width, "SELL"),
            grid_number=args.grids,
            grid_mode=args.spacing,
            investment=args.investment,
            quantity_per_grid=args.quantity,
            stop_loss=args.stop_loss,
            take_profit=args.take_profit,
        )
        GridPlan(params, rules, price).check(balances, rules)
        return GridBot(params)
    deviation = args.deviation or (
        rules.tick_size * 5 / price * 100 if local_market else Decimal(1)
    )
    dca = DcaParams(
        base_order_size=args.base_order,
        safety_order_size=args.safety_order,
        max_safety_orders=args.max_safety_orders,
        price_deviation=deviation,
        take_profit=args.take_profit or deviation,
        safety_order_step_scale=args.step_scale,
        safety_order_volume_scale=args.volume_scale,
        stop_loss=args.stop_loss,
        max_deals=args.deals,
    )
    check_funds(balances, rules, funds_needed(dca, rules, price), Decimal(0))
    return DcaBot(dca)


BOTS = (("grid", "a spot grid bot"), ("dca", "a DCA bot with safety orders"))
"""The built-in bots, as ``paper`` and ``live`` offer them."""


def add_bot_commands(
    group: argparse.ArgumentParser,
    mode_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """One subcommand per built-in bot under ``group``: the mode's options, then the bot's."""
    bots = group.add_subparsers(dest="bot", required=True)
    for name, help_text in BOTS:
        bot = bots.add_parser(name, help=help_text)
        mode_arguments(bot)
        add_bot_arguments(bot, name)
        bot.set_defaults(func=run)


def stop_on_signals() -> asyncio.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, so a run ends cleanly with its report."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # not on Windows' proactor loop
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    return stop


async def mid_price(client: BinanceClient, symbol: str) -> Decimal:
    """Halfway between the best bid and ask of ``symbol`` now (exact), to size a bot from."""
    depth = await client.depth(symbol, 5)
    if not depth.bids or not depth.asks:
        raise TradewireError(f"{symbol} has an empty book: cannot size the bot")
    return (Decimal(depth.bids[0][0]) + Decimal(depth.asks[0][0])) / 2


async def run_with_view(
    runner: Runner,
    *,
    title: str,
    show_view: bool,
    duration_s: float | None,
    stop: asyncio.Event,
) -> RunResult:
    """Run ``runner`` with the live terminal view (when asked for and stdout is a terminal)."""
    view = LiveView(runner.ctx, title=title)
    view.enabled = show_view and view.enabled
    async with view:
        return await runner.run(duration_s, stop)


async def write_run_report(
    result: RunResult, out_dir: Path, extra: dict[str, Any]
) -> tuple[Path, Path]:
    """``report.json`` and ``report.png`` of a run, written off the event loop."""
    return await asyncio.to_thread(write_report, result, out_dir, extra)

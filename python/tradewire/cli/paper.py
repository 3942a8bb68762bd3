"""``tradewire paper grid|dca``: run a bot on paper, with a live view and a report at the end.

With no options it starts the local exchange (a synthetic market on 127.0.0.1), sizes a grid
around the current price, and trades on paper against that market. ``--exchange binance``
trades on paper against Binance's public market data (no key needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE
from tradewire.bots.dca import DcaBot, funds_needed
from tradewire.bots.grid import GridBot, GridPlan
from tradewire.bots.params import DcaParams, GridParams
from tradewire.cli.view import LiveView
from tradewire.config import default_home, ensure_home
from tradewire.trading.journal import Journal
from tradewire.trading.report import write_report
from tradewire.trading.runner import Runner
from tradewire.venues.binance import BinanceMarket, rules_from_filters
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator

    from tradewire.model import Balance, SymbolRules
    from tradewire.trading.strategy import Strategy

__all__ = ["add_bot_arguments", "build_strategy", "register", "rules_from_filters"]


def _dec(text: str) -> Decimal:
    return Decimal(text)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``paper`` command group to the ``tradewire`` command."""
    paper = subparsers.add_parser(
        "paper",
        help="run a bot on paper (local synthetic market by default)",
        description=__doc__,
    )
    bots = paper.add_subparsers(dest="bot", required=True)
    for name, help_text in (("grid", "a spot grid bot"), ("dca", "a DCA bot with safety orders")):
        bot = bots.add_parser(name, help=help_text)
        _common(bot)
        add_bot_arguments(bot, name)
        bot.set_defaults(func=_run_cli)


def add_bot_arguments(p: argparse.ArgumentParser, bot: str) -> None:
    """The grid (``bot="grid"``) or DCA bot's parameters, as ``paper`` and ``live`` take them."""
    if bot == "grid":
        p.add_argument("--lower", type=_dec, help="lower price (default: below the price)")
        p.add_argument("--upper", type=_dec, help="upper price (default: above the price)")
        p.add_argument("--grids", type=int, default=10, help="number of grids (default 10)")
        p.add_argument("--spacing", choices=("arithmetic", "geometric"), default="arithmetic")
        p.add_argument("--investment", type=_dec, help="quote to spread over the grid")
        p.add_argument("--quantity", type=_dec, help="base quantity per grid (instead)")
        p.add_argument("--stop-loss", type=_dec, help="stop below this price")
        p.add_argument("--take-profit", type=_dec, help="stop above this price")
        return
    p.add_argument("--base-order", type=_dec, default=Decimal(100), help="quote")
    p.add_argument("--safety-order", type=_dec, default=Decimal(100), help="quote")
    p.add_argument("--max-safety-orders", type=int, default=5)
    p.add_argument("--deviation", type=_dec, help="percent to the first safety order")
    p.add_argument("--step-scale", type=_dec, default=Decimal(1))
    p.add_argument("--volume-scale", type=_dec, default=Decimal(1))
    p.add_argument("--take-profit", type=_dec, help="percent above the average price")
    p.add_argument("--stop-loss", type=_dec, help="percent below the base order price")
    p.add_argument("--deals", type=int, default=1000, help="deals before stopping")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--out", type=Path, help="report folder (default: under TRADEWIRE_HOME)")
    p.add_argument("--symbol", default="BTCUSDT")
    p.add_argument("--exchange", choices=("local", "binance"), default="local")
    p.add_argument("--quote-balance", type=_dec, default=Decimal(10_000))
    p.add_argument("--base-balance", type=_dec, default=Decimal("0.1"))
    p.add_argument("--seed", type=int, default=1, help="local market seed")
    p.add_argument("--market-interval-ms", type=int, default=20, help="local market step")
    p.add_argument("--no-view", action="store_true", help="no live terminal view")


@contextlib.asynccontextmanager
async def _urls(args: argparse.Namespace) -> AsyncIterator[tuple[str, str]]:
    if args.exchange == "binance":
        yield BINANCE.rest_url, BINANCE.stream_url
        return
    from tradewire.exchange import LocalExchange

    async with LocalExchange(
        symbols=(args.symbol,), seed=args.seed, market_interval_ms=args.market_interval_ms
    ) as ex:
        yield ex.rest_url, ex.stream_url


def _strategy(args: argparse.Namespace, rules: SymbolRules, price: Decimal) -> Strategy:
    """The bot with the user's parameters, defaults sized to the market; checked up front."""
    from tradewire.model import Balance

    held = {
        rules.quote_asset: Balance(rules.quote_asset, args.quote_balance),
        rules.base_asset: Balance(rules.base_asset, args.base_balance),
    }
    if args.bot == "grid" and args.investment is None and args.quantity is None:
        args.investment = min(args.quote_balance / 5, Decimal(1000))
    return build_strategy(args, rules, price, held, local_market=args.exchange == "local")


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
    from tradewire.bots.params import check_funds

    check_funds(balances, rules, funds_needed(dca, rules, price), Decimal(0))
    return DcaBot(dca)


async def _run(args: argparse.Namespace) -> int:
    home = ensure_home(default_home())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.out or home / "reports" / f"paper-{args.bot}-{stamp}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # not on Windows' proactor loop
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        rest_url, stream_url = await stack.enter_async_context(_urls(args))
        client = await stack.enter_async_context(
            BinanceClient(rest_url=rest_url, stream_url=stream_url)
        )
        rules = rules_from_filters(await client.filters(args.symbol))
        depth = await client.depth(args.symbol, 5)
        price = (Decimal(depth.bids[0][0]) + Decimal(depth.asks[0][0])) / 2
        strategy = _strategy(args, rules, price)
        broker = PaperBroker(
            rules,
            {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance},
        )
        market = BinanceMarket(client)
        with Journal.for_bot(home, f"paper-{args.bot}") as journal:
            runner = Runner(
                strategy, broker, market, rules, mode="paper", bot=args.bot, journal=journal
            )
            view = LiveView(runner.ctx, title=f"{args.bot} on {args.exchange}")
            if args.no_view:
                view.enabled = False
            async with view:
                result = await runner.run(args.duration, stop)
    lag = sorted(market.book_lag_ms)
    extra = {
        "bot": args.bot,
        "exchange": args.exchange,
        "market_data_lag_ms": {
            "count": len(lag),
            "p50": lag[len(lag) // 2] if lag else None,
            "max": lag[-1] if lag else None,
        },
        "journal": str(journal.path),
    }
    json_path, png_path = await asyncio.to_thread(write_report, result, out_dir, extra)
    pnl = result.pnl
    print(
        f"{len(result.log.fills)} fills, realized {pnl.realized:.6f}, unrealized "
        f"{pnl.unrealized:.6f}, fees {pnl.fees:.6f} {rules.quote_asset}"
    )
    print(f"report written to {json_path} and {png_path}")
    return 0


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire paper grid|dca``."""
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it
        print("interrupted", file=sys.stderr)
        return 130

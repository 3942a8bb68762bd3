"""``tradewire paper grid|dca``: run a bot on paper, with a live view and a report at the end.

With no options it starts the local exchange (a synthetic market on 127.0.0.1), sizes a grid
around the current price, and trades on paper against that market. ``--exchange binance``
trades on paper against Binance's public market data (no key needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE
from tradewire.cli.session import (
    add_bot_commands,
    apply_account_defaults,
    bot_warnings,
    decimal_argument,
    journal_params,
    mid_price,
    resolve_params,
    run_failed,
    run_with_view,
    say_warnings,
    stop_on_signals,
    strategy_for,
    write_run_report,
)
from tradewire.config import default_home, ensure_home
from tradewire.trading.journal import Journal
from tradewire.trading.runner import Runner
from tradewire.venues.binance import BinanceMarket, rules_from_filters
from tradewire.venues.paper import PaperBroker, from_units

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator, Iterator
    from decimal import Decimal

    from tradewire._core import Tape
    from tradewire.bots.params import DcaParams, GridParams
    from tradewire.model import SymbolRules
    from tradewire.trading.strategy import Strategy

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``paper`` command group to the ``tradewire`` command."""
    paper = subparsers.add_parser(
        "paper",
        help="run a bot on paper (local synthetic market by default)",
        description=__doc__,
    )
    add_bot_commands(paper, _common, _run_cli)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--out", type=Path, help="report folder (default: under TRADEWIRE_HOME)")
    p.add_argument("--symbol", default="BTCUSDT", help="the symbol to trade")
    p.add_argument("--exchange", choices=("local", "binance"), default="local", help="whose market")
    p.add_argument(
        "--quote-balance",
        type=decimal_argument,
        help="the paper account's quote (default: 10000 USDT, or the same in other quotes)",
    )
    p.add_argument(
        "--base-balance",
        type=decimal_argument,
        help="the paper account's base (default: worth 6500 USDT or the same at the start price)",
    )
    p.add_argument("--seed", type=int, default=1, help="local market seed")
    p.add_argument("--market-interval-ms", type=int, default=20, help="local market step")
    p.add_argument("--no-view", action="store_true", help="no live terminal view")
    p.add_argument(
        "--replay",
        metavar="FILE",
        help="trade on a recorded market instead: a recording (tradewire record, tradewire data "
        "synth) or a Binance trades/aggTrades/klines file; 'sample' is six real minutes of "
        "BTCUSDT shipped with tradewire (default: the live market of --exchange)",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="with --replay: market time runs this many times faster than the clock "
        "(default: %(default)s)",
    )


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


def _strategy(
    args: argparse.Namespace, rules: SymbolRules, price: Decimal, broker: PaperBroker
) -> tuple[GridParams | DcaParams, Strategy]:
    """The bot with the user's parameters, defaults sized to the market and the broker's fees;
    checked up front."""
    from tradewire.model import Balance

    held = {
        rules.quote_asset: Balance(rules.quote_asset, args.quote_balance),
        rules.base_asset: Balance(rules.base_asset, args.base_balance),
    }
    maker, taker = broker.maker_fee, broker.taker_fee
    local = args.exchange == "local"
    params = resolve_params(
        args, rules, price, local_market=local, maker_fee=maker, taker_fee=taker
    )
    return params, strategy_for(params, rules, price, held, maker_fee=maker, taker_fee=taker)


def _replay_path(name: str) -> Path:
    from tradewire.backtest.samples import SAMPLE_NAME, sample_path

    return sample_path() if name == SAMPLE_NAME else Path(name)


async def _run_replay(args: argparse.Namespace, out_dir: Path) -> int:
    """Paper trading on a recorded market, in market time ``--speed`` times the clock's."""
    from tradewire.backtest import default_rules
    from tradewire.backtest.data import read_tape
    from tradewire.clock import MarketClock
    from tradewire.venues.replay import TapeMarket

    if not args.speed > 0:
        print("tradewire paper: --speed must be positive", file=sys.stderr)
        return 2
    path = _replay_path(args.replay)
    rules = default_rules(args.symbol)
    tapes = read_tape(path, rules.symbol)
    head = next(tapes, None)
    prices = [] if head is None else [int(p) for p in head.price[head.price > 0][:1]]
    if not prices:
        print(f"tradewire paper: {path} holds no {rules.symbol} prices", file=sys.stderr)
        return 2
    price = from_units(prices[0], rules.tick_size)

    def all_tapes() -> Iterator[Tape]:
        assert head is not None
        yield head
        yield from tapes

    apply_account_defaults(args, rules, price)
    broker = PaperBroker(
        rules, {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance}
    )
    _, strategy = _strategy(args, rules, price, broker)
    say_warnings(strategy)
    runner = Runner(
        strategy,
        broker,
        TapeMarket(all_tapes(), speed=args.speed),
        rules,
        mode="paper",
        bot=args.bot,
        clock=MarketClock(),
    )
    result = await run_with_view(
        runner,
        title=f"{args.bot} on {path.name} at {args.speed:g}x",
        show_view=not args.no_view,
        # --duration is wall time: the market covers --speed times as much
        duration_s=None if args.duration is None else args.duration * args.speed,
        stop=stop_on_signals(),
    )
    market_s = (result.ended_ms - result.started_ms) / 1000
    if result.stop_reason == "market_ended":
        print(f"the recording ended after {market_s:.0f} s of market time")
    extra = {
        "bot": args.bot,
        "exchange": "replay",
        "replay": str(path),
        "speed": args.speed,
        "warnings": bot_warnings(strategy),
    }
    json_path, png_path = await write_run_report(result, out_dir, extra)
    pnl = result.pnl
    print(
        f"{len(result.log.fills)} fills in {market_s:.0f} s of market time, total P&L "
        f"{pnl.total:.6f} {rules.quote_asset} (fees {pnl.fees:.6f}); stopped: {result.stop_reason}"
    )
    print(f"report written to {json_path} and {png_path}")
    failed = run_failed(result, json_path)
    if failed is not None:
        print(failed, file=sys.stderr)
        return 1
    return 0


async def _run(args: argparse.Namespace) -> int:
    home = ensure_home(default_home())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.out or home / "reports" / f"paper-{args.bot}-{stamp}"
    if args.replay is not None:
        return await _run_replay(args, out_dir)
    stop = stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        rest_url, stream_url = await stack.enter_async_context(_urls(args))
        client = await stack.enter_async_context(
            BinanceClient(rest_url=rest_url, stream_url=stream_url)
        )
        rules = rules_from_filters(await client.filters(args.symbol))
        price = await mid_price(client, args.symbol)
        apply_account_defaults(args, rules, price)
        broker = PaperBroker(
            rules,
            {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance},
        )
        params, strategy = _strategy(args, rules, price, broker)
        say_warnings(strategy)
        market = BinanceMarket(client)
        with Journal.for_bot(home, f"paper-{args.bot}") as journal:
            # What this run traded with (a paper run starts afresh: nothing is resumed).
            await asyncio.to_thread(journal_params, journal, params, args.symbol)
            runner = Runner(
                strategy, broker, market, rules, mode="paper", bot=args.bot, journal=journal
            )
            result = await run_with_view(
                runner,
                title=f"{args.bot} on {args.exchange}",
                show_view=not args.no_view,
                duration_s=args.duration,
                stop=stop,
            )
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
        "warnings": bot_warnings(strategy),
    }
    json_path, png_path = await write_run_report(result, out_dir, extra)
    pnl = result.pnl
    print(
        f"{len(result.log.fills)} fills, total P&L {pnl.total:.6f} {rules.quote_asset} "
        f"(realized {pnl.realized:.6f} + unrealized {pnl.unrealized:.6f} - fees {pnl.fees:.6f}); "
        f"stopped: {result.stop_reason}"
    )
    print(f"report written to {json_path} and {png_path}")
    failed = run_failed(result, json_path)
    if failed is not None:
        print(failed, file=sys.stderr)
        return 1
    return 0


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire paper grid|dca``."""
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it
        print("interrupted", file=sys.stderr)
        return 130

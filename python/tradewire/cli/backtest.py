"""``tradewire backtest grid|dca|run --data FILE...``: what a bot would have done on past data.

``run FILE.py:Class`` runs your own :class:`~tradewire.trading.strategy.Strategy` subclass,
built with the ``--param name=value`` given (converted to the types its ``__init__``
annotates).

The data files are read in the order given: Binance's public historical data (trades,
aggTrades or klines CSV, zipped or not) or recorded streams (``tradewire record``). The bot runs
in market time on the simulation engine, with the fill model chosen (``trade-through`` by
default: a resting order fills only when a trade goes through its price, capped by that trade's
size), and the report is written as paper and live runs write theirs.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tradewire.backtest import default_rules, run_tapes
from tradewire.cli.session import (
    add_bot_commands,
    add_strategy_command,
    apply_account_defaults,
    bot_report,
    bot_warnings,
    decimal_argument,
    own_strategy,
    resolve_params,
    run_identity,
    say_warnings,
    strategy_for,
)
from tradewire.config import default_home, ensure_home
from tradewire.errors import BacktestError
from tradewire.model import Balance
from tradewire.trading.report import write_report
from tradewire.venues.paper import FILL_MODELS, from_units

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from tradewire._core import Tape
    from tradewire.rules import SymbolRules

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``backtest`` command group to the ``tradewire`` command."""
    group = subparsers.add_parser(
        "backtest", help="run a bot over past market data files", description=__doc__
    )
    bots = add_bot_commands(group, _common, _run_cli)
    add_strategy_command(bots, _common, _run_cli)


def _time(text: str) -> int:
    """A UTC time as ISO 8601 (``2024-08-08T23:55``) or milliseconds since the epoch."""
    if text.isdigit():
        return int(text)
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp() * 1000)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        type=Path,
        nargs="+",
        required=True,
        help="data files, in order ('sample': six real minutes of BTCUSDT shipped with tradewire)",
    )
    p.add_argument("--symbol", default="BTCUSDT", help="the symbol to trade")
    p.add_argument(
        "--exchange-info",
        type=Path,
        help="an exchangeInfo JSON file to take the symbol's rules from (default: built in)",
    )
    p.add_argument(
        "--fill-model", choices=FILL_MODELS, default="trade-through", help="when orders fill"
    )
    p.add_argument(
        "--from", dest="start", type=_time, help="start (UTC ISO time or ms; default: the data's)"
    )
    p.add_argument(
        "--to", dest="end", type=_time, help="end (UTC ISO time or ms; default: the data's)"
    )
    p.add_argument("--latency-ms", type=float, default=0.0, help="order entry latency")
    p.add_argument(
        "--market-data-latency-ms",
        type=float,
        default=0.0,
        help="how late the bot sees the market (adds to the latency of its reactions)",
    )
    p.add_argument(
        "--maker-fee", type=decimal_argument, default=Decimal("0.001"), help="0.001 is 0.1%%"
    )
    p.add_argument(
        "--taker-fee", type=decimal_argument, default=Decimal("0.001"), help="0.001 is 0.1%%"
    )
    p.add_argument("--bnb-discount", action="store_true", help="25%% off fees (paid in BNB)")
    p.add_argument(
        "--quote-balance",
        type=decimal_argument,
        help="the account's quote (default: 10000 USDT, or the same in other quotes)",
    )
    p.add_argument(
        "--base-balance",
        type=decimal_argument,
        help="the account's base (default: worth 6500 USDT or the same at the first price)",
    )
    p.add_argument("--out", type=Path, help="report folder (default: under TRADEWIRE_HOME)")


def _tapes(args: argparse.Namespace, progress: Progress | None = None) -> Iterator[Tape]:
    from tradewire.backtest.data import read_tape
    from tradewire.backtest.samples import SAMPLE_NAME, sample_path

    for given in args.data:
        path = sample_path() if str(given) == SAMPLE_NAME else given
        task = None if progress is None else progress.add_task(path.name, total=None, market="")
        for tape in read_tape(path, args.symbol):
            if progress is not None and task is not None and len(tape):
                when = dt.datetime.fromtimestamp(int(tape.time_us[-1]) / 1e6, dt.timezone.utc)
                progress.update(task, advance=len(tape), market=f"{when:%Y-%m-%d %H:%M:%S}")

            if args.start is not None:
                times = tape.time_us
                if len(times) == 0 or times[-1] < args.start * 1000:
                    continue
            yield tape


def _first_price(tapes: Iterator[Tape], rules: SymbolRules) -> tuple[Decimal, list[Tape]]:
    """The first price in the data (to size the bot), and the tapes read to find it."""
    seen: list[Tape] = []
    for tape in tapes:
        seen.append(tape)
        prices = tape.price[tape.price > 0]
        if len(prices):
            return from_units(int(prices[0]), rules.tick_size), seen
    raise BacktestError("the data holds no price in the time range asked for")


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire backtest grid|dca``."""
    try:
        rules = default_rules(args.symbol, args.exchange_info)
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} events"),
            TextColumn("market time {task.fields[market]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=not sys.stderr.isatty(),
        )
        tapes = _tapes(args, progress)
        price, head = _first_price(tapes, rules)
        apply_account_defaults(args, rules, price)
        if args.bot == "run":
            strategy = own_strategy(args)
        else:
            held = {
                rules.quote_asset: Balance(rules.quote_asset, args.quote_balance),
                rules.base_asset: Balance(rules.base_asset, args.base_balance),
            }
            discount = Decimal("0.75") if args.bnb_discount else Decimal(1)
            maker, taker = args.maker_fee * discount, args.taker_fee * discount
            params = resolve_params(args, rules, price, maker_fee=maker, taker_fee=taker)
            strategy = strategy_for(params, rules, price, held, maker_fee=maker, taker_fee=taker)
            say_warnings(strategy)

        def all_tapes() -> Iterator[Tape]:
            yield from head
            yield from tapes

        with progress:
            result = run_tapes(
                strategy,
                all_tapes(),
                rules,
                fill_model=args.fill_model,
                start_balances={
                    rules.quote_asset: args.quote_balance,
                    rules.base_asset: args.base_balance,
                },
                maker_fee=args.maker_fee,
                taker_fee=args.taker_fee,
                bnb_discount=args.bnb_discount,
                order_latency_ms=args.latency_ms,
                market_data_latency_ms=args.market_data_latency_ms,
                start_ms=args.start,
                end_ms=args.end,
                bot=args.bot,
                raise_errors=False,
            )
    except BacktestError as e:
        print(f"tradewire backtest: {e}", file=sys.stderr)
        return 2
    home = ensure_home(default_home())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.out or home / "reports" / f"backtest-{args.bot}-{stamp}"
    extra = {
        **result.report,
        **run_identity(args),
        "data": [str(p) for p in args.data],
        "events_per_s": round(result.events_per_s),
        "wall_s": round(result.wall_s, 3),
        "warnings": bot_warnings(strategy),
        **bot_report(strategy),
    }
    json_path, png_path = write_report(result.run, out_dir, extra)
    pnl = result.run.pnl
    print(
        f"{result.events} market events in {result.wall_s:.2f} s, {len(result.fills)} fills "
        f"({args.fill_model}); total P&L {pnl.total:.6f}, fees {pnl.fees:.6f} "
        f"{rules.quote_asset}; stopped: {result.run.stop_reason}"
    )
    print(f"report written to {json_path} and {png_path}")
    if result.error is not None:
        print(f"tradewire backtest: the bot failed: {result.error}", file=sys.stderr)
        return 1
    return 0

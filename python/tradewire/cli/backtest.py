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

import csv
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tradewire._core import Tape
from tradewire.backtest import default_rules, run_tapes
from tradewire.backtest.data import TRADE_BUY, TRADE_SELL, UNIT
from tradewire.backtest.run import run_symbols
from tradewire.cli.session import (
    SymbolsAction,
    add_bot_commands,
    add_strategy_command,
    apply_account_defaults,
    bot_report,
    bot_warnings,
    decimal_argument,
    default_balances,
    own_strategy,
    resolve_params,
    run_identity,
    say_warnings,
    stock_defaults,
    strategy_for,
    strategy_symbols,
)
from tradewire.config import default_home, ensure_home
from tradewire.errors import BacktestError, DataError
from tradewire.model import Balance
from tradewire.rules import per_share_commission
from tradewire.trading.report import write_report
from tradewire.venues.paper import FILL_MODELS, from_units

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from tradewire.backtest.run import BacktestResult
    from tradewire.rules import SymbolRules
    from tradewire.trading.strategy import Strategy

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
        nargs="+",
        action="extend",
        required=True,
        metavar="[SYMBOL=]FILE",
        help="data files, in order ('sample': six real minutes of BTCUSDT shipped with "
        "tradewire); for a strategy trading several symbols, SYMBOL=FILE for each (repeat "
        "--data or list them)",
    )
    p.add_argument(
        "--symbol",
        default="BTCUSDT",
        action=SymbolsAction,
        help="the symbol to trade (run: give it several times, or a comma list, for a strategy "
        "trading several; the first is the primary one)",
    )
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
    p.add_argument(
        "--venue",
        choices=("binance", "ib"),
        default="binance",
        help="whose rules and fees: binance (the --maker-fee/--taker-fee rates), or ib: a US "
        "stock (tick schedule, whole shares) with IBKR Pro fixed commissions (USD 0.005 a share, "
        "min 1, max 1%%); its --data is a CSV of trades (time,price,size) or bars "
        "(time,open,high,low,close,volume), time in epoch ms or ISO 8601 with an offset "
        "(default: %(default)s)",
    )


def _data_by_symbol(data: list[str]) -> dict[str | None, list[str]]:
    """``--data`` values by the symbol they name (``SYMBOL=FILE``; None: no symbol named)."""
    out: dict[str | None, list[str]] = {}
    for item in data:
        name, eq, path = item.partition("=")
        key = name.strip().upper() if eq and name.strip().isalnum() else None
        out.setdefault(key, []).append(path if key is not None else item)
    return out


def _files(args: argparse.Namespace, symbol: str) -> list[str]:
    """The files of ``symbol`` (all the plain ones for a one-symbol run)."""
    by_symbol = _data_by_symbol(args.data)
    return by_symbol.get(symbol) or by_symbol.get(None) or []


def _tapes(
    args: argparse.Namespace,
    progress: Progress | None = None,
    symbol: str | None = None,
    files: list[str] | None = None,
) -> Iterator[Tape]:
    from tradewire.backtest.data import read_tape
    from tradewire.backtest.samples import SAMPLE_NAME, sample_path

    symbol = symbol or args.symbol
    stock = getattr(args, "venue", "binance") == "ib"
    for given in files if files is not None else _files(args, symbol):
        path = sample_path() if given == SAMPLE_NAME else Path(given)
        task = None if progress is None else progress.add_task(path.name, total=None, market="")
        for tape in stock_tapes(path) if stock else read_tape(path, symbol):
            if progress is not None and task is not None and len(tape):
                when = dt.datetime.fromtimestamp(int(tape.time_us[-1]) / 1e6, dt.timezone.utc)
                progress.update(task, advance=len(tape), market=f"{when:%Y-%m-%d %H:%M:%S}")

            if args.start is not None:
                times = tape.time_us
                if len(times) == 0 or times[-1] < args.start * 1000:
                    continue
            yield tape


def _data_meta(data: list[str]) -> dict[str, object]:
    """``data_meta``: what made each data file that says (``tradewire data synth``'s seed and
    settings), by the ``--data`` value; nothing when no file says."""
    from tradewire.backtest.data import recording_meta
    from tradewire.backtest.samples import SAMPLE_NAME, sample_path

    found: dict[str, object] = {}
    for item in data:
        _, eq, named = item.partition("=")
        given = named if eq and not Path(item).exists() else item
        path = sample_path() if given == SAMPLE_NAME else Path(given)
        meta = recording_meta(path)
        if meta is not None:
            found[item] = meta
    return {"data_meta": found} if found else {}


def _stock_time_us(text: str, where: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text) * 1000
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DataError(f"{where}: time {text!r} is neither epoch ms nor ISO 8601") from None
    if when.tzinfo is None:
        raise DataError(f"{where}: time {text!r} has no UTC offset (write e.g. -05:00 or Z)")
    return int(when.timestamp() * 1_000_000)


def _units(text: str, where: str, name: str) -> int:
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise DataError(f"{where}: {name} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise DataError(f"{where}: {name} {text!r} is not a positive number")
    units = value * UNIT
    if units != units.to_integral_value():
        raise DataError(f"{where}: {name} {text} has more than 8 decimals")
    return int(units)


def stock_tapes(path: Path, chunk_rows: int = 100_000) -> Iterator[Tape]:
    """A stock's trades (``time,price,size``) or bars (``time,open,high,low,close,volume``)
    from a CSV file as tapes of trades: a trade at a higher price than the last was bought, at
    a lower one sold (the tick rule); a bar is four trades a millisecond apart (open, then low
    and high in the bar's direction, then close), a quarter of its volume each.

    Raises:
        DataError: a row that is neither form, or a bad value (the file and line named).
    """
    kinds: list[int] = []
    times: list[int] = []
    prices: list[int] = []
    qtys: list[int] = []
    last_price = 0
    last_kind = TRADE_BUY
    last_time = 0

    def add(time_us: int, price: int, qty: int) -> None:
        nonlocal last_price, last_kind, last_time
        if qty <= 0:
            return
        kind = TRADE_BUY if price > last_price else TRADE_SELL if price < last_price else last_kind
        time_us = max(time_us, last_time)
        kinds.append(kind)
        times.append(time_us)
        prices.append(price)
        qtys.append(qty)
        last_price, last_kind, last_time = price, kind, time_us

    with path.open(newline="") as f:
        for n, row in enumerate(csv.reader(f), 1):
            where = f"{path.name} line {n}"
            if not row or (n == 1 and not row[0].strip()[:1].isdigit()):
                continue  # a blank line or the header
            if len(row) == 3:
                add(
                    _stock_time_us(row[0], where),
                    _units(row[1], where, "price"),
                    _units(row[2], where, "size"),
                )
            elif len(row) == 6:
                t = _stock_time_us(row[0], where)
                o, h, lo, c = (
                    _units(x, where, name)
                    for x, name in zip(row[1:5], ("open", "high", "low", "close"), strict=True)
                )
                quarter = _units(row[5], where, "volume") // 4
                for i, price in enumerate((o, lo, h, c) if c >= o else (o, h, lo, c)):
                    add(t + i * 1000, price, quarter)
            else:
                raise DataError(
                    f"{where}: {len(row)} columns; a stock CSV has 3 (time,price,size) or 6 "
                    "(time,open,high,low,close,volume)"
                )
            if len(kinds) >= chunk_rows:
                yield Tape.from_columns(kinds, times, prices, qtys)
                kinds, times, prices, qtys = [], [], [], []
    if kinds:
        yield Tape.from_columns(kinds, times, prices, qtys)


def _first_price(tapes: Iterator[Tape], rules: SymbolRules) -> tuple[Decimal, list[Tape]]:
    """The first price in the data (to size the bot), and the tapes read to find it."""
    seen: list[Tape] = []
    for tape in tapes:
        seen.append(tape)
        prices = tape.price[tape.price > 0]
        if len(prices):
            return from_units(int(prices[0]), rules.tick_size), seen
    raise BacktestError("the data holds no price in the time range asked for")


def _run_symbols_cli(args: argparse.Namespace, strategy: Strategy, symbols: tuple[str, ...]) -> int:
    """``backtest run`` of a strategy trading several symbols: ``--data SYMBOL=FILE`` each."""
    by_symbol = _data_by_symbol(args.data)
    if None in by_symbol:
        raise BacktestError(
            f"the strategy trades {', '.join(symbols)}: name each file's symbol "
            f"(--data {symbols[0]}=FILE --data {symbols[1]}=FILE)"
        )
    if set(by_symbol) != set(symbols):
        raise BacktestError(
            f"the strategy trades {', '.join(symbols)}; --data names "
            f"{', '.join(str(s) for s in by_symbol)}"
        )
    all_rules = [default_rules(s, args.exchange_info) for s in symbols]
    primary = all_rules[0]
    tapes = {r.symbol: _tapes(args, None, r.symbol, by_symbol[r.symbol]) for r in all_rules}
    price, head = _first_price(tapes[primary.symbol], primary)
    rest = tapes[primary.symbol]

    def primary_tapes() -> Iterator[Tape]:
        yield from head
        yield from rest

    tapes[primary.symbol] = primary_tapes()
    apply_account_defaults(args, primary, price)
    result = run_symbols(
        strategy,
        tapes,
        all_rules,
        fill_model=args.fill_model,
        start_balances={
            primary.quote_asset: args.quote_balance,
            primary.base_asset: args.base_balance,
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
    return _finish(args, result, strategy, primary)


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire backtest grid|dca|run``."""
    try:
        strategy: Strategy | None = own_strategy(args) if args.bot == "run" else None
        symbols = strategy_symbols(args, strategy)
        if len(symbols) == 1:
            keyed = [s for s in _data_by_symbol(args.data) if s is not None]
            if keyed and strategy is not None and not getattr(args, "symbols", None):
                symbols = tuple(keyed)  # the symbols --data names
        if len(symbols) > 1:
            assert strategy is not None
            return _run_symbols_cli(args, strategy, symbols)
        args.symbol = symbols[0]
        stock = args.venue == "ib"
        if stock:
            from tradewire.venues.ib import us_stock_rules

            rules = us_stock_rules(args.symbol)
        else:
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
        fee_rate = None
        if stock:
            quote, base = default_balances(rules, price)
            args.quote_balance = quote if args.quote_balance is None else args.quote_balance
            args.base_balance = base if args.base_balance is None else args.base_balance
            fee_rate = stock_defaults(args, rules, price)
            args.maker_fee = args.taker_fee = fee_rate
            args.bnb_discount = False
        apply_account_defaults(args, rules, price)
        if strategy is None:
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
                cash_commission=per_share_commission if stock else None,
            )
    except (BacktestError, DataError) as e:
        print(f"tradewire backtest: {e}", file=sys.stderr)
        return 2
    return _finish(args, result, strategy, rules)


def _finish(
    args: argparse.Namespace, result: BacktestResult, strategy: Strategy, rules: SymbolRules
) -> int:
    """Write the report, say what the run did; the exit code."""
    home = ensure_home(default_home())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.out or home / "reports" / f"backtest-{args.bot}-{stamp}"
    extra = {
        **result.report,
        **run_identity(args),
        "data": [str(p) for p in args.data],
        **_data_meta(args.data),
        "events_per_s": round(result.events_per_s),
        "wall_s": round(result.wall_s, 3),
        "warnings": bot_warnings(strategy),
        **bot_report(strategy),
    }
    json_path, png_path = write_report(result.run, out_dir, extra)
    report = result.report
    print(
        f"{result.events} market events in {result.wall_s:.2f} s, {len(result.fills)} fills "
        f"({args.fill_model}); total P&L {Decimal(report['total_pnl']):.6f}, fees "
        f"{Decimal(report['fees']):.6f} {rules.quote_asset}; stopped: {result.run.stop_reason}"
    )
    for symbol, figures in report.get("symbols", {}).items():
        print(
            f"  {symbol}: {figures['fills']} fills, P&L {Decimal(figures['total_pnl']):.6f} "
            f"{rules.quote_asset}"
        )
    print(f"report written to {json_path} and {png_path}")
    if result.error is not None:
        print(f"tradewire backtest: the bot failed: {result.error}", file=sys.stderr)
        return 1
    return 0

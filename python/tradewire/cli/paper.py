"""``tradewire paper grid|dca``: run a bot on paper, with a live view and a report at the end.

With no options it trades on paper on the calibrated synthetic market (docs/market.md: a
market that moves like BTCUSDT, generated in this process from a seed it prints), in market time
480 times faster than the clock: 30 seconds show four hours. ``--exchange local`` trades on paper
against the local exchange over its Binance API, ``--exchange binance`` against Binance's public
market data (no key needed), and ``--replay FILE`` on a recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.backtest.data import recording_meta
from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE
from tradewire.cli.session import (
    SymbolsAction,
    add_bot_commands,
    add_ib_arguments,
    add_strategy_command,
    apply_account_defaults,
    bot_label,
    bot_report,
    bot_warnings,
    decimal_argument,
    default_balances,
    finish_run,
    journal_params,
    mid_price,
    open_ib_venue,
    own_strategy,
    pnl_line,
    resolve_params,
    run_identity,
    run_with_view,
    say_warnings,
    stock_defaults,
    stop_on_signals,
    strategy_for,
    strategy_symbols,
)
from tradewire.config import default_home, ensure_home
from tradewire.trading.journal import Journal
from tradewire.trading.runner import Runner
from tradewire.venues.binance import BinanceMarket, rules_from_filters
from tradewire.venues.paper import PaperBroker, from_units

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator, Iterator

    from tradewire._core import Tape
    from tradewire.bots.params import DcaParams, GridParams
    from tradewire.model import SymbolRules
    from tradewire.trading.strategy import Strategy

__all__ = ["SYNTHETIC_SPEED", "register"]

#: The synthetic market's default speed: a 30 s run shows four hours of market.
SYNTHETIC_SPEED = 480.0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``paper`` command group to the ``tradewire`` command."""
    paper = subparsers.add_parser(
        "paper",
        help="run a bot on paper (local synthetic market by default)",
        description=__doc__,
    )
    bots = add_bot_commands(paper, _common, _run_cli)
    add_strategy_command(bots, _common, _run_cli)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--out", type=Path, help="report folder (default: under TRADEWIRE_HOME)")
    p.add_argument(
        "--symbol",
        default="BTCUSDT",
        action=SymbolsAction,
        help="the symbol to trade (run: give it several times, or a comma list, for a strategy "
        "trading several; the first is the primary one)",
    )
    p.add_argument(
        "--exchange",
        choices=("synthetic", "local", "binance"),
        default="synthetic",
        help="whose market: the calibrated synthetic market generated here (synthetic), the local "
        "exchange over its Binance API (local), or Binance's public market data (binance) "
        "(default: %(default)s)",
    )
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
    p.add_argument(
        "--seed",
        type=int,
        help="seed of the synthetic or local market (default: a new one each run; it is printed "
        "and kept in the report, so a run can be repeated)",
    )
    p.add_argument(
        "--vol",
        type=float,
        default=0.5,
        help="annualised volatility of the synthetic or local market (default: %(default)s)",
    )
    p.add_argument(
        "--market-interval-ms",
        type=int,
        default=20,
        help="with --exchange local: time between two steps of its market (default: %(default)s)",
    )
    p.add_argument("--no-view", action="store_true", help="no live terminal view")
    add_ib_arguments(p, live=False)
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
        help="market time runs this many times faster than the clock (default: "
        f"{SYNTHETIC_SPEED:g} on the synthetic market, 1 on a recording or the local exchange; "
        "not with --exchange binance)",
    )


@contextlib.asynccontextmanager
async def _urls(
    args: argparse.Namespace, symbols: tuple[str, ...]
) -> AsyncIterator[tuple[str, str]]:
    if args.exchange == "binance":
        yield BINANCE.rest_url, BINANCE.stream_url
        return
    from tradewire.exchange import LocalExchange

    async with LocalExchange(
        symbols=symbols,
        seed=args.seed,
        market="calibrated",
        market_speed=args.speed,
        market_vol=args.vol,
        market_interval_ms=args.market_interval_ms,
    ) as ex:
        yield ex.rest_url, ex.stream_url


def _check_market_options(args: argparse.Namespace) -> str | None:
    """Fill in the market's seed and speed; the message for options that do not fit."""
    if args.speed is not None and not args.speed > 0:
        return "--speed must be positive"
    if not 0 < args.vol <= 5:
        return "--vol must be in (0, 5]"
    if args.exchange == "binance" and args.replay is None and args.speed is not None:
        return "--speed does not apply to Binance's live market"
    if args.seed is None:
        args.seed = secrets.randbelow(2**32)
    if args.speed is None:
        synthetic = args.exchange == "synthetic" and args.replay is None
        args.speed = SYNTHETIC_SPEED if synthetic else 1.0
    return None


def _strategy(
    args: argparse.Namespace,
    rules: SymbolRules,
    price: Decimal,
    broker: PaperBroker,
    own: Strategy | None = None,
) -> tuple[GridParams | DcaParams | None, Strategy]:
    """The bot with the user's parameters, defaults sized to the market and the broker's fees,
    checked up front; or the user's own strategy (``run``, built already: ``own``), which has
    no bot parameters."""
    from tradewire.model import Balance

    if own is not None:
        return None, own
    if args.bot == "run":
        return None, own_strategy(args)

    held = {
        rules.quote_asset: Balance(rules.quote_asset, args.quote_balance),
        rules.base_asset: Balance(rules.base_asset, args.base_balance),
    }
    maker, taker = broker.maker_fee, broker.taker_fee
    params = resolve_params(args, rules, price, maker_fee=maker, taker_fee=taker)
    return params, strategy_for(params, rules, price, held, maker_fee=maker, taker_fee=taker)


def _replay_path(name: str) -> Path:
    from tradewire.backtest.samples import SAMPLE_NAME, sample_path

    return sample_path() if name == SAMPLE_NAME else Path(name)


_Tapes = tuple["list[SymbolRules]", "Decimal", "dict[str, Iterator[Tape]]", "dict[str, Any]"]


def _synthetic_tapes(args: argparse.Namespace, symbols: tuple[str, ...]) -> _Tapes:
    """The calibrated synthetic market of each symbol (its own, from the seed plus the
    symbol's place: seed, seed + 1, ...): enough of it for ``--duration`` (else ten years,
    made as it is read), the rules, the primary's start price and what the report says."""
    from tradewire.backtest import default_rules
    from tradewire.backtest.synth import synth_spec, synth_tapes

    all_rules = [default_rules(symbol) for symbol in symbols]
    rules = all_rules[0]
    spec = synth_spec(rules.symbol)
    hours = 87_600.0 if args.duration is None else args.duration * args.speed / 3600 + 0.01
    tapes = {
        r.symbol: synth_tapes(r.symbol, hours, (args.seed + i) % 2**32, vol=args.vol)
        for i, r in enumerate(all_rules)
    }
    price = from_units(spec.start_price, rules.tick_size)
    shown = "" if args.duration is None else f": {args.duration:g} s show {hours - 0.01:.2f} h"
    print(
        f"synthetic {', '.join(symbols)} market (docs/market.md): seed {args.seed}, volatility "
        f"{args.vol:.0%} a year, {args.speed:g}x{shown}",
        flush=True,
    )
    market = {"source": "synthetic", "seed": args.seed, "vol": args.vol, "speed": args.speed}
    return all_rules, price, tapes, market


def _recorded_tapes(args: argparse.Namespace, symbols: tuple[str, ...]) -> _Tapes | str:
    """A recording's tapes of each symbol, the rules, the primary's first price and what the
    report says of it (or the message for a recording that holds no prices of a symbol)."""
    from tradewire.backtest import default_rules
    from tradewire.backtest.data import read_tape

    path = _replay_path(args.replay)
    all_rules = [default_rules(symbol) for symbol in symbols]
    tapes: dict[str, Iterator[Tape]] = {}
    first: Decimal | None = None
    for rules in all_rules:
        read = read_tape(path, rules.symbol)
        head = next(read, None)
        prices = [] if head is None else [int(p) for p in head.price[head.price > 0][:1]]
        if head is None or not prices:
            return f"{path} holds no {rules.symbol} prices"
        if first is None:
            first = from_units(prices[0], rules.tick_size)
        tapes[rules.symbol] = _chain(head, read)
    assert first is not None
    market: dict[str, Any] = {"source": "replay", "replay": str(path), "speed": args.speed}
    made_by = recording_meta(path)
    if made_by is not None:  # a `tradewire data synth` file: its seed and settings
        market["recording_meta"] = made_by
    return all_rules, first, tapes, market


def _chain(head: Tape, rest: Iterator[Tape]) -> Iterator[Tape]:
    yield head
    yield from rest


async def _run_tapes(args: argparse.Namespace, out_dir: Path) -> int:
    """Paper trading on tapes (the synthetic market or a recording), in market time
    ``--speed`` times the clock's."""
    from tradewire.clock import MarketClock
    from tradewire.venues.replay import TapeMarket

    own = own_strategy(args) if args.bot == "run" else None
    symbols = strategy_symbols(args, own)
    args.symbol = symbols[0]
    source = (
        _recorded_tapes(args, symbols)
        if args.replay is not None
        else _synthetic_tapes(args, symbols)
    )
    if isinstance(source, str):
        print(f"tradewire paper: {source}", file=sys.stderr)
        return 2
    all_rules, price, tapes, market = source
    rules, more_rules = all_rules[0], all_rules[1:]
    apply_account_defaults(args, rules, price)
    broker = PaperBroker(
        rules,
        {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance},
        more_rules=more_rules,
    )
    _, strategy = _strategy(args, rules, price, broker, own)
    say_warnings(strategy)
    tape_market = TapeMarket(tapes if more_rules else tapes[rules.symbol], speed=args.speed)
    runner = Runner(
        strategy,
        broker,
        tape_market,
        rules,
        more_rules=more_rules,
        mode="paper",
        bot=bot_label(args),
        clock=MarketClock(),
    )
    name = Path(args.replay).name if args.replay is not None else f"synthetic {', '.join(symbols)}"
    result = await run_with_view(
        runner,
        title=f"{bot_label(args)} on {name} at {args.speed:g}x",
        show_view=not args.no_view,
        # --duration is wall time: the market covers --speed times as much
        duration_s=None if args.duration is None else args.duration * args.speed,
        stop=stop_on_signals(),
    )
    market_s = (result.ended_ms - result.started_ms) / 1000
    if result.stop_reason == "market_ended":
        what = "recording" if args.replay is not None else "synthetic market"
        print(f"the {what} ended after {market_s:.0f} s of market time")
    # A paced run that fell behind skipped late books (never trades), as a slow live consumer
    # would: its fills can then differ from a backtest's on the same data, so the report says so.
    market["books_skipped"] = tape_market.books_skipped
    if tape_market.books_skipped:
        print(
            f"{tape_market.books_skipped} late book updates skipped: the run could not keep up "
            f"with {args.speed:g}x (a backtest of the same data sees every one)"
        )
    extra = {
        **run_identity(args),
        "exchange": market["source"],
        "market": market,
        "warnings": bot_warnings(strategy),
        **bot_report(strategy),
    }
    if args.replay is not None:  # kept where earlier reports had them
        extra["replay"], extra["speed"] = market["replay"], args.speed
    fills = len(result.log.fills)
    market_h = f"{market_s:.0f} s of market time ({market_s / 3600:.2f} h)"
    return await finish_run(
        result, out_dir, extra, f"{fills} fills in {market_h}, {pnl_line(result)}"
    )


async def _run(args: argparse.Namespace) -> int:
    home = ensure_home(default_home())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.out or home / "reports" / f"paper-{bot_label(args)}-{stamp}"
    problem = _check_market_options(args)
    if problem is not None:
        print(f"tradewire paper: {problem}", file=sys.stderr)
        return 2
    if args.venue == "ib":
        return await _run_ib(args, out_dir)
    if args.replay is not None or args.exchange == "synthetic":
        return await _run_tapes(args, out_dir)
    if args.exchange == "local":
        print(
            f"local exchange market: seed {args.seed}, volatility {args.vol:.0%} a year, "
            f"{args.speed:g}x",
            flush=True,
        )
    own = own_strategy(args) if args.bot == "run" else None
    symbols = strategy_symbols(args, own)
    args.symbol = symbols[0]
    stop = stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        rest_url, stream_url = await stack.enter_async_context(_urls(args, symbols))
        client = await stack.enter_async_context(
            BinanceClient(rest_url=rest_url, stream_url=stream_url)
        )
        all_rules = [rules_from_filters(await client.filters(symbol)) for symbol in symbols]
        rules, more_rules = all_rules[0], all_rules[1:]
        price = await mid_price(client, args.symbol)
        apply_account_defaults(args, rules, price)
        broker = PaperBroker(
            rules,
            {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance},
            more_rules=more_rules,
        )
        params, strategy = _strategy(args, rules, price, broker, own)
        say_warnings(strategy)
        market = BinanceMarket(client)
        label = bot_label(args)
        with Journal.for_bot(home, f"paper-{label}") as journal:
            # What this run traded with (a paper run starts afresh: nothing is resumed).
            if params is not None:
                await asyncio.to_thread(journal_params, journal, params, args.symbol)
            runner = Runner(
                strategy,
                broker,
                market,
                rules,
                more_rules=more_rules,
                mode="paper",
                bot=label,
                journal=journal,
            )
            result = await run_with_view(
                runner,
                title=f"{label} on {args.exchange}",
                show_view=not args.no_view,
                duration_s=args.duration,
                stop=stop,
            )
    lag = sorted(market.book_lag_ms)
    extra = {
        **run_identity(args),
        "exchange": args.exchange,
        "market": (
            {"source": "local", "seed": args.seed, "vol": args.vol, "speed": args.speed}
            if args.exchange == "local"
            else {"source": "binance"}
        ),
        "market_data_lag_ms": {
            "count": len(lag),
            "p50": lag[len(lag) // 2] if lag else None,
            "max": lag[-1] if lag else None,
        },
        "journal": str(journal.path),
        "warnings": bot_warnings(strategy),
        **bot_report(strategy),
    }
    headline = f"{len(result.log.fills)} fills, {pnl_line(result)}"
    return await finish_run(result, out_dir, extra, headline)


async def _run_ib(args: argparse.Namespace, out_dir: Path) -> int:
    """Paper trading on IB's market data: the paper broker fills from the ``smd`` top of book
    and trades, with the contract's rules and IB's fixed per-share commission; the runner
    pauses outside the regular hours."""
    from tradewire.model import Balance
    from tradewire.rules import per_share_commission
    from tradewire.venues.ib import IBMarket

    if args.replay is not None or args.exchange != "synthetic":
        print("tradewire paper: --venue ib takes no --replay or --exchange", file=sys.stderr)
        return 2
    own = own_strategy(args) if args.bot == "run" else None
    if args.symbol == "BTCUSDT" and own is None:
        args.symbol = "AAPL"
    symbols = strategy_symbols(args, own)
    args.symbol = symbols[0]
    stop = stop_on_signals()
    async with open_ib_venue(args, symbols, live=False) as venue:
        rules = await venue.symbol_rules(args.symbol)
        more_rules = [await venue.symbol_rules(other) for other in symbols[1:]]
        contract = await venue.contract(args.symbol)
        quotes = await venue.client.snapshot([contract.conid])
        quote = quotes.get(contract.conid)
        price = None if quote is None else (quote.last or quote.bid or quote.ask)
        if quote is None or price is None:
            print(f"tradewire paper: no market data for {contract.listing}", file=sys.stderr)
            return 2
        quote_default, base_default = default_balances(rules, price)
        if args.quote_balance is None:
            args.quote_balance = quote_default
        if args.base_balance is None:
            args.base_balance = base_default
        rate = stock_defaults(args, rules, price)
        # The other symbols' shares start at none: the account holds the primary's and cash.
        start = {r.base_asset: Decimal(0) for r in more_rules}
        start |= {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance}
        broker = PaperBroker(
            rules,
            start,
            maker_fee=rate,
            taker_fee=rate,
            cash_commission=lambda q, p: per_share_commission(q, p),
            more_rules=more_rules,
        )
        if own is not None:
            params, strategy = None, own
        else:
            held = {
                rules.quote_asset: Balance(rules.quote_asset, args.quote_balance),
                rules.base_asset: Balance(rules.base_asset, args.base_balance),
            }
            params = resolve_params(args, rules, price, maker_fee=rate, taker_fee=rate)
            strategy = strategy_for(params, rules, price, held, maker_fee=rate, taker_fee=rate)
        say_warnings(strategy)
        sessions = await venue.trading_sessions(args.symbol)
        print(
            f"{contract.listing}: conid {contract.conid}, last {price}; IB fixed commission "
            f"(USD 0.005 a share, min 1, max 1%); market open now: "
            f"{sessions.is_open(quote.updated_ms or await venue.server_time())}",
            flush=True,
        )
        now_ms = quote.updated_ms or await venue.server_time()
        opens = sessions.next_open(now_ms)
        if opens is not None and opens > now_ms:
            when = dt.datetime.fromtimestamp(opens / 1000, dt.timezone.utc)
            print(
                f"the market is closed: the bot waits for the open at {when:%Y-%m-%d %H:%M} UTC",
                flush=True,
            )
        elif opens is None:
            print("the market is closed and IB lists no opening: the bot waits", flush=True)
        label = bot_label(args)
        home = ensure_home(default_home())
        with Journal.for_bot(home, f"paper-ib-{label}") as journal:
            if params is not None:
                await asyncio.to_thread(journal_params, journal, params, args.symbol)
            runner = Runner(
                strategy,
                broker,
                IBMarket(venue),
                rules,
                more_rules=more_rules,
                mode="paper",
                bot=label,
                journal=journal,
                sessions=sessions,
            )
            result = await run_with_view(
                runner,
                title=f"{label} on IB ({contract.listing})",
                show_view=not args.no_view,
                duration_s=args.duration,
                stop=stop,
            )
    extra = {
        **run_identity(args),
        "exchange": "ib",
        "market": {"source": "ib", "listing": contract.listing, "conid": contract.conid},
        "paused_events": runner.paused_events,
        "journal": str(journal.path),
        "warnings": bot_warnings(strategy),
        **bot_report(strategy),
    }
    headline = f"{len(result.log.fills)} fills, {pnl_line(result)}"
    return await finish_run(result, out_dir, extra, headline)


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire paper grid|dca``."""
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it
        print("interrupted", file=sys.stderr)
        return 130

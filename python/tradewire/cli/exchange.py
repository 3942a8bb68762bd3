"""The ``tradewire exchange`` command group: ``serve`` runs the local exchange until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
from typing import TYPE_CHECKING

from tradewire.exchange.replay import replay_symbols
from tradewire.exchange.server import LocalExchange
from tradewire.exchange.symbols import ALL_ORDER_TYPES, ORDER_TYPES

if TYPE_CHECKING:
    from typing import Any

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``exchange`` command group (``exchange serve``) to the ``tradewire`` command."""
    group = subparsers.add_parser("exchange", help="the local Binance-compatible exchange")
    commands = group.add_subparsers(dest="exchange_command", required=True)
    serve = commands.add_parser("serve", help="run the local exchange until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--db", default=None, help="SQLite file to keep state in (default: memory)")
    serve.add_argument(
        "--symbols",
        default=None,
        help="comma-separated symbols to list (default: the --replay files' symbols, else "
        "BTCUSDT,ETHUSDT)",
    )
    serve.add_argument(
        "--seed", type=int, default=1, help="seed of the synthetic market (default: %(default)s)"
    )
    serve.add_argument(
        "--market",
        choices=("synthetic", "calibrated", "none"),
        default="synthetic",
        help="the market's own flow: a small random walk (synthetic), the market backtests use, "
        "calibrated to BTCUSDT (calibrated: docs/market.md), or none (default: %(default)s)",
    )
    serve.add_argument(
        "--market-speed",
        type=float,
        default=1.0,
        help="with --market calibrated: market time runs this many times faster than the clock "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--replay",
        action="append",
        default=None,
        metavar="FILE",
        help="market data to play instead of the synthetic market (repeatable): a recording "
        "(what `tradewire record` and `tradewire data synth` write; gzip if .gz), a Binance "
        "trades, aggTrades or klines CSV file, or a depthUpdate JSONL file (one event per "
        "step); when the data ends the market stops and the exchange serves on (default: none)",
    )
    serve.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="with --replay of a recording or CSV file: market time runs this many times "
        "faster than the clock (default: %(default)s, real time)",
    )
    serve.add_argument("--keys", default=None, help="JSON file of keys to register")
    serve.add_argument(
        "--legacy-listen-key",
        action="store_true",
        help="also serve the listenKey user data stream Binance retired (userDataStream)",
    )
    serve.add_argument(
        "--order-types",
        type=_order_types,
        default=None,
        help="comma-separated order types every symbol lists and accepts, e.g. "
        f"{','.join(ALL_ORDER_TYPES)} to add the stop-market ones (default: "
        f"{','.join(ORDER_TYPES)}, those of the bundled 2021 exchangeInfo)",
    )
    serve.set_defaults(func=_serve)


def _order_types(text: str) -> tuple[str, ...]:
    types = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    unknown = [t for t in types if t not in ALL_ORDER_TYPES]
    if unknown or not types:
        raise argparse.ArgumentTypeError(
            f"unknown order types {', '.join(unknown) or '(none given)'}: any of "
            + ", ".join(ALL_ORDER_TYPES)
        )
    return types


def _serve(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))
    return 0


async def _run(args: argparse.Namespace) -> None:
    if args.symbols is not None:
        symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    elif args.replay:
        symbols = replay_symbols(args.replay)
    else:
        symbols = ["BTCUSDT", "ETHUSDT"]
    exchange = LocalExchange(
        symbols=symbols,
        seed=args.seed,
        host=args.host,
        port=args.port,
        db=args.db,
        replay=args.replay,
        replay_speed=args.speed,
        market=args.market,
        market_speed=args.market_speed,
        legacy_listen_key=args.legacy_listen_key,
        order_types=args.order_types,
    )
    async with exchange as ex:
        if args.keys:
            for api_key in ex.load_keys(args.keys):
                print(f"Key from {args.keys}: {api_key}")
        secret = secrets.token_hex(32)
        api_key = ex.add_key(secret, permissions=("reading", "spot"))
        print(f"REST API:       {ex.rest_url}")
        print(f"Market streams: {ex.stream_url}/ws/<stream>  {ex.stream_url}/stream?streams=")
        print(f"WebSocket API:  {ex.ws_api_url}")
        print(f"API key:        {api_key}")
        print(f"HMAC secret:    {secret}")
        print("Ctrl-C to stop.", flush=True)
        if args.replay:
            # one line when the data ends; the exchange serves on until Ctrl-C
            while not ex.market_ended:
                with contextlib.suppress(TimeoutError):
                    await ex.wait_for(lambda: ex.market_ended, timeout=3600, poll_s=None)
            print(ex.market_end_message, flush=True)
        await asyncio.Event().wait()

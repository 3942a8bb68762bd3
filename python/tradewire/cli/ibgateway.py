"""The ``tradewire ib-gateway`` command group: ``serve`` runs the local IB gateway until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from tradewire.ibgateway import LocalIBGateway

if TYPE_CHECKING:
    import argparse
    from typing import Any

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``ib-gateway`` command group (``ib-gateway serve``) to the ``tradewire`` command."""
    group = subparsers.add_parser(
        "ib-gateway", help="the local Interactive Brokers Client Portal gateway"
    )
    commands = group.add_subparsers(dest="ib_gateway_command", required=True)
    serve = commands.add_parser("serve", help="run the local IB gateway until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--symbols", default="AAPL,MSFT", help="comma-separated stocks to list")
    serve.add_argument("--seed", type=int, default=1, help="seed of the market's walk")
    serve.add_argument(
        "--oauth", action="store_true", help="require OAuth 1.0a signatures as api.ibkr.com does"
    )
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))
    return 0


async def _run(args: argparse.Namespace) -> None:
    gateway = LocalIBGateway(
        symbols=tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip()),
        seed=args.seed,
        host=args.host,
        port=args.port,
        oauth=args.oauth,
    )
    async with gateway as gw:
        print(f"REST API:    {gw.url}")
        print(f"WebSocket:   {gw.ws_url}")
        print(f"Account:     {gw.account_id}")
        print(f"Certificate: {gw.cert_path}  (self-signed: trust it, or verify=False)")
        print("Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()

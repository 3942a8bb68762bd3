"""The ``exchange serve`` command group."""

from __future__ import annotations

import argparse

from tradewire.exchange.cli import register


def test_register_adds_exchange_serve() -> None:
    parser = argparse.ArgumentParser(prog="tradewire")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["exchange", "serve", "--port", "8123", "--db", "x.sqlite"])
    assert (args.command, args.exchange_command, args.port, args.db, args.host) == (
        "exchange", "serve", 8123, "x.sqlite", "127.0.0.1")
    assert callable(args.func)

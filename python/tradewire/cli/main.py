"""The ``tradewire`` command: its parser, and the exit status of every subcommand."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from tradewire._core import __version__
from tradewire.cli.backtest import register as register_backtest
from tradewire.cli.data import register as register_data
from tradewire.cli.doctor import register as register_doctor
from tradewire.cli.exchange import register as register_exchange
from tradewire.cli.ibgateway import register as register_ibgateway
from tradewire.cli.keys import register as register_keys
from tradewire.cli.live import register as register_live
from tradewire.cli.paper import register as register_paper
from tradewire.cli.record import register as register_record
from tradewire.cli.replay import register as register_replay
from tradewire.cli.signals import register as register_signals
from tradewire.cli.sweep import register as register_sweep
from tradewire.errors import TradewireError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewire", description="Connect trading bots to exchanges."
    )
    parser.add_argument("--version", action="version", version=f"tradewire {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    register_replay(commands)

    register_paper(commands)
    register_backtest(commands)
    register_sweep(commands)
    register_live(commands)
    register_doctor(commands)
    register_exchange(commands)
    register_ibgateway(commands)
    register_keys(commands)
    register_record(commands)
    register_data(commands)
    register_signals(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tradewire`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except TradewireError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `tradewire replay | head`: the reader left, nothing is wrong
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps interpreter exit quiet
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())

"""The ``tradewire`` command: its parser, and the exit status of every subcommand.

Every command's ``--help`` shows the defaults (the house's ``BotHelpFormatter``, applied to every
parser here) and is plain text: the reST markup of the docstrings used as descriptions
(````code````, ``:class:`...```) and any terminal escape are taken out. A ``TradewireError`` is
printed once, as one ``error:`` line; the library logs it only at DEBUG.
"""

from __future__ import annotations

import argparse
import os
import re
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
from tradewire.cli.session import BotHelpFormatter
from tradewire.cli.signals import register as register_signals
from tradewire.cli.sweep import register as register_sweep
from tradewire.errors import TradewireError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["HelpFormatter", "RawHelpFormatter", "main", "plain_text"]

_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`<]+?)(?:\s*<[^`>]*>)?`")
_LITERAL = re.compile(r"``([^`]+?)``")
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def plain_text(text: str) -> str:
    """``text`` without reST markup (````x````, ``:class:`~a.B```) or terminal escapes."""

    def role(match: re.Match[str]) -> str:
        target = match[2].strip()
        return target.rsplit(".", 1)[-1] if match[1] else target

    return _ESCAPE.sub("", _LITERAL.sub(r"\1", _ROLE.sub(role, text)))


class HelpFormatter(BotHelpFormatter):
    """Help with every default, as plain text (no reST markup, no escapes)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return super()._fill_text(plain_text(text), width, indent)

    def _expand_help(self, action: argparse.Action) -> str:
        return plain_text(super()._expand_help(action))

    def format_help(self) -> str:
        return plain_text(super().format_help())


class RawHelpFormatter(HelpFormatter):
    """:class:`HelpFormatter` for parsers whose description keeps its own line breaks."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "".join(indent + line for line in plain_text(text).splitlines(keepends=True))


def _plain_help_everywhere(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every subcommand's parser the plain, defaults-showing formatter."""
    kind = parser.formatter_class
    raw = isinstance(kind, type) and issubclass(kind, argparse.RawDescriptionHelpFormatter)
    parser.formatter_class = RawHelpFormatter if raw else HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _plain_help_everywhere(sub)


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
    _plain_help_everywhere(parser)
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

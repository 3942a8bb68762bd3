"""``--help`` of every command shows the defaults and is plain text (no markup, no escapes)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from typing import TYPE_CHECKING

from tradewire.cli.main import _parser, plain_text

if TYPE_CHECKING:
    from collections.abc import Iterator

_MARKUP = re.compile(r"``|:(class|func|mod|meth|data|attr):`|\x1b")


def every_parser(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each command's parser, with the words that select it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from every_parser(sub, (*path, name))


def shown_default(action: argparse.Action) -> bool:
    """Whether an option has a default worth showing (a value, not None or an off flag)."""
    return (
        bool(action.option_strings)
        and action.help not in (None, argparse.SUPPRESS)
        and action.default not in (None, False, argparse.SUPPRESS)
    )


def test_every_command_shows_its_defaults_as_plain_text() -> None:
    parsers = list(every_parser(_parser()))
    assert len(parsers) > 20  # every group and subcommand, not only the top level
    missing = []
    for path, parser in parsers:
        text = parser.format_help()
        assert not _MARKUP.search(text), (path, _MARKUP.search(text))
        for action in parser._actions:
            if shown_default(action):
                # The option's help (wrapped) names its default, from the formatter or its text.
                formatter = parser._get_formatter()
                expanded = " ".join(formatter._expand_help(action).split())
                if "default" not in expanded.lower():
                    missing.append((path, action.option_strings))
    assert missing == []


def test_the_defaults_are_the_parsers_values() -> None:
    parsers = dict(every_parser(_parser()))
    timeout = " ".join(parsers[("doctor",)].format_help().split())
    assert "seconds per request (default: 5.0)" in timeout
    purpose = " ".join(parsers[("keys", "rotate")].format_help().split())
    assert "the new key must pass the audit for it (default: live)" in purpose


def test_markup_and_escapes_are_taken_out() -> None:
    text = (
        "see :class:`~tradewire.binance.urls.Endpoints`, ``tradewire doctor``, \x1b[1mbold\x1b[0m"
    )
    assert plain_text(text) == "see Endpoints, tradewire doctor, bold"
    assert plain_text(":func:`tradewire.binance.urls.endpoints`") == (
        "tradewire.binance.urls.endpoints"
    )


def test_help_through_a_pipe_is_plain_text() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tradewire.cli.main", "doctor", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: tradewire doctor")
    assert not _MARKUP.search(done.stdout)
    assert "(default: BTCUSDT)" in " ".join(done.stdout.split())

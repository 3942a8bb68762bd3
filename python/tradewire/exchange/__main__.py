"""``python -m tradewire.exchange serve``: the exchange command without ``tradewire``."""

from __future__ import annotations

import argparse
import sys

from tradewire.cli.exchange import register


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` as ``tradewire exchange ...`` and run it."""
    parser = argparse.ArgumentParser(prog="python -m tradewire.exchange")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["exchange", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

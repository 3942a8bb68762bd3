"""Market stream names: parsing ``btcusdt@depth@100ms`` and friends into what they ask for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tradewire.exchange.marketdata import INTERVALS, WINDOWS

__all__ = ["StreamName", "parse_stream"]

_WINDOW = "|".join(WINDOWS)
_NAME = re.compile(
    r"^(?P<symbol>[a-z0-9]{2,20})@(?:"
    r"(?P<depth>depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?)"
    r"|(?P<simple>trade|aggTrade|bookTicker|ticker|miniTicker|avgPrice)"
    rf"|ticker_(?P<window>{_WINDOW})"
    r"|kline_(?P<interval>[0-9]+[smhdwM]))$"
)
_EVERY_SYMBOL = re.compile(rf"^!(?:(?P<mini>miniTicker)|ticker(?:_(?P<window>{_WINDOW}))?)@arr$")


@dataclass(frozen=True)
class StreamName:
    """A parsed stream name.

    ``kind`` is depth, partial, trade, aggTrade, bookTicker, kline, ticker, miniTicker,
    windowTicker or avgPrice; ``symbol`` is empty for the all-market arrays (``!ticker@arr``,
    ``!miniTicker@arr``, ``!ticker_<window>@arr``).
    """

    name: str
    symbol: str
    kind: str
    fast: bool = False
    levels: int = 0
    interval: str = ""
    window: str = ""

    @property
    def every_symbol(self) -> bool:
        """Whether this is an all-market array stream (one message for the symbols that changed)."""
        return not self.symbol


def parse_stream(name: str) -> StreamName | None:
    """The stream ``name`` asks for, or None when it is not a stream name Binance serves."""
    every = _EVERY_SYMBOL.match(name)
    if every is not None:
        if every["mini"]:
            return StreamName(name, "", "miniTicker")
        if every["window"]:
            return StreamName(name, "", "windowTicker", window=every["window"])
        return StreamName(name, "", "ticker")
    m = _NAME.match(name)
    if m is None:
        return None
    symbol = m["symbol"].upper()
    if m["depth"]:
        fast = m["speed"] == "100ms"
        if m["levels"]:
            return StreamName(name, symbol, "partial", fast, int(m["levels"]))
        return StreamName(name, symbol, "depth", fast)
    if m["simple"]:
        return StreamName(name, symbol, m["simple"])
    if m["window"]:
        return StreamName(name, symbol, "windowTicker", window=m["window"])
    if m["interval"] not in INTERVALS:
        return None
    return StreamName(name, symbol, "kline", interval=m["interval"])

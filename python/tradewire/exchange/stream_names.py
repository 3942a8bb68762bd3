"""Market stream names: parsing ``btcusdt@depth@100ms`` and friends into what they ask for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tradewire.exchange.marketdata import INTERVALS

__all__ = ["StreamName", "parse_stream"]

_NAME = re.compile(
    r"^(?P<symbol>[a-z0-9]{2,20})@(?:"
    r"(?P<depth>depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?)"
    r"|(?P<simple>trade|aggTrade|bookTicker)"
    r"|kline_(?P<interval>[0-9]+[smhdwM]))$"
)


@dataclass(frozen=True)
class StreamName:
    """A parsed stream name: ``kind`` is depth, partial, trade, aggTrade, bookTicker or kline."""

    name: str
    symbol: str
    kind: str
    fast: bool = False
    levels: int = 0
    interval: str = ""


def parse_stream(name: str) -> StreamName | None:
    """The stream ``name`` asks for, or None when it is not a stream name Binance serves."""
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
    if m["interval"] not in INTERVALS:
        return None
    return StreamName(name, symbol, "kline", interval=m["interval"])

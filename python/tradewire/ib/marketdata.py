"""IB market data: snapshot and ``smd`` field values parsed exactly, and the snapshot pre-flight.

IB sends field values as display strings: ``"1,300.25"`` (thousands separators), a last price
prefixed ``C`` (the previous close) or ``H`` (halted), bid/ask sizes of US stocks in lots of
100 (``"88": "12"`` is 1,200 shares), volume ``87`` as ``"1.2M"``. :func:`parse_quote` turns one
snapshot row or ``smd`` message (merged over the last one) into an :class:`IBQuote` of Decimals.
The first snapshot of a conid in a session only starts the feed and carries no values (the
*pre-flight*): :func:`fetch_snapshot` asks again until the values come.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from tradewire.errors import ParseError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tradewire.ib.transport import IBTransport

__all__ = [
    "QUOTE_FIELDS",
    "IBQuote",
    "fetch_snapshot",
    "parse_ib_number",
    "parse_quote",
]

LAST, BID, ASK, BID_SIZE, ASK_SIZE, LAST_SIZE, VOLUME = "31", "84", "86", "88", "85", "7059", "7762"
AVAILABILITY = "6509"
QUOTE_FIELDS: tuple[str, ...] = (LAST, BID, ASK, BID_SIZE, ASK_SIZE, LAST_SIZE, VOLUME)
"""The fields a quote asks for: last, bid, ask, bid/ask size (lots), last size, volume."""
US_LOT = Decimal(100)


def parse_ib_number(text: object, *, field: str = "") -> Decimal | None:
    """A field value as IB formats it, exactly: commas dropped, a ``C``/``H`` prefix removed,
    ``K``/``M`` suffixes multiplied out; None for an empty value.

    Raises:
        ParseError: the value is not a number in any of IB's forms.
    """
    if text is None:
        return None
    if isinstance(text, int | Decimal) and not isinstance(text, bool):
        return Decimal(text)
    if not isinstance(text, str):
        raise ParseError(f"IB field {field} is not a number: {text!r}")
    s = text.strip().replace(",", "")
    if not s:
        return None
    if s[0] in "CH":
        s = s[1:]
    scale = Decimal(1)
    if s and s[-1] in "KM":
        scale = Decimal(1000) if s[-1] == "K" else Decimal(1_000_000)
        s = s[:-1]
    try:
        value = Decimal(s) * scale
    except InvalidOperation:
        raise ParseError(f"IB field {field} is not a number: {text!r}") from None
    if not value.is_finite():
        raise ParseError(f"IB field {field} is not a number: {text!r}")
    return value


@dataclass(frozen=True)
class IBQuote:
    """Top of book and last trade of one conid, exact (sizes in shares)."""

    conid: int
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    bid_size: Decimal | None
    ask_size: Decimal | None
    last_size: Decimal | None
    volume: Decimal | None
    updated_ms: int
    last_is_close: bool = False
    halted: bool = False
    availability: str = ""

    @property
    def has_values(self) -> bool:
        """Whether any price arrived (the pre-flight answer carries none)."""
        return self.bid is not None or self.ask is not None or self.last is not None


def parse_quote(row: Mapping[str, Any], *, lot: Decimal = US_LOT) -> IBQuote:
    """An :class:`IBQuote` from a snapshot row or a merged ``smd`` message.

    ``lot``: the shares in one unit of the bid/ask size fields (100 for US stocks).
    """
    conid = row.get("conid")
    if not isinstance(conid, int):
        try:
            conid = int(str(conid))
        except ValueError:
            raise ParseError(f"IB quote without a conid: {dict(row)!r}") from None
    last_text = row.get(LAST)
    bid_size = parse_ib_number(row.get(BID_SIZE), field=BID_SIZE)
    ask_size = parse_ib_number(row.get(ASK_SIZE), field=ASK_SIZE)
    updated = row.get("_updated")
    return IBQuote(
        conid=conid,
        bid=parse_ib_number(row.get(BID), field=BID),
        ask=parse_ib_number(row.get(ASK), field=ASK),
        last=parse_ib_number(last_text, field=LAST),
        bid_size=None if bid_size is None else bid_size * lot,
        ask_size=None if ask_size is None else ask_size * lot,
        last_size=parse_ib_number(row.get(LAST_SIZE), field=LAST_SIZE),
        volume=parse_ib_number(row.get(VOLUME), field=VOLUME),
        updated_ms=int(updated) if isinstance(updated, int | Decimal) else 0,
        last_is_close=isinstance(last_text, str) and last_text.startswith("C"),
        halted=isinstance(last_text, str) and last_text.startswith("H"),
        availability=str(row.get(AVAILABILITY) or ""),
    )


async def fetch_snapshot(
    transport: IBTransport,
    conids: Iterable[int],
    *,
    fields: tuple[str, ...] = QUOTE_FIELDS,
    tries: int = 5,
    pause_s: float = 0.2,
) -> dict[int, IBQuote]:
    """Snapshots of ``conids``, asking again while the pre-flight leaves values out.

    Returns the quotes that came with values; a conid still empty after ``tries`` calls is
    missing from the result (no market-data permission, or the market is closed with no
    last price).
    """
    wanted = list(dict.fromkeys(conids))
    out: dict[int, IBQuote] = {}
    for attempt in range(tries):
        missing = [c for c in wanted if c not in out]
        if not missing:
            break
        if attempt:
            await asyncio.sleep(pause_s)
        rows = await transport.request(
            "GET",
            "/iserver/marketdata/snapshot",
            params={"conids": ",".join(map(str, missing)), "fields": ",".join(fields)},
        )
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict):
                quote = parse_quote(row)
                if quote.has_values:
                    out[quote.conid] = quote
    return out

"""Market data: IB's display strings parsed exactly; the snapshot pre-flight; smd quotes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import ParseError
from tradewire.ib import IBClient
from tradewire.ib.marketdata import parse_ib_number, parse_quote
from tradewire.ibgateway import LocalIBGateway

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,300", Decimal(1300)),
        ("1,234,567.89", Decimal("1234567.89")),
        ("C192.26", Decimal("192.26")),
        ("H0.0001", Decimal("0.0001")),
        ("1.2K", Decimal(1200)),
        ("2.35M", Decimal(2350000)),
        (" 88 ", Decimal(88)),
        (7, Decimal(7)),
    ],
)
def test_ib_numbers_parse_exactly(text: object, value: Decimal) -> None:
    assert parse_ib_number(text) == value


@pytest.mark.parametrize("text", ["abc", "1..2", "NaN", "inf", [1]])
def test_non_numbers_are_parse_errors(text: object) -> None:
    with pytest.raises(ParseError):
        parse_ib_number(text, field="31")


def test_empty_values_are_none() -> None:
    assert parse_ib_number("") is None
    assert parse_ib_number(None) is None


def test_sizes_come_in_lots_of_one_hundred() -> None:
    q = parse_quote(
        {"conid": 265598, "31": "C1,190.25", "84": "1,190.24", "86": "1,190.26",
         "88": "1,300", "85": "12", "7059": "300", "7762": "1234567", "_updated": 1700000000000}
    )  # fmt: skip
    assert q.bid_size == Decimal(130000)
    assert q.ask_size == Decimal(1200)
    assert q.last == Decimal("1190.25") and q.last_is_close and not q.halted
    assert (q.bid, q.ask) == (Decimal("1190.24"), Decimal("1190.26"))
    assert q.volume == Decimal(1234567) and q.updated_ms == 1700000000000


def test_the_preflight_row_has_no_values() -> None:
    assert not parse_quote({"conid": 265598, "conidEx": "265598"}).has_values
    with pytest.raises(ParseError):
        parse_quote({"conidEx": "x"})


@pytest.mark.asyncio
async def test_snapshot_goes_through_the_preflight(
    tmp_path: Path, clock_at: Callable[..., Callable[[], float]]
) -> None:
    # A market that does not step during the test, so the values compare exactly.
    async with (
        LocalIBGateway(symbols=("AAPL", "MSFT"), seed=4, clock=clock_at(), step_s=3600) as gw,
        IBClient(gw.url, cafile=gw.cert_path, error_log=tmp_path / "e.jsonl") as ib,
    ):
        before = ib.transport.limiter.sent
        quotes = await ib.snapshot([265598, 272093])
        assert ib.transport.limiter.sent - before == 2  # the pre-flight, then the values
        assert set(quotes) == {265598, 272093}
        for conid, quote in quotes.items():
            market = gw.market.quotes[conid]
            assert (quote.bid, quote.ask, quote.last) == (market.bid, market.ask, market.last)
            assert quote.bid_size == market.bid_size // 100 * 100
            assert quote.ask_size == market.ask_size // 100 * 100
            assert quote.volume == market.volume
        again = await ib.snapshot([265598])
        assert ib.transport.limiter.sent - before == 3  # values at once now
        assert replace(again[265598], updated_ms=0) == replace(quotes[265598], updated_ms=0)


@pytest.mark.asyncio
async def test_smd_quotes_arrive_merged(gw: LocalIBGateway, connect: Callable[..., Any]) -> None:
    async with connect() as ib:
        seen = []
        async for quote in ib.quotes(265598):
            seen.append(quote)
            if len(seen) == 5:
                break
        # every update is complete, though IB sends only the changed fields after the first
        assert all(q.bid is not None and q.ask is not None and q.bid_size for q in seen)
        assert len({(q.bid, q.ask, q.last, q.updated_ms) for q in seen}) > 1


@pytest.mark.asyncio
async def test_smd_is_renewed_past_its_expiry(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    gw.set_faults(smd_expiry_s=0.3)
    async with connect(smd_refresh_s=0.1) as ib:
        loop = asyncio.get_running_loop()
        start = loop.time()
        async for quote in ib.quotes(272093):
            if loop.time() - start > 1.0:  # more than three expiries later, still flowing
                assert quote.conid == 272093
                break

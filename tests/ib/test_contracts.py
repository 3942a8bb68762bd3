"""Contract resolution: one listing or a typed error naming the candidates; price-banded ticks."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import IBContractError, ParseError
from tradewire.ib.contracts import TickRules, parse_tick_rules, select_listing

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.ibgateway import LocalIBGateway

DATA = Path(__file__).parent.parent / "data" / "ib"
RECORDED = json.loads((DATA / "webapi-trsrv-stocks.json").read_text())


def test_the_us_listing_is_chosen_from_ibs_recorded_answer() -> None:
    aapl = select_listing(RECORDED, "AAPL")
    assert (aapl.conid, aapl.exchange, aapl.name) == (265598, "NASDAQ", "APPLE INC")
    san = select_listing(RECORDED, "SAN")
    assert (san.conid, san.exchange) == (12442, "NYSE")


def test_a_named_exchange_picks_that_listing() -> None:
    assert select_listing(RECORDED, "AAPL", exchange="MEXI").conid == 38708077
    assert select_listing(RECORDED, "AAPL", exchange="LSEETF").name == "LS 1X AAPL"


def test_ambiguous_symbols_are_refused_with_the_candidates() -> None:
    with pytest.raises(IBContractError, match="ambiguous") as info:
        select_listing(RECORDED, "SAN", us_only=False)
    assert len(info.value.candidates) == 7
    assert any("12442@NYSE" in c for c in info.value.candidates)
    assert any("29612249@SBF (SANOFI)" in c for c in info.value.candidates)


def test_no_match_lists_what_exists() -> None:
    with pytest.raises(IBContractError, match="no AAPL on XETRA") as info:
        select_listing(RECORDED, "AAPL", exchange="XETRA")
    assert len(info.value.candidates) == 5
    with pytest.raises(IBContractError, match="no ZZZZ"):
        select_listing({}, "ZZZZ")


def test_tick_for_follows_the_price_bands() -> None:
    rules = parse_tick_rules(
        json.loads(
            '{"incrementRules": [{"lowerEdge": 1.0, "increment": 0.01},'
            ' {"lowerEdge": 0.0, "increment": 0.0001}], "sizeIncrement": 1}',
            parse_float=Decimal,
        )
    )
    assert rules.tick_for(Decimal("0.5")) == Decimal("0.0001")
    assert rules.tick_for(Decimal(1)) == Decimal("0.01")
    assert rules.tick_for(Decimal("187.3")) == Decimal("0.01")
    assert rules.round_price(Decimal("187.349"), up=False) == Decimal("187.34")
    assert rules.round_price(Decimal("187.341"), up=True) == Decimal("187.35")
    assert rules.round_price(Decimal("0.123456"), up=False) == Decimal("0.1234")
    assert rules.on_tick(Decimal("0.1234")) and not rules.on_tick(Decimal("1.234"))
    assert rules.round_size(Decimal("10.9")) == Decimal(10)


def test_bad_rules_are_parse_errors() -> None:
    with pytest.raises(ParseError):
        parse_tick_rules({"incrementRules": [{"lowerEdge": 0, "increment": "x"}]})
    with pytest.raises(ParseError):
        parse_tick_rules({"error": "no rules"})
    with pytest.raises(ParseError):
        TickRules(bands=((Decimal(0), Decimal(0)),))


@pytest.mark.asyncio
async def test_resolve_against_the_gateway(gw: LocalIBGateway, connect: Callable[..., Any]) -> None:
    async with connect() as ib:
        aapl = await ib.resolve("aapl")
        assert (aapl.conid, aapl.exchange, aapl.currency) == (265598, "NASDAQ", "USD")
        assert aapl.listing == "AAPL@NASDAQ (USD)"
        assert aapl.tick_for(Decimal("0.9")) == Decimal("0.0001")
        assert aapl.tick_for(Decimal("190")) == Decimal("0.01")
        assert aapl.rules.size_increment == 1
        with pytest.raises(IBContractError, match="no MSFT on NYSE"):
            await ib.resolve("MSFT", exchange="NYSE")
        with pytest.raises(IBContractError, match="trades in USD, not EUR"):
            await ib.resolve("MSFT", exchange="NASDAQ", currency="EUR")
        with pytest.raises(IBContractError):
            await ib.resolve("NOPE")
    del gw

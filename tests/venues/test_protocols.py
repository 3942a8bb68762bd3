"""The venue protocols: every venue a bot runs on satisfies them."""

from __future__ import annotations

from decimal import Decimal as D

from tradewire.model import SymbolRules
from tradewire.venues.paper import PaperBroker
from tradewire.venues.protocols import Venue
from tradewire.venues.readonly import ReadOnlyVenue

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


def test_paper_and_read_only_are_venues() -> None:
    assert isinstance(PaperBroker(RULES, {"USDT": "1"}), Venue)
    assert isinstance(ReadOnlyVenue(RULES, {"USDT": "1"}), Venue)

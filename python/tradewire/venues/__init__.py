"""Everything a bot runs on: the venue protocols and their implementations.

- :mod:`tradewire.venues.protocols`: :class:`Venue`, :class:`MarketSource` and the optional
  capabilities (:class:`SimulatedVenue`, :class:`FillHistory`, :class:`AdoptsOrders`).
- :mod:`tradewire.venues.binance`: Binance Spot through :class:`~tradewire.binance.BinanceClient`.
- :mod:`tradewire.venues.paper`: the paper broker, filling against the market it is fed.
- :mod:`tradewire.venues.readonly`: any venue with orders logged instead of sent.
- :mod:`tradewire.venues.replay`: a replayed (synthetic or recorded) market source.

A new venue is a new module here (and its client in a folder of its own); no bot changes.
"""

from __future__ import annotations

from tradewire.venues.protocols import (
    AdoptsOrders,
    FillHistory,
    MarketSource,
    SimulatedVenue,
    Venue,
)

__all__ = ["AdoptsOrders", "FillHistory", "MarketSource", "SimulatedVenue", "Venue"]

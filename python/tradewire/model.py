"""The venue-neutral model: the values strategies, bots and every venue exchange.

A venue (Binance, the paper broker, a future Kraken or OKX adapter) implements :class:`Venue`
with the exchange-neutral, frozen value types below; amounts are always ``decimal.Decimal``.
A second exchange is one adapter class that maps its wire formats to these types. The order
rules (:class:`SymbolRules`, the open statuses) live in :mod:`tradewire.rules` and are
re-exported here.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from tradewire.rules import OPEN_STATUSES, SymbolRules, is_open

if TYPE_CHECKING:
    from tradewire._core import OrderBook

__all__ = [
    "OPEN_STATUSES",
    "ORDER_TYPES",
    "STOP_ORDER_TYPES",
    "UNPRICED_TYPES",
    "Balance",
    "Bar",
    "BookUpdate",
    "CashBalance",
    "CommissionUpdate",
    "Fill",
    "Instrument",
    "MarketEvent",
    "MarketTrade",
    "Order",
    "OrderRequest",
    "OrderType",
    "OrderUpdate",
    "Position",
    "Side",
    "SymbolRules",
    "TradingSessions",
]

Side = Literal["BUY", "SELL"]
OrderType = Literal[
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
ORDER_TYPES: tuple[OrderType, ...] = (
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
STOP_ORDER_TYPES: frozenset[str] = frozenset(
    {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}
)
"""Order types held off the book until the last trade price reaches their ``stop_price``."""
UNPRICED_TYPES: frozenset[str] = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})
"""Order types without a limit price (they fill at the market once working)."""
_GTC_DEFAULT = frozenset({"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_ZERO = Decimal(0)
UnitLevels = list[tuple[int, int]]
"""Book levels in integer 10^-8 units, ``(price, quantity)`` best first (a tape's units)."""


@dataclass(frozen=True)
class OrderRequest:
    """An order to place, with the neutral type names (Binance Spot's; each venue maps them).

    ``time_in_force``: GTC (the default of the priced types) or DAY (a broker's session
    order: IB cancels it at the close), or IOC/FOK where the venue has them.

    - ``LIMIT`` (GTC) with a price; ``MARKET`` without one;
    - ``LIMIT_MAKER`` (post-only) with a price: refused (-2010, "Order would immediately match
      and take.") instead of taking, so it only ever fills as maker; no time in force;
    - ``STOP_LOSS`` (a stop-market order: IB's STP) / ``TAKE_PROFIT`` with a ``stop_price``
      and no price: held off the book (status NEW) until the last trade price reaches the
      stop, then a MARKET order that takes the book as it finds it (what the book cannot fill
      expires); on Binance where the symbol's ``orderTypes`` list them, on IB (STP, stop-loss
      only), on the paper broker and in backtests;
    - ``STOP_LOSS_LIMIT`` (IB's STP LMT) / ``TAKE_PROFIT_LIMIT`` with a price and a
      ``stop_price``: held off the book (status NEW) until the last trade price reaches the
      stop, then a LIMIT GTC at ``price``.

    A stop-loss BUY triggers when the price rises to the stop and a SELL when it falls to it;
    a take-profit the other way round. A stop order of either kind is refused (-2010, "Order
    would trigger immediately.") if the last price has already reached the stop when it is
    placed.
    """

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    client_order_id: str
    price: Decimal | None = None
    time_in_force: str | None = None
    stop_price: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("quantity", "price", "stop_price"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
        if self.side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, not {self.side!r}")
        if self.type not in ORDER_TYPES:
            raise ValueError(f"type must be one of {', '.join(ORDER_TYPES)}, not {self.type!r}")
        if self.type not in UNPRICED_TYPES and self.price is None:
            raise ValueError(f"a {self.type} order needs a price")
        if self.type in ("STOP_LOSS", "TAKE_PROFIT") and self.price is not None:
            raise ValueError(f"a {self.type} order takes no price (a {self.type}_LIMIT does)")
        if (self.stop_price is None) == (self.type in STOP_ORDER_TYPES):
            raise ValueError(
                f"a {self.type} order needs a stop_price"
                if self.stop_price is None
                else f"a {self.type} order takes no stop_price"
            )
        if self.type == "LIMIT_MAKER" and self.time_in_force is not None:
            raise ValueError("a LIMIT_MAKER order takes no time in force")
        if self.type in _GTC_DEFAULT and self.time_in_force is None:
            object.__setattr__(self, "time_in_force", "GTC")


@dataclass(frozen=True)
class Order:
    """An order as the venue knows it: the request, its status and what has filled."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    client_order_id: str
    status: str
    price: Decimal | None = None
    executed_qty: Decimal = _ZERO
    cumulative_quote_qty: Decimal = _ZERO
    order_id: str | None = None
    time_ms: int = 0
    stop_price: Decimal | None = None
    """The trigger of a stop order (STOP_LOSS, TAKE_PROFIT and their _LIMIT variants; None
    for other types)."""

    @property
    def is_open(self) -> bool:
        """Still working on the venue."""
        return is_open(self.status)

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.quantity - self.executed_qty


@dataclass(frozen=True)
class Fill:
    """One execution of an order; the commission is in ``commission_asset``."""

    client_order_id: str
    trade_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_maker: bool
    commission_pending: bool = False
    """True when the venue reports the commission later (IB): ``commission`` is then 0 and a
    :class:`CommissionUpdate` follows in a later :class:`OrderUpdate`."""

    @property
    def quote_quantity(self) -> Decimal:
        """``price * quantity``, exactly."""
        return self.price * self.quantity


@dataclass(frozen=True)
class Balance:
    """One asset of the account: free and locked (in open orders)."""

    asset: str
    free: Decimal
    locked: Decimal = _ZERO

    @property
    def total(self) -> Decimal:
        """Free plus locked."""
        return self.free + self.locked


@dataclass(frozen=True)
class CommissionUpdate:
    """The commission of an earlier fill (``trade_id``), reported after the fill itself."""

    client_order_id: str
    trade_id: str
    symbol: str
    commission: Decimal
    commission_asset: str


@dataclass(frozen=True)
class OrderUpdate:
    """An order changed: its new state, the fill that changed it if any, or the commission
    of an earlier fill that arrived late."""

    order: Order
    fill: Fill | None = None
    commission: CommissionUpdate | None = None


@dataclass(frozen=True)
class Instrument:
    """What a venue trades, named by the venue's id with the symbol people read.

    On Binance ``id`` and ``symbol`` are both ``BTCUSDT``; on IB ``id`` is the contract id
    (``"265598"``) and ``symbol`` the ticker (``AAPL``) of one listing (``exchange``, e.g.
    ``NASDAQ``) in ``currency``.
    """

    id: str
    symbol: str
    exchange: str = ""
    currency: str = ""

    @property
    def listing(self) -> str:
        """The listing as people write it: ``AAPL@NASDAQ (USD)`` (or just the symbol)."""
        if not self.exchange:
            return self.symbol
        return f"{self.symbol}@{self.exchange}" + (f" ({self.currency})" if self.currency else "")


@dataclass(frozen=True)
class Position:
    """A holding of one instrument: ``quantity`` signed (negative when short), exact."""

    symbol: str
    quantity: Decimal
    average_cost: Decimal
    instrument_id: str = ""

    @property
    def is_short(self) -> bool:
        """The position is a short (a negative quantity)."""
        return self.quantity < 0


@dataclass(frozen=True)
class CashBalance:
    """Cash of one currency at a broker: no "locked" part; buying power where it is known."""

    currency: str
    cash: Decimal
    buying_power: Decimal | None = None


_NY = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class TradingSessions:
    """When a market is open: ``[open_ms, close_ms)`` intervals in epoch ms, ascending.

    Outside the intervals (nights, weekends, the nightly reset) the market is closed, and so
    it is before the first and after the last interval: a venue gives the hours it knows.
    """

    intervals: tuple[tuple[int, int], ...]
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        last = None
        for start, end in self.intervals:
            if end <= start or (last is not None and start < last):
                raise ValueError("trading sessions must be ascending, non-empty intervals")
            last = end
        object.__setattr__(self, "_starts", tuple(start for start, _ in self.intervals))

    def _index(self, time_ms: int) -> int:
        return bisect.bisect_right(self._starts, time_ms) - 1

    def is_open(self, time_ms: int) -> bool:
        """Whether the market is open at ``time_ms``."""
        i = self._index(time_ms)
        return i >= 0 and time_ms < self.intervals[i][1]

    def next_open(self, time_ms: int) -> int | None:
        """``time_ms`` if open then, else the next opening (None if none is known)."""
        if self.is_open(time_ms):
            return time_ms
        i = self._index(time_ms) + 1
        return self.intervals[i][0] if i < len(self.intervals) else None

    @classmethod
    def regular_hours(
        cls,
        start_ms: int,
        end_ms: int,
        *,
        zone: str = "America/New_York",
        opens: datetime.time = datetime.time(9, 30),
        closes: datetime.time = datetime.time(16, 0),
    ) -> TradingSessions:
        """Weekdays from ``opens`` to ``closes`` in ``zone`` between two times (US stocks'
        regular hours by default; exchange holidays are not known here)."""
        tz = _NY if zone == "America/New_York" else ZoneInfo(zone)
        day = datetime.datetime.fromtimestamp(start_ms / 1000, tz).date()
        last = datetime.datetime.fromtimestamp(end_ms / 1000, tz).date()
        out: list[tuple[int, int]] = []
        while day <= last:
            if day.weekday() < 5:
                o = datetime.datetime.combine(day, opens, tz).timestamp()
                c = datetime.datetime.combine(day, closes, tz).timestamp()
                out.append((int(o * 1000), int(c * 1000)))
            day += datetime.timedelta(days=1)
        return cls(tuple(out))


class BookUpdate:
    """A symbol's order book at one market event: exact prices and sizes, read on demand.

    A market source builds it over the Rust :class:`~tradewire.OrderBook` with :meth:`of_book`:
    nothing is converted when the event is made, so an event costs the same whether the book
    has 5 levels or 5,000. :attr:`best_bid`, :attr:`best_ask` and :attr:`mid` read one level
    each; :attr:`bids` and :attr:`asks` turn the top ``depth`` levels into ``Decimal`` pairs,
    best first. Each value is read once and kept, so reading it again is free.

    The values are the book's when first read: read them in the callback that receives the
    event (the runner applies the next update only after it returns). :attr:`is_current` says
    whether the book is still at this event's update; :meth:`frozen` keeps a copy for later.
    Built directly (tests, venues without a Rust book), it holds the levels it is given.
    """

    __slots__ = (
        "_asks",
        "_best_ask",
        "_best_bid",
        "_bids",
        "_book",
        "_units",
        "depth",
        "received_ms",
        "symbol",
        "time_ms",
        "update_id",
    )

    def __init__(
        self,
        symbol: str,
        bids: tuple[tuple[Decimal, Decimal], ...] = (),
        asks: tuple[tuple[Decimal, Decimal], ...] = (),
        time_ms: int = 0,
        received_ms: int = 0,
    ) -> None:
        self.symbol = symbol
        self.time_ms = time_ms
        self.received_ms = received_ms
        self.update_id: int | None = None
        self.depth = max(len(bids), len(asks))
        self._book: OrderBook | None = None
        self._units: tuple[UnitLevels, UnitLevels] | None = None
        self._bids: tuple[tuple[Decimal, Decimal], ...] | None = tuple(bids)
        self._asks: tuple[tuple[Decimal, Decimal], ...] | None = tuple(asks)
        self._best_bid: Decimal | _Unread | None = bids[0][0] if bids else None
        self._best_ask: Decimal | _Unread | None = asks[0][0] if asks else None

    @classmethod
    def of_book(cls, book: OrderBook, *, depth: int = 20, received_ms: int = 0) -> BookUpdate:
        """The event of ``book``'s latest update: a view that reads the book when asked."""
        self = cls.__new__(cls)
        self.symbol = book.symbol
        self.time_ms = book.last_event_time
        self.received_ms = received_ms
        self.update_id = book.last_update_id
        self.depth = depth
        self._book = book
        self._units = None
        self._bids = self._asks = None
        self._best_bid = self._best_ask = _UNREAD
        return self

    @classmethod
    def of_units(
        cls,
        symbol: str,
        bids: UnitLevels,
        asks: UnitLevels,
        *,
        time_ms: int,
        received_ms: int = 0,
    ) -> BookUpdate:
        """Levels in integer 10^-8 units (a tape's: ``[(price, quantity), ...]`` best first),
        turned into ``Decimal`` only when read; :attr:`units` hands them on as they are."""
        self = cls.__new__(cls)
        self.symbol = symbol
        self.time_ms = time_ms
        self.received_ms = received_ms
        self.update_id = None
        self.depth = max(len(bids), len(asks))
        self._book = None
        self._units = (bids, asks)
        self._bids = self._asks = None
        self._best_bid = _from_units(bids[0][0]) if bids else None
        self._best_ask = _from_units(asks[0][0]) if asks else None
        return self

    @property
    def units(self) -> tuple[UnitLevels, UnitLevels] | None:
        """(bids, asks) in integer 10^-8 units, for a book made :meth:`of_units` (else None)."""
        return self._units

    @property
    def is_current(self) -> bool:
        """Whether the book is still at this event's update (always true for given levels)."""
        return self._book is None or self._book.last_update_id == self.update_id

    @property
    def best_bid(self) -> Decimal | None:
        """The highest bid price, if any."""
        if self._best_bid is _UNREAD:
            self._read_top()
        return self._best_bid  # type: ignore[return-value]

    @property
    def best_ask(self) -> Decimal | None:
        """The lowest ask price, if any."""
        if self._best_ask is _UNREAD:
            self._read_top()
        return self._best_ask  # type: ignore[return-value]

    def _read_top(self) -> None:
        assert self._book is not None
        self._best_bid, self._best_ask = self._book.best_prices()

    @property
    def mid(self) -> Decimal | None:
        """Halfway between best bid and best ask (exact), if both exist."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2

    @property
    def bids(self) -> tuple[tuple[Decimal, Decimal], ...]:
        """The top ``depth`` bids as exact (price, quantity) pairs, best first."""
        if self._bids is None:
            if self._units is not None:
                self._bids = _unit_levels(self._units[0])
            else:
                assert self._book is not None
                self._bids = _levels(self._book.bids(self.depth, exact=True))
        return self._bids

    @property
    def asks(self) -> tuple[tuple[Decimal, Decimal], ...]:
        """The top ``depth`` asks as exact (price, quantity) pairs, best first."""
        if self._asks is None:
            if self._units is not None:
                self._asks = _unit_levels(self._units[1])
            else:
                assert self._book is not None
                self._asks = _levels(self._book.asks(self.depth, exact=True))
        return self._asks

    def frozen(self) -> BookUpdate:
        """A copy holding this event's levels, independent of the book from now on."""
        return BookUpdate(self.symbol, self.bids, self.asks, self.time_ms, self.received_ms)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BookUpdate):
            return NotImplemented
        return (self.symbol, self.bids, self.asks, self.time_ms) == (
            other.symbol,
            other.bids,
            other.asks,
            other.time_ms,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"BookUpdate({self.symbol!r}, best_bid={self.best_bid}, best_ask={self.best_ask}, "
            f"time_ms={self.time_ms})"
        )


class _Unread:
    """Marks a value of a :class:`BookUpdate` not read from the book yet."""

    __slots__ = ()


_UNREAD = _Unread()


def _levels(levels: list[tuple[str, str]]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(p), Decimal(q)) for p, q in levels)


_UNIT = Decimal(1).scaleb(-8)


def _from_units(units: int) -> Decimal:
    return Decimal(units) * _UNIT


def _unit_levels(levels: UnitLevels) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((_from_units(p), _from_units(q)) for p, q in levels)


@dataclass(frozen=True)
class MarketTrade:
    """A trade on the public tape; ``buyer_is_maker`` means the seller took."""

    symbol: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    time_ms: int = 0
    buyer_is_maker: bool = False
    received_ms: int = field(default=0, compare=False)


MarketEvent = BookUpdate | MarketTrade
"""What a market data source yields."""


@dataclass(frozen=True)
class Bar:
    """One candle of an interval (a kline, as Binance names it): OHLC and volumes, exact.

    ``open_time_ms`` is the interval's start and ``close_time_ms`` its last millisecond
    (``open_time_ms + interval - 1``, as in Binance's klines). ``volume`` is in the base
    asset, ``quote_volume`` the sum of price x quantity of its trades, ``trades`` their count.
    An interval without trades is a flat candle at the previous close (``trades == 0``), as
    Binance's klines are. ``closed`` is False for the forming candle. (``Bar``: the names
    ``Candle``, ``Candlestick`` and ``Kline`` are the local exchange's kline builder, the
    client's klines answer and the kline stream event.)
    """

    symbol: str
    interval: str
    open_time_ms: int
    close_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    closed: bool = True

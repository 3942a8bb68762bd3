"""Type stubs for tradewire's Rust extension (rust/src/python). Keep in step with the Rust."""

import decimal
from collections.abc import Iterable, Mapping
from typing import Any, final

import numpy as np
import numpy.typing as npt

__version__: str

Bytes = bytes | bytearray | memoryview | str
ParamValue = str | int | bool | decimal.Decimal | "ExactDecimal" | None
DecimalLike = str | int | decimal.Decimal | "ExactDecimal"

@final
class Signer:
    """Signs request payloads with one API secret; the secret cannot be read back."""

    @staticmethod
    def from_secret(secret: str) -> Signer:
        """A signer for an HMAC secret or a PKCS#8 PEM private key (Ed25519 or RSA).

        Raises:
            InvalidKey: the key is malformed, encrypted, public, or of another algorithm.
        """
    def sign(self, payload: Bytes) -> str:
        """The signature of ``payload``: hex for HMAC, base64 for Ed25519 and RSA."""
    def verify(self, payload: Bytes, signature: str) -> bool:
        """Whether ``signature`` is this key's signature of ``payload``."""
    @property
    def key_type(self) -> str:
        """``"hmac-sha256"``, ``"ed25519"`` or ``"rsa-pkcs1v15-sha256"``."""

@final
class Verifier:
    """Checks signatures with an HMAC secret or an Ed25519/RSA public key."""

    @staticmethod
    def from_key(key: str) -> Verifier:
        """A verifier for an HMAC secret or a PEM public key (SPKI)."""
    def verify(self, payload: Bytes, signature: str) -> bool:
        """Whether ``signature`` signs ``payload`` under this key."""
    @property
    def key_type(self) -> str:
        """``"hmac-sha256"``, ``"ed25519"`` or ``"rsa-pkcs1v15-sha256"``."""

def hmac_sha256_base64(key: Bytes, payload: Bytes) -> str:
    """base64(HMAC-SHA256(key, payload)) with a raw-bytes key."""

@final
class OAuthRequestSigner:
    """Signs Interactive Brokers Web API requests with a live session token (OAuth 1.0a,
    HMAC-SHA256); the token cannot be read back."""

    def __new__(
        cls, live_session_token: str, *, consumer_key: str, access_token: str, realm: str
    ) -> OAuthRequestSigner:
        """A signer for the base64 live session token and the consumer's key, token and realm.

        Raises:
            IBAuthError: the token is not base64, or a value cannot go into the header.
        """
    def base_string(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        nonce: str,
        timestamp: str,
    ) -> str:
        """``METHOD&quote_plus(url)&quote_plus(k=v&...)`` over the oauth pairs and ``params``.

        Raises:
            IBAuthError: a bad method, URL, nonce or timestamp.
        """
    def authorization(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        nonce: str,
        timestamp: str,
    ) -> str:
        """The ``Authorization`` header value: ``OAuth realm="...", oauth_consumer_key=...``.

        Raises:
            IBAuthError: a bad method, URL, nonce or timestamp.
        """

@final
class ExactDecimal:
    """An exact decimal with 18 fixed decimal places, for prices and quantities."""

    def __new__(cls, value: DecimalLike) -> ExactDecimal: ...
    def __float__(self) -> float: ...
    def __hash__(self) -> int: ...
    def __bool__(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __lt__(self, other: DecimalLike, /) -> bool: ...
    def __le__(self, other: DecimalLike, /) -> bool: ...
    def __gt__(self, other: DecimalLike, /) -> bool: ...
    def __ge__(self, other: DecimalLike, /) -> bool: ...
    def __add__(self, other: DecimalLike, /) -> ExactDecimal: ...
    def __radd__(self, other: DecimalLike, /) -> ExactDecimal: ...
    def __sub__(self, other: DecimalLike, /) -> ExactDecimal: ...
    def __rsub__(self, other: DecimalLike, /) -> ExactDecimal: ...
    def __mul__(self, other: DecimalLike, /) -> ExactDecimal: ...
    def __rmul__(self, other: DecimalLike, /) -> ExactDecimal: ...
    def __neg__(self) -> ExactDecimal: ...
    def __abs__(self) -> ExactDecimal: ...
    def div_trunc(self, other: DecimalLike) -> ExactDecimal:
        """The quotient, truncated toward zero at 18 decimals."""
    def floor_to(self, step: DecimalLike) -> ExactDecimal:
        """The largest multiple of ``step`` not above this value."""
    def ceil_to(self, step: DecimalLike) -> ExactDecimal:
        """The smallest multiple of ``step`` not below this value."""
    def round_to_tick(self, tick: DecimalLike, side: str) -> ExactDecimal:
        """Round to ``tick``: down for ``"BUY"``, up for ``"SELL"``."""
    def is_multiple_of(self, step: DecimalLike) -> bool:
        """Whether this value is a whole multiple of ``step``."""
    def to_string_fixed(self, digits: int) -> str:
        """The value with exactly ``digits`` decimals."""
    def to_decimal(self) -> decimal.Decimal:
        """The same value as a ``decimal.Decimal``."""
    @property
    def decimals(self) -> int:
        """Number of significant decimals."""

@final
class OrderBook:
    """A level-2 order book for one symbol, kept by Binance's local-book procedure."""

    def __new__(cls, symbol: str) -> OrderBook: ...
    @property
    def symbol(self) -> str: ...
    def apply_snapshot(self, raw: Bytes) -> None:
        """Replace the book with a REST ``/api/v3/depth`` body.

        Raises:
            ParseError: the body is malformed (the book is unchanged).
            BookError: the snapshot is crossed.
        """
    def apply_depth_update(self, raw: Bytes) -> bool:
        """Apply a ``depthUpdate`` event; True if applied, False if stale.

        Raises:
            SequenceGap: events were missed; the book is dropped.
            BookNotSynced: no snapshot yet, or dropped after an error.
            SymbolMismatch: the event is for another symbol.
            ParseError: the message is malformed (the book is unchanged).
        """
    @property
    def last_update_id(self) -> int | None: ...
    @property
    def is_synced(self) -> bool: ...
    @property
    def last_event_time(self) -> int: ...
    @property
    def bid_count(self) -> int: ...
    @property
    def ask_count(self) -> int: ...
    def clear(self) -> None:
        """Drop every level; the book needs a new snapshot."""
    def best_bid(self) -> tuple[float, float] | None: ...
    def best_ask(self) -> tuple[float, float] | None: ...
    def best_prices(self) -> tuple[decimal.Decimal | None, decimal.Decimal | None]:
        """The best bid and best ask prices as exact ``Decimal``\\ s (None for an empty side)."""
    def bids(self, n: int = 10, *, exact: bool = False) -> list[tuple[Any, Any]]:
        """The best ``n`` bids, best first: floats, or exact strings with ``exact=True``."""
    def asks(self, n: int = 10, *, exact: bool = False) -> list[tuple[Any, Any]]:
        """The best ``n`` asks, best first: floats, or exact strings with ``exact=True``."""
    def depth(
        self, n: int | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Bids and asks as float64 arrays of shape (k, 2): price, quantity."""
    def spread(self) -> float | None: ...
    def mid(self) -> float | None: ...
    def average_fill_price(
        self, side: str, quantity: DecimalLike | float
    ) -> tuple[float, float] | None:
        """Average price and filled quantity of a market order of ``quantity`` now."""

Level = tuple[str, str]

@final
class DepthUpdate:
    @property
    def stream(self) -> str | None: ...
    @property
    def event_time(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def first_update_id(self) -> int: ...
    @property
    def final_update_id(self) -> int: ...
    @property
    def bids(self) -> list[Level]: ...
    @property
    def asks(self) -> list[Level]: ...
    @property
    def bids_float(self) -> list[tuple[float, float]]: ...
    @property
    def asks_float(self) -> list[tuple[float, float]]: ...

@final
class PartialDepth:
    @property
    def stream(self) -> str | None: ...
    @property
    def last_update_id(self) -> int: ...
    @property
    def bids(self) -> list[Level]: ...
    @property
    def asks(self) -> list[Level]: ...
    @property
    def bids_float(self) -> list[tuple[float, float]]: ...
    @property
    def asks_float(self) -> list[tuple[float, float]]: ...

@final
class BookTicker:
    @property
    def stream(self) -> str | None: ...
    @property
    def update_id(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def bid_price(self) -> str: ...
    @property
    def bid_price_float(self) -> float: ...
    @property
    def bid_qty(self) -> str: ...
    @property
    def bid_qty_float(self) -> float: ...
    @property
    def ask_price(self) -> str: ...
    @property
    def ask_price_float(self) -> float: ...
    @property
    def ask_qty(self) -> str: ...
    @property
    def ask_qty_float(self) -> float: ...

@final
class Trade:
    @property
    def stream(self) -> str | None: ...
    @property
    def event_time(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def trade_id(self) -> int: ...
    @property
    def price(self) -> str: ...
    @property
    def price_float(self) -> float: ...
    @property
    def quantity(self) -> str: ...
    @property
    def quantity_float(self) -> float: ...
    @property
    def trade_time(self) -> int: ...
    @property
    def is_buyer_maker(self) -> bool: ...

@final
class AggTrade:
    @property
    def stream(self) -> str | None: ...
    @property
    def event_time(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def agg_trade_id(self) -> int: ...
    @property
    def price(self) -> str: ...
    @property
    def price_float(self) -> float: ...
    @property
    def quantity(self) -> str: ...
    @property
    def quantity_float(self) -> float: ...
    @property
    def first_trade_id(self) -> int: ...
    @property
    def last_trade_id(self) -> int: ...
    @property
    def trade_time(self) -> int: ...
    @property
    def is_buyer_maker(self) -> bool: ...

@final
class Kline:
    @property
    def stream(self) -> str | None: ...
    @property
    def event_time(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def interval(self) -> str: ...
    @property
    def start_time(self) -> int: ...
    @property
    def close_time(self) -> int: ...
    @property
    def first_trade_id(self) -> int: ...
    @property
    def last_trade_id(self) -> int: ...
    @property
    def trade_count(self) -> int: ...
    @property
    def is_closed(self) -> bool: ...
    @property
    def open(self) -> str: ...
    @property
    def open_float(self) -> float: ...
    @property
    def high(self) -> str: ...
    @property
    def high_float(self) -> float: ...
    @property
    def low(self) -> str: ...
    @property
    def low_float(self) -> float: ...
    @property
    def close(self) -> str: ...
    @property
    def close_float(self) -> float: ...
    @property
    def volume(self) -> str: ...
    @property
    def volume_float(self) -> float: ...
    @property
    def quote_volume(self) -> str: ...
    @property
    def quote_volume_float(self) -> float: ...
    @property
    def taker_buy_base_volume(self) -> str: ...
    @property
    def taker_buy_base_volume_float(self) -> float: ...
    @property
    def taker_buy_quote_volume(self) -> str: ...
    @property
    def taker_buy_quote_volume_float(self) -> float: ...

@final
class StreamResponse:
    @property
    def stream(self) -> str | None: ...
    @property
    def id(self) -> str | None: ...
    @property
    def result(self) -> str | None: ...
    @property
    def error_code(self) -> int | None: ...
    @property
    def error_msg(self) -> str | None: ...

@final
class ServerShutdown:
    @property
    def stream(self) -> str | None: ...
    @property
    def event_time(self) -> int: ...

@final
class UnknownEvent:
    @property
    def stream(self) -> str | None: ...
    @property
    def event_type(self) -> str: ...
    @property
    def raw(self) -> bytes: ...

@final
class ApiErrorBody:
    @property
    def stream(self) -> str | None: ...
    @property
    def code(self) -> int: ...
    @property
    def msg(self) -> str: ...

@final
class OrderFill:
    @property
    def stream(self) -> str | None: ...
    @property
    def price(self) -> str: ...
    @property
    def price_float(self) -> float: ...
    @property
    def qty(self) -> str: ...
    @property
    def qty_float(self) -> float: ...
    @property
    def commission(self) -> str: ...
    @property
    def commission_float(self) -> float: ...
    @property
    def commission_asset(self) -> str: ...
    @property
    def trade_id(self) -> int: ...

@final
class OrderResponse:
    @property
    def stream(self) -> str | None: ...
    @property
    def symbol(self) -> str: ...
    @property
    def order_id(self) -> int: ...
    @property
    def order_list_id(self) -> int: ...
    @property
    def client_order_id(self) -> str: ...
    @property
    def orig_client_order_id(self) -> str | None:
        """On a cancel: the client order id of the canceled order."""
    @property
    def transact_time(self) -> int | None: ...
    @property
    def working_time(self) -> int | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def time_in_force(self) -> str | None: ...
    @property
    def order_type(self) -> str | None: ...
    @property
    def side(self) -> str | None: ...
    @property
    def self_trade_prevention_mode(self) -> str | None: ...
    @property
    def price(self) -> str | None: ...
    @property
    def price_float(self) -> float | None: ...
    @property
    def orig_qty(self) -> str | None: ...
    @property
    def orig_qty_float(self) -> float | None: ...
    @property
    def executed_qty(self) -> str | None: ...
    @property
    def executed_qty_float(self) -> float | None: ...
    @property
    def cummulative_quote_qty(self) -> str | None: ...
    @property
    def cummulative_quote_qty_float(self) -> float | None: ...
    @property
    def stop_price(self) -> str | None: ...
    @property
    def stop_price_float(self) -> float | None: ...
    @property
    def fills(self) -> list[OrderFill]: ...

Event = (
    DepthUpdate
    | PartialDepth
    | BookTicker
    | Trade
    | AggTrade
    | Kline
    | StreamResponse
    | ServerShutdown
    | UnknownEvent
)

def parse_message(raw: Bytes) -> Event:
    """Parse one market-stream message (raw or combined envelope).

    Raises:
        ParseError: the message is malformed; names the field and byte offset.
    """

def parse_depth_snapshot(raw: Bytes) -> PartialDepth:
    """Parse a REST ``/api/v3/depth`` body."""

def parse_error_body(raw: Bytes) -> ApiErrorBody:
    """Parse a Binance error body ``{"code": ..., "msg": ...}``."""

def parse_order_response(raw: Bytes) -> OrderResponse:
    """Parse an order response (ACK, RESULT or FULL) or a queried order."""

def signed_query(
    signer: Signer,
    params: Mapping[str, ParamValue] | Iterable[tuple[str, ParamValue]],
) -> str:
    """The signed, percent-encoded REST query string, ``signature`` last."""

def ws_api_signature_payload(
    params: Mapping[str, ParamValue] | Iterable[tuple[str, ParamValue]],
) -> str:
    """The WebSocket API signing payload: params sorted by name, joined raw."""

@final
class Tape:
    """A chunk of market events in time order, in columns (prices and quantities in 10^-8
    units, times in microseconds since the epoch)."""

    @staticmethod
    def from_columns(
        kind: list[int], time_us: list[int], price: list[int], qty: list[int]
    ) -> Tape: ...
    def __len__(self) -> int: ...
    @property
    def kind(self) -> npt.NDArray[np.uint8]: ...
    @property
    def time_us(self) -> npt.NDArray[np.int64]: ...
    @property
    def price(self) -> npt.NDArray[np.int64]: ...
    @property
    def qty(self) -> npt.NDArray[np.int64]: ...

@final
class SimEngine:
    """The simulation engine: the tape in, the strategy's orders matched against it, and only
    what the strategy asked for handed back."""

    def __new__(
        cls,
        fill_model_name: str,
        *,
        order_latency_us: int = 0,
        books: bool = True,
        book_every_us: int = 0,
        trades: bool = False,
        timer_us: int = 0,
    ) -> SimEngine: ...
    def feed(self, tape: Tape) -> None:
        """The next chunk of the tape (call when ``advance`` returned code 0)."""
    def settle(self) -> list[tuple[int, int, int, int, int, bool]]:
        """Orders whose latency has passed reach the book now; what that did."""
    def advance(self) -> tuple[int, int, int, int, int, bool]:
        """Run until something is due: ``(code, time_us, order_id, price, qty, flag)``.

        Codes: 0 the tape is used up, 1 a fill (flag: maker), 2 an order ended unfilled: a
        MARKET order expired (flag false) or an order was refused on arrival (flag true,
        ``qty`` the reason as :meth:`submit` returns it), 3 a public trade (flag: the buyer
        took), 4 the best prices changed, 5 the timer.
        """
    def advance_until(self, until_us: int) -> tuple[int, int, int, int, int, bool]:
        """As :meth:`advance`, but process no tape row at or after ``until_us``.

        When nothing is due before it, returns code 6 with the next row's time in ``time_us``
        (the row is left for the next call). A driver of several symbols (one engine each)
        moves each engine only as far as the others' next rows, so every symbol's market
        stands at the same time when the strategy is called.
        """
    def submit(
        self,
        order_id: int,
        buy: bool,
        price: int | None,
        qty: int,
        *,
        order_type: str | None = None,
        stop_price: int | None = None,
    ) -> int:
        """Submit an order now; it reaches the exchange after the order latency.

        Args:
            order_id: The order's id (never reused).
            buy: A BUY (else a SELL).
            price: The limit price in 10^-8 units; None for a MARKET, STOP_LOSS or
                TAKE_PROFIT order.
            qty: The quantity in 10^-8 units.
            order_type: ``LIMIT`` (the default with a price), ``MARKET`` (the default
                without), ``LIMIT_MAKER``, ``STOP_LOSS_LIMIT``, ``TAKE_PROFIT_LIMIT``,
                ``STOP_LOSS`` or ``TAKE_PROFIT``.
            stop_price: The stop orders' trigger in 10^-8 units: the last trade price reaching
                it (a stop-loss BUY at or above, SELL at or below; a take-profit the other
                way) places the order as a LIMIT at ``price`` (the ``_LIMIT`` types), or as a
                MARKET order that walks the book as taker (``STOP_LOSS``, ``TAKE_PROFIT``).

        Returns:
            0 submitted; 1 refused: a post-only order would take; 2 refused: the last trade
            price already reached the stop (Binance's -2010 cases; nothing is submitted).

        Raises:
            BacktestError: a non-positive quantity or price, a post-only order without a
                price, or an id used before.
            ValueError: an unknown order type, a stop price missing or out of place, or a
                price missing (a stop-limit) or out of place (a stop-market).
        """
    @property
    def last_trade(self) -> int | None:
        """The last trade price seen (10^-8 units): what stop orders trigger on."""
    def cancel(self, order_id: int) -> int | None:
        """Cancel an order; its unfilled quantity, or None if it was not open."""
    def set_books(self, every_us: int | None) -> None:
        """Book callbacks at most once per ``every_us`` (0: every change), or off (None)."""
    @property
    def now_us(self) -> int: ...
    @property
    def events(self) -> int: ...
    def best(self) -> tuple[int | None, int | None, int | None, int | None]: ...
    def levels(self, n: int = 20) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]: ...

@final
class BinanceCsvReader:
    """A reader of one of Binance's historical CSV files (``trades``, ``aggTrades``, ``klines``).

    Feed it the file's bytes in order, in chunks of whole lines; each call returns the events of
    its chunk. Times in milliseconds or microseconds become microseconds; prices and quantities
    become exact integers in 10^-8 units; a header row is skipped; a bar becomes four prints
    (open, high, low, close) at its close time.
    """

    def __new__(cls, kind: str, *, source: str | None = None) -> BinanceCsvReader:
        """A reader of ``kind`` (``"trades"``, ``"aggTrades"`` or ``"klines"``).

        ``source`` (the file's name) is put in error messages.

        Raises:
            ValueError: an unknown kind.
        """
    def feed(self, chunk: Bytes) -> Tape:
        """The events of ``chunk``: whole lines (the file's last line may lack its newline).

        Raises:
            DataError: a bad row; the error names the line and the column.
        """
    @property
    def kind(self) -> str:
        """``"trades"``, ``"aggTrades"`` or ``"klines"``."""
    @property
    def lines(self) -> int:
        """Lines read so far."""
    @property
    def rows(self) -> int:
        """Data rows read so far (no header, no blank line)."""

@final
class RecordingReader:
    """A reader of a recording of Binance streams (``<receive_ns> <json>`` lines), one symbol.

    Keeps Binance's local-book procedure over the depth diffs and emits the book (``CLEAR``,
    the snapshot, then each diff) and the trades in exchange time; ``bookTicker`` frames carry
    no exchange time and are skipped.
    """

    def __new__(cls, symbol: str, *, source: str | None = None) -> RecordingReader:
        """A reader keeping ``symbol``; ``source`` (the file's name) is put in error messages.

        Raises:
            ValueError: a symbol that is not letters and digits.
        """
    def feed(self, chunk: Bytes) -> Tape:
        """The events of ``chunk``: whole lines (the file's last line may lack its newline).

        Raises:
            DataError: a bad line or a sequence gap; the error names the line.
        """
    def stats(self) -> dict[str, int]:
        """Counts so far: lines, snapshots, diffs, stale_diffs, trades, book_tickers,
        reconnects, skipped."""

@final
class SynthMarket:
    """A seeded synthetic market calibrated to Binance spot BTCUSDT (docs/market.md).

    Prices and quantities are in units of 10^-8, times in microseconds since the epoch, rates
    per second, volatility and drift annualised. The defaults are BTCUSDT's.

    Raises:
        BacktestError: A setting out of range.
    """

    def __new__(
        cls,
        *,
        seed: int,
        start_us: int = 1_704_067_200_000_000,
        tick: int = 1_000_000,
        step: int = 1_000,
        start_price: int = 6_500_000_000_000,
        size_scale: float = 1.0,
        vol: float = 0.5,
        drift: float = 0.0,
        vol_of_vol: float = 0.7,
        vol_reversion_s: float = 7_200.0,
        tail_dof: float = 4.0,
        jumps_per_day: float = 4.0,
        jump_size: float = 0.004,
        range_half_life_s: float = 0.0,
        taker_rate: float = 8.0,
        branching_fast: float = 0.4,
        branching_slow: float = 0.3,
        informed: float = 0.65,
    ) -> SynthMarket: ...
    def generate(self, until_us: int) -> Tape:
        """The market up to ``until_us`` (whole 100 ms windows, at least one) as a tape."""
    @property
    def now_us(self) -> int:
        """The end of the market generated so far (the start before the first call)."""
    @property
    def seed(self) -> int:
        """The seed the market was made from."""

@final
class RecordingWriter:
    """Writes tapes as a recording of Binance streams for one symbol, the format
    ``tradewire.backtest.data.read_tape`` reads back into the same tape."""

    def __new__(cls, symbol: str) -> RecordingWriter: ...
    def write(self, tape: Tape) -> bytes:
        """The lines of the next chunk of the tape."""
    @property
    def lines(self) -> int:
        """Lines written so far."""

"""Market streams: /ws/<stream> and /stream?streams=, subscriptions, pings and the event fan-out.

Every connection has a bounded send queue: a client that stops reading is cut (its socket
aborted, without waiting on the blocked writer) once its queue passes the bound or one send or
ping takes longer than ``send_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from tradewire.errors import ExchangeRejection
from tradewire.exchange import marketdata
from tradewire.exchange.amounts import fmt
from tradewire.exchange.events import AggTradePrinted, LevelChanged, TradePrinted
from tradewire.exchange.stream_names import StreamName, parse_stream
from tradewire.exchange.timeunit import MILLISECOND, event_in_unit, read_time_unit
from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from decimal import Decimal

    from tradewire.exchange.core import ExchangeCore
    from tradewire.exchange.events import EngineEvent
    from tradewire.exchange.listen_keys import ListenKeys

__all__ = ["StreamConfig", "StreamHub"]

log = logging.getLogger(__name__)
MAX_STREAMS_PER_CONNECTION = 1024
_TICKER_KINDS = frozenset({"ticker", "miniTicker", "windowTicker", "avgPrice"})
_MAX_CLOSED_KLINES = 60  # finals sent at once for one stream after a stalled timer
_ZERO_TEXT = "0.00000000"
_STRING_ID = re.compile(r"[0-9A-Za-z-]{1,36}")


@dataclass(frozen=True)
class StreamConfig:
    """Timings and bounds of the stream server (Binance's defaults; tests shorten them).

    Attributes:
        ping_interval_s: Time between two server pings.
        pong_timeout_s: A connection without a pong for this long is closed.
        max_connection_s: A connection is closed at this age (24 h).
        max_incoming_per_s: Messages a client may send per second (pings, pongs, requests).
        fast_ms: Update speed of the ``@100ms`` depth streams.
        slow_ms: Update speed of the other depth streams.
        kline_ms: Update speed of the kline streams above 1s (Binance: 2000 ms).
        kline_1s_ms: Update speed of the ``kline_1s`` streams (Binance: 1000 ms).
        ticker_ms: Update speed of the ticker and average price streams.
        send_queue_messages: Messages waiting to be sent on one connection before it is cut.
        send_queue_bytes: Bytes waiting to be sent on one connection before it is cut.
        send_timeout_s: A send, ping or close frame taking longer cuts the connection.
    """

    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    max_connection_s: float = 86_400.0
    max_incoming_per_s: int = 5
    fast_ms: int = 100
    slow_ms: int = 1000
    kline_ms: int = 2000
    kline_1s_ms: int = 1000
    ticker_ms: int = 1000
    send_queue_messages: int = 5000
    send_queue_bytes: int = 2 * 2**20
    send_timeout_s: float = 10.0


def _valid_id(req_id: object) -> bool:
    """Binance accepts a 64-bit signed integer, an alphanumeric string of up to 36, or null.

    The string may hold hyphens: a UUID (36 characters with its hyphens) is what Binance's own
    SDKs send.
    """
    if req_id is None:
        return True
    if isinstance(req_id, bool):
        return False
    if isinstance(req_id, int):
        return -(2**63) <= req_id < 2**63
    return isinstance(req_id, str) and _STRING_ID.fullmatch(req_id) is not None


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    combined: bool
    streams: dict[str, StreamName] = field(default_factory=dict)
    queue: deque[str | None] = field(default_factory=deque)
    queued_bytes: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False  # a close is queued, or the connection was cut: send nothing more
    cut: bool = False
    transport: asyncio.BaseTransport | None = None
    last_pong: float = field(default_factory=time.monotonic)
    last_ping: float = 0.0
    incoming: deque[float] = field(default_factory=deque)
    time_scale: int = MILLISECOND  # the connection URL's timeUnit
    listen_keys: dict[str, Callable[[], None]] = field(default_factory=dict)  # key -> detach


@dataclass
class _DepthDiff:
    """Changes accumulated since the last diff event of one speed."""

    first_id: int = 0
    last_id: int = 0
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    sent: int = 0


class StreamHub:
    """Every stream connection, and the events of the engine turned into stream messages.

    ``on_change`` (if given) is called when a connection is accepted or closed and after each
    message sent.
    """

    def __init__(
        self,
        core: ExchangeCore,
        config: StreamConfig,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.core = core
        self.config = config
        self._conns: set[_Conn] = set()
        self._diffs: dict[tuple[str, bool], _DepthDiff] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._last_drop = time.monotonic()
        self._best: dict[str, tuple[object, object]] = {}
        self._traded: set[str] = set()  # symbols that traded since the last ticker update
        self._quoted: set[str] = set()  # symbols whose best bid or ask changed since then
        self._ticker_due: dict[str, int] = {}  # symbol -> last update id, bookTicker not sent
        self._kline_open: dict[bool, dict[str, int]] = {True: {}, False: {}}
        self._on_change = on_change or (lambda: None)
        self.slow_consumers_cut = 0
        self.listen_keys: ListenKeys | None = None  # set when legacy listenKeys are served
        core.engine.subscribe(self.on_event)

    @property
    def connections(self) -> int:
        """How many stream connections are open."""
        return len(self._conns)

    def queued(self) -> tuple[int, int]:
        """(messages, bytes) waiting to be sent, over every connection."""
        return (
            sum(len(c.queue) for c in self._conns),
            sum(c.queued_bytes for c in self._conns),
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timers that flush depth, partial-book, kline and ticker streams."""
        cfg = self.config
        self._tasks = [
            asyncio.create_task(self._every(cfg.fast_ms, fast=True)),
            asyncio.create_task(self._every(cfg.slow_ms, fast=False)),
            asyncio.create_task(self._klines(cfg.kline_1s_ms, one_second=True)),
            asyncio.create_task(self._klines(cfg.kline_ms, one_second=False)),
            asyncio.create_task(self._tickers()),
        ]

    async def stop(self) -> None:
        """Stop the timers and close every connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.gather(*(self._close_socket(conn) for conn in list(self._conns)))

    async def shutdown(self) -> None:
        """Send serverShutdown on every connection, then close them."""
        event = json.dumps({"e": "serverShutdown", "E": self.core.now()}, separators=(",", ":"))
        for conn in list(self._conns):
            self._send(conn, event)
            self._close(conn)

    def drop_all(self) -> None:
        """Cut every connection without a close frame (the drop_streams fault)."""
        for conn in list(self._conns):
            if isinstance(conn.transport, asyncio.Transport):
                conn.transport.abort()

    # --- one connection's send queue -----------------------------------------------------------

    def _send(self, conn: _Conn, text: str) -> None:
        """Queue ``text`` for ``conn``; cut the connection if that passes its queue's bound."""
        if conn.closing:
            return
        cfg = self.config
        if (
            len(conn.queue) >= cfg.send_queue_messages
            or conn.queued_bytes + len(text) > cfg.send_queue_bytes
        ):
            self._cut(conn, "its send queue is full")
            return
        conn.queue.append(text)
        conn.queued_bytes += len(text)
        conn.ready.set()

    def _close(self, conn: _Conn, *, drop_pending: bool = False) -> None:
        """Close ``conn`` with a close frame once what is queued is sent (or dropped)."""
        if conn.closing:
            return
        if drop_pending:
            conn.queue.clear()
            conn.queued_bytes = 0
        conn.closing = True
        conn.queue.append(None)
        conn.ready.set()

    def _cut(self, conn: _Conn, why: str) -> None:
        """Abort a connection that fell behind: its queue is freed, its socket closed at once."""
        if conn.cut:
            return
        log.info("stream connection cut: %s", why)
        conn.closing = conn.cut = True
        conn.queue.clear()
        conn.queued_bytes = 0
        conn.ready.set()
        self.slow_consumers_cut += 1
        if isinstance(conn.transport, asyncio.Transport):
            conn.transport.abort()

    async def _close_socket(self, conn: _Conn) -> None:
        """Close the WebSocket, or abort the socket if the close frame cannot be sent in time."""
        try:
            await within(conn.ws.close(), self.config.send_timeout_s)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            self._cut(conn, "the close frame could not be sent in time")
        except (ConnectionError, RuntimeError):
            return

    # --- publishing ----------------------------------------------------------------------------

    def _publish(self, name_match: str, payload: dict[str, object] | list[object]) -> None:
        raw: str | None = None
        for conn in self._conns:
            if conn.closing or name_match not in conn.streams:
                continue
            data = payload
            if conn.time_scale != MILLISECOND:
                data = event_in_unit(payload, conn.time_scale)
            if conn.combined:
                text = json.dumps({"stream": name_match, "data": data}, separators=(",", ":"))
            elif data is not payload:
                text = json.dumps(data, separators=(",", ":"))
            else:
                if raw is None:
                    raw = json.dumps(payload, separators=(",", ":"))
                text = raw
            self._send(conn, text)

    def _wanted(self, name: str) -> bool:
        return any(name in c.streams for c in self._conns)

    def _subscribed(self, kinds: frozenset[str]) -> dict[str, StreamName]:
        """The streams of these kinds that some open connection listens to, by name."""
        return {
            s.name: s
            for c in self._conns
            if not c.closing
            for s in c.streams.values()
            if s.kind in kinds
        }

    def on_event(self, event: EngineEvent) -> None:
        """Turn an engine event into stream messages (depth changes are batched by the timers)."""
        if isinstance(event, LevelChanged):
            symbol, update_id, buy = event.symbol, event.update_id, event.side == "BUY"
            diffs = self._diffs
            for key in ((symbol, True), (symbol, False)):
                diff = diffs.get(key)
                if diff is None:
                    diff = diffs[key] = _DepthDiff()
                if not diff.first_id:
                    diff.first_id = update_id
                diff.last_id = update_id
                (diff.bids if buy else diff.asks)[event.price] = event.total
            self._book_ticker_soon(symbol, update_id)
        elif isinstance(event, TradePrinted):
            self._traded.add(event.symbol)
            name = f"{event.symbol.lower()}@trade"
            if self._wanted(name):
                t = event.trade
                self._publish(
                    name,
                    {
                        "e": "trade",
                        "E": self.core.now(),
                        "s": event.symbol,
                        "t": t.trade_id,
                        "p": fmt(t.price),
                        "q": fmt(t.qty),
                        "T": t.time,
                        "m": t.buyer_is_maker,
                        "M": True,
                    },
                )
        elif isinstance(event, AggTradePrinted):
            name = f"{event.symbol.lower()}@aggTrade"
            if self._wanted(name):
                self._publish(
                    name,
                    {
                        "e": "aggTrade",
                        "E": self.core.now(),
                        "s": event.symbol,
                        "a": event.agg_id,
                        "p": fmt(event.price),
                        "q": fmt(event.qty),
                        "f": event.first_trade_id,
                        "l": event.last_trade_id,
                        "T": event.time,
                        "m": event.buyer_is_maker,
                        "M": True,
                    },
                )

    def _book_ticker_soon(self, symbol: str, update_id: int) -> None:
        """Send the symbol's bookTicker once the change that is running now is done.

        A market step, or an order that trades through many levels, changes the book many
        times in one go; the stream gets the best bid and ask it ends with (with the last
        update id), not every state in between.
        """
        due = self._ticker_due
        if not due:
            try:
                asyncio.get_running_loop().call_soon(self._send_book_tickers)
            except RuntimeError:  # no loop (the engine used on its own): send it now
                self._book_ticker(symbol, update_id)
                return
        due[symbol] = update_id

    def _send_book_tickers(self) -> None:
        due, self._ticker_due = self._ticker_due, {}
        for symbol, update_id in due.items():
            self._book_ticker(symbol, update_id)

    def _book_ticker(self, symbol: str, update_id: int) -> None:
        best = self.core.engine.best_bid_ask(symbol)
        if self._best.get(symbol) == best:
            return
        self._best[symbol] = best
        self._quoted.add(symbol)
        name = f"{symbol.lower()}@bookTicker"
        if not self._wanted(name):
            return
        bid, ask = best
        self._publish(
            name,
            {
                "u": update_id,
                "s": symbol,
                "b": fmt(bid[0]) if bid else _ZERO_TEXT,
                "B": fmt(bid[1]) if bid else _ZERO_TEXT,
                "a": fmt(ask[0]) if ask else _ZERO_TEXT,
                "A": fmt(ask[1]) if ask else _ZERO_TEXT,
            },
        )

    def flush(self, fast: bool) -> None:
        """Send the depth diffs and partial books of one speed (100 ms or 1000 ms)."""
        suffix = "@100ms" if fast else ""
        faults = self.core.faults
        for symbol in self.core.engine.symbols():
            low = symbol.lower()
            diff = self._diffs.get((symbol, fast))
            if diff is not None and diff.first_id:
                self._diffs[(symbol, fast)] = _DepthDiff(sent=diff.sent + 1)
                every = faults.skip_sequence_every
                if not (every and (diff.sent + 1) % every == 0):
                    payload = {
                        "e": "depthUpdate",
                        "E": self.core.now(),
                        "s": symbol,
                        "U": diff.first_id,
                        "u": diff.last_id,
                        "b": [[fmt(p), fmt(q)] for p, q in diff.bids.items()],
                        "a": [[fmt(p), fmt(q)] for p, q in diff.asks.items()],
                    }
                    self._publish(f"{low}@depth{suffix}", payload)
                    if not fast:
                        self._publish(f"{low}@depth@1000ms", payload)
            for levels in (5, 10, 20):
                name = f"{low}@depth{levels}{suffix}"
                names = [name] if fast else [name, f"{low}@depth{levels}@1000ms"]
                for n in names:
                    if self._wanted(n):
                        depth = self.core.engine.depth(symbol, levels)
                        self._publish(
                            n,
                            {
                                "lastUpdateId": depth.update_id,
                                "bids": [[fmt(p), fmt(q)] for p, q in depth.bids],
                                "asks": [[fmt(p), fmt(q)] for p, q in depth.asks],
                            },
                        )

    async def _every(self, ms: int, *, fast: bool) -> None:
        while True:
            await asyncio.sleep(ms / 1000)
            try:
                self.flush(fast)
                self._drop_fault()
            except Exception:
                log.exception("stream flush failed")

    def _drop_fault(self) -> None:
        every = self.core.faults.drop_streams_every_s
        now = time.monotonic()
        if every and now - self._last_drop >= every:
            self._last_drop = now
            self.drop_all()
        elif not every:
            self._last_drop = now

    # --- klines --------------------------------------------------------------------------------

    async def _klines(self, every_ms: int, *, one_second: bool) -> None:
        """Send the kline streams of one update speed, on that speed's grid of server time.

        Candle boundaries fall on the grid, so a candle's final update goes out as it closes.
        """
        while True:
            await asyncio.sleep((every_ms - self.core.now() % every_ms + 1) / 1000)
            try:
                self.send_klines(one_second=one_second)
            except Exception:
                log.exception("kline flush failed")

    def send_klines(self, *, one_second: bool) -> None:
        """One update of the kline streams of ``1s`` (or of every other interval).

        Each stream gets its current candle with ``x: false``; when candles have closed since
        its last update, it gets their final state with ``x: true`` instead, once per candle.
        """
        sent = self._kline_open[one_second]
        wanted = {
            name: s
            for name, s in self._subscribed(frozenset({"kline"})).items()
            if (s.interval == "1s") == one_second
        }
        for name in [n for n in sent if n not in wanted]:
            del sent[name]
        listed = set(self.core.engine.symbols())
        now = self.core.now()
        for name, stream in wanted.items():
            if stream.symbol not in listed:
                continue
            current = marketdata.interval_start(stream.interval, now)[0]
            previous = sent.get(name)
            sent[name] = current
            if previous is None or previous >= current:
                self._publish_kline(stream, current, now, closed=False)
                continue
            for _ in range(_MAX_CLOSED_KLINES):
                if previous >= current:
                    break
                candle = self._publish_kline(stream, previous, now, closed=True)
                previous = candle.close_time + 1

    def _publish_kline(
        self, stream: StreamName, open_time: int, now: int, *, closed: bool
    ) -> marketdata.Candle:
        candle = marketdata.candle_at(self.core.engine, stream.symbol, stream.interval, open_time)
        self._publish(
            stream.name,
            {
                "e": "kline",
                "E": now,
                "s": stream.symbol,
                "k": {
                    "t": candle.open_time,
                    "T": candle.close_time,
                    "s": stream.symbol,
                    "i": stream.interval,
                    "f": candle.first_id,
                    "L": candle.last_id,
                    "o": fmt(candle.open),
                    "c": fmt(candle.close),
                    "h": fmt(candle.high),
                    "l": fmt(candle.low),
                    "v": fmt(candle.volume),
                    "n": candle.count,
                    "x": closed,
                    "q": fmt(candle.quote_volume),
                    "V": fmt(candle.taker_base),
                    "Q": fmt(candle.taker_quote),
                    "B": "0",
                },
            },
        )
        return candle

    # --- tickers and average price -------------------------------------------------------------

    async def _tickers(self) -> None:
        while True:
            await asyncio.sleep(self.config.ticker_ms / 1000)
            try:
                self.send_tickers()
            except Exception:
                log.exception("ticker flush failed")

    def send_tickers(self) -> None:
        """One update of the ticker, rolling window ticker and average price streams.

        A symbol's stream gets its statistics every update; an all-market array gets the
        symbols that changed since the last update (traded, or for ``!ticker@arr`` also a new
        best bid or ask), and nothing when none did.
        """
        traded, quoted = self._traded, self._quoted
        self._traded, self._quoted = set(), set()
        wanted = self._subscribed(_TICKER_KINDS)
        if not wanted:
            return
        engine = self.core.engine
        now = self.core.now()
        stats: dict[tuple[str, str], marketdata.TickerStats] = {}

        def window(symbol: str, size: str) -> marketdata.TickerStats:
            key = (symbol, size)
            if key not in stats:
                start = now - 86_400_000 if size == "24h" else marketdata.window_open(size, now)
                stats[key] = marketdata.rolling_ticker(engine, symbol, start, now)
            return stats[key]

        def payload(stream: StreamName, symbol: str) -> dict[str, object]:
            if stream.kind == "avgPrice":
                price, last_trade = marketdata.average_price(engine, symbol, now)
                return {
                    "e": "avgPrice",
                    "E": now,
                    "s": symbol,
                    "i": f"{marketdata.AVG_PRICE_MINS}m",
                    "w": fmt(price),
                    "T": last_trade,
                }
            if stream.kind == "windowTicker":
                return _window_ticker(window(symbol, stream.window), stream.window, now)
            day = window(symbol, "24h")
            if stream.kind == "miniTicker":
                return _mini_ticker(day, now)
            return _day_ticker(day, engine.best_bid_ask(symbol), now)

        symbols = engine.symbols()
        for name, stream in wanted.items():
            if stream.every_symbol:
                changed = traded | quoted if stream.kind == "ticker" else traded
                bodies: list[object] = [payload(stream, s) for s in symbols if s in changed]
                if bodies:
                    self._publish(name, bodies)
            elif stream.symbol in symbols:
                self._publish(name, payload(stream, stream.symbol))

    # --- connections ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Serve /ws, /ws/<streams> and /stream on ``app``."""
        app.router.add_get("/ws", self._raw)
        app.router.add_get("/ws/{streams:.*}", self._raw)
        app.router.add_get("/stream", self._combined)

    async def _raw(self, request: web.Request) -> web.StreamResponse:
        """A raw connection: ``/ws/<stream>[/<stream>...]``.

        A path segment that is not a stream name is no error (Binance accepts any, and ccxt.pro
        connects to ``/ws/0``, ``/ws/1``, ... before it subscribes): it adds no stream.
        """
        names = [n for n in request.match_info.get("streams", "").split("/") if n]
        streams = [p for p in map(parse_stream, names) if p is not None]
        return await self._serve(request, streams, combined=False, listen_keys=names)

    async def _combined(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        streams = [parse_stream(n) for n in names]
        if any(
            p is None and not self._is_listen_key(n) for p, n in zip(streams, names, strict=True)
        ):
            return web.Response(status=400, text="Invalid request")
        return await self._serve(
            request, [p for p in streams if p is not None], combined=True, listen_keys=names
        )

    def _is_listen_key(self, name: str) -> bool:
        return self.listen_keys is not None and name in self.listen_keys

    def _attach_listen_keys(self, conn: _Conn, names: Sequence[str]) -> None:
        """Attach ``conn`` to the active legacy listenKeys among ``names`` (not yet attached)."""
        if self.listen_keys is None:
            return
        for name in names:
            if name in conn.listen_keys:
                continue

            def sink(event: dict[str, object] | None, name: str = name) -> None:
                if event is None:
                    self._close(conn)
                    return
                payload = {"stream": name, "data": event} if conn.combined else event
                self._send(conn, json.dumps(payload, separators=(",", ":")))

            detach = self.listen_keys.attach(name, sink)
            if detach is not None:
                conn.listen_keys[name] = detach

    async def _serve(
        self,
        request: web.Request,
        streams: list[StreamName],
        *,
        combined: bool,
        listen_keys: Sequence[str] = (),
    ) -> web.StreamResponse:
        if len(streams) > MAX_STREAMS_PER_CONNECTION:
            return web.Response(status=400, text="Invalid request")
        try:
            time_scale = read_time_unit(request.query.get("timeUnit"))
        except ExchangeRejection as exc:
            return web.json_response(exc.body(), status=exc.status)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=4096)
        await ws.prepare(request)
        conn = _Conn(ws, combined, {p.name: p for p in streams}, time_scale=time_scale)
        conn.transport = request.transport
        self._conns.add(conn)
        self.core.metrics.stream_connections += 1
        self._attach_listen_keys(conn, listen_keys)
        self._on_change()
        writer = asyncio.create_task(self._writer(conn))
        pinger = asyncio.create_task(self._pinger(conn))
        try:
            await self._reader(conn)
        finally:
            for detach in conn.listen_keys.values():
                detach()
            self._conns.discard(conn)
            self._on_change()
            pinger.cancel()
            self._close(conn)
            done, _ = await asyncio.wait([writer], timeout=self.config.send_timeout_s)
            if not done:
                self._cut(conn, "its writer is stuck")
                writer.cancel()
            await asyncio.gather(writer, pinger, return_exceptions=True)
            if not conn.cut:
                await self._close_socket(conn)
        return ws

    async def _writer(self, conn: _Conn) -> None:
        timeout = self.config.send_timeout_s
        try:
            while True:
                while not conn.queue:
                    if conn.cut:
                        return
                    conn.ready.clear()
                    await conn.ready.wait()
                text = conn.queue.popleft()
                if text is None:
                    await self._close_socket(conn)
                    return
                conn.queued_bytes -= len(text)
                await within(conn.ws.send_str(text), timeout)
                self.core.metrics.stream_messages += 1
                self._on_change()
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            self._cut(conn, f"a send took longer than {timeout} s")
        except (ConnectionError, RuntimeError):
            return

    async def _pinger(self, conn: _Conn) -> None:
        cfg = self.config
        opened = time.monotonic()
        try:
            while not conn.closing:
                await asyncio.sleep(min(cfg.ping_interval_s, cfg.pong_timeout_s / 4))
                now = time.monotonic()
                if now - conn.last_pong > cfg.pong_timeout_s or now - opened > cfg.max_connection_s:
                    self._close(conn, drop_pending=True)
                    return
                if now - conn.last_ping >= cfg.ping_interval_s:
                    conn.last_ping = now
                    payload = str(int(time.time() * 1000)).encode()
                    await within(conn.ws.ping(payload), cfg.send_timeout_s)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            self._cut(conn, f"a ping took longer than {cfg.send_timeout_s} s")
        except (ConnectionError, RuntimeError):
            return

    async def _reader(self, conn: _Conn) -> None:
        async for msg in conn.ws:
            if msg.type == WSMsgType.PING:
                try:
                    await within(conn.ws.pong(msg.data), self.config.send_timeout_s)
                except asyncio.TimeoutError:  # not the builtin before Python 3.11
                    self._cut(conn, f"a pong took longer than {self.config.send_timeout_s} s")
                    return
                except (ConnectionError, RuntimeError):
                    return
                if self._over_limit(conn):
                    return
                continue
            if msg.type == WSMsgType.PONG:
                conn.last_pong = time.monotonic()
                continue
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    continue
                return
            if self._over_limit(conn):
                return
            reply = self._control(conn, msg.data)
            self._send(conn, json.dumps(reply, separators=(",", ":")))

    @staticmethod
    def _property(conn: _Conn, method: str, params: object, req_id: object) -> dict[str, object]:
        """SET_PROPERTY / GET_PROPERTY of ``combined``, the one property Binance has."""
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            return {"code": 2, "msg": "Invalid request: property name must be a string"}
        if params[0] != "combined":
            return {"code": 0, "msg": "Unknown property", "id": req_id}
        if method == "GET_PROPERTY":
            return {"result": conn.combined, "id": req_id}
        if len(params) != 2 or not isinstance(params[1], bool):
            return {"code": 1, "msg": "Invalid value type: expected Boolean"}
        conn.combined = params[1]
        return {"result": None, "id": req_id}

    def _over_limit(self, conn: _Conn) -> bool:
        """Count one incoming message; whether the connection went over its per-second limit."""
        now = time.monotonic()
        conn.incoming.append(now)
        while conn.incoming and now - conn.incoming[0] > 1.0:
            conn.incoming.popleft()
        return len(conn.incoming) > self.config.max_incoming_per_s

    def _control(self, conn: _Conn, text: str) -> dict[str, object]:
        """Answer SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS (and their errors) as Binance does."""
        try:
            request = json.loads(text)
        except ValueError:
            return {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}
        if not isinstance(request, dict):
            return {"code": 2, "msg": "Invalid request: expected an object"}
        req_id = request.get("id")
        if not _valid_id(req_id):
            return {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}
        method = request.get("method")
        params = request.get("params", [])
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            return self._property(conn, method, params, req_id)
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                return {
                    "code": 2,
                    "msg": "Invalid request: params must be an array of strings",
                    "id": req_id,
                }
            # A legacy listenKey is a stream name too (binance-connector's user_data() sends one).
            keys = [n for n in params if parse_stream(n) is None and self._is_listen_key(n)]
            parsed = [parse_stream(p) for p in params if p not in keys]
            if any(p is None for p in parsed):
                return {"code": 2, "msg": "Invalid request: invalid stream name", "id": req_id}
            for p in parsed:
                assert p is not None
                if method == "SUBSCRIBE":
                    if len(conn.streams) >= MAX_STREAMS_PER_CONNECTION:
                        return {"code": 2, "msg": "Invalid request: too many streams", "id": req_id}
                    conn.streams[p.name] = p
                else:
                    conn.streams.pop(p.name, None)
            if method == "SUBSCRIBE":
                self._attach_listen_keys(conn, keys)
            else:
                for key in keys:
                    detach = conn.listen_keys.pop(key, None)
                    if detach is not None:
                        detach()
            return {"result": None, "id": req_id}
        if method is None:
            return {"code": 2, "msg": "Invalid request: missing field `method`", "id": req_id}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": [*conn.streams, *conn.listen_keys], "id": req_id}
        return {
            "code": 2,
            "msg": f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
            "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
            "id": req_id,
        }


def _best_text(
    best: tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None],
) -> tuple[str, str, str, str]:
    bid, ask = best
    return (
        fmt(bid[0]) if bid else _ZERO_TEXT,
        fmt(bid[1]) if bid else _ZERO_TEXT,
        fmt(ask[0]) if ask else _ZERO_TEXT,
        fmt(ask[1]) if ask else _ZERO_TEXT,
    )


def _day_ticker(
    t: marketdata.TickerStats,
    best: tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None],
    now: int,
) -> dict[str, object]:
    """A ``<symbol>@ticker`` event (24hrTicker), fields in the order the docs list them."""
    bid, bid_qty, ask, ask_qty = _best_text(best)
    return {
        "e": "24hrTicker",
        "E": now,
        "s": t.symbol,
        "p": t.price_change,
        "P": t.price_change_percent,
        "w": t.weighted_average,
        "x": fmt(t.previous),
        "c": fmt(t.last),
        "Q": fmt(t.last_qty),
        "b": bid,
        "B": bid_qty,
        "a": ask,
        "A": ask_qty,
        "o": fmt(t.open),
        "h": fmt(t.high),
        "l": fmt(t.low),
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
        "O": t.open_time,
        "C": t.close_time,
        "F": t.first_id,
        "L": t.last_id,
        "n": t.count,
    }


def _mini_ticker(t: marketdata.TickerStats, now: int) -> dict[str, object]:
    """A ``<symbol>@miniTicker`` event (24hrMiniTicker)."""
    return {
        "e": "24hrMiniTicker",
        "E": now,
        "s": t.symbol,
        "c": fmt(t.last),
        "o": fmt(t.open),
        "h": fmt(t.high),
        "l": fmt(t.low),
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
    }


def _window_ticker(t: marketdata.TickerStats, window: str, now: int) -> dict[str, object]:
    """A ``<symbol>@ticker_<window>`` event (``1hTicker``, ``4hTicker``, ``1dTicker``)."""
    return {
        "e": f"{window}Ticker",
        "E": now,
        "s": t.symbol,
        "p": t.price_change,
        "P": t.price_change_percent,
        "o": fmt(t.open),
        "h": fmt(t.high),
        "l": fmt(t.low),
        "c": fmt(t.last),
        "w": t.weighted_average,
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
        "O": t.open_time,
        "C": t.close_time,
        "F": t.first_id,
        "L": t.last_id,
        "n": t.count,
    }

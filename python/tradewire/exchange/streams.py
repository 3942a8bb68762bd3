"""Market streams: /ws/<stream> and /stream?streams=, subscriptions, pings and the event fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from tradewire.exchange import marketdata
from tradewire.exchange.amounts import ZERO, fmt
from tradewire.exchange.events import AggTradePrinted, LevelChanged, TradePrinted
from tradewire.exchange.stream_names import StreamName, parse_stream

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from tradewire.exchange.core import ExchangeCore
    from tradewire.exchange.events import EngineEvent

__all__ = ["StreamConfig", "StreamHub"]

log = logging.getLogger(__name__)
MAX_STREAMS_PER_CONNECTION = 1024
_SEND_QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class StreamConfig:
    """Timings of the stream server (Binance's defaults; tests shorten them)."""

    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    max_connection_s: float = 86_400.0
    max_incoming_per_s: int = 5
    fast_ms: int = 100
    slow_ms: int = 1000
    kline_ms: int = 1000


def _valid_id(req_id: object) -> bool:
    """Binance accepts a 64-bit signed integer, an alphanumeric string of up to 36, or null."""
    if req_id is None:
        return True
    if isinstance(req_id, bool):
        return False
    if isinstance(req_id, int):
        return -(2**63) <= req_id < 2**63
    return isinstance(req_id, str) and len(req_id) <= 36 and req_id.isalnum()


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    combined: bool
    streams: dict[str, StreamName] = field(default_factory=dict)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    transport: asyncio.BaseTransport | None = None
    last_pong: float = field(default_factory=time.monotonic)
    last_ping: float = 0.0
    incoming: deque[float] = field(default_factory=deque)


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
        self._on_change = on_change or (lambda: None)
        core.engine.subscribe(self.on_event)

    @property
    def connections(self) -> int:
        """How many stream connections are open."""
        return len(self._conns)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timers that flush depth, partial-book and kline streams."""
        self._tasks = [
            asyncio.create_task(self._every(self.config.fast_ms, fast=True)),
            asyncio.create_task(self._every(self.config.slow_ms, fast=False)),
            asyncio.create_task(self._klines()),
        ]

    async def stop(self) -> None:
        """Stop the timers and close every connection."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for conn in list(self._conns):
            await conn.ws.close()

    async def shutdown(self) -> None:
        """Send serverShutdown on every connection, then close them."""
        event = json.dumps({"e": "serverShutdown", "E": self.core.now()}, separators=(",", ":"))
        for conn in list(self._conns):
            conn.queue.put_nowait(event)
            conn.queue.put_nowait(None)

    def drop_all(self) -> None:
        """Cut every connection without a close frame (the drop_streams fault)."""
        for conn in list(self._conns):
            if isinstance(conn.transport, asyncio.Transport):
                conn.transport.abort()

    # --- publishing ----------------------------------------------------------------------------

    def _publish(self, name_match: str, payload: dict[str, object] | list[object]) -> None:
        raw: str | None = None
        for conn in self._conns:
            if name_match not in conn.streams:
                continue
            if conn.combined:
                text = json.dumps({"stream": name_match, "data": payload}, separators=(",", ":"))
            else:
                if raw is None:
                    raw = json.dumps(payload, separators=(",", ":"))
                text = raw
            if conn.queue.qsize() > _SEND_QUEUE_LIMIT:
                conn.queue.put_nowait(None)
                continue
            conn.queue.put_nowait(text)

    def _wanted(self, name: str) -> bool:
        return any(name in c.streams for c in self._conns)

    def on_event(self, event: EngineEvent) -> None:
        """Turn an engine event into stream messages (depth changes are batched by the timers)."""
        if isinstance(event, LevelChanged):
            for fast in (True, False):
                diff = self._diffs.setdefault((event.symbol, fast), _DepthDiff())
                if not diff.first_id:
                    diff.first_id = event.update_id
                diff.last_id = event.update_id
                (diff.bids if event.side == "BUY" else diff.asks)[event.price] = event.total
            self._book_ticker(event.symbol, event.update_id)
        elif isinstance(event, TradePrinted):
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

    def _book_ticker(self, symbol: str, update_id: int) -> None:
        best = self.core.engine.best_bid_ask(symbol)
        if self._best.get(symbol) == best:
            return
        self._best[symbol] = best
        name = f"{symbol.lower()}@bookTicker"
        if not self._wanted(name):
            return
        bid, ask = best
        self._publish(
            name,
            {
                "u": update_id,
                "s": symbol,
                "b": fmt(bid[0]) if bid else "0.00000000",
                "B": fmt(bid[1]) if bid else "0.00000000",
                "a": fmt(ask[0]) if ask else "0.00000000",
                "A": fmt(ask[1]) if ask else "0.00000000",
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

    async def _klines(self) -> None:
        while True:
            await asyncio.sleep(self.config.kline_ms / 1000)
            try:
                self._send_klines()
            except Exception:
                log.exception("kline flush failed")

    def _send_klines(self) -> None:
        wanted = {s for c in self._conns for s in c.streams.values() if s.kind == "kline"}
        listed = set(self.core.engine.symbols())
        now = self.core.now()
        for stream in wanted:
            if stream.symbol not in listed:
                continue
            start, end = marketdata.interval_start(stream.interval, now)
            recent = self.core.engine.recent_trades(stream.symbol, since=start)
            last = self.core.engine.last_price(stream.symbol) or ZERO
            candle = marketdata.Candle(start, end, last, -1)
            candle.last_id = -1
            if recent:
                candle = marketdata.candles(recent, stream.interval)[-1]
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
                        "x": False,
                        "q": fmt(candle.quote_volume),
                        "V": fmt(candle.taker_base),
                        "Q": fmt(candle.taker_quote),
                        "B": "0",
                    },
                },
            )

    # --- connections ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Serve /ws, /ws/<streams> and /stream on ``app``."""
        app.router.add_get("/ws", self._raw)
        app.router.add_get("/ws/{streams:.*}", self._raw)
        app.router.add_get("/stream", self._combined)

    async def _raw(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.match_info.get("streams", "").split("/") if n]
        return await self._serve(request, names, combined=False)

    async def _combined(self, request: web.Request) -> web.StreamResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]
        return await self._serve(request, names, combined=True)

    async def _serve(
        self, request: web.Request, names: list[str], *, combined: bool
    ) -> web.StreamResponse:
        parsed = [parse_stream(n) for n in names]
        if any(p is None for p in parsed) or len(parsed) > MAX_STREAMS_PER_CONNECTION:
            return web.Response(status=400, text="Invalid request")
        ws = web.WebSocketResponse(autoping=False, max_msg_size=4096)
        await ws.prepare(request)
        conn = _Conn(ws, combined, {p.name: p for p in parsed if p is not None})
        conn.transport = request.transport
        self._conns.add(conn)
        self.core.metrics.stream_connections += 1
        self._on_change()
        writer = asyncio.create_task(self._writer(conn))
        pinger = asyncio.create_task(self._pinger(conn))
        try:
            await self._reader(conn)
        finally:
            self._conns.discard(conn)
            self._on_change()
            pinger.cancel()
            conn.queue.put_nowait(None)
            await asyncio.gather(writer, pinger, return_exceptions=True)
            await ws.close()
        return ws

    async def _writer(self, conn: _Conn) -> None:
        try:
            while True:
                text = await conn.queue.get()
                if text is None:
                    await conn.ws.close()
                    return
                await conn.ws.send_str(text)
                self.core.metrics.stream_messages += 1
                self._on_change()
        except (ConnectionError, RuntimeError):
            return

    async def _pinger(self, conn: _Conn) -> None:
        cfg = self.config
        opened = time.monotonic()
        try:
            while not conn.ws.closed:
                await asyncio.sleep(min(cfg.ping_interval_s, cfg.pong_timeout_s / 4))
                now = time.monotonic()
                if now - conn.last_pong > cfg.pong_timeout_s or now - opened > cfg.max_connection_s:
                    conn.queue.put_nowait(None)
                    return
                if now - conn.last_ping >= cfg.ping_interval_s:
                    conn.last_ping = now
                    await conn.ws.ping(str(int(time.time() * 1000)).encode())
        except (ConnectionError, RuntimeError):
            return

    async def _reader(self, conn: _Conn) -> None:
        async for msg in conn.ws:
            if msg.type == WSMsgType.PING:
                await conn.ws.pong(msg.data)
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
            conn.queue.put_nowait(json.dumps(reply, separators=(",", ":")))

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
            parsed = [parse_stream(p) for p in params]
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
            return {"result": None, "id": req_id}
        if method is None:
            return {"code": 2, "msg": "Invalid request: missing field `method`", "id": req_id}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": list(conn.streams), "id": req_id}
        return {
            "code": 2,
            "msg": f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
            "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
            "id": req_id,
        }

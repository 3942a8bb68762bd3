"""LocalExchange: the aiohttp server that puts the exchange on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from tradewire.exchange import rest
from tradewire.exchange.calibrated import CalibratedMarket
from tradewire.exchange.core import ExchangeCore
from tradewire.exchange.faults import Faults
from tradewire.exchange.listen_keys import LISTEN_KEY_METHODS, LISTEN_KEY_ROUTES, ListenKeys
from tradewire.exchange.marketmaker import SyntheticMarket
from tradewire.exchange.ratelimit import Limits
from tradewire.exchange.readiness import ChangeSignal
from tradewire.exchange.replay import DepthReplay, RecordingReplay, is_depth_file
from tradewire.exchange.store import Store
from tradewire.exchange.streams import StreamConfig, StreamHub
from tradewire.exchange.symbols import ALL_ORDER_TYPES, spec_for
from tradewire.exchange.userdata import UserDataHub
from tradewire.exchange.wsapi import WsApi, WsApiConfig

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import TracebackType

__all__ = ["LocalExchange"]

log = logging.getLogger(__name__)


class LocalExchange:
    """A Binance-compatible exchange on 127.0.0.1: REST, market streams and the WebSocket API.

    Use it as ``async with LocalExchange(symbols=("BTCUSDT",)) as ex:``; it listens on an
    ephemeral port unless ``port`` is given.

    Args:
        symbols: The symbols to list (built-in specs for common pairs, else derived from the name).
        seed: Seed of the synthetic market: the same seed gives the same market.
        request_weight_per_minute: REQUEST_WEIGHT limit per IP (reported in exchangeInfo).
        orders_per_10s: ORDERS limit per account per 10 s; ``orders_per_day`` per day.
        ban_after_violations: Requests past a 429 in the same window before the 418 ban.
        ban_ms: Length of a 418 ban.
        host: Address to listen on; ``port``: 0 for an ephemeral port.
        market: ``"synthetic"`` (the default: a small seeded random walk, quick and calm, for
            tests), ``"calibrated"`` (the synthetic market backtests use, calibrated to
            BTCUSDT: docs/market.md), or ``"none"`` (books hold only accounts' orders).
        market_speed: With ``"calibrated"``: market time runs this many times faster than the
            clock (a demo shows an hour in 30 s at 120).
        market_vol: With ``"calibrated"``: the annualised volatility (0.5 by default).
        replay: File(s) that drive the books instead of the synthetic market: recordings of
            Binance streams (``<receive_ns> <json>`` lines, as ``tradewire record`` and
            ``tradewire data synth`` write them; gzip if .gz), Binance ``trades``,
            ``aggTrades`` or ``klines`` CSV files, or the older depthUpdate JSONL files (one
            event per step). Their symbols must be listed. When the data ends the market stops
            moving (:attr:`market_ended`) and the exchange keeps serving.
        replay_speed: With a recording or CSV replay: market time runs this many times faster
            than the clock (1 by default: real time).
        market_interval_ms: Time between two steps of the market.
        streams: Stream timings (ping interval, pong timeout, depth speeds, ...).
        ws_api: WebSocket-API limits (unread replies queued, send timeout, pings).
        db: SQLite file keeping keys, balances, orders and fills (default: in memory).
        legacy_listen_key: Also serve the listenKey user data stream Binance retired on
            2026-02-20 (REST ``/api/v3/userDataStream``, ``/ws/<listenKey>``, WebSocket API
            ``userDataStream.start``/``ping``/``stop``). Off by default, as on Binance: those
            routes then answer as unknown ones.
        order_types: The order types every symbol lists in exchangeInfo and accepts (default:
            those of the bundled 2021 exchangeInfo, without the stop-market STOP_LOSS and
            TAKE_PROFIT; ``exchange.symbols.ALL_ORDER_TYPES`` lists them too).

    Tests wait on the exchange rather than sleep: :meth:`wait_for` takes any predicate and
    re-checks it on every change; :meth:`wait_for_steps`, :meth:`wait_for_stream_connections`,
    :meth:`wait_for_user_data` and :meth:`wait_for_faults` cover the common cases.
    """

    def __init__(
        self,
        symbols: Iterable[str] = ("BTCUSDT", "ETHUSDT"),
        *,
        seed: int = 1,
        request_weight_per_minute: int = 6000,
        orders_per_10s: int = 50,
        orders_per_day: int = 160_000,
        ban_after_violations: int = 10,
        ban_ms: int = 120_000,
        host: str = "127.0.0.1",
        port: int = 0,
        market: str = "synthetic",
        replay: str | Path | Iterable[str | Path] | None = None,
        replay_speed: float = 1.0,
        market_interval_ms: int = 100,
        market_speed: float = 1.0,
        market_vol: float = 0.5,
        streams: StreamConfig | None = None,
        ws_api: WsApiConfig | None = None,
        db: str | Path | None = None,
        legacy_listen_key: bool = False,
        order_types: Iterable[str] | None = None,
    ) -> None:
        self.host = host
        self._port = port
        self.seed = seed
        limits = Limits(
            request_weight_per_minute=request_weight_per_minute,
            orders_per_10s=orders_per_10s,
            orders_per_day=orders_per_day,
            ban_after_violations=ban_after_violations,
            ban_ms=ban_ms,
        )
        specs = [spec_for(s) for s in symbols]
        if order_types is not None:
            types = tuple(order_types)
            unknown = sorted(set(types) - set(ALL_ORDER_TYPES))
            if unknown:
                raise ValueError(f"unknown order types {unknown}: any of {list(ALL_ORDER_TYPES)}")
            specs = [replace(spec, order_types=types) for spec in specs]
        self.core = ExchangeCore(specs, limits)
        engine = self.core.engine
        self._signal = ChangeSignal()
        self.store = Store(str(db) if db is not None else ":memory:")
        self._next_account = self.store.restore(engine, self.core.keys)
        self.store.attach(engine)
        engine.subscribe(lambda _event: self._signal.changed())
        self.streams = StreamHub(self.core, streams or StreamConfig(), self._signal.changed)
        self.userdata = UserDataHub(engine, self._signal.changed)
        self.listen_keys: ListenKeys | None = None
        if legacy_listen_key:
            self.listen_keys = ListenKeys(self.userdata, self.core.now)
            self.core.listen_keys = self.streams.listen_keys = self.listen_keys
        self.wsapi = WsApi(
            self.core,
            self.userdata,
            self._signal.changed,
            ws_api,
            LISTEN_KEY_METHODS if legacy_listen_key else None,
        )
        self.market: SyntheticMarket | CalibratedMarket | DepthReplay | RecordingReplay | None = (
            None
        )
        if replay is not None:
            files = [Path(replay)] if isinstance(replay, (str, Path)) else [Path(p) for p in replay]
            depth_files = [is_depth_file(p) for p in files]
            if all(depth_files):
                self.market = DepthReplay(engine, files)
            elif any(depth_files):
                raise ValueError(
                    "replay either depthUpdate JSONL files or recordings and Binance CSV files, "
                    "not both at once"
                )
            else:
                self.market = RecordingReplay(
                    engine, files, interval_ms=market_interval_ms, speed=replay_speed
                )
        elif market == "synthetic":
            self.market = SyntheticMarket(engine, seed)
        elif market == "calibrated":
            self.market = CalibratedMarket(
                engine,
                seed,
                interval_ms=market_interval_ms,
                speed=market_speed,
                vol=market_vol,
            )
        elif market != "none":
            raise ValueError("market is 'synthetic', 'calibrated' or 'none' (or give replay=PATH)")
        self.market_interval_ms = market_interval_ms
        self._paused = False
        self._steps = 0
        self._market_task: asyncio.Task[None] | None = None
        self._relisten_task: asyncio.Task[None] | None = None
        self._fault_rng = random.Random(f"faults:{seed}")
        self.core.faults = Faults(rng=self._fault_rng)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        rest.add_routes(app, self.core, LISTEN_KEY_ROUTES if self.listen_keys is not None else None)
        self.streams.add_routes(app)
        self.wsapi.add_routes(app)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_shutdown(self, _app: web.Application) -> None:
        if self.listen_keys is not None:
            self.listen_keys.stop()
        await self.streams.stop()
        await self.wsapi.close_all()

    async def start(self) -> None:
        """Bind and start serving."""
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self._port)
        await self._site.start()
        server = self._site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]
        if self.market is not None:
            self.market.open()
            self._market_task = asyncio.create_task(self._drive_market())
        self.streams.start()

    async def _drive_market(self) -> None:
        assert self.market is not None
        loop = asyncio.get_running_loop()
        interval = self.market_interval_ms / 1000
        # A market whose time runs with the clock (calibrated, recording) steps on a schedule:
        # a step's own time is not added to the interval, a late step runs at once, and lost
        # time is not made up with a burst. The others sleep the interval between steps. The
        # loop ends with the data of a replay.
        timed = isinstance(self.market, (CalibratedMarket, RecordingReplay))
        due = loop.time()
        while not self.market_ended:
            due = max(due + interval, loop.time()) if timed else loop.time() + interval
            # never a busy loop: the server gets a tenth of the interval even when late
            await asyncio.sleep(max(due - loop.time(), interval / 10))
            if self._paused:
                continue
            try:
                self._step()
            except Exception:
                log.exception("market step failed")

    def _step(self) -> None:
        assert self.market is not None
        try:
            self.market.step()
        finally:
            self._steps += 1
            self._signal.changed()

    async def stop(self) -> None:
        """Stop serving and release the port."""
        for task in (self._market_task, self._relisten_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._market_task = self._relisten_task = None
        if isinstance(self.market, RecordingReplay):
            self.market.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.store.close()

    async def __aenter__(self) -> LocalExchange:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._port

    @property
    def rest_url(self) -> str:
        """Base URL of the REST API (what https://api.binance.com is to Binance)."""
        return f"http://{self.host}:{self._port}"

    @property
    def stream_url(self) -> str:
        """Base URL of the market streams (serves /ws/<stream> and /stream?streams=)."""
        return f"ws://{self.host}:{self._port}"

    @property
    def ws_api_url(self) -> str:
        """URL of the WebSocket API."""
        return f"ws://{self.host}:{self._port}/ws-api/v3"

    # --- accounts and keys ---------------------------------------------------------------------

    def add_key(
        self,
        secret: str,
        permissions: Iterable[str] = ("reading", "spot"),
        ip_whitelist: Iterable[str] | None = None,
        balances: Mapping[str, Decimal | str | int] | None = None,
        api_key: str | None = None,
        account_of: str | None = None,
    ) -> str:
        """Register a key (HMAC secret or PEM public key); returns the API key.

        The key gets a new account, or with ``account_of`` the account of that existing key (a
        second key for the same account, as when a key is rotated). ``api_key`` picks the key
        string (64 letters and digits) instead of a random one.
        """
        if account_of is not None:
            owner = self.core.keys.get(account_of)
            if owner is None:
                raise KeyError(f"no key {account_of!r} on this exchange")
            if balances is not None:
                raise ValueError("balances belong to the account: give them to its first key")
            account = owner.account
        else:
            account = self._next_account
            self._next_account += 1
            self.core.engine.open_account(
                account, None if balances is None else {a: Decimal(v) for a, v in balances.items()}
            )
        key = self.core.keys.add(
            secret,
            account,
            tuple(permissions),
            tuple(ip_whitelist) if ip_whitelist is not None else None,
            self.core.now(),
            api_key=api_key,
        )
        self.store.save_key(key)
        self.store.save_account(self.core.engine.account(account))
        return key.api_key

    def remove_key(self, api_key: str) -> None:
        """Delete a key: requests signed with it are refused from now on (its account stays).

        WebSocket-API sessions logged on with it are logged out, and the user data
        subscriptions it opened end with ``eventStreamTerminated``; its legacy listenKeys end
        and their streams get ``listenKeyExpired``.
        """
        if self.core.keys.remove(api_key) is None:
            raise KeyError(f"no key {api_key!r} on this exchange")
        self.store.delete_key(api_key)
        self.wsapi.end_key(api_key)
        if self.listen_keys is not None:
            self.listen_keys.end_key(api_key)

    def load_keys(self, path: str | Path) -> list[str]:
        """Register the keys listed in a JSON file; returns their API keys.

        The file is a list of objects with ``secret`` (or ``public_key_file``, a PEM file next to
        it), and optionally ``api_key``, ``permissions``, ``ip_whitelist`` and ``balances``. A key
        already registered (restored from the database) is left as it is.
        """
        path = Path(path)
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise ValueError("a keys file holds a JSON list of keys")
        out = []
        for entry in entries:
            secret = entry.get("secret")
            if secret is None:
                secret = (path.parent / entry["public_key_file"]).read_text(encoding="utf-8")
            api_key = entry.get("api_key")
            if api_key is not None and self.core.keys.get(api_key) is not None:
                out.append(api_key)
                continue
            out.append(
                self.add_key(
                    secret,
                    permissions=entry.get("permissions", ("reading", "spot")),
                    ip_whitelist=entry.get("ip_whitelist"),
                    balances=entry.get("balances"),
                    api_key=api_key,
                )
            )
        return out

    def set_faults(
        self,
        clock_skew_ms: int = 0,
        delay_ms: int = 0,
        error_after_accept: float = 0.0,
        skip_sequence_every: int = 0,
        drop_streams_every_s: float = 0,
        refuse_connections: bool = False,
    ) -> None:
        """Turn faults on (each argument) or all off (no arguments).

        The random draws behind ``error_after_accept`` continue across calls (one sequence per
        exchange, seeded from ``seed``), so setting faults again does not replay the same draws.
        """
        was_refusing = self.core.faults.refuse_connections
        self.core.faults = Faults(
            clock_skew_ms=clock_skew_ms,
            delay_ms=delay_ms,
            error_after_accept=error_after_accept,
            skip_sequence_every=skip_sequence_every,
            drop_streams_every_s=drop_streams_every_s,
            refuse_connections=refuse_connections,
            rng=self._fault_rng,
        )
        if refuse_connections:
            self._stop_listening()  # at once: open connections carry on
        elif (
            was_refusing
            and self._runner is not None
            and (self._relisten_task is None or self._relisten_task.done())
        ):
            # One re-listen at a time: a quick off/on/off while it starts is settled by it.
            self._relisten_task = asyncio.ensure_future(self._relisten())
            self._relisten_task.add_done_callback(lambda _task: self._signal.changed())
        self._signal.changed()

    def _listening(self) -> bool:
        server = self._site._server if self._site is not None else None
        return server is not None and server.is_serving()

    def _stop_listening(self) -> None:
        server = self._site._server if self._site is not None else None
        if server is not None:
            server.close()

    async def _relisten(self) -> None:
        assert self._runner is not None
        if self.core.faults.refuse_connections or self._listening():
            return
        site = web.TCPSite(self._runner, self.host, self._port, reuse_address=True)
        await site.start()
        self._site = site
        if self.core.faults.refuse_connections:  # refused again while the socket opened
            self._stop_listening()

    async def server_shutdown(self) -> None:
        """Send serverShutdown on every stream connection, then close them."""
        await self.streams.shutdown()
        await asyncio.sleep(0)

    def pause(self) -> None:
        """Stop the market's own flow (books stay as they are); no step runs after this returns."""
        self._paused = True

    def resume(self) -> None:
        """Restart the market's own flow."""
        self._paused = False

    def advance(self, steps: int = 1) -> None:
        """Run ``steps`` steps of the market now (deterministic for a given seed)."""
        if self.market is not None:
            for _ in range(steps):
                self._step()

    def deposit(self, api_key: str, asset: str, amount: Decimal | str | int) -> None:
        """Credit (or, if negative, debit) an account's free balance; sends balanceUpdate."""
        key = self.core.keys.get(api_key)
        if key is None:
            raise KeyError("unknown API key")
        self.core.engine.deposit(key.account, asset, Decimal(amount))

    def server_time(self) -> int:
        """The exchange's clock in ms, as ``GET /api/v3/time`` reports it (skew fault included)."""
        return self.core.now()

    def metrics(self) -> dict[str, int]:
        """Counters: requests, responses_429, responses_418, orders_placed, stream_messages, ..."""
        return self.core.metrics.as_dict()

    # --- readiness: waiting on the exchange instead of sleeping --------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,
        poll_s: float | None = 0.05,
    ) -> None:
        """Return once ``predicate()`` is true; raise TimeoutError after ``timeout`` seconds.

        The predicate is re-checked after every change the exchange makes or sees: each engine
        event (an order placed, traded or cancelled, a balance change, a book level, a trade),
        each market step, each stream connection accepted or closed and stream message sent,
        each WebSocket-API session opened or closed, each user data subscription and each
        ``set_faults``; and at least every ``poll_s`` seconds, so it may also look at a client's
        state (None: only on changes). For example, in a test:
        ``await ex.wait_for(lambda: ex.metrics()["orders_placed"] >= 3)``.
        """
        await self._signal.wait_for(predicate, timeout=timeout, poll_s=poll_s)

    @property
    def market_ended(self) -> bool:
        """Whether a replay's data has ended (the market no longer moves; the exchange serves on).

        Wait for it with ``await ex.wait_for(lambda: ex.market_ended, timeout=...)``.
        """
        return isinstance(self.market, (RecordingReplay, DepthReplay)) and self.market.ended

    @property
    def market_end_message(self) -> str | None:
        """One line saying which replay ended after how much market time (None until then)."""
        if isinstance(self.market, (RecordingReplay, DepthReplay)):
            return self.market.end_message
        return None

    @property
    def market_steps(self) -> int:
        """How many steps the market has run (by its timer and by :meth:`advance`)."""
        return self._steps

    async def wait_for_steps(self, steps: int = 1, *, timeout: float = 5.0) -> int:
        """Wait until the market has run ``steps`` more steps; returns :attr:`market_steps`.

        Raises ValueError without a market (``market="none"``); times out while paused.
        """
        if self.market is None:
            raise ValueError("this exchange has no market flow to wait for")
        target = self._steps + steps
        await self._signal.wait_for(
            lambda: self._steps >= target,
            timeout=timeout,
            poll_s=None,
            what=f"{steps} market steps",
        )
        return self._steps

    @property
    def stream_connections(self) -> int:
        """How many market-stream connections are open."""
        return self.streams.connections

    async def wait_for_stream_connections(self, count: int, *, timeout: float = 5.0) -> None:
        """Wait until exactly ``count`` market-stream connections are open.

        ``count=1`` after connecting: the server has accepted the connection and will send it
        every event from now on. ``count=0``: every connection is closed or dropped.
        """
        await self._signal.wait_for(
            lambda: self.streams.connections == count,
            timeout=timeout,
            poll_s=None,
            what=f"{count} open stream connections",
        )

    def user_data_subscriptions(self, api_key: str | None = None) -> int:
        """How many user data subscriptions are active (for ``api_key``'s account, or in all)."""
        if api_key is None:
            return self.userdata.count()
        key = self.core.keys.get(api_key)
        if key is None:
            raise KeyError(f"no key {api_key!r} on this exchange")
        return self.userdata.count(key.account)

    async def wait_for_user_data(
        self, api_key: str | None = None, *, subscriptions: int = 1, timeout: float = 5.0
    ) -> None:
        """Wait until exactly ``subscriptions`` user data subscriptions are active.

        Counts those of ``api_key``'s account, or all of them. Once it returns, every event of
        the account reaches the subscriber (``subscriptions=0``: no subscription is left).
        """
        await self._signal.wait_for(
            lambda: self.user_data_subscriptions(api_key) == subscriptions,
            timeout=timeout,
            poll_s=None,
            what=f"{subscriptions} user data subscriptions",
        )

    def end_user_data_streams(self) -> int:
        """End every user data subscription with ``eventStreamTerminated``; returns how many.

        Binance sends that event when it ends a subscription; clients should subscribe again.
        """
        return self.wsapi.end_user_data_streams()

    async def wait_for_faults(self, *, timeout: float = 5.0) -> None:
        """Wait until the last :meth:`set_faults` has taken full effect.

        Every fault applies when ``set_faults`` returns but one: clearing
        ``refuse_connections`` opens the listening socket again in the background; this waits
        for it (and raises what went wrong, if it could not listen).
        """
        await self._signal.wait_for(
            lambda: self._relisten_task is None or self._relisten_task.done(),
            timeout=timeout,
            poll_s=None,
            what="the faults to take effect",
        )
        if self._relisten_task is not None:
            self._relisten_task.result()

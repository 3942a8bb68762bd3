"""LocalExchange: the aiohttp server that puts the exchange on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from tradewire.exchange import rest
from tradewire.exchange.core import ExchangeCore
from tradewire.exchange.faults import Faults
from tradewire.exchange.ratelimit import Limits
from tradewire.exchange.symbols import spec_for

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

__all__ = ["LocalExchange"]

log = logging.getLogger(__name__)


class LocalExchange:
    """A Binance-compatible exchange on 127.0.0.1: REST, market streams and the WebSocket API.

    Use it as ``async with LocalExchange(symbols=("BTCUSDT",)) as ex:``; it listens on an
    ephemeral port unless ``port`` is given.
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
        self.core = ExchangeCore([spec_for(s) for s in symbols], limits)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._next_account = 1

    # --- lifecycle -----------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        rest.add_routes(app, self.core)
        return app

    async def start(self) -> None:
        """Bind and start serving."""
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self._port)
        await self._site.start()
        server = self._site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
    ) -> str:
        """Register a key (HMAC secret or PEM public key) with a new account; returns the API key."""
        account = self._next_account
        self._next_account += 1
        self.core.venue.open_account(
            account, None if balances is None else {a: Decimal(v) for a, v in balances.items()}
        )
        key = self.core.keys.add(
            secret,
            account,
            tuple(permissions),
            tuple(ip_whitelist) if ip_whitelist is not None else None,
            self.core.now(),
        )
        return key.api_key

    def set_faults(
        self,
        clock_skew_ms: int = 0,
        delay_ms: int = 0,
        error_after_accept: float = 0.0,
        skip_sequence_every: int = 0,
        drop_streams_every_s: float = 0,
        refuse_connections: bool = False,
    ) -> None:
        """Turn faults on (each argument) or all off (no arguments)."""
        self.core.faults = Faults(
            clock_skew_ms=clock_skew_ms,
            delay_ms=delay_ms,
            error_after_accept=error_after_accept,
            skip_sequence_every=skip_sequence_every,
            drop_streams_every_s=drop_streams_every_s,
            refuse_connections=refuse_connections,
        )

    def metrics(self) -> dict[str, int]:
        """Counters: requests, responses_429, responses_418, orders_placed, stream_messages, ..."""
        return self.core.metrics.as_dict()


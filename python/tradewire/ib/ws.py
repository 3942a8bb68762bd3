"""The IB Web API WebSocket: ``smd`` quotes, ``sor`` orders, ``str`` executions, session pushes.

The socket is opened with the ``api`` cookie (``{"session": <tickle's session>}``) through the
gateway, or with ``?oauth_token=`` under OAuth. Messages out are ``TOPIC+TARGET+{json}`` text.
What IB makes hard, handled here:

- ``smd`` subscriptions end by themselves after 15 minutes: they are re-sent every
  ``smd_refresh_s`` (10 minutes by default), and after every reconnect.
- ``smd`` and ``sor`` messages carry only the fields that changed: quotes are merged per conid,
  orders by orderId (:class:`~tradewire.ib.orders.OrderTable`), and the full state is delivered.
- A dropped socket is reopened with backoff and every subscription re-sent (``sor`` then lists
  every order again, so nothing missed in between is lost).
- ``sts`` says when the brokerage session ended; ``tic`` keeps the socket alive every minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp

from tradewire.errors import ParseError
from tradewire.ib.marketdata import QUOTE_FIELDS, IBQuote, parse_quote
from tradewire.ib.orders import IBOrder, OrderTable, parse_execution
from tradewire.ib.transport import parse_json
from tradewire.timeouts import within

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable

__all__ = ["IBStream", "Subscription"]

log = logging.getLogger("tradewire.ib")


class Subscription:
    """What one consumer receives from a stream, queued from the moment it was made."""

    def __init__(self, fanout: _Fanout) -> None:
        self._fanout = fanout
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        fanout.queues.add(self._queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        return await self._queue.get()

    def close(self) -> None:
        """Stop receiving."""
        self._fanout.queues.discard(self._queue)


class _Fanout:
    """Delivers each item to every open subscription."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[Any]] = set()

    def put(self, item: object) -> None:
        for q in self.queues:
            q.put_nowait(item)

    def subscribe(self) -> Subscription:
        return Subscription(self)


class IBStream:
    """One reconnecting WebSocket to the gateway, and the state merged from its pushes.

    Args:
        ws_url: ``wss://host:port/v1/api/ws``.
        http: The aiohttp session to connect with (its TLS settings apply).
        cookie: Returns the ``session`` value for the ``api`` cookie (gateway mode).
        oauth_token: The access token (OAuth mode; sent as ``?oauth_token=``).
        authorize: Makes the OAuth ``Authorization`` header of a request (method, URL).
        on_session_lost: Called when an ``sts`` push says the brokerage session ended.
        smd_refresh_s: Seconds between re-sent ``smd`` subscriptions (IB ends them at 15 min).
        tic_s: Seconds between ``tic`` keep-alives.
        reconnect_s: First wait before reconnecting (doubles up to 30 s).
    """

    def __init__(
        self,
        ws_url: str,
        http: Callable[[], aiohttp.ClientSession],
        *,
        cookie: Callable[[], Awaitable[str | None]] | None = None,
        oauth_token: str | None = None,
        authorize: Callable[[str, str], str] | None = None,
        ssl_setting: ssl.SSLContext | bool = True,
        on_session_lost: Callable[[], None] | None = None,
        smd_refresh_s: float = 600.0,
        tic_s: float = 60.0,
        reconnect_s: float = 0.5,
    ) -> None:
        self._url = ws_url
        self._http = http
        self._cookie = cookie
        self._oauth_token = oauth_token
        self._authorize = authorize
        self._ssl = ssl_setting
        self._on_session_lost = on_session_lost
        self._smd_refresh_s = smd_refresh_s
        self._tic_s = tic_s
        self._reconnect_s = reconnect_s
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._smd: dict[int, tuple[str, ...]] = {}
        self._quotes: dict[int, dict[str, Any]] = {}
        self._orders_on = False
        self._trades_on = False
        self.orders = OrderTable()
        self.quote_out = _Fanout()
        self.order_out = _Fanout()
        self.trade_out = _Fanout()
        self.connects = 0
        self.authenticated: bool | None = None

    def __repr__(self) -> str:
        return f"IBStream({self._url!r}, connects={self.connects})"

    async def start(self, *, timeout: float = 10.0) -> None:
        """Open the socket (in the background, reopened on drops); returns once connected."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ib-ws")
        await within(self._connected.wait(), timeout)

    async def stop(self) -> None:
        """Close the socket and stop reconnecting."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._ws is not None:
            await self._ws.close()

    async def _send(self, text: str) -> None:
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(text)

    async def subscribe_quotes(self, conid: int, fields: tuple[str, ...] = QUOTE_FIELDS) -> None:
        """``smd``: stream the quote of ``conid`` (kept alive past IB's 15-minute expiry)."""
        self._smd[conid] = fields
        await self._send_smd(conid)

    async def unsubscribe_quotes(self, conid: int) -> None:
        """``umd``: stop the quote stream of ``conid``."""
        if self._smd.pop(conid, None) is not None:
            await self._send(f"umd+{conid}+{{}}")

    async def subscribe_orders(self) -> None:
        """``sor``: every order, then changes as they happen."""
        self._orders_on = True
        await self._send("sor+{}")

    async def subscribe_trades(self) -> None:
        """``str``: executions as they happen."""
        self._trades_on = True
        await self._send('str+{"realtimeUpdatesOnly":true}')

    async def _send_smd(self, conid: int) -> None:
        fields = json.dumps({"fields": list(self._smd[conid])}, separators=(",", ":"))
        await self._send(f"smd+{conid}+{fields}")

    async def _resubscribe(self) -> None:
        for conid in list(self._smd):
            await self._send_smd(conid)
        if self._orders_on:
            await self._send("sor+{}")
        if self._trades_on:
            await self._send('str+{"realtimeUpdatesOnly":true}')

    async def _open(self) -> aiohttp.ClientWebSocketResponse[bool]:
        url, headers = self._url, {}
        if self._oauth_token is not None:
            if self._authorize is not None:
                # signed as the https URL of the same path (what the local gateway verifies;
                # how IB signs the upgrade is not documented: see docs/ib.md)
                signed = url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
                headers["Authorization"] = self._authorize("GET", signed)
            url = f"{url}?oauth_token={self._oauth_token}"
            headers["User-Agent"] = "ClientPortalGW/1"
        elif self._cookie is not None:
            session = await self._cookie()
            if session:
                headers["Cookie"] = "api=" + json.dumps({"session": session}, separators=(",", ":"))
        return await self._http().ws_connect(url, headers=headers, ssl=self._ssl, heartbeat=None)

    async def _run(self) -> None:
        wait = self._reconnect_s
        while True:
            try:
                self._ws = await self._open()
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                log.warning("IB WebSocket connect failed: %s; retrying in %.1f s", exc, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 30.0)
                continue
            wait = self._reconnect_s
            self.connects += 1
            keepalive = asyncio.create_task(self._keepalive(), name="ib-ws-keepalive")
            try:
                await self._resubscribe()
                self._connected.set()
                async for message in self._ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self._dispatch(message.data)
                    elif message.type == aiohttp.WSMsgType.BINARY:
                        self._dispatch(message.data.decode("utf-8", "replace"))
                    elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                        break
            except (aiohttp.ClientError, OSError) as exc:
                log.warning("IB WebSocket dropped: %s", exc)
            finally:
                keepalive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keepalive
                self._connected.clear()
            log.info("IB WebSocket closed; reconnecting in %.1f s", wait)
            await asyncio.sleep(wait)

    async def _keepalive(self) -> None:
        loop = asyncio.get_running_loop()
        next_tic = loop.time() + self._tic_s
        next_smd = loop.time() + self._smd_refresh_s
        while True:
            await asyncio.sleep(max(0.0, min(next_tic, next_smd) - loop.time()))
            now = loop.time()
            if now >= next_tic:
                await self._send("tic")
                next_tic = now + self._tic_s
            if now >= next_smd:
                for conid in list(self._smd):
                    await self._send_smd(conid)
                next_smd = now + self._smd_refresh_s

    def _dispatch(self, text: str) -> None:
        try:
            message = parse_json(text.encode())
        except ValueError:
            log.warning("IB WebSocket sent non-JSON: %.200s", text)
            return
        if not isinstance(message, dict):
            return
        topic = str(message.get("topic") or "")
        try:
            if topic.startswith("smd+"):
                self._on_quote(message)
            elif topic == "sor":
                args = message.get("args")
                for order in self.orders.merge(args if isinstance(args, list) else []):
                    self.order_out.put(order)
            elif topic == "str":
                args = message.get("args")
                for row in args if isinstance(args, list) else []:
                    if isinstance(row, dict):
                        self.trade_out.put(parse_execution(row))
            elif topic == "sts":
                args = message.get("args")
                if isinstance(args, dict) and "authenticated" in args:
                    self.authenticated = args.get("authenticated") is True
                    if not self.authenticated and self._on_session_lost is not None:
                        self._on_session_lost()
        except ParseError as exc:
            log.warning("IB WebSocket message not understood (%s): %.200s", exc, text)

    def _on_quote(self, message: dict[str, Any]) -> None:
        conid = message.get("conid")
        if not isinstance(conid, int):
            return
        merged = self._quotes.setdefault(conid, {})
        merged.update({k: v for k, v in message.items() if k != "topic"})
        self.quote_out.put(parse_quote(merged))

    def latest_quote(self, conid: int) -> IBQuote | None:
        """The quote merged from every ``smd`` message of ``conid`` so far."""
        merged = self._quotes.get(conid)
        return None if merged is None else parse_quote(merged)

    def order(self, order_id: int) -> IBOrder | None:
        """The order's state merged from ``sor`` pushes."""
        return self.orders.get(order_id)

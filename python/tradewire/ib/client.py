"""``IBClient``: the asyncio Interactive Brokers Web API client, one facade over its parts.

::

    async with IBClient("https://localhost:5000/v1/api", cafile="gateway.pem",
                        confirm_questions=("o163", "o354")) as ib:
        aapl = await ib.resolve("AAPL", exchange="NASDAQ")
        quote = (await ib.snapshot([aapl.conid]))[aapl.conid]
        ack = await ib.place_order(IBOrderRequest(aapl.conid, "BUY", Decimal(10), "LMT",
                                                  "grid-1", price=aapl.rules.round_price(...)))

Parts, one job each: :mod:`~tradewire.ib.transport` (HTTP, TLS, OAuth header, typed errors),
:mod:`~tradewire.ib.ratelimit` (never a 429), :mod:`~tradewire.ib.session` (login state,
brokerage session, tickle), :mod:`~tradewire.ib.contracts`, :mod:`~tradewire.ib.marketdata`,
:mod:`~tradewire.ib.orders`, :mod:`~tradewire.ib.account`, :mod:`~tradewire.ib.ws`, and the
JSON error log of :mod:`tradewire.apilog`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypeVar

from tradewire.apilog import ErrorLog
from tradewire.errors import IBContractError, IBLoginRequired, IBNoBrokerageSession, ParseError
from tradewire.ib.account import IBLedgerRow, IBPosition, parse_ledger, parse_positions
from tradewire.ib.contracts import IBContract, parse_tick_rules, select_listing
from tradewire.ib.live_session import request_live_session_token
from tradewire.ib.marketdata import QUOTE_FIELDS, IBQuote, fetch_snapshot
from tradewire.ib.oauth import OAuth1aAuthorizer
from tradewire.ib.orders import IBExecution, IBOrder, IBOrderAck, IBOrderRequest, IBOrders
from tradewire.ib.ratelimit import IBLimiter
from tradewire.ib.session import IBSession
from tradewire.ib.transport import IBTransport, make_ssl
from tradewire.ib.ws import IBStream

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
    from pathlib import Path
    from types import TracebackType

    from tradewire.ib.oauth import LiveSessionToken, OAuth1aCredentials

__all__ = ["IBClient"]

T = TypeVar("T")
RENEW_MS = 3_600_000
"""A live session token (valid about 24 h) is renewed when less than this is left."""


class IBClient:
    """An Interactive Brokers account through the Client Portal Web API (or OAuth 1.0a).

    Args:
        base_url: ``https://localhost:5000/v1/api`` for the Client Portal gateway (IB Gateway),
            ``https://api.ibkr.com/v1/api`` with OAuth, or a ``LocalIBGateway``'s ``url``.
        ws_url: The WebSocket URL (derived from ``base_url`` when omitted).
        account_id: The account to trade (the first of ``/iserver/accounts`` when omitted).
        ssl: A TLS context (e.g. ``LocalIBGateway.ssl_context()``).
        cafile: A CA/certificate file to trust (the gateway's self-signed certificate).
        verify: False turns certificate checks off; it must be asked for explicitly.
        oauth: OAuth 1.0a credentials: a live session token is requested at start and every
            request is signed.
        confirm_questions: Order question ids (``o163``, ``o354``, ...) to suppress at session
            start and confirm when asked; any other question refuses the order.
        compete: Take the brokerage session over from another login of the same user.
        tickle_s: Seconds between ``/tickle`` calls.
        limiter: The request limiter (IB's documented limits by default).
        error_log: A path to append API errors to as JSON lines (or an ``ErrorLog``).
        timeout: Seconds to connect and to wait for each answer.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ws_url: str | None = None,
        account_id: str | None = None,
        ssl: ssl.SSLContext | None = None,
        cafile: str | Path | None = None,
        verify: bool = True,
        oauth: OAuth1aCredentials | None = None,
        confirm_questions: Iterable[str] = (),
        compete: bool = False,
        tickle_s: float = 60.0,
        limiter: IBLimiter | None = None,
        error_log: str | Path | ErrorLog | None = None,
        timeout: float = 10.0,
        smd_refresh_s: float = 600.0,
    ) -> None:
        self._ssl = make_ssl(ssl, cafile=None if cafile is None else str(cafile), verify=verify)
        log = error_log if isinstance(error_log, ErrorLog) else ErrorLog(error_log, venue="ib")
        self.error_log = log
        self.transport = IBTransport(
            base_url,
            limiter=limiter or IBLimiter(),
            ssl=self._ssl,
            error_log=log,
            timeout=timeout,
        )
        base = self.transport.base_url
        self.ws_url = (
            ws_url or base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws"
        )
        self._oauth = oauth
        self.token: LiveSessionToken | None = None
        self._confirm = tuple(confirm_questions)
        self._account_id = account_id
        self._orders: IBOrders | None = None
        self.session = IBSession(
            self.transport,
            compete=compete,
            tickle_s=tickle_s,
            on_open=self._session_opened,
            before_upkeep=self._renew_token,
        )
        self._smd_refresh_s = smd_refresh_s
        self._stream: IBStream | None = None

    def __repr__(self) -> str:
        mode = "oauth" if self._oauth is not None else "gateway"
        return f"IBClient({self.transport.base_url!r}, {mode}, account={self._account_id!r})"

    # lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> IBClient:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Authenticate (OAuth), open the brokerage session, pick the account, start tickling.

        Raises:
            IBLoginRequired: the gateway needs a browser login first.
            IBCompetingSession: another login holds the session (pass ``compete=True``).
            IBAuthError: the OAuth live session token could not be had.
        """
        await self._renew_token()
        await self.session.ensure()
        accounts = await self.accounts()
        if self._account_id is None:
            if not accounts:
                raise IBLoginRequired("the IB login lists no account", endpoint="/iserver/accounts")
            self._account_id = accounts[0]
        elif self._account_id not in accounts:
            raise IBContractError(
                f"account {self._account_id} is not among this login's accounts {accounts}"
            )
        self._orders = IBOrders(self.transport, self._account_id, confirm=self._confirm)
        await self._orders.suppress_questions()
        self.session.start()

    async def _renew_token(self) -> None:
        """OAuth: get a live session token at start and again within an hour of its expiry."""
        if self._oauth is None:
            return
        if self.token is not None and self.token.expires_ms - time.time() * 1000 > RENEW_MS:
            return
        self.token = await request_live_session_token(
            self.transport.http, self.transport.base_url, self._oauth
        )
        self.transport.authorizer = OAuth1aAuthorizer(self._oauth, self.token)

    async def close(self) -> None:
        """Stop the upkeep and the WebSocket and close the connections (no logout)."""
        await self.session.stop()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.transport.aclose()

    async def logout(self) -> None:
        """``POST /logout``: end the gateway session (a new browser login is then needed)."""
        await self.transport.request("POST", "/logout")

    async def _session_opened(self) -> None:
        if self._orders is not None:
            await self._orders.suppress_questions()

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run a request; after ``Init session first`` open the brokerage session and retry
        once (the request was refused, so repeating it is safe)."""
        try:
            return await make()
        except IBNoBrokerageSession:
            self.session.lost()
            await self.session.ensure()
            return await make()

    @property
    def account_id(self) -> str:
        """The account being traded."""
        if self._account_id is None:
            raise RuntimeError("IBClient is not started: use 'async with IBClient(...)'")
        return self._account_id

    @property
    def orders(self) -> IBOrders:
        """The order part (placement, reconcile, the order table)."""
        if self._orders is None:
            raise RuntimeError("IBClient is not started: use 'async with IBClient(...)'")
        return self._orders

    # accounts ---------------------------------------------------------------------------------

    async def accounts(self) -> list[str]:
        """``/iserver/accounts``: the accounts this login may trade (needed before orders)."""
        body = await self._call(lambda: self.transport.request("GET", "/iserver/accounts"))
        accounts = body.get("accounts") if isinstance(body, dict) else None
        if not isinstance(accounts, list):
            raise ParseError(f"/iserver/accounts answered {body!r}")
        return [str(a) for a in accounts]

    async def portfolio_accounts(self) -> list[dict[str, Any]]:
        """``/portfolio/accounts`` (IB asks for it before other ``/portfolio`` calls)."""
        body = await self.transport.request("GET", "/portfolio/accounts")
        return [a for a in body if isinstance(a, dict)] if isinstance(body, list) else []

    async def ledger(self) -> dict[str, IBLedgerRow]:
        """Cash and values per currency (and ``BASE``), exact."""
        body = await self.transport.request("GET", f"/portfolio/{self.account_id}/ledger")
        return parse_ledger(body)

    async def positions(self) -> list[IBPosition]:
        """Every position (pages 0, 1, ... until an empty one)."""
        out: list[IBPosition] = []
        for page in range(100):
            body = await self.transport.request(
                "GET", f"/portfolio/{self.account_id}/positions/{page}"
            )
            rows = parse_positions(body)
            if not rows:
                break
            out.extend(rows)
            if len(rows) < 100:  # IB's page size
                break
        return out

    # contracts and market data ----------------------------------------------------------------

    async def resolve(
        self, symbol: str, *, exchange: str | None = None, currency: str = "USD"
    ) -> IBContract:
        """The one contract ``symbol`` names on ``exchange`` (the US listing when None).

        Raises:
            IBContractError: no listing, several listings, or another currency.
        """
        symbol = symbol.strip().upper()
        body = await self.transport.request("GET", "/trsrv/stocks", params={"symbols": symbol})
        listing = select_listing(body, symbol, exchange=exchange, us_only=currency == "USD")
        info = await self._call(
            lambda: self.transport.request("GET", f"/iserver/contract/{listing.conid}/info")
        )
        got_currency = str(info.get("currency") or "") if isinstance(info, dict) else ""
        if got_currency != currency:
            raise IBContractError(
                f"{listing} trades in {got_currency or 'an unknown currency'}, not {currency}",
                candidates=(str(listing),),
            )
        rules = await self._call(
            lambda: self.transport.request(
                "POST",
                "/iserver/contract/rules",
                body={"conid": listing.conid, "exchange": listing.exchange, "isBuy": True},
            )
        )
        return IBContract(
            conid=listing.conid,
            symbol=symbol,
            exchange=listing.exchange,
            currency=got_currency,
            name=listing.name,
            rules=parse_tick_rules(rules),
        )

    async def snapshot(
        self, conids: Iterable[int], *, fields: tuple[str, ...] = QUOTE_FIELDS
    ) -> dict[int, IBQuote]:
        """Quotes of ``conids`` (through IB's pre-flight; conids without values are left out)."""
        wanted = list(conids)
        return await self._call(lambda: fetch_snapshot(self.transport, wanted, fields=fields))

    # orders -----------------------------------------------------------------------------------

    async def place_order(self, request: IBOrderRequest) -> IBOrderAck:
        """Place an order (questions answered per ``confirm_questions``); see IBOrders.place."""
        return await self._call(lambda: self.orders.place(request))

    async def modify_order(self, order_id: int, request: IBOrderRequest) -> IBOrderAck:
        """Modify an open order (``request`` repeats the order with the new values)."""
        return await self._call(lambda: self.orders.modify(order_id, request))

    async def cancel_order(self, order_id: int) -> None:
        """Ask IB to cancel an order (the end state arrives over ``sor`` / live orders)."""
        await self._call(lambda: self.orders.cancel(order_id))

    async def live_orders(self) -> list[IBOrder]:
        """The session's orders as IB lists them (at most one call per 5 s: IB's limit)."""
        return await self._call(self.orders.live_orders)

    async def find_order(self, client_order_id: str) -> IBOrder | None:
        """The order with this cOID, from the live orders (reconciliation)."""
        return await self._call(lambda: self.orders.find(client_order_id))

    async def trades(self, days: int = 1) -> list[IBExecution]:
        """Executions of the last ``days`` (1 to 7; IB allows one call per 5 s)."""
        return await self._call(lambda: self.orders.trades(days))

    async def order_status(self, order_id: int) -> dict[str, Any]:
        """``/iserver/account/order/status/{orderId}`` as IB answers it."""
        return await self._call(lambda: self.orders.status(order_id))

    # streams ----------------------------------------------------------------------------------

    async def stream(self) -> IBStream:
        """The WebSocket, opened on first use (reconnecting, resubscribing by itself)."""
        if self._stream is None:

            async def cookie() -> str | None:
                await self.session.tickle()
                return self.session.session_id

            self._stream = IBStream(
                self.ws_url,
                lambda: self.transport.http,
                cookie=None if self._oauth is not None else cookie,
                oauth_token=None if self._oauth is None else self._oauth.access_token,
                authorize=self._authorize_ws,
                ssl_setting=self._ssl,
                on_session_lost=self.session.lost,
                smd_refresh_s=self._smd_refresh_s,
            )
            await self._stream.start()
        return self._stream

    def _authorize_ws(self, method: str, url: str) -> str:
        authorizer = self.transport.authorizer
        if authorizer is None:
            raise RuntimeError("no OAuth authorizer: the client is not started in OAuth mode")
        return authorizer.authorization(method, url)

    async def quotes(self, conid: int) -> AsyncIterator[IBQuote]:
        """Quotes of ``conid`` from ``smd`` as they change (merged: always complete)."""
        stream = await self.stream()
        updates = stream.quote_out.subscribe()
        try:
            await stream.subscribe_quotes(conid)
            async for quote in updates:
                if quote.conid == conid:
                    yield quote
        finally:
            updates.close()

    async def order_updates(self) -> AsyncIterator[IBOrder]:
        """Every order's state each time ``sor`` reports a change (merged by orderId)."""
        stream = await self.stream()
        updates = stream.order_out.subscribe()
        try:
            await stream.subscribe_orders()
            async for order in updates:
                yield order
        finally:
            updates.close()

    async def executions(self) -> AsyncIterator[IBExecution]:
        """Executions from ``str`` as they happen (exact; the commission may come later)."""
        stream = await self.stream()
        updates = stream.trade_out.subscribe()
        try:
            await stream.subscribe_trades()
            async for execution in updates:
                yield execution
        finally:
            updates.close()

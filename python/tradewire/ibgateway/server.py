"""``LocalIBGateway``: a local Client Portal Web API gateway on 127.0.0.1, over HTTPS."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import ssl
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tradewire.ibgateway.certs import server_context, write_self_signed
from tradewire.ibgateway.contracts import make_contracts
from tradewire.ibgateway.faults import IBFaults
from tradewire.ibgateway.market import NEW_YORK, StockMarket, session_of
from tradewire.ibgateway.oauth import LST_PATH, OAuthCredentials, OAuthVerifier
from tradewire.ibgateway.orders import Blotter, GatewayOrder
from tradewire.ibgateway.questions import questions_for
from tradewire.ibgateway.routes import add_routes, increment_rules, parse_order, question_reply
from tradewire.ibgateway.session import GatewaySession, PendingReply
from tradewire.ibgateway.ws import WsHub
from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    from cryptography.hazmat.primitives.asymmetric import rsa

    from tradewire.ibgateway.contracts import Contract

__all__ = ["LocalIBGateway"]

_BASE = "/v1/api"
# Routes the brokerage session is not needed for, under /iserver.
_OPEN_ISERVER = ("/iserver/auth/status", "/iserver/auth/ssodh/init", "/iserver/reauthenticate")
_NO_FILL_YET = ("PreSubmitted",)


class LocalIBGateway:
    """A local stand-in for IB's Client Portal gateway, for tests and paper trading.

    ``async with LocalIBGateway(symbols=("AAPL", "MSFT"), seed=1) as gw:`` serves HTTPS on an
    ephemeral port of 127.0.0.1 with a self-signed certificate (``gw.cert_path``), REST under
    ``gw.url`` and the WebSocket at ``gw.ws_url``. Docs: docs/ibgateway.md.

    Args:
        symbols: The US stocks it lists.
        seed: Seeds the market's walk.
        host: Address to listen on.
        port: Port (0: any free port).
        clock: Wall time in epoch seconds (default ``time.time``); trading hours, the nightly
            reset and timestamps follow it.
        step_s: Seconds between market steps (matching happens on steps).
        account_id: The paper account's id.
        cash: Starting USD cash.
        oauth: Serve as api.ibkr.com does: every request needs an OAuth 1.0a signature, the
            brokerage session starts with ``ssodh/init``.
        start_prices: Starting prices by symbol.
    """

    def __init__(
        self,
        symbols: tuple[str, ...] = ("AAPL", "MSFT"),
        seed: int = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        step_s: float = 0.05,
        account_id: str = "DU1234567",
        cash: Decimal | int = 1_000_000,
        oauth: bool = False,
        start_prices: dict[str, Decimal] | None = None,
    ) -> None:
        if step_s <= 0:
            raise ValueError("step_s must be positive")
        if not account_id.isalnum():
            raise ValueError(f"account_id must be alphanumeric, not {account_id!r}")
        self.contracts: dict[int, Contract] = make_contracts(tuple(symbols), start_prices)
        self.market = StockMarket(self.contracts, seed)
        self.account_id = account_id
        self.username = "twpaper1"
        self.faults = IBFaults()
        self.oauth_mode = oauth
        self.session = GatewaySession(user_id=10_000_000 + seed % 1_000_000)
        if oauth:
            self.session.authenticated = False
        self.blotter = Blotter(
            account_id, Decimal(cash), first_order_id=1_000_000_000 + seed * 1000
        )
        self._host, self._port = host, port
        self._clock = clock or time.time
        self._step_s = step_s
        self._oauth = OAuthVerifier()
        self._changes: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._penalty_until = 0.0
        self._window: list[float] = []
        self._day = self._ny_date()
        self._outage_until = 0.0
        self.cert_path = Path()
        self.url = ""
        self.ws_url = ""
        self.ws = WsHub(gateway=self, changed=self._changed)
        self.blotter.on_order.append(self.ws.order_changed)
        self.blotter.on_execution.append(self.ws.executed)
        self.blotter.on_order.append(lambda _o, _d: self._changed())

    # lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> LocalIBGateway:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Make the certificate, bind the port and start the market; returns once serving."""
        self._tmp = tempfile.TemporaryDirectory(prefix="tw-ibgw-")
        self.cert_path, key_path = write_self_signed(Path(self._tmp.name), self._host)
        app = web.Application(middlewares=[self._middleware])
        add_routes(app, self)
        app.router.add_post(f"{_BASE}/{LST_PATH}", self._lst)
        app.router.add_get(f"{_BASE}/ws", self.ws.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self._host,
            self._port,
            ssl_context=server_context(self.cert_path, key_path),
        )
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self._port
        self.url = f"https://{self._host}:{port}{_BASE}"
        self.ws_url = f"wss://{self._host}:{port}{_BASE}/ws"
        self.session.last_request = self.loop_time()
        self._tasks = [
            asyncio.create_task(self._market_loop()),
            asyncio.create_task(self._heartbeat_loop()),
        ]

    async def close(self) -> None:
        """Stop the market, close every connection and remove the certificate."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.ws.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            # Closed TLS connections finish their shutdown on the next loop turns; let them, so
            # no socket outlives the gateway.
            for _ in range(3):
                await asyncio.sleep(0.01)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this gateway's certificate."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    # controls --------------------------------------------------------------------------------

    def set_faults(self, **changes: Any) -> None:
        """Switch faults on or off by name (see ``IBFaults``); ValueError on an unknown one."""
        self.faults.update(**changes)
        if "competing" in changes:
            self.session.competing = bool(changes["competing"])
            if self.session.competing:
                self.session.end_brokerage()
            self.ws.push_sts()
        self._changed()

    def add_oauth_consumer(
        self,
        consumer_key: str,
        *,
        signature_key: rsa.RSAPublicKey,
        encryption_key: rsa.RSAPublicKey,
        dh_prime: str,
        dh_generator: int = 2,
        realm: str = "limited_poa",
    ) -> OAuthCredentials:
        """Register an OAuth 1.0a consumer by its public keys and DH prime (hex).

        Returns:
            The access token and the access token secret, RSA-encrypted to ``encryption_key``.
        """
        return self._oauth.add_consumer(
            consumer_key,
            signature_key=signature_key,
            encryption_key=encryption_key,
            dh_prime=dh_prime,
            dh_generator=dh_generator,
            realm=realm,
        )

    async def drop_websockets(self) -> int:
        """Close every open WebSocket as a network drop would; returns how many there were."""
        return await self.ws.drop_all()

    def expire_session(self) -> None:
        """End the brokerage session now, as the timeout without requests would."""
        self.session.end_brokerage()
        self.ws.push_sts()
        self._changed()

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Return once ``predicate()`` holds, re-checked on every change; TimeoutError after
        ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"waited {timeout} s and {predicate!r} did not happen")
            if self._changes is None:
                self._changes = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await within(self._changes.wait(), min(left, self._step_s * 4))

    def _changed(self) -> None:
        if self._changes is not None:
            self._changes.set()
            self._changes = None

    # clocks ----------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The gateway's wall time in ms."""
        return int(self._clock() * 1000)

    def loop_time(self) -> float:
        """Monotonic seconds (session timeouts, penalty box, smd expiry)."""
        return asyncio.get_running_loop().time()

    def _ny_date(self) -> datetime.date:
        return datetime.datetime.fromtimestamp(self._clock(), NEW_YORK).date()

    def sso_expires_ms(self) -> int:
        """Milliseconds left in the session before the timeout without requests."""
        left = self.faults.session_timeout_s - (self.loop_time() - self.session.last_request)
        return max(0, int(left * 1000))

    # middleware ------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = request.path[len(_BASE) :] if request.path.startswith(_BASE) else request.path
        now = self.loop_time()
        if now < self._penalty_until:
            return _err(429, "Too Many Requests: penalty box")
        limit = self.faults.rate_limit_per_s
        if limit is not None:
            self._window = [t for t in self._window if t > now - 1.0]
            self._window.append(now)
            if len(self._window) > limit:
                self._penalty_until = now + self.faults.penalty_box_s
                return _err(429, "Too Many Requests")
        if self.oauth_mode and path != f"/{LST_PATH}":
            try:
                self._oauth.verify(
                    request.method,
                    self._signed_urls(request),
                    request.headers.get("Authorization", ""),
                    request.query,
                )
            except PermissionError as exc:
                return _err(401, f"id: 0, error: {exc}", statusCode=401)
        if self.faults.logged_out and not self.oauth_mode:
            return web.Response(status=401, text="")
        if (
            request.method == "POST"
            and request.content_length is None
            and not request.headers.get("Transfer-Encoding")
        ):
            return web.Response(status=411, text="Length Required")
        self._roll_day()
        idle = self.loop_time() - self.session.last_request
        if idle > self.faults.session_timeout_s and self.session.authenticated:
            self.session.end_brokerage()
            self.ws.push_sts()
        self.session.last_request = now
        if path.startswith("/iserver") and path not in _OPEN_ISERVER:
            if self.faults.outage or self._clock() < self._outage_until:
                return _err(503, "Service Unavailable")
            if not self.session.authenticated:
                if self.session.competing:
                    return _err(200, "Trading TWS session is connected from a different IP address")
                return _err(400, "Init session first", statusCode=400)
        return await handler(request)

    def _signed_urls(self, request: web.Request) -> list[str]:
        url = f"{self.url.removesuffix(_BASE)}{request.path}"
        full = f"{url}?{request.query_string}" if request.query_string else url
        return [url, full] if full != url else [url]

    async def _lst(self, request: web.Request) -> web.Response:
        try:
            body = self._oauth.live_session_token(
                request.method,
                self._signed_urls(request),
                request.headers.get("Authorization", ""),
                request.query,
            )
        except PermissionError as exc:
            return _err(401, f"id: 0, error: {exc}", statusCode=401)
        return web.json_response(body)

    def _roll_day(self) -> None:
        today = self._ny_date()
        if today == self._day:
            return
        self._day = today
        self._outage_until = self._clock() + self.faults.outage_minutes * 60
        self.market.new_day()
        for order in self.blotter.orders.values():
            if order.tif == "DAY" and order.status in ("PreSubmitted", "Submitted"):
                self.blotter.set_status(order, "Cancelled")
        self.session.end_brokerage()
        self.ws.push_sts()

    # loops -----------------------------------------------------------------------------------

    async def _market_loop(self) -> None:
        while True:
            await asyncio.sleep(self._step_s)
            self._roll_day()
            moved = self.market.step(self.now_ms()) if session_of(self._clock()) != "closed" else []
            self.blotter.step(self.market.quotes, self._tradable, self.now_ms())
            self.ws.market_moved(moved)
            self._changed()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.faults.heartbeat_s)
            self.ws.heartbeat()

    def _tradable(self, order: GatewayOrder) -> bool:
        session = session_of(self._clock())
        return session == "regular" or (session == "extended" and order.outside_rth)

    # orders ----------------------------------------------------------------------------------

    def place(self, spec: dict[str, Any]) -> web.Response:
        """Handle one order placement: validate, ask the questions, accept or reject."""
        self.session.replies.clear()  # any earlier question's reply id is now stale
        coid = spec.get("cOID")
        if coid is not None and self.blotter.by_coid(str(coid)) is not None:
            return _err(
                200, f"Order couldn't be submitted: Local order ID={coid} is already registered."
            )
        try:
            order = parse_order(self, spec, self.blotter.new_order_id())
        except ValueError as exc:
            return _err(200, str(exc))
        if self.faults.reject_orders > 0:
            self.faults.reject_orders -= 1
            return _err(
                200,
                "We cannot accept an order at the limit price you selected. Please submit your "
                "order using a limit price that is closer to the current market price.",
            )
        questions = questions_for(
            order,
            self.market.quotes[order.contract.conid],
            has_market_data=order.contract.conid in self.session.snapshot_seen
            or self._streaming(order.contract.conid),
            suppressed=self.session.suppressed,
        )
        if questions:
            return question_reply(self, PendingReply(order, questions))
        return self._accept(order)

    def _streaming(self, conid: int) -> bool:
        return any(conid in c.smd for c in self.ws.clients)

    def reply(self, reply_id: str, confirmed: bool) -> web.Response:
        """Answer ``/iserver/reply/{id}``: the next question, the accepted order, or 400."""
        pending = self.session.replies.pop(reply_id, None)
        if pending is None or self.faults.stale_replies:
            return _err(400, f"reply id not found: '{reply_id}'")
        if not confirmed:
            return _err(200, "Order was not confirmed and was discarded")
        pending.questions.pop(0)
        if pending.questions:
            return question_reply(self, pending)
        if isinstance(pending.order, GatewayOrder):
            return self._accept(pending.order)
        order, changes = pending.order
        return self._apply_modify(order, changes)

    def _accept(self, order: GatewayOrder) -> web.Response:
        if self.faults.inactive_orders > 0:
            self.faults.inactive_orders -= 1
            order.status = "Inactive"
        self.blotter.add(order)
        return web.json_response(
            [
                {
                    "order_id": str(order.order_id),
                    "order_status": order.status,
                    "encrypt_message": "1",
                }
            ]
        )

    def cancel(self, order: GatewayOrder) -> None:
        """Start cancelling ``order``: PendingCancel now, Cancelled (or a fill) on the next step."""
        if order.status == "Inactive":
            self.blotter.set_status(order, "Cancelled")
        elif order.status in ("PreSubmitted", "Submitted"):
            order.fill_while_cancelling = self.faults.fill_on_cancel
            self.blotter.set_status(order, "PendingCancel")

    def modify(self, order: GatewayOrder, spec: dict[str, Any]) -> web.Response:
        """Handle a modify: the body repeats the order with only the changed values different."""
        spec = {"cOID": order.coid, **spec}
        try:
            new = parse_order(self, spec, order.order_id)
        except ValueError as exc:
            return _err(200, str(exc))
        if new.contract is not order.contract or new.side != order.side:
            return _err(200, "Modify may not change the contract or the side")
        if new.quantity < order.filled:
            return _err(200, "The new size is below the filled quantity")
        self.session.replies.clear()
        questions = questions_for(
            new,
            self.market.quotes[new.contract.conid],
            has_market_data=True,
            suppressed=self.session.suppressed,
        )
        if questions:
            return question_reply(self, PendingReply((order, new), questions))
        return self._apply_modify(order, new)

    def _apply_modify(self, order: GatewayOrder, new: GatewayOrder) -> web.Response:
        order.quantity, order.price, order.aux_price = new.quantity, new.price, new.aux_price
        order.tif, order.outside_rth, order.order_type = new.tif, new.outside_rth, new.order_type
        self.blotter._changed(order, order.live_row())
        return web.json_response(
            [
                {
                    "order_id": str(order.order_id),
                    "order_status": order.status,
                    "encrypt_message": "1",
                }
            ]
        )

    # account views ---------------------------------------------------------------------------

    def conid_of(self, text: str) -> int | None:
        """The listed conid ``text`` names (``265598`` or ``265598@NASDAQ``), else None."""
        head = text.split("@")[0].strip()
        if not head.isdigit():
            return None
        conid = int(head)
        return conid if conid in self.contracts else None

    def sts_args(self) -> dict[str, Any]:
        """The ``sts`` push's arguments."""
        return {
            "authenticated": self.session.authenticated,
            "competing": self.session.competing,
            "message": "",
            "fail": "",
            "serverName": "LocalIBGateway",
            "serverVersion": "tradewire",
            "username": self.username,
        }

    def ws_session_ok(self, request: Any) -> bool:
        """Whether a WebSocket upgrade carries this session's ``api`` cookie (or OAuth token)."""
        if self.oauth_mode:
            return self._oauth.knows_token(request.query.get("oauth_token", ""))
        raw = request.cookies.get("api", "")
        try:
            value = json.loads(raw)
            session = value.get("session") if isinstance(value, dict) else str(value)
        except json.JSONDecodeError:
            session = raw
        return session == self.session.session_id and self.session.authenticated

    def portfolio_account(self) -> dict[str, Any]:
        """The ``/portfolio/accounts`` row (the fixture's keys)."""
        a = self.account_id
        return {
            "PrepaidCrypto-P": False,
            "PrepaidCrypto-Z": False,
            "accountAlias": None,
            "accountId": a,
            "accountStatus": 1_678_852_800_000,
            "accountTitle": "tradewire paper",
            "accountVan": a,
            "brokerageAccess": True,
            "businessType": "INDEPENDENT",
            "clearingStatus": "O",
            "covestor": False,
            "currency": "USD",
            "desc": a,
            "displayName": "tradewire paper",
            "faclient": False,
            "ibEntity": "IBLLC-US",
            "id": a,
            "noClientTrading": False,
            "parent": {
                "accountId": "",
                "isMChild": False,
                "isMParent": False,
                "isMultiplex": False,
                "mmc": [],
            },
            "trackVirtualFXPortfolio": False,
            "tradingType": "STKNOPT",
            "type": "DEMO",
        }

    def _mark(self, conid: int) -> Decimal:
        q = self.market.quotes[conid]
        return (q.bid + q.ask) / 2

    def position_rows(self) -> list[dict[str, Any]]:
        """The ``/portfolio/{acct}/positions/0`` rows (the fixture's keys)."""
        rows = []
        for conid, pos in self.blotter.positions.items():
            if pos.quantity == 0:
                continue
            c = self.contracts[conid]
            mark = self._mark(conid)
            rows.append(
                {
                    "acctId": self.account_id,
                    "allExchanges": f"SMART,{c.exchange}",
                    "assetClass": "STK",
                    "avgCost": float(pos.avg_cost),
                    "avgPrice": float(pos.avg_cost),
                    "chineseName": None,
                    "conExchMap": [],
                    "conid": conid,
                    "contractDesc": c.symbol,
                    "countryCode": "US",
                    "currency": c.currency,
                    "displayRule": {
                        "displayRuleStep": [
                            {"decimalDigits": 2, "lowerEdge": 0.0, "wholeDigits": 4}
                        ],
                        "magnification": 0,
                    },
                    "exchs": None,
                    "exerciseStyle": None,
                    "expiry": None,
                    "fullName": c.symbol,
                    "group": None,
                    "hasOptions": True,
                    "incrementRules": increment_rules(),
                    "isEventContract": False,
                    "isUS": True,
                    "lastTradingDay": None,
                    "listingExchange": c.exchange,
                    "mktPrice": float(mark),
                    "mktValue": float(mark * pos.quantity),
                    "model": "",
                    "multiplier": 0.0,
                    "name": c.name,
                    "pageSize": 100,
                    "position": float(pos.quantity),
                    "putOrCall": None,
                    "realizedPnl": float(pos.realized),
                    "sector": None,
                    "sectorGroup": None,
                    "strike": "0",
                    "ticker": c.symbol,
                    "time": 30,
                    "type": "COMMON",
                    "undConid": 0,
                    "unrealizedPnl": float((mark - pos.avg_cost) * pos.quantity),
                }
            )
        return rows

    def _totals(self) -> tuple[Decimal, Decimal, Decimal]:
        value = unrealized = realized = Decimal(0)
        for conid, pos in self.blotter.positions.items():
            mark = self._mark(conid)
            value += mark * pos.quantity
            unrealized += (mark - pos.avg_cost) * pos.quantity
            realized += pos.realized
        return value, unrealized, realized

    def ledger(self) -> dict[str, Any]:
        """The ``/portfolio/{acct}/ledger`` body: USD and BASE (the fixture's keys)."""
        value, unrealized, realized = self._totals()
        cash = self.blotter.cash
        stamp = int(self._clock())

        def row(currency: str) -> dict[str, Any]:
            out: dict[str, Any] = {
                "acctcode": self.account_id,
                "cashbalance": float(cash),
                "cashbalancefxsegment": 0.0,
                "commoditymarketvalue": 0.0,
                "corporatebondsmarketvalue": 0.0,
                "cryptocurrencyvalue": 0.0,
                "currency": currency,
                "dividends": 0.0,
                "exchangerate": 1,
                "funds": 0.0,
                "futuremarketvalue": 0.0,
                "futureoptionmarketvalue": 0.0,
                "futuresonlypnl": 0.0,
                "interest": 0.0,
                "issueroptionsmarketvalue": 0.0,
                "key": "LedgerList",
                "moneyfunds": 0.0,
                "netliquidationvalue": float(cash + value),
                "realizedpnl": float(realized),
                "secondkey": currency,
                "sessionid": 1,
                "settledcash": float(cash),
                "severity": 0,
                "stockmarketvalue": float(value),
                "stockoptionmarketvalue": 0.0,
                "tbillsmarketvalue": 0.0,
                "tbondsmarketvalue": 0.0,
                "timestamp": stamp,
                "unrealizedpnl": float(unrealized),
                "warrantsmarketvalue": 0.0,
            }
            if currency != "BASE":
                out["endofbundle"] = 1
            return out

        return {"BASE": row("BASE"), "USD": row("USD")}

    def summary(self) -> dict[str, Any]:
        """The ``/portfolio/{acct}/summary`` body: key to {amount, currency, ...}."""
        value, _, _ = self._totals()
        cash = self.blotter.cash
        stamp = self.now_ms()

        def item(amount: Decimal) -> dict[str, Any]:
            return {
                "amount": float(amount),
                "currency": "USD",
                "isNull": False,
                "timestamp": stamp,
                "value": None,
                "severity": 0,
            }

        return {
            "accountcode": {
                "amount": 0.0,
                "currency": None,
                "isNull": False,
                "timestamp": stamp,
                "value": self.account_id,
                "severity": 0,
            },
            "availablefunds": item(cash),
            "buyingpower": item(cash * 4),
            "netliquidation": item(cash + value),
            "totalcashvalue": item(cash),
            "grosspositionvalue": item(abs(value)),
        }

    def pnl_rows(self) -> dict[str, Any]:
        """The ``spl`` / pnl/partitioned rows: ``{"ACCT.Core": {...}}``."""
        value, unrealized, realized = self._totals()
        return {
            f"{self.account_id}.Core": {
                "rowType": 1,
                "dpl": float(unrealized + realized),
                "nl": float(self.blotter.cash + value),
                "upl": float(unrealized),
                "el": float(self.blotter.cash),
                "mv": float(value),
            }
        }

    def rules_for(self, c: Contract) -> dict[str, Any]:
        """The ``/iserver/contract/rules`` body, with the price-banded ``incrementRules``."""
        return {
            "algoEligible": True,
            "overnightEligible": False,
            "costReport": False,
            "canTradeAcctIds": [self.account_id],
            "error": None,
            "orderTypes": ["limit", "market", "stop", "stop_limit"],
            "ibAlgoTypes": [],
            "fraqTypes": [],
            "forceOrderPreview": False,
            "cqtTypes": [],
            "orderDefaults": {"LMT": {"LP": str(self.market.quotes[c.conid].last)}},
            "orderTypesOutside": ["limit", "stop_limit"],
            "defaultSize": 100,
            "cashSize": 0.0,
            "sizeIncrement": 1,
            "tifTypes": ["IOC/LMT,MKT", "GTC/o,a", "OPG/LMT,MKT", "DAY/o,a"],
            "tifDefaults": {"TIF": "DAY", "SIZE": "100.00"},
            "limitPrice": float(self.market.quotes[c.conid].last),
            "stopprice": float(self.market.quotes[c.conid].last),
            "orderOrigination": None,
            "preview": True,
            "displaySize": None,
            "fraqInt": 0,
            "cashCcy": c.currency,
            "cashQtyIncr": 500,
            "priceMagnifier": None,
            "negativeCapable": False,
            "incrementType": 1,
            "incrementRules": increment_rules(),
            "hasSecondary": False,
            "increment": 0.01,
            "incrementDigits": 2,
        }

    def history(self, conid: int, count: int, bar_s: int, query: Any) -> dict[str, Any]:
        """The ``/iserver/marketdata/history`` body (the fixture's keys)."""
        c = self.contracts[conid]
        now_ms = self.now_ms()
        end_ms = now_ms - now_ms % (bar_s * 1000)
        data = self.market.bars(conid, count, bar_s, end_ms)
        high = max(b["h"] for b in data)
        low = min(b["l"] for b in data)
        vol = sum(b["v"] for b in data)
        start = datetime.datetime.fromtimestamp(data[0]["t"] / 1000, datetime.timezone.utc)
        return {
            "barLength": bar_s,
            "chartAnnotations": "",
            "data": data,
            "high": f"{round(high * 100)}/{vol:.2f}/0",
            "low": f"{round(low * 100)}/{vol:.2f}/0",
            "mdAvailability": "S",
            "messageVersion": 2,
            "mktDataDelay": 0,
            "negativeCapable": False,
            "outsideRth": str(query.get("outsideRth", "false")).lower() == "true",
            "points": len(data) - 1,
            "priceDisplayRule": 1,
            "priceDisplayValue": "2",
            "priceFactor": 100,
            "serverId": "0",
            "startTime": start.strftime("%Y%m%d-%H:%M:%S"),
            "symbol": c.symbol,
            "text": c.name,
            "timePeriod": str(query.get("period", "1w")),
            "travelTime": 1,
            "volumeFactor": 1,
        }

    def trading_schedule(self) -> dict[str, Any]:
        """``/contract/trading-schedule``: the next five weekdays' hours, epoch seconds."""
        out: dict[str, Any] = {}
        day = datetime.datetime.fromtimestamp(self._clock(), NEW_YORK).date()
        while len(out) < 5:
            if day.weekday() < 5:

                def at(h: int, m: int, d: datetime.date = day) -> int:
                    return int(
                        datetime.datetime.combine(d, datetime.time(h, m), NEW_YORK).timestamp()
                    )

                out[day.strftime("%Y%m%d")] = {
                    "liquid_hours": [
                        {"opening": at(9, 30), "closing": at(16, 0), "cancel_daily_orders": True}
                    ],
                    "extended_hours": [
                        {"opening": at(4, 0), "closing": at(20, 0), "cancel_daily_orders": True}
                    ],
                }
            day += datetime.timedelta(days=1)
        return {"exchange_time_zone": "US/Eastern", "schedules": out}


def _err(status: int, text: str, **extra: object) -> web.Response:
    response = web.json_response({"error": text, **extra}, status=status)
    if status == 401:
        response.force_close()  # a refused client's connection ends with the answer
    return response

"""The REST routes under ``/v1/api``: session, accounts, contracts, market data, orders."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tradewire.ibgateway.contracts import INCREMENT_RULES, on_tick
from tradewire.ibgateway.orders import OPEN_STATUSES, ORDER_TYPES, GatewayOrder

if TYPE_CHECKING:
    from tradewire.ibgateway.server import LocalIBGateway
    from tradewire.ibgateway.session import PendingReply

__all__ = ["add_routes"]

_BAR_SECONDS = {"min": 60, "h": 3600, "d": 86400, "w": 604800, "m": 2678400, "y": 31536000}


def _json(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error(text: str, status: int = 200, **extra: object) -> web.Response:
    return _json({"error": text, **extra}, status)


def _period_seconds(text: str) -> int | None:
    for unit in sorted(_BAR_SECONDS, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * _BAR_SECONDS[unit]
    return None


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "bad JSON body"}), content_type="application/json"
        ) from None
    return data if isinstance(data, dict) else {"orders": data}


def _decimal(value: object, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not out.is_finite():
        raise ValueError(f"{name} is not a number: {value!r}")
    return out


def add_routes(app: web.Application, gw: LocalIBGateway) -> None:
    """Register every REST route of the gateway on ``app``."""
    r = app.router
    base = "/v1/api"

    async def tickle(_: web.Request) -> web.Response:
        return _json(gw.session.tickle(gw.sso_expires_ms()))

    async def auth_status(_: web.Request) -> web.Response:
        return _json(gw.session.status())

    async def ssodh_init(request: web.Request) -> web.Response:
        body = await _body(request)
        ok = gw.session.start_brokerage(compete=bool(body.get("compete", False)))
        gw.faults.competing = gw.session.competing
        gw.ws.push_sts()
        return _json(
            {
                "authenticated": ok,
                "competing": gw.session.competing,
                "connected": True,
                "message": "",
                "MAC": "02:00:00:00:00:01",
                "serverInfo": gw.session.status()["serverInfo"],
            }
        )

    async def reauthenticate(_: web.Request) -> web.Response:
        gw.session.start_brokerage(compete=True)
        return _json({"message": "triggered"})

    async def validate(_: web.Request) -> web.Response:
        return _json(
            {
                "USER_ID": gw.session.user_id,
                "USER_NAME": gw.username,
                "RESULT": True,
                "AUTH_TIME": gw.now_ms(),
                "SF_ENABLED": False,
                "IS_FREE_TRIAL": False,
                "CREDENTIAL": gw.username,
                "IP": "127.0.0.1",
                "EXPIRES": gw.sso_expires_ms(),
                "QUALIFIED_FOR_MOBILE_AUTH": None,
                "LANDING_APP": "UNIVERSAL",
                "IS_MASTER": False,
                "lastAccessed": gw.now_ms(),
                "LOGIN_TYPE": 2,
                "PAPER_USER_NAME": gw.username,
                "features": {},
                "region": "NJ",
            }
        )

    async def logout(_: web.Request) -> web.Response:
        gw.session.end_brokerage()
        gw.session.connected = False
        return _json({"status": True})

    async def iserver_accounts(_: web.Request) -> web.Response:
        gw.session.accounts_called = True
        return _json(
            {
                "accounts": [gw.account_id],
                "acctProps": {
                    gw.account_id: {
                        "hasChildAccounts": False,
                        "supportsCashQty": True,
                        "supportsFractions": False,
                    }
                },
                "aliases": {gw.account_id: gw.account_id},
                "allowFeatures": {"showGFIS": True},
                "chartPeriods": {"STK": ["*"]},
                "groups": [],
                "profiles": [],
                "selectedAccount": gw.account_id,
                "serverInfo": gw.session.status()["serverInfo"],
                "sessionId": gw.session.session_id,
                "isFT": False,
                "isPaper": True,
            }
        )

    async def portfolio_accounts(_: web.Request) -> web.Response:
        return _json([gw.portfolio_account()])

    def _account(request: web.Request) -> None:
        if request.match_info["acct"] != gw.account_id:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": f"Account {request.match_info['acct']} not found"}),
                content_type="application/json",
            )

    async def positions(request: web.Request) -> web.Response:
        _account(request)
        page = request.match_info.get("page", "0")
        return _json(gw.position_rows() if page == "0" else [])

    async def ledger(request: web.Request) -> web.Response:
        _account(request)
        return _json(gw.ledger())

    async def summary(request: web.Request) -> web.Response:
        _account(request)
        return _json(gw.summary())

    async def trsrv_stocks(request: web.Request) -> web.Response:
        out: dict[str, Any] = {}
        for symbol in request.query.get("symbols", "").split(","):
            symbol = symbol.strip().upper()
            for c in gw.contracts.values():
                if c.symbol == symbol:
                    out[symbol] = [
                        {
                            "assetClass": "STK",
                            "chineseName": None,
                            "contracts": [{"conid": c.conid, "exchange": c.exchange, "isUS": True}],
                            "name": c.name,
                        }
                    ]
        return _json(out)

    async def secdef_search(request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "").upper()
        rows = [
            {
                "conid": str(c.conid),
                "companyHeader": f"{c.name} - {c.exchange}",
                "companyName": c.name,
                "symbol": c.symbol,
                "description": c.exchange,
                "restricted": None,
                "sections": [{"secType": "STK"}],
            }
            for c in gw.contracts.values()
            if c.symbol.startswith(symbol) or symbol in c.name
        ]
        return _json(rows) if rows else _error("No symbol found", 200)

    async def secdef_info(request: web.Request) -> web.Response:
        c = gw.contracts.get(gw.conid_of(request.query.get("conid", "")) or -1)
        if c is None:
            return _error("conid not found", 400)
        return _json(
            [
                {
                    "conid": c.conid,
                    "ticker": c.symbol,
                    "secType": "STK",
                    "listingExchange": c.exchange,
                    "exchange": "SMART",
                    "companyName": c.name,
                    "currency": c.currency,
                    "validExchanges": f"SMART,{c.exchange}",
                    "priceRendering": None,
                    "maturityDate": None,
                    "right": None,
                    "strike": 0.0,
                }
            ]
        )

    async def contract_info(request: web.Request) -> web.Response:
        c = gw.contracts.get(gw.conid_of(request.match_info["conid"]) or -1)
        if c is None:
            return _error("conid not found", 400)
        return _json(
            {
                "cfi_code": "ESXXXX",
                "symbol": c.symbol,
                "cusip": None,
                "expiry_full": None,
                "con_id": c.conid,
                "maturity_date": None,
                "industry": "",
                "instrument_type": "STK",
                "trading_class": "NMS",
                "valid_exchanges": f"SMART,{c.exchange}",
                "allow_sell_long": False,
                "is_zero_commission_security": False,
                "local_symbol": c.symbol,
                "contract_clarification_type": None,
                "classifier": None,
                "currency": c.currency,
                "text": None,
                "underlying_con_id": 0,
                "r_t_h": True,
                "multiplier": None,
                "underlying_issuer": None,
                "contract_month": None,
                "company_name": c.name,
                "smart_available": True,
                "exchange": "SMART",
                "category": "",
            }
        )

    async def contract_rules(request: web.Request) -> web.Response:
        body = await _body(request)
        c = gw.contracts.get(gw.conid_of(str(body.get("conid", ""))) or -1)
        if c is None:
            return _error("conid not found", 400)
        return _json(gw.rules_for(c))

    async def snapshot(request: web.Request) -> web.Response:
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        rows = []
        for raw in request.query.get("conids", "").split(","):
            conid = gw.conid_of(raw.strip())
            if conid is None:
                continue
            row: dict[str, Any] = {"conid": conid, "conidEx": str(conid)}
            if conid in gw.session.snapshot_seen:
                values = gw.market.fields(conid, gw.contracts[conid].symbol)
                row.update(
                    {
                        "_updated": gw.market.quotes[conid].updated_ms or gw.now_ms(),
                        "server_id": "q0",
                        "6119": "q0",
                        "6509": "RpB",
                    }
                )
                row.update({f: values[f] for f in fields if f in values})
            gw.session.snapshot_seen.add(conid)
            rows.append(row)
        return _json(rows)

    async def history(request: web.Request) -> web.Response:
        conid = gw.conid_of(request.query.get("conid", ""))
        if conid is None:
            return _error("conid not found", 400)
        bar_s = _period_seconds(request.query.get("bar", ""))
        period_s = _period_seconds(request.query.get("period", "1w"))
        if bar_s is None or period_s is None or bar_s > period_s:
            return _error("invalid bar or period", 400)
        count = min(1000, period_s // bar_s)
        return _json(gw.history(conid, count, bar_s, request.query))

    async def unsubscribe_all(_: web.Request) -> web.Response:
        gw.session.snapshot_seen.clear()
        return _json({"unsubscribed": True})

    async def place(request: web.Request) -> web.Response:
        _account(request)
        body = await _body(request)
        orders = body.get("orders")
        if not isinstance(orders, list) or len(orders) != 1 or not isinstance(orders[0], dict):
            return _error('the body must hold one order: {"orders": [{...}]}', 400)
        return _maybe_drop(gw, request, gw.place(orders[0]))

    async def reply(request: web.Request) -> web.Response:
        body = await _body(request)
        answer = gw.reply(request.match_info["reply_id"], bool(body.get("confirmed", False)))
        return _maybe_drop(gw, request, answer)

    async def suppress(request: web.Request) -> web.Response:
        body = await _body(request)
        ids = body.get("messageIds")
        if not isinstance(ids, list) or len(ids) > 51:
            return _error("messageIds must be a list of at most 51 ids", 400)
        gw.session.suppressed.update(str(i) for i in ids)
        return _json({"status": "submitted"})

    async def suppress_reset(_: web.Request) -> web.Response:
        gw.session.suppressed.clear()
        return _json({"status": "submitted"})

    async def live_orders(request: web.Request) -> web.Response:
        wanted = {
            f.strip().lower() for f in request.query.get("filters", "").split(",") if f.strip()
        }
        rows = [
            o.live_row()
            for o in gw.blotter.orders.values()
            if not wanted or _filter_name(o.status) in wanted
        ]
        return _json({"orders": rows, "snapshot": True})

    async def order_status(request: web.Request) -> web.Response:
        try:
            order = gw.blotter.orders.get(int(request.match_info["order_id"]))
        except ValueError:
            order = None
        if order is None:
            return _error(f"OrderID {request.match_info['order_id']} doesn't exist", 503)
        return _json(order.status_body())

    async def cancel(request: web.Request) -> web.Response:
        _account(request)
        raw = request.match_info["order_id"]
        if raw == "-1":
            for order in gw.blotter.orders.values():
                gw.cancel(order)
            return _json(
                {
                    "msg": "Request was submitted",
                    "order_id": -1,
                    "conid": -1,
                    "account": gw.account_id,
                }
            )
        found = gw.blotter.orders.get(int(raw)) if raw.lstrip("-").isdigit() else None
        if found is None or found.status not in OPEN_STATUSES:
            return _error(f"OrderID {raw} doesn't exist")
        order = found
        gw.cancel(order)
        return _json(
            {
                "msg": "Request was submitted",
                "order_id": order.order_id,
                "conid": order.contract.conid,
                "account": gw.account_id,
            }
        )

    async def modify(request: web.Request) -> web.Response:
        _account(request)
        body = await _body(request)
        raw = request.match_info["order_id"]
        order = gw.blotter.orders.get(int(raw)) if raw.isdigit() else None
        if order is None or order.status not in OPEN_STATUSES or order.status == "PendingCancel":
            return _error(f"OrderID {raw} doesn't exist")
        return gw.modify(order, body)

    async def trades(request: web.Request) -> web.Response:
        days = request.query.get("days", "1")
        if not days.isdigit() or not 1 <= int(days) <= 7:
            return _error("days must be 1 to 7", 400)
        since = gw.now_ms() - int(days) * 86_400_000
        return _json([e.row() for e in gw.blotter.executions if e.time_ms >= since])

    async def pnl(_: web.Request) -> web.Response:
        return _json({"upnl": gw.pnl_rows()})

    async def schedule(request: web.Request) -> web.Response:
        conid = gw.conid_of(request.query.get("conid", ""))
        if conid is None:
            return _error("conid not found", 400)
        return _json(gw.trading_schedule())

    r.add_post(f"{base}/tickle", tickle)
    r.add_get(f"{base}/tickle", tickle)
    r.add_post(f"{base}/iserver/auth/status", auth_status)
    r.add_get(f"{base}/iserver/auth/status", auth_status)
    r.add_post(f"{base}/iserver/auth/ssodh/init", ssodh_init)
    r.add_post(f"{base}/iserver/reauthenticate", reauthenticate)
    r.add_get(f"{base}/sso/validate", validate)
    r.add_post(f"{base}/logout", logout)
    r.add_get(f"{base}/iserver/accounts", iserver_accounts)
    r.add_get(f"{base}/portfolio/accounts", portfolio_accounts)
    r.add_get(f"{base}/portfolio/subaccounts", portfolio_accounts)
    r.add_get(f"{base}/portfolio/{{acct}}/positions/{{page}}", positions)
    r.add_get(f"{base}/portfolio/{{acct}}/positions", positions)
    r.add_get(f"{base}/portfolio/{{acct}}/ledger", ledger)
    r.add_get(f"{base}/portfolio/{{acct}}/summary", summary)
    r.add_get(f"{base}/trsrv/stocks", trsrv_stocks)
    r.add_get(f"{base}/iserver/secdef/search", secdef_search)
    r.add_get(f"{base}/iserver/secdef/info", secdef_info)
    r.add_get(f"{base}/iserver/contract/{{conid}}/info", contract_info)
    r.add_post(f"{base}/iserver/contract/rules", contract_rules)
    r.add_get(f"{base}/contract/trading-schedule", schedule)
    r.add_get(f"{base}/iserver/marketdata/snapshot", snapshot)
    r.add_get(f"{base}/iserver/marketdata/history", history)
    r.add_get(f"{base}/iserver/marketdata/unsubscribeall", unsubscribe_all)
    r.add_post(f"{base}/iserver/account/{{acct}}/orders", place)
    r.add_post(f"{base}/iserver/reply/{{reply_id}}", reply)
    r.add_post(f"{base}/iserver/questions/suppress", suppress)
    r.add_post(f"{base}/iserver/questions/suppress/reset", suppress_reset)
    r.add_get(f"{base}/iserver/account/orders", live_orders)
    r.add_get(f"{base}/iserver/account/order/status/{{order_id}}", order_status)
    r.add_delete(f"{base}/iserver/account/{{acct}}/order/{{order_id}}", cancel)
    r.add_post(f"{base}/iserver/account/{{acct}}/order/{{order_id}}", modify)
    r.add_get(f"{base}/iserver/account/trades", trades)
    r.add_get(f"{base}/iserver/account/trades/", trades)
    r.add_get(f"{base}/iserver/account/pnl/partitioned", pnl)


def _maybe_drop(gw: LocalIBGateway, request: web.Request, answer: web.Response) -> web.Response:
    """The ``drop_order_replies`` fault: an accepted order stands, its answer is lost."""
    body = answer.body
    if gw.faults.drop_order_replies > 0 and isinstance(body, bytes) and b'"order_id"' in body:
        gw.faults.drop_order_replies -= 1
        if request.transport is not None:
            request.transport.close()
    return answer


def _filter_name(status: str) -> str:
    out: list[str] = []
    for ch in status:
        if ch.isupper() and out:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def parse_order(gw: LocalIBGateway, spec: dict[str, Any], order_id: int) -> GatewayOrder:
    """Build an order from a Web API order body (ValueError with IB-style text when invalid)."""
    conid = gw.conid_of(str(spec.get("conid") or str(spec.get("conidex", "")).split("@")[0]))
    if conid is None:
        raise ValueError(f"Invalid contract id: {spec.get('conid')!r}")
    order_type = str(spec.get("orderType", ""))
    if order_type not in ORDER_TYPES:
        raise ValueError(f"Invalid order type: {order_type!r}")
    side = str(spec.get("side", "")).upper()
    if side not in ("BUY", "SELL"):
        raise ValueError(f"Invalid side: {spec.get('side')!r}")
    quantity = _decimal(spec.get("quantity"), "quantity")
    if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
        raise ValueError(
            "Only whole share values are supported: quantity must be a positive whole number"
        )
    price = _decimal(spec.get("price"), "price")
    aux = _decimal(spec.get("auxPrice"), "auxPrice")
    if order_type in ("LMT", "STP", "STOP_LIMIT") and price is None:
        raise ValueError(f"{order_type} orders need a price")
    if order_type == "STOP_LIMIT" and aux is None:
        raise ValueError("STOP_LIMIT orders need an auxPrice (the stop)")
    for value in (price, aux):
        if value is not None and not on_tick(value):
            raise ValueError(
                f"The price {value} does not conform to the minimum price variation "
                "for this contract"
            )
    tif = str(spec.get("tif", "DAY"))
    if tif not in ("DAY", "GTC", "IOC", "OPG"):
        raise ValueError(f"Invalid time in force: {tif!r}")
    coid = str(spec.get("cOID") or f"tw-{order_id}")
    return GatewayOrder(
        order_id=order_id,
        coid=coid,
        contract=gw.contracts[conid],
        account=gw.account_id,
        side=side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        aux_price=aux,
        tif=tif,
        outside_rth=bool(spec.get("outsideRTH", False)),
        time_ms=gw.now_ms(),
    )


def question_reply(gw: LocalIBGateway, pending: PendingReply) -> web.Response:
    """Answer with the chain's next question, registering a new reply id for it."""
    message_id, text = pending.questions[0]
    reply_id = str(uuid.uuid4())
    gw.session.replies = {reply_id: pending}
    return _json(
        [{"id": reply_id, "message": [text], "isSuppressed": False, "messageIds": [message_id]}]
    )


def increment_rules() -> list[dict[str, float]]:
    """The price bands as ``incrementRules`` lists them."""
    return [{"lowerEdge": float(edge), "increment": float(inc)} for edge, inc in INCREMENT_RULES]

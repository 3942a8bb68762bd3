"""The endpoints' logic, shared by the REST API and the WebSocket API: weights, security, bodies."""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange import marketdata, order_lists, wallet
from tradewire.exchange.amounts import fmt
from tradewire.exchange.order_form import ORDER_PARAMS, read_order, read_resp_type
from tradewire.exchange.rejections import bad_param

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.exchange.core import ExchangeCore
    from tradewire.exchange.engine import Placed
    from tradewire.exchange.keys import ApiKey
    from tradewire.exchange.orders import OrderRecord, TapeTrade
    from tradewire.exchange.params import Params

__all__ = [
    "KEY_ONLY",
    "PERMISSION",
    "ROUTES",
    "STATUS_UNKNOWN",
    "Call",
    "Endpoint",
    "cancel_body",
    "order_response",
]

ZERO_TEXT = "0.00000000"
PERMISSION = {"USER_DATA": "reading", "TRADE": "spot"}
KEY_ONLY = "USER_STREAM"
"""The security type checked by the API key alone: no signature, no timestamp, any permission."""
STATUS_UNKNOWN = ExchangeRejection(
    -1007,
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown.",
    503,
)


@dataclass
class Call:
    """One request being served: its parameters, its key (if signed) and the server time."""

    core: ExchangeCore
    params: Params
    now: int
    key: ApiKey | None = None

    @property
    def account(self) -> int:
        """The account of the request's key."""
        assert self.key is not None
        return self.key.account


@dataclass(frozen=True)
class Endpoint:
    """A route: its handler, weight rule and security type (NONE, USER_STREAM, USER_DATA, TRADE)."""

    handler: Callable[[Call], object]
    weight: Callable[[Params], int]
    security: str = "NONE"
    counts_order: bool = False


def _fixed(weight: int) -> Callable[[Params], int]:
    return lambda _p: weight


def _depth_weight(p: Params) -> int:
    limit = p.integer("limit", 1) or 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _per_symbol(one: int, every: int) -> Callable[[Params], int]:
    return lambda p: one if p.get("symbol") else every


# --- public market data ------------------------------------------------------------------------


def _ping(_c: Call) -> object:
    return {}


def _time(c: Call) -> object:
    return {"serverTime": c.now}


def _exchange_info(c: Call) -> object:
    engine = c.core.engine
    wanted = None
    if c.params.get("symbol"):
        wanted = [c.params.symbol()]
    elif c.params.get("symbols"):
        wanted = _symbol_list(c.params.require("symbols"))
    specs = [engine.spec(s) for s in wanted] if wanted else list(engine.specs())
    c.params.get("permissions")
    show_sets = _boolean(c.params, "showPermissionSets", default=True)
    c.params.get("symbolStatus")
    return {
        "timezone": "UTC",
        "serverTime": c.now,
        "rateLimits": c.core.limits.exchange_info(),
        "exchangeFilters": [],
        "symbols": [s.exchange_info(show_permission_sets=show_sets) for s in specs],
    }


def _boolean(params: Params, name: str, *, default: bool) -> bool:
    """A BOOLEAN parameter: ``true`` or ``false`` (absent: ``default``), else -1130."""
    value = params.get(name)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise bad_param(name)
    return value == "true"


def _symbol_list(raw: str) -> list[str]:
    try:
        names = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        raise ExchangeRejection(
            -1100,
            "Illegal characters found in parameter 'symbols'; legal range is "
            '\'^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$\'.',
        ) from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ExchangeRejection(-1100, "Illegal characters found in parameter 'symbols'.")
    if len(set(names)) != len(names):
        raise ExchangeRejection(-1151, "Symbol is present multiple times in the list.")
    return [n.upper() for n in names]


def _depth(c: Call) -> object:
    symbol = c.params.symbol()
    c.core.engine.spec(symbol)
    _status_matches(c, single=True)
    limit = min(c.params.integer("limit", 1) or 100, 5000)
    depth = c.core.engine.depth(symbol, limit)
    return {
        "lastUpdateId": depth.update_id,
        "bids": [[fmt(p), fmt(q)] for p, q in depth.bids],
        "asks": [[fmt(p), fmt(q)] for p, q in depth.asks],
    }


def _trades(c: Call) -> object:
    symbol = c.params.symbol()
    c.core.engine.spec(symbol)
    limit = c.params.integer("limit", 1, 1000) or 500
    tape = c.core.engine.recent_trades(symbol, limit)
    return [t.rest_body() for t in tape]


def _historical_trades(c: Call) -> object:
    """GET /api/v3/historicalTrades: ``limit`` trades from ``fromId`` (default: the latest).

    Served from the tape, which holds a symbol's last 100,000 trades: an older ``fromId`` starts
    at the oldest trade still held.
    """
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    limit = p.integer("limit", 1, 1000) or 500
    from_id = p.integer("fromId", 0)
    p.get("apiKey")  # sent by clients that still treat this as a MARKET_DATA request
    if from_id is None:
        return [t.rest_body() for t in c.core.engine.recent_trades(symbol, limit)]
    tape = c.core.engine.recent_trades(symbol)
    start = bisect_left(tape, from_id, key=_trade_id)
    return [t.rest_body() for t in tape[start : start + limit]]


def _trade_id(trade: TapeTrade) -> int:
    return trade.trade_id


def _agg_trades(c: Call) -> object:
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    from_id = p.integer("fromId", 0)
    start, end = p.integer("startTime", 0), p.integer("endTime", 0)
    limit = p.integer("limit", 1, 1000) or 500
    tape = c.core.engine.recent_trades(symbol)
    if from_id is not None:
        tape = [t for t in tape if t.agg_id >= from_id]
    if start is not None:
        tape = [t for t in tape if t.time >= start]
    if end is not None:
        tape = [t for t in tape if t.time <= end]
    rows = marketdata.aggregate(tape)
    return rows[:limit] if from_id is not None or start is not None else rows[-limit:]


def _klines(c: Call) -> object:
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    interval = marketdata.check_interval(p.require("interval"))
    start, end = p.integer("startTime", 0), p.integer("endTime", 0)
    p.get("timeZone")
    limit = p.integer("limit", 1, 1000) or 500
    # Klines are chosen by their open time (a candle is never cut at startTime), and a quiet
    # market still has its flat candles, up to the one forming now, as Binance answers.
    built = marketdata.fill_to(
        marketdata.candles(c.core.engine.recent_trades(symbol), interval),
        interval,
        c.now,
        keep=limit if start is None else None,
    )
    rows = [
        marketdata.kline_row(k)
        for k in built
        if (start is None or k.open_time >= start) and (end is None or k.open_time <= end)
    ]
    return rows[:limit] if start is not None else rows[-limit:]


def _avg_price(c: Call) -> object:
    symbol = c.params.symbol()
    c.core.engine.spec(symbol)
    price, close = marketdata.average_price(c.core.engine, symbol, c.now)
    return {"mins": marketdata.AVG_PRICE_MINS, "price": fmt(price), "closeTime": close}


def _symbols_param(c: Call) -> list[str] | None:
    if c.params.get("symbol"):
        symbol = c.params.symbol()
        c.core.engine.spec(symbol)
        return [symbol]
    if c.params.get("symbols"):
        names = _symbol_list(c.params.require("symbols"))
        for name in names:
            c.core.engine.spec(name)
        return names
    return None


def _book_ticker(c: Call) -> object:
    names = _symbols_param(c)
    if not _status_matches(c, single=bool(c.params.get("symbol"))):
        return []
    bodies = [_book_ticker_body(c, s) for s in (names or c.core.engine.symbols())]
    return bodies[0] if c.params.get("symbol") else bodies


def _book_ticker_body(c: Call, symbol: str) -> dict[str, object]:
    bid, ask = c.core.engine.best_bid_ask(symbol)
    return {
        "symbol": symbol,
        "bidPrice": fmt(bid[0]) if bid else ZERO_TEXT,
        "bidQty": fmt(bid[1]) if bid else ZERO_TEXT,
        "askPrice": fmt(ask[0]) if ask else ZERO_TEXT,
        "askQty": fmt(ask[1]) if ask else ZERO_TEXT,
    }


def _price_ticker(c: Call) -> object:
    names = _symbols_param(c)
    if not _status_matches(c, single=bool(c.params.get("symbol"))):
        return []
    engine = c.core.engine
    bodies = [
        {"symbol": s, "price": fmt(engine.last_price(s) or engine.spec(s).start_price)}
        for s in (names or engine.symbols())
    ]
    return bodies[0] if c.params.get("symbol") else bodies


# ticker/24hr type=MINI: the FULL body without the change, average, close and book fields
_MINI_FIELDS = (
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
)


def _ticker_24hr(c: Call) -> object:
    ticker_type = c.params.get("type") or "FULL"
    if ticker_type not in ("FULL", "MINI"):
        raise ExchangeRejection(-1139, "Invalid ticker type.")
    names = _symbols_param(c)
    if not _status_matches(c, single=bool(c.params.get("symbol"))):
        return []
    bodies = [_day_body(c, s) for s in (names or c.core.engine.symbols())]
    if ticker_type == "MINI":
        bodies = [{k: body[k] for k in _MINI_FIELDS} for body in bodies]
    return bodies[0] if c.params.get("symbol") else bodies


def _day_body(c: Call, symbol: str) -> dict[str, object]:
    """24 h rolling statistics of ``symbol`` from the tape, as ticker/24hr (FULL) shows them."""
    stats = marketdata.rolling_ticker(c.core.engine, symbol, c.now - 86_400_000, c.now)
    return stats.rest_body(_book_ticker_body(c, symbol))


def _ticker_weight(p: Params) -> int:
    if p.get("symbol"):
        return 2
    raw = p.get("symbols")
    if raw is None:
        return 80
    count = raw.count(",") + 1
    return 2 * count if count <= 20 else 40 if count <= 100 else 80


_MAX_TICKER_SYMBOLS = 100
_SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK")


def _window_weight(p: Params) -> int:
    """ticker and ticker/tradingDay: 4 per symbol, at most 200 (more than 50 symbols)."""
    raw = p.get("symbols")
    count = 1 if raw is None or p.get("symbol") else raw.count(",") + 1
    return min(4 * count, 200)


def _window_symbols(c: Call) -> list[str]:
    """``symbol`` or ``symbols`` (exactly one of them, at most 100 names), each listed."""
    has_one, has_many = c.params.get("symbol") is not None, c.params.get("symbols") is not None
    if has_one == has_many:
        if has_one:
            raise ExchangeRejection(-1128, "Combination of optional parameters invalid.")
        raise ExchangeRejection(
            -1102, "Param 'symbol' or 'symbols' must be sent, but both were empty/null!"
        )
    names = [c.params.symbol()] if has_one else _symbol_list(c.params.require("symbols"))
    if len(names) > _MAX_TICKER_SYMBOLS:
        raise ExchangeRejection(
            -1101,
            f"Too many parameters; expected '{_MAX_TICKER_SYMBOLS}' and received '{len(names)}'.",
        )
    for name in names:
        c.core.engine.spec(name)
    return names if _status_matches(c, single=has_one) else []


def _status_matches(c: Call, *, single: bool) -> bool:
    """The ``symbolStatus`` filter of the market data endpoints (every local symbol is TRADING).

    False when the symbols asked for are all filtered out; for a ``single`` symbol a mismatch is
    -1220 instead, as the docs of depth, ticker/price, ticker/bookTicker and ticker/24hr say.
    """
    status = c.params.get("symbolStatus")
    if status is None:
        return True
    if status not in _SYMBOL_STATUSES:
        raise bad_param("symbolStatus")
    if status == "TRADING":
        return True
    if single:
        raise ExchangeRejection(
            -1220, "The symbol's status does not match the requested symbolStatus."
        )
    return False


def _mini(params: Params) -> bool:
    """The ``type`` parameter: FULL (the default) or MINI, else -1139."""
    ticker_type = params.get("type") or "FULL"
    if ticker_type not in ("FULL", "MINI"):
        raise ExchangeRejection(-1139, "Invalid ticker type.")
    return ticker_type == "MINI"


def _rolling_window(c: Call) -> object:
    """GET /api/v3/ticker: statistics over ``windowSize`` (default 1d), opening on a minute."""
    size = marketdata.parse_window_size(c.params.get("windowSize") or "1d")
    mini = _mini(c.params)
    names = _window_symbols(c)
    open_time = marketdata.window_open(size, c.now)
    bodies = [
        marketdata.rolling_ticker(c.core.engine, s, open_time, c.now).window_body(mini=mini)
        for s in names
    ]
    return bodies[0] if c.params.get("symbol") else bodies


def _trading_day(c: Call) -> object:
    """GET /api/v3/ticker/tradingDay: statistics of the current day in ``timeZone`` (UTC)."""
    offset = marketdata.parse_time_zone(c.params.get("timeZone"))
    mini = _mini(c.params)
    names = _window_symbols(c)
    open_time, close_time = marketdata.trading_day(c.now, offset)
    bodies = [
        replace(
            marketdata.rolling_ticker(c.core.engine, s, open_time, c.now), close_time=close_time
        ).window_body(mini=mini)
        for s in names
    ]
    return bodies[0] if c.params.get("symbol") else bodies


# --- account and trading -----------------------------------------------------------------------


def _new_order(c: Call) -> object:
    req = read_order(c.params)
    resp_type = read_resp_type(c.params, req.type)
    c.params.finish(ORDER_PARAMS)
    c.core.limiter.check_order(c.account, c.now)
    placed = c.core.engine.place(c.account, req)  # a refused order is not counted
    c.core.limiter.count_order(c.account, c.now)
    c.core.metrics.orders_placed += 1
    if c.core.faults.answer_503():
        raise STATUS_UNKNOWN
    return order_response(placed, resp_type)


def order_response(placed: Placed, resp_type: str) -> dict[str, object]:
    """A new order's response body in the ACK, RESULT or FULL shape."""
    order = placed.order
    if resp_type == "ACK":
        return {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": order.time,
        }
    body = order.result_body(order.time)
    if resp_type == "FULL":
        body["fills"] = [f.order_fill_body() for f in placed.fills]
        if placed.prevented:  # stp_faq.md's examples: beside fills, only when there were any
            body["preventedMatches"] = [m.order_body() for m in placed.prevented]
    return body


def _test_order(c: Call) -> object:
    req = read_order(c.params)
    read_resp_type(c.params, req.type)
    compute = c.params.get("computeCommissionRates") == "true"
    c.params.finish(ORDER_PARAMS)
    c.core.engine.validate(c.account, req)
    if not compute:
        return {}
    account = c.core.engine.account(c.account)
    return {
        "standardCommissionForOrder": {
            "maker": fmt(account.maker_rate),
            "taker": fmt(account.taker_rate),
        },
        "specialCommissionForOrder": {"maker": ZERO_TEXT, "taker": ZERO_TEXT},
        "taxCommissionForOrder": {"maker": ZERO_TEXT, "taker": ZERO_TEXT},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": ZERO_TEXT,
        },
    }


def _find(c: Call) -> OrderRecord:
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    order_id = p.integer("orderId", 0)
    client_id = p.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise ExchangeRejection(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    return c.core.engine.order(c.account, symbol, order_id=order_id, client_id=client_id)


def _get_order(c: Call) -> object:
    order = _find(c)
    c.params.finish(("recvWindow", "timestamp"))
    return order.query_body()


def cancel_body(order: OrderRecord, cancel_id: str, now: int) -> dict[str, object]:
    """A cancelled order as DELETE /api/v3/order returns it."""
    return {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_id,
        "transactTime": now,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "cummulativeQuoteQty": fmt(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "selfTradePreventionMode": order.stp_mode,
    }


def _cancel_order(c: Call) -> object:
    try:
        order = _find(c)
    except ExchangeRejection as exc:
        if exc.code == -2013:
            raise ExchangeRejection(-2011, "Unknown order sent.") from None
        raise
    cancel_id = c.params.get("newClientOrderId") or c.core.engine.new_client_id()
    c.params.get("cancelRestrictions")
    c.params.finish(("recvWindow", "timestamp"))
    cancelled = c.core.engine.cancel(
        c.account, order.symbol, order_id=order.order_id, cancel_client_id=cancel_id
    )
    return cancel_body(cancelled, cancel_id, c.now)


def _open_orders(c: Call) -> object:
    symbol = c.params.symbol() if c.params.get("symbol") else None
    if symbol is not None:
        c.core.engine.spec(symbol)
    return [o.query_body() for o in c.core.engine.open_orders(c.account, symbol)]


def _cancel_all(c: Call) -> object:
    symbol = c.params.symbol()
    engine = c.core.engine
    engine.spec(symbol)
    c.params.finish()
    orders = engine.open_orders(c.account, symbol)
    if not orders:
        raise ExchangeRejection(-2011, "Unknown order sent.")
    out = []
    for order in orders:
        cancel_id = engine.new_client_id()
        cancelled = engine.cancel(
            c.account, symbol, order_id=order.order_id, cancel_client_id=cancel_id
        )
        out.append(cancel_body(cancelled, cancel_id, c.now))
    return out


def _all_orders(c: Call) -> object:
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    order_id = p.integer("orderId", 0)
    start, end = p.integer("startTime", 0), p.integer("endTime", 0)
    limit = p.integer("limit", 1, 1000) or 500
    orders = [
        o
        for o in c.core.engine.all_orders(c.account, symbol)
        if (order_id is None or o.order_id >= order_id)
        and (start is None or o.time >= start)
        and (end is None or o.time <= end)
    ]
    orders = orders[:limit] if order_id is not None or start is not None else orders[-limit:]
    return [o.query_body() for o in orders]


def _account(c: Call) -> object:
    account = c.core.engine.account(c.account)
    omit = c.params.get("omitZeroBalances") == "true"
    balances = account.balances_body()
    if omit:
        balances = [b for b in balances if b["free"] != ZERO_TEXT or b["locked"] != ZERO_TEXT]
    assert c.key is not None
    return {
        **account.commission_body(),
        "canTrade": "spot" in c.key.permissions,
        "canWithdraw": "withdrawals" in c.key.permissions,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": account.update_time,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 100_000_000 + c.account,
    }


def _my_trades(c: Call) -> object:
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    order_id = p.integer("orderId", 0)
    from_id = p.integer("fromId", 0)
    start, end = p.integer("startTime", 0), p.integer("endTime", 0)
    limit = p.integer("limit", 1, 1000) or 500
    fills = [
        f
        for f in c.core.engine.my_trades(c.account, symbol)
        if (order_id is None or f.order_id == order_id)
        and (from_id is None or f.trade_id >= from_id)
        and (start is None or f.time >= start)
        and (end is None or f.time <= end)
    ]
    fills = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
    return [f.my_trade_body() for f in fills]


def _commission(c: Call) -> object:
    """GET /api/v3/account/commission: the account's rates; no special, tax or BNB discount."""
    symbol = c.params.symbol()
    c.core.engine.spec(symbol)
    account = c.core.engine.account(c.account)
    none = {"maker": ZERO_TEXT, "taker": ZERO_TEXT, "buyer": ZERO_TEXT, "seller": ZERO_TEXT}
    return {
        "symbol": symbol,
        "standardCommission": {
            "maker": fmt(account.maker_rate),
            "taker": fmt(account.taker_rate),
            "buyer": ZERO_TEXT,
            "seller": ZERO_TEXT,
        },
        "specialCommission": dict(none),
        "taxCommission": dict(none),
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": ZERO_TEXT,
        },
    }


def _order_rate_limits(c: Call) -> object:
    """GET /api/v3/rateLimit/order: the account's order counts in each ORDERS window."""
    ten_s, day = c.core.limiter.order_counts(c.account, c.now)
    limits = c.core.limits
    return [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": limits.orders_per_10s,
            "count": ten_s,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "DAY",
            "intervalNum": 1,
            "limit": limits.orders_per_day,
            "count": day,
        },
    ]


def _prevented_matches(c: Call) -> object:
    """GET /api/v3/myPreventedMatches: the account's matches self-trade prevention stopped.

    Supported combinations (rest-api.md): symbol + preventedMatchId, symbol + orderId, and
    symbol + orderId + fromPreventedMatchId [+ limit] (default 500); others get -1128.
    """
    p = c.params
    symbol = p.symbol()
    c.core.engine.spec(symbol)
    match_id = p.integer("preventedMatchId", 0)
    order_id = p.integer("orderId", 0)
    from_id = p.integer("fromPreventedMatchId", 0)
    limit = p.integer("limit", 1, 1000)
    by_match = match_id is not None and order_id is None and from_id is None and limit is None
    by_order = order_id is not None and match_id is None and (limit is None or from_id is not None)
    if not (by_match or by_order):
        raise ExchangeRejection(-1128, "Combination of optional parameters invalid.")
    matches = c.core.engine.prevented_matches(c.account, symbol)
    if by_match:
        return [m.query_body() for m in matches if m.prevented_match_id == match_id]
    chosen = [
        m
        for m in matches
        if order_id in (m.taker_order_id, m.maker_order_id)
        and (from_id is None or m.prevented_match_id >= from_id)
    ]
    return [m.query_body() for m in chosen[: limit or 500]]


def _prevented_weight(p: Params) -> int:
    return 20 if p.get("orderId") and not p.get("preventedMatchId") else 2


def _api_restrictions(c: Call) -> object:
    assert c.key is not None
    return c.key.restrictions_body()


ROUTES: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v3/ping"): Endpoint(_ping, _fixed(1)),
    ("GET", "/api/v3/time"): Endpoint(_time, _fixed(1)),
    ("GET", "/api/v3/exchangeInfo"): Endpoint(_exchange_info, _fixed(20)),
    ("GET", "/api/v3/depth"): Endpoint(_depth, _depth_weight),
    ("GET", "/api/v3/trades"): Endpoint(_trades, _fixed(25)),
    ("GET", "/api/v3/historicalTrades"): Endpoint(_historical_trades, _fixed(25)),
    ("GET", "/api/v3/aggTrades"): Endpoint(_agg_trades, _fixed(4)),
    ("GET", "/api/v3/klines"): Endpoint(_klines, _fixed(2)),
    ("GET", "/api/v3/uiKlines"): Endpoint(_klines, _fixed(2)),
    ("GET", "/api/v3/avgPrice"): Endpoint(_avg_price, _fixed(2)),
    ("GET", "/api/v3/ticker/bookTicker"): Endpoint(_book_ticker, _per_symbol(2, 4)),
    ("GET", "/api/v3/ticker/price"): Endpoint(_price_ticker, _per_symbol(2, 4)),
    ("GET", "/api/v3/ticker/24hr"): Endpoint(_ticker_24hr, _ticker_weight),
    ("GET", "/api/v3/ticker"): Endpoint(_rolling_window, _window_weight),
    ("GET", "/api/v3/ticker/tradingDay"): Endpoint(_trading_day, _window_weight),
    ("POST", "/api/v3/order"): Endpoint(_new_order, _fixed(1), "TRADE", counts_order=True),
    ("POST", "/api/v3/order/test"): Endpoint(
        _test_order, lambda p: 20 if p.get("computeCommissionRates") == "true" else 1, "TRADE"
    ),
    ("GET", "/api/v3/order"): Endpoint(_get_order, _fixed(4), "USER_DATA"),
    ("DELETE", "/api/v3/order"): Endpoint(_cancel_order, _fixed(1), "TRADE"),
    ("GET", "/api/v3/openOrders"): Endpoint(_open_orders, _per_symbol(6, 80), "USER_DATA"),
    ("DELETE", "/api/v3/openOrders"): Endpoint(_cancel_all, _fixed(1), "TRADE"),
    ("GET", "/api/v3/allOrders"): Endpoint(_all_orders, _fixed(20), "USER_DATA"),
    ("GET", "/api/v3/account"): Endpoint(_account, _fixed(20), "USER_DATA"),
    ("GET", "/api/v3/myTrades"): Endpoint(
        _my_trades, lambda p: 5 if p.get("orderId") else 20, "USER_DATA"
    ),
    ("GET", "/api/v3/account/commission"): Endpoint(_commission, _fixed(20), "USER_DATA"),
    ("GET", "/api/v3/rateLimit/order"): Endpoint(_order_rate_limits, _fixed(40), "USER_DATA"),
    ("GET", "/api/v3/myPreventedMatches"): Endpoint(
        _prevented_matches, _prevented_weight, "USER_DATA"
    ),
    ("GET", "/sapi/v1/account/apiRestrictions"): Endpoint(
        _api_restrictions, _fixed(1), "USER_DATA"
    ),
    # order lists, cancel-replace and amend: disabled on every symbol (see exchangeInfo)
    **{
        route: Endpoint(refuse, _fixed(1), "TRADE", counts_order=True)
        for route, refuse in order_lists.REFUSED_PLACEMENTS.items()
    },
    ("DELETE", "/api/v3/orderList"): Endpoint(order_lists.cancel_order_list, _fixed(1), "TRADE"),
    ("GET", "/api/v3/orderList"): Endpoint(order_lists.query_order_list, _fixed(4), "USER_DATA"),
    ("GET", "/api/v3/allOrderList"): Endpoint(order_lists.all_order_lists, _fixed(20), "USER_DATA"),
    ("GET", "/api/v3/openOrderList"): Endpoint(order_lists.all_order_lists, _fixed(6), "USER_DATA"),
    # the wallet and margin catalogues clients read while loading markets
    ("GET", "/sapi/v1/capital/config/getall"): Endpoint(wallet.all_coins, _fixed(10), "USER_DATA"),
    ("GET", "/sapi/v1/asset/tradeFee"): Endpoint(wallet.trade_fee, _fixed(1), "USER_DATA"),
    ("GET", "/sapi/v1/system/status"): Endpoint(wallet.system_status, _fixed(1)),
    ("GET", "/sapi/v1/margin/allPairs"): Endpoint(wallet.no_pairs, _fixed(1), "USER_DATA"),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): Endpoint(
        wallet.no_pairs, _fixed(10), "USER_DATA"
    ),
}

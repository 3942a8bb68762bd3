"""IB orders: placement through the question chain, modify, cancel, state merged by orderId.

- Our client order id travels as ``cOID`` (IB lists it back as ``order_ref``); IB refuses a
  cOID used in the last 24 hours, so a cOID names one order.
- A placement may be answered with a *question* (``messageIds`` such as ``o163``). Only the ids
  the user configured are confirmed (and suppressed at session start); any other question is
  declined and raised as :class:`~tradewire.errors.IBQuestionRefused` with its text.
- Rejects arrive as HTTP 200 ``{"error": ...}`` (:class:`~tradewire.errors.IBOrderRejected`).
- Placements go one at a time per account (IB: send the next order only once the previous one
  is acknowledged; a new placement makes earlier reply ids stale).
- When an order's fate is unknown (no answer, a 5xx, a stale reply id), the order is looked up
  by cOID among the live orders, never sent again blindly.
- ``sor`` pushes carry only the changed fields plus ``orderId``: :class:`OrderTable` merges
  them over the full rows by orderId.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from tradewire.errors import (
    APIError,
    IBOrderRejected,
    IBQuestionRefused,
    InvalidOrder,
    OrderNotFound,
    OrderStatusUnknown,
    ParseError,
)
from tradewire.ib.marketdata import parse_ib_number

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.ib.transport import IBTransport

__all__ = [
    "OPEN_STATUSES",
    "IBExecution",
    "IBOrder",
    "IBOrderAck",
    "IBOrderRequest",
    "IBOrders",
    "OrderTable",
    "parse_execution",
    "parse_order_row",
]

IBOrderType = Literal["LMT", "MKT", "STP", "STOP_LIMIT"]
OPEN_STATUSES = frozenset({"PendingSubmit", "PreSubmitted", "Submitted", "PendingCancel"})
"""Statuses of an order still working at IB."""
MAX_QUESTIONS = 20
# IB's order type names in live-order rows, back to the names orders are sent with.
_ROW_TYPES = {"Limit": "LMT", "Market": "MKT", "Stop": "STP", "Stop Limit": "STOP_LIMIT"}


def _wire_number(value: Decimal, name: str) -> float:
    """``value`` as a JSON number whose text is exactly the decimal (else InvalidOrder)."""
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise InvalidOrder(f"{name} {value} has more digits than IB's JSON number can carry")
    return as_float


@dataclass(frozen=True)
class IBOrderRequest:
    """An order to send: whole shares, prices on the contract's tick, our id as ``cOID``.

    ``price`` is the limit (LMT, STOP_LIMIT) or the stop (STP); ``aux_price`` is the stop of a
    STOP_LIMIT. ``tif``: DAY, GTC, IOC or OPG.
    """

    conid: int
    side: Literal["BUY", "SELL"]
    quantity: Decimal
    order_type: IBOrderType
    client_order_id: str
    price: Decimal | None = None
    aux_price: Decimal | None = None
    tif: str = "DAY"
    outside_rth: bool = False

    def __post_init__(self) -> None:
        if self.side not in ("BUY", "SELL"):
            raise InvalidOrder(f"side must be BUY or SELL, not {self.side!r}")
        if self.order_type not in ("LMT", "MKT", "STP", "STOP_LIMIT"):
            raise InvalidOrder(
                f"order_type must be LMT, MKT, STP or STOP_LIMIT: {self.order_type!r}"
            )
        if not isinstance(self.quantity, Decimal) or self.quantity <= 0:
            raise InvalidOrder(f"quantity must be a positive Decimal, not {self.quantity!r}")
        if self.quantity != self.quantity.to_integral_value():
            raise InvalidOrder(f"IB takes whole shares only: {self.quantity}")
        if self.order_type != "MKT" and self.price is None:
            raise InvalidOrder(f"a {self.order_type} order needs a price")
        if self.order_type == "STOP_LIMIT" and self.aux_price is None:
            raise InvalidOrder("a STOP_LIMIT order needs aux_price (the stop)")
        if not self.client_order_id or len(self.client_order_id) > 64:
            raise InvalidOrder("client_order_id must be 1 to 64 characters")
        if self.tif not in ("DAY", "GTC", "IOC", "OPG"):
            raise InvalidOrder(f"tif must be DAY, GTC, IOC or OPG, not {self.tif!r}")
        for name in ("quantity", "price", "aux_price"):
            value = getattr(self, name)
            if value is not None:
                _wire_number(value, name)

    def body(self, account_id: str) -> dict[str, Any]:
        """The order object of ``POST /iserver/account/{acct}/orders``."""
        out: dict[str, Any] = {
            "acctId": account_id,
            "conid": self.conid,
            "orderType": self.order_type,
            "side": self.side,
            "quantity": _wire_number(self.quantity, "quantity"),
            "tif": self.tif,
            "outsideRTH": self.outside_rth,
            "cOID": self.client_order_id,
        }
        if self.price is not None:
            out["price"] = _wire_number(self.price, "price")
        if self.aux_price is not None:
            out["auxPrice"] = _wire_number(self.aux_price, "aux_price")
        return out


@dataclass(frozen=True)
class IBOrderAck:
    """IB's acknowledgement of a placement or modify: its order id and first status."""

    order_id: int
    status: str
    client_order_id: str


@dataclass(frozen=True)
class IBOrder:
    """An order's state as IB reports it (live-order rows and ``sor`` pushes), exact."""

    order_id: int
    client_order_id: str | None
    conid: int
    symbol: str
    side: str
    order_type: str
    status: str
    quantity: Decimal | None
    filled: Decimal
    remaining: Decimal | None
    price: Decimal | None
    aux_price: Decimal | None
    avg_price: Decimal | None
    tif: str
    time_ms: int

    @property
    def is_open(self) -> bool:
        """Still working at IB."""
        return self.status in OPEN_STATUSES


def _int(value: object, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str | Decimal):
        try:
            return int(str(value))
        except ValueError:
            pass
    raise ParseError(f"IB order field {name} is not an integer: {value!r}")


def parse_order_row(row: dict[str, Any]) -> IBOrder:
    """An :class:`IBOrder` from a live-order row (or a merged ``sor`` row)."""
    side = str(row.get("side") or "")
    side = {"B": "BUY", "S": "SELL"}.get(side, side)
    order_type = str(row.get("orderType") or row.get("origOrderType") or "")
    time_r = row.get("lastExecutionTime_r")
    return IBOrder(
        order_id=_int(row.get("orderId"), "orderId"),
        client_order_id=None if row.get("order_ref") is None else str(row["order_ref"]),
        conid=_int(row.get("conid", 0), "conid"),
        symbol=str(row.get("ticker") or ""),
        side=side,
        order_type=_ROW_TYPES.get(order_type, order_type.upper()),
        status=str(row.get("status") or ""),
        quantity=parse_ib_number(row.get("totalSize"), field="totalSize"),
        filled=parse_ib_number(row.get("filledQuantity"), field="filledQuantity") or Decimal(0),
        remaining=parse_ib_number(row.get("remainingQuantity"), field="remainingQuantity"),
        price=parse_ib_number(row.get("price"), field="price"),
        aux_price=parse_ib_number(row.get("auxPrice"), field="auxPrice"),
        avg_price=parse_ib_number(row.get("avgPrice"), field="avgPrice"),
        tif=str(row.get("timeInForce") or ""),
        time_ms=int(time_r) if isinstance(time_r, int | Decimal) else 0,
    )


@dataclass(frozen=True)
class IBExecution:
    """One execution (``str`` and ``/iserver/account/trades``), exact.

    ``commission`` is None when IB has not reported it yet (it may arrive in a later row).
    """

    execution_id: str
    order_id: int | None
    client_order_id: str | None
    conid: int
    symbol: str
    side: str
    size: Decimal
    price: Decimal
    commission: Decimal | None
    time_ms: int


def parse_execution(row: dict[str, Any]) -> IBExecution:
    """An :class:`IBExecution` from an execution row."""
    size = parse_ib_number(row.get("size"), field="size")
    price = parse_ib_number(row.get("price"), field="price")
    if size is None or price is None or not row.get("execution_id"):
        raise ParseError(f"an execution without id, size or price: {row!r}")
    side = str(row.get("side") or "")
    order_id = row.get("order_id")
    time_r = row.get("trade_time_r")
    return IBExecution(
        execution_id=str(row["execution_id"]),
        order_id=None if order_id is None else _int(order_id, "order_id"),
        client_order_id=None if row.get("order_ref") is None else str(row["order_ref"]),
        conid=_int(row.get("conid", 0), "conid"),
        symbol=str(row.get("symbol") or ""),
        side={"B": "BUY", "S": "SELL"}.get(side, side),
        size=size,
        price=price,
        commission=parse_ib_number(row.get("commission"), field="commission"),
        time_ms=int(time_r) if isinstance(time_r, int | Decimal) else 0,
    )


class OrderTable:
    """Every known order's row, merged by orderId from full rows and ``sor`` deltas."""

    def __init__(self) -> None:
        self._rows: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def merge(self, rows: Iterable[object]) -> list[IBOrder]:
        """Merge rows (full or delta) over what is known; the orders that changed."""
        changed: list[IBOrder] = []
        for row in rows:
            if not isinstance(row, dict) or row.get("orderId") is None:
                continue
            order_id = _int(row["orderId"], "orderId")
            merged = self._rows.setdefault(order_id, {})
            before = dict(merged)
            merged.update(row)
            if merged != before:
                changed.append(parse_order_row(merged))
        return changed

    def get(self, order_id: int) -> IBOrder | None:
        """The order with IB's ``order_id``, if known."""
        row = self._rows.get(order_id)
        return None if row is None else parse_order_row(row)

    def by_client_id(self, client_order_id: str) -> IBOrder | None:
        """The order whose cOID is ``client_order_id``, if known."""
        for row in self._rows.values():
            if row.get("order_ref") == client_order_id:
                return parse_order_row(row)
        return None


class IBOrders:
    """Places, modifies, cancels and looks up orders of one account.

    Args:
        transport: The HTTP layer.
        account_id: The account the orders belong to.
        confirm: Question message ids to suppress at session start and confirm when asked.
    """

    def __init__(
        self, transport: IBTransport, account_id: str, *, confirm: Iterable[str] = ()
    ) -> None:
        self._t = transport
        self.account_id = account_id
        self.confirm = frozenset(confirm)
        self.table = OrderTable()
        self._place_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"IBOrders({self.account_id!r}, confirm={sorted(self.confirm)})"

    async def suppress_questions(self) -> None:
        """``POST /iserver/questions/suppress`` with the configured ids (once per session)."""
        if self.confirm:
            await self._t.request(
                "POST",
                "/iserver/questions/suppress",
                body={"messageIds": sorted(self.confirm)},
            )

    async def place(self, request: IBOrderRequest) -> IBOrderAck:
        """Place one order (one placement at a time for the account).

        Raises:
            IBQuestionRefused: IB asked a question not in ``confirm`` (the order is declined).
            IBOrderRejected: IB refused the order.
            OrderStatusUnknown: no answer, and the order is not among the live orders yet.
        """
        async with self._place_lock:
            path = f"/iserver/account/{self.account_id}/orders"
            try:
                answer = await self._t.request(
                    "POST", path, body={"orders": [request.body(self.account_id)]}, is_order=True
                )
                return await self._through_questions(answer, request.client_order_id, path)
            except OrderStatusUnknown:
                return await self._reconcile(request.client_order_id)
            except APIError as exc:
                raise self._rejected(exc) from None

    async def modify(self, order_id: int, request: IBOrderRequest) -> IBOrderAck:
        """Change an open order: ``request`` repeats the whole order with the new values."""
        async with self._place_lock:
            path = f"/iserver/account/{self.account_id}/order/{order_id}"
            try:
                answer = await self._t.request(
                    "POST", path, body=request.body(self.account_id), is_order=True
                )
                return await self._through_questions(answer, request.client_order_id, path)
            except OrderStatusUnknown:
                return await self._reconcile(request.client_order_id)
            except APIError as exc:
                raise self._rejected(exc) from None

    async def _through_questions(self, answer: Any, coid: str, path: str) -> IBOrderAck:
        for _ in range(MAX_QUESTIONS):
            item = answer[0] if isinstance(answer, list) and answer else answer
            if not isinstance(item, dict):
                raise OrderStatusUnknown(f"IB answered {answer!r} to an order", endpoint=path)
            if "order_id" in item:
                return IBOrderAck(
                    order_id=_int(item["order_id"], "order_id"),
                    status=str(item.get("order_status") or ""),
                    client_order_id=coid,
                )
            reply_id, ids = item.get("id"), item.get("messageIds")
            if not isinstance(reply_id, str) or not isinstance(ids, list):
                raise OrderStatusUnknown(f"IB answered {item!r} to an order", endpoint=path)
            texts = tuple(str(m) for m in item.get("message") or [])
            unknown = [str(i) for i in ids if str(i) not in self.confirm]
            reply_path = f"/iserver/reply/{reply_id}"
            if unknown:
                # Declined either way: IB discards an order whose question is not confirmed.
                with contextlib.suppress(APIError):
                    await self._t.request(
                        "POST", reply_path, body={"confirmed": False}, is_order=True
                    )
                raise IBQuestionRefused(
                    f"IB asked {', '.join(unknown)} about order {coid}, which is not configured "
                    f"to be confirmed: {' / '.join(texts)}",
                    message_ids=tuple(str(i) for i in ids),
                    questions=texts,
                    endpoint=path,
                )
            try:
                answer = await self._t.request(
                    "POST", reply_path, body={"confirmed": True}, is_order=True
                )
            except APIError as exc:
                if exc.status == 400 and "reply id not found" in exc.msg:
                    raise OrderStatusUnknown(exc.msg, status=400, endpoint=reply_path) from None
                raise self._rejected(exc) from None
        raise OrderStatusUnknown(f"more than {MAX_QUESTIONS} questions", endpoint=path)

    @staticmethod
    def _rejected(exc: APIError) -> APIError:
        if type(exc) is not APIError or exc.status not in (None, 200):
            return exc
        return IBOrderRejected(exc.msg, status=exc.status, endpoint=exc.endpoint)

    async def _reconcile(self, coid: str) -> IBOrderAck:
        found = await self.find(coid)
        if found is None:
            raise OrderStatusUnknown(
                f"order {coid}: the answer was lost and IB lists no order with this cOID yet; "
                "look again before sending it anew (IB refuses a repeated cOID, so resending "
                "under the same cOID cannot double it)",
                endpoint=f"/iserver/account/{self.account_id}/orders",
            )
        return IBOrderAck(order_id=found.order_id, status=found.status, client_order_id=coid)

    async def live_orders(self) -> list[IBOrder]:
        """Every order IB lists for the session (``force=true``, so ``sor`` keeps flowing)."""
        body = await self._t.request("GET", "/iserver/account/orders", params={"force": "true"})
        rows = body.get("orders") if isinstance(body, dict) else body
        self.table.merge(rows if isinstance(rows, list) else [])
        return [parse_order_row(r) for r in rows or [] if isinstance(r, dict)]

    async def find(self, client_order_id: str) -> IBOrder | None:
        """The order with this cOID among IB's live orders, or None."""
        for order in await self.live_orders():
            if order.client_order_id == client_order_id:
                return order
        return None

    async def trades(self, days: int = 1) -> list[IBExecution]:
        """``/iserver/account/trades``: executions of the last ``days`` (1 to 7; 1 call per 5 s)."""
        if not 1 <= days <= 7:
            raise ValueError("days must be 1 to 7")
        body = await self._t.request("GET", "/iserver/account/trades", params={"days": str(days)})
        return (
            [parse_execution(r) for r in body if isinstance(r, dict)]
            if isinstance(body, list)
            else []
        )

    async def status(self, order_id: int) -> dict[str, Any]:
        """``/iserver/account/order/status/{orderId}`` (a flat object; numbers as strings)."""
        body = await self._t.request("GET", f"/iserver/account/order/status/{order_id}")
        if not isinstance(body, dict):
            raise ParseError(f"order status answered {body!r}")
        return body

    async def cancel(self, order_id: int) -> None:
        """Ask IB to cancel; the answer acknowledges the request only (watch ``sor``).

        Raises:
            OrderNotFound: IB knows no open order with this id.
        """
        path = f"/iserver/account/{self.account_id}/order/{order_id}"
        try:
            await self._t.request("DELETE", path)
        except APIError as exc:
            if "doesn't exist" in exc.msg:
                raise OrderNotFound(exc.msg, status=exc.status, endpoint=path) from None
            raise

"""Matching and IB's order states: PreSubmitted, Submitted, PendingCancel, Filled, Cancelled,
Inactive; executions with commissions; the account's cash and positions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from tradewire.ibgateway.market import format_price

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.ibgateway.contracts import Contract
    from tradewire.ibgateway.market import Quote

__all__ = ["ORDER_TYPES", "Blotter", "Execution", "GatewayOrder", "GatewayPosition"]

# The Web API's orderType values and how the live-orders list names them.
ORDER_TYPES = {"LMT": "Limit", "MKT": "Market", "STP": "Stop", "STOP_LIMIT": "Stop Limit"}
_ORIG_TYPES = {"LMT": "LIMIT", "MKT": "MARKET", "STP": "STOP", "STOP_LIMIT": "STOP_LIMIT"}
OPEN_STATUSES = frozenset({"PreSubmitted", "Submitted", "PendingCancel"})
_CENT = Decimal("0.01")


def _ib_time(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
        "%y%m%d%H%M%S"
    )


def _num(value: Decimal) -> float:
    # The Web API sends quantities and amounts as JSON numbers; analytics-only floats at the edge.
    return float(value)


@dataclass(slots=True)
class GatewayOrder:
    """One order as the gateway keeps it."""

    order_id: int
    coid: str
    contract: Contract
    account: str
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    aux_price: Decimal | None
    tif: str
    outside_rth: bool
    time_ms: int
    status: str = "PreSubmitted"
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    triggered: bool = False
    fill_while_cancelling: bool = False

    @property
    def remaining(self) -> Decimal:
        """Shares still to fill."""
        return self.quantity - self.filled

    @property
    def avg_price(self) -> Decimal | None:
        """The average fill price, None before a fill."""
        return None if not self.filled else self.notional / self.filled

    def description(self) -> str:
        """IB's orderDesc: ``Buy 1 Limit 457.00, GTC``."""
        words = [self.side.capitalize(), f"{self.quantity:f}", ORDER_TYPES[self.order_type]]
        if self.price is not None:
            words.append(format_price(self.price))
        if self.aux_price is not None:
            words.append(f"Stop {format_price(self.aux_price)}")
        return f"{' '.join(words)}, {self.tif}"

    def live_row(self) -> dict[str, Any]:
        """The order as ``/iserver/account/orders`` and ``sor`` list it (the fixture's keys)."""
        row: dict[str, Any] = {
            "account": self.account,
            "acct": self.account,
            "bgColor": "#FFFFFF",
            "cashCcy": self.contract.currency,
            "companyName": self.contract.name,
            "conid": self.contract.conid,
            "conidex": str(self.contract.conid),
            "description1": self.contract.symbol,
            "fgColor": "#0000CC",
            "filledQuantity": _num(self.filled),
            "lastExecutionTime": _ib_time(self.time_ms),
            "lastExecutionTime_r": self.time_ms,
            "listingExchange": self.contract.exchange,
            "orderDesc": self.description(),
            "orderId": self.order_id,
            "orderType": ORDER_TYPES[self.order_type],
            "order_ccp_status": "Submitted" if self.status in OPEN_STATUSES else self.status,
            "order_ref": self.coid,
            "origOrderType": _ORIG_TYPES[self.order_type],
            "outsideRTH": self.outside_rth,
            "remainingQuantity": _num(self.remaining),
            "secType": "STK",
            "side": self.side,
            "sizeAndFills": f"{self.filled:f}/{self.quantity:f}",
            "status": self.status,
            "supportsTaxOpt": "1",
            "ticker": self.contract.symbol,
            "timeInForce": self.tif,
            "totalSize": _num(self.quantity),
        }
        if self.price is not None:
            row["price"] = format_price(self.price)
        if self.aux_price is not None:
            row["auxPrice"] = format_price(self.aux_price)
        if self.avg_price is not None:
            row["avgPrice"] = format_price(self.avg_price)
        return row

    def status_body(self) -> dict[str, Any]:
        """The order as ``/iserver/account/order/status/{id}`` answers (the fixture's keys)."""
        done = self.status not in OPEN_STATUSES
        desc = self.description()
        body: dict[str, Any] = {
            "account": self.account,
            "alert_active": 1,
            "allowed_duplicate_opposite": True,
            "available_chart_periods": "#R|1",
            "bg_color": "#0000CC",
            "cannot_cancel_order": done,
            "child_order_type": "3",
            "company_name": self.contract.name,
            "conid": self.contract.conid,
            "conidex": str(self.contract.conid),
            "contract_description_1": self.contract.symbol,
            "cum_fill": f"{self.filled:f}",
            "currency": self.contract.currency,
            "deactivate_order": False,
            "editable_fields": "\x1e",
            "exit_strategy_chart_description": desc,
            "exit_strategy_display_price": format_price(self.price) if self.price else "",
            "exit_strategy_tool_availability": "1",
            "fg_color": "#FFFFFF",
            "limit_price": format_price(self.price) if self.price else "",
            "listing_exchange": self.contract.exchange,
            "option_acct": "c",
            "order_ccp_status": "0" if not done else "1",
            "order_clearing_account": self.account,
            "order_description": desc,
            "order_description_with_contract": desc.replace(
                f" {ORDER_TYPES[self.order_type]}",
                f" {self.contract.symbol} {ORDER_TYPES[self.order_type]}",
                1,
            ),
            "order_id": self.order_id,
            "order_not_editable": done,
            "order_status": self.status,
            "order_status_description": "Order Submitted" if not done else f"Order {self.status}",
            "order_time": _ib_time(self.time_ms),
            "order_type": _ORIG_TYPES[self.order_type],
            "outside_rth": self.outside_rth,
            "request_id": str(self.order_id % 100_000),
            "sec_type": "STK",
            "server_id": "0",
            "side": self.side[0],
            "size": f"{self.remaining:f}",
            "size_and_fills": f"{self.filled:f}/{self.quantity:f}",
            "sub_type": None,
            "symbol": self.contract.symbol,
            "tif": self.tif,
            "total_size": f"{self.quantity:f}",
            "use_price_mgmt_algo": False,
        }
        if self.avg_price is not None:
            body["average_price"] = format_price(self.avg_price)
        return body


@dataclass(slots=True)
class Execution:
    """One fill: what ``str`` and ``/iserver/account/trades`` report."""

    execution_id: str
    order: GatewayOrder
    size: Decimal
    price: Decimal
    commission: Decimal
    time_ms: int

    def row(self) -> dict[str, Any]:
        """The execution as ``str`` and ``/iserver/account/trades`` list it."""
        net = self.size * self.price
        return {
            "execution_id": self.execution_id,
            "symbol": self.order.contract.symbol,
            "side": self.order.side[0],
            "order_description": f"{self.order.side.capitalize()} {self.size:f} @ {self.price:f}",
            "trade_time": datetime.datetime.fromtimestamp(
                self.time_ms / 1000, datetime.timezone.utc
            ).strftime("%Y%m%d-%H:%M:%S"),
            "trade_time_r": self.time_ms,
            "size": _num(self.size),
            "price": f"{self.price:f}",
            "order_ref": self.order.coid,
            "submitter": "user",
            "exchange": self.order.contract.exchange,
            "commission": f"{self.commission:f}",
            "net_amount": _num(net),
            "account": self.order.account,
            "accountCode": self.order.account,
            "company_name": self.order.contract.name,
            "contract_description_1": self.order.contract.symbol,
            "sec_type": "STK",
            "listing_exchange": self.order.contract.exchange,
            "conid": self.order.contract.conid,
            "conidEx": str(self.order.contract.conid),
            "order_id": self.order.order_id,
        }


@dataclass(slots=True)
class GatewayPosition:
    """Shares held (negative when short) and their average cost."""

    quantity: Decimal = Decimal(0)
    avg_cost: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)


def commission_for(size: Decimal, price: Decimal) -> Decimal:
    """IB's fixed US stock rate: 0.005 USD a share, at least 1.00, at most 1% of the value."""
    fee = max(size * Decimal("0.005"), Decimal("1.00"))
    return min(fee, size * price / 100).quantize(_CENT, ROUND_HALF_UP)


@dataclass
class Blotter:
    """Every order and execution of the account, the cash and positions; fills on market steps."""

    account: str
    cash: Decimal
    first_order_id: int
    orders: dict[int, GatewayOrder] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    positions: dict[int, GatewayPosition] = field(default_factory=dict)
    on_order: list[Callable[[GatewayOrder, dict[str, Any]], None]] = field(default_factory=list)
    on_execution: list[Callable[[Execution], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._next_id = self.first_order_id

    def by_coid(self, coid: str) -> GatewayOrder | None:
        """The order whose cOID is ``coid``."""
        for order in self.orders.values():
            if order.coid == coid:
                return order
        return None

    def new_order_id(self) -> int:
        """The next order id."""
        self._next_id += 1
        return self._next_id

    def add(self, order: GatewayOrder) -> None:
        """Accept an order (PreSubmitted, or Inactive when it was set so)."""
        self.orders[order.order_id] = order
        self._changed(order, order.live_row())

    def _changed(self, order: GatewayOrder, delta: dict[str, Any]) -> None:
        delta = {"acct": order.account, "orderId": order.order_id, **delta}
        for listener in self.on_order:
            listener(order, delta)

    def set_status(self, order: GatewayOrder, status: str) -> None:
        """Move ``order`` to ``status`` and report the delta."""
        if order.status != status:
            order.status = status
            self._changed(order, {"status": status})

    def step(
        self, quotes: dict[int, Quote], tradable: Callable[[GatewayOrder], bool], now_ms: int
    ) -> None:
        """Advance every open order one market step: submit, trigger, fill, finish cancels."""
        for order in list(self.orders.values()):
            if order.status not in OPEN_STATUSES:
                continue
            if order.status == "PendingCancel":
                if order.fill_while_cancelling and tradable(order):
                    self._fill(order, quotes[order.contract.conid], now_ms, force=True)
                if order.status == "PendingCancel":
                    self.set_status(order, "Cancelled")
                continue
            if not tradable(order):
                continue
            if order.status == "PreSubmitted" and order.order_type in ("LMT", "MKT"):
                self.set_status(order, "Submitted")
            self._fill(order, quotes[order.contract.conid], now_ms)

    def _fill(self, order: GatewayOrder, q: Quote, now_ms: int, *, force: bool = False) -> None:
        buy = order.side == "BUY"
        if order.order_type in ("STP", "STOP_LIMIT") and not order.triggered:
            stop = order.aux_price if order.order_type == "STOP_LIMIT" else order.price
            if stop is None or (not force and (q.last < stop if buy else q.last > stop)):
                return
            order.triggered = True
            self.set_status(order, "Submitted")
        touch = q.ask if buy else q.bid
        limit = order.price if order.order_type in ("LMT", "STOP_LIMIT") else None
        if limit is not None and (touch > limit if buy else touch < limit):
            if not force:
                return
            touch = limit
        size = min(order.remaining, Decimal(q.ask_size if buy else q.bid_size))
        if size <= 0:
            return
        self._execute(order, size, touch, now_ms)

    def _execute(self, order: GatewayOrder, size: Decimal, price: Decimal, now_ms: int) -> None:
        order.filled += size
        order.notional += size * price
        order.time_ms = now_ms
        fee = commission_for(size, price)
        signed = size if order.side == "BUY" else -size
        self.cash -= signed * price + fee
        pos = self.positions.setdefault(order.contract.conid, GatewayPosition())
        if pos.quantity == 0 or (pos.quantity > 0) == (signed > 0):
            total = pos.quantity + signed
            pos.avg_cost = (pos.avg_cost * abs(pos.quantity) + price * size) / abs(total)
            pos.quantity = total
        else:
            closed = min(abs(signed), abs(pos.quantity))
            direction = 1 if pos.quantity > 0 else -1
            pos.realized += (price - pos.avg_cost) * closed * direction
            pos.quantity += signed
            if pos.quantity == 0:
                pos.avg_cost = Decimal(0)
            elif (pos.quantity > 0) != (direction > 0):
                pos.avg_cost = price
        execution = Execution(
            execution_id=f"0000e0d5.{order.order_id:08x}.{len(self.executions) + 1:02d}.01",
            order=order,
            size=size,
            price=price,
            commission=fee,
            time_ms=now_ms,
        )
        self.executions.append(execution)
        status = "Filled" if order.remaining == 0 else order.status
        order.status = status
        delta = {
            "status": status,
            "filledQuantity": _num(order.filled),
            "remainingQuantity": _num(order.remaining),
            "sizeAndFills": f"{order.filled:f}/{order.quantity:f}",
            "avgPrice": format_price(order.avg_price or price),
            "lastExecutionTime_r": now_ms,
        }
        self._changed(order, delta)
        for listener in self.on_execution:
            listener(execution)

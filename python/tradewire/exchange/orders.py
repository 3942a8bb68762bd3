"""Orders, trades and fills: the records the matching engine creates and the API reports."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import ZERO, fmt

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["MARKET_ACCOUNT", "AccountFill", "OrderRecord", "PreventedMatch", "TapeTrade"]

MARKET_ACCOUNT = 0
"""The account id of the exchange's own liquidity (the synthetic or replayed market)."""

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


@dataclass(eq=False)
class OrderRecord:
    """The exchange's record of one order: what was asked, what executed, the funds it holds.

    The engine keeps its own records private; what its query API hands out is a copy, so changing
    one changes nothing on the exchange.
    """

    symbol: str
    order_id: int
    client_order_id: str
    account: int
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    time: int
    stop_price: Decimal = ZERO
    orig_quote_qty: Decimal = ZERO
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    working_time: int = -1
    locked: Decimal = ZERO
    locked_asset: str = ""
    stp_mode: str = "NONE"
    prevented_qty: Decimal = ZERO
    prevented_match_id: int = -1  # the last prevented match this order was in
    execution_id: int = 0  # the id of its last executionReport

    def copy(self) -> OrderRecord:
        """A detached copy (what leaves the engine)."""
        return dataclasses.replace(self)

    @property
    def remaining(self) -> Decimal:
        """Quantity available for further execution: neither executed nor prevented by STP.

        stp_faq.md: "original order quantity - executed quantity - prevented quantity = quantity
        available for further execution".
        """
        return self.orig_qty - self.executed_qty - self.prevented_qty

    @property
    def is_open(self) -> bool:
        """Whether the order is still NEW or PARTIALLY_FILLED."""
        return self.status in OPEN_STATUSES

    @property
    def is_working(self) -> bool:
        """Whether the order is on the book (a stop order is not until it triggers)."""
        return self.working_time >= 0

    def query_body(self) -> dict[str, object]:
        """The order as GET /api/v3/order returns it."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "stopPrice": fmt(self.stop_price),
            "icebergQty": "0.00000000",
            "time": self.time,
            "updateTime": self.update_time,
            "isWorking": self.is_working,
            "workingTime": self.working_time,
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            "selfTradePreventionMode": self.stp_mode,
            **self._prevented_fields(),
        }

    def _prevented_fields(self) -> dict[str, object]:
        """``preventedMatchId`` and ``preventedQuantity`` once STP prevented some of the order."""
        if self.prevented_match_id < 0:
            return {}
        return {
            "preventedMatchId": self.prevented_match_id,
            "preventedQuantity": fmt(self.prevented_qty),
        }

    def result_body(self, transact_time: int) -> dict[str, object]:
        """The order as a RESULT response (and a cancel, without workingTime) shows it."""
        body: dict[str, object] = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": transact_time,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "origQuoteOrderQty": fmt(self.orig_quote_qty),
            "cummulativeQuoteQty": fmt(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
        }
        if self.stop_price:
            body["stopPrice"] = fmt(self.stop_price)
        body["workingTime"] = self.working_time
        body["selfTradePreventionMode"] = self.stp_mode
        if self.prevented_qty:
            body["preventedQuantity"] = fmt(self.prevented_qty)
        return body


@dataclass(frozen=True)
class PreventedMatch:
    """A trade that self-trade prevention stopped (stp_faq.md, "What is a Prevented Match?").

    ``taker_qty`` and ``maker_qty`` are the quantities it expired (or, for DECREMENT, took off)
    of each order; None for an order the mode left alone.
    """

    symbol: str
    prevented_match_id: int
    taker_order_id: int
    maker_order_id: int
    account: int
    mode: str
    price: Decimal
    qty: Decimal  # what would have traded
    taker_qty: Decimal | None
    maker_qty: Decimal | None
    time: int

    def order_body(self) -> dict[str, object]:
        """The match as an element of a FULL order response's ``preventedMatches``."""
        body: dict[str, object] = {
            "preventedMatchId": self.prevented_match_id,
            "makerOrderId": self.maker_order_id,
            "price": fmt(self.price),
        }
        if self.taker_qty is not None:
            body["takerPreventedQuantity"] = fmt(self.taker_qty)
        if self.maker_qty is not None:
            body["makerPreventedQuantity"] = fmt(self.maker_qty)
        return body

    def query_body(self) -> dict[str, object]:
        """The match as GET /api/v3/myPreventedMatches lists it."""
        body: dict[str, object] = {
            "symbol": self.symbol,
            "preventedMatchId": self.prevented_match_id,
            "takerOrderId": self.taker_order_id,
            "makerOrderId": self.maker_order_id,
            "tradeGroupId": -1,
            "selfTradePreventionMode": self.mode,
            "price": fmt(self.price),
        }
        if self.taker_qty is not None:
            body["takerPreventedQuantity"] = fmt(self.taker_qty)
        if self.maker_qty is not None:
            body["makerPreventedQuantity"] = fmt(self.maker_qty)
        body["transactTime"] = self.time
        return body


@dataclass(frozen=True)
class TapeTrade:
    """One public trade between a taker and a maker order."""

    trade_id: int
    agg_id: int
    price: Decimal
    qty: Decimal
    time: int
    buyer_order_id: int
    seller_order_id: int
    buyer_is_maker: bool

    def rest_body(self) -> dict[str, object]:
        """The trade as GET /api/v3/trades returns it."""
        return {
            "id": self.trade_id,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.price * self.qty),
            "time": self.time,
            "isBuyerMaker": self.buyer_is_maker,
            "isBestMatch": True,
        }


@dataclass(frozen=True)
class AccountFill:
    """One account's side of a trade: what it got, what it paid in commission."""

    symbol: str
    trade_id: int
    order_id: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    account: int = field(default=MARKET_ACCOUNT)

    def order_fill_body(self) -> dict[str, object]:
        """The fill as an element of a FULL order response's ``fills``."""
        return {
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        }

    def my_trade_body(self) -> dict[str, object]:
        """The fill as GET /api/v3/myTrades returns it."""
        return {
            "symbol": self.symbol,
            "id": self.trade_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.price * self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }

"""Binance REST answers as frozen, typed values (the JSON bodies the client does not parse in Rust).

Field names are Binance's, in snake case (``quoteQty`` is ``quote_qty``). Amounts are
``decimal.Decimal`` built from the exact strings Binance sends; nothing goes through a float.
A body that lacks a field or holds the wrong type raises :class:`~tradewire.errors.ParseError`
naming the field, so a change on the exchange's side fails loudly instead of turning into a
wrong number. Orders stay :class:`~tradewire.binance.wire.OrderResponse` (parsed in Rust).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from tradewire.binance.wire import parse_order_response
from tradewire.errors import ParseError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.binance.wire import OrderResponse

__all__ = [
    "AccountInfo",
    "AccountTrade",
    "ApiRestrictions",
    "AssetBalance",
    "Candlestick",
    "CommissionRates",
    "MakerTakerRates",
    "OrderBookTicker",
    "OrderCommissionRates",
    "OrderListCancel",
    "RecentTrade",
    "parse_cancel_open_orders",
]


class _Fields:
    """Typed reads from one JSON object; a missing or mistyped field is a ParseError."""

    __slots__ = ("data", "what")

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, dict):
            raise ParseError(f"{what} is not a JSON object")
        self.data: Mapping[str, object] = data
        self.what = what

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise ParseError(f"{self.what} has no field {key!r}", field=key)
        return self.data[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise ParseError(f"{self.what} field {key!r} is not a string", field=key)
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParseError(f"{self.what} field {key!r} is not an integer", field=key)
        return value

    def opt_integer(self, key: str) -> int | None:
        return self.integer(key) if self.data.get(key) is not None else None

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise ParseError(f"{self.what} field {key!r} is not a boolean", field=key)
        return value

    def opt_flag(self, key: str) -> bool:
        """False when absent (a flag a newer or older API version does not send)."""
        return self.flag(key) if self.data.get(key) is not None else False

    def decimal(self, key: str) -> Decimal:
        return _decimal(self._get(key), f"{self.what} field {key!r}", key)

    def obj(self, key: str, what: str) -> _Fields:
        return _Fields(self._get(key), what)

    def items(self, key: str) -> list[object]:
        value = self._get(key)
        if not isinstance(value, list):
            raise ParseError(f"{self.what} field {key!r} is not a list", field=key)
        return value


def _decimal(value: object, what: str, key: str | None = None) -> Decimal:
    if not isinstance(value, str):
        raise ParseError(f"{what} is not a decimal string", field=key)
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ParseError(f"{what} is not a decimal: {value!r}", field=key) from None
    if not parsed.is_finite():
        raise ParseError(f"{what} is not a finite decimal", field=key)
    return parsed


def _rows(body: object, what: str) -> list[object]:
    if not isinstance(body, list):
        raise ParseError(f"{what} answer is not a JSON list")
    return body


def _loads(raw: bytes, what: str) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        raise ParseError(f"{what} answer is not JSON") from None


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """One asset of the account: ``free`` to use, ``locked`` in open orders."""

    asset: str
    free: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class CommissionRates:
    """The account's commission rates, as fractions (``0.001`` is 0.1 %)."""

    maker: Decimal
    taker: Decimal
    buyer: Decimal
    seller: Decimal


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """``GET /api/v3/account``: balances, permissions and commission rates."""

    maker_commission: int
    taker_commission: int
    buyer_commission: int
    seller_commission: int
    commission_rates: CommissionRates | None
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool
    brokered: bool
    require_self_trade_prevention: bool
    prevent_sor: bool
    update_time: int
    account_type: str
    balances: tuple[AssetBalance, ...]
    permissions: tuple[str, ...]
    uid: int | None

    def balance(self, asset: str) -> AssetBalance:
        """The balance of ``asset`` (zero if the account has none of it)."""
        for row in self.balances:
            if row.asset == asset:
                return row
        return AssetBalance(asset, Decimal(0), Decimal(0))

    @classmethod
    def from_json(cls, data: object) -> AccountInfo:
        """Read the decoded answer (also the WebSocket API's ``account.status`` result).

        Raises:
            ParseError: a field is missing or malformed.
        """
        f = _Fields(data, "account")
        rates = None
        if f.data.get("commissionRates") is not None:
            r = f.obj("commissionRates", "account commissionRates")
            rates = CommissionRates(
                r.decimal("maker"), r.decimal("taker"), r.decimal("buyer"), r.decimal("seller")
            )
        balances = []
        for row in f.items("balances"):
            b = _Fields(row, "account balance")
            balances.append(AssetBalance(b.text("asset"), b.decimal("free"), b.decimal("locked")))
        permissions = f.items("permissions")
        if not all(isinstance(p, str) for p in permissions):
            raise ParseError(
                "account field 'permissions' is not a list of strings", field="permissions"
            )
        return cls(
            maker_commission=f.integer("makerCommission"),
            taker_commission=f.integer("takerCommission"),
            buyer_commission=f.integer("buyerCommission"),
            seller_commission=f.integer("sellerCommission"),
            commission_rates=rates,
            can_trade=f.flag("canTrade"),
            can_withdraw=f.flag("canWithdraw"),
            can_deposit=f.flag("canDeposit"),
            brokered=f.opt_flag("brokered"),
            require_self_trade_prevention=f.opt_flag("requireSelfTradePrevention"),
            prevent_sor=f.opt_flag("preventSor"),
            update_time=f.integer("updateTime"),
            account_type=f.text("accountType"),
            balances=tuple(balances),
            permissions=tuple(str(p) for p in permissions),
            uid=f.opt_integer("uid"),
        )

    @classmethod
    def parse(cls, raw: bytes) -> AccountInfo:
        """Read the raw answer body."""
        return cls.from_json(_loads(raw, "account"))


@dataclass(frozen=True, slots=True)
class AccountTrade:
    """One of the account's trades (``GET /api/v3/myTrades``)."""

    symbol: str
    id: int
    order_id: int
    order_list_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    is_best_match: bool

    @classmethod
    def parse_list(cls, raw: bytes) -> list[AccountTrade]:
        """Read the raw answer body (a list, oldest first).

        Raises:
            ParseError: a row lacks a field or holds a malformed one.
        """
        out = []
        for row in _rows(_loads(raw, "myTrades"), "myTrades"):
            f = _Fields(row, "myTrades row")
            out.append(
                cls(
                    symbol=f.text("symbol"),
                    id=f.integer("id"),
                    order_id=f.integer("orderId"),
                    order_list_id=f.integer("orderListId"),
                    price=f.decimal("price"),
                    qty=f.decimal("qty"),
                    quote_qty=f.decimal("quoteQty"),
                    commission=f.decimal("commission"),
                    commission_asset=f.text("commissionAsset"),
                    time=f.integer("time"),
                    is_buyer=f.flag("isBuyer"),
                    is_maker=f.flag("isMaker"),
                    is_best_match=f.opt_flag("isBestMatch"),
                )
            )
        return out


@dataclass(frozen=True, slots=True)
class RecentTrade:
    """One trade of the market (``GET /api/v3/trades``)."""

    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    is_best_match: bool

    @classmethod
    def parse_list(cls, raw: bytes) -> list[RecentTrade]:
        """Read the raw answer body (a list, oldest first).

        Raises:
            ParseError: a row lacks a field or holds a malformed one.
        """
        out = []
        for row in _rows(_loads(raw, "trades"), "trades"):
            f = _Fields(row, "trades row")
            out.append(
                cls(
                    id=f.integer("id"),
                    price=f.decimal("price"),
                    qty=f.decimal("qty"),
                    quote_qty=f.decimal("quoteQty"),
                    time=f.integer("time"),
                    is_buyer_maker=f.flag("isBuyerMaker"),
                    is_best_match=f.opt_flag("isBestMatch"),
                )
            )
        return out


@dataclass(frozen=True, slots=True)
class Candlestick:
    """One kline (``GET /api/v3/klines``), its columns named as Binance's docs name them."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_asset_volume: Decimal
    number_of_trades: int
    taker_buy_base_asset_volume: Decimal
    taker_buy_quote_asset_volume: Decimal

    @classmethod
    def parse_list(cls, raw: bytes) -> list[Candlestick]:
        """Read the raw answer body (a list of 12-column rows, oldest first).

        Raises:
            ParseError: a row is short or holds a malformed column.
        """
        out = []
        for n, row in enumerate(_rows(_loads(raw, "klines"), "klines")):
            if not isinstance(row, list) or len(row) < 11:
                raise ParseError(f"klines row {n} is not a list of at least 11 columns")
            ints = (row[0], row[6], row[8])
            if any(isinstance(v, bool) or not isinstance(v, int) for v in ints):
                raise ParseError(f"klines row {n}: a time or the trade count is not an integer")
            d = [_decimal(row[i], f"klines row {n} column {i}") for i in (1, 2, 3, 4, 5, 7, 9, 10)]
            out.append(cls(row[0], d[0], d[1], d[2], d[3], d[4], row[6], d[5], row[8], d[6], d[7]))
        return out


@dataclass(frozen=True, slots=True)
class OrderBookTicker:
    """The best bid and ask of a symbol (``GET /api/v3/ticker/bookTicker``)."""

    symbol: str
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal

    @classmethod
    def from_json(cls, data: object) -> OrderBookTicker:
        """Read one decoded ticker.

        Raises:
            ParseError: a field is missing or malformed.
        """
        f = _Fields(data, "bookTicker")
        return cls(
            f.text("symbol"),
            f.decimal("bidPrice"),
            f.decimal("bidQty"),
            f.decimal("askPrice"),
            f.decimal("askQty"),
        )


@dataclass(frozen=True, slots=True)
class MakerTakerRates:
    """A maker and a taker commission rate, as fractions."""

    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class OrderCommissionRates:
    """The commission rates an order would pay (``POST /api/v3/order/test`` with rates)."""

    standard_commission_for_order: MakerTakerRates
    special_commission_for_order: MakerTakerRates | None
    tax_commission_for_order: MakerTakerRates
    discount_enabled_for_account: bool
    discount_enabled_for_symbol: bool
    discount_asset: str | None
    discount: Decimal

    @classmethod
    def from_json(cls, data: object) -> OrderCommissionRates:
        """Read the decoded answer.

        Raises:
            ParseError: a field is missing or malformed.
        """
        f = _Fields(data, "order test")

        def pair(key: str) -> MakerTakerRates:
            r = f.obj(key, f"order test {key}")
            return MakerTakerRates(r.decimal("maker"), r.decimal("taker"))

        special = (
            pair("specialCommissionForOrder") if "specialCommissionForOrder" in f.data else None
        )
        discount = f.obj("discount", "order test discount")
        asset = discount.data.get("discountAsset")
        return cls(
            standard_commission_for_order=pair("standardCommissionForOrder"),
            special_commission_for_order=special,
            tax_commission_for_order=pair("taxCommissionForOrder"),
            discount_enabled_for_account=discount.flag("enabledForAccount"),
            discount_enabled_for_symbol=discount.flag("enabledForSymbol"),
            discount_asset=asset if isinstance(asset, str) else None,
            discount=discount.decimal("discount"),
        )


@dataclass(frozen=True, slots=True)
class OrderListCancel:
    """A canceled order list (OCO, OTO, ...) in the answer of ``DELETE /api/v3/openOrders``."""

    order_list_id: int
    contingency_type: str
    list_status_type: str
    list_order_status: str
    list_client_order_id: str
    transaction_time: int
    symbol: str
    order_reports: tuple[OrderResponse, ...]


def _order(row: object) -> OrderResponse:
    return parse_order_response(json.dumps(row).encode())


def parse_cancel_open_orders(raw: bytes) -> list[OrderResponse | OrderListCancel]:
    """The answer of ``DELETE /api/v3/openOrders``: one entry per canceled order or order list.

    Raises:
        ParseError: an entry is malformed.
    """
    out: list[OrderResponse | OrderListCancel] = []
    for row in _rows(_loads(raw, "openOrders cancel"), "openOrders cancel"):
        f = _Fields(row, "openOrders cancel entry")
        if "orderReports" not in f.data:
            out.append(_order(row))
            continue
        out.append(
            OrderListCancel(
                order_list_id=f.integer("orderListId"),
                contingency_type=f.text("contingencyType"),
                list_status_type=f.text("listStatusType"),
                list_order_status=f.text("listOrderStatus"),
                list_client_order_id=f.text("listClientOrderId"),
                transaction_time=f.integer("transactionTime"),
                symbol=f.text("symbol"),
                order_reports=tuple(_order(r) for r in f.items("orderReports")),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class ApiRestrictions:
    """What an API key may do (``GET /sapi/v1/account/apiRestrictions``).

    The four flags every key audit needs are required; the others are False when the answer
    leaves them out (they came and went over the API's versions).
    """

    ip_restrict: bool
    enable_reading: bool
    enable_withdrawals: bool
    enable_spot_and_margin_trading: bool
    enable_internal_transfer: bool = False
    enable_margin: bool = False
    enable_futures: bool = False
    permits_universal_transfer: bool = False
    enable_vanilla_options: bool = False
    enable_fix_api_trade: bool = False
    enable_fix_read_only: bool = False
    enable_portfolio_margin_trading: bool = False
    create_time: int | None = None
    trading_authority_expiration_time: int | None = None

    @classmethod
    def from_json(cls, data: object) -> ApiRestrictions:
        """Read the decoded answer.

        Raises:
            ParseError: a required flag is missing, or a flag is not a boolean.
        """
        f = _Fields(data, "apiRestrictions answer")
        expiry = f.data.get("tradingAuthorityExpirationTime")
        return cls(
            ip_restrict=f.flag("ipRestrict"),
            enable_reading=f.flag("enableReading"),
            enable_withdrawals=f.flag("enableWithdrawals"),
            enable_spot_and_margin_trading=f.flag("enableSpotAndMarginTrading"),
            enable_internal_transfer=f.opt_flag("enableInternalTransfer"),
            enable_margin=f.opt_flag("enableMargin"),
            enable_futures=f.opt_flag("enableFutures"),
            permits_universal_transfer=f.opt_flag("permitsUniversalTransfer"),
            enable_vanilla_options=f.opt_flag("enableVanillaOptions"),
            enable_fix_api_trade=f.opt_flag("enableFixApiTrade"),
            enable_fix_read_only=f.opt_flag("enableFixReadOnly"),
            enable_portfolio_margin_trading=f.opt_flag("enablePortfolioMarginTrading"),
            create_time=f.opt_integer("createTime"),
            trading_authority_expiration_time=(
                expiry if isinstance(expiry, int) and not isinstance(expiry, bool) else None
            ),
        )

    @classmethod
    def parse(cls, raw: bytes) -> ApiRestrictions:
        """Read the raw answer body."""
        return cls.from_json(_loads(raw, "apiRestrictions"))

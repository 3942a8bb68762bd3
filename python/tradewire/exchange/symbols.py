"""Symbol specifications: assets, filters and starting prices, as exchangeInfo shows them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradewire.exchange.amounts import fmt

__all__ = [
    "ALL_ORDER_TYPES",
    "ORDER_TYPES",
    "QUOTE_ASSETS",
    "STOP_MARKET_TYPES",
    "SymbolSpec",
    "spec_for",
]

QUOTE_ASSETS = ("USDT", "FDUSD", "USDC", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY")
# The order types the bundled exchangeInfo (2021-10, tests/data/binance) lists for every one of
# its symbols. Binance's API also documents stop-market orders (STOP_LOSS, TAKE_PROFIT), which a
# symbol accepts only where its exchangeInfo lists them: LocalExchange(order_types=...) lists them.
ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
STOP_MARKET_TYPES = ("STOP_LOSS", "TAKE_PROFIT")
ALL_ORDER_TYPES = (*ORDER_TYPES, *STOP_MARKET_TYPES)


@dataclass(frozen=True)
class SymbolSpec:
    """One tradable pair: its assets, filter values and the price its market starts at."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    start_price: Decimal
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    market_max_qty: Decimal = Decimal("100")
    max_notional: Decimal = Decimal("9000000")
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    # what Binance's BTCUSDT lists today (stp_faq.md, "How do I know which symbol uses STP?")
    default_stp_mode: str = "EXPIRE_MAKER"
    allowed_stp_modes: tuple[str, ...] = (
        "EXPIRE_TAKER",
        "EXPIRE_MAKER",
        "EXPIRE_BOTH",
        "DECREMENT",
    )
    order_types: tuple[str, ...] = ORDER_TYPES
    """exchangeInfo's ``orderTypes``: a type not listed is refused (-2010) for this symbol."""

    def exchange_info(self, *, show_permission_sets: bool = True) -> dict[str, object]:
        """This symbol as an entry of exchangeInfo's ``symbols``.

        ``show_permission_sets=False`` (``showPermissionSets=false``) leaves ``permissionSets``
        empty: the parameter controls whether the field's content is populated.
        """
        return {
            "symbol": self.symbol,
            "status": "TRADING",
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(self.order_types),
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "opoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "amendAllowed": False,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": fmt(self.min_price),
                    "maxPrice": fmt(self.max_price),
                    "tickSize": fmt(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": fmt(self.min_qty),
                    "maxQty": fmt(self.max_qty),
                    "stepSize": fmt(self.step_size),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": "0.00000000",
                    "maxQty": fmt(self.market_max_qty),
                    "stepSize": "0.00000000",
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": fmt(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": fmt(self.max_notional),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_num_algo_orders},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]] if show_permission_sets else [],
            "defaultSelfTradePreventionMode": self.default_stp_mode,
            "allowedSelfTradePreventionModes": list(self.allowed_stp_modes),
        }


def _d(text: str) -> Decimal:
    return Decimal(text)


_KNOWN: dict[str, tuple[str, str, str, str, str, str, str]] = {
    # symbol: base, quote, tickSize, stepSize, minNotional, start price, minQty
    "BTCUSDT": ("BTC", "USDT", "0.01", "0.00001", "5", "65000", "0.00001"),
    "ETHUSDT": ("ETH", "USDT", "0.01", "0.0001", "5", "3500", "0.0001"),
    "BNBUSDT": ("BNB", "USDT", "0.01", "0.001", "5", "600", "0.001"),
    "ETHBTC": ("ETH", "BTC", "0.00001", "0.0001", "0.0001", "0.054", "0.0001"),
    "BNBBTC": ("BNB", "BTC", "0.000001", "0.001", "0.0001", "0.0092", "0.001"),
    "SOLUSDT": ("SOL", "USDT", "0.01", "0.001", "5", "150", "0.001"),
}


def spec_for(symbol: str) -> SymbolSpec:
    """The spec of ``symbol``: a built-in one for common pairs, else one derived from its name."""
    symbol = symbol.upper()
    known = _KNOWN.get(symbol)
    if known is not None:
        base, quote, tick, step, notional, start, min_qty = known
        return SymbolSpec(
            symbol=symbol,
            base=base,
            quote=quote,
            tick_size=_d(tick),
            step_size=_d(step),
            min_notional=_d(notional),
            start_price=_d(start),
            min_price=_d(tick),
            min_qty=_d(min_qty),
        )
    for quote in QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            base = symbol[: -len(quote)]
            in_crypto = quote in ("BTC", "ETH", "BNB")
            return SymbolSpec(
                symbol=symbol,
                base=base,
                quote=quote,
                tick_size=_d("0.000001" if in_crypto else "0.0001"),  # tick x step: 8 decimals
                step_size=_d("0.01"),
                min_notional=_d("0.0001" if in_crypto else "5"),
                start_price=_d("0.001" if in_crypto else "1"),
                min_price=_d("0.000001" if in_crypto else "0.0001"),
                min_qty=_d("0.01"),
                market_max_qty=_d("1000000"),
                max_qty=_d("9000000"),
            )
    raise ValueError(f"cannot tell the base and quote assets of symbol {symbol!r}")

"""Accounts: balances with free and locked parts, and commission rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradewire.exchange.amounts import ZERO, fmt
from tradewire.exchange.rejections import new_order_rejected

__all__ = ["DEFAULT_BALANCES", "INSUFFICIENT", "Account"]

DEFAULT_BALANCES: dict[str, Decimal] = {
    "USDT": Decimal("10000"),
    "BTC": Decimal("1"),
    "ETH": Decimal("10"),
}
INSUFFICIENT = "Account has insufficient balance for requested action."


@dataclass
class Balance:
    """The free and locked amounts of one asset."""

    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass
class Account:
    """One spot account: balances and commission rates (maker/taker as fractions)."""

    account_id: int
    maker_rate: Decimal = Decimal("0.001")
    taker_rate: Decimal = Decimal("0.001")
    balances: dict[str, Balance] = field(default_factory=dict)
    update_time: int = 0
    touched: set[str] = field(default_factory=set)

    def balance(self, asset: str) -> Balance:
        """The balance of ``asset`` (created empty on first use)."""
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Balance()
        return found

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked, or reject with -2010 if free is short."""
        bal = self.balance(asset)
        if bal.free < amount:
            raise new_order_rejected(INSUFFICIENT)
        bal.free -= amount
        bal.locked += amount
        self.touched.add(asset)

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        bal = self.balance(asset)
        bal.locked -= amount
        bal.free += amount
        self.touched.add(asset)

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` out of the locked part (a fill of a resting or limit order)."""
        self.balance(asset).locked -= amount
        self.touched.add(asset)

    def spend_free(self, asset: str, amount: Decimal) -> None:
        """Pay ``amount`` out of the free part (a market order's fill)."""
        self.balance(asset).free -= amount
        self.touched.add(asset)

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` to the free part."""
        self.balance(asset).free += amount
        self.touched.add(asset)

    def take_touched(self) -> list[str]:
        """The assets changed since the last call, sorted (for outboundAccountPosition)."""
        assets = sorted(self.touched)
        self.touched.clear()
        return assets

    def balances_body(self) -> list[dict[str, str]]:
        """Balances as GET /api/v3/account lists them."""
        return [
            {"asset": asset, "free": fmt(bal.free), "locked": fmt(bal.locked)}
            for asset, bal in sorted(self.balances.items())
        ]

    def commission_body(self) -> dict[str, object]:
        """makerCommission/takerCommission (basis points) and commissionRates, as account shows."""
        return {
            "makerCommission": int(self.maker_rate * 10000),
            "takerCommission": int(self.taker_rate * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": fmt(self.maker_rate),
                "taker": fmt(self.taker_rate),
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
        }

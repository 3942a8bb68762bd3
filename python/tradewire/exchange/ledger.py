"""The ledger: accounts, their free and locked balances, commission, and each account's fills."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import ZERO, fmt
from tradewire.exchange.events import BalanceDelta, BalancesChanged
from tradewire.exchange.orders import AccountFill
from tradewire.exchange.rejections import new_order_rejected

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from tradewire.exchange.events import EngineEvent
    from tradewire.exchange.orders import OrderRecord
    from tradewire.exchange.symbols import SymbolSpec

__all__ = [
    "COMMISSION_QUANTUM",
    "DEFAULT_BALANCES",
    "DEFAULT_RATE",
    "INSUFFICIENT",
    "AccountView",
    "Ledger",
    "LedgerBalance",
    "commission",
]

DEFAULT_BALANCES: Mapping[str, Decimal] = MappingProxyType(
    {"USDT": Decimal("10000"), "BTC": Decimal("1"), "ETH": Decimal("10")}
)
DEFAULT_RATE = Decimal("0.001")
"""Maker and taker commission of a new account: 0.1%."""
INSUFFICIENT = "Account has insufficient balance for requested action."
COMMISSION_QUANTUM = Decimal("0.00000001")


_EXACT = Context(prec=100)
"""Enough digits for any product of two amounts: nothing is rounded before the quantum."""


def commission(amount: Decimal, rate: Decimal) -> Decimal:
    """The commission on ``amount`` received (base for a buy, quote for a sell) at ``rate``.

    The exact product, rounded to the nearest 8th decimal (half up), as the worked example of
    Binance's commission FAQ does (0.040229875 USDT is charged as 0.04022988).
    """
    return _EXACT.multiply(amount, rate).quantize(COMMISSION_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LedgerBalance:
    """The free and locked amounts of one asset."""

    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass(frozen=True)
class AccountView:
    """A snapshot of one account: commission rates (fractions), update time and balances."""

    account_id: int
    maker_rate: Decimal = DEFAULT_RATE
    taker_rate: Decimal = DEFAULT_RATE
    update_time: int = 0
    balances: Mapping[str, LedgerBalance] = field(default_factory=lambda: MappingProxyType({}))

    def balance(self, asset: str) -> LedgerBalance:
        """The balance of ``asset`` (zero if the account never held it)."""
        return self.balances.get(asset, _EMPTY)

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


_EMPTY = LedgerBalance()


class _Account:
    """One spot account as the ledger keeps it; changed assets are remembered until published."""

    def __init__(
        self, account_id: int, maker_rate: Decimal, taker_rate: Decimal, update_time: int
    ) -> None:
        self.account_id = account_id
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.update_time = update_time
        self.balances: dict[str, LedgerBalance] = {}
        self.touched: set[str] = set()

    def balance(self, asset: str) -> LedgerBalance:
        """The balance of ``asset``; a first look lists the asset with zero (as account shows)."""
        return self.balances.setdefault(asset, _EMPTY)

    def move(self, asset: str, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        """Add ``free`` and ``locked`` (either may be negative) to the balance of ``asset``."""
        bal = self.balance(asset)
        self.balances[asset] = LedgerBalance(bal.free + free, bal.locked + locked)
        self.touched.add(asset)

    def take_touched(self) -> list[str]:
        """The assets changed since the last call, sorted (for outboundAccountPosition)."""
        assets = sorted(self.touched)
        self.touched.clear()
        return assets

    def view(self) -> AccountView:
        return AccountView(
            self.account_id,
            self.maker_rate,
            self.taker_rate,
            self.update_time,
            MappingProxyType(dict(self.balances)),
        )


class Ledger:
    """Accounts and their balances: locks for open orders, settlement of fills, deposits.

    Balance changes are announced with ``emit`` (BalancesChanged once per action, BalanceDelta for
    deposits); fills are kept per account for myTrades.
    """

    def __init__(self, now: Callable[[], int], emit: Callable[[EngineEvent], None]) -> None:
        self._now = now
        self._emit = emit
        self._accounts: dict[int, _Account] = {}
        self._fills: dict[int, list[AccountFill]] = {}

    # --- accounts ------------------------------------------------------------------------------

    def open_account(
        self,
        account_id: int,
        balances: Mapping[str, Decimal] | None = None,
        *,
        maker_rate: Decimal = DEFAULT_RATE,
        taker_rate: Decimal = DEFAULT_RATE,
    ) -> AccountView:
        """Create an account with ``balances`` (default 10,000 USDT, 1 BTC and 10 ETH).

        ``maker_rate`` and ``taker_rate`` are its commission rates as fractions (0.1% each by
        default).
        """
        account = _Account(account_id, maker_rate, taker_rate, self._now())
        for asset, amount in (DEFAULT_BALANCES if balances is None else balances).items():
            account.move(asset, free=Decimal(amount))
        account.touched.clear()
        self._accounts[account_id] = account
        self._fills.setdefault(account_id, [])
        return account.view()

    def restore_account(self, saved: AccountView) -> None:
        """Put back an account loaded from the store, as it was saved."""
        account = _Account(saved.account_id, saved.maker_rate, saved.taker_rate, saved.update_time)
        account.balances.update(saved.balances)
        self._accounts[saved.account_id] = account
        self._fills.setdefault(saved.account_id, [])

    def restore_fill(self, fill: AccountFill) -> None:
        """Put back a fill loaded from the store (oldest first)."""
        self._fills.setdefault(fill.account, []).append(fill)

    def has_account(self, account_id: int) -> bool:
        """Whether ``account_id`` exists."""
        return account_id in self._accounts

    def account_ids(self) -> tuple[int, ...]:
        """Every account id, in the order they were opened."""
        return tuple(self._accounts)

    def view(self, account_id: int) -> AccountView:
        """A snapshot of an account (KeyError for an unknown one)."""
        return self._accounts[account_id].view()

    def fills(self, account_id: int) -> list[AccountFill]:
        """An account's fills, oldest first (a new list)."""
        return list(self._fills.get(account_id, ()))

    def rates(self, account_id: int) -> tuple[Decimal, Decimal]:
        """(maker, taker) commission rates of an account."""
        account = self._accounts[account_id]
        return account.maker_rate, account.taker_rate

    # --- moving funds --------------------------------------------------------------------------

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` of ``asset`` into (or, if negative, out of) an account's free balance."""
        account = self._accounts[account_id]
        if account.balance(asset).free + amount < 0:
            raise ValueError("a withdrawal larger than the free balance")
        account.move(asset, free=amount)
        now = self._now()
        account.update_time = now
        self._emit(BalanceDelta(account_id, asset, amount, now))
        self._emit(BalancesChanged(account_id, tuple(account.take_touched()), now))

    def lock(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked, or reject with -2010 if free is short."""
        account = self._accounts[account_id]
        if account.balance(asset).free < amount:
            raise new_order_rejected(INSUFFICIENT)
        account.move(asset, free=-amount, locked=amount)

    def unlock(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        self._accounts[account_id].move(asset, free=amount, locked=-amount)

    def settle(
        self,
        spec: SymbolSpec,
        order: OrderRecord,
        is_maker: bool,
        price: Decimal,
        qty: Decimal,
        trade_id: int,
        now: int,
    ) -> AccountFill:
        """Move one account's funds for one fill of ``order`` and record the fill.

        The buyer pays the quote out of what the order locked and receives the base less
        commission; the seller the other way round. ``order.locked`` goes down by what was paid.
        """
        account = self._accounts[order.account]
        rate = account.maker_rate if is_maker else account.taker_rate
        cost = price * qty
        if order.side == "BUY":
            account.move(spec.quote, locked=-cost)
            order.locked -= cost
            fee = commission(qty, rate)
            account.move(spec.base, free=qty - fee)
            asset = spec.base
        else:
            account.move(spec.base, locked=-qty)
            order.locked -= qty
            fee = commission(cost, rate)
            account.move(spec.quote, free=cost - fee)
            asset = spec.quote
        account.update_time = now
        fill = AccountFill(
            symbol=order.symbol,
            trade_id=trade_id,
            order_id=order.order_id,
            price=price,
            qty=qty,
            commission=fee,
            commission_asset=asset,
            time=now,
            is_buyer=order.side == "BUY",
            is_maker=is_maker,
            account=order.account,
        )
        self._fills[order.account].append(fill)
        return fill

    def publish(self, account_id: int, now: int) -> None:
        """Announce the assets an account changed since the last announcement (if any)."""
        account = self._accounts[account_id]
        assets = account.take_touched()
        if assets:
            account.update_time = now
            self._emit(BalancesChanged(account_id, tuple(assets), now))

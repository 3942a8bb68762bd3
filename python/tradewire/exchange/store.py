"""SQLite persistence: keys, accounts, balances, orders, fills and id counters survive a restart."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.exchange.accounts import Account, Balance
from tradewire.exchange.events import BalanceDelta, BalancesChanged, OrderUpdate, PublicTrade
from tradewire.exchange.orders import MARKET_ACCOUNT, Fill, Order

if TYPE_CHECKING:
    from tradewire.exchange.events import Event
    from tradewire.exchange.keys import ApiKey, KeyRegistry
    from tradewire.exchange.venue import Venue

__all__ = ["Store"]

_ORDER_DECIMALS = frozenset(
    {"price", "orig_qty", "stop_price", "orig_quote_qty", "executed_qty", "cum_quote", "locked"}
)
_FILL_DECIMALS = frozenset({"price", "qty", "commission"})
_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    api_key TEXT PRIMARY KEY, account INTEGER NOT NULL, secret TEXT NOT NULL,
    permissions TEXT NOT NULL, ip_whitelist TEXT, create_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account INTEGER PRIMARY KEY, maker_rate TEXT NOT NULL, taker_rate TEXT NOT NULL,
    update_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS balances (
    account INTEGER NOT NULL, asset TEXT NOT NULL, free TEXT NOT NULL, locked TEXT NOT NULL,
    PRIMARY KEY (account, asset));
CREATE TABLE IF NOT EXISTS orders (
    symbol TEXT NOT NULL, order_id INTEGER NOT NULL, account INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (symbol, order_id));
CREATE TABLE IF NOT EXISTS fills (
    account INTEGER NOT NULL, symbol TEXT NOT NULL, trade_id INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, symbol, trade_id));
CREATE TABLE IF NOT EXISTS counters (
    symbol TEXT PRIMARY KEY, next_order_id INTEGER NOT NULL, next_trade_id INTEGER NOT NULL,
    next_agg_id INTEGER NOT NULL);
"""


def _dump(record: object) -> str:
    assert dataclasses.is_dataclass(record)
    values = {
        f.name: str(v) if isinstance(v := getattr(record, f.name), Decimal) else v
        for f in dataclasses.fields(record)
    }
    return json.dumps(values, separators=(",", ":"))


def _load(body: str, decimals: frozenset[str]) -> dict[str, object]:
    values: dict[str, object] = json.loads(body)
    return {k: Decimal(str(v)) if k in decimals else v for k, v in values.items()}


class Store:
    """A SQLite database (a file, or ``:memory:``) that mirrors the venue as it changes."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.venue: Venue | None = None

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # --- writing -------------------------------------------------------------------------------

    def attach(self, venue: Venue) -> None:
        """Mirror ``venue`` from now on."""
        self.venue = venue
        venue.listeners.append(self.on_event)

    def save_key(self, key: ApiKey) -> None:
        """Persist a registered key (the secret stays inside the database)."""
        self.db.execute(
            "INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?, ?, ?)",
            (
                key.api_key,
                key.account,
                key.secret,
                json.dumps(sorted(key.permissions)),
                None if key.ip_whitelist is None else json.dumps(list(key.ip_whitelist)),
                key.create_time,
            ),
        )

    def delete_key(self, api_key: str) -> None:
        """Forget a deleted key."""
        self.db.execute("DELETE FROM keys WHERE api_key = ?", (api_key,))

    def save_account(self, account: Account) -> None:
        """Persist an account's rates and every balance."""
        self.db.execute(
            "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
            (
                account.account_id,
                str(account.maker_rate),
                str(account.taker_rate),
                account.update_time,
            ),
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO balances VALUES (?, ?, ?, ?)",
            [
                (account.account_id, a, str(b.free), str(b.locked))
                for a, b in account.balances.items()
            ],
        )

    def on_event(self, event: Event) -> None:
        """Write what ``event`` changed."""
        venue = self.venue
        assert venue is not None
        if isinstance(event, OrderUpdate) and event.order.account != MARKET_ACCOUNT:
            order = event.order
            self.db.execute(
                "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?)",
                (order.symbol, order.order_id, order.account, _dump(order)),
            )
            if event.fill is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO fills VALUES (?, ?, ?, ?)",
                    (event.fill.account, event.fill.symbol, event.fill.trade_id, _dump(event.fill)),
                )
            self._save_counters(order.symbol)
        elif isinstance(event, (BalancesChanged, BalanceDelta)):
            self.save_account(venue.accounts[event.account])
        elif isinstance(event, PublicTrade):
            self._save_counters(event.symbol)

    def _save_counters(self, symbol: str) -> None:
        venue = self.venue
        assert venue is not None
        self.db.execute(
            "INSERT OR REPLACE INTO counters VALUES (?, ?, ?, ?)",
            (
                symbol,
                venue.next_order_id[symbol],
                venue.next_trade_id[symbol],
                venue.next_agg_id[symbol],
            ),
        )

    # --- reading -------------------------------------------------------------------------------

    def restore(self, venue: Venue, keys: KeyRegistry) -> int:
        """Load everything saved into ``venue`` and ``keys``; returns the next free account id."""
        for symbol, order_id, trade_id, agg_id in self.db.execute("SELECT * FROM counters"):
            if symbol in venue.specs:
                venue.next_order_id[symbol] = order_id
                venue.next_trade_id[symbol] = trade_id
                venue.next_agg_id[symbol] = agg_id
        last_account = 0
        for account_id, maker, taker, update_time in self.db.execute("SELECT * FROM accounts"):
            account = Account(account_id, Decimal(maker), Decimal(taker), update_time=update_time)
            venue.accounts[account_id] = account
            venue.fills.setdefault(account_id, [])
            last_account = max(last_account, account_id)
        for account_id, asset, free, locked in self.db.execute("SELECT * FROM balances"):
            venue.accounts[account_id].balances[asset] = Balance(Decimal(free), Decimal(locked))
        for api_key, account_id, secret, perms, whitelist, created in self.db.execute(
            "SELECT * FROM keys"
        ):
            keys.add(
                secret,
                account_id,
                tuple(json.loads(perms)),
                None if whitelist is None else tuple(json.loads(whitelist)),
                created,
                api_key=api_key,
            )
        for (body,) in self.db.execute("SELECT body FROM fills ORDER BY rowid"):
            fill = Fill(**_load(body, _FILL_DECIMALS))  # type: ignore[arg-type]
            venue.fills.setdefault(fill.account, []).append(fill)
        orders = [
            Order(**_load(body, _ORDER_DECIMALS))  # type: ignore[arg-type]
            for (body,) in self.db.execute("SELECT body FROM orders")
        ]
        for order in sorted(orders, key=lambda o: (o.time, o.symbol, o.order_id)):
            if order.symbol in venue.specs:
                venue.restore_order(order)
        return last_account + 1

"""SQLite persistence: keys, accounts, balances, orders, fills and id counters survive a restart."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

from tradewire.exchange.engine import IdCounters
from tradewire.exchange.events import BalanceDelta, BalancesChanged, OrderChanged, TradePrinted
from tradewire.exchange.ledger import AccountView, LedgerBalance
from tradewire.exchange.orders import MARKET_ACCOUNT, AccountFill, OrderRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.exchange.engine import ExchangeEngine
    from tradewire.exchange.events import EngineEvent
    from tradewire.exchange.keys import ApiKey, KeyRegistry

__all__ = ["Store"]

_ORDER_DECIMALS = frozenset(
    {
        "price",
        "orig_qty",
        "stop_price",
        "orig_quote_qty",
        "executed_qty",
        "cum_quote",
        "locked",
        "prevented_qty",
    }
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


def _owner_only(path: str) -> None:
    """Create ``path`` with mode 0600, or take group and other access off an existing file."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        try:
            if stat.S_IMODE(os.stat(path + suffix).st_mode) & 0o077:
                os.chmod(path + suffix, 0o600)
        except FileNotFoundError:
            pass


class Store:
    """A SQLite database (a file, or ``:memory:``) that mirrors the engine as it changes."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        if path != ":memory:":
            _owner_only(path)  # it holds the keys' secrets: mode 0600 before SQLite opens it
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._engine: ExchangeEngine | None = None
        self._detach: Callable[[], None] | None = None

    def close(self) -> None:
        """Stop mirroring and close the database."""
        if self._detach is not None:
            self._detach()
            self._detach = None
        self.db.close()

    # --- writing -------------------------------------------------------------------------------

    def attach(self, engine: ExchangeEngine) -> None:
        """Mirror ``engine`` from now on."""
        self._engine = engine
        self._detach = engine.subscribe(self.on_event)

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

    def save_account(self, account: AccountView) -> None:
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

    def on_event(self, event: EngineEvent) -> None:
        """Write what ``event`` changed."""
        engine = self._engine
        assert engine is not None
        if isinstance(event, OrderChanged) and event.order.account != MARKET_ACCOUNT:
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
            self.save_account(engine.account(event.account))
        elif isinstance(event, TradePrinted):
            self._save_counters(event.symbol)

    def _save_counters(self, symbol: str) -> None:
        engine = self._engine
        assert engine is not None
        counters = engine.counters(symbol)
        self.db.execute(
            "INSERT OR REPLACE INTO counters VALUES (?, ?, ?, ?)",
            (symbol, counters.next_order_id, counters.next_trade_id, counters.next_agg_id),
        )

    # --- reading -------------------------------------------------------------------------------

    def restore(self, engine: ExchangeEngine, keys: KeyRegistry) -> int:
        """Load everything saved into ``engine`` and ``keys``; returns the next free account id."""
        listed = set(engine.symbols())
        for symbol, order_id, trade_id, agg_id in self.db.execute("SELECT * FROM counters"):
            if symbol in listed:
                engine.restore_counters(symbol, IdCounters(order_id, trade_id, agg_id))
        balances: dict[int, dict[str, LedgerBalance]] = {}
        for account_id, asset, free, locked in self.db.execute("SELECT * FROM balances"):
            balances.setdefault(account_id, {})[asset] = LedgerBalance(
                Decimal(free), Decimal(locked)
            )
        last_account = 0
        for account_id, maker, taker, update_time in self.db.execute("SELECT * FROM accounts"):
            engine.restore_account(
                AccountView(
                    account_id,
                    Decimal(maker),
                    Decimal(taker),
                    update_time,
                    MappingProxyType(balances.get(account_id, {})),
                )
            )
            last_account = max(last_account, account_id)
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
            engine.restore_fill(AccountFill(**_load(body, _FILL_DECIMALS)))  # type: ignore[arg-type]
        orders = [
            OrderRecord(**_load(body, _ORDER_DECIMALS))  # type: ignore[arg-type]
            for (body,) in self.db.execute("SELECT body FROM orders")
        ]
        for order in sorted(orders, key=lambda o: (o.time, o.symbol, o.order_id)):
            if order.symbol in listed:
                engine.restore_order(order)
        return last_account + 1

"""The parameters a bot started with, in its journal: recorded, read back, old journals kept."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.bots.params import DcaParams, GridParams, params_from_record, params_record
from tradewire.errors import BotConfigError, JournalError
from tradewire.trading.journal import Journal, OrderIntent

if TYPE_CHECKING:
    from pathlib import Path

# The schema of a journal written before the parameters were journaled.
OLD_SCHEMA = """
CREATE TABLE orders (
    client_order_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, side TEXT NOT NULL,
    type TEXT NOT NULL, quantity TEXT NOT NULL, price TEXT, time_in_force TEXT,
    created_ms INTEGER NOT NULL, state TEXT NOT NULL, order_id TEXT,
    executed_qty TEXT NOT NULL DEFAULT '0', cumulative_quote_qty TEXT,
    updated_ms INTEGER NOT NULL, reason TEXT
);
CREATE INDEX orders_state ON orders (state);
CREATE TABLE fills (
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id), trade_id TEXT NOT NULL,
    price TEXT NOT NULL, quantity TEXT NOT NULL, commission TEXT NOT NULL,
    commission_asset TEXT NOT NULL, time_ms INTEGER NOT NULL,
    PRIMARY KEY (client_order_id, trade_id)
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, client_order_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
);
INSERT INTO orders VALUES ('g1-old', 'BTCUSDT', 'BUY', 'LIMIT', '0.001', '64000.00', NULL,
    1, 'NEW', '7', '0', NULL, 1, NULL);
"""


def test_parameters_are_kept_exactly_and_the_last_one_wins(tmp_path: Path) -> None:
    grid = GridParams(D("64350.00"), D("65650.00"), 6, investment=D("1000"), stop_loss=D("6E+4"))
    with Journal.for_bot(tmp_path, "g1") as journal:
        assert journal.last_params() is None
        journal.record_params("grid", "BTCUSDT", params_record(grid))
    with Journal.for_bot(tmp_path, "g1") as journal:
        last = journal.last_params()
        assert last is not None and (last.kind, last.symbol) == ("grid", "BTCUSDT")
        assert last.params["lower_price"] == "64350.00" and last.params["stop_loss"] == "60000"
        assert params_from_record(last.kind, last.params) == grid
        dca = DcaParams(D(100), D(50), 3, D("1.5"), D(2))
        journal.record_params("dca", "ETHUSDT", params_record(dca))
        last = journal.last_params()
        assert last is not None and params_from_record(last.kind, last.params) == dca


def test_a_journal_from_before_the_parameters_opens_and_takes_them(tmp_path: Path) -> None:
    path = tmp_path / "journals" / "g1.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    db.close()
    with Journal(path) as journal:
        assert [o.client_order_id for o in journal.open_orders()] == ["g1-old"]
        assert journal.last_params() is None
        journal.record_params("grid", "BTCUSDT", {"grid_number": 6})
        journal.record_intent(OrderIntent("g1-new", "BTCUSDT", "SELL", "LIMIT", "0.001", "66000"))
    with Journal(path) as journal:
        assert journal.last_params() is not None
        assert len(journal.orders()) == 2


def test_bad_parameters_are_refused_with_typed_errors(tmp_path: Path) -> None:
    with Journal.for_bot(tmp_path, "g1") as journal:
        with pytest.raises(JournalError, match="str/int/bool/None"):
            journal.record_params("grid", "BTCUSDT", {"lower_price": D(1)})  # type: ignore[dict-item]
        with pytest.raises(JournalError, match="need a kind, a symbol"):
            journal.record_params("", "BTCUSDT", {})
    with sqlite3.connect(journal.path) as db:
        db.execute(
            "INSERT INTO bot_params (time_ms, kind, symbol, params) VALUES (1, 'grid', 'X', '[1')"
        )
    db.close()
    with Journal.for_bot(tmp_path, "g1") as journal, pytest.raises(JournalError, match="damaged"):
        journal.last_params()
    good = params_record(GridParams(D(100), D(200), 4, quantity_per_grid=D(1)))
    for kind, values, why in (
        ("spot", good, "no built-in bot 'spot'"),
        ("grid", {**good, "colour": "red"}, "unknown grid parameters"),
        ("grid", {**good, "grid_number": "4"}, "grid_number must be a whole number"),
        ("grid", {**good, "sell_on_stop": "yes"}, "sell_on_stop must be true or false"),
        ("grid", {k: v for k, v in good.items() if k != "upper_price"}, "incomplete grid"),
        ("grid", {**good, "lower_price": "300"}, "need 0 < lower_price < upper_price"),
        ("dca", {**good}, "unknown dca parameters"),
    ):
        with pytest.raises(BotConfigError, match=why):
            params_from_record(kind, values)

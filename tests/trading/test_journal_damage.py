"""A journal under damage: bad files, random page corruption, a full disk, an emptied file.

Each test is what an unlucky user meets: the answer is one line that says what to do, never a
sqlite traceback, and never a damaged or missing record taken as the truth.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import JournalError
from tradewire.model import Order
from tradewire.trading.journal import (
    Journal,
    JournalFill,
    OrderIntent,
    bot_order_prefix,
    check_journal_covers,
    new_client_order_id,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PAGE = 4096


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, so files SQLite creates on its own would be 0644."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def fill_journal(path: Path, orders: int = 60) -> None:
    """A real journal: intents, acknowledgements, fills and final states."""
    with Journal(path) as journal:
        for i in range(orders):
            cid = f"grid1-{i:016x}"
            side = "BUY" if i % 2 else "SELL"
            journal.record_intent(
                OrderIntent(cid, "BTCUSDT", side, "LIMIT", "0.001", str(60000 + i))
            )
            journal.record_update(cid, "NEW", order_id=1000 + i)
            if i % 3 == 0:
                journal.record_fill(
                    cid, JournalFill(i, str(60000 + i), "0.001", "0.000001", "BTC", i)
                )
                journal.record_update(cid, "FILLED", executed_qty="0.001")


def what_a_restart_uses(path: Path) -> tuple[object, ...]:
    """What a restarted bot acts on: each order's identity, amounts, state; every fill."""
    with Journal(path) as journal:
        orders = [
            (
                *(o.client_order_id, o.symbol, o.side, o.type, o.quantity, o.price),
                *(o.state, o.order_id, o.executed_qty),
            )
            for o in journal.orders()
        ]
        return tuple(orders), tuple(journal.fills())


def one_line(error: pytest.ExceptionInfo[JournalError]) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_file_that_is_not_a_journal_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"these bytes were a journal once\n" * 400)
    with pytest.raises(JournalError) as error:
        Journal(path)
    message = one_line(error)
    assert str(path) in message and "damaged" in message and "restore a backup" in message


@pytest.mark.slow
def test_random_page_damage_is_caught_at_open_or_changes_nothing(tmp_path: Path) -> None:
    original = tmp_path / "bot.sqlite3"
    fill_journal(original)
    truth = what_a_restart_uses(original)
    pages = original.stat().st_size // PAGE
    assert pages >= 10
    caught = harmless = 0
    for seed in range(285):
        rng = random.Random(seed)
        damaged = tmp_path / f"damaged-{seed}.sqlite3"
        shutil.copy(original, damaged)
        data = bytearray(damaged.read_bytes())
        page = rng.randrange(pages)
        if seed < 85:  # a whole page of garbage (a torn or misdirected write)
            start, length = page * PAGE, PAGE
        else:  # a short run of garbage somewhere in one page (bit rot, a bad sector)
            length = rng.randint(1, 64)
            start = page * PAGE + rng.randrange(PAGE - length)
        data[start : start + length] = rng.randbytes(length)
        damaged.write_bytes(bytes(data))
        try:
            seen = what_a_restart_uses(damaged)
        except JournalError as e:
            assert "\n" not in str(e) and "damaged" in str(e), (seed, str(e))
            caught += 1
            continue
        assert seen == truth, f"seed {seed}: damage at {start}+{length} changed the journal"
        assert seed >= 85, f"seed {seed}: a page of garbage went unnoticed"
        harmless += 1
    assert caught >= 85 and caught + harmless == 285


def test_a_full_disk_stops_the_journal_in_one_line_and_nothing_more_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    journal = Journal(path)
    first = new_client_order_id("grid1")
    journal.record_intent(OrderIntent(first, "BTCUSDT", "BUY", "LIMIT", "0.001", "60000"))
    pages = journal._db.execute("PRAGMA page_count").fetchone()[0]  # type: ignore[union-attr]
    journal._db.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[union-attr]

    def fill_the_disk() -> None:
        for i in range(200):  # takes the last free pages, then the "disk" is full
            cid = f"grid1-{i:016x}"
            journal.record_intent(OrderIntent(cid, "BTCUSDT", "SELL", "LIMIT", "0.001", "61000"))

    with pytest.raises(JournalError) as error:
        fill_the_disk()
    message = one_line(error)
    assert "cannot be written" in message and "sends nothing more" in message
    assert journal.failed == message
    journal._db.execute("PRAGMA max_page_count = 1000000")  # type: ignore[union-attr]
    with pytest.raises(JournalError, match="cannot be written"):  # stays stopped
        journal.record_intent(OrderIntent("grid1-late", "BTCUSDT", "BUY", "LIMIT", "1", "1"))
    with pytest.raises(JournalError, match="cannot be written"):
        journal.record_update(first, "NEW", order_id=1)
    assert journal.get("grid1-late") is None
    assert journal.get(first) is not None  # reads still work, for the report
    journal.close()


def test_journal_files_are_created_and_kept_owner_only(tmp_path: Path, umask_022: None) -> None:
    with Journal.for_bot(tmp_path, "grid1") as journal:
        journal.record_intent(OrderIntent("grid1-a", "BTCUSDT", "BUY", "LIMIT", "1", "1"))
        files = [journal.path, journal.path.with_name(journal.path.name + "-wal")]
        assert [oct(p.stat().st_mode & 0o777) for p in files] == ["0o600", "0o600"]
    old = tmp_path / "old.sqlite3"
    sqlite3.connect(old).close()
    old.chmod(0o644)
    Journal(old).close()
    assert old.stat().st_mode & 0o777 == 0o600


def working(cid: str) -> Order:
    return Order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        quantity=Decimal("0.001"),
        client_order_id=cid,
        status="NEW",
        price=Decimal(60000),
    )


def test_an_emptied_journal_is_refused_while_the_bot_has_orders_working(tmp_path: Path) -> None:
    path = tmp_path / "live-grid.sqlite3"
    ids = [new_client_order_id("live-grid") for _ in range(10)]
    with Journal(path) as journal:
        for cid in ids:
            journal.record_intent(OrderIntent(cid, "BTCUSDT", "BUY", "LIMIT", "0.001", "60000"))
    on_venue = [working(cid) for cid in ids] + [working(new_client_order_id("other-bot"))]
    with Journal(path) as journal:
        check_journal_covers(journal, on_venue, "live-grid")  # it knows them all
    path.write_bytes(b"")  # truncated to 0 bytes
    with Journal(path) as journal:
        assert journal.created
        with pytest.raises(JournalError) as error:
            check_journal_covers(journal, on_venue, "live-grid")
    message = one_line(error)
    assert "not starting bot live-grid" in message and "10 open orders" in message
    assert min(ids) in message and "is new or empty" in message
    path.unlink()  # missing: the same
    with Journal(path) as journal, pytest.raises(JournalError, match="10 open orders"):
        check_journal_covers(journal, on_venue, "live-grid")
    with Journal(path) as journal:  # the refused start left an empty journal: still refused
        assert not journal.created
        with pytest.raises(JournalError, match="does not know them"):
            check_journal_covers(journal, on_venue, "live-grid")
        check_journal_covers(journal, on_venue[-1:], "live-grid")  # another bot's order


def test_the_prefix_is_the_one_the_strategy_sends() -> None:
    assert bot_order_prefix("grid1") == "grid1-"
    assert bot_order_prefix("paper.grid-with-a-long-name") == "papergrid-w-"
    assert new_client_order_id("paper.grid-with-a-long-name"[:12]).startswith("papergrid-w-")

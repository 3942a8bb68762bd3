"""The bots' journaled state (Journal.record_state / last_state): the latest wins, a journal
without any gives None, a damaged record is refused in one line."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from typing import TYPE_CHECKING, cast

import pytest

from tradewire.bots.dca import DcaBot
from tradewire.bots.params import DcaParams
from tradewire.bots.signal import SignalBot, SignalInbox
from tradewire.errors import JournalError
from tradewire.model import SymbolRules
from tradewire.trading.journal import Journal, JournalFill, OrderIntent

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.trading.strategy import StrategyContext


def test_the_latest_state_comes_back(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        assert journal.last_state() is None  # nothing recorded: no table yet either
        journal.record_state({"bot": "grid", "first": 0, "triggered": False})
        journal.record_state({"bot": "grid", "first": 3, "triggered": True})
    with Journal(tmp_path / "j.sqlite3") as journal:  # survives a reopen
        assert journal.last_state() == {"bot": "grid", "first": 3, "triggered": True}


def test_a_state_that_is_not_json_is_refused(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        with pytest.raises(JournalError, match="bot state must be JSON values"):
            journal.record_state({"price": object()})
        assert journal.last_state() is None


def test_a_damaged_state_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        journal.record_state({"bot": "dca"})
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE bot_state SET state = '[1, 2'")
    db.close()
    with Journal(path) as journal, pytest.raises(JournalError, match="bot state is damaged"):
        journal.last_state()


class _Ctx:
    """What DcaBot's restore and save read of a context: the journal, the clock, the log."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.lines: list[str] = []

    def now_ms(self) -> int:
        return 1_000

    def log(self, message: str) -> None:
        self.lines.append(message)


def _dca() -> DcaBot:
    return DcaBot(DcaParams(D(20), D(20), 1, D(1), D(2), max_deals=3))


@pytest.mark.asyncio
async def test_a_dca_bot_killed_between_deals_keeps_its_deal_count(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        ctx = cast("StrategyContext", _Ctx(journal))
        first = _dca()
        first.deals_started, first.deals_done, first.next_start_ms = 2, 2, 5_000
        await first._save(ctx)  # the last record of a run killed between two deals
        again = _dca()
        assert await again._restore(ctx) is False  # no deal to rebuild: it opens the next one
        assert (again.deals_started, again.deals_done, again.next_start_ms) == (2, 2, 5_000)
        # A run that stopped cleanly: the next one starts its count anew.
        await first.on_stop(ctx)
        fresh = _dca()
        assert await fresh._restore(ctx) is False
        assert (fresh.deals_started, fresh.deals_done, fresh.next_start_ms) == (0, 0, 0)


class _SignalCtx(_Ctx):
    """What SignalBot's save reads of a context: besides _Ctx, the symbol and the position."""

    symbol = "BTCUSDT"
    position = D(0)


@pytest.mark.asyncio
async def test_a_signal_bot_journals_its_position_when_it_stops(tmp_path: Path) -> None:
    # A run's end cancels the task that reads order updates: a fill it had already journaled
    # (the position counts it) may never reach on_order_update, whose save then never runs.
    with Journal(tmp_path / "j.sqlite3") as journal:
        bot = SignalBot(SignalInbox(), journal=journal, bot="tv1")
        fake = _SignalCtx(journal)
        ctx = cast("StrategyContext", fake)
        bot._ctx = ctx
        await bot._save(ctx)
        fake.position = D("0.0005")  # a fill applied, on_order_update not called
        await bot.on_stop(ctx)
        assert journal.last_state() == {
            "bot": "signal", "name": "tv1", "paused": False, "position": "0.0005",
            "symbol": "BTCUSDT",
        }  # fmt: skip


@pytest.mark.asyncio
async def test_a_signal_bot_counts_a_fill_before_its_start_once(tmp_path: Path) -> None:
    # An adopted order that fills between the resume and the first book is journaled and
    # counted in the run's position before on_start: the position carried from earlier runs
    # must not count it again.
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(OrderIntent("old", "BTCUSDT", "BUY", "LIMIT", "0.002", "100", "GTC"))
        journal.record_fill("old", JournalFill(1, "100", "0.002", "0", "USDT"))
        journal.record_update("old", "PARTIALLY_FILLED", executed_qty="0.002")
        journal.record_intent(OrderIntent("new", "BTCUSDT", "BUY", "LIMIT", "0.001", "100", "GTC"))
        journal.record_fill("new", JournalFill(2, "100", "0.0005", "0", "USDT"))
        journal.record_update("new", "PARTIALLY_FILLED", executed_qty="0.0005")
        fake = _SignalCtx(journal)
        fake.position = D("0.0005")  # this run's fill, applied before the start
        fake.unclaimed = []  # type: ignore[attr-defined]
        fake.rules = SymbolRules(  # type: ignore[attr-defined]
            "BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5")
        )
        bot = SignalBot(SignalInbox(), journal=journal, bot="tv1")
        await bot.on_start(cast("StrategyContext", fake))
        assert bot.carried == D("0.002")
        assert bot.position() == D("0.0025")

"""The bots' journaled state (Journal.record_state / last_state): the latest wins, a journal
without any gives None, a damaged record is refused in one line."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import JournalError
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path


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

"""``tradewire record``'s status line: on a terminal's stderr only, with the counts so far."""

from __future__ import annotations

import asyncio
import io
import re

import pytest

from tradewire.binance.recorder import RecorderStats
from tradewire.cli.record import progress_status, show_progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_status_counts_what_was_written() -> None:
    stats = RecorderStats(lines=12_345, bytes=2_500_000, reconnects=1)
    stats.depth_updates.update({"BTCUSDT": 1000, "ETHUSDT": 234})
    stats.trades["BTCUSDT"] = 5678
    assert progress_status(stats) == (
        "12,345 lines, 2.5 MB, 1,234 depth updates, 5,678 trades, 1 reconnects"
    )


@pytest.mark.asyncio
async def test_the_status_line_follows_the_counts_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stderr = Terminal()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setenv("COLUMNS", "120")
    stats = RecorderStats()
    shown = asyncio.create_task(show_progress(stats, 60.0, interval_s=0.01))
    for _ in range(200):  # until the first count is drawn
        await asyncio.sleep(0.01)
        if "0 lines" in ANSI.sub("", stderr.getvalue()):
            break
    stats.lines, stats.trades["BTCUSDT"] = 42, 7
    for _ in range(200):  # until the new counts are drawn
        await asyncio.sleep(0.01)
        if "42 lines" in ANSI.sub("", stderr.getvalue()):
            break
    shown.cancel()
    with pytest.raises(asyncio.CancelledError):
        await shown
    text = ANSI.sub("", stderr.getvalue())
    assert "recording" in text and "0 lines" in text
    assert "42 lines, 0.0 MB, 0 depth updates, 7 trades, 0 reconnects" in text


@pytest.mark.asyncio
async def test_no_status_line_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    # It returns at once (nothing to draw) instead of running until canceled.
    await asyncio.wait_for(show_progress(RecorderStats(), None), 5)
    assert stderr.getvalue() == ""

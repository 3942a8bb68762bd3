"""TapeMarket: the book it keeps from a tape's rows, and a paced replay that falls behind."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D
from pathlib import Path
from typing import TYPE_CHECKING

from tradewire._core import Tape
from tradewire.backtest.data import read_tape
from tradewire.model import BookUpdate, MarketTrade
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from collections.abc import Iterator

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
TRADE_BUY, TRADE_SELL, BID, ASK, BOOK_END, CLEAR = range(6)
U = 10**8


def _events(market: TapeMarket, consume_s: float = 0.0) -> list[BookUpdate | MarketTrade]:
    async def collect() -> list[BookUpdate | MarketTrade]:
        out: list[BookUpdate | MarketTrade] = []
        async for event in market.events("BTCUSDT"):
            out.append(event)
            if consume_s:
                time.sleep(consume_s)  # noqa: ASYNC251 - a slow strategy blocks the loop
        return out

    return asyncio.run(collect())


def test_the_book_is_the_tapes_levels_best_first_in_exact_decimals() -> None:
    rows = [
        (CLEAR, 0, 0),
        (BID, 100 * U, 2 * U),
        (BID, 101 * U, 1 * U),
        (ASK, 103 * U, 5 * U),
        (ASK, 102 * U, U // 2),
        (BOOK_END, 0, 0),
        (BID, 101 * U, 0),  # a level removed
        (ASK, 102 * U, 3 * U),  # and one changed
        (TRADE_SELL, 100 * U, U // 4),
        (BOOK_END, 0, 0),
    ]
    kinds, prices, qtys = (list(c) for c in zip(*rows, strict=True))
    times = [1_000_000 + 1000 * i for i in range(len(rows))]
    events = _events(TapeMarket([Tape.from_columns(kinds, times, prices, qtys)], depth=5))
    first, trade, second = events
    assert isinstance(first, BookUpdate) and isinstance(second, BookUpdate)
    assert first.bids == ((D(101), D(1)), (D(100), D(2)))
    assert first.asks == ((D(102), D("0.5")), (D(103), D(5)))
    assert (first.best_bid, first.best_ask, first.time_ms) == (D(101), D(102), 1005)
    assert first.units == ([(101 * U, U), (100 * U, 2 * U)], [(102 * U, U // 2), (103 * U, 5 * U)])
    assert trade == MarketTrade("BTCUSDT", "", D(100), D("0.25"), 1008, buyer_is_maker=True)
    assert second.bids == ((D(100), D(2)),) and second.asks[0] == (D(102), D(3))
    # A book made of units equals the same book made of Decimals.
    assert second == BookUpdate("BTCUSDT", second.bids, second.asks, second.time_ms)


def test_a_paced_replay_that_falls_behind_skips_books_never_trades() -> None:
    tapes = list(read_tape(RECORDING, "BTCUSDT"))
    trades = sum(int((t.kind <= TRADE_SELL).sum()) for t in tapes)
    books = sum(int((t.kind == BOOK_END).sum()) for t in tapes)
    everything = _events(TapeMarket(tapes))
    assert sum(isinstance(e, MarketTrade) for e in everything) == trades
    assert sum(isinstance(e, BookUpdate) for e in everything) == books
    # Six minutes at 1,000,000x are due in 0.4 ms of wall time: a consumer taking 0.1 ms an event is
    # late for nearly all of it. Every trade still comes, in order; late books are dropped.
    market = TapeMarket(tapes, speed=1_000_000)
    paced = _events(market, consume_s=0.0001)
    paced_trades = [e for e in paced if isinstance(e, MarketTrade)]
    assert paced_trades == [e for e in everything if isinstance(e, MarketTrade)]
    paced_books = sum(isinstance(e, BookUpdate) for e in paced)
    assert market.books_skipped > books // 2
    assert paced_books + market.books_skipped == books
    times = [e.time_ms for e in paced]
    assert times == sorted(times)


def test_time_spent_loading_the_next_tape_does_not_make_books_late() -> None:
    # A tape source that takes 20 ms to make each tape (as the synthetic market's generator or
    # a file reader does, a chunk at a time), paced: the replay waits for the data as a player
    # buffers, so a consumer that keeps up skips no book.
    whole = list(read_tape(RECORDING, "BTCUSDT"))
    tapes = []
    for tape in whole:  # chunks of 5,000 rows, cut after a book's end
        kind, times, price, qty = tape.kind, tape.time_us, tape.price, tape.qty
        begin = 0
        while begin < len(kind):
            end = min(begin + 5000, len(kind))
            while end < len(kind) and kind[end - 1] != BOOK_END:
                end += 1
            cols = (kind[begin:end], times[begin:end], price[begin:end], qty[begin:end])
            tapes.append(Tape.from_columns(*(c.tolist() for c in cols)))
            begin = end
    books = sum(int((t.kind == BOOK_END).sum()) for t in tapes)
    span_s = (int(tapes[-1].time_us[-1]) - int(tapes[0].time_us[0])) / 1e6

    def replay(load_s: float) -> tuple[int, int, float]:
        """(books delivered, books skipped, wall seconds) of a paced replay (due in 3 s of wall
        time) whose source takes ``load_s`` to make each tape."""

        def source() -> Iterator[Tape]:
            for tape in tapes:
                time.sleep(load_s)
                yield tape

        market = TapeMarket(source(), speed=span_s / 3)
        started = time.perf_counter()
        events = _events(market)
        delivered = sum(isinstance(e, BookUpdate) for e in events)
        return delivered, market.books_skipped, time.perf_counter() - started

    assert len(tapes) > 20  # so loading takes over 2 s, far more than a book's lateness
    # The same consumer on the same machine, once with data that is there at once and once
    # with data that takes 100 ms a tape: the loads add few late books. Without the buffering
    # most books after each load came late (skipped) until the replay caught up; the
    # consumer's own lateness (a busy machine) is in both runs, so it cancels out.
    delivered, skipped_at_once, _ = replay(0.0)
    assert delivered + skipped_at_once == books
    delivered, skipped, wall_s = replay(0.1)
    assert delivered + skipped == books
    assert skipped - skipped_at_once < books // 4, (skipped, skipped_at_once, books)
    assert wall_s >= 3  # still paced

"""The kill harness's own parts, without processes: the kill preludes, the seeded plan, and a
judge that does fail on a duplicate, an orphan, a lost order, a doubled grid line and a take
profit off the fills."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.testing.kills import (
    KILL_POINTS,
    ExchangeView,
    KillPlan,
    check_dca,
    check_grid_lines,
    check_orders,
    kill_prelude,
)
from tradewire.trading.journal import Journal, JournalFill, OrderIntent

if TYPE_CHECKING:
    from pathlib import Path


def _row(cid: str, status: str = "NEW", price: str = "100", side: str = "BUY", n: int = 1) -> Any:
    return {
        "clientOrderId": cid,
        "orderId": n,
        "status": status,
        "price": price,
        "side": side,
        "origQty": "1",
    }


def _journal(tmp_path: Path, *cids: str) -> Journal:
    journal = Journal(tmp_path / "j.sqlite3")
    for n, cid in enumerate(cids, 1):
        journal.record_intent(OrderIntent(cid, "BTCUSDT", "BUY", "LIMIT", "1", "100", "GTC"))
        journal.record_update(cid, "NEW", order_id=n)
    return journal


def test_every_kill_point_has_a_prelude_that_compiles() -> None:
    for point in KILL_POINTS:
        compile(kill_prelude(point, 2) or "pass", point, "exec")
    with pytest.raises(ValueError, match="unknown kill point"):
        kill_prelude("somewhere", 1)
    with pytest.raises(ValueError, match="count must be 1 or more"):
        kill_prelude("accepted", 0)


def test_a_seed_replays_the_same_kills() -> None:
    first, again, other = KillPlan(7), KillPlan(7), KillPlan(8)
    cases = [first.next_case() for _ in range(10)]
    assert cases == [again.next_case() for _ in range(10)]
    assert cases != [other.next_case() for _ in range(10)]
    assert str(cases[0]).startswith("seed 7, run 1: ")


def test_the_judge_agrees_when_the_exchange_matches_the_journal(tmp_path: Path) -> None:
    with _journal(tmp_path, "a", "b") as journal:
        view = ExchangeView([_row("a"), _row("b", n=2)], [_row("a"), _row("b", n=2)], [])
        assert check_orders(view, journal, settled=True) == []


def test_the_judge_finds_a_duplicate_an_orphan_and_a_lost_order(tmp_path: Path) -> None:
    with _journal(tmp_path, "a", "b") as journal:
        rows = [_row("a"), _row("a", n=3), _row("x", n=4)]  # "a" twice, "x" unknown, "b" gone
        problems = check_orders(ExchangeView(rows, rows, []), journal, settled=True)
    text = "\n".join(problems)
    assert "sent twice: ['a']" in text
    assert "orphans): ['x']" in text
    assert "b is not on the exchange (lost)" in text
    assert "x is open on the exchange, ? in the journal" in text


def test_the_judge_finds_fills_that_differ(tmp_path: Path) -> None:
    with _journal(tmp_path, "a") as journal:
        journal.record_fill("a", JournalFill(1, "100", "1"))
        journal.record_update("a", "FILLED", executed_qty="1")
        row = _row("a", "FILLED")
        trade = {"id": 1, "orderId": 1, "qty": "0.5", "price": "100"}
        problems = check_orders(ExchangeView([row], [], [trade]), journal, settled=True)
    assert problems and "fills of a" in problems[0]


def test_the_judge_finds_a_doubled_line_and_one_off_the_range() -> None:
    rows = [_row("a", price="100"), _row("b", price="100", n=2), _row("c", price="107", n=3)]
    problems = check_grid_lines(ExchangeView(rows, rows, []), [Decimal(100), Decimal(105)])
    assert problems == [
        "two open orders on one grid line: [Decimal('100')]",
        "open orders off the journaled lines [Decimal('100'), Decimal('105')]: [Decimal('107')]",
    ]


def test_the_judge_finds_a_take_profit_off_the_fills(tmp_path: Path) -> None:
    with _journal(tmp_path, "base", "tp") as journal:
        journal.record_state(
            {"bot": "dca", "deals": [{"number": 1, "base_cid": "base", "tp_cid": "tp"}]}
        )
        base = _row("base", "FILLED")
        tp = _row("tp", price="102.00", side="SELL", n=2)
        trade = {
            "id": 1, "orderId": 1, "qty": "1", "price": "100", "quoteQty": "100",
            "commission": "0", "commissionAsset": "BTC",
        }  # fmt: skip
        journal.record_fill("base", JournalFill(1, "100", "1"))
        view = ExchangeView([base, tp], [tp], [trade])
        ok = check_dca(
            view, journal, take_profit_pct=Decimal(2), tick=Decimal("0.01"), settled=True
        )
        off = check_dca(
            view, journal, take_profit_pct=Decimal(1), tick=Decimal("0.01"), settled=True
        )
    assert ok == []
    assert off == ["deal 1: take profit at 102.00, the exchange's fills give 101.00 (average 100)"]


def test_the_judge_tells_a_fill_lost_by_the_bot_from_one_after_it_stopped(tmp_path: Path) -> None:
    with _journal(tmp_path, "base", "safety") as journal:
        journal.record_fill("base", JournalFill(1, "100", "1"))
        journal.record_update("base", "FILLED", executed_qty="1")
        journal.record_state(
            {
                "bot": "dca", "ended": True, "saved_ms": 5_000,
                "deals": [{"number": 1, "base_cid": "base", "safety": ["safety"]}],
            }
        )  # fmt: skip
        base, safety = _row("base", "FILLED"), _row("safety", "FILLED", n=2)

        def trade(n: int, time_ms: int) -> dict[str, Any]:
            return {
                "id": n, "orderId": n, "qty": "1", "price": "100", "quoteQty": "100",
                "commission": "0", "commissionAsset": "BTC", "time": time_ms,
            }  # fmt: skip

        def judge(safety_filled_ms: int) -> list[str]:
            view = ExchangeView([base, safety], [], [trade(1, 1_000), trade(2, safety_filled_ms)])
            return check_dca(
                view, journal, take_profit_pct=Decimal(2), tick=Decimal("0.01"), settled=True
            )

        assert judge(6_000) == []  # after the clean stop: the next run takes it
        assert judge(4_000) == ["deal 1: journal fills bought 1 for 100, exchange 2 for 200"]

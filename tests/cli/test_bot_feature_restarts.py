"""Live grid and DCA bots with the platform features, killed at several points and started
again against the local exchange: after the base bought at start, after trailing moves, in the
middle of a deal. The exchange (openOrders, allOrders) is the judge: no order twice, none the
journal does not follow, the journaled state rebuilt."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.bots.params import GridParams, grid_levels, params_from_record
from tradewire.exchange import LocalExchange
from tradewire.testing.command import TradewireCommand, crash_after_orders
from tradewire.testing.local_exchange import LocalKey, add_local_key
from tradewire.trading.journal import Journal
from tradewire.venues.binance import rules_from_filters

if TYPE_CHECKING:
    from pathlib import Path


async def _mid(key: LocalKey) -> Decimal:
    async with key.client() as client:
        depth = await client.depth("BTCUSDT", 5)
    return (Decimal(depth.bids[0][0]) + Decimal(depth.asks[0][0])) / 2


async def _orders(key: LocalKey) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    open_rows = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
    all_rows = await key.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
    return open_rows, all_rows


def _no_duplicate_no_orphan(
    home: Path, name: str, open_rows: list[Any], all_rows: list[Any]
) -> None:
    with Journal.for_bot(home, name) as journal:
        journal_open = {o.client_order_id for o in journal.open_orders()}
        journal_all = {o.client_order_id for o in journal.orders()}
    cids = [r["clientOrderId"] for r in all_rows]
    assert len(cids) == len(set(cids))  # no order sent twice
    assert set(cids) <= journal_all  # every order placed is on record
    on_exchange = {r["clientOrderId"] for r in open_rows}
    assert on_exchange <= journal_open  # none works unfollowed
    # What the journal still holds open filled after the run ended (it keeps its orders); the
    # next start reconciles it.
    status = {r["clientOrderId"]: r["status"] for r in all_rows}
    assert all(status[c] == "FILLED" for c in journal_open - on_exchange)
    prices = [(r["side"], r["price"]) for r in open_rows]
    assert len(prices) == len(set(prices)), prices  # no line or safety order doubled


def _state(home: Path, name: str) -> dict[str, Any]:
    with Journal.for_bot(home, name) as journal:
        state = journal.last_state()
    assert state is not None
    return state


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_grid_killed_after_buying_its_base_does_not_buy_it_again(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=50) as ex:
        key = add_local_key(ex, balances={"USDT": "10000"})  # no BTC at all
        cli.key_store().add("bot1", key.api_key, key.secret)
        args = [
            "live", "grid", "--name", "g1", "--key", "bot1", "--rest-url", ex.rest_url,
            "--grids", "6", "--investment", "1000", "--recv-window", "1000",
            "--no-view", "--keep-orders", "--duration", "1.5",
        ]  # fmt: skip
        # Killed right after the exchange took the base order, before its answer was recorded.
        status, out, err = await cli.run(*args, prelude=crash_after_orders(1))
        assert status == 9, (out, err)
        assert "plan: BUY " in out, (out, err)
        _, all_rows = await _orders(key)
        assert [(r["side"], r["type"], r["status"]) for r in all_rows] == [
            ("BUY", "MARKET", "FILLED")
        ]
        ex.advance(300)
        status, out, err = await cli.run(*args)
        assert status == 0, (out, err)
        assert "plan: " not in out  # the base is there now: nothing bought again
        open_rows, all_rows = await _orders(key)
        assert sum(r["type"] == "MARKET" for r in all_rows) == 1
        assert len(open_rows) == 6
        _no_duplicate_no_orphan(tmp_path, "g1", open_rows, all_rows)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_trailing_grid_killed_around_its_moves_keeps_one_ladder(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=50) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        mid = (await _mid(key)).quantize(Decimal("0.01"))
        lower, upper = mid - Decimal("0.20"), mid + Decimal("0.20")
        args = [
            "live", "grid", "--name", "t1", "--key", "bot1", "--rest-url", ex.rest_url,
            "--grids", "4", "--quantity", "0.001", "--lower", str(lower), "--upper", str(upper),
            "--trailing-up", "--trailing-down", "--force", "--recv-window", "1000",
            "--no-view", "--keep-orders", "--duration", "1.5",
        ]  # fmt: skip
        moved_before_a_kill = False
        for crash_after in (5, 6, 7, 2, 6, 0):
            ex.advance(600)  # the price moves between two starts
            status, out, err = await cli.run(*args, prelude=crash_after_orders(crash_after))
            assert status in (0, 9), (out, err)
            with Journal.for_bot(tmp_path, "t1") as journal:
                moves = (journal.last_state() or {}).get("trailing_moves", 0)  # none: no move
            moved_before_a_kill |= status == 9 and moves > 0
            open_rows, all_rows = await _orders(key)
            assert len(open_rows) <= 4
        assert status == 0, (out, err)
        assert moved_before_a_kill  # at least one kill came after a trailing move
        state = _state(tmp_path, "t1")
        open_rows, all_rows = await _orders(key)
        _no_duplicate_no_orphan(tmp_path, "t1", open_rows, all_rows)
        # Every open order sits on a line of the journaled range (after its moves).
        with Journal.for_bot(tmp_path, "t1") as journal:
            last = journal.last_params()
        assert last is not None
        params = params_from_record(last.kind, last.params)
        assert isinstance(params, GridParams) and params.trailing_up and params.trailing_down
        async with key.client() as client:
            rules = rules_from_filters(await client.filters("BTCUSDT"))
        lines = set(grid_levels(params, rules, state["first"]))
        assert {Decimal(r["price"]) for r in open_rows} <= lines, (open_rows, lines)
        assert len(open_rows) >= 3  # a ladder is working, not a stray order


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_dca_deal_killed_midway_is_rebuilt_from_the_journal(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=50) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        args = [
            "live", "dca", "--name", "d1", "--key", "bot1", "--rest-url", ex.rest_url,
            "--base-order", "100", "--safety-order", "100", "--max-safety-orders", "3",
            "--deviation", "0.0005", "--take-profit", "5", "--force", "--recv-window", "1000",
            "--no-view", "--keep-orders", "--duration", "1.5",
        ]  # fmt: skip
        # Killed after the base order, after the first safety order, after the last one.
        for crash_after in (1, 2, 4, 3, 0):
            ex.advance(300)
            status, out, err = await cli.run(*args, prelude=crash_after_orders(crash_after))
            assert status in (0, 9), (out, err)
            if crash_after == 0:
                assert status == 0, (out, err)
        assert "rebuilding the dca bot from its journal" in out, (out, err)
        open_rows, all_rows = await _orders(key)
        _no_duplicate_no_orphan(tmp_path, "d1", open_rows, all_rows)
        state = _state(tmp_path, "d1")
        [deal] = state["deals"]
        assert sum(r["type"] == "MARKET" for r in all_rows) == 1  # one base order: one deal
        sells = [r for r in open_rows if r["side"] == "SELL"]
        buys = [r for r in open_rows if r["side"] == "BUY"]
        assert len(sells) == 1  # one take profit, for all the deal holds
        # The deal's three safety orders, each either still open or filled, none twice.
        states = {r["clientOrderId"]: r["status"] for r in all_rows}
        assert len(deal["safety"]) == 3
        assert all(states[c] in ("NEW", "FILLED") for c in deal["safety"])
        assert {r["clientOrderId"] for r in buys} <= set(deal["safety"])
        assert state["deals_started"] == 1 and deal["number"] == 1
        # The take profit is 5% over the average price the exchange's fills give.
        filled = [r for r in all_rows if r["side"] == "BUY" and Decimal(r["executedQty"]) > 0]
        spent = sum((Decimal(r["cummulativeQuoteQty"]) for r in filled), Decimal(0))
        got = sum((Decimal(r["executedQty"]) for r in filled), Decimal(0))
        with Journal.for_bot(tmp_path, "d1") as journal:
            fees = sum(
                (Decimal(f.commission) for r in filled for f in journal.fills(r["clientOrderId"])
                 if f.commission_asset == "BTC"),
                Decimal(0),
            )  # fmt: skip
        average = spent / (got - fees)
        tp = Decimal(sells[0]["price"])
        assert tp == (average * Decimal("1.05")).quantize(Decimal("0.01"), rounding="ROUND_UP")
        assert Decimal(sells[0]["origQty"]) == (got - fees).quantize(
            Decimal("0.00001"), rounding="ROUND_DOWN"
        )


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_take_profit_filled_while_the_bot_was_down_closes_its_deal(
    tmp_path: Path,
) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=50) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        args = [
            "live", "dca", "--name", "d2", "--key", "bot1", "--rest-url", ex.rest_url,
            "--base-order", "100", "--max-safety-orders", "0", "--take-profit", "0.0001",
            "--deals", "2", "--force", "--recv-window", "1000", "--no-view", "--keep-orders",
            "--duration", "1.5",
        ]  # fmt: skip
        # Killed right after the take profit was sent: the deal's base and its sell.
        status, out, err = await cli.run(*args, prelude=crash_after_orders(2))
        assert status == 9, (out, err)
        [tp] = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
        # While the bot is down another account buys up to the take profit's price, through
        # the asks below it: the take profit fills.
        taker = add_local_key(ex, balances={"USDT": "100000"})
        async with taker.client() as client:
            await client.place_order(
                "BTCUSDT", "BUY", "LIMIT", quantity="1", price=tp["price"],
                time_in_force="GTC",
            )  # fmt: skip
        assert await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"}) == []
        status, out, err = await cli.run(*args)
        assert status == 0, (out, err)
        state = _state(tmp_path, "d2")
        first = state["history"][0]
        assert first["number"] == 1 and first["close_reason"] == "take profit"
        # Its proceeds are the exchange's: the take profit's quote less its USDT fee.
        _, rows = await _orders(key)
        [row] = [r for r in rows if r["clientOrderId"] == tp["clientOrderId"]]
        with Journal.for_bot(tmp_path, "d2") as journal:
            fee = sum(
                (Decimal(f.commission) for f in journal.fills(tp["clientOrderId"])
                 if f.commission_asset == "USDT"),
                Decimal(0),
            )  # fmt: skip
        assert Decimal(first["proceeds"]) == Decimal(row["cummulativeQuoteQty"]) - fee
        open_rows, all_rows = await _orders(key)
        _no_duplicate_no_orphan(tmp_path, "d2", open_rows, all_rows)
        assert tp["clientOrderId"] not in {r["clientOrderId"] for r in open_rows}
        assert sum(r["type"] == "MARKET" for r in all_rows) == state["deals_started"]

"""A live grid without ``--lower/--upper``, killed and started again while the price moves.

Its range is centred on the price at its first start. After a restart it must rebuild the same
grid lines from its journal, take its open orders back, and leave exactly one grid's worth of
orders on the exchange: none twice, none the journal does not follow. The exchange (allOrders,
openOrders) is the judge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.bots.params import GridParams, grid_levels, params_from_record
from tradewire.exchange import LocalExchange
from tradewire.testing.command import TradewireCommand, crash_after_orders
from tradewire.testing.local_exchange import LocalKey, add_local_key
from tradewire.trading.journal import Journal
from tradewire.venues.binance import rules_from_filters

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import SymbolRules
    from tradewire.trading.journal import BotParameters

GRIDS = 6


async def _mid(key: LocalKey) -> Decimal:
    async with key.client() as client:
        depth = await client.depth("BTCUSDT", 5)
    return (Decimal(depth.bids[0][0]) + Decimal(depth.asks[0][0])) / 2


async def _rules(key: LocalKey) -> SymbolRules:
    async with key.client() as client:
        return rules_from_filters(await client.filters("BTCUSDT"))


def _journaled(home: Path, name: str = "g1") -> BotParameters:
    with Journal.for_bot(home, name) as journal:
        params = journal.last_params()
    assert params is not None
    return params


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_restarted_grid_without_bounds_keeps_one_grid(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=50) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        rules = await _rules(key)
        args = [
            "live", "grid", "--name", "g1", "--key", "bot1", "--rest-url", ex.rest_url,
            "--grids", str(GRIDS), "--investment", "1000", "--recv-window", "1000",
            "--no-view", "--keep-orders", "--duration", "1.5",
        ]  # fmt: skip
        starts: list[Decimal] = []
        first: BotParameters | None = None
        # Killed after the 3rd, 2nd, 1st, 2nd order of a run (a run that needs fewer ends
        # on its own, keeping its orders), then one run to its end.
        for crash_after in (3, 2, 1, 2, 0):
            ex.advance(300)  # the price moves between two starts
            starts.append(await _mid(key))
            status, out, err = await cli.run(*args, prelude=crash_after_orders(crash_after))
            assert status in (0, 9), (out, err)
            if crash_after == 0:
                assert status == 0, (out, err)
            if first is None:
                first = _journaled(tmp_path)
            else:
                assert "rebuilding the grid bot from its journal" in out, (out, err)
        assert len(set(starts)) > 1  # the restarts saw other prices than the first start

        open_rows = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
        all_rows = await key.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
        with Journal.for_bot(tmp_path, "g1") as journal:
            journal_open = {o.client_order_id for o in journal.open_orders()}
            journal_all = {o.client_order_id for o in journal.orders()}
        on_exchange = {r["clientOrderId"] for r in open_rows}
        counts = f"{len(open_rows)} open orders, {len(all_rows)} placed in all"
        # One grid's worth: every line but the one nearest the price holds one order.
        assert len(open_rows) == GRIDS, counts
        assert on_exchange == journal_open, counts  # every open order is followed, no orphan
        assert {r["clientOrderId"] for r in all_rows} <= journal_all
        cids = [r["clientOrderId"] for r in all_rows]
        assert len(cids) == len(set(cids))
        # The same lines as at the first start, one order on each.
        assert first is not None and _journaled(tmp_path) == first
        params = params_from_record(first.kind, first.params)
        assert isinstance(params, GridParams) and params.grid_number == GRIDS
        # Centred on the price at the first start, not on a later one.
        assert abs((params.lower_price + params.upper_price) / 2 - starts[0]) < 1
        first_lines = set(grid_levels(params, rules))
        prices = [Decimal(r["price"]) for r in open_rows]
        assert len(set(prices)) == GRIDS and set(prices) <= first_lines, (prices, first_lines)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_other_options_while_orders_are_open_are_refused(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=50) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        args = [
            "live", "grid", "--name", "g2", "--key", "bot1", "--rest-url", ex.rest_url,
            "--grids", "4", "--investment", "1000", "--no-view", "--duration", "1",
        ]  # fmt: skip
        status, out, err = await cli.run(*args, "--keep-orders")
        assert status == 0, (out, err)
        kept = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert len(kept) == 4
        price = (await _mid(key)).quantize(Decimal(1))
        lower, upper = str(price - 500), str(price + 500)

        placed = ex.metrics()["orders_placed"]
        status, out, err = await cli.run(*args, "--lower", lower, "--upper", upper)
        assert status == 1, (out, err)
        assert "bot g2 has 4 orders open from its last run" in err
        assert f"you passed --lower {lower} (journaled: " in err
        assert "--cancel-old-orders" in err
        assert ex.metrics()["orders_placed"] == placed
        now = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert {r["clientOrderId"] for r in now} == {r["clientOrderId"] for r in kept}

        status, out, err = await cli.run(
            *args, "--lower", lower, "--upper", upper, "--cancel-old-orders", "--keep-orders"
        )
        assert status == 0, (out, err)
        assert out.count("from the last run") == 4
        now = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert len(now) == 4 and not {r["clientOrderId"] for r in now} & {
            r["clientOrderId"] for r in kept
        }
        assert all(Decimal(lower) <= Decimal(r["price"]) <= Decimal(upper) for r in now)
        assert _journaled(tmp_path, "g2").params["lower_price"] == lower

        # Without options it carries on with the journaled grid, and a run that does not keep
        # its orders leaves none.
        status, out, err = await cli.run(*args)
        assert status == 0, (out, err)
        assert "rebuilding the grid bot from its journal" in out
        assert "0 orders placed" in out
        assert await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"}) == []

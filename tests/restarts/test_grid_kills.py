"""Grid bots killed at random points and started again, 20 kills, against the local exchange.

One ``tradewire exchange serve --db FILE`` with the calibrated market holds the orders; a plain
grid trades BTCUSDT and a grid trailing up and down trades ETHUSDT on the same account. After
every run the exchange's orders and trades are compared with the journal (see
:mod:`tradewire.testing.kills`). ``TRADEWIRE_KILLS_SEED`` replays a failing seed.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.bots.params import GridParams, grid_levels, params_from_record
from tradewire.testing.command import TradewireCommand
from tradewire.testing.kills import (
    ExchangeView,
    KillPlan,
    ServedExchange,
    check_grid_lines,
    check_orders,
    run_killed,
)
from tradewire.trading.journal import Journal
from tradewire.venues.binance import rules_from_filters

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import SymbolRules

KILLS = 20
SEED = int(os.environ.get("TRADEWIRE_KILLS_SEED", "15"))


def _ladder(view: ExchangeView, journal: Journal, rules: SymbolRules) -> list[str]:
    """check_grid_lines on the journaled range; a bot killed before it journaled its
    parameters must have placed nothing."""
    last = journal.last_params()
    if last is None:
        return [f"orders placed before the parameters were journaled: {view.all_orders}"] * bool(
            view.all_orders
        )
    params = params_from_record(last.kind, last.params)
    assert isinstance(params, GridParams)
    state = journal.last_state() or {}
    return check_grid_lines(view, grid_levels(params, rules, int(state.get("first", 0))))


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(400)
@pytest.mark.asyncio
async def test_grids_killed_20_times_keep_one_ladder_and_lose_no_order(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    plan = KillPlan(SEED)
    market = ("--market", "calibrated", "--market-speed", "2")
    async with ServedExchange(
        cli, tmp_path / "ex.sqlite3", *market, symbols=("BTCUSDT", "ETHUSDT")
    ) as ex:
        assert ex.key is not None
        cli.key_store().add("bot1", ex.key.api_key, ex.key.secret)
        async with ex.key.client() as client:
            rules = {s: rules_from_filters(await client.filters(s)) for s in ("BTCUSDT", "ETHUSDT")}
        bots = {}
        for name, symbol, width, extra in (
            ("plain", "BTCUSDT", Decimal(120), ()),
            ("trailing", "ETHUSDT", Decimal(2), ("--trailing-up", "--trailing-down")),
        ):
            mid = (await ex.mid(symbol)).quantize(Decimal("0.01"))
            common = (
                "live", "grid", "--name", name, "--key", "bot1", "--rest-url", ex.rest_url,
                "--symbol", symbol, "--recv-window", "1000", "--no-view", "--keep-orders",
            )  # fmt: skip
            options = (
                "--lower", str(mid - width), "--upper", str(mid + width), "--grids", "6",
                "--quantity", "0.001" if symbol == "BTCUSDT" else "0.03", "--force", *extra,
            )  # fmt: skip
            bots[name] = (symbol, common, options)
        kills = {name: 0 for name in bots}
        fills = {name: 0 for name in bots}
        refused = 0
        while min(kills.values()) < KILLS // 2:
            name = min(kills, key=lambda n: kills[n])
            symbol, common, options = bots[name]
            case = plan.next_case(min_delay_s=1.0, max_delay_s=4.0)
            await ex.pace()
            settle = plan.number % 4 == 0  # every 4th run ends by itself: the judge is strict
            with Journal.for_bot(tmp_path, name) as journal:
                journal_open = {o.client_order_id for o in journal.open_orders()}
            # Still working on the exchange: a restart adopts them (if they all filled or were
            # canceled meanwhile, a start without the bot's options would take the defaults).
            working = {o["clientOrderId"] for o in (await ex.view(symbol)).open_orders}
            has_open = bool(journal_open) and journal_open <= working
            if has_open and plan.rng.random() < 0.15:
                # Other options while its orders are open: refused, and nothing changes.
                before = await ex.view(symbol)
                result = await run_killed(
                    cli, [*common, *options, "--grids", "8", "--duration", "1"], None
                )
                assert result.status != 0 and "journaled" in result.err, (case, result)
                after = await ex.view(symbol)
                assert after.by_cid().keys() == before.by_cid().keys(), case
                refused += 1
            # Without the bot's options (the journaled ones are used) while orders are open.
            bare = has_open and plan.rng.random() < 0.3
            args = [*common, *(() if bare else options), "--duration", "2.5"]
            result = await run_killed(cli, args, None if settle else case)
            killed = result.status in (9, -9)
            assert killed or result.status == 0, f"{case} ({name}): {result}"
            kills[name] += killed
            how = "ran to its end" if settle else str(case)
            print(f"{how} ({name}): status {result.status}", flush=True)
            view = await ex.view(symbol)
            with Journal.for_bot(tmp_path, name) as journal:
                problems = check_orders(view, journal, settled=not killed)
                problems += _ladder(view, journal, rules[symbol])
            assert not problems, f"{case} ({name}, {'killed' if killed else 'ended'}): {problems}"
        for name, (symbol, common, options) in bots.items():
            result = await run_killed(cli, [*common, *options, "--duration", "2"], None)
            assert result.status == 0, (name, result)
            view = await ex.view(symbol)
            with Journal.for_bot(tmp_path, name) as journal:
                problems = check_orders(view, journal, settled=True)
                problems += _ladder(view, journal, rules[symbol])
                fills[name] = len(journal.fills())
            assert not problems, f"seed {SEED}, the last run of {name}: {problems}"
            assert view.open_orders, f"seed {SEED}: {name} has no ladder working at the end"
        print(
            f"seed {SEED}: kills {kills}, fills {fills}, "
            f"{refused} restarts with other options refused"
        )

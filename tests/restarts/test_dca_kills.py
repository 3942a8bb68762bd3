"""A DCA bot killed at random points and started again, 20 kills, against the local exchange.

Deals open, safety orders fill and take profits close deals on the calibrated market of one
``tradewire exchange serve --db FILE``. After every run the exchange's orders and trades are
compared with the journal, and each open deal with the exchange's fills (see
:mod:`tradewire.testing.kills`). ``TRADEWIRE_KILLS_SEED`` replays a failing seed.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.testing.command import TradewireCommand
from tradewire.testing.kills import KillPlan, ServedExchange, check_dca, check_orders, run_killed
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

KILLS = 20
SEED = int(os.environ.get("TRADEWIRE_KILLS_SEED", "15"))
TAKE_PROFIT = Decimal("0.02")  # percent


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(400)
@pytest.mark.asyncio
async def test_a_dca_bot_killed_20_times_keeps_its_deals(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    plan = KillPlan(SEED)
    market = ("--market", "calibrated", "--market-speed", "8")
    async with ServedExchange(cli, tmp_path / "ex.sqlite3", *market) as ex:
        assert ex.key is not None
        cli.key_store().add("bot1", ex.key.api_key, ex.key.secret)
        common = (
            "live", "dca", "--name", "d1", "--key", "bot1", "--rest-url", ex.rest_url,
            "--recv-window", "1000", "--no-view", "--keep-orders",
        )  # fmt: skip
        options = (
            "--base-order", "100", "--safety-order", "100", "--max-safety-orders", "3",
            "--deviation", "0.01", "--take-profit", str(TAKE_PROFIT), "--deals", "1000",
            "--force",
        )  # fmt: skip
        kills = refused = taken = 0
        hit = False
        while kills < KILLS:
            case = plan.next_case(min_delay_s=1.0, max_delay_s=4.0)
            await ex.pace()
            settle = plan.number % 4 == 0  # every 4th run ends by itself: the judge is strict
            with Journal.for_bot(tmp_path, "d1") as journal:
                journal_open = {o.client_order_id for o in journal.open_orders()}
            # Still working on the exchange: a restart adopts them (if they all filled or were
            # canceled meanwhile, a start without the bot's options would take the defaults).
            working = {o["clientOrderId"] for o in (await ex.view()).open_orders}
            has_open = bool(journal_open) and journal_open <= working
            if has_open and plan.rng.random() < 0.15:
                # Another take profit while its orders are open: refused, and nothing changes.
                before = await ex.view()
                other = [*common, *options, "--take-profit", "0.05", "--duration", "1"]
                result = await run_killed(cli, other, None)
                assert result.status != 0 and "journaled" in result.err, (case, result)
                after = await ex.view()
                assert after.by_cid().keys() == before.by_cid().keys(), case
                refused += 1
            # The journaled options are used without the bot's own while orders are open (not
            # right after a take profit was hit: with none open, a bare start takes defaults).
            bare = has_open and not hit and plan.rng.random() < 0.3
            args = [*common, *(() if bare else options), "--duration", "2.5"]
            result = await run_killed(cli, args, None if settle else case)
            killed = result.status in (9, -9)
            how = "ran to its end" if settle else str(case)
            print(f"{how}: status {result.status}", flush=True)
            assert killed or result.status == 0, f"{how}: {result}"
            kills += killed
            view = await ex.view()
            with Journal.for_bot(tmp_path, "d1") as journal:
                problems = check_orders(view, journal, settled=not killed)
                problems += check_dca(
                    view, journal, take_profit_pct=TAKE_PROFIT, tick=Decimal("0.01"),
                    settled=not killed,
                )  # fmt: skip
            assert not problems, f"{how} ({'killed' if killed else 'ended'}): {problems}"
            sells = [o for o in view.open_orders if o["side"] == "SELL"]
            hit = killed and bool(sells) and plan.rng.random() < 0.5
            if hit:
                # While the bot is down another account buys through the asks up to its take
                # profit: it fills.
                assert ex.taker is not None
                async with ex.taker.client() as client:
                    tp = Decimal(sells[0]["price"])
                    asks = (await client.depth("BTCUSDT", 5000)).asks
                    ahead = sum((Decimal(q) for p, q in asks if Decimal(p) <= tp), Decimal(0))
                    await client.place_order(
                        "BTCUSDT", "BUY", "LIMIT", quantity=str(ahead), price=str(tp),
                        time_in_force="IOC",
                    )  # fmt: skip
                taken += 1
        result = await run_killed(cli, [*common, *options, "--duration", "2"], None)
        assert result.status == 0, result
        view = await ex.view()
        with Journal.for_bot(tmp_path, "d1") as journal:
            problems = check_orders(view, journal, settled=True)
            problems += check_dca(
                view, journal, take_profit_pct=TAKE_PROFIT, tick=Decimal("0.01"), settled=True
            )
            state = journal.last_state() or {}
            fills = len(journal.fills())
        assert not problems, f"seed {SEED}, the last run: {problems}"
        safety_filled = sum(
            o["status"] == "FILLED" and o["type"] == "LIMIT" and o["side"] == "BUY"
            for o in view.all_orders
        )
        closed = len(state.get("history", []))
        tp_filled = sum(o["status"] == "FILLED" and o["side"] == "SELL" for o in view.all_orders)
        assert closed == tp_filled >= 1, (taken, closed, tp_filled, state.get("history"))
        print(
            f"seed {SEED}: {kills} kills, {fills} fills, {safety_filled} safety orders filled, "
            f"{closed} deals closed ({taken} take profits hit while down), "
            f"{refused} restarts with other options refused"
        )

"""A DCA bot killed at random points and started again, 20 kills, against the local exchange.

Deals open, safety orders fill (0.01% apart: at least one must fill) and take profits close
deals on the calibrated market of one ``tradewire exchange serve --db FILE``; while the bot is
down another account sometimes buys through its take profit. After every run the exchange's
orders and trades are compared with the journal, and each open deal with the exchange's fills
(see :mod:`tradewire.testing.kills`). A run's SIGKILL delay counts from the bot's "Starting"
line. Besides the kills, each run may:

- start without the bot's options (the journaled ones must be used), whatever is open: orders
  left by a kill, none after its take profit filled while it was down, none between two deals,
  none after a clean end that canceled them;
- start with another take profit while orders are open (refused, nothing changes);
- start with another take profit after a clean end that left nothing open (it is journaled and
  the deal's take profit is placed with it).

``TRADEWIRE_KILLS_SEED`` (an integer, default 15: the one CI runs) sets the seed of every random
choice, so a failure names its seed and replays with it, e.g.
``TRADEWIRE_KILLS_SEED=7 pytest tests/restarts/test_dca_kills.py``; with ``-s`` each run prints
how it ended and, with ``TRADEWIRE_KILLS_VERBOSE=1``, the bot's output and, on a failure, the
journal and the exchange's orders and trades.
"""

from __future__ import annotations

import os
from decimal import ROUND_DOWN, Decimal
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
OTHER_TAKE_PROFIT = Decimal("0.03")


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
            "--recv-window", "1000", "--no-view",
        )  # fmt: skip

        def options(take_profit: Decimal) -> tuple[str, ...]:
            return (
                "--base-order", "100", "--safety-order", "100", "--max-safety-orders", "3",
                "--deviation", "0.01", "--take-profit", str(take_profit), "--deals", "1000",
                "--force",
            )  # fmt: skip

        kills = refused = taken = 0
        hit = clean = False
        tp = TAKE_PROFIT
        stats: dict[str, int] = {}
        while kills < KILLS:
            case = plan.next_case(min_delay_s=0.3, max_delay_s=3.0)
            await ex.pace()
            settle = plan.number % 4 == 0  # every 4th run ends by itself: the judge is strict
            with Journal.for_bot(tmp_path, "d1") as journal:
                journal_open = {o.client_order_id for o in journal.open_orders()}
                journaled = journal.last_params()
                between = not (journal.last_state() or {}).get("deals", [])
            working = {o["clientOrderId"] for o in (await ex.view()).open_orders}
            has_open = bool(journal_open) and journal_open <= working
            if has_open and plan.rng.random() < 0.15:
                # Another take profit while its orders are open: refused, and nothing changes.
                before = await ex.view()
                other = [*common, *options(tp), "--take-profit", "0.05", "--keep-orders"]
                result = await run_killed(cli, [*other, "--duration", "1"], None)
                after = await ex.view()
                message = f"{case}: status {result.status}\n{result.out}\n{result.err}"
                if result.status == 0:
                    # Its open orders filled between the look and the start: with nothing open
                    # the other take profit starts it anew.
                    rows = after.by_cid()
                    assert all(rows[c]["status"] == "FILLED" for c in journal_open), message
                    tp = Decimal("0.05")
                    stats["another take profit taken: its orders filled meanwhile"] = 1 + (
                        stats.get("another take profit taken: its orders filled meanwhile", 0)
                    )
                else:
                    assert "journaled" in result.err, message
                    assert after.by_cid().keys() == before.by_cid().keys(), case
                    refused += 1
            roll = plan.rng.random()
            expect = tp
            if journaled is not None and roll < 0.3 + 0.2 * (not working):
                args = list(common)  # the journaled options are used, whatever is open
                if working:
                    what = "without options, orders open"
                elif hit:
                    what = "without options, its take profit filled while it was down"
                elif clean:
                    what = "without options, after a clean end"
                elif between:
                    what = "without options, killed between deals"
                else:
                    what = "without options, none open"
            elif not working and clean:
                # Nothing open after a clean end: another take profit starts it anew on it.
                expect = OTHER_TAKE_PROFIT if tp == TAKE_PROFIT else TAKE_PROFIT
                args = [*common, *options(expect)]
                what = "anew on another take profit after a clean end"
            else:
                args, what = [*common, *options(tp)], ""
            if what:
                stats[what] = stats.get(what, 0) + 1
            # Half the runs that end by themselves cancel their orders (nothing is left open).
            keep = not settle or plan.rng.random() < 0.5
            args += [*(["--keep-orders"] * keep), "--duration", "2.5"]
            result = await run_killed(cli, args, None if settle else case, delay_from="Starting ")
            killed = result.status in (9, -9)
            how = "ran to its end" if settle else str(case)
            view = await ex.view()
            print(
                f"{how}: status {result.status}, {len(working)} open before, "
                f"{len(view.open_orders)} after, {what}",
                flush=True,
            )
            if os.environ.get("TRADEWIRE_KILLS_VERBOSE"):
                print(result.out[-3000:], result.err[-800:], flush=True)
            assert killed or result.status == 0, f"{how}: {result}"
            kills += killed
            clean = not killed
            with Journal.for_bot(tmp_path, "d1") as journal:
                last = journal.last_params()
                now = None if last is None else Decimal(str(last.params["take_profit"]))
                if now == expect:
                    tp = expect
                problems = check_orders(view, journal, settled=not killed)
                problems += check_dca(
                    view, journal, take_profit_pct=tp, tick=Decimal("0.01"), settled=not killed
                )
                if problems and os.environ.get("TRADEWIRE_KILLS_VERBOSE"):
                    for o in journal.orders():
                        print("J", o, journal.fills(o.client_order_id))
                    print("S", journal.last_state())
                    for row in view.all_orders:
                        print("X", row)
                    for t in view.trades:
                        print("T", t)
            if not killed and now != expect:
                problems.append(f"journaled take profit {now}, ran with {expect}")
            assert not problems, f"{how} ({'killed' if killed else 'ended'}): {problems}"
            sells = [o for o in view.open_orders if o["side"] == "SELL"]
            hit = killed and bool(sells) and plan.rng.random() < 0.5
            if hit:
                # While the bot is down another account buys through the asks up to its take
                # profit: it fills.
                assert ex.taker is not None
                async with ex.taker.client() as client:
                    at = Decimal(sells[0]["price"])
                    asks = (await client.depth("BTCUSDT", 5000)).asks
                    ahead = sum((Decimal(q) for p, q in asks if Decimal(p) <= at), Decimal(0))
                    # at most what the symbol's maxNotional (9 000 000 USDT) lets one order buy
                    ahead = min(ahead, (8_000_000 / at).quantize(Decimal("0.00001"), ROUND_DOWN))
                    await client.place_order(
                        "BTCUSDT", "BUY", "LIMIT", quantity=str(ahead), price=str(at),
                        time_in_force="IOC",
                    )  # fmt: skip
                taken += 1
        final = [*common, *options(tp), "--keep-orders", "--duration", "2"]
        result = await run_killed(cli, final, None)
        assert result.status == 0, result
        view = await ex.view()
        with Journal.for_bot(tmp_path, "d1") as journal:
            problems = check_orders(view, journal, settled=True)
            problems += check_dca(
                view, journal, take_profit_pct=tp, tick=Decimal("0.01"), settled=True
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
        # The history goes back to the last start anew (after a clean end with no deal open).
        assert tp_filled >= 1 and closed <= tp_filled, (taken, closed, tp_filled, state)
        print(
            f"seed {SEED}: {kills} kills in {plan.number + 1} runs, {fills} fills, "
            f"{safety_filled} safety orders filled, {tp_filled} take profits filled (another "
            f"account bought up to one {taken} times while the bot was down), {closed} deals in "
            f"the history, {refused} restarts with other options refused, {stats}"
        )
        assert safety_filled >= 1, f"seed {SEED}: no safety order filled"

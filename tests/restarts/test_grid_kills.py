"""Grid bots killed at random points and started again, against the local exchange.

One ``tradewire exchange serve --db FILE`` with the calibrated market holds the orders of one
account. The first test runs a plain grid on BTCUSDT whose lines are 10 USDT apart, so its
orders fill in most runs; the second a grid trailing up and down on BNBUSDT and an infinity grid
on ETHUSDT. After every run the exchange's orders and trades are compared with the journal (see
:mod:`tradewire.testing.kills`), and the open orders with the journaled lines.

A run's SIGKILL delay counts from the bot's "Starting" line, so most kills land while it trades.
Besides the kills, each run may:

- start without the bot's options (the journaled ones must be used), whatever is open: orders
  left by a kill, or none after a clean end that canceled them (a plain grid whose journaled
  range no longer holds the price is then refused, placing nothing);
- start with other options while orders are open (refused, nothing changes);
- start with other options (a range around the price now) when nothing is open, after a clean
  end or a kill: the new options are journaled and its orders sit on their lines.

``TRADEWIRE_KILLS_SEED`` (an integer, default 15: the one CI runs) sets the seed of every random
choice, so a failure names its seed and replays with it, e.g.
``TRADEWIRE_KILLS_SEED=7 pytest tests/restarts/test_grid_kills.py``; with ``-s`` each run prints
how it ended and, with ``TRADEWIRE_KILLS_VERBOSE=1``, the bot's own output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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

SEED = int(os.environ.get("TRADEWIRE_KILLS_SEED", "15"))
CENT = Decimal("0.01")


@dataclass
class Bot:
    """One grid bot of the run: how it is started and what the judge expects of it."""

    name: str
    symbol: str
    width: Decimal
    """Half the range's width: a new range is the mid price plus and minus this."""
    extra: tuple[str, ...]
    common: tuple[str, ...] = ()
    range: tuple[Decimal, Decimal, int] = (Decimal(0), Decimal(0), 6)
    """The options it runs with: lower, upper, grids."""
    clean: bool = False
    """Its last run ended by itself."""
    kills: int = 0
    runs: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def options(self, rng: tuple[Decimal, Decimal, int] | None = None) -> list[str]:
        lower, upper, grids = rng or self.range
        return ["--lower", str(lower), "--upper", str(upper), "--grids", str(grids), *self.extra]

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1


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


def _journaled_range(journal: Journal) -> tuple[Decimal, Decimal, int] | None:
    last = journal.last_params()
    if last is None:
        return None
    params = params_from_record(last.kind, last.params)
    assert isinstance(params, GridParams)
    return params.lower_price, params.upper_price, params.grid_number


async def _hunt(tmp_path: Path, bots: list[Bot], kills: int, speed: str) -> None:
    """Kill each of ``bots`` ``kills`` times, judging the exchange against its journal after
    every run, then run each once more to its end."""
    cli = TradewireCommand(tmp_path)
    plan = KillPlan(SEED)
    market = ("--market", "calibrated", "--market-speed", speed)
    symbols = tuple(b.symbol for b in bots)
    async with ServedExchange(cli, tmp_path / "ex.sqlite3", *market, symbols=symbols) as ex:
        assert ex.key is not None
        cli.key_store().add("bot1", ex.key.api_key, ex.key.secret)
        async with ex.key.client() as client:
            rules = {s: rules_from_filters(await client.filters(s)) for s in symbols}
        for bot in bots:
            mid = (await ex.mid(bot.symbol)).quantize(CENT)
            bot.common = (
                "live", "grid", "--name", bot.name, "--key", "bot1", "--rest-url", ex.rest_url,
                "--symbol", bot.symbol, "--recv-window", "1000", "--no-view", "--force",
            )  # fmt: skip
            bot.range = (mid - bot.width, mid + bot.width, 6)
        while min(b.kills for b in bots) < kills:
            bot = min(bots, key=lambda b: b.kills)
            case = plan.next_case(min_delay_s=0.3, max_delay_s=3.0)
            await ex.pace()
            bot.runs += 1
            settle = bot.runs % 4 == 0  # every 4th run ends by itself: the judge is strict
            with Journal.for_bot(tmp_path, bot.name) as journal:
                journal_open = {o.client_order_id for o in journal.open_orders()}
                journaled = _journaled_range(journal)
            working = {o["clientOrderId"] for o in (await ex.view(bot.symbol)).open_orders}
            has_open = bool(journal_open) and journal_open <= working
            if has_open and plan.rng.random() < 0.15:
                # Other options while its orders are open: refused, and nothing changes.
                before = await ex.view(bot.symbol)
                other = [
                    *bot.common,
                    *bot.options(),
                    "--grids",
                    "8",
                    "--keep-orders",
                    "--duration",
                    "1",
                ]
                result = await run_killed(cli, other, None)
                assert result.status != 0 and "journaled" in result.err, (
                    f"{case}: status {result.status}\n{result.out}\n{result.err}"
                )
                after = await ex.view(bot.symbol)
                assert after.by_cid().keys() == before.by_cid().keys(), case
                bot.count("other options refused")
            roll = plan.rng.random()
            expect = bot.range
            if journaled is not None and roll < 0.3 + 0.2 * (not working):
                options = []  # the journaled options are used, whatever is open
                expect = journaled
                what = (
                    "orders open" if working else "after a clean end" if bot.clean else "none open"
                )
                bot.count(f"without options, {what}")
            elif not working:
                # Nothing open: other options (a range around the price now) start it anew.
                mid = (await ex.mid(bot.symbol)).quantize(CENT)
                expect = (mid - bot.width, mid + bot.width, 11 - bot.range[2])
                options = bot.options(expect)
                if journaled is not None:
                    since = "after a clean end" if bot.clean else "after a kill"
                    bot.count(f"anew on other options, {since}")
            else:
                options = bot.options()
            # Half the runs that end by themselves cancel their orders (nothing is left open).
            keep = not settle or plan.rng.random() < 0.5
            args = [*bot.common, *options, *(["--keep-orders"] * keep), "--duration", "2.5"]
            result = await run_killed(cli, args, None if settle else case, delay_from="Starting ")
            killed = result.status in (9, -9)
            how = f"{'ran to its end' if settle else case} ({bot.name})"
            view = await ex.view(bot.symbol)
            print(
                f"{how}: status {result.status}, {len(working)} open before, "
                f"{len(view.open_orders)} after, {'bare' if not options else ''}",
                flush=True,
            )
            if os.environ.get("TRADEWIRE_KILLS_VERBOSE"):
                print(result.out[-1500:], result.err[-800:], flush=True)
            with Journal.for_bot(tmp_path, bot.name) as journal:
                problems = check_orders(view, journal, settled=not killed)
                problems += _ladder(view, journal, rules[bot.symbol])
                now = _journaled_range(journal)
            if (
                result.status != 0
                and not killed
                and not working
                and "outside the grid" in (result.err)
            ):
                # A plain grid started anew with the price outside its range: refused.
                assert bot.name == "plain" and not view.open_orders, (how, result)
                bot.count("refused: price outside")
                bot.clean = True
                continue
            assert killed or result.status == 0, f"{how}: {result}"
            bot.kills += killed
            bot.clean = not killed
            if now == expect:
                bot.range = expect
            elif not killed:
                problems.append(f"journaled range {now}, ran with {expect}")
            assert not problems, f"{how} ({'killed' if killed else 'ended'}): {problems}"
        for bot in bots:
            if not (await ex.view(bot.symbol)).open_orders:  # a range around the price now
                mid = (await ex.mid(bot.symbol)).quantize(CENT)
                bot.range = (mid - bot.width, mid + bot.width, bot.range[2])
            args = [*bot.common, *bot.options(), "--keep-orders", "--duration", "2"]
            result = await run_killed(cli, args, None)
            assert result.status == 0, (bot.name, result)
            view = await ex.view(bot.symbol)
            with Journal.for_bot(tmp_path, bot.name) as journal:
                problems = check_orders(view, journal, settled=True)
                problems += _ladder(view, journal, rules[bot.symbol])
                fills = _grid_fills(journal)
            assert not problems, f"seed {SEED}, the last run of {bot.name}: {problems}"
            assert view.open_orders, f"seed {SEED}: {bot.name} has no ladder working at the end"
            print(
                f"seed {SEED}, {bot.name}: {bot.kills} kills in {bot.runs + 1} runs, {fills} grid "
                f"fills ({fills / (bot.runs + 1):.2f} a run), {bot.stats}",
                flush=True,
            )
            bot.stats["fills"] = fills
        assert bots[0].stats["fills"] >= 1, f"seed {SEED}: {bots[0].name} never filled"


def _grid_fills(journal: Journal) -> int:
    """Fills of the grid's LIMIT orders (not of the start orders that buy what sells need)."""
    limits = (o.client_order_id for o in journal.orders() if o.type == "LIMIT")
    return sum(len(journal.fills(cid)) for cid in limits)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(400)
@pytest.mark.asyncio
async def test_a_plain_grid_killed_12_times_keeps_one_ladder_and_loses_no_order(
    tmp_path: Path,
) -> None:
    await _hunt(tmp_path, [Bot("plain", "BTCUSDT", Decimal(30), ("--quantity", "0.001"))], 12, "2")


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(400)
@pytest.mark.asyncio
async def test_trailing_and_infinity_grids_killed_8_times_each_keep_their_ranges(
    tmp_path: Path,
) -> None:
    trailing = Bot(
        "trailing",
        "BNBUSDT",
        Decimal("0.3"),
        ("--trailing-up", "--trailing-down", "--quantity", "0.03"),
    )
    infinity = Bot(
        "infinity", "ETHUSDT", Decimal("3.5"),
        ("--spacing", "geometric", "--infinity", "--investment", "20000"),
    )  # fmt: skip
    await _hunt(tmp_path, [trailing, infinity], 8, "2")

"""Kill a live bot at random points and start it again, against the local exchange as a judge.

The exchange runs as ``tradewire exchange serve --db FILE`` in its own subprocess, so its
orders and fills outlive the bot. The bot runs as ``tradewire live ...`` (or ``tradewire
signals serve --live``) in another, with a ``prelude`` that kills it like a SIGKILL
(``os._exit(9)``) at one point of its work, or is killed with SIGKILL after a delay. Each kill
point and count is drawn from a seeded :class:`random.Random`, so a failure names its seed and
can be replayed. After each run the judge compares the exchange's ``allOrders``,
``openOrders`` and ``myTrades`` with the bot's journal.

>>> sorted(KILL_POINTS)  # doctest: +NORMALIZE_WHITESPACE
['accepted', 'after_cancel', 'before_send', 'on_fill', 'sigkill', 'state_saved']
>>> "os._exit(9)" in kill_prelude("before_send", 2)
True
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import TYPE_CHECKING, Any

import aiohttp

from tradewire.testing.command import CommandResult, TradewireCommand, crash_after_orders
from tradewire.testing.local_exchange import LocalKey
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from tradewire.trading.journal import JournaledOrder

__all__ = [
    "KILL_POINTS",
    "ExchangeView",
    "KillCase",
    "KillPlan",
    "ServedExchange",
    "check_dca",
    "check_grid_lines",
    "check_orders",
    "kill_prelude",
    "run_killed",
]

_DIE = "    import os\n    os._exit(9)\n"

KILL_POINTS: dict[str, str] = {
    "accepted": "right after the exchange accepted an order, before its answer was journaled",
    "before_send": "right before an order is sent, after its intent was journaled",
    "after_cancel": "right after the exchange canceled an order, before the answer was journaled",
    "on_fill": "when a fill arrives, before the bot reacts to it",
    "state_saved": "right after the bot journaled its state (a trailing move, a deal's order)",
    "sigkill": "SIGKILL after a random delay",
}
"""Where a run can be killed: the name and what it means."""


def kill_prelude(point: str, count: int) -> str:
    """A ``prelude`` for :meth:`TradewireCommand.start` that kills the bot at the ``count``-th
    time it reaches ``point`` (one of :data:`KILL_POINTS`; ``sigkill`` adds nothing: the
    caller kills the process).

    Raises:
        ValueError: an unknown point, or a count under 1.
    """
    if point not in KILL_POINTS:
        raise ValueError(f"unknown kill point {point!r}: one of {', '.join(KILL_POINTS)}")
    if count < 1:
        raise ValueError(f"count must be 1 or more, not {count}")
    counter = (
        "_kill_seen = [0]\n"
        "def _kill_due():\n"
        "    _kill_seen[0] += 1\n"
        f"    return _kill_seen[0] >= {count}\n"
    )
    if point == "sigkill":
        return ""
    if point == "accepted":
        return crash_after_orders(count)
    if point == "before_send":
        return counter + (
            "from tradewire.venues.binance import BinanceVenue as _V\n"
            "_real = _V.place_order\n"
            "async def _killed(self, request):\n"
            "    if _kill_due():\n"
            + _DIE.replace("    ", "        ")
            + "    return await _real(self, request)\n"
            "_V.place_order = _killed\n"
        )
    if point == "after_cancel":
        return counter + (
            "from tradewire.venues.binance import BinanceVenue as _V\n"
            "_real = _V.cancel_order\n"
            "async def _killed(self, symbol, cid):\n"
            "    order = await _real(self, symbol, cid)\n"
            "    if _kill_due():\n" + _DIE.replace("    ", "        ") + "    return order\n"
            "_V.cancel_order = _killed\n"
        )
    if point == "on_fill":
        return counter + (
            "from tradewire.trading.runner import Runner as _R\n"
            "_real = _R._dispatch\n"
            "async def _killed(self, update):\n"
            "    if update.fill is not None and self._started and _kill_due():\n"
            + _DIE.replace("    ", "        ")
            + "    await _real(self, update)\n"
            "_R._dispatch = _killed\n"
        )
    return counter + (  # state_saved
        "from tradewire.trading.journal import Journal as _J\n"
        "_real = _J.record_state\n"
        "def _killed(self, state):\n"
        "    _real(self, state)\n"
        "    if _kill_due():\n" + _DIE.replace("    ", "        ") + "_J.record_state = _killed\n"
    )


@dataclass(frozen=True)
class KillCase:
    """One run of the bot and where it is killed."""

    seed: int
    number: int
    point: str
    count: int
    delay_s: float

    def __str__(self) -> str:
        after = f"SIGKILL after {self.delay_s:.2f} s"
        if self.point == "sigkill":
            return f"seed {self.seed}, run {self.number}: {after}"
        return (
            f"seed {self.seed}, run {self.number}: kill at {self.point} #{self.count}, or {after}"
        )


class KillPlan:
    """The seeded random choices of a kill-and-restart run: kill points, counts, delays."""

    def __init__(self, seed: int, points: Sequence[str] = tuple(KILL_POINTS)) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.points = tuple(points)
        self.number = 0

    def next_case(
        self, *, max_count: int = 3, min_delay_s: float = 1.0, max_delay_s: float = 4.0
    ) -> KillCase:
        """The next run's kill: a point, the count at which it fires, a SIGKILL delay."""
        self.number += 1
        point = self.rng.choice(self.points)
        count = self.rng.randint(1, max_count)
        delay = round(self.rng.uniform(min_delay_s, max_delay_s), 2)
        return KillCase(self.seed, self.number, point, count, delay)


async def run_killed(
    cli: TradewireCommand,
    args: Sequence[str],
    case: KillCase | None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    delay_from: str | None = None,
) -> CommandResult:
    """Run ``tradewire ARGS`` killed as ``case`` says (``None``: not killed); how it ended.

    A run that has not reached its kill point after ``case.delay_s`` seconds is killed with
    SIGKILL then (status -9), unless it ended first (status 0). With ``delay_from`` the delay
    counts from the first line of its output that contains it (e.g. ``"Starting "``: once the
    bot runs, not while it imports and checks its key), else from its start.

    Raises:
        TimeoutError: it ran longer than ``timeout`` seconds (it is killed).
    """
    prelude = "" if case is None else kill_prelude(case.point, case.count)
    if delay_from is not None:  # its lines as they are printed, not when it exits
        env = {**(cli.env() if env is None else env), "PYTHONUNBUFFERED": "1"}
    proc = await cli.start(*args, env=env, prelude=prelude)
    assert proc.stdout is not None
    assert proc.stderr is not None
    stdout, marked = proc.stdout, asyncio.Event()
    lines: list[bytes] = []

    async def read_out() -> bytes:
        while line := await stdout.readline():
            lines.append(line)
            if delay_from is not None and delay_from.encode() in line:
                marked.set()
        marked.set()  # it ended without the line
        return b"".join(lines)

    reading = asyncio.gather(read_out(), proc.stderr.read(), proc.wait())
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        if case is not None:
            if delay_from is not None:
                await asyncio.wait_for(marked.wait(), timeout)
            left = deadline - asyncio.get_running_loop().time()
            try:
                await asyncio.wait_for(asyncio.shield(reading), min(case.delay_s, left))
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):  # it ended just then
                    proc.kill()
        left = deadline - asyncio.get_running_loop().time()
        out, err, _ = await asyncio.wait_for(asyncio.shield(reading), max(left, 0.001))
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await reading
        raise TimeoutError(f"tradewire {' '.join(args)} ran longer than {timeout:g} s") from None
    assert proc.returncode is not None
    result = CommandResult(proc.returncode, out.decode(), err.decode())
    cli.outputs += [result.out, result.err]
    return result


@dataclass(frozen=True)
class ExchangeView:
    """What the exchange holds for one account and symbol."""

    all_orders: list[dict[str, Any]]
    open_orders: list[dict[str, Any]]
    trades: list[dict[str, Any]]

    def by_cid(self) -> dict[str, dict[str, Any]]:
        """allOrders by client order id (the last one if a client order id came twice)."""
        return {o["clientOrderId"]: o for o in self.all_orders}

    def trades_of(self, cid: str) -> list[dict[str, Any]]:
        """The trades of the order ``cid``."""
        order = self.by_cid().get(cid)
        if order is None:
            return []
        return [t for t in self.trades if t["orderId"] == order["orderId"]]


class ServedExchange:
    """``tradewire exchange serve --db FILE`` in a subprocess, its URL and first key.

    Use as ``async with``: it is started, waited on until it prints its key, and stopped.
    :attr:`taker` is a second account (10^9 USDT) that can trade against the bot's
    orders while the bot is down.
    """

    def __init__(
        self, cli: TradewireCommand, db: Path, *extra: str, symbols: Sequence[str] = ("BTCUSDT",)
    ) -> None:
        self.cli, self.db, self.extra, self.symbols = cli, db, extra, tuple(symbols)
        self._proc: asyncio.subprocess.Process | None = None
        self.key: LocalKey | None = None
        self.taker: LocalKey | None = None

    async def __aenter__(self) -> ServedExchange:
        taker_key, taker_secret = "taker" + "0" * 59, "taker-secret-" + "1" * 51
        keys = self.db.with_suffix(".keys.json")
        keys.write_text(
            json.dumps(
                [{"api_key": taker_key, "secret": taker_secret, "balances": {"USDT": "1000000000"}}]
            ),
            encoding="utf-8",
        )
        proc = await self.cli.start(
            "exchange", "serve", "--db", str(self.db), "--symbols", ",".join(self.symbols),
            "--keys", str(keys), *self.extra,
        )  # fmt: skip
        self._proc = proc
        assert proc.stdout is not None
        info: dict[str, str] = {}
        while "HMAC secret" not in info:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            if not line:
                raise RuntimeError("the local exchange exited before it printed its key")
            label, _, value = line.partition(":")
            info[label.strip()] = value.strip()
        self.key = LocalKey(info["API key"], info["HMAC secret"], info["REST API"])
        self.taker = LocalKey(taker_key, taker_secret, info["REST API"])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await self._proc.communicate()

    @property
    def rest_url(self) -> str:
        """The exchange's REST URL."""
        assert self.key is not None
        return self.key.rest_url

    async def mid(self, symbol: str = "BTCUSDT") -> Decimal:
        """The mid price of ``symbol`` now."""
        assert self.key is not None
        async with self.key.client() as client:
            depth = await client.depth(symbol, 5)
        return (Decimal(depth.bids[0][0]) + Decimal(depth.asks[0][0])) / 2

    async def pace(self, budget: int = 4000) -> float:
        """Wait for the next minute's request weight when this minute's used more than
        ``budget`` (a bot's start costs about 300 of the 6000): the seconds waited."""
        assert self.key is not None
        async with aiohttp.ClientSession() as http, http.get(f"{self.rest_url}/api/v3/ping") as r:
            used = int(r.headers.get("x-mbx-used-weight-1m", "0"))
        if used <= budget:
            return 0.0
        wait = 60 - time.time() % 60 + 0.2  # fixed windows, on the minute
        await asyncio.sleep(wait)
        return wait

    async def view(self, symbol: str = "BTCUSDT") -> ExchangeView:
        """allOrders, openOrders and myTrades of the key's account on ``symbol``."""
        assert self.key is not None
        q: dict[str, str | int] = {"symbol": symbol}
        return ExchangeView(
            await self.key.signed_get("/api/v3/allOrders", q | {"limit": 1000}),
            await self.key.signed_get("/api/v3/openOrders", q),
            await self.key.signed_get("/api/v3/myTrades", q | {"limit": 1000}),
        )


def check_orders(view: ExchangeView, journal: Journal, *, settled: bool) -> list[str]:
    """What differs between the exchange and the journal: duplicates, orphans, lost orders.

    ``settled``: the run ended by itself (not killed), so its journal should agree with the
    exchange up to what filled after it stopped. Returns the problems found (none: ``[]``).
    """
    problems: list[str] = []
    journaled = {o.client_order_id: o for o in journal.orders()}
    cids = [o["clientOrderId"] for o in view.all_orders]
    twice = sorted({c for c in cids if cids.count(c) > 1})
    if twice:
        problems.append(f"client order ids sent twice: {twice}")
    orphans = sorted(set(cids) - set(journaled))
    if orphans:
        problems.append(f"orders on the exchange the journal does not know (orphans): {orphans}")
    on_exchange = view.by_cid()
    # Filled orders whose trades the run did not see before it stopped: the next start asks
    # the exchange for them (Journal.missing_fills).
    missing = {o.client_order_id for o in journal.missing_fills()}
    for cid, o in journaled.items():
        row = on_exchange.get(cid)
        if o.state in ("NEW", "PARTIALLY_FILLED") and row is None:
            problems.append(f"journaled open order {cid} is not on the exchange (lost)")
        if row is not None and o.is_terminal and o.state != row["status"]:
            problems.append(f"order {cid}: journal says {o.state}, the exchange {row['status']}")
        if row is not None and o.state == "FILLED" and cid not in missing:
            problems += _fills_agree(cid, journal, view)
    if settled:
        open_journal = {o.client_order_id for o in journal.open_orders()}
        for row in view.open_orders:
            if row["clientOrderId"] not in open_journal:
                state = (
                    journaled[row["clientOrderId"]].state
                    if row["clientOrderId"] in journaled
                    else "?"
                )
                problems.append(
                    f"order {row['clientOrderId']} is open on the exchange, {state} in the journal"
                )
        for cid in open_journal:
            row = on_exchange.get(cid)
            if row is not None and row["status"] not in ("NEW", "PARTIALLY_FILLED", "FILLED"):
                problems.append(f"journaled open order {cid} is {row['status']} on the exchange")
    return problems


def _fills_agree(cid: str, journal: Journal, view: ExchangeView) -> list[str]:
    mine = sorted(
        (str(f.trade_id), Decimal(f.quantity), Decimal(f.price)) for f in journal.fills(cid)
    )
    theirs = sorted(
        (str(t["id"]), Decimal(t["qty"]), Decimal(t["price"])) for t in view.trades_of(cid)
    )
    if mine != theirs:
        return [f"fills of {cid}: journal {mine}, exchange {theirs}"]
    return []


def check_grid_lines(view: ExchangeView, lines: Sequence[Decimal]) -> list[str]:
    """No two open orders on one grid line, and none off the (journaled) lines."""
    problems = []
    prices = [Decimal(o["price"]) for o in view.open_orders]
    doubled = sorted({p for p in prices if prices.count(p) > 1})
    if doubled:
        problems.append(f"two open orders on one grid line: {doubled}")
    off = sorted(set(prices) - set(lines))
    if off:
        problems.append(f"open orders off the journaled lines {list(lines)}: {off}")
    return problems


def check_dca(
    view: ExchangeView,
    journal: Journal,
    *,
    take_profit_pct: Decimal,
    tick: Decimal,
    settled: bool,
) -> list[str]:
    """Each open DCA deal: one order per role, its orders known, and its take profit at the
    average price of the exchange's fills (after base fees) plus ``take_profit_pct``.

    A buy still open in the journal whose fills all came after the bot stopped cleanly is left
    out (its orders keep working without it; the next run takes those fills); one that filled
    while the bot ran is a fill it lost.
    """
    problems: list[str] = []
    state = journal.last_state() or {}
    deals = state.get("deals", [])
    # When the bot stopped cleanly (its orders kept working after it), else None.
    stopped_ms = int(state["saved_ms"]) if state.get("ended") and "saved_ms" in state else None
    open_rows = {o["clientOrderId"]: o for o in view.open_orders}
    known: set[str] = set()
    for deal in deals:
        number = deal["number"]
        cids = {c for c in (deal.get("base_cid"), deal.get("tp_cid"), deal.get("closing_cid")) if c}
        cids |= set(deal.get("safety", [])) | set(deal.get("retired", []))
        known |= cids
        safety_open = [open_rows[c] for c in deal.get("safety", []) if c in open_rows]
        prices = [o["price"] for o in safety_open]
        if len(prices) != len(set(prices)):
            problems.append(f"deal {number}: two open safety orders at one price: {prices}")
        sells = [open_rows[c] for c in cids if c in open_rows and open_rows[c]["side"] == "SELL"]
        if len(sells) > 1:
            problems.append(f"deal {number}: {len(sells)} open sells (take profit doubled)")
        if not settled:
            continue
        buys = [
            c
            for c in cids
            if view.by_cid().get(c, {}).get("side") == "BUY"
            and not _filled_after_stop(c, journal, view, stopped_ms)
        ]
        trades = [t for c in buys for t in view.trades_of(c)]
        got = sum((Decimal(t["qty"]) for t in trades), Decimal(0))
        fees = sum(
            (Decimal(t["commission"]) for t in trades if t["commissionAsset"] != "USDT"),
            Decimal(0),
        )
        spent = sum((Decimal(t["quoteQty"]) for t in trades), Decimal(0))
        journal_fills = [f for c in buys for f in journal.fills(c)]
        j_got = sum((Decimal(f.quantity) for f in journal_fills), Decimal(0))
        j_spent = sum((Decimal(f.quantity) * Decimal(f.price) for f in journal_fills), Decimal(0))
        if (j_got, j_spent) != (got, spent):
            problems.append(
                f"deal {number}: journal fills bought {j_got} for {j_spent}, exchange {got} for "
                f"{spent}"
            )
        tp_cid = deal.get("tp_cid")
        if tp_cid in open_rows and got - fees > 0:
            average = spent / (got - fees)
            want = (average * (1 + take_profit_pct / 100)).quantize(tick, rounding=ROUND_UP)
            tp = Decimal(open_rows[tp_cid]["price"])
            if tp != want:
                problems.append(
                    f"deal {number}: take profit at {tp}, the exchange's fills give {want} "
                    f"(average {average})"
                )
    if settled:
        strays = sorted(set(open_rows) - known)
        if strays:
            problems.append(f"open orders of no journaled deal: {strays}")
    return problems


def _filled_after_stop(
    cid: str, journal: Journal, view: ExchangeView, stopped_ms: int | None
) -> bool:
    """Whether ``cid``, open in the journal, filled only after the bot stopped cleanly (its
    fills then wait for the next run)."""
    order = journal.get(cid)
    if stopped_ms is None or order is None or not order.is_open:
        return False
    trades = view.trades_of(cid)
    return bool(trades) and all(int(t["time"]) > stopped_ms for t in trades)


def journal_orders(home: Path, name: str) -> list[JournaledOrder]:
    """The journal's orders of bot ``name`` under ``home``."""
    with Journal.for_bot(home, name) as journal:
        return journal.orders()

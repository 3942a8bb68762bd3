"""A live signal bot killed at random points while alerts arrive, then started again, 20 kills,
against the local exchange.

Between kills the bot gets buy, sell, close, stop and start alerts; each restart first replays
a nonce an earlier run carried out (refused: 409). After every run the exchange's orders and
trades are compared with the journal (see :mod:`tradewire.testing.kills`), and the journaled
paused state and nonces with the answers the alerts got.

``TRADEWIRE_KILLS_SEED`` (an integer, default 15: the one CI runs) sets the seed of every random
choice, so a failure names its seed and replays with it, e.g.
``TRADEWIRE_KILLS_SEED=7 pytest tests/restarts/test_signal_kills.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tradewire.testing.command import TradewireCommand
from tradewire.testing.kills import KillPlan, ServedExchange, check_orders, kill_prelude
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.testing.kills import KillCase

KILLS = 20
SEED = int(os.environ.get("TRADEWIRE_KILLS_SEED", "15"))
TOKEN = "kills-token-" + "0123456789abcdef" * 2
POINTS = ("accepted", "before_send", "after_cancel", "state_saved", "sigkill")


class Alerts:
    """Alert bodies with nonces of their own."""

    def __init__(self) -> None:
        self.count = 0

    def make(self, action: str, **fields: Any) -> dict[str, Any]:
        self.count += 1
        return {
            "bot": "tv1",
            "token": TOKEN,
            "action": action,
            "symbol": "BTCUSDT",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "nonce": f"{action}-{self.count}",
            **fields,
        }


async def _listening(proc: asyncio.subprocess.Process) -> str | None:
    """The webhook URL once the server listens; None if the process ended first."""
    assert proc.stdout is not None
    while line := (await asyncio.wait_for(proc.stdout.readline(), 60)).decode():
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+/signals/tv1)", line)
        if found:
            return found.group(1)
    return None


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> int | None:
    """The answer's status; None if the bot died before it answered."""
    try:
        async with http.post(url, json=body) as r:
            await r.read()
            return r.status
    except aiohttp.ClientError:
        return None


async def _one_run(
    cmd: TradewireCommand,
    args: tuple[str, ...],
    env: dict[str, str],
    case: KillCase | None,
    alerts: list[dict[str, Any]],
) -> tuple[int, list[int | None], str]:
    """Run the server, send ``alerts`` once it listens; its exit status, the answers and its
    output."""
    prelude = "" if case is None else kill_prelude(case.point, case.count)
    proc = await cmd.start(*args, env=env, prelude=prelude)

    fired = []

    async def kill_later(delay: float) -> None:
        await asyncio.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
            fired.append(True)

    killer = None if case is None else asyncio.create_task(kill_later(case.delay_s))
    answers: list[int | None] = []
    try:
        url = await _listening(proc)
        if url is not None:
            async with aiohttp.ClientSession() as http:
                for body in alerts:
                    answers.append(await _post(http, url, body))
        if killer is not None:  # killed at its point, or by the killer: never stopped
            await asyncio.wait_for(proc.wait(), 60)
    finally:
        if killer is not None:
            killer.cancel()
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    # asyncio reports 255 for a child whose status it could not collect; with a kill due,
    # that is the kill (the bot has no way to exit with 255 by itself).
    status = -9 if fired or (case is not None and proc.returncode == 255) else proc.returncode
    return status, answers, out.decode() + err.decode()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(400)
@pytest.mark.asyncio
async def test_a_signal_bot_killed_20_times_keeps_its_state_and_nonces(tmp_path: Path) -> None:
    cmd = TradewireCommand(tmp_path)
    env = cmd.env(TRADEWIRE_SIGNAL_TOKEN=TOKEN)
    plan = KillPlan(SEED, POINTS)
    alerts = Alerts()
    async with ServedExchange(cmd, tmp_path / "ex.sqlite3") as ex:
        assert ex.key is not None
        cmd.key_store().add("bot1", ex.key.api_key, ex.key.secret)
        args = (
            "signals", "serve", "--bot", "tv1", "--port", "0", "--live", "--keep-orders",
            "--rest-url", ex.rest_url, "--key", "bot1", "--no-view",
        )  # fmt: skip
        done: list[dict[str, Any]] = []  # alerts carried out (200)
        paused: bool | None = False  # None: a stop or start whose answer was lost
        kills = replays = positions = 0
        while kills < KILLS:
            await ex.pace()
            case = plan.next_case(min_delay_s=1.5, max_delay_s=5.0)
            settle = plan.number % 4 == 0
            mid = (await ex.mid()).quantize(Decimal("0.01"))
            # First a replay: a nonce carried out before, with a fresh timestamp.
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            batch = [done[plan.rng.randrange(len(done))] | {"timestamp": now}] if done else []
            for _ in range(plan.rng.randint(2, 4)):
                action = plan.rng.choice(("buy", "buy", "sell", "close", "stop", "start"))
                if action == "buy" and plan.rng.random() < 0.5:
                    body = alerts.make("buy", price=str(mid - 50), quantity="0.001")  # rests
                elif action in ("buy", "sell"):
                    body = alerts.make(action, quantity="0.0005")
                else:
                    body = alerts.make(action)
                batch.append(body)
            status, answers, output = await _one_run(
                cmd, args, env, None if settle else case, batch
            )
            killed = status in (9, -9)
            how = "ran to its end" if settle else str(case)
            print(f"{how}: status {status}, answers {answers}", flush=True)
            assert killed or status == 0, f"{how}: status {status}: {output}"
            kills += killed
            problems = []
            carried = {b["nonce"] for b in done}
            for body, answer in zip(batch, answers, strict=False):
                if body["nonce"] in carried:
                    if answer not in (409, None):
                        problems.append(f"replayed nonce {body['nonce']} answered {answer}")
                    replays += answer == 409
                    continue
                action = body["action"]
                if answer == 200:
                    done.append(body)
                if action in ("stop", "start"):
                    paused = (action == "stop") if answer == 200 else None
                elif answer == 200 and paused:
                    problems.append(f"{action} {body['nonce']} carried out while paused")
                elif answer is not None and paused is False and answer == 422:
                    pass  # refused by a rule (no position to sell or close): changes nothing
            view = await ex.view()
            with Journal.for_bot(tmp_path, "signals-tv1") as journal:
                problems += check_orders(view, journal, settled=not killed)
                state = journal.last_state() or {}
                nonces = set(journal.signal_nonces("tv1"))
                missing = journal.missing_fills()
            if paused is not None and bool(state.get("paused", False)) != paused:
                problems.append(f"journaled paused {state.get('paused')}, the answers say {paused}")
            if not killed and not missing and "position" in state:
                # The position it journaled is the one the exchange's trades give.
                traded = sum(
                    (
                        (Decimal(t["qty"]) if t["isBuyer"] else -Decimal(t["qty"]))
                        - (Decimal(t["commission"]) if t["commissionAsset"] == "BTC" else 0)
                        for t in view.trades
                    ),
                    Decimal(0),
                )
                if Decimal(str(state["position"])) != traded:
                    problems.append(f"journaled position {state['position']}, trades {traded}")
                positions += 1
            lost = sorted({b["nonce"] for b in done} - nonces)
            if lost:
                problems.append(f"nonces carried out but not journaled: {lost}")
            assert not problems, f"{how} ({'killed' if killed else 'ended'}): {problems}"
        assert replays >= 5 and positions >= 1, (replays, positions)
        print(
            f"seed {SEED}: {kills} kills, {len(done)} alerts carried out, {replays} replays "
            f"refused, {positions} journaled positions checked against the trades"
        )

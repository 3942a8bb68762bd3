"""``tradewire live`` when its journal is lost or its disk fills up, and its password.

The bot runs as a subprocess against a :class:`LocalExchange`; the exchange's own order
records are the judge of what was sent and what is still working.
"""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

import pytest

from tradewire.exchange import LocalExchange
from tradewire.testing.command import TradewireCommand
from tradewire.testing.local_exchange import add_local_key
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.testing.local_exchange import LocalKey

GRID = (
    "live", "grid", "--name", "g1", "--key", "bot1", "--lower", "64000", "--upper", "66000",
    "--grids", "10", "--quantity", "0.0001", "--no-view",
)  # fmt: skip

# The disk fills up once the bot has started: every file this process writes is capped
# (RLIMIT_FSIZE, with SIGXFSZ ignored so a write fails instead of killing the process).
DISK_FULL_AFTER_START = textwrap.dedent(
    """
    import os, resource, signal
    limit = int(os.environ["TEST_FILE_SIZE_LIMIT"])
    from tradewire.trading.runner import Runner
    real_run = Runner.run
    async def run_on_a_full_disk(self, *args, **kwargs):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return await real_run(self, *args, **kwargs)
    Runner.run = run_on_a_full_disk
    """
)

# What the bot's own process, and any child it starts, can see of its environment mid-run.
DUMP_ENVIRONMENT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from tradewire.trading.runner import Runner
    real_run = Runner.run
    async def run_and_dump(self, *args, **kwargs):
        child = subprocess.run(
            [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
            capture_output=True, text=True, check=True,
        ).stdout
        with open(os.environ["TEST_ENV_DUMP"], "w") as f:
            json.dump({"own": dict(os.environ), "child": json.loads(child)}, f)
        return await real_run(self, *args, **kwargs)
    Runner.run = run_and_dump
    """
)


async def open_ids(key: LocalKey) -> set[str]:
    """Client order ids of the key's account's open orders, as the exchange has them."""
    rows = await key.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
    return {row["clientOrderId"] for row in rows}


async def all_ids(key: LocalKey) -> set[str]:
    rows = await key.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
    return {row["clientOrderId"] for row in rows}


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_an_emptied_journal_refuses_the_live_start(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        run = (*GRID, "--rest-url", ex.rest_url)
        status, out, err = await cli.run(*run, "--duration", "1.5", "--keep-orders")
        assert status == 0, (out, err)
        working = await open_ids(key)
        assert len(working) >= 8
        journal = tmp_path / "journals" / "g1.sqlite3"
        journal.write_bytes(b"")  # a crash, a bad restore, a `> file`: 0 bytes
        for name in ("g1.sqlite3-wal", "g1.sqlite3-shm"):
            (tmp_path / "journals" / name).unlink(missing_ok=True)
        placed = ex.metrics()["orders_placed"]

        status, out, err = await cli.run(*run, "--duration", "1.5")
        assert status == 1, (out, err)
        assert "Traceback" not in err
        assert f"error: not starting bot g1: the exchange holds {len(working)} open orders" in err
        assert "Restore the journal from a backup, or cancel those orders" in err
        assert ex.metrics()["orders_placed"] == placed
        assert await open_ids(key) == working


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_full_disk_stops_the_bot_in_one_line_and_reports_its_working_orders(
    tmp_path: Path,
) -> None:
    cli = TradewireCommand(tmp_path)
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        status, out, err = await cli.run(
            *GRID, "--rest-url", ex.rest_url, "--duration", "10",
            prelude=DISK_FULL_AFTER_START, env=cli.env(TEST_FILE_SIZE_LIMIT="90000"),
        )  # fmt: skip
        assert status == 1, (out, err)
        assert "Traceback" not in err
        [line] = [x for x in err.splitlines() if x.startswith("error:")]
        assert "the journal cannot be written" in line and "sends nothing more" in line
        working = await open_ids(key)
        assert 1 <= len(working) < 10  # stopped mid-grid
        assert f"stopped: {len(working)} order(s) of g1 still working on BTCUSDT" in out
        assert all(cid in out for cid in working)
        with Journal.for_bot(tmp_path, "g1") as journal:
            journaled = {o.client_order_id for o in journal.orders()}
        assert await all_ids(key) <= journaled  # nothing was sent that the journal lacks

        status, out, err = await cli.run(*GRID, "--rest-url", ex.rest_url, "--duration", "2")
        assert status == 0, (out, err)  # space again: the restart adopts them and ends clean
        assert await open_ids(key) == set()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_the_password_leaves_the_environment_once_the_store_is_unlocked(
    tmp_path: Path,
) -> None:
    cli = TradewireCommand(tmp_path, password="correct horse battery staple")
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        key = add_local_key(ex)
        cli.key_store().add("bot1", key.api_key, key.secret)
        dump = tmp_path / "env.json"
        status, out, err = await cli.run(
            *GRID, "--rest-url", ex.rest_url, "--duration", "1",
            prelude=DUMP_ENVIRONMENT, env=cli.env(TEST_ENV_DUMP=str(dump)),
        )  # fmt: skip
        assert status == 0, (out, err)
        seen = json.loads(dump.read_text())
        assert "TRADEWIRE_HOME" in seen["own"] and "TRADEWIRE_HOME" in seen["child"]
        for env in (seen["own"], seen["child"]):
            assert "TRADEWIRE_PASSWORD" not in env
            assert "correct horse battery staple" not in json.dumps(env)

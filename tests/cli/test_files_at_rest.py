"""Files that hold secrets are the owner's only: ``exchange serve --db`` keeps HMAC secrets.

Another user on the machine reading the database file would get every key's secret.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from typing import TYPE_CHECKING

import pytest

from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from pathlib import Path


def modes(db: Path) -> dict[str, str]:
    """The permission bits of the database and the SQLite files beside it."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files if p.exists()}


async def serve_and_read_secret(cli: TradewireCommand, db: Path) -> str:
    """Start ``exchange serve --db``, wait for its printed secret, stop it; the secret."""
    proc = await cli.start("exchange", "serve", "--db", str(db), "--symbols", "BTCUSDT")
    assert proc.stdout is not None
    secret = ""
    try:
        while not secret:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "the exchange exited"
            if line.startswith("HMAC secret"):
                secret = line.partition(":")[2].strip()
        return secret
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_the_exchange_database_is_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: SQLite alone would create 0644 files
    try:
        cli = TradewireCommand(tmp_path / "home")
        db = tmp_path / "exchange.sqlite3"
        secret = await serve_and_read_secret(cli, db)
        on_disk = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        assert secret and secret.encode() in on_disk  # what is at stake
        assert set(modes(db).values()) == {"0o600"}

        shared = tmp_path / "shared.sqlite3"  # made earlier, readable by everyone
        sqlite3.connect(shared).close()
        shared.chmod(0o644)
        await serve_and_read_secret(cli, shared)
        assert set(modes(shared).values()) == {"0o600"}
    finally:
        os.umask(old)

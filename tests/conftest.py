"""Shared fixtures: the test data under tests/data, and a quiet local exchange.

Helpers that are functions rather than fixtures live in ``tradewire.testing`` (waiting on a
condition, keys on a local exchange, the ``tradewire`` command in a subprocess), where test
modules can import them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Capture:
    """One recorded Binance session: stream messages and the depth snapshots taken meanwhile."""

    name: str
    messages: list[bytes]
    snapshots: dict[str, bytes]


def load_capture(stem: str) -> Capture:
    """Read ``<stem>.ws.txt`` and ``<stem>.http.txt`` (format: tests/data/binance/README.md)."""
    ws_lines = (DATA / "binance" / f"{stem}.ws.txt").read_bytes().splitlines()
    messages = [line.split(b": ", 1)[1] for line in ws_lines[1:] if line.strip()]
    snapshots: dict[str, bytes] = {}
    for line in (DATA / "binance" / f"{stem}.http.txt").read_bytes().splitlines():
        if not line.strip():
            continue
        url, rest = line.split(b" -> ", 1)
        symbol = url.split(b"symbol=", 1)[1].split(b"&", 1)[0].decode()
        snapshots[symbol] = rest.split(b": ", 1)[1]
    return Capture(stem, messages, snapshots)


@pytest.fixture(scope="session", params=["capture-2021-08", "capture-2021-10"])
def capture(request: pytest.FixtureRequest) -> Capture:
    """Each recorded session in turn."""
    return load_capture(request.param)


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """Binance's signing test vectors, with ``@file:`` secrets resolved."""
    raw: dict[str, Any] = json.loads((DATA / "vectors" / "binance-signing.json").read_text())
    for group in ("signatures", "rest_queries"):
        for v in raw[group]:
            if v["secret"].startswith("@file:"):
                v["secret"] = (DATA / "vectors" / v["secret"][6:]).read_text()
    return raw


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """A local exchange (BTCUSDT, ETHUSDT) without its own market flow: books hold only what
    the test puts there."""
    async with LocalExchange(symbols=("BTCUSDT", "ETHUSDT"), market="none") as exchange:
        yield exchange

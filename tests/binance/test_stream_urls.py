"""The client's stream and WebSocket API URLs follow its REST URL; a stream that never connects
gives up with a typed error; a failed request is raised, not also printed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tradewire._core import Trade
from tradewire.binance.client import BinanceClient
from tradewire.binance.streams import StreamClient
from tradewire.binance.urls import BINANCE, TESTNET, endpoints, is_binance_host, preset
from tradewire.errors import NetworkError, StreamUnavailable
from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest_asyncio.fixture
async def market() -> AsyncIterator[LocalExchange]:
    """A local exchange whose own market trades every few milliseconds."""
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=5) as exchange:
        yield exchange


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_client_given_only_a_local_rest_url_uses_its_streams_and_websocket_api() -> None:
    client = BinanceClient(rest_url="http://127.0.0.1:8123/")
    assert client.rest_url == "http://127.0.0.1:8123"
    assert client.stream_url == "ws://127.0.0.1:8123"
    assert client.ws_api_url == "ws://127.0.0.1:8123/ws-api/v3"
    given = BinanceClient(rest_url="http://127.0.0.1:8123", stream_url="ws://elsewhere:1/")
    assert (given.stream_url, given.ws_api_url) == ("ws://elsewhere:1", client.ws_api_url)


def test_binance_hosts_keep_binance_streams_and_presets_name_them() -> None:
    default = BinanceClient()
    assert (default.stream_url, default.ws_api_url) == (BINANCE.stream_url, BINANCE.ws_api_url)
    assert endpoints("https://api1.binance.com").stream_url == BINANCE.stream_url
    assert endpoints("https://testnet.binance.vision") == TESTNET == preset("testnet")
    assert preset("binance") == BINANCE
    # The testnet's documented URLs (binance-spot-api-docs, testnet/).
    assert TESTNET.stream_url == "wss://stream.testnet.binance.vision"
    assert TESTNET.ws_api_url == "wss://ws-api.testnet.binance.vision/ws-api/v3"
    assert is_binance_host("https://api.binance.com") and not is_binance_host(
        "https://binance.com.example.org"
    )
    with pytest.raises(ValueError, match="unknown exchange 'local'"):
        preset("local")


@pytest.mark.asyncio
async def test_a_client_on_the_local_exchange_streams_from_it(market: LocalExchange) -> None:
    secret = secrets.token_hex(32)
    api_key = market.add_key(secret)
    async with BinanceClient(
        api_key, secret, rest_url=market.rest_url, load_exchange_info=False
    ) as client:
        assert (client.stream_url, client.ws_api_url) == (market.stream_url, market.ws_api_url)
        events = client.stream("btcusdt@trade")
        async with contextlib.aclosing(events):
            first = await asyncio.wait_for(anext(events), 10)
        assert isinstance(first, Trade) and first.symbol == "BTCUSDT"
        async with client.ws_api() as ws:
            assert await ws.request("ping") == {}


@pytest.mark.asyncio
async def test_a_stream_that_never_connects_gives_up_after_its_attempts() -> None:
    url = f"ws://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    async with StreamClient(url, reconnect_delay=0.01, connect_attempts=3) as streams:
        with pytest.raises(StreamUnavailable) as raised:
            await asyncio.wait_for(anext(streams.events("btcusdt@trade")), 10)
    assert isinstance(raised.value, NetworkError)
    assert f"cannot connect to the market streams at {url}: 3 attempts" in str(raised.value)
    assert "ConnectionRefusedError" in str(raised.value) or "refused" in str(raised.value)
    assert time.monotonic() - started < 5
    assert streams.stats.connects == 0


@pytest.mark.asyncio
async def test_a_stream_that_never_connects_gives_up_after_its_time() -> None:
    url = f"ws://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    async with StreamClient(
        url,
        reconnect_delay=0.05,
        max_reconnect_delay=0.05,
        connect_attempts=10_000,
        connect_timeout=0.5,
    ) as streams:
        with pytest.raises(StreamUnavailable, match="attempts in"):
            await asyncio.wait_for(anext(streams.events("btcusdt@trade")), 10)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 5


def test_connect_attempts_must_allow_one_attempt() -> None:
    with pytest.raises(ValueError, match="connect_attempts"):
        StreamClient("ws://127.0.0.1:1", connect_attempts=0)


@pytest.mark.asyncio
async def test_a_failed_request_is_raised_and_logged_to_the_file_not_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    log = tmp_path / "errors.jsonl"
    client = BinanceClient(
        rest_url=f"http://127.0.0.1:{closed_port()}", error_log=log, load_exchange_info=False
    )
    with pytest.raises(NetworkError):
        await client.ping()
    await client.aclose()
    (line,) = log.read_text().splitlines()
    assert json.loads(line)["error"] == "NetworkError"
    assert [r for r in caplog.records if r.name.startswith("tradewire")] == []


def test_a_failed_request_prints_nothing_before_it_is_raised() -> None:
    script = (
        "import asyncio\n"
        "from tradewire.binance.client import BinanceClient\n"
        "from tradewire.errors import NetworkError\n"
        "async def main():\n"
        f"    c = BinanceClient(rest_url='http://127.0.0.1:{closed_port()}')\n"
        "    try:\n"
        "        await c.ping()\n"
        "    except NetworkError:\n"
        "        print('raised')\n"
        "    await c.aclose()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "raised\n", "")

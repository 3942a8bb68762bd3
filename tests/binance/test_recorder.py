"""The recorder and ``tradewire record`` against a local exchange, read back with read_tape."""

from __future__ import annotations

import asyncio
import json
import signal
import zlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradewire.backtest.data import TRADE_BUY, TRADE_SELL, read_tape
from tradewire.binance.recorder import Recorder
from tradewire.binance.streams import StreamClient
from tradewire.exchange import LocalExchange
from tradewire.exchange.streams import StreamConfig
from tradewire.testing import eventually
from tradewire.testing.command import TradewireCommand
from tradewire.testing.tapes import TapeReplay, replay, units

if TYPE_CHECKING:
    from pathlib import Path

SYMBOL = "BTCUSDT"


async def exchange_state(http: httpx.AsyncClient, before_trade_id: int) -> dict[str, Any]:
    """The exchange's whole book and the trades it printed after ``before_trade_id``."""
    depth = (await http.get("/api/v3/depth", params={"symbol": SYMBOL, "limit": 5000})).json()
    trades = (await http.get("/api/v3/trades", params={"symbol": SYMBOL, "limit": 1000})).json()
    return {"depth": depth, "trades": [t for t in trades if t["id"] > before_trade_id]}


async def last_trade_id(http: httpx.AsyncClient) -> int:
    trades = (await http.get("/api/v3/trades", params={"symbol": SYMBOL, "limit": 1})).json()
    return int(trades[-1]["id"]) if trades else 0


def check_against(r: TapeReplay, state: dict[str, Any]) -> None:
    """The replayed book is the exchange's, level for level; the trades are the exchange's."""
    depth = state["depth"]
    assert r.bids == {units(p): units(q) for p, q in depth["bids"]}
    assert r.asks == {units(p): units(q) for p, q in depth["asks"]}
    assert len(r.bids) > 5 and len(r.asks) > 5
    want = [
        (
            TRADE_SELL if t["isBuyerMaker"] else TRADE_BUY,
            t["time"] * 1000,
            units(t["price"]),
            units(t["qty"]),
        )
        for t in state["trades"]
    ]
    assert len(want) > 0
    assert [(k, p, q) for k, _, p, q in r.trades] == [(k, p, q) for k, _, p, q in want]
    # At their trade time, or (never going back) at the last book message's time.
    assert all(t >= w for (_, t, _, _), (_, w, _, _) in zip(r.trades, want, strict=True))


@pytest.mark.asyncio
async def test_a_recording_replays_to_the_exchange_book_and_trades(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl.gz"
    config = StreamConfig(fast_ms=20)
    async with (
        LocalExchange(symbols=(SYMBOL,), market_interval_ms=10, streams=config) as ex,
        httpx.AsyncClient(base_url=ex.rest_url, timeout=10) as http,
        StreamClient(ex.stream_url, reconnect_delay=0.01, max_reconnect_delay=0.1) as streams,
    ):
        ex.pause()
        before = await last_trade_id(http)

        async def fetch(symbol: str, limit: int) -> bytes:
            response = await http.get("/api/v3/depth", params={"symbol": symbol, "limit": limit})
            response.raise_for_status()
            return response.content

        recorder = Recorder(streams, fetch, [SYMBOL], out)
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.run(stop=stop))
        await ex.wait_for_stream_connections(1)
        ex.resume()
        await eventually(lambda: recorder.stats.snapshots >= 1)
        await ex.wait_for_steps(50)  # 0.5 s of market time
        # The connection is replaced: the recorder notes it and takes a fresh snapshot.
        await ex.server_shutdown()
        await eventually(lambda: recorder.stats.snapshots >= 2, message="a second snapshot")
        await ex.wait_for_steps(50)
        ex.pause()
        state = await exchange_state(http, before)
        final_id = state["depth"]["lastUpdateId"]
        last_trade = state["trades"][-1]["id"] if state["trades"] else 0
        await eventually(
            lambda: (
                recorder.stats.last_update_id.get(SYMBOL, 0) >= final_id
                and recorder.stats.last_trade_id.get(SYMBOL, 0) >= last_trade
            ),
            message="the recorder to see the exchange's last update and trade",
        )
        stop.set()
        stats = await task
    assert stats.reconnects == 1 and stats.snapshots == 2 and stats.bad_frames == 0
    r = replay(read_tape(out, SYMBOL))
    assert r.clears == 2  # the book started over from the second snapshot
    check_against(r, state)
    lines = [
        json.loads(line.split(b" ", 1)[1])
        for line in zlib.decompress(out.read_bytes(), 31).splitlines()
    ]
    assert {"reconnected"} in [set(body) for body in lines]
    snapshots = [body for body in lines if body.get("stream") == "btcusdt@depthSnapshot"]
    assert len(snapshots) == 2 and all("lastUpdateId" in s["data"] for s in snapshots)


def _flushed_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON of the lines of a gzip file being written, as far as it is flushed."""
    if not path.exists():
        return []
    text = zlib.decompressobj(31).decompress(path.read_bytes())
    whole = text[: text.rfind(b"\n") + 1]
    return [json.loads(line.split(b" ", 1)[1]) for line in whole.splitlines()]


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_the_record_command_until_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "btc.jsonl.gz"
    command = TradewireCommand(tmp_path / "home")
    async with (
        LocalExchange(symbols=(SYMBOL,), market_interval_ms=10) as ex,
        httpx.AsyncClient(base_url=ex.rest_url, timeout=10) as http,
    ):
        ex.pause()
        before = await last_trade_id(http)
        proc = await command.start("record", SYMBOL, "--out", str(out), "--base-url", ex.rest_url)
        try:
            await ex.wait_for_stream_connections(1, timeout=30)
            ex.resume()
            await ex.wait_for_steps(150)  # 1.5 s of market time
            ex.pause()
            state = await exchange_state(http, before)
            final_id = state["depth"]["lastUpdateId"]

            def recorded_to_the_end() -> bool:
                ids = [b["data"].get("u", 0) for b in _flushed_lines(out) if "data" in b]
                return (
                    any(b.get("stream", "").endswith("@depthSnapshot") for b in _flushed_lines(out))
                    and max(ids, default=0) >= final_id
                )

            await eventually(recorded_to_the_end, timeout=20, message="the file to reach the end")
            proc.send_signal(signal.SIGINT)
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert f"to {out}" in stdout.decode()
    check_against(replay(read_tape(out, SYMBOL)), state)

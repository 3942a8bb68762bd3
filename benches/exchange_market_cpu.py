"""CPU cost of the local exchange driving its market, with one client reading the streams.

Run from a checkout under ``/usr/bin/time`` (the CPU seconds it prints are the figure)::

    /usr/bin/time -f "%U user %S sys %e wall" python benches/exchange_market_cpu.py \
        --market calibrated --speed 120 --seconds 30
    /usr/bin/time -f "%U user %S sys %e wall" python benches/exchange_market_cpu.py \
        --replay tests/data/market/binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz --speed 120

The exchange serves for ``--seconds`` of wall time (a replay stops at its end if that comes
first) while one client is subscribed to ``depth@100ms``, ``bookTicker`` and ``trade`` of
BTCUSDT on the combined stream and reads every message. It prints the messages read, the
market's steps and trades, and the process's CPU seconds per wall second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import time

import aiohttp

from tradewire.exchange import LocalExchange


async def _read(url: str, counts: dict[str, int]) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            counts["messages"] += 1


async def _run(args: argparse.Namespace) -> None:
    if args.replay:
        exchange = LocalExchange(symbols=("BTCUSDT",), replay=args.replay, replay_speed=args.speed)
    else:
        exchange = LocalExchange(symbols=("BTCUSDT",), market="calibrated", market_speed=args.speed)
    counts = {"messages": 0}
    async with exchange as ex:
        streams = "btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade"
        reader = asyncio.create_task(_read(f"{ex.stream_url}/stream?streams={streams}", counts))
        started = time.perf_counter()
        cpu0 = time.process_time()
        with contextlib.suppress(TimeoutError):
            await ex.wait_for(lambda: ex.market_ended, timeout=args.seconds)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        reader.cancel()
        trades = len(ex.core.engine.recent_trades("BTCUSDT"))
        print(
            f"wall {wall:.1f} s, cpu {cpu:.1f} s ({cpu / wall:.2f} of a core), "
            f"steps {ex.market_steps}, trades {trades}, messages read {counts['messages']}, "
            f"ended {ex.market_ended}"
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"process cpu {usage.ru_utime + usage.ru_stime:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--replay", default=None, help="a recording to replay (default: none)")
    parser.add_argument(
        "--market", default="calibrated", choices=("calibrated",), help="(default: %(default)s)"
    )
    parser.add_argument("--speed", type=float, default=120.0, help="(default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=30.0, help="(default: %(default)s)")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()

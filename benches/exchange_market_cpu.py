"""CPU cost of the local exchange driving its market, with one client reading the streams.

Run from a checkout under ``/usr/bin/time`` (the CPU seconds it prints are the figure)::

    /usr/bin/time -f "%U user %S sys %e wall" python benches/exchange_market_cpu.py \
        --market calibrated --speed 120 --seconds 30
    /usr/bin/time -f "%U user %S sys %e wall" python benches/exchange_market_cpu.py \
        --replay tests/data/market/binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz --speed 120

The exchange serves for ``--seconds`` of wall time (a replay stops at its end if that comes
first) while one client, in a process of its own, is subscribed to ``depth@100ms``,
``bookTicker`` and ``trade`` of BTCUSDT on the combined stream and reads every message. It
prints the exchange process's CPU seconds and share of a core while it served, the market's
steps and trades, the messages the client read and whether it was cut as a slow consumer
(``/usr/bin/time`` adds the client's CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import resource
import time

import aiohttp

from tradewire.exchange import LocalExchange


async def _read(url: str, seconds: float) -> int:
    count = 0

    async def read_all() -> None:
        nonlocal count
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                count += 1

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(read_all(), seconds)
    return count


def _client(url: str, seconds: float, out: multiprocessing.Queue[int]) -> None:
    """The client, in its own process so that it never waits on the exchange's CPU."""
    out.put(asyncio.run(_read(url, seconds)))


async def _run(args: argparse.Namespace) -> None:
    if args.replay:
        exchange = LocalExchange(symbols=("BTCUSDT",), replay=args.replay, replay_speed=args.speed)
    else:
        exchange = LocalExchange(symbols=("BTCUSDT",), market="calibrated", market_speed=args.speed)
    async with exchange as ex:
        streams = "btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade"
        url = f"{ex.stream_url}/stream?streams={streams}"
        out: multiprocessing.Queue[int] = multiprocessing.Queue()
        reader = multiprocessing.Process(target=_client, args=(url, args.seconds + 1, out))
        reader.start()
        await ex.wait_for_stream_connections(1, timeout=30)
        started = time.perf_counter()
        cpu0 = time.process_time()
        with contextlib.suppress(TimeoutError):
            await ex.wait_for(lambda: ex.market_ended, timeout=args.seconds)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        messages = await asyncio.to_thread(out.get, timeout=60)
        await asyncio.to_thread(reader.join)
        trades = len(ex.core.engine.recent_trades("BTCUSDT"))
        print(
            f"wall {wall:.1f} s, cpu {cpu:.1f} s ({cpu / wall:.2f} of a core), "
            f"steps {ex.market_steps}, trades {trades}, messages read {messages}, "
            f"ended {ex.market_ended}, clients cut {ex.streams.slow_consumers_cut}"
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

"""The synthetic market's statistics beside a real recording's, and the generator's speed.

Run from a checkout (a release build of the extension for the speed figures)::

    python benches/market_stats.py --hours 2 --seeds 1 2 3 4 5

It prints a Markdown table (docs/market.md quotes one): each statistic of
``tradewire.testing.market_stats`` for the bundled real BTCUSDT recording and for each seed's
synthetic market, then the generator's rows per second alone and with the recording written.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tradewire._core import RecordingWriter
from tradewire.backtest.data import read_tape
from tradewire.backtest.synth import synth_tapes
from tradewire.testing.market_stats import MarketStats, market_stats

_REAL = (
    Path(__file__).resolve().parent.parent
    / "tests/data/market/binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
_ROWS = {
    "seconds": ("market time (s)", "{:.0f}"),
    "spread_one_tick": ("spread of one tick, share of time", "{:.1%}"),
    "top_size": ("size at the best bid/ask, median (BTC)", "{:.2f}"),
    "depth_1bp": ("depth within 1 bp per side, median (BTC)", "{:.1f}"),
    "depth_5bp": ("depth within 5 bp per side, median (BTC)", "{:.1f}"),
    "depth_10bp": ("depth within 10 bp per side, median (BTC)", "{:.1f}"),
    "trades_per_s": ("trades (fills) per second", "{:.1f}"),
    "takers_per_s": ("taker events per second", "{:.1f}"),
    "fano_1s": ("Fano factor of taker events, 1 s", "{:.1f}"),
    "vol_1s": ("volatility of 1 s mid returns, annualised", "{:.0%}"),
    "kurtosis_1s": ("kurtosis of 1 s mid returns", "{:.1f}"),
}


def _speed(hours: float, seed: int) -> tuple[float, float]:
    """Rows per second generating, and generating plus writing the recording (no gzip)."""
    started = time.perf_counter()
    rows = sum(len(t) for t in synth_tapes("BTCUSDT", hours, seed))
    alone = rows / (time.perf_counter() - started)
    writer = RecordingWriter("BTCUSDT")
    started = time.perf_counter()
    written = 0
    for tape in synth_tapes("BTCUSDT", hours, seed):
        written += len(writer.write(tape))
    return alone, rows / (time.perf_counter() - started)


def main() -> None:
    """Print the table and the speed figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--real", type=Path, default=_REAL)
    args = parser.parse_args()
    columns: list[tuple[str, MarketStats]] = [
        ("real BTCUSDT", market_stats(read_tape(args.real, "BTCUSDT")))
    ]
    for seed in args.seeds:
        columns.append((f"seed {seed}", market_stats(synth_tapes("BTCUSDT", args.hours, seed))))
    print("| statistic | " + " | ".join(name for name, _ in columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for key, (label, fmt) in _ROWS.items():
        cells = [fmt.format(stats.as_dict()[key]) for _, stats in columns]
        print(f"| {label} | " + " | ".join(cells) + " |")
    alone, written = _speed(args.hours, args.seeds[0])
    print(f"\ngenerator: {alone:,.0f} rows/s; with the recording written: {written:,.0f} rows/s")


if __name__ == "__main__":
    main()

"""Candles from a Binance klines file: the reader replays each bar as four prints (open, high,
low, close) at its close time, so candles of the file's interval give back its bars' OHLC and
volume exactly; a bar is delivered when the next bar's prints pass its end."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

from tradewire.backtest import backtest
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import Bar
    from tradewire.trading.strategy import StrategyContext

T = 1_723_161_600_000  # 2024-08-09 00:00 UTC
BARS = [  # open time, open, high, low, close, volume
    (T, "100", "110", "95", "105", "4"),
    (T + 60_000, "105", "105", "105", "105", "0"),  # nothing traded: the reader skips it
    (T + 120_000, "104", "120", "101", "119", "8"),
    (T + 180_000, "119", "119", "118", "118", "2"),
]


class Keeps(Strategy):
    candles = ("1m",)

    def __init__(self) -> None:
        self.bars: list[Bar] = []

    async def on_stop(self, ctx: StrategyContext) -> None:
        self.bars = list(ctx.schedule.series["1m"].closed)


def test_candles_of_a_klines_file_are_its_bars(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1m-2024-08-09.csv"
    path.write_text(
        "".join(
            f"{o},{op},{h},{lo},{c},{v},{o + 59_999},0,0,0,0,0\n" for o, op, h, lo, c, v in BARS
        )
    )
    strategy = Keeps()
    result = backtest(strategy, [path])
    assert result.error is None
    got = [(b.open_time_ms, b.open, b.high, b.low, b.close, b.volume) for b in strategy.bars]
    # The last bar has no later event to close it; the empty one is flat at the last close.
    assert got == [(o, D(op), D(h), D(lo), D(c), D(v)) for o, op, h, lo, c, v in BARS[:3]]
    assert [b.trades for b in strategy.bars] == [4, 0, 4]  # four prints a bar, not the file's

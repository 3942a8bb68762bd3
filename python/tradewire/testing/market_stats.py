"""Microstructure statistics of a market on tapes, to compare a synthetic market with a real one.

The book is rebuilt as published (the depth rows only) by the Rust simulation engine and sampled
in market time: the spread every 100 ms, the top of the book and the depth every second. Trades come
from the tape's columns. Floats are fine here: these are analytics, not money.

- ``spread_one_tick``: share of the 100 ms samples whose spread is one tick (share of time).
- ``top_size``: median size at the best bid and at the best ask (both sides pooled), in base.
- ``depth_1bp``, ``depth_5bp``, ``depth_10bp``: median cumulative size within 1, 5, 10 basis
  points of the mid, per side (both sides pooled), in base.
- ``trades_per_s``: fills (trade rows) per second; ``takers_per_s``: taker events per second (the
  distinct times and sides of the fills); ``fano_1s``: variance over mean of the taker events
  counted per second (1 for a Poisson process; bursts make it larger).
- ``vol_1s``: the standard deviation of 1-second log returns of the mid, annualised;
  ``kurtosis_1s``: their kurtosis (3 for a normal distribution).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from tradewire._core import SimEngine, Tape

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["MarketStats", "market_stats"]

_UNIT = 100_000_000
_SPREAD_EVERY_US = 100_000
_SAMPLE_EVERY = 10  # depth and mid once a second (every 10th spread sample)
_YEAR_S = 365 * 86_400
_LEVELS = 2_000


@dataclass(frozen=True)
class MarketStats:
    """What :func:`market_stats` measured (see the module's docstring)."""

    seconds: float
    spread_one_tick: float
    top_size: float
    depth_1bp: float
    depth_5bp: float
    depth_10bp: float
    trades_per_s: float
    takers_per_s: float
    fano_1s: float
    vol_1s: float
    kurtosis_1s: float

    def as_dict(self) -> dict[str, float]:
        """The figures by name."""
        return asdict(self)


def _within(levels: list[tuple[int, int]], mid: float, bp: float) -> float:
    reach = mid * bp / 10_000
    return sum(q for p, q in levels if abs(p - mid) <= reach) / _UNIT


def market_stats(tapes: Iterable[Tape], *, tick: int = 1_000_000) -> MarketStats:
    """Measure the market on ``tapes`` (a book and trades); ``tick`` in 10^-8 units."""
    engine = SimEngine("touch", books=False, timer_us=_SPREAD_EVERY_US)
    spreads: list[int] = []
    tops: list[float] = []
    depth: dict[int, list[float]] = {1: [], 5: [], 10: []}
    mids: list[float] = []
    trade_times: list[np.ndarray] = []
    trade_kinds: list[np.ndarray] = []
    first: int | None = None
    last = 0
    samples = 0
    for tape in tapes:
        kind = tape.kind
        times = tape.time_us
        is_trade = kind <= 1
        trade_times.append(times[is_trade])
        trade_kinds.append(kind[is_trade])
        if len(times):
            first = int(times[0]) if first is None else first
            last = int(times[-1])
        # The book as published (the engine's book also loses the levels trades go through).
        book = ~is_trade
        engine.feed(
            Tape.from_columns(
                kind[book].tolist(),
                times[book].tolist(),
                tape.price[book].tolist(),
                tape.qty[book].tolist(),
            )
        )
        while True:
            code = engine.advance()[0]
            if code == 0:
                break
            if code != 5:
                continue
            bid, bid_qty, ask, ask_qty = engine.best()
            if bid is None or ask is None or bid_qty is None or ask_qty is None:
                continue
            spreads.append(ask - bid)
            samples += 1
            if samples % _SAMPLE_EVERY:
                continue
            mid = (bid + ask) / 2
            mids.append(mid)
            tops.extend((bid_qty / _UNIT, ask_qty / _UNIT))
            bids, asks = engine.levels(_LEVELS)
            for bp, values in depth.items():
                values.extend((_within(bids, mid, bp), _within(asks, mid, bp)))
    seconds = (last - first) / 1e6 if first is not None else 0.0
    if seconds <= 0 or len(mids) < 3:
        raise ValueError("too little market to measure: a book and a few seconds are needed")
    times_all = np.concatenate(trade_times)
    kinds_all = np.concatenate(trade_kinds)
    # A taker event: the fills of one side at one time.
    keys = times_all * 2 + kinds_all
    events = np.unique(keys) // 2 if len(keys) else np.zeros(0, dtype=np.int64)
    assert first is not None
    counts = np.bincount(((events - first) // 1_000_000).astype(np.int64))
    fano = float(counts.var() / counts.mean()) if counts.mean() > 0 else math.nan
    returns = np.diff(np.log(np.asarray(mids)))
    sd = float(returns.std())
    centred = returns - returns.mean()
    kurt = float((centred**4).mean() / sd**4) if sd > 0 else math.nan
    return MarketStats(
        seconds=seconds,
        spread_one_tick=float(np.mean(np.asarray(spreads) == tick)),
        top_size=float(np.median(tops)),
        depth_1bp=float(np.median(depth[1])),
        depth_5bp=float(np.median(depth[5])),
        depth_10bp=float(np.median(depth[10])),
        trades_per_s=len(times_all) / seconds,
        takers_per_s=len(events) / seconds,
        fano_1s=fano,
        vol_1s=sd * math.sqrt(_YEAR_S),
        kurtosis_1s=kurt,
    )

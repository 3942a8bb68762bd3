"""The synthetic market: seeded and deterministic, on the symbol's tick and step, read back
exactly from its recording, and near the measured BTCUSDT figures (docs/market.md)."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tradewire._core import RecordingWriter, SynthMarket, Tape
from tradewire.backtest.data import read_tape
from tradewire.backtest.synth import TYPICAL_PRICES, synth_spec, synth_tapes
from tradewire.errors import BacktestError
from tradewire.testing.market_stats import market_stats

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

TRADES = (0, 1)
BTC_PRICE = float(TYPICAL_PRICES["BTCUSDT"])  # the default start price


def joined(tapes: Iterable[Tape]) -> Tape:
    """One tape of all the chunks."""
    parts = list(tapes)
    return Tape.from_columns(
        np.concatenate([t.kind for t in parts]).tolist(),
        np.concatenate([t.time_us for t in parts]).tolist(),
        np.concatenate([t.price for t in parts]).tolist(),
        np.concatenate([t.qty for t in parts]).tolist(),
    )


def columns(tape: Tape) -> tuple[list[int], ...]:
    return (tape.kind.tolist(), tape.time_us.tolist(), tape.price.tolist(), tape.qty.tolist())


def recording(tapes: Iterable[Tape], symbol: str = "BTCUSDT") -> bytes:
    writer = RecordingWriter(symbol)
    return b"".join(writer.write(t) for t in tapes)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    first = recording(synth_tapes("BTCUSDT", 0.02, seed=42))
    again = recording(synth_tapes("BTCUSDT", 0.02, seed=42, chunk_seconds=7))
    other = recording(synth_tapes("BTCUSDT", 0.02, seed=43))
    assert first == again
    assert first != other
    assert first.startswith(b"1704067200000000000 {")


def test_the_tape_holds_a_book_and_trades_on_the_tick_and_step_in_time_order() -> None:
    tape = joined(synth_tapes("BTCUSDT", 0.05, seed=1))
    kind, times, price, qty = (np.asarray(c) for c in columns(tape))
    assert kind[0] == 5  # CLEAR: the whole book first
    assert (np.diff(times) >= 0).all()
    assert times[-1] - times[0] == pytest.approx(180e6, abs=100_000)
    levels = (kind == 2) | (kind == 3) | np.isin(kind, TRADES)
    assert (price[levels] % 1_000_000 == 0).all()  # the 0.01 tick
    assert (qty[levels] % 1_000 == 0).all()  # the 0.00001 step
    trades = np.isin(kind, TRADES)
    assert 1_000 < trades.sum() < 20_000
    assert (qty[trades] > 0).all()
    # Prices stay near the start over three minutes.
    assert abs(np.median(price[trades]) / 1e8 - BTC_PRICE) < BTC_PRICE / 100


def test_other_symbols_are_scaled_to_their_rules() -> None:
    spec = synth_spec("ethusdt")
    assert (spec.tick, spec.step, spec.start_price) == (1_000_000, 10_000, 268_380_000_000)
    assert 4 < spec.size_scale < 8
    tape = joined(synth_tapes("ETHUSDT", 0.01, seed=3, start_price="2500.5"))
    kind, price, qty = tape.kind, tape.price, tape.qty
    trades = np.isin(kind, TRADES)
    assert abs(np.median(price[trades]) / 1e8 - 2500.5) < 25
    assert (qty[kind != 4] % 10_000 == 0).all()


def test_unknown_symbols_and_bad_settings_are_typed_errors() -> None:
    with pytest.raises(BacktestError, match="no typical price for DOGEUSDT: give its start price"):
        synth_tapes("DOGEUSDT", 1, seed=1)
    with pytest.raises(BacktestError, match="vol must be"):
        synth_tapes("BTCUSDT", 1, seed=1, vol=-0.1)
    with pytest.raises(BacktestError, match="multiple of the tick"):
        synth_tapes("BTCUSDT", 1, seed=1, start_price="65000.005")
    with pytest.raises(BacktestError, match="hours must be positive"):
        synth_tapes("BTCUSDT", float("nan"), seed=1)
    with pytest.raises(BacktestError, match="at most 87,600"):
        synth_tapes("BTCUSDT", 1e9, seed=1)
    with pytest.raises(BacktestError, match="aware datetime"):
        synth_tapes("BTCUSDT", 1, seed=1, start=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(BacktestError, match="branching"):
        SynthMarket(seed=1, branching_fast=0.6, branching_slow=0.5)


def test_the_start_time_is_the_one_given() -> None:
    start = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    [tape, *_] = synth_tapes("BTCUSDT", 0.001, seed=1, start=start)
    assert int(tape.time_us[0]) == int(start.timestamp()) * 1_000_000


def test_a_recording_of_the_market_reads_back_into_the_same_tape(tmp_path: Path) -> None:
    tapes = list(synth_tapes("BTCUSDT", 0.05, seed=9, chunk_seconds=20))
    path = tmp_path / "synth.jsonl.gz"
    path.write_bytes(gzip.compress(recording(tapes)))
    back = joined(read_tape(path, "BTCUSDT", chunk_bytes=1 << 16))
    assert columns(back) == columns(joined(tapes))


def test_a_range_day_stays_nearer_its_start_price() -> None:
    def distance(range_day: bool, seed: int) -> float:
        tape = joined(
            synth_tapes("BTCUSDT", 0.5, seed=seed, range_day=range_day, range_half_life_s=60)
        )
        trades = np.isin(tape.kind, TRADES)
        prices = tape.price[trades] / 1e8
        return float(np.abs(np.log(prices / BTC_PRICE)).mean())

    # Summed over three seeds: half an hour of a free market can stay near its start by chance.
    seeds = (5, 6, 7)
    assert sum(distance(True, s) for s in seeds) < 0.5 * sum(distance(False, s) for s in seeds)


def test_the_book_near_the_touch_is_calibrated_over_ten_minutes() -> None:
    stats = market_stats(synth_tapes("BTCUSDT", 1 / 6, seed=2))
    assert stats.spread_one_tick >= 0.9
    assert 0.3 < stats.top_size < 3
    assert 3 < stats.depth_1bp < 9


@pytest.mark.slow
def test_two_hours_land_near_the_measured_btcusdt_figures() -> None:
    """Targets from docs/market.md (the measured BTCUSDT spot figures, at a ~50% default vol).

    At the start price the calibration was made with (65,000): the same seed from another start
    price is another path, and a 2-hour path may be a calm one.
    """
    stats = market_stats(synth_tapes("BTCUSDT", 2, seed=2024, start_price="65000"))
    assert stats.spread_one_tick >= 0.9
    assert 0.5 < stats.top_size < 2
    assert 3.5 < stats.depth_1bp < 7
    assert 18 < stats.depth_5bp < 32
    assert 38 < stats.depth_10bp < 65
    assert 15 < stats.trades_per_s < 45
    assert stats.fano_1s > 3
    assert 0.35 < stats.vol_1s < 0.7
    assert stats.kurtosis_1s > 5
    assert stats.seconds == pytest.approx(7200, abs=1)


def test_the_synthetic_figures_differ_from_a_poisson_gaussian_market() -> None:
    """The statistics are able to tell: a market with no bursts and normal steps fails them."""
    calm = SynthMarket(
        seed=2, branching_fast=0, branching_slow=0, tail_dof=200, jumps_per_day=0, vol_of_vol=0
    )
    tapes = [calm.generate(calm.now_us + 60_000_000) for _ in range(10)]
    stats = market_stats(tapes)
    assert stats.fano_1s < 2
    assert stats.spread_one_tick >= 0.9


def test_takers_trade_toward_the_next_move() -> None:
    """Adverse selection: the price a second after a taker's fill has moved its way, more often
    when takers are informed (the default 65%) than when none are."""

    def after_a_second(informed: float) -> float:
        market = SynthMarket(seed=4, informed=informed)
        tape = joined(market.generate(market.now_us + 60_000_000) for _ in range(10))
        trades = np.isin(tape.kind, TRADES)
        kind, times, price = tape.kind[trades], tape.time_us[trades], tape.price[trades]
        later = np.searchsorted(times, times + 1_000_000)
        inside = later < len(times)
        side = np.where(kind[inside] == 0, 1, -1)
        return float((np.sign(price[later[inside]] - price[inside]) * side).mean())

    informed, blind = after_a_second(0.65), after_a_second(0.0)
    assert informed > 0.3
    assert informed > blind + 0.08

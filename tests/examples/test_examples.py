"""The examples in examples/ run on the bundled data and do what their docstrings say."""

from __future__ import annotations

import importlib.util
import json
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tradewire.backtest import backtest
from tradewire.backtest.samples import sample_path
from tradewire.backtest.synth import synth_tapes
from tradewire.cli.main import main

if TYPE_CHECKING:
    from types import ModuleType

    from tradewire._core import Tape
    from tradewire.backtest import BacktestResult
    from tradewire.model import Bar
    from tradewire.trading.strategy import StrategyContext

EXAMPLES = Path(__file__).parents[2] / "examples"
BALANCES = {"USDT": "10000", "BTC": "0.1"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_market_maker_quotes_both_sides_within_its_inventory_limit() -> None:
    # At about 61,800 USDT a BTC, 62 USDT is a lot of 0.001 BTC and 124 USDT two lots.
    maker = _load("market_maker").MarketMaker(
        amount=D(62), half_spread_bps=D(5), requote_bps=D(2), max_inventory=D(124)
    )
    result = backtest(maker, [sample_path()], maker_fee=D("0.0001"), start_balances=BALANCES)
    fills = result.fills
    assert {f.side for f in fills} == {"BUY", "SELL"}
    position = D(0)
    for fill in fills:  # a side is quoted only while the position allows one more lot
        position += fill.quantity if fill.side == "BUY" else -fill.quantity
        assert abs(position) <= D("0.003")
    assert all(f.is_maker for f in fills)  # resting quotes only: it never takes
    assert {o.quantity for o in result.orders} == {D("0.001")}  # fills may be partial


def test_the_grid_answers_each_buy_with_a_sell_one_line_up() -> None:
    step = D("0.05")
    result = backtest(
        _load("grid").Grid(step_pct=step, lines=5), [sample_path()], start_balances=BALANCES
    )
    buys = [f for f in result.fills if f.side == "BUY"]
    sells = [f for f in result.fills if f.side == "SELL"]
    assert buys and sells
    lowest_buy = min(f.price for f in buys)
    for sell in sells:  # a sell sits a step above the buy it answers, so above the lowest buy
        assert sell.price >= lowest_buy * (1 + step / 100) - D("0.01")
    assert sum(f.quantity for f in sells) <= sum(f.quantity for f in buys)


def test_examples_run_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))
    spec = f"{EXAMPLES / 'grid.py'}:Grid"
    argv = ["backtest", "run", spec, "--param", "step_pct=0.05", "--data", "sample"]
    assert main([*argv, "--out", str(tmp_path / "bt")]) == 0
    paper = ["paper", "run", spec, "--param", "step_pct=0.05", "--replay", "sample"]
    assert main([*paper, "--speed", "2000", "--no-view", "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "bt" / "report.json").exists() and (tmp_path / "p" / "report.json").exists()


def test_the_strategy_guides_first_bot_runs_as_written() -> None:
    guide = (EXAMPLES.parent / "docs" / "strategy.md").read_text()
    source = guide.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(source, "docs/strategy.md", "exec"), namespace)
    bot = namespace["BuyTheDip"](dip_pct=D("0.1"), gain_pct=D("0.05"))  # type: ignore[operator]
    result = backtest(bot, [sample_path()], start_balances=BALANCES)
    [buy] = [f for f in result.fills if f.side == "BUY"]
    assert buy.quantity == D("0.001") and result.run.log.orders_placed >= 1


# --- several symbols: the rebalancer ---------------------------------------------------------


def _synthetic(hours: float, seed: int = 11) -> dict[str, list[Tape]]:
    """A synthetic BTCUSDT and ETHUSDT market of the same ``hours`` (docs/market.md)."""
    return {s: list(synth_tapes(s, hours, seed, vol=0.8)) for s in ("BTCUSDT", "ETHUSDT")}


def _weights(result: BacktestResult) -> dict[str, D]:
    """Each base's share of the account at the end, valued at its symbol's end mark."""
    end = result.run.end_balances
    values = {"USDT": end["USDT"].total}
    for one in result.run.per_symbol:
        assert one.end_mark is not None
        values[one.symbol] = end[one.base_asset].total * one.end_mark
    total = sum(values.values())
    return {k: v / total for k, v in values.items()}


def test_the_rebalancer_moves_an_account_held_in_btc_to_its_target_weights() -> None:
    rebalancer = _load("rebalancer").Rebalancer(every_s=60)
    # Only BTC to start: the ETH can be bought only with the USDT the BTC sale brings (one
    # account, one ledger for both symbols).
    result = backtest(rebalancer, _synthetic(0.25), start_balances={"BTC": "0.16", "USDT": "0"})
    [sell] = [f for f in result.fills if f.symbol == "BTCUSDT"]
    [buy] = [f for f in result.fills if f.symbol == "ETHUSDT"]
    assert (sell.side, buy.side) == ("SELL", "BUY") and sell.time_ms <= buy.time_ms
    weights = _weights(result)
    assert abs(weights["BTCUSDT"] - D("0.4")) < D("0.05")
    assert abs(weights["ETHUSDT"] - D("0.3")) < D("0.05")
    assert rebalancer.rebalances == 1  # inside the 5-point band after: no churn
    symbols = result.report["symbols"]
    assert (symbols["BTCUSDT"]["sell_fills"], symbols["ETHUSDT"]["buy_fills"]) == (1, 1)
    total = sum(D(s["total_pnl"]) for s in symbols.values())
    assert D(result.report["total_pnl"]) == total  # the report adds the symbols up


def test_the_rebalancer_trades_on_its_timer_when_weights_drift_out_of_a_narrow_band() -> None:
    rebalancer = _load("rebalancer").Rebalancer(band_pct=D("0.05"), every_s=60)
    result = backtest(rebalancer, _synthetic(0.25), start_balances={"USDT": "100000"})
    assert rebalancer.rebalances >= 2
    started = result.run.started_ms
    later = [f for f in result.fills if f.time_ms > started]
    assert later and {f.symbol for f in result.fills} == {"BTCUSDT", "ETHUSDT"}
    for fill in later:  # only at the rebalance timer's ticks (market time), never between
        offset = (fill.time_ms - started) % 60_000  # the fill carries the last market time
        assert min(offset, 60_000 - offset) < 1_000
    for order in result.orders:  # every order was worth at least the minimum (NOTIONAL 10)
        assert order.cumulative_quote_qty >= 10


def test_the_rebalancer_runs_from_the_command_line_on_two_recordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))
    for symbol in ("BTCUSDT", "ETHUSDT"):
        out = str(tmp_path / f"{symbol}.jsonl.gz")
        synth = ["data", "synth", "--symbol", symbol, "--hours", "0.05", "--seed", "3"]
        assert main([*synth, "--out", out]) == 0
    spec = f"{EXAMPLES / 'rebalancer.py'}:Rebalancer"
    data = [f"BTCUSDT={tmp_path / 'BTCUSDT.jsonl.gz'}", f"ETHUSDT={tmp_path / 'ETHUSDT.jsonl.gz'}"]
    argv = ["backtest", "run", spec, "--data", *data, "--out", str(tmp_path / "bt")]
    assert main(argv) == 0
    report = json.loads((tmp_path / "bt" / "report.json").read_text())
    assert report["symbols"]["BTCUSDT"]["fills"] >= 1 and report["symbols"]["ETHUSDT"]["fills"] >= 1
    # --from and --to cut both symbols' data to the same minute of market time.
    start = report["started_ms"] + 30_000
    window = ["--from", str(start), "--to", str(start + 60_000), "--out", str(tmp_path / "bt2")]
    assert main([*argv[:-2], *window]) == 0
    cut = json.loads((tmp_path / "bt2" / "report.json").read_text())
    assert start <= cut["started_ms"] and cut["ended_ms"] < start + 60_000
    assert cut["stop_reason"] == "duration"
    # Plain files for a strategy of two symbols: which file is whose is asked, nothing runs.
    plain = ["backtest", "run", spec, "--data", str(tmp_path / "BTCUSDT.jsonl.gz")]
    assert main([*plain, "--out", str(tmp_path / "no")]) == 2
    assert not (tmp_path / "no").exists()


def test_the_rebalancer_trades_both_symbols_on_paper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))
    spec = f"{EXAMPLES / 'rebalancer.py'}:Rebalancer"
    argv = ["paper", "run", spec, "--symbol", "BTCUSDT,ETHUSDT", "--seed", "5", "--no-view"]
    assert main([*argv, "--duration", "1", "--out", str(tmp_path / "p")]) == 0
    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert report["symbols"]["ETHUSDT"]["buy_fills"] >= 1  # the default account has no ETH
    assert report["exchange"] == "synthetic"
    # The built-in bots trade one symbol: two are refused before anything runs.
    grid = ["paper", "grid", "--symbol", "BTCUSDT,ETHUSDT", "--no-view", "--duration", "1"]
    assert main([*grid, "--out", str(tmp_path / "g")]) == 1
    assert "the grid bot trades one symbol" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


@pytest.mark.slow
def test_the_rebalancer_trades_both_symbols_against_the_local_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))
    spec = f"{EXAMPLES / 'rebalancer.py'}:Rebalancer"
    argv = ["paper", "run", spec, "--symbol", "BTCUSDT", "--symbol", "ETHUSDT"]
    argv += ["--exchange", "local", "--seed", "5", "--no-view", "--duration", "3"]
    assert main([*argv, "--out", str(tmp_path / "p")]) == 0
    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert report["symbols"]["ETHUSDT"]["buy_fills"] >= 1
    assert report["symbols"]["BTCUSDT"]["end_price"] is not None


# --- candles and an indicator: the moving-average crossover ----------------------------------


def _sma(values: np.ndarray[Any, Any], n: int) -> np.ndarray[Any, Any]:
    """The last-n mean at each point from n - 1 on (numpy, to check the TA-Lib one)."""
    return np.convolve(values, np.ones(n) / n, mode="valid")


def test_the_crossover_trades_at_the_crossings_of_its_averages() -> None:
    module = _load("ma_crossover")

    class Watched(module.MaCrossover):  # type: ignore[name-defined,misc]
        """The example, noting each candle and when it was handed over."""

        def __init__(self) -> None:
            super().__init__(fast=5, slow=20, interval="1s")
            self.bars: list[tuple[int, float]] = []

        async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
            self.bars.append((candle.close_time_ms, float(candle.close)))
            await super().on_candle(ctx, candle)

    bot = Watched()
    result = backtest(bot, [sample_path()], start_balances={"USDT": "10000"})
    closes = np.array([close for _, close in bot.bars])
    fast, slow = _sma(closes, 5)[15:], _sma(closes, 20)  # aligned: both end at each candle
    above = fast > slow
    expected: list[tuple[str, int]] = []
    long = False
    for i in range(1, len(above)):
        if above[i] == above[i - 1]:
            continue
        when = bot.bars[i + 19][0]  # the candle at which the crossing is seen
        if above[i] and not long:
            expected.append(("BUY", when))
            long = True
        elif not above[i] and long:
            expected.append(("SELL", when))
            long = False
    assert len(expected) >= 4
    # MARKET orders, no latency: each fills as the crossing's candle closes (the fill carries
    # the time of the last market event the engine had, at most a candle before).
    fills = result.fills
    assert [f.side for f in fills] == [side for side, _ in expected]
    for fill, (_, closed) in zip(fills, expected, strict=True):
        assert closed - 1_000 < fill.time_ms <= closed + 1_000
    assert len(bot.crossings) >= len(expected)


def test_the_crossover_runs_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))
    spec = f"{EXAMPLES / 'ma_crossover.py'}:MaCrossover"
    params = ["--param", "interval=1s", "--param", "fast=5", "--param", "slow=20"]
    argv = ["backtest", "run", spec, *params, "--data", "sample", "--out", str(tmp_path / "bt")]
    assert main(argv) == 0
    report = json.loads((tmp_path / "bt" / "report.json").read_text())
    assert report["buy_fills"] >= 2 and report["buy_fills"] - report["sell_fills"] in (0, 1)


def test_the_crossover_sizes_its_lot_in_the_quote_on_any_symbol() -> None:
    module = _load("ma_crossover")
    # ETHUSDT at about 2,700 USDT: a lot of 20 USDT is 0.007 ETH, above the minimum notional
    # (a fixed base size of BTC's scale would be refused there).
    eth = list(synth_tapes("ETHUSDT", 2.0, 11, vol=0.8))
    bot = module.MaCrossover(fast=5, slow=20, interval="1m")
    result = backtest(bot, eth, symbol="ETHUSDT", start_balances={"USDT": "1000"})
    assert result.error is None
    buys = [f for f in result.fills if f.side == "BUY"]
    assert buys, "no crossing upward in two hours of a volatile market"
    for fill in buys:
        assert D(15) < fill.price * fill.quantity <= D(20)


@pytest.mark.parametrize("example", ["market_maker:MarketMaker", "grid:Grid"])
def test_the_quoting_examples_size_their_orders_in_the_quote_on_any_symbol(example: str) -> None:
    name, _, cls = example.partition(":")
    # ETHUSDT at about 2,700 USDT: 20 USDT is 0.007 ETH, above the minimum notional (a fixed
    # base size of BTC's scale, 0.001, would be refused there).
    eth = list(synth_tapes("ETHUSDT", 0.5, 11, vol=0.8))
    bot = getattr(_load(name), cls)()
    result = backtest(bot, eth, symbol="ETHUSDT", start_balances={"USDT": "1000", "ETH": "1"})
    assert result.error is None
    assert result.run.log.orders_placed >= 2
    for fill in result.fills:
        assert D(10) <= fill.price * fill.quantity <= D(20) * D("1.01")

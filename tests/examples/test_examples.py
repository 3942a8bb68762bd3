"""The examples in examples/ run on the bundled data and do what their docstrings say."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import TYPE_CHECKING

from tradewire.backtest import backtest
from tradewire.backtest.samples import sample_path
from tradewire.cli.main import main

if TYPE_CHECKING:
    from types import ModuleType

    import pytest

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
    maker = _load("market_maker").MarketMaker(
        size=D("0.001"), half_spread_bps=D(5), requote_bps=D(2), max_position=D("0.002")
    )
    result = backtest(maker, [sample_path()], maker_fee=D("0.0001"), start_balances=BALANCES)
    fills = result.fills
    assert {f.side for f in fills} == {"BUY", "SELL"}
    position = D(0)
    for fill in fills:  # a side is quoted only while the position allows one more lot
        position += fill.quantity if fill.side == "BUY" else -fill.quantity
        assert abs(position) <= D("0.003")
    assert all(f.is_maker for f in fills)  # resting quotes only: it never takes


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

"""``tradewire backtest|paper run FILE.py:Class --param NAME=VALUE``: your own strategy, with
the same options as the built-in bots."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tradewire.cli.main import main

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
BUYER = textwrap.dedent(
    """
    from decimal import Decimal
    from tradewire import BookUpdate, Strategy, StrategyContext

    class Buyer(Strategy):
        '''Buys ``size`` at the market on the first book, then rests a sell ``gap`` above.'''

        def __init__(self, size: Decimal, gap: Decimal = Decimal(50)) -> None:
            self.size, self.gap, self.done = size, gap, False

        async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
            if self.done or book.best_ask is None:
                return
            self.done = True
            await ctx.buy(self.size)
            await ctx.sell(self.size, book.best_ask + self.gap)
    """
)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))


@pytest.fixture
def buyer(tmp_path: Path) -> str:
    path = tmp_path / "buyer.py"
    path.write_text(BUYER)
    return f"{path}:Buyer"


def test_backtest_and_paper_run_the_users_class_alike(tmp_path: Path, buyer: str) -> None:
    params = ["--param", "size=0.002", "--param", "gap=1"]
    assert main(["backtest", "run", buyer, *params, "--data", str(RECORDING),
                 "--out", str(tmp_path / "bt")]) == 0  # fmt: skip
    paper_argv = ["paper", "run", buyer, *params, "--replay", str(RECORDING), "--speed", "1000"]
    assert main([*paper_argv, "--no-view", "--out", str(tmp_path / "paper")]) == 0
    backtest = json.loads((tmp_path / "bt" / "report.json").read_text())
    paper = json.loads((tmp_path / "paper" / "report.json").read_text())
    assert backtest["bot"] == paper["bot"] == "Buyer"
    assert backtest["strategy"] == paper["strategy"] == buyer
    # The market buy (in parts, across levels) and the sell 1 USDT above it fill on both. The
    # backtest's first book comes at its cadence (a change of the best prices, at most every
    # 100 ms), the replay's with the recording's first depth message: the buy may meet the book
    # a message apart, so the parts and the P&L may differ by a few cents, not more.
    for report in (backtest, paper):
        assert report["orders"]["placed"] == 2 and report["fills"] >= 3
        # bought and sold 0.002 BTC; the buy's 0.1% fee was paid in BTC
        assert report["balances"]["end"]["BTC"] == "0.109998"
    assert abs(float(backtest["total_pnl"]) - float(paper["total_pnl"])) < 0.01


def test_paper_run_on_the_synthetic_market(
    tmp_path: Path, buyer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["paper", "run", buyer, "--param", "size=0.001", "--seed", "7", "--duration", "0.3"]
    assert main([*argv, "--no-view", "--out", str(tmp_path)]) == 0
    assert "seed 7" in capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["bot"] == "Buyer" and report["market"]["seed"] == 7
    assert report["strategy_params"] == {"size": "0.001"}
    assert report["orders"]["placed"] == 2 and report["fills"] >= 1


def test_a_bad_strategy_or_parameter_is_refused_before_anything_runs(
    tmp_path: Path, buyer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["paper", "run", "--replay", str(RECORDING), "--no-view", "--out", str(tmp_path)]
    assert main([*base[:2], buyer, *base[2:], "--param", "size=lots"]) == 1
    assert "Buyer: size='lots' is not a valid Decimal" in capsys.readouterr().err
    assert main([*base[:2], buyer, *base[2:]]) == 1
    assert "missing 1 required positional argument: 'size'" in capsys.readouterr().err
    assert main([*base[:2], f"{tmp_path}/nothing.py:X", *base[2:]]) == 1
    assert "no strategy file" in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()

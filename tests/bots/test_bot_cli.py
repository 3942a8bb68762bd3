"""The features' command-line options (``tradewire backtest|paper|live grid|dca``): shown in
``--help`` with their defaults, checked with the parameter named, and the report's deal
history and grid figures, on the BTCUSDT recording in tests/data/market."""

from __future__ import annotations

import argparse
import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.bots.params import DcaParams, GridParams
from tradewire.cli.main import main
from tradewire.cli.session import BotHelpFormatter, add_bot_arguments, resolve_params
from tradewire.errors import BotConfigError
from tradewire.testing.price_paths import RULES

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))


def _parse(bot: str, *argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(formatter_class=BotHelpFormatter)
    add_bot_arguments(p, bot)
    args = p.parse_args(list(argv))
    args.bot = bot
    return args


def test_the_grid_options_set_the_features() -> None:
    args = _parse(
        "grid", "--lower", "100", "--upper", "110", "--grids", "5", "--quantity", "0.1",
        "--trailing-up", "--trailing-up-limit", "130", "--trailing-down", "--trigger-price",
        "104", "--start-order", "limit", "--force",
    )  # fmt: skip
    params = resolve_params(args, RULES, Decimal("105"))
    assert isinstance(params, GridParams)
    assert (params.trailing_up, params.trailing_up_limit, params.trailing_down) == (
        True, Decimal("130"), True,
    )  # fmt: skip
    assert (params.trigger_price, params.start_order, params.infinity) == (
        Decimal("104"), "limit", False,
    )  # fmt: skip
    infinity = resolve_params(
        _parse("grid", "--lower", "100", "--upper", "110", "--infinity", "--investment", "500"),
        RULES,
        Decimal("105"),
    )
    assert isinstance(infinity, GridParams) and infinity.grid_mode == "geometric"
    with pytest.raises(BotConfigError, match="trailing_up_limit needs trailing_up"):
        resolve_params(
            _parse("grid", "--quantity", "0.1", "--trailing-up-limit", "200"),
            RULES,
            Decimal("105"),
        )


def test_the_dca_options_set_the_features() -> None:
    args = _parse(
        "dca", "--trailing-deviation", "0.5", "--stop-loss", "10", "--trailing-stop-loss",
        "--cooldown", "60", "--max-active-deals", "2",
    )  # fmt: skip
    params = resolve_params(args, RULES, Decimal("105"))
    assert isinstance(params, DcaParams)
    assert params.trailing_deviation == Decimal("0.5") and params.trailing_stop_loss
    assert (params.cooldown, params.max_active_deals) == (60, 2)
    with pytest.raises(BotConfigError, match="max_active_deals must be 1 to 50"):
        resolve_params(_parse("dca", "--max-active-deals", "0"), RULES, Decimal("105"))


@pytest.mark.parametrize(
    ("bot", "expected"),
    [
        (
            "grid",
            ("--trailing-up", "--trailing-up-limit", "--trailing-down", "--trailing-down-limit",
             "--infinity", "--reverse", "--trigger-price", "--start-order", "(default: market)"),
        ),
        (
            "dca",
            ("--trailing-deviation", "--trailing-stop-loss", "--cooldown", "(default: 0)",
             "--max-active-deals", "(default: 1)"),
        ),
    ],
)  # fmt: skip
def test_help_shows_each_option_with_its_default(
    bot: str, expected: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["backtest", bot, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for word in expected:
        assert word in text


def test_the_report_has_the_deal_history(tmp_path: Path) -> None:
    argv = [
        "backtest", "dca", "--data", str(RECORDING), "--take-profit", "0.02",
        "--trailing-deviation", "0.01", "--max-safety-orders", "1", "--deviation", "0.5",
        "--cooldown", "10", "--maker-fee", "0", "--taker-fee", "0", "--out", str(tmp_path),
    ]  # fmt: skip
    assert main(argv) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    deals = report["deals"]
    assert len(deals) >= 2, report  # the six minutes rise 20 USDT twice: two deals close
    for d in deals:
        assert set(d) >= {
            "number", "started_ms", "ended_ms", "average_price", "safety_orders_filled",
            "pnl", "close_reason",
        }  # fmt: skip
        assert d["close_reason"] == "trailing take profit"
        assert d["started_ms"] < d["ended_ms"]
    for before, after in itertools.pairwise(deals):
        assert after["started_ms"] - before["ended_ms"] >= 10_000
    assert report["open_deals"] in (0, 1)


def test_the_report_has_the_grid_figures(tmp_path: Path) -> None:
    argv = [
        "backtest", "grid", "--data", str(RECORDING), "--lower", "61700", "--upper", "61900",
        "--grids", "4", "--quantity", "0.002", "--trailing-up", "--trailing-down", "--force",
        "--out", str(tmp_path),
    ]  # fmt: skip
    assert main(argv) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    grid = report["grid"]
    assert set(grid) == {"round_trips", "trailing_moves", "range"}
    low, high = (Decimal(p) for p in grid["range"])
    assert high - low == Decimal("200") and grid["trailing_moves"] >= 0
    assert "grid_profit" in report and "trend_pnl" in report

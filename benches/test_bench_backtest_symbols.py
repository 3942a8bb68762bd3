"""Backtests of two symbols: one engine per symbol merged in market time, beside the Runner.

Half an hour of a synthetic BTCUSDT and ETHUSDT (``synth_tapes(symbol, 0.5, 9)``: books every
100 ms and the trades between; 0.29M and 1.81M tape rows), the same tapes for every
implementation:

* ``two-symbols/<strategy>``, ``impl=engines``: ``backtest(strategy, {symbol: tapes})``, one
  Rust engine per symbol stepped in turn (``SimEngine.advance_until``);
* ``impl=runner``: the Runner over a TapeMarket and the paper broker, event by event (the
  path of paper trading on recorded data, and of several-symbol backtests before);
* ``one-symbol/<symbol>``, ``impl=engines``: the no-op strategy on one of the two symbols
  alone (what the merge of two costs beside running each alone).

Strategies: ``noop`` (trades both symbols, no callbacks) and ``rebalancer``
(``examples/rebalancer.py``: a named timer, MARKET orders on both symbols). ``extra_info``
has the tape rows per round, the rows per second, the fills and, for ``engines``, whether its
fills are the runner's (the rebalancer's may differ now and then, for the reasons
``tests/backtest/test_several_symbols_parity.py`` gives). When only smoke-testing, three
minutes of market instead of thirty.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.backtest import backtest, default_rules
from tradewire.backtest.synth import synth_tapes
from tradewire.clock import MarketClock
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire._core import Tape
    from tradewire.model import Fill

SYMBOLS = ("BTCUSDT", "ETHUSDT")
BALANCES = {"USDT": "10000"}
HOURS = 0.5
SMOKE_HOURS = 0.05
EXAMPLES = Path(__file__).parents[1] / "examples"
_MARKETS: dict[float, dict[str, list[Tape]]] = {}


class NoOp(Strategy):
    """Trades both symbols, does nothing."""

    symbols = SYMBOLS


def _rebalancer() -> Strategy:
    spec = importlib.util.spec_from_file_location("example_rebalancer", EXAMPLES / "rebalancer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    strategy: Strategy = module.Rebalancer()
    return strategy


STRATEGIES: dict[str, Callable[[], Strategy]] = {"noop": NoOp, "rebalancer": _rebalancer}


def _market(benchmark: Any) -> dict[str, list[Tape]]:
    hours = SMOKE_HOURS if benchmark.disabled else HOURS
    if hours not in _MARKETS:
        _MARKETS[hours] = {s: list(synth_tapes(s, hours, 9)) for s in SYMBOLS}
    return _MARKETS[hours]


def _rows(market: dict[str, list[Tape]], symbols: tuple[str, ...] = SYMBOLS) -> int:
    return sum(len(t) for s in symbols for t in market[s])


def _runner(strategy: Strategy, market: dict[str, list[Tape]]) -> list[Fill]:
    rules = [default_rules(s) for s in SYMBOLS]
    clock = MarketClock()
    broker = PaperBroker(rules[0], BALANCES, clock=clock, more_rules=rules[1:])
    runner = Runner(
        strategy,
        broker,
        TapeMarket(market),
        rules[0],
        more_rules=rules[1:],
        mode="paper",
        sample_interval_ms=1000,
        clock=clock,
    )
    loop = asyncio.new_event_loop()
    try:
        run = loop.run_until_complete(runner.run())
    finally:
        loop.close()
    assert run.error is None
    return list(run.log.fills)


def _engines(strategy: Strategy, market: dict[str, list[Tape]]) -> list[Fill]:
    result = backtest(strategy, market, start_balances=BALANCES)
    assert result.error is None and result.events == _rows(market)
    return result.fills


def _key(f: Fill) -> tuple[object, ...]:
    return (f.time_ms, f.symbol, f.side, f.price, f.quantity, f.commission, f.is_maker)


@pytest.mark.parametrize("impl", ["engines", "runner"])
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_two_symbols(benchmark: Any, strategy: str, impl: str) -> None:
    market = _market(benchmark)
    run = _engines if impl == "engines" else _runner
    results: list[list[Fill]] = []

    def round_() -> None:
        results.append(run(STRATEGIES[strategy](), market))

    rows = _rows(market)
    benchmark.group = f"two-symbols/{strategy}"
    benchmark.extra_info.update(impl=impl, rows_per_round=rows)
    benchmark.pedantic(round_, rounds=3, iterations=1)
    fills = results[-1]
    benchmark.extra_info["fills"] = len(fills)
    if strategy == "rebalancer":
        assert {f.symbol for f in fills} == set(SYMBOLS)  # it bought both at the start
    if impl == "engines":
        reference = _runner(STRATEGIES[strategy](), market)
        benchmark.extra_info["same_fills_as_runner"] = [_key(f) for f in fills] == [
            _key(f) for f in reference
        ]
    if benchmark.stats is not None:
        benchmark.extra_info["rows_per_s"] = round(rows / benchmark.stats.stats.mean)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_one_symbol(benchmark: Any, symbol: str) -> None:
    market = _market(benchmark)
    results: list[int] = []

    class Alone(Strategy):
        symbols = (symbol,)

    def round_() -> None:
        results.append(backtest(Alone(), market[symbol], start_balances=BALANCES).events)

    rows = _rows(market, (symbol,))
    benchmark.group = f"one-symbol/{symbol}"
    benchmark.extra_info.update(impl="engines", rows_per_round=rows)
    benchmark.pedantic(round_, rounds=3, iterations=1)
    assert results[-1] == rows
    if benchmark.stats is not None:
        benchmark.extra_info["rows_per_s"] = round(rows / benchmark.stats.stats.mean)

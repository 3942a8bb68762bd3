"""Backtests: a strategy over recorded or historical market data, in market time, with honest
fills from the Rust simulation engine.

>>> from tradewire.backtest import backtest                                  # doctest: +SKIP
>>> result = backtest(MyStrategy(), data=["BTCUSDT-trades-2024-08-08.zip"])  # doctest: +SKIP
>>> result.report["total_pnl"], len(result.fills)                           # doctest: +SKIP
"""

from __future__ import annotations

from tradewire.backtest.api import backtest
from tradewire.backtest.run import BacktestResult, FillModel, run_tapes
from tradewire.backtest.symbols import default_rules

__all__ = ["BacktestResult", "FillModel", "backtest", "default_rules", "run_tapes"]

"""Backtests: a strategy over recorded or historical market data, in market time, with honest
fills from the Rust simulation engine. Three trades (a sell at 100, a buy at 101, then 0.05 BTC
sold at 98; prices and quantities in 10^-8 units) and a strategy that bids 99 for 0.2 BTC:

>>> from decimal import Decimal
>>> from tradewire._core import Tape
>>> from tradewire.backtest import backtest
>>> from tradewire.trading.strategy import Strategy
>>> class Buyer(Strategy):
...     async def on_start(self, ctx):
...         await ctx.buy(Decimal("0.2"), Decimal("99"))
>>> prints = Tape.from_columns(
...     [1, 0, 1], [1_000_000, 2_000_000, 3_000_000], [100 * 10**8, 101 * 10**8, 98 * 10**8],
...     [10**8, 10**8, 5 * 10**6])
>>> result = backtest(Buyer(), [prints], start_balances={"USDT": "1000"})
>>> [(str(f.price), str(f.quantity), f.is_maker) for f in result.fills]
[('99.00', '0.05000', True)]

Files work the same way: ``backtest(Buyer(), ["BTCUSDT-trades-2024-08-08.zip"])``.
"""

from __future__ import annotations

from tradewire.backtest.api import backtest
from tradewire.backtest.run import BacktestResult, FillModel, run_tapes
from tradewire.backtest.symbols import default_rules

__all__ = ["BacktestResult", "FillModel", "backtest", "default_rules", "run_tapes"]

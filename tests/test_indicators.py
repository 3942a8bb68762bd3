"""The indicators are TA-Lib's, unchanged: the wrappers give the library's own output on a known
series, and turn bad input and a missing library into ``ConfigError``."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import talib

from tradewire import indicators
from tradewire.errors import ConfigError


@pytest.fixture(scope="module")
def series() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random walk of 500 closes, with highs and lows around them."""
    rng = np.random.default_rng(13)
    close = 60_000 + np.cumsum(rng.normal(0, 25, 500))
    spread = np.abs(rng.normal(0, 10, 500))
    return close + spread, close - spread, close


def test_each_indicator_is_the_librarys_output(
    series: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    high, low, close = series
    same = np.testing.assert_array_equal
    same(indicators.sma(close, 20), talib.SMA(close, timeperiod=20))
    same(indicators.ema(close, 20), talib.EMA(close, timeperiod=20))
    same(indicators.rsi(close, 14), talib.RSI(close, timeperiod=14))
    same(indicators.atr(high, low, close, 14), talib.ATR(high, low, close, timeperiod=14))
    for ours, theirs in zip(
        indicators.macd(close, 12, 26, 9),
        talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9),
        strict=True,
    ):
        same(ours, theirs)
    for ours, theirs in zip(
        indicators.bollinger(close, 20, 2.0),
        talib.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0),
        strict=True,
    ):
        same(ours, theirs)


def test_values_worked_out_by_hand() -> None:
    closes = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # a list works as well as an array
    assert indicators.sma(closes, 3)[2:].tolist() == [2.0, 3.0, 4.0, 5.0]
    upper, middle, lower = indicators.bollinger([2.0, 4.0, 2.0, 4.0], 2, 1.0)
    assert middle[1:].tolist() == [3.0, 3.0, 3.0]
    assert upper[1:].tolist() == [4.0, 4.0, 4.0]  # population deviation of (2, 4) is 1
    assert lower[1:].tolist() == [2.0, 2.0, 2.0]
    assert np.isnan(indicators.rsi(closes, 14)).all()  # the window is never full


def test_bad_input_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SMA"):
        indicators.sma([1.0, 2.0, 3.0], 0)
    with pytest.raises(ConfigError, match="numbers"):
        indicators.ema(["a", "b"], 2)
    with pytest.raises(ConfigError, match="one length"):
        indicators.atr([1.0, 2.0], [1.0], [1.0, 2.0], 1)


def test_without_ta_lib_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(indicators, "_talib", None)
    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(ConfigError, match=r"tradewire\[indicators\]"):
        indicators.sma([1.0, 2.0], 2)

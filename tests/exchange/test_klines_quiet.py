"""The local exchange's klines on a quiet market: flat candles up to the one forming now, and
candles chosen by their open time, as Binance answers (GET /api/v3/klines)."""

from __future__ import annotations

from decimal import Decimal

from tradewire.exchange import marketdata
from tradewire.exchange.orders import TapeTrade

T0 = 1_700_000_040_000  # a minute boundary


def trade(n: int, ms: int, price: str) -> TapeTrade:
    return TapeTrade(n, n, Decimal(price), Decimal("0.1"), ms, 1, 2, False)


def test_a_quiet_market_has_flat_candles_up_to_the_forming_one() -> None:
    trades = [trade(1, T0 + 1_500, "100"), trade(2, T0 + 3_200, "101")]
    built = marketdata.fill_to(marketdata.candles(trades, "1s"), "1s", T0 + 6_400)
    assert [c.open_time - T0 for c in built] == [1000, 2000, 3000, 4000, 5000, 6000]
    flat = built[1]  # the second without a trade, between the two trades
    assert (flat.open, flat.high, flat.low, flat.close, flat.volume, flat.count) == (
        Decimal(100),
        Decimal(100),
        Decimal(100),
        Decimal(100),
        Decimal(0),
        0,
    )
    assert all(c.close == Decimal(101) and c.count == 0 for c in built[3:])
    # a long quiet gap: only the last `keep` flat candles are made, ending at the forming one
    long = marketdata.fill_to(marketdata.candles(trades, "1s"), "1s", T0 + 3_600_000, keep=5)
    tail = [c.open_time - T0 for c in long[-5:]]
    assert tail == [3_596_000, 3_597_000, 3_598_000, 3_599_000, 3_600_000]
    assert len(long) < 20


def test_no_candle_before_the_first_trade_and_none_after_now() -> None:
    built = marketdata.fill_to(marketdata.candles([trade(1, T0 + 500, "5")], "1m"), "1m", T0 + 1)
    assert [c.open_time for c in built] == [T0]
    assert marketdata.fill_to([], "1m", T0) == []

"""Replay of a recording of Binance streams (and of a Binance trades file) through the local
exchange: in market time sped up, with the recording's book, recorded trades that fill an
account's resting order only when they reach it, and a clear end."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradewire._core import SynthMarket
from tradewire.backtest.data import read_tape
from tradewire.errors import DataError
from tradewire.exchange import LocalExchange
from tradewire.exchange.engine import ExchangeEngine, NewOrder
from tradewire.exchange.symbols import spec_for
from tradewire.exchange.tape_driver import TapeDriver

RECORDING = (
    Path(__file__).resolve().parent.parent
    / "data/market/binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
UNIT = Decimal(100_000_000)
BID, ASK, BOOK_END, CLEAR = 2, 3, 4, 5
TRADE_BUY, TRADE_SELL = 0, 1


def columns() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The recording as read by the backtest reader: kind, time_us, price, qty."""
    tapes = list(read_tape(RECORDING, "BTCUSDT"))
    return (
        np.concatenate([t.kind for t in tapes]),
        np.concatenate([t.time_us for t in tapes]),
        np.concatenate([t.price for t in tapes]),
        np.concatenate([t.qty for t in tapes]),
    )


class ReferenceBook:
    """A plain book of the level rows (trades ignored)."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def apply(self, kinds: list[int], prices: list[int], qtys: list[int]) -> None:
        bids, asks = self.bids, self.asks
        for kind, price, qty in zip(kinds, prices, qtys, strict=True):
            if kind == CLEAR:
                bids.clear()
                asks.clear()
            elif kind in (BID, ASK):
                side = bids if kind == BID else asks
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)

    def top(self, n: int) -> object:
        """The top ``n`` levels of each side, as the exchange's depth gives them."""
        top_bids = sorted(self.bids.items(), reverse=True)[:n]
        top_asks = sorted(self.asks.items())[:n]
        return (
            [(Decimal(p) / UNIT, Decimal(q) / UNIT) for p, q in top_bids],
            [(Decimal(p) / UNIT, Decimal(q) / UNIT) for p, q in top_asks],
        )


@pytest.mark.asyncio
async def test_a_fast_replay_ends_says_so_and_the_exchange_serves_on() -> None:
    _, times, _, _ = columns()
    span_s = (int(times[-1]) - int(times[0])) / 1e6
    async with LocalExchange(
        symbols=("BTCUSDT",), replay=RECORDING, replay_speed=2000, market_interval_ms=20
    ) as ex:
        assert not ex.market_ended
        await ex.wait_for(lambda: ex.market_ended, timeout=60)
        message = ex.market_end_message
        assert message is not None
        assert RECORDING.name in message
        assert f"ended after {span_s:.1f} s of market time" in message
        steps = ex.market_steps
        with pytest.raises(TimeoutError):
            await ex.wait_for_steps(1, timeout=0.5)  # the market stopped moving
        assert ex.market_steps == steps
        # still serving: the book as it was, and orders
        book = ex.core.engine.depth("BTCUSDT", 5)
        assert book.bids and book.asks and book.bids[0][0] < book.asks[0][0]
        assert len(ex.core.engine.recent_trades("BTCUSDT")) > 5000
        ex.core.engine.open_account(5, {"USDT": Decimal(100_000)})
        placed = ex.core.engine.place(
            5,
            NewOrder(
                "BTCUSDT",
                "BUY",
                "LIMIT",
                quantity=Decimal("0.01"),
                price=book.bids[0][0] - 100,
                time_in_force="GTC",
            ),
        )
        assert placed.order.status == "NEW"


@pytest.mark.asyncio
async def test_the_replayed_book_is_the_recordings_book_at_the_same_market_time() -> None:
    kinds, times, prices, qtys = columns()
    start = int(times[0])
    compared = 0
    reference = ReferenceBook()
    done = 0
    async with LocalExchange(
        symbols=("BTCUSDT",), replay=RECORDING, replay_speed=10, market_interval_ms=100
    ) as ex:
        ex.pause()
        for second in range(1, 340):
            ex.advance(1)  # 100 ms at 10x: one second of market time a step
            played = int(np.searchsorted(times, start + second * 1_000_000, side="right"))
            reference.apply(
                kinds[done:played].tolist(),
                prices[done:played].tolist(),
                qtys[done:played].tolist(),
            )
            done = played
            if int(kinds[played - 1]) not in (BID, ASK, BOOK_END):
                continue  # a trade since the last depth update took from the quotes
            ours = ex.core.engine.depth("BTCUSDT", 10)
            assert (list(ours.bids), list(ours.asks)) == reference.top(10), f"at {second} s"
            compared += 1
    assert compared > 100


@pytest.mark.asyncio
async def test_a_resting_order_fills_only_when_a_recorded_trade_reaches_it() -> None:
    kinds, times, prices, qtys = columns()
    start = int(times[0])
    placed_at = start + 30_000_000  # orders go in after 30 s of market time
    later = times > placed_at
    sells = later & (kinds == TRADE_SELL)
    buys = later & (kinds == TRADE_BUY)
    lowest_sell = int(prices[sells].min())
    highest_buy = int(prices[buys].max())
    account = 9
    async with LocalExchange(
        symbols=("BTCUSDT",), replay=RECORDING, replay_speed=10, market_interval_ms=100
    ) as ex:
        ex.pause()
        ex.advance(30)
        engine = ex.core.engine
        engine.open_account(account, {"USDT": Decimal(2_000_000), "BTC": Decimal(100)})
        best_bid = engine.depth("BTCUSDT", 1).bids[0][0]
        tick = Decimal("0.01")

        def buy(price: Decimal, qty: str) -> int:
            req = NewOrder(
                "BTCUSDT", "BUY", "LIMIT", quantity=Decimal(qty), price=price, time_in_force="GTC"
            )
            return engine.place(account, req).order.order_id

        def sell(price: Decimal, qty: str) -> int:
            req = NewOrder(
                "BTCUSDT", "SELL", "LIMIT", quantity=Decimal(qty), price=price, time_in_force="GTC"
            )
            return engine.place(account, req).order.order_id

        at_touch = buy(best_bid, "0.5")  # the market later trades down through it
        at_low = buy(Decimal(lowest_sell) / UNIT, "20")  # the lowest sell print reaches it
        below = buy(Decimal(lowest_sell) / UNIT - tick, "1")  # no print reaches it
        above = sell(Decimal(highest_buy) / UNIT + tick, "1")
        while not ex.market_ended:
            ex.advance(1)
        orders = {o.order_id: o for o in engine.all_orders(account, "BTCUSDT")}
        fills = engine.my_trades(account, "BTCUSDT")
    # the touch was traded through: filled there, as a maker
    assert orders[at_touch].executed_qty > 0
    assert all(f.price == orders[f.order_id].price and f.is_maker for f in fills)
    # never more than the recorded market sold at or below the order's price
    for order_id in (at_touch, at_low):
        limit = orders[order_id].price * UNIT
        traded = Decimal(int(qtys[sells & (prices <= int(limit))].sum())) / UNIT
        assert orders[order_id].executed_qty <= traded
    assert orders[at_low].executed_qty < Decimal(20)
    # nothing reached these
    assert orders[below].executed_qty == 0
    assert orders[above].executed_qty == 0


@pytest.mark.asyncio
async def test_a_binance_trades_file_replays_as_takes(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-trades-2024-01-01.csv"
    start_ms = 1_704_067_200_000
    rows = [
        (1, "42000.00", "0.30", start_ms, "true"),  # a sell print at 42000
        (2, "41990.00", "0.50", start_ms + 1000, "true"),  # a sell print through 41995
        (3, "42010.00", "0.20", start_ms + 2000, "false"),  # a buy print
    ]
    path.write_text(
        "".join(f"{i},{p},{q},{Decimal(p) * Decimal(q)},{t},{m},true\n" for i, p, q, t, m in rows)
    )
    async with LocalExchange(
        symbols=("BTCUSDT",), replay=path, replay_speed=1000, market_interval_ms=100
    ) as ex:
        ex.pause()
        engine = ex.core.engine
        engine.open_account(3, {"USDT": Decimal(100_000), "BTC": Decimal(1)})
        bid = engine.place(
            3,
            NewOrder(
                "BTCUSDT",
                "BUY",
                "LIMIT",
                quantity=Decimal(2),
                price=Decimal(41995),
                time_in_force="GTC",
            ),
        ).order.order_id
        ask = engine.place(
            3,
            NewOrder(
                "BTCUSDT",
                "SELL",
                "LIMIT",
                quantity=Decimal(1),
                price=Decimal(42020),
                time_in_force="GTC",
            ),
        ).order.order_id
        while not ex.market_ended:
            ex.advance(1)
        assert ex.market_end_message is not None
        assert "ended after 2.0 s of market time" in ex.market_end_message
        assert engine.order(3, "BTCUSDT", order_id=bid).executed_qty == Decimal("0.5")
        assert engine.order(3, "BTCUSDT", order_id=ask).executed_qty == 0


@pytest.mark.asyncio
async def test_an_unlisted_symbol_is_refused() -> None:
    with pytest.raises(ValueError, match="'BTCUSDT' is not listed"):
        LocalExchange(symbols=("ETHUSDT",), replay=RECORDING)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"hello, this is not market data\n", "not market data"),
        (b'1723161253937085768 {"stream":"btcusdt@trade","data":{"e":"trade"\n', "line 1"),
    ],
)
async def test_a_bad_file_gives_a_data_error(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        LocalExchange(symbols=("BTCUSDT",), replay=path)


@pytest.mark.asyncio
async def test_a_missing_file_gives_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot open"):
        LocalExchange(symbols=("BTCUSDT",), replay=tmp_path / "missing.jsonl.gz")


@pytest.mark.asyncio
async def test_a_bad_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed must be positive"):
        LocalExchange(symbols=("BTCUSDT",), replay=RECORDING, replay_speed=0)


def test_the_coalesced_driver_ends_where_row_by_row_ends() -> None:
    """A tape applied in one call (coalesced) leaves the book and the trades that one row at
    a time (nothing to coalesce) leaves."""
    spec = spec_for("BTCUSDT")
    market = SynthMarket(seed=5, tick=1_000_000, step=1_000, start_price=6_500_000_000_000)
    tape = market.generate(market.now_us + 120_000_000)  # two minutes
    kinds, prices, qtys = tape.kind.tolist(), tape.price.tolist(), tape.qty.tolist()
    results = []
    for coalesced in (True, False):
        engine = ExchangeEngine([spec], now=lambda: 1_700_000_000_000)
        driver = TapeDriver(engine, "BTCUSDT")
        if coalesced:
            driver.apply_rows(kinds, prices, qtys)
        else:
            for row in zip(kinds, prices, qtys, strict=True):
                driver.apply_rows([row[0]], [row[1]], [row[2]])
        trades = engine.recent_trades("BTCUSDT")
        depth = engine.depth("BTCUSDT", 50)
        results.append(
            (depth.bids, depth.asks, sum(t.qty for t in trades), driver.trades, driver.rows)
        )
        if coalesced:
            changes = driver.level_changes
        else:
            assert driver.level_changes > changes  # coalescing did save work
    assert results[0] == results[1]
    assert results[0][3] > 100


@pytest.mark.asyncio
async def test_a_bad_line_further_in_ends_the_replay_and_says_why(tmp_path: Path) -> None:
    with gzip.open(RECORDING, "rb") as f:
        lines = f.read().splitlines(keepends=True)[:8000]  # several megabytes: past the first read
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(lines) + b"1723161600000000000 {not json\n"))
    async with LocalExchange(symbols=("BTCUSDT",), replay=path, replay_speed=1000) as ex:
        ex.pause()
        while not ex.market_ended:
            ex.advance(1)
        message = ex.market_end_message
        assert message is not None
        assert message.startswith(f"replay of {path} ended after")
        assert "line 8001" in message
        assert ex.core.engine.depth("BTCUSDT", 1).bids  # the book as it was

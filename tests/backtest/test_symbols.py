"""Built-in rules from a real exchangeInfo, a user's exchangeInfo, and the synthetic market of
symbols other than BTCUSDT: on their tick and step, scaled by their price in USDT, and refused
when there is no rule or no price to start from."""

from __future__ import annotations

import gzip
import json
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradewire.backtest import default_rules
from tradewire.backtest.data import read_tape
from tradewire.backtest.symbols import KNOWN_SYMBOLS, load_exchange_info
from tradewire.backtest.synth import TYPICAL_PRICES, synth_spec, synth_tapes
from tradewire.cli.main import main
from tradewire.errors import BacktestError, DecimalError
from tradewire.rules import rules_from_exchange_info
from tradewire.testing.market_stats import market_stats

DATA = Path(__file__).resolve().parent.parent / "data"
EXCHANGE_INFO = DATA / "binance" / "exchangeInfo-2021-10-subset.json"
TRADES = (0, 1)


def exchange_info() -> dict[str, Any]:
    info: dict[str, Any] = json.loads(EXCHANGE_INFO.read_text())
    return info


def filters_of(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in entry["filters"]}


def test_every_built_in_symbol_has_the_rules_its_exchange_info_lists() -> None:
    entries = exchange_info()["symbols"]
    assert sorted(KNOWN_SYMBOLS) == sorted(e["symbol"] for e in entries)
    assert len(KNOWN_SYMBOLS) == 15
    for entry in entries:
        f = filters_of(entry)
        rules = default_rules(entry["symbol"].lower())
        price, lot, market = f["PRICE_FILTER"], f["LOT_SIZE"], f["MARKET_LOT_SIZE"]
        notional, percent = f["MIN_NOTIONAL"], f["PERCENT_PRICE"]
        assert (rules.symbol, rules.base_asset, rules.quote_asset, rules.status) == (
            entry["symbol"],
            entry["baseAsset"],
            entry["quoteAsset"],
            entry["status"],
        )
        assert (rules.tick_size, rules.min_price, rules.max_price) == (
            Decimal(price["tickSize"]),
            Decimal(price["minPrice"]),
            Decimal(price["maxPrice"]),
        )
        assert (rules.step_size, rules.min_qty, rules.max_qty) == (
            Decimal(lot["stepSize"]),
            Decimal(lot["minQty"]),
            Decimal(lot["maxQty"]),
        )
        assert (rules.market_step_size, rules.market_min_qty, rules.market_max_qty) == (
            Decimal(market["stepSize"]),
            Decimal(market["minQty"]),
            Decimal(market["maxQty"]),
        )
        assert (rules.min_notional, rules.min_notional_to_market, rules.notional_filter) == (
            Decimal(notional["minNotional"]),
            notional["applyToMarket"],
            "MIN_NOTIONAL",
        )
        pair = (Decimal(percent["multiplierDown"]), Decimal(percent["multiplierUp"]))
        assert rules.bid_multipliers == rules.ask_multipliers == pair
        assert rules.order_types == frozenset(entry["orderTypes"])


def test_the_built_in_rules_equal_the_file_read_by_the_one_parser() -> None:
    from_file = load_exchange_info(EXCHANGE_INFO)
    assert from_file == {s: default_rules(s) for s in KNOWN_SYMBOLS}
    assert default_rules("ETHBTC", exchange_info=EXCHANGE_INFO) == default_rules("ETHBTC")


def test_a_user_exchange_info_with_todays_notional_filter(tmp_path: Path) -> None:
    info = exchange_info()
    [entry] = [e for e in info["symbols"] if e["symbol"] == "ETHBTC"]
    entry["filters"] = [
        {
            "filterType": "NOTIONAL",
            "minNotional": "0.00010000",
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        }
        if f["filterType"] == "MIN_NOTIONAL"
        else f
        for f in entry["filters"]
    ]
    path = tmp_path / "exchangeInfo.json"
    path.write_text(json.dumps({"symbols": [entry]}))
    rules = default_rules("ethbtc", exchange_info=path)
    assert (rules.notional_filter, rules.min_notional, rules.max_notional) == (
        "NOTIONAL",
        Decimal("0.0001"),
        Decimal(9_000_000),
    )
    assert rules.tick_size == Decimal("0.000001")
    assert default_rules("ETHBTC", exchange_info={"symbols": [entry]}) == rules
    with pytest.raises(BacktestError, match="'BTCUSDT' is not in the exchangeInfo given"):
        default_rules("BTCUSDT", exchange_info=path)
    spec = synth_spec("ETHBTC", "0.05", rules=rules)
    assert (spec.tick, spec.step, spec.start_price) == (100, 10_000, 5_000_000)


def test_a_bad_exchange_info_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(BacktestError, match="cannot read the exchangeInfo file"):
        load_exchange_info(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BacktestError, match="is not JSON"):
        load_exchange_info(bad)
    bad.write_text("[]")
    with pytest.raises(BacktestError, match="not an exchangeInfo"):
        load_exchange_info(bad)
    bad.write_text('{"symbols": []}')
    with pytest.raises(BacktestError, match="no 'symbols' list"):
        load_exchange_info(bad)
    entry = {
        "symbol": "ETHBTC",
        "filters": [{"filterType": "PRICE_FILTER", "tickSize": "abc", "minPrice": "0"}],
    }
    with pytest.raises(BacktestError, match="ETHBTC: malformed filters"):
        load_exchange_info({"symbols": [entry]})
    entry["filters"] = [{"filterType": "LOT_SIZE", "stepSize": 0.1, "minQty": "0", "maxQty": "9"}]
    with pytest.raises(BacktestError, match="stepSize must be a decimal string"):
        load_exchange_info({"symbols": [entry]})
    # The Binance client's default error for the same parser.
    with pytest.raises(DecimalError, match="missing field 'maxQty'"):
        rules_from_exchange_info(
            {"symbol": "X", "filters": [{"filterType": "LOT_SIZE", "stepSize": "1", "minQty": "1"}]}
        )


def test_unknown_symbols_and_symbols_without_a_price_are_refused() -> None:
    with pytest.raises(BacktestError, match="no built-in trading rules for 'FOOBAR'"):
        default_rules("FOOBAR")
    with pytest.raises(BacktestError, match="no built-in trading rules for 'FOOBAR'"):
        synth_tapes("FOOBAR", 1, seed=1, start_price="1")
    for symbol in ("ETHBTC", "SHIBUSDT", "BNBUSDT"):
        with pytest.raises(BacktestError, match=f"no typical price for {symbol}: give its start"):
            synth_tapes(symbol, 1, seed=1)
    with pytest.raises(BacktestError, match="quote asset 'EUR'"):
        synth_tapes("RUNEEUR", 1, seed=1)
    with pytest.raises(BacktestError, match=r"multiple of the tick 0\.000001"):
        synth_tapes("ETHBTC", 1, seed=1, start_price="0.0500005")
    with pytest.raises(BacktestError, match="rules given are for BTCUSDT"):
        synth_spec("ETHBTC", "0.05", rules=default_rules("BTCUSDT"))


def snapshot_mid(line: str) -> tuple[Decimal, Decimal]:
    """Best bid and ask of a REST depth body."""
    body = json.loads(line)
    return Decimal(body["bids"][0][0]), Decimal(body["asks"][0][0])


def measured_prices() -> dict[str, tuple[Decimal, Decimal]]:
    """Best bid and ask of each depth snapshot the test data carries, by symbol."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for name in ("capture-2021-10.http.txt", "capture-2021-08.http.txt"):
        for line in (DATA / "binance" / name).read_text().splitlines():
            if " -> " in line:
                url, _, rest = line.partition(" -> ")
                symbol = url.split("symbol=")[1].split("&")[0]
                out[symbol] = snapshot_mid(rest.partition(": ")[2])
    recording = DATA / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
    with gzip.open(recording, "rt") as f:
        for line in f:
            body = line.partition(" ")[2]
            if '"lastUpdateId"' in body and '"bids"' in body:
                out["BTCUSDT"] = snapshot_mid(body)
                break
    return out


def test_typical_prices_are_the_measured_mids_on_the_tick() -> None:
    measured = measured_prices()
    assert len(measured) == 9
    for symbol, (bid, ask) in measured.items():
        tick = default_rules(symbol).tick_size
        mid = ((bid + ask) / 2).quantize(tick, rounding=ROUND_FLOOR)
        assert TYPICAL_PRICES[symbol] == mid, symbol
    # ETHUSDT's recording is not bundled; its price is checked for sanity only.
    assert TYPICAL_PRICES.keys() == {*measured, "ETHUSDT"}
    assert 1000 < TYPICAL_PRICES["ETHUSDT"] < 10_000


def test_the_size_scale_follows_the_price_in_usdt() -> None:
    btc = TYPICAL_PRICES["BTCUSDT"]
    assert synth_spec("BTCUSDT").size_scale == 1
    # ETHBTC at 0.05 BTC is worth 0.05 * BTC's price: the ratio to BTCUSDT is 1 / 0.05.
    assert synth_spec("ETHBTC", "0.05").size_scale == pytest.approx(20**0.55)
    # A measured symbol scales by its typical price whatever the start price.
    lrc = float(btc / (TYPICAL_PRICES["LRCBTC"] * btc)) ** 0.55
    assert synth_spec("LRCBTC", "0.00000700").size_scale == pytest.approx(lrc)
    blz = float(btc / (TYPICAL_PRICES["BLZETH"] * TYPICAL_PRICES["ETHUSDT"])) ** 0.55
    assert synth_spec("BLZETH").size_scale == pytest.approx(blz)


def on_grid(symbol: str, start_price: str | None, hours: float) -> np.ndarray[Any, Any]:
    """The synthetic market's trade prices, checked to be on the tick and the step."""
    spec = synth_spec(symbol, start_price)
    tapes = list(synth_tapes(symbol, hours, seed=11, start_price=start_price))
    kind = np.concatenate([t.kind for t in tapes])
    price = np.concatenate([t.price for t in tapes])
    qty = np.concatenate([t.qty for t in tapes])
    levels = np.isin(kind, (0, 1, 2, 3))
    assert (price[levels] % spec.tick == 0).all()
    assert (qty[levels] % spec.step == 0).all()
    trades = np.isin(kind, TRADES)
    assert (qty[trades] > 0).all() and trades.sum() > 100
    return price[trades] / 1e8


def test_ethbtc_is_on_its_small_tick_with_a_plausible_book() -> None:
    prices = on_grid("ETHBTC", "0.05", 0.05)
    assert abs(np.median(prices) / 0.05 - 1) < 0.01
    stats = market_stats(synth_tapes("ETHBTC", 0.1, seed=5, start_price="0.05"), tick=100)
    # One tick (0.000001, 0.2 bp) of spread nearly always, ~1.2 BTC's worth at the touch
    # scaled by 20^0.55 (about 6.5 ETH), deeper further out.
    assert stats.spread_one_tick > 0.95
    assert 3 < stats.top_size < 15
    assert stats.top_size < stats.depth_1bp < stats.depth_5bp < stats.depth_10bp
    assert 2 < stats.trades_per_s < 60


def test_large_steps_and_coarse_ticks_stay_on_the_grid() -> None:
    on_grid("SHIBUSDT", "0.00005000", 0.02)  # step 1 SHIB, tick 2 bp of the price
    on_grid("LRCBTC", None, 0.02)  # step 1 LRC, tick 16 bp: the measured 2021 price
    on_grid("BNBUSDT", "450.0", 0.02)


def test_data_synth_writes_ethbtc_that_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ethbtc.jsonl.gz"
    argv = ["data", "synth", "--symbol", "ethbtc", "--hours", "0.01", "--seed", "3"]
    assert main([*argv, "--start-price", "0.05", "--out", str(out)]) == 0
    assert "seed 3" in capsys.readouterr().out
    back = list(read_tape(out, "ETHBTC"))
    again = list(synth_tapes("ETHBTC", 0.01, seed=3, start_price="0.05"))

    def cols(tapes: list[Any]) -> list[list[int]]:
        return [np.concatenate([getattr(t, c) for t in tapes]).tolist() for c in ("kind", "price")]

    assert cols(back) == cols(again)
    assert main([*argv, "--out", str(tmp_path / "x.jsonl")]) == 1
    assert "no typical price for ETHBTC: give its start price (--start-price" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "x.jsonl").exists()


def test_the_commands_take_an_exchange_info_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = tmp_path / "exchangeInfo.json"
    info.write_text(json.dumps({"symbols": exchange_info()["symbols"][:1]}))  # ETHBTC only
    out = tmp_path / "ethbtc.jsonl"
    synth = ["data", "synth", "--symbol", "ETHBTC", "--hours", "0.002", "--seed", "1"]
    assert (
        main([*synth, "--start-price", "0.05", "--exchange-info", str(info), "--out", str(out)])
        == 0
    )
    assert out.stat().st_size > 0
    assert main([*synth[:2], "--exchange-info", str(info), "--out", str(out)]) == 1
    assert "'BTCUSDT' is not in the exchangeInfo given" in capsys.readouterr().err
    backtest = ["backtest", "grid", "--data", str(out), "--exchange-info", str(info)]
    assert main([*backtest, "--symbol", "BTCUSDT", "--out", str(tmp_path / "r")]) == 2
    assert "'BTCUSDT' is not in the exchangeInfo given" in capsys.readouterr().err
    sweep = ["sweep", "grid", "--data", str(out), "--exchange-info", str(tmp_path / "none.json")]
    assert main([*sweep, "--param", "grids=10", "--out", str(tmp_path / "s")]) == 2
    assert "cannot read the exchangeInfo file" in capsys.readouterr().err

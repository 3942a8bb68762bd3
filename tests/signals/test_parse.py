"""Bodies into signals (exact amounts, timestamps as TradingView sends them), and the replay
guard's window and bounded nonce store."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tradewire.errors import SignalRefused
from tradewire.signals import ReplayGuard, parse_timestamp, read_fields, signal_from
from tradewire.signals.parse import bot_name

BASE = {"action": "buy", "timestamp": "2026-11-30T23:10:00Z", "nonce": "a-1"}


def _reason(call: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(SignalRefused) as caught:
        call(*args)
    return caught.value.status, caught.value.reason


def test_amounts_are_exact_from_strings_and_json_numbers() -> None:
    fields = read_fields(b'{"action": "BUY", "quantity": 0.1, "price": 65000.10, "x": [1]}')
    signal = signal_from({**BASE, **fields}, "tv1")
    assert (signal.action, signal.quantity, signal.price) == ("buy", D("0.1"), D("65000.10"))
    assert str(signal.price) == "65000.10"  # the text as sent, never through a float
    assert signal_from({**BASE, "quote_amount": " 20 "}, "tv1").quote_amount == D(20)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe", "bad_encoding"),
        (b'{"quantity": NaN}', "bad_json"),
        (b'{"quantity": Infinity}', "bad_json"),
        (b"[" * 100_000, "bad_json"),
        (b'"buy"', "not_an_object"),
    ],
)
def test_bodies_that_are_not_a_json_object(body: bytes, reason: str) -> None:
    assert _reason(read_fields, body) == (400, reason)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"quantity": "-1"}, "bad_quantity"),
        ({"quantity": "0"}, "bad_quantity"),
        ({"quantity": "1e400"}, "bad_quantity"),
        ({"quantity": True}, "bad_quantity"),
        ({"quantity": "1.0000000000000000001"}, "bad_quantity"),
        ({}, "bad_amount"),
        ({"action": "close", "quantity": "1"}, "bad_amount"),
        ({"action": None, "quantity": "1"}, "bad_action"),
        ({"nonce": "", "quantity": "1"}, "bad_nonce"),
        ({"nonce": "x" * 129, "quantity": "1"}, "bad_nonce"),
        ({"nonce": "with space", "quantity": "1"}, "bad_nonce"),
        ({"symbol": "BTC/USDT", "quantity": "1"}, "bad_symbol"),
        ({"timestamp": "2026-11-30T23:10:00", "quantity": "1"}, "bad_timestamp"),
        ({"timestamp": "yesterday", "quantity": "1"}, "bad_timestamp"),
        ({"timestamp": 1.5, "quantity": "1"}, "bad_timestamp"),
    ],
)
def test_fields_that_are_wrong_are_named(fields: dict[str, Any], reason: str) -> None:
    assert _reason(signal_from, {**BASE, **fields}, "tv1") == (400, reason)


def test_timestamps_as_senders_write_them() -> None:
    ms = 1_796_080_200_000
    for value in ("2026-11-30T23:10:00Z", "2026-12-01T00:10:00+01:00", ms // 1000, ms, str(ms)):
        assert parse_timestamp(value) == ms


def test_the_bot_comes_from_the_url_or_the_body() -> None:
    assert bot_name({"bot": "tv1"}, None) == bot_name({}, "tv1") == "tv1"
    assert _reason(bot_name, {"bot": "tv2"}, "tv1") == (400, "bot_mismatch")
    assert _reason(bot_name, {}, None) == (400, "no_bot")
    assert _reason(bot_name, {"bot": "../x"}, None) == (400, "bad_bot")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def now_ms(self) -> int:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += round(seconds * 1000)

    def observe(self, time_ms: int) -> bool:
        return False


def test_the_window_and_the_nonces() -> None:
    clock = FakeClock()
    guard = ReplayGuard(30, max_nonces=2, clock=clock)
    guard.check_time(clock.now - 30_000)
    assert _reason(guard.check_time, clock.now - 30_001) == (401, "stale")
    assert _reason(guard.check_time, clock.now + 30_001) == (401, "stale")
    guard.claim("tv1", "a", clock.now)
    guard.claim("tv2", "a", clock.now)  # nonces are per bot
    assert _reason(guard.claim, "tv1", "a", clock.now) == (409, "replayed")
    # full of nonces still in their window: refused, none forgotten early
    assert _reason(guard.claim, "tv1", "b", clock.now) == (503, "busy")
    clock.now += 30_001  # their window is over: a signal carrying them is stale anyway
    guard.claim("tv1", "b", clock.now)
    assert len(guard) == 1
    guard.release("tv1", "b")
    guard.claim("tv1", "b", clock.now)


def test_nonces_from_the_journal_are_kept_for_their_window() -> None:
    clock = FakeClock()
    guard = ReplayGuard(30, clock=clock)
    guard.remember("tv1", {"old": clock.now - 61_000, "recent": clock.now - 5_000})
    guard.claim("tv1", "old", clock.now)
    assert _reason(guard.claim, "tv1", "recent", clock.now) == (409, "replayed")

"""The webhook server and the signal bot over real HTTP on 127.0.0.1: what is accepted, what is
refused (and changes nothing), replays, the constant-time compare, the call log, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from dataclasses import dataclass
from decimal import Decimal as D
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tradewire.bots.signal import SignalBot, SignalInbox
from tradewire.errors import OrderStatusUnknown
from tradewire.model import BookUpdate, SymbolRules
from tradewire.signals import (
    SIGNATURE_HEADER,
    BotTokens,
    CallLog,
    ReplayGuard,
    WebhookServer,
    sign_body,
)
from tradewire.testing.waiting import eventually
from tradewire.trading.journal import Journal
from tradewire.trading.runner import Runner
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tradewire.model import MarketEvent, Order, OrderRequest
    from tradewire.trading.runner import RunResult

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), min_notional=D(5))
TOKEN = "tok-" + "s3cr3t-for-tests-" * 2
BOT = "tv1"


class QuietMarket:
    """One two-sided book (99 / 101, 2 BTC each side), then nothing until the run ends."""

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        now = int(time.time() * 1000)
        yield BookUpdate(symbol, ((D(99), D(2)),), ((D(101), D(2)),), time_ms=now)
        await asyncio.Event().wait()


@dataclass
class Harness:
    """The pieces of a running signal bot, and a client to call its webhook."""

    server: WebhookServer
    bot: SignalBot
    broker: PaperBroker
    runner: Runner
    journal: Journal
    calls: CallLog
    http: aiohttp.ClientSession

    def alert(self, action: str = "buy", **fields: Any) -> dict[str, Any]:
        """A good alert body: fresh timestamp, a new nonce, the right token."""
        body: dict[str, Any] = {
            "bot": BOT,
            "token": TOKEN,
            "action": action,
            "timestamp": int(time.time()),
            "nonce": f"n-{time.perf_counter_ns()}",
        }
        if action in ("buy", "sell") and "quote_amount" not in fields:
            body["quantity"] = "0.1"
        body.update(fields)
        return {k: v for k, v in body.items() if v is not None}

    async def post(
        self,
        body: dict[str, Any] | bytes,
        *,
        path: str = f"/signals/{BOT}",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST ``body`` (a dict as JSON) and return the status and the JSON answer."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        send = {"Content-Type": "application/json", **(headers or {})}
        async with self.http.post(self.server.url + path, data=data, headers=send) as r:
            return r.status, await r.json()

    def orders(self) -> int:
        """How many orders the paper account was sent."""
        return self.runner.ctx.run_log.orders_placed


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, *, journal_name: str = "signals-tv1", log_name: str = "calls.jsonl"
) -> AsyncIterator[Harness]:
    """Start the bot (paper, journaled in ``tmp_path``) and its server; stop both at the end."""
    journal = Journal(tmp_path / f"{journal_name}.sqlite3")
    inbox = SignalInbox()
    bot = SignalBot(inbox, journal=journal, bot=BOT)
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    runner = Runner(
        bot, broker, QuietMarket(), RULES, mode="paper", bot=journal_name, journal=journal,
        timer_interval_s=0.02,
    )  # fmt: skip
    guard = ReplayGuard(30)
    guard.remember(BOT, journal.signal_nonces(BOT))
    calls = CallLog(tmp_path / log_name)
    stop = asyncio.Event()
    task: asyncio.Task[RunResult] = asyncio.create_task(runner.run(stop=stop))
    server = WebhookServer(BotTokens({BOT: TOKEN}), {BOT: inbox}, guard, calls)
    try:
        async with server, aiohttp.ClientSession() as http:
            await eventually(lambda: bot._ctx is not None, message="the bot started")
            yield Harness(server, bot, broker, runner, journal, calls, http)
    finally:
        stop.set()
        result = await asyncio.wait_for(task, 10)
        assert result.error is None, result.error
        calls.close()
        journal.close()


pytestmark = pytest.mark.asyncio


def _state(h: Harness) -> tuple[int, bool, D, int, list[str]]:
    """Everything a refused call must leave alone."""
    return (
        h.orders(),
        h.bot.paused,
        h.bot.position(),
        h.bot.signals_done,
        [o.client_order_id for o in h.runner.ctx.open_orders()],
    )


async def test_a_good_buy_places_one_market_order(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        status, answer = await h.post(h.alert("buy", quantity="0.1"))
        assert status == 200, answer
        order = answer["detail"]["order"]
        assert (order["side"], order["type"], order["quantity"]) == ("BUY", "MARKET", "0.10000")
        assert h.orders() == 1
        await eventually(lambda: h.bot.position() > 0, message="the buy filled")
        assert h.bot.position() == D("0.0999")  # 0.1 less the 0.1% fee taken in BTC


async def test_a_limit_buy_and_a_quote_amount(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        status, answer = await h.post(h.alert("buy", quantity="0.1", price="95.005"))
        assert status == 200, answer
        order = answer["detail"]["order"]
        assert (order["type"], order["price"], order["status"]) == ("LIMIT", "95.00", "NEW")
        # 20 USDT at the best ask 101: 0.19801980... floored to the step
        status, answer = await h.post(h.alert("buy", quote_amount="20"))
        assert status == 200, answer
        assert answer["detail"]["order"]["quantity"] == "0.19801"
        assert h.orders() == 2


def _too_large(h: Harness) -> tuple[dict[str, Any] | bytes, dict[str, str]]:
    return h.alert(padding="x" * 17_000), {}


def _wrong_type(h: Harness) -> tuple[dict[str, Any] | bytes, dict[str, str]]:
    return json.dumps(h.alert()).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def _not_json(h: Harness) -> tuple[dict[str, Any] | bytes, dict[str, str]]:
    return b'{"bot": "tv1", "action": "buy",', {}


def _signed_wrong(h: Harness) -> tuple[dict[str, Any] | bytes, dict[str, str]]:
    body = json.dumps(h.alert(token=None)).encode()
    return body, {SIGNATURE_HEADER: sign_body("another-token-of-16+", body)}


CASES = {
    "too large": (413, "too_large", _too_large),
    "wrong content type": (415, "bad_content_type", _wrong_type),
    "not JSON": (400, "bad_json", _not_json),
    "a JSON array": (400, "not_an_object", lambda h: (b"[1, 2]", {})),
    "no token": (401, "no_token", lambda h: (h.alert(token=None), {})),
    "wrong token": (401, "bad_token", lambda h: (h.alert(token=TOKEN[:-1] + "?"), {})),
    "unknown bot": (401, "bad_token", lambda h: (h.alert(bot="other"), {"_path": "/webhook"})),
    "wrong signature": (401, "bad_signature", _signed_wrong),
    "bad action": (400, "bad_action", lambda h: (h.alert(action="moon"), {})),
    "float-free amounts": (400, "bad_quantity", lambda h: (h.alert(quantity="NaN"), {})),
    "both amounts": (
        400,
        "bad_amount",
        lambda h: (h.alert(quantity="0.1", quote_amount="20"), {}),
    ),
    "no nonce": (400, "no_nonce", lambda h: (h.alert(nonce=None), {})),
    "stale timestamp": (401, "stale", lambda h: (h.alert(timestamp=int(time.time()) - 31), {})),
    "future timestamp": (401, "stale", lambda h: (h.alert(timestamp=int(time.time()) + 40), {})),
    "below min notional": (422, "NOTIONAL", lambda h: (h.alert(quantity="0.01"), {})),
    "below the step": (422, "LOT_SIZE", lambda h: (h.alert(quantity="0.000001"), {})),
    "unknown symbol": (422, "UNKNOWN_SYMBOL", lambda h: (h.alert(symbol="ETHUSDT"), {})),
    "no position to close": (422, "NO_POSITION", lambda h: (h.alert("close"), {})),
    "more than the account holds": (
        422,
        "INSUFFICIENT_FUNDS",
        lambda h: (h.alert(quantity="500"), {}),
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_every_refused_call_changes_nothing(tmp_path: Path, case: str) -> None:
    status, reason, make = CASES[case]
    async with running_bot(tmp_path) as h:
        before = _state(h)
        body, headers = make(h)
        path = headers.pop("_path", f"/signals/{BOT}")
        got, answer = await h.post(body, path=path, headers=headers)
        assert got == status, answer
        assert answer.get("rule", answer["error"]) == reason
        assert answer["message"]
        assert _state(h) == before
        assert not h.runner.ctx.run_log.fills
        [line] = [json.loads(x) for x in (tmp_path / "calls.jsonl").read_text().splitlines()]
        assert (line["status"], line["reason"]) == (status, reason)


async def test_a_replayed_nonce_is_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        alert = h.alert("buy")
        assert (await h.post(alert))[0] == 200
        before = _state(h)
        status, answer = await h.post(alert)
        assert (status, answer["error"]) == (409, "replayed")
        alert["timestamp"] = int(time.time())  # a new timestamp does not make the nonce new
        assert (await h.post(alert))[0] == 409
        assert _state(h) == before


async def test_a_signed_body_needs_no_token(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        body = json.dumps(h.alert("buy", token=None)).encode()
        status, answer = await h.post(body, headers={SIGNATURE_HEADER: sign_body(TOKEN, body)})
        assert status == 200, answer
        tampered = body.replace(b'"0.1"', b'"0.2"')
        status, answer = await h.post(tampered, headers={SIGNATURE_HEADER: sign_body(TOKEN, body)})
        assert (status, answer["error"]) == (401, "bad_signature")
        assert h.orders() == 1


async def test_the_token_is_compared_in_constant_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("tradewire.signals.auth.hmac.compare_digest", spy)
    async with running_bot(tmp_path) as h:
        assert (await h.post(h.alert("buy", token="x" * 40)))[0] == 401
        assert compared == [(b"x" * 40, TOKEN.encode())]
        assert (await h.post(h.alert("buy")))[0] == 200
        assert compared[1] == (TOKEN.encode(), TOKEN.encode())
        # a bot nobody configured is compared too (against a throwaway token): same timing
        assert (await h.post(h.alert("buy", bot="ghost"), path="/webhook"))[0] == 401
        assert len(compared) == 3 and compared[2][0] == TOKEN.encode()


async def test_every_call_is_logged_without_the_token(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.post(h.alert("buy"))
        await h.post(h.alert("buy", token=TOKEN + "x"))
        await h.post(h.alert("stop"))
        await h.post(b"not json " + TOKEN.encode())
        await h.post(h.alert("buy", nonce=TOKEN))  # a careless sender's nonce: redacted
    text = (tmp_path / "calls.jsonl").read_text()
    assert TOKEN not in text
    lines = [json.loads(x) for x in text.splitlines()]
    assert [(x["action"], x["status"], x["outcome"]) for x in lines] == [
        ("buy", 200, "done"),
        ("buy", 401, "bad_token"),
        ("stop", 200, "done"),
        (None, 400, "bad_json"),
        ("buy", 422, "refused"),
    ]
    assert (lines[-1]["reason"], lines[-1]["nonce"]) == ("PAUSED", "[token]")
    assert all(x["remote"] == "127.0.0.1" and x["time"].endswith("+00:00") for x in lines)
    assert all(x["bot"] == BOT for x in lines if x["status"] != 400)


async def test_stop_cancels_and_refuses_until_start(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        assert (await h.post(h.alert("buy", price="90")))[0] == 200
        assert len(h.runner.ctx.open_orders()) == 1
        status, answer = await h.post(h.alert("stop"))
        assert status == 200 and answer["detail"] == {"paused": True, "canceled": 1}
        assert h.runner.ctx.open_orders() == []
        status, answer = await h.post(h.alert("sell"))
        assert (status, answer["rule"]) == (422, "PAUSED")
        assert (await h.post(h.alert("start")))[0] == 200
        assert (await h.post(h.alert("sell")))[0] == 200
        assert h.orders() == 2


async def test_close_sells_the_whole_position(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        assert (await h.post(h.alert("buy", quantity="0.2")))[0] == 200
        await eventually(lambda: h.bot.position() == D("0.1998"), message="the buy filled")
        status, answer = await h.post(h.alert("close"))
        assert status == 200, answer
        assert answer["detail"]["order"]["side"] == "SELL"
        assert answer["detail"]["order"]["quantity"] == "0.19980"
        await eventually(lambda: h.bot.position() == 0, message="the sell filled")


async def test_a_restart_keeps_the_nonces_and_the_stop(tmp_path: Path) -> None:
    async with running_bot(tmp_path, log_name="first.jsonl") as h:
        buy = h.alert("buy", quantity="0.1")
        assert (await h.post(buy))[0] == 200
        stop = h.alert("stop")
        assert (await h.post(stop))[0] == 200
        await eventually(lambda: h.bot.position() == D("0.0999"), message="the buy filled")
    async with running_bot(tmp_path, log_name="second.jsonl") as h:
        assert h.bot.paused
        assert h.bot.position() == D("0.0999")  # carried from the journal
        for old in (buy, stop):
            status, answer = await h.post(old)
            assert (status, answer["error"]) == (409, "replayed")
        status, answer = await h.post(h.alert("buy"))
        assert (status, answer["rule"]) == (422, "PAUSED")
        assert h.orders() == 0
        assert (await h.post(h.alert("start")))[0] == 200
        assert (await h.post(h.alert("close")))[0] == 200
        await eventually(lambda: h.bot.position() < D("0.00001"), message="the close filled")
    async with running_bot(tmp_path, log_name="third.jsonl") as h:
        assert not h.bot.paused


async def test_a_replay_the_server_forgot_is_still_refused_by_the_bot(tmp_path: Path) -> None:
    """The journal is the last word: a nonce the server's memory lost (a restart with another
    window) is still refused, by the bot."""
    async with running_bot(tmp_path) as h:
        buy = h.alert("buy")
        assert (await h.post(buy))[0] == 200
        h.server.guard.release(BOT, buy["nonce"])
        status, answer = await h.post(buy)
        assert (status, answer["outcome"]) == (409, "replayed")
        assert h.orders() == 1


async def test_health_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h, h.http.get(h.server.url + "/health") as r:
        assert r.status == 200 and await r.json() == {"status": "ok"}


async def test_other_paths_and_methods_are_answered_and_logged(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        async with h.http.get(h.server.url + f"/signals/{BOT}") as r:
            assert (r.status, (await r.json())["error"]) == (405, "method_not_allowed")
        async with h.http.post(h.server.url + "/admin", json=h.alert()) as r:
            assert (r.status, (await r.json())["error"]) == (404, "not_found")
        assert h.orders() == 0
    lines = [json.loads(x) for x in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert [(x["status"], x["reason"]) for x in lines] == [
        (405, f"GET /signals/{BOT}"),
        (404, "POST /admin"),
    ]


async def test_a_signal_the_bot_does_not_take_in_time_is_not_carried_out(tmp_path: Path) -> None:
    """A bot not started yet (no market): 503 after the wait, the signal withdrawn (never
    carried out later), and the nonce free to be sent again."""
    inbox = SignalInbox()
    calls = CallLog(tmp_path / "calls.jsonl")
    server = WebhookServer(
        BotTokens({BOT: TOKEN}), {BOT: inbox}, ReplayGuard(30), calls, answer_within_s=0.1
    )
    body = {"bot": BOT, "token": TOKEN, "action": "stop", "timestamp": int(time.time())}
    body["nonce"] = "once"
    async with server, aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.post(server.webhook_url(BOT), json=body) as r:
                assert (r.status, (await r.json())["error"]) == (503, "not_started")
    assert inbox.take() == []  # both withdrawn: a bot starting now carries neither out
    calls.close()


async def test_a_lost_answer_is_never_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(tmp_path) as h:

        async def lost(request: OrderRequest) -> Order:
            raise OrderStatusUnknown("the answer was lost", endpoint="POST /api/v3/order")

        monkeypatch.setattr(h.broker, "place_order", lost)
        alert = h.alert("buy")
        status, answer = await h.post(alert)
        assert (status, answer["error"]) == (504, "unknown")
        assert (await h.post(alert))[0] == 409  # the sender's retry: refused, nothing resent
        assert h.journal.signal_seen(BOT, alert["nonce"])
        [order] = h.journal.orders()
        assert order.state == "UNKNOWN"

"""No secret in any output: error log, log records, reprs, exception messages and tracebacks."""

from __future__ import annotations

import json
import logging
import traceback
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.binance.client import BinanceClient
from tradewire.binance.errorlog import ErrorLog, redact_params
from tradewire.errors import APIError, InvalidKey, InvalidSignature

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tradewire.exchange import LocalExchange


def secret_fragments(secret: str) -> list[str]:
    """The parts of a secret that must never be seen: the HMAC secret, or each PEM body line."""
    if "-----BEGIN" not in secret:
        return [secret, secret[:16], secret[-16:]]
    lines = [line for line in secret.splitlines() if line and not line.startswith("-----")]
    return ["".join(lines), *[line for line in lines if len(line) >= 16]]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["hmac", "ed25519", "rsa"])
async def test_no_secret_in_any_output(
    ex: LocalExchange,
    new_key: Callable[..., Any],
    make_client: Callable[..., BinanceClient],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = new_key(kind)
    log = tmp_path / "errors.jsonl"
    outputs: list[str] = []
    async with make_client(key, error_log=log, timeout=0.3) as client:
        outputs += [repr(client), str(client.__dict__), repr(client.clock), repr(client.limiter)]
        failing = [
            client.get_order("BTCUSDT", client_order_id="missing"),
            client.place_order(
                "BTCUSDT", "BUY", "LIMIT", quantity="100", price="60000", time_in_force="GTC"
            ),
            client.place_order("BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000"),
        ]
        for call in failing:
            with pytest.raises(APIError) as err:
                await call
            outputs += [str(err.value), repr(err.value)]
            outputs += traceback.format_exception(err.type, err.value, err.tb)
        ex.set_faults(clock_skew_ms=-20_000)  # a -1021, resynced and retried
        await client.account()
        ex.set_faults(delay_ms=400)  # a timeout
        with pytest.raises(APIError) as timeout:
            await client.account()
        outputs += traceback.format_exception(timeout.type, timeout.value, timeout.tb)
        ex.set_faults()
    async with make_client(new_key("hmac")) as other:  # the same key id, a wrong secret
        forged = BinanceClient(key.api_key, "ab" * 32, rest_url=other.rest_url, error_log=log)
        async with forged:
            with pytest.raises(InvalidSignature) as bad:
                await forged.account()
        outputs += traceback.format_exception(bad.type, bad.value, bad.tb)
    broken = (  # a malformed PEM around the secret: refused without being echoed
        key.secret[: len(key.secret) // 2]
        if kind != "hmac"
        else f"-----BEGIN PRIVATE KEY-----\n{key.secret}\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(InvalidKey) as bad_key:
        BinanceClient("k", broken)
    outputs += traceback.format_exception(bad_key.type, bad_key.value, bad_key.tb)

    lines = log.read_text().splitlines()
    assert len(lines) >= 5
    entries = [json.loads(line) for line in lines]
    assert {e["code"] for e in entries} >= {-2013, -2010, -1102, -1021, -1022}
    for entry in entries:
        assert "signature" not in entry["params"] and "apiKey" not in entry["params"]
        assert set(entry) >= {"time", "endpoint", "method", "params", "code", "message"}
        assert "latency_ms" in entry
    outputs += [log.read_text(), caplog.text, *(r.getMessage() for r in caplog.records)]
    everything = "\n".join(outputs)
    assert "Hint:" in everything and "-2013" in everything  # the outputs are really there
    for fragment in secret_fragments(key.secret):
        assert fragment not in everything


def test_redaction_drops_signature_and_credentials() -> None:
    params = {"symbol": "BTCUSDT", "signature": "abc", "apiKey": "k", "timestamp": 1, "x": None}
    assert redact_params(params) == {"symbol": "BTCUSDT", "timestamp": "1"}
    assert repr(ErrorLog()) == "ErrorLog(path='None')"

"""The ``exchange serve`` command group."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tradewire.cli.exchange import register


def test_register_adds_exchange_serve() -> None:
    parser = argparse.ArgumentParser(prog="tradewire")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["exchange", "serve", "--port", "8123", "--db", "x.sqlite"])
    assert (args.command, args.exchange_command, args.port, args.db, args.host) == (
        "exchange",
        "serve",
        8123,
        "x.sqlite",
        "127.0.0.1",
    )
    assert callable(args.func)


def test_legacy_listen_key_is_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser(prog="tradewire")
    register(parser.add_subparsers(dest="command"))
    built: list[dict[str, Any]] = []

    class Recorder:
        """Stands in for LocalExchange: records how ``serve`` builds it, then stops the run."""

        def __init__(self, **kwargs: Any) -> None:
            built.append(kwargs)
            raise KeyboardInterrupt

    monkeypatch.setattr("tradewire.cli.exchange.LocalExchange", Recorder)
    for argv in (["exchange", "serve"], ["exchange", "serve", "--legacy-listen-key"]):
        args = parser.parse_args(argv)
        assert args.func(args) == 0
    assert [b["legacy_listen_key"] for b in built] == [False, True]


@pytest.mark.e2e
def test_serve_prints_urls_and_a_working_key() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tradewire.exchange", "serve", "--symbols", "BTCUSDT"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        printed = dict(line.split(":", 1) for line in lines)
        rest_url = printed["REST API"].strip()
        api_key, secret = printed["API key"].strip(), printed["HMAC secret"].strip()
        query = f"timestamp={int(time.time() * 1000)}"
        signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        response = httpx.get(
            f"{rest_url}/api/v3/account?{query}&signature={signature}",
            headers={"X-MBX-APIKEY": api_key},
        )
        assert response.status_code == 200
        assert printed["WebSocket API"].strip().endswith("/ws-api/v3")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()

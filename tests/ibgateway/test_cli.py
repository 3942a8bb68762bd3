"""``tradewire ib-gateway serve`` prints its URLs and serves them until stopped."""

from __future__ import annotations

import asyncio
import ssl
import sys

import aiohttp
import pytest


@pytest.mark.asyncio
async def test_serve_prints_urls_that_answer() -> None:
    # the tradewire this interpreter imports (installed or editable), never the source tree's
    # python/ folder, which holds no built extension in a clean checkout
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from tradewire.cli.main import main; main()",
        "ib-gateway", "serve", "--symbols", "AAPL", "--port", "0",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: dict[str, str] = {}
        while "Certificate" not in lines:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "the command ended before printing its URLs"
            name, _, value = line.partition(":")
            lines[name] = value.strip()
        url = lines["REST API"]
        assert url.startswith("https://127.0.0.1:") and url.endswith("/v1/api")
        assert lines["WebSocket"] == url.replace("https://", "wss://") + "/ws"
        context = ssl.create_default_context(cafile=lines["Certificate"].split()[0])
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http,
            http.post(f"{url}/tickle", data=b"") as response,
        ):
            body = await response.json()
        assert response.status == 200 and body["iserver"]["authStatus"]["authenticated"] is True
    finally:
        proc.terminate()
        await proc.wait()

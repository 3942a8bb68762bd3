"""Binance's URLs, defined once: the REST API, the market streams and the WebSocket API.

``BINANCE`` is the live exchange and ``TESTNET`` Binance's Spot Test Network (which has no
``/sapi`` endpoints, so no key audit there). :func:`endpoints` gives the three URLs for any REST
URL: Binance's own for theirs, else ``ws(s)://`` on the same host and port, which is where the
local exchange (``tradewire exchange``) serves them.

>>> endpoints("http://127.0.0.1:8080").ws_api_url
'ws://127.0.0.1:8080/ws-api/v3'
>>> endpoints("https://testnet.binance.vision") == TESTNET
True
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["BINANCE", "TESTNET", "Endpoints", "endpoints"]

_WS_API_PATH = "/ws-api/v3"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The three URLs of a Binance-compatible exchange."""

    rest_url: str
    stream_url: str
    ws_api_url: str


BINANCE = Endpoints(
    rest_url="https://api.binance.com",
    stream_url="wss://stream.binance.com:9443",
    ws_api_url=f"wss://ws-api.binance.com:443{_WS_API_PATH}",
)
TESTNET = Endpoints(
    rest_url="https://testnet.binance.vision",
    stream_url="wss://stream.testnet.binance.vision:9443",
    ws_api_url=f"wss://ws-api.testnet.binance.vision{_WS_API_PATH}",
)
_KNOWN = {e.rest_url: e for e in (BINANCE, TESTNET)}


def endpoints(
    rest_url: str, stream_url: str | None = None, ws_api_url: str | None = None
) -> Endpoints:
    """The URLs that go with ``rest_url`` (each given one wins): Binance's, or on the same host."""
    rest_url = rest_url.rstrip("/")
    known = _KNOWN.get(rest_url)
    if known is not None:
        base_stream, base_ws_api = known.stream_url, known.ws_api_url
    else:
        parts = urlsplit(rest_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        base_stream = f"{scheme}://{parts.netloc}"
        base_ws_api = f"{base_stream}{_WS_API_PATH}"
    return Endpoints(
        rest_url,
        (stream_url or base_stream).rstrip("/"),
        ws_api_url or base_ws_api,
    )

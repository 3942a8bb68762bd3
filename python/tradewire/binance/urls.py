"""Binance's URLs, defined once: the REST API, the market streams and the WebSocket API.

``BINANCE`` is the live exchange and ``TESTNET`` Binance's Spot Test Network (which has no
``/sapi`` endpoints, so no key audit there); the testnet's URLs are the ones its documentation
gives (REST ``https://testnet.binance.vision``, streams ``wss://stream.testnet.binance.vision``,
WebSocket API ``wss://ws-api.testnet.binance.vision/ws-api/v3``). :func:`endpoints` gives the
three URLs for any REST URL: Binance's own for theirs, else ``ws(s)://`` on the same host and
port, which is where the local exchange (``tradewire exchange``) serves all three.
:func:`preset` names them for an ``--exchange binance|testnet`` option.

>>> endpoints("http://127.0.0.1:8080").ws_api_url
'ws://127.0.0.1:8080/ws-api/v3'
>>> endpoints("https://testnet.binance.vision") == TESTNET
True
>>> preset("testnet").stream_url
'wss://stream.testnet.binance.vision'
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["BINANCE", "PRESETS", "TESTNET", "Endpoints", "endpoints", "is_binance_host", "preset"]

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
    stream_url="wss://stream.testnet.binance.vision",
    ws_api_url=f"wss://ws-api.testnet.binance.vision{_WS_API_PATH}",
)
_KNOWN = {e.rest_url: e for e in (BINANCE, TESTNET)}
PRESETS = {"binance": BINANCE, "testnet": TESTNET}
"""The exchanges an ``--exchange`` option names (``local`` is started or given by URL)."""


def preset(name: str) -> Endpoints:
    """The URLs of ``name`` ("binance" or "testnet").

    Raises:
        ValueError: another name.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown exchange {name!r}: use one of {', '.join(PRESETS)}") from None


def is_binance_host(url: str) -> bool:
    """Whether ``url`` points at one of Binance's own hosts (binance.com, binance.vision)."""
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith((".binance.com", ".binance.vision")) or host in (
        "binance.com",
        "binance.vision",
    )


def endpoints(
    rest_url: str, stream_url: str | None = None, ws_api_url: str | None = None
) -> Endpoints:
    """The URLs that go with ``rest_url`` (each given one wins): Binance's, or on the same host.

    For a REST URL on one of Binance's hosts the streams are Binance's (the testnet's for the
    testnet); for any other host (the local exchange, a proxy) they are on that host and port.
    """
    rest_url = rest_url.rstrip("/")
    known = _KNOWN.get(rest_url)
    if known is None and is_binance_host(rest_url):
        known = BINANCE  # api1.binance.com, api-gcp.binance.com...: the same streams
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

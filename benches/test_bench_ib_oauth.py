"""Signing an IB Web API request with OAuth 1.0a: tradewire's Rust signer against Python peers.

Every implementation produces the ``Authorization`` header of the same request (a market-data
snapshot with two query parameters, or ``POST /tickle`` with none) for the same live session
token, nonce and timestamp. The reference is the standard library (``hmac``, ``base64``,
``urllib.parse.quote_plus``); ``extra_info["matches_reference"]`` records byte equality.

Groups:

- ``ib-oauth/authorization/<fixture>``: the whole header. Implementations: ``tradewire`` (base
  string, HMAC and header built in one Rust call), ``py-base+rust-hmac`` (base string and header
  in Python, only the HMAC in Rust: the alternative split), ``stdlib`` and ``ibind`` (0.2.2's
  ``generate_oauth_headers``, pycryptodome underneath).
- ``ib-oauth/hmac-sha256-base64``: the primitive alone over a 300-byte base string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import pytest

from tradewire._core import OAuthRequestSigner, hmac_sha256_base64

LST = base64.b64encode(bytes(range(7, 27))).decode()
CONSUMER, TOKEN, REALM = "TESTCONS", "56d8e3aa1f6c2b4e7a90", "test_realm"
NONCE, TIMESTAMP = "eXtmFq3v9LpZr2Tg", "1700000000"
BASE = "https://api.ibkr.com/v1/api"

FIXTURES: dict[str, tuple[str, str, dict[str, str] | None]] = {
    "snapshot": (
        "GET",
        BASE + "/iserver/marketdata/snapshot",
        {"conids": "265598", "fields": "31,84"},
    ),
    "tickle": ("POST", BASE + "/tickle", None),
}

SignFn = Callable[[str, str, "dict[str, str] | None"], str]
OAUTH_PAIRS = {
    "oauth_consumer_key": CONSUMER,
    "oauth_nonce": NONCE,
    "oauth_signature_method": "HMAC-SHA256",
    "oauth_timestamp": TIMESTAMP,
    "oauth_token": TOKEN,
}


def _header(pairs: dict[str, str], signature: str) -> str:
    items = sorted({**pairs, "oauth_signature": signature}.items())
    return f'OAuth realm="{REALM}", ' + ", ".join(f'{k}="{v}"' for k, v in items)


def _tradewire(monkeypatch: pytest.MonkeyPatch) -> SignFn:
    del monkeypatch
    signer = OAuthRequestSigner(LST, consumer_key=CONSUMER, access_token=TOKEN, realm=REALM)

    def sign(method: str, url: str, params: dict[str, str] | None) -> str:
        return signer.authorization(method, url, params, nonce=NONCE, timestamp=TIMESTAMP)

    return sign


def _python_base(
    mac: Callable[[bytes, bytes], str],
) -> SignFn:
    key = base64.b64decode(LST)

    def sign(method: str, url: str, params: dict[str, str] | None) -> str:
        pairs = OAUTH_PAIRS
        joined = "&".join(f"{k}={v}" for k, v in sorted({**pairs, **(params or {})}.items()))
        base = f"{method}&{quote_plus(url)}&{quote_plus(joined)}"
        return _header(pairs, quote_plus(mac(key, base.encode())))

    return sign


def _stdlib_mac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _ibind(monkeypatch: pytest.MonkeyPatch) -> SignFn:
    oauth1a: Any = pytest.importorskip("ibind.oauth.oauth1a")
    config = oauth1a.OAuth1aConfig(
        access_token=TOKEN,
        access_token_secret="",
        consumer_key=CONSUMER,
        dh_prime="ff",
        encryption_key="",
        signature_key="",
        realm=REALM,
    )
    # Its nonce and clock, fixed for the test so the output is comparable.
    monkeypatch.setattr(oauth1a, "generate_oauth_nonce", lambda: NONCE)
    monkeypatch.setattr(oauth1a, "generate_request_timestamp", lambda: TIMESTAMP)
    generate = oauth1a.generate_oauth_headers

    def sign(method: str, url: str, params: dict[str, str] | None) -> str:
        headers = generate(
            oauth_config=config,
            request_method=method,
            request_url=url,
            live_session_token=LST,
            request_params=params,
        )
        return str(headers["Authorization"])

    return sign


IMPLS: dict[str, Callable[[pytest.MonkeyPatch], SignFn]] = {
    "tradewire": _tradewire,
    "py-base+rust-hmac": lambda _: _python_base(hmac_sha256_base64),
    "stdlib": lambda _: _python_base(_stdlib_mac),
    "ibind": _ibind,
}


@pytest.mark.parametrize("fixture", list(FIXTURES))
@pytest.mark.parametrize("impl", list(IMPLS))
def test_ib_oauth_authorization(
    benchmark: Any, monkeypatch: pytest.MonkeyPatch, impl: str, fixture: str
) -> None:
    method, url, params = FIXTURES[fixture]
    sign = IMPLS[impl](monkeypatch)
    reference = _python_base(_stdlib_mac)(method, url, params)
    benchmark.group = f"ib-oauth/authorization/{fixture}"
    benchmark.extra_info["impl"] = impl
    result = benchmark(sign, method, url, params)
    benchmark.extra_info["matches_reference"] = result == reference
    benchmark.extra_info["output"] = result
    assert result == reference


BASE_STRING = ("GET&" + quote_plus(BASE) + "&" + "a%3D1%26" * 36).encode()
MAC_IMPLS: dict[str, Callable[[bytes, bytes], str]] = {
    "tradewire": hmac_sha256_base64,
    "stdlib": _stdlib_mac,
}


@pytest.mark.parametrize("impl", list(MAC_IMPLS))
def test_ib_oauth_hmac_sha256_base64(benchmark: Any, impl: str) -> None:
    mac = MAC_IMPLS[impl]
    key = base64.b64decode(LST)
    benchmark.group = "ib-oauth/hmac-sha256-base64"
    benchmark.extra_info["impl"] = impl
    result = benchmark(mac, key, BASE_STRING)
    reference = _stdlib_mac(key, BASE_STRING)
    benchmark.extra_info["matches_reference"] = result == reference
    assert result == reference

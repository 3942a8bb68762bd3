"""Signing a Binance order request: tradewire against the standard library and ccxt.

Every group signs the same nine-parameter order (Binance's documented example plus a
``newClientOrderId``) and ends with the string that would be sent. The reference is the standard
library: ``urllib.parse.urlencode`` in the given order, then the signature appended last.
``extra_info["matches_reference"]`` records whether an implementation's output equals it byte for
byte; ``extra_info["signature_valid"]`` whether its signature checks out over its own query.

Groups:

- ``sign/hmac-sha256/query``: HMAC-SHA256 signed REST query (hex signature).
- ``sign/ed25519/query``: Ed25519 signed REST query (base64 signature, percent-encoded).
- ``sign/ed25519/payload``: the Ed25519 signature alone, base64, over the same query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode

import pytest

from tradewire import Signer, Verifier
from tradewire.binance import sign_params

if TYPE_CHECKING:
    from collections.abc import Callable

# Binance's documented HMAC example key, and RFC 8032's first Ed25519 test key.
HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
ED25519_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ED25519_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
_PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
_SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")


def _pem(label: str, der: bytes) -> str:
    return f"-----BEGIN {label}-----\n{base64.b64encode(der).decode()}\n-----END {label}-----\n"


ED25519_PEM = _pem("PRIVATE KEY", _PKCS8_ED25519_PREFIX + ED25519_SEED)
ED25519_PUBLIC_PEM = _pem("PUBLIC KEY", _SPKI_ED25519_PREFIX + ED25519_PUBLIC)

ORDER: dict[str, Any] = {
    "symbol": "LTCBTC",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "0.1",
    "newClientOrderId": "some-id",
    "recvWindow": 5000,
    "timestamp": 1499827319559,
}
QUERY = urlencode(ORDER)
# Binance's documented signature of its 8-parameter example, to anchor the reference itself.
BINANCE_DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def _split(signed: str) -> tuple[str, str]:
    query, _, signature = signed.rpartition("&signature=")
    return query, signature


# --- HMAC-SHA256 -------------------------------------------------------------------------------


def _hmac_tradewire() -> Callable[[dict[str, Any]], str]:
    signer = Signer.from_secret(HMAC_SECRET)
    return lambda params: sign_params(signer, params)


def _hmac_stdlib() -> Callable[[dict[str, Any]], str]:
    secret = HMAC_SECRET.encode()
    new, sha256 = hmac.new, hashlib.sha256

    def sign(params: dict[str, Any]) -> str:
        query = urlencode(params)
        return f"{query}&signature={new(secret, query.encode(), sha256).hexdigest()}"

    return sign


def _ccxt(secret: str) -> Callable[[dict[str, Any]], str]:
    """ccxt's own request signing: the code path ``binance.private_post_order`` runs."""
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.binance({"apiKey": "bench-api-key", "secret": secret})
    # The implicit endpoint's own (path, api, method), so sign() takes its real branch.
    entry = inspect.getattr_static(ccxt.binance, "private_post_order")
    path, api, method = entry.path, entry.api, entry.method

    def sign(params: dict[str, Any]) -> str:
        # sign() may add keys to params (a client order id when missing): hand it a copy.
        body: str = exchange.sign(path, api, method, dict(params))["body"]
        return body

    return sign


HMAC_IMPLS: dict[str, Callable[[], Callable[[dict[str, Any]], str]]] = {
    "tradewire": _hmac_tradewire,
    "stdlib": _hmac_stdlib,
    "ccxt": lambda: _ccxt(HMAC_SECRET),
}


def test_reference_matches_binance_docs() -> None:
    """The stdlib reference reproduces Binance's documented signature (8-parameter example)."""
    doc = {k: v for k, v in ORDER.items() if k != "newClientOrderId"}
    assert _split(_hmac_stdlib()(doc))[1] == BINANCE_DOC_SIGNATURE
    assert _split(_hmac_tradewire()(doc))[1] == BINANCE_DOC_SIGNATURE


@pytest.mark.parametrize("impl", list(HMAC_IMPLS))
def test_sign_hmac_query(benchmark: Any, impl: str) -> None:
    sign = HMAC_IMPLS[impl]()
    reference = _hmac_stdlib()(ORDER)
    benchmark.group = "sign/hmac-sha256/query"
    benchmark.extra_info["impl"] = impl
    result = benchmark(sign, ORDER)

    query, signature = _split(result)
    expected = hmac.new(HMAC_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    benchmark.extra_info["matches_reference"] = result == reference
    benchmark.extra_info["signature_valid"] = signature == expected
    benchmark.extra_info["output"] = result
    assert signature == expected
    assert sorted(query.split("&")) == sorted(QUERY.split("&"))
    if impl != "ccxt":  # ccxt moves timestamp to the front; recorded, not required
        assert result == reference


# --- Ed25519 -----------------------------------------------------------------------------------


def _ed25519_private_key() -> Any:
    ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    return ed25519.Ed25519PrivateKey.from_private_bytes(ED25519_SEED)


def _ed_query_tradewire() -> Callable[[dict[str, Any]], str]:
    signer = Signer.from_secret(ED25519_PEM)
    return lambda params: sign_params(signer, params)


def _ed_query_cryptography() -> Callable[[dict[str, Any]], str]:
    key_sign = _ed25519_private_key().sign
    b64 = base64.b64encode

    def sign(params: dict[str, Any]) -> str:
        query = urlencode(params)
        signature = quote(b64(key_sign(query.encode())).decode(), safe="")
        return f"{query}&signature={signature}"

    return sign


ED_QUERY_IMPLS: dict[str, Callable[[], Callable[[dict[str, Any]], str]]] = {
    "tradewire": _ed_query_tradewire,
    "cryptography": _ed_query_cryptography,
    "ccxt": lambda: _ccxt(ED25519_PEM),
}


def _ed25519_valid(payload: str, signature_b64: str) -> bool:
    return Verifier.from_key(ED25519_PUBLIC_PEM).verify(payload, signature_b64)


@pytest.mark.parametrize("impl", list(ED_QUERY_IMPLS))
def test_sign_ed25519_query(benchmark: Any, impl: str) -> None:
    sign = ED_QUERY_IMPLS[impl]()
    reference = _ed_query_cryptography()(ORDER)
    benchmark.group = "sign/ed25519/query"
    benchmark.extra_info["impl"] = impl
    result = benchmark(sign, ORDER)

    query, signature = _split(result)
    valid = _ed25519_valid(query, unquote(signature))
    benchmark.extra_info["matches_reference"] = result == reference
    benchmark.extra_info["signature_valid"] = valid
    benchmark.extra_info["output"] = result
    assert valid
    if impl != "ccxt":
        assert result == reference


def _ed_payload_tradewire() -> Callable[[bytes], str]:
    return Signer.from_secret(ED25519_PEM).sign


def _ed_payload_cryptography() -> Callable[[bytes], str]:
    key_sign = _ed25519_private_key().sign
    b64 = base64.b64encode
    return lambda payload: b64(key_sign(payload)).decode()


ED_PAYLOAD_IMPLS: dict[str, Callable[[], Callable[[bytes], str]]] = {
    "tradewire": _ed_payload_tradewire,
    "cryptography": _ed_payload_cryptography,
}


@pytest.mark.parametrize("impl", list(ED_PAYLOAD_IMPLS))
def test_sign_ed25519_payload(benchmark: Any, impl: str) -> None:
    sign = ED_PAYLOAD_IMPLS[impl]()
    payload = QUERY.encode()
    reference = _ed_payload_cryptography()(payload)
    benchmark.group = "sign/ed25519/payload"
    benchmark.extra_info["impl"] = impl
    result = benchmark(sign, payload)

    benchmark.extra_info["matches_reference"] = result == reference
    benchmark.extra_info["signature_valid"] = _ed25519_valid(QUERY, result)
    assert result == reference

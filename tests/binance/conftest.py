"""Fixtures: a LocalExchange on 127.0.0.1, keys of every type, and BinanceClients on it.

Tests wait on conditions with :func:`tradewire.testing.eventually`, never on a fixed sleep.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tradewire.binance.client import BinanceClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from tradewire.exchange import LocalExchange


@dataclass(frozen=True)
class Key:
    """An API key registered on the exchange, and the secret the client signs with."""

    api_key: str
    secret: str  # HMAC secret or PEM private key
    kind: str


def _pem_pair(kind: str) -> tuple[str, str]:
    """(private PKCS#8 PEM, public SPKI PEM) of a new Ed25519 or RSA key."""
    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def register_key(ex: LocalExchange, kind: str = "hmac", **kwargs: Any) -> Key:
    """A new key of ``kind`` (hmac, ed25519, rsa) with its own funded account on ``ex``."""
    if kind == "hmac":
        secret = secrets.token_hex(32)
        return Key(ex.add_key(secret, **kwargs), secret, kind)
    private_pem, public_pem = _pem_pair(kind)
    return Key(ex.add_key(public_pem, **kwargs), private_pem, kind)


@pytest.fixture
def new_key(ex: LocalExchange) -> Callable[..., Key]:
    """A factory of keys with their own funded accounts: ``new_key("ed25519", permissions=...)``."""
    return lambda kind="hmac", **kwargs: register_key(ex, kind, **kwargs)


@pytest.fixture
def key(ex: LocalExchange) -> Key:
    """An HMAC key with the default balances (10,000 USDT, 1 BTC, 10 ETH)."""
    return register_key(ex)


def client_for(ex: LocalExchange, key: Key | None = None, **kwargs: Any) -> BinanceClient:
    """A BinanceClient pointed at ``ex`` (fast clock sync, short reconciliation backoff)."""
    kwargs.setdefault("clock_samples", 3)
    kwargs.setdefault("order_query_backoff_s", 0.01)
    return BinanceClient(
        key.api_key if key else None,
        key.secret if key else None,
        rest_url=ex.rest_url,
        stream_url=ex.stream_url,
        ws_api_url=ex.ws_api_url,
        **kwargs,
    )


@pytest_asyncio.fixture
async def client(ex: LocalExchange, key: Key) -> AsyncIterator[BinanceClient]:
    """An entered BinanceClient on ``ex`` with the ``key`` account."""
    async with client_for(ex, key) as c:
        yield c


@pytest.fixture
def make_client(ex: LocalExchange) -> Callable[..., BinanceClient]:
    """A factory: ``make_client(key, **options)`` (enter it with ``async with``)."""
    return lambda key=None, **kwargs: client_for(ex, key, **kwargs)

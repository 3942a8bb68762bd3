"""Keys on a running local exchange, for tests of bots and clients over real sockets.

>>> import asyncio
>>> from tradewire.exchange import LocalExchange
>>> async def main() -> str:
...     async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
...         key = add_local_key(ex, balances={"USDT": "1000"})
...         async with key.client() as client:
...             account = await client.account(omit_zero_balances=True)
...     return str(account.balances[0].free)
>>> asyncio.run(main())
'1000.00000000'
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from tradewire import Signer
from tradewire.binance import sign_params
from tradewire.binance.client import BinanceClient
from tradewire.errors import error_from_response

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from decimal import Decimal

    from tradewire.exchange import LocalExchange

__all__ = ["LocalKey", "add_local_key", "client_key", "ed25519_pem_pair"]


@dataclass(frozen=True)
class LocalKey:
    """A key registered on a local exchange: the API key, its secret, and the exchange's URLs."""

    api_key: str
    secret: str = field(repr=False)
    rest_url: str
    stream_url: str = ""
    ws_api_url: str = ""

    def client(self, **options: Any) -> BinanceClient:
        """A ``BinanceClient`` that signs with this key, on the exchange's URLs."""
        urls = {"rest_url": self.rest_url}
        if self.stream_url:
            urls["stream_url"] = self.stream_url
        if self.ws_api_url:
            urls["ws_api_url"] = self.ws_api_url
        return BinanceClient(self.api_key, self.secret, **(urls | options))

    async def signed_get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """A signed GET of ``path`` (e.g. ``/api/v3/allOrders``), timed by the server's clock.

        For endpoints the client does not wrap, and to ask the exchange directly rather than
        through the code under test.

        Returns:
            The decoded JSON answer.

        Raises:
            APIError: The exchange refused (the subclass that fits its code).
        """
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(base_url=self.rest_url, timeout=timeout) as http:
            async with http.get("/api/v3/time") as time_answer:
                server_ms = json.loads(await time_answer.read())["serverTime"]
            query = sign_params(
                Signer.from_secret(self.secret),
                {**(params or {}), "recvWindow": 10000, "timestamp": server_ms},
            )
            async with http.get(
                f"{path}?{query}", headers={"X-MBX-APIKEY": self.api_key}
            ) as response:
                status, content = response.status, await response.read()
        try:
            body = json.loads(content)
        except ValueError:  # not JSON: a proxy's or server's error page
            body = None
        if status != 200 or body is None:
            error = body if isinstance(body, dict) else {}
            raise error_from_response(
                status,
                error.get("code"),
                error.get("msg", content[:200].decode("utf-8", "replace")),
                endpoint=path,
            )
        return body


def add_local_key(
    ex: LocalExchange,
    *,
    balances: Mapping[str, Decimal | str | int] | None = None,
    permissions: Iterable[str] = ("reading", "spot"),
    ip_whitelist: Iterable[str] | None = None,
    account_of: LocalKey | None = None,
) -> LocalKey:
    """Register a fresh HMAC key on ``ex`` (a new account, or ``account_of``'s); returns it.

    ``balances`` funds the new account (default: the exchange's starting balances).
    """
    secret = secrets.token_hex(32)
    api_key = ex.add_key(
        secret,
        permissions=permissions,
        ip_whitelist=ip_whitelist,
        balances=balances,
        account_of=None if account_of is None else account_of.api_key,
    )
    return LocalKey(api_key, secret, ex.rest_url, ex.stream_url, ex.ws_api_url)


def ed25519_pem_pair() -> tuple[str, str]:
    """A fresh Ed25519 key as PEM: (the private key a client signs with, the public key the
    exchange registers)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def client_key(
    ex: LocalExchange, kind: str, balances: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """A new account with ``balances`` and a key of ``kind`` (``hmac`` or ``ed25519``), for a
    third-party client: (the API key, ``{"api_secret": ...}`` or ``{"private_key": ...}``, the
    option names binance-connector, binance-sdk-spot and python-binance share)."""
    if kind == "hmac":
        secret = secrets.token_hex(32)
        return ex.add_key(secret, balances=dict(balances)), {"api_secret": secret}
    if kind != "ed25519":
        raise ValueError(f"kind is 'hmac' or 'ed25519', not {kind!r}")
    private, public = ed25519_pem_pair()
    return ex.add_key(public, balances=dict(balances)), {"private_key": private}

"""IBClient in OAuth 1.0a mode against the gateway's OAuth mode, end to end."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tradewire.errors import AuthenticationError
from tradewire.ib import IBClient, IBOrderRequest, OAuth1aCredentials
from tradewire.ib.oauth import LiveSessionToken, OAuth1aAuthorizer
from tradewire.ibgateway import LocalIBGateway

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# A 1024-bit safe prime made once for these tests (generator 2); IB issues 2048-bit ones.
DH_PRIME = (
    "bf1085bc2dee382177c1c1a2daf8648d6b82790e820165e8a0e33c8b416746610ebb6eedbb100c25dcc1c4b1"
    "02880a43ed903e7486faf2c60f3951d99fdaec6c98e4806ac69d9279d69e60878512868ea9189aa72e0ecfce0a"
    "32c1db5801aeb02519eec4c74aee20f82e67943a5eba66cfe60fc7fbd8a8d2b1e50d82990a37e7"
)


def pem(key: rsa.RSAPrivateKey) -> str:
    """A private key as PKCS#8 PEM text."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.asyncio
async def test_oauth_end_to_end(
    tmp_path: Path, clock_at: Callable[..., Callable[[], float]]
) -> None:
    signature = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with LocalIBGateway(symbols=("AAPL",), seed=3, oauth=True, clock=clock_at()) as gw:
        issued = gw.add_oauth_consumer(
            "TESTCONS1",
            signature_key=signature.public_key(),
            encryption_key=encryption.public_key(),
            dh_prime=DH_PRIME,
            realm="test_realm",
        )
        creds = OAuth1aCredentials(
            consumer_key="TESTCONS1",
            access_token=issued.access_token,
            access_token_secret=issued.access_token_secret,
            signature_key=pem(signature),
            encryption_key=pem(encryption),
            dh_prime=DH_PRIME,
            realm="test_realm",
        )
        assert not gw.session.authenticated
        async with IBClient(
            gw.url,
            cafile=gw.cert_path,
            oauth=creds,
            confirm_questions=("o354", "o10151"),
            error_log=tmp_path / "e.jsonl",
        ) as ib:
            assert ib.token is not None and ib.token.expires_ms > 0
            assert gw.session.authenticated  # ssodh/init, signed
            assert ib.account_id == gw.account_id
            aapl = await ib.resolve("AAPL")
            assert (await ib.snapshot([aapl.conid])) != {}
            ack = await ib.place_order(
                IBOrderRequest(aapl.conid, "BUY", Decimal(2), "MKT", "oauth-1")
            )
            assert gw.blotter.orders[ack.order_id].coid == "oauth-1"
            quote = await asyncio.wait_for(anext(ib.quotes(aapl.conid)), 5)  # ?oauth_token=
            assert quote.conid == aapl.conid
            # the token is renewed by the upkeep when it is about to expire
            first = ib.token
            ib.token = LiveSessionToken(token=first.token, expires_ms=int(time.time() * 1000))
            await ib.session.upkeep_once()
            assert ib.token is not first and ib.token.expires_ms > first.expires_ms - 60_000
            assert await ib.accounts() == [gw.account_id]  # signed with the new token
            # a request signed with another token is refused: 401, typed
            ib.transport.authorizer = OAuth1aAuthorizer(
                creds, LiveSessionToken(token="bm90IHRoZSB0b2tlbg==", expires_ms=0)
            )
            with pytest.raises(AuthenticationError, match="401"):
                await ib.accounts()

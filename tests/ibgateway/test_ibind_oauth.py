"""Fidelity: ibind's OAuth 1.0a flow, unmodified, against LocalIBGateway in OAuth mode: the live
session token (RSA-SHA256, Diffie-Hellman, HMAC-SHA1 validation), then HMAC-SHA256 signed calls;
bad signatures and unknown consumers get 401."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tradewire.ibgateway import LocalIBGateway

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

ibind = pytest.importorskip("ibind")
pytest.importorskip("Crypto")  # ibind's OAuth extra (pycryptodome)
oauth1a = pytest.importorskip("ibind.oauth.oauth1a")

# A 1024-bit safe prime made once for these tests (generator 2); IB issues 2048-bit ones.
DH_PRIME = (
    "bf1085bc2dee382177c1c1a2daf8648d6b82790e820165e8a0e33c8b416746610ebb6eedbb100c25dcc1c4b1"
    "02880a43ed903e7486faf2c60f3951d99fdaec6c98e4806ac69d9279d69e60878512868ea9189aa72e0ecfce0a"
    "32c1db5801aeb02519eec4c74aee20f82e67943a5eba66cfe60fc7fbd8a8d2b1e50d82990a37e7"
)


def pem(key: rsa.RSAPrivateKey) -> str:
    """A private key as PKCS#8 PEM text, the form ibind reads."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest_asyncio.fixture
async def oauth_gw(
    clock_at: Callable[[float], Callable[[], float]], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[LocalIBGateway]:
    """A gateway in OAuth mode; requests (ibind's HTTP library) trusts its certificate."""
    async with LocalIBGateway(symbols=("AAPL",), seed=3, oauth=True) as gateway:
        # ibind always verifies TLS in OAuth mode; requests takes the CA file from this variable.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(gateway.cert_path))
        yield gateway


def config(
    gw: LocalIBGateway, signature: rsa.RSAPrivateKey, encryption: rsa.RSAPrivateKey, consumer: str
) -> Any:
    creds = gw.add_oauth_consumer(
        consumer,
        signature_key=signature.public_key(),
        encryption_key=encryption.public_key(),
        dh_prime=DH_PRIME,
        realm="test_realm",
    )
    return oauth1a.OAuth1aConfig(
        oauth_rest_url=f"{gw.url}/",
        access_token=creds.access_token,
        access_token_secret=creds.access_token_secret,
        consumer_key=consumer,
        dh_prime=DH_PRIME,
        encryption_key=pem(encryption),
        signature_key=pem(signature),
        realm="test_realm",
        init_oauth=True,
        init_brokerage_session=True,
        maintain_oauth=False,
        shutdown_oauth=True,
    )


@pytest.mark.asyncio
async def test_oauth_end_to_end(oauth_gw: LocalIBGateway) -> None:
    gw = oauth_gw
    signature = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cfg = config(gw, signature, encryption, "TESTCONS1")

    def run() -> dict[str, Any]:
        client = ibind.IbkrClient(
            use_oauth=True,
            oauth_config=cfg,
            account_id=gw.account_id,
            auto_register_shutdown=False,
            max_retries=0,
            use_session=False,
        )
        out: dict[str, Any] = {"lst": client.live_session_token}
        out["tickle"] = client.tickle().data
        out["accounts"] = client.portfolio_accounts().data
        out["conid"] = client.stock_conid_by_symbol("AAPL").data
        out["snapshot"] = client.live_marketdata_snapshot("265598", ["31"]).data
        good = client.live_session_token
        client.live_session_token = base64.b64encode(b"not the live session token").decode()
        with pytest.raises(ibind.ExternalBrokerError) as bad:
            client.tickle()
        out["bad_status"] = bad.value.status_code
        client.live_session_token = good
        client.close()  # ibind logs out at shutdown
        return out

    out = await asyncio.to_thread(run)
    assert out["lst"]
    assert out["tickle"]["iserver"]["authStatus"]["authenticated"] is True
    assert out["accounts"][0]["id"] == gw.account_id
    assert out["conid"] == {"AAPL": 265598}
    assert out["snapshot"] == [{"conid": 265598, "conidEx": "265598"}]
    assert out["bad_status"] == 401
    assert gw.session.authenticated is False  # /logout ended the brokerage session


@pytest.mark.asyncio
async def test_oauth_refuses_unknown_consumer_and_wrong_key(oauth_gw: LocalIBGateway) -> None:
    gw = oauth_gw
    signature = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cfg = config(gw, signature, encryption, "TESTCONS2")
    cfg.consumer_key = "UNKNOWN12"
    impostor = config(gw, signature, encryption, "TESTCONS3")
    impostor.signature_key = pem(encryption)  # signs the LST request with the wrong key

    def attempt(c: Any) -> int:
        with pytest.raises(ibind.ExternalBrokerError) as err:
            ibind.IbkrClient(
                use_oauth=True,
                oauth_config=c,
                account_id=gw.account_id,
                auto_register_shutdown=False,
                max_retries=0,
                use_session=False,
            )
        return int(err.value.status_code)

    assert await asyncio.to_thread(attempt, cfg) == 401
    assert await asyncio.to_thread(attempt, impostor) == 401

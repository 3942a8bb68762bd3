"""Keys and signatures as Binance enforces them, checked with the signing vectors of its docs."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio

from tradewire import Signer
from tradewire.binance import sign_params
from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DATA = Path(__file__).parent / "data"

VECTORS = json.loads((DATA / "binance-signing.json").read_text())
SIGNATURES = {v["id"]: v for v in VECTORS["signatures"]}
QUERIES = {v["id"]: v for v in VECTORS["rest_queries"]}
HMAC_API_KEY = VECTORS["api_key_hmac"]


def vector_time(payload: str) -> int:
    """The timestamp signed in a vector's payload."""
    return int(payload.split("timestamp=")[1].split("&")[0])


@pytest_asyncio.fixture
async def vex() -> AsyncIterator[LocalExchange]:
    """An exchange listing the vectors' symbols."""
    async with LocalExchange(symbols=("BTCUSDT", "LTCBTC"), market="none") as exchange:
        yield exchange


async def send(
    ex: LocalExchange, method: str, path: str, query: str, api_key: str
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=ex.rest_url) as client:
        return await client.request(method, f"{path}?{query}", headers={"X-MBX-APIKEY": api_key})


def at(ex: LocalExchange, timestamp: int) -> None:
    """Skew the server clock so that ``timestamp`` is now."""
    ex.set_faults(clock_skew_ms=timestamp - time.time_ns() // 1_000_000 + 50)


@pytest.mark.asyncio
async def test_hmac_vector_query_places_the_order(vex: LocalExchange) -> None:
    vector = QUERIES["Q1"]
    api_key = vex.add_key(vector["secret"], api_key=HMAC_API_KEY)
    at(vex, vector_time(vector["query"]))
    response = await send(vex, "POST", "/api/v3/order", vector["query"], api_key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["symbol"], body["side"], body["price"], body["origQty"]) == (
        "LTCBTC",
        "BUY",
        "0.10000000",
        "1.00000000",
    )


@pytest.mark.asyncio
async def test_hmac_vector_with_percent_encoded_symbol_passes_the_signature(
    vex: LocalExchange,
) -> None:
    vector = QUERIES["Q2"]
    api_key = vex.add_key(vector["secret"], api_key=HMAC_API_KEY)
    at(vex, vector_time(vector["query"]))
    response = await send(vex, "POST", "/api/v3/order", vector["query"], api_key)
    assert response.json() == {"code": -1121, "msg": "Invalid symbol."}  # signature was fine


@pytest.mark.asyncio
async def test_ed25519_vector_query_passes_the_signature(vex: LocalExchange) -> None:
    vector = QUERIES["Q3"]
    api_key = vex.add_key((DATA / "ed25519-vector-public.pem").read_text())
    at(vex, vector_time(vector["query"]))
    response = await send(vex, "POST", "/api/v3/order", vector["query"], api_key)
    # 1 BTC at 0.2 USDT is below the 5 USDT minimum notional: rejected after the signature check
    assert response.json() == {"code": -1013, "msg": "Filter failure: NOTIONAL"}


@pytest.mark.asyncio
async def test_rsa_vector_passes_the_signature(vex: LocalExchange) -> None:
    vector = SIGNATURES["D4"]
    api_key = vex.add_key((DATA / "rsa-vector-public.pem").read_text())
    at(vex, vector_time(vector["payload"]))
    query = f"{vector['payload']}&signature={quote(vector['signature'], safe='')}"
    response = await send(vex, "POST", "/api/v3/order", query, api_key)
    assert response.json() == {"code": -1013, "msg": "Filter failure: NOTIONAL"}


@pytest.mark.asyncio
async def test_signature_covers_query_then_body_without_separator(vex: LocalExchange) -> None:
    # rest-api.md, "mixed query string and request body": totalParams = query + body
    vector = SIGNATURES["H1"]
    api_key = vex.add_key(vector["secret"], api_key=HMAC_API_KEY)
    at(vex, vector_time(vector["payload"]))
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    documented = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    headers = {"X-MBX-APIKEY": api_key, "Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=vex.rest_url) as client:
        joined = await client.post(
            f"/api/v3/order?{query}",
            content=f"{body}&signature={vector['signature']}",
            headers=headers,
        )
        mixed = await client.post(
            f"/api/v3/order?{query}", content=f"{body}&signature={documented}", headers=headers
        )
    assert joined.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    assert mixed.status_code == 200, mixed.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.replace("quantity=1", "quantity=2"),
        lambda q: q.replace("signature=c8", "signature=d8"),
        lambda q: q.replace("LTCBTC", "LTC%42TC"),  # same decoded value, other bytes
    ],
)
async def test_any_change_to_the_signed_bytes_is_minus_1022(
    vex: LocalExchange, tamper: Any
) -> None:
    vector = QUERIES["Q1"]
    api_key = vex.add_key(vector["secret"], api_key=HMAC_API_KEY)
    at(vex, vector_time(vector["query"]))
    response = await send(vex, "POST", "/api/v3/order", tamper(vector["query"]), api_key)
    assert response.status_code == 400
    assert response.json() == {"code": -1022, "msg": "Signature for this request is not valid."}


@pytest.mark.asyncio
async def test_timestamps(alice: Any) -> None:
    now = int(time.time() * 1000)
    cases = [
        (
            {"timestamp": now + 1500},
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
        ({"timestamp": now - 6000}, "Timestamp for this request is outside of the recvWindow."),
        (
            {"timestamp": now - 3000, "recvWindow": 2000},
            "Timestamp for this request is outside of the recvWindow.",
        ),
    ]
    for params, msg in cases:
        response = await alice.client.get(
            f"/api/v3/account?{alice.sign_query(params)}", headers={"X-MBX-APIKEY": alice.api_key}
        )
        assert response.json() == {"code": -1021, "msg": msg}
    ok = await alice.client.get(
        f"/api/v3/account?{alice.sign_query({'timestamp': now - 6000, 'recvWindow': 60000})}",
        headers={"X-MBX-APIKEY": alice.api_key},
    )
    assert ok.status_code == 200
    too_big = await alice.client.get(
        f"/api/v3/account?{alice.sign_query({'recvWindow': 60001})}",
        headers={"X-MBX-APIKEY": alice.api_key},
    )
    assert too_big.json()["code"] == -1131
    missing = await alice.client.get(
        "/api/v3/account?signature=00", headers={"X-MBX-APIKEY": alice.api_key}
    )
    assert missing.json()["code"] in (-1022, -1102)


@pytest.mark.asyncio
async def test_api_key_errors(client: httpx.AsyncClient, alice: Any) -> None:
    query = alice.sign_query({})
    missing = await client.get(f"/api/v3/account?{query}")
    assert (missing.status_code, missing.json()) == (
        401,
        {"code": -2014, "msg": "API-key format invalid."},
    )
    bad_format = await client.get(f"/api/v3/account?{query}", headers={"X-MBX-APIKEY": "short"})
    assert bad_format.json()["code"] == -2014
    unknown = await client.get(f"/api/v3/account?{query}", headers={"X-MBX-APIKEY": "A" * 64})
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    )


@pytest.mark.asyncio
async def test_permissions_and_ip_whitelist(make_trader: Any) -> None:
    reader = make_trader(permissions=("reading",))
    response = await reader.call(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
    )
    assert response.json()["code"] == -2015
    assert (await reader.call("GET", "/api/v3/account")).status_code == 200

    elsewhere = make_trader(ip_whitelist=("10.1.2.3",))
    assert (await elsewhere.call("GET", "/api/v3/account")).json()["code"] == -2015
    here = make_trader(ip_whitelist=("127.0.0.1",))
    assert (await here.call("GET", "/api/v3/account")).status_code == 200


@pytest.mark.asyncio
async def test_api_restrictions_report_the_keys_flags(make_trader: Any) -> None:
    trader = make_trader(permissions=("reading", "withdrawals"), ip_whitelist=("127.0.0.1",))
    flags = await trader.ok("GET", "/sapi/v1/account/apiRestrictions")
    assert flags["ipRestrict"] is True
    assert flags["enableReading"] is True
    assert flags["enableWithdrawals"] is True
    assert flags["enableSpotAndMarginTrading"] is False
    assert isinstance(flags["createTime"], int)


@pytest.mark.asyncio
async def test_key_repr_never_shows_the_secret(ex: LocalExchange) -> None:
    api_key = ex.add_key("very-secret-value")
    assert "very-secret-value" not in repr(ex.core.keys.get(api_key))


@pytest.mark.asyncio
async def test_keys_file(tmp_path: Path) -> None:
    (tmp_path / "ed.pem").write_text((DATA / "ed25519-vector-public.pem").read_text())
    keys = [
        {
            "secret": "file-secret",
            "api_key": "F" * 64,
            "permissions": ["reading"],
            "balances": {"USDT": "5"},
        },
        {"public_key_file": "ed.pem", "ip_whitelist": ["127.0.0.1"]},
    ]
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        hmac_key, ed_key = ex.load_keys(tmp_path / "keys.json")
        assert hmac_key == "F" * 64
        query = f"timestamp={ex.server_time()}"
        signature = Signer.from_secret("file-secret").sign(query)
        async with httpx.AsyncClient(base_url=ex.rest_url) as client:
            flags = await client.get(
                f"/sapi/v1/account/apiRestrictions?{query}&signature={signature}",
                headers={"X-MBX-APIKEY": hmac_key},
            )
            account = await client.get(
                f"/api/v3/account?{query}&signature={signature}", headers={"X-MBX-APIKEY": hmac_key}
            )
        assert (flags.json()["enableReading"], flags.json()["enableSpotAndMarginTrading"]) == (
            True,
            False,
        )
        assert account.json()["balances"] == [
            {"asset": "USDT", "free": "5.00000000", "locked": "0.00000000"}
        ]
        ed = ex.core.keys.get(ed_key)
        assert ed is not None
        assert (ed.key_type, ed.ip_whitelist) == ("ed25519", ("127.0.0.1",))


@pytest.mark.asyncio
async def test_a_second_key_shares_the_account_and_a_removed_key_is_refused() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        first_secret, second_secret = secrets.token_hex(32), secrets.token_hex(32)
        first = ex.add_key(first_secret, balances={"USDT": "123"})
        second = ex.add_key(second_secret, account_of=first)
        async with httpx.AsyncClient(base_url=ex.rest_url) as http:

            async def account(key: str, secret: str) -> httpx.Response:
                query = sign_params(
                    Signer.from_secret(secret), {"timestamp": int(time.time() * 1000)}
                )
                return await http.get("/api/v3/account?" + query, headers={"X-MBX-APIKEY": key})

            for key, secret in ((first, first_secret), (second, second_secret)):
                body = (await account(key, secret)).json()
                assert {b["asset"]: b["free"] for b in body["balances"]}["USDT"] == "123.00000000"
            ex.remove_key(first)
            refused = await account(first, first_secret)
            assert refused.json()["code"] == -2015
            assert (await account(second, second_secret)).status_code == 200
        with pytest.raises(KeyError):
            ex.remove_key(first)
        with pytest.raises(KeyError):
            ex.add_key(secrets.token_hex(32), account_of="nope")

"""tradewire.binance.sign_params and the WebSocket API form, against Binance's vectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire import ExactDecimal, Signer
from tradewire.binance import sign_params, sign_ws_params, ws_api_payload

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_rest_query_vectors(vectors: dict[str, Any]) -> None:
    assert [q["id"] for q in vectors["rest_queries"]] == ["Q1", "Q2", "Q3"]
    for q in vectors["rest_queries"]:
        signer = Signer.from_secret(q["secret"])
        pairs = [tuple(p) for p in q["params"]]
        assert sign_params(signer, pairs) == q["query"], q["id"]
        assert sign_params(signer, dict(pairs)) == q["query"], q["id"]


def test_ws_api_vectors(vectors: dict[str, Any]) -> None:
    for v in vectors["signatures"]:
        if not v["payload"].startswith("apiKey="):
            continue
        params = dict(pair.split("=", 1) for pair in v["payload"].split("&"))
        shuffled = dict(reversed(list(params.items())))
        assert ws_api_payload(shuffled) == v["payload"], v["id"]
        signed = sign_ws_params(Signer.from_secret(v["secret"]), shuffled)
        assert signed["signature"] == v["signature"], v["id"]
        assert ws_api_payload(signed) == v["payload"]  # the signature itself is not signed


def test_values_are_written_exactly() -> None:
    signer = Signer.from_secret(SECRET)
    query = sign_params(
        signer,
        [
            ("quantity", Decimal("1E-7")),
            ("price", ExactDecimal("65000.010")),
            ("recvWindow", 5000),
            ("newOrderRespType", None),
            ("test", True),
            ("big", 10**20),
            ("note", "a b&c=d/é~"),
        ],
    )
    body = query.rsplit("&signature=", 1)[0]
    assert body == (
        "quantity=0.0000001&price=65000.01&recvWindow=5000&test=true"
        "&big=100000000000000000000&note=a%20b%26c%3Dd%2F%C3%A9~"
    )
    assert query.endswith(signer.sign(body))


@pytest.mark.parametrize("bad", [0.1, object(), [1], b"bytes"])
def test_floats_and_unknown_values_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        sign_params(Signer.from_secret(SECRET), {"price": bad})  # type: ignore[dict-item]


def test_params_shape_is_checked() -> None:
    signer = Signer.from_secret(SECRET)
    with pytest.raises(TypeError, match="pairs"):
        sign_params(signer, [("a", "1", "extra")])  # type: ignore[list-item]
    assert sign_params(signer, []) == "signature=" + signer.sign(b"")


@pytest.mark.slow
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12), max_size=6))
def test_the_signed_bytes_are_the_sent_bytes(params: dict[str, str]) -> None:
    signer = Signer.from_secret(SECRET)
    query = sign_params(signer, params)
    body, _, signature = query.rpartition("signature=")
    body = body[:-1] if body else body
    assert query.isascii()
    assert signer.verify(body, signature)

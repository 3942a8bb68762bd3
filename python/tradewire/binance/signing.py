"""Binance request signing: the REST query form and the WebSocket API form."""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

from tradewire._core import signed_query, ws_api_signature_payload

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tradewire._core import ParamValue, Signer

    Params = Mapping[str, ParamValue] | Iterable[tuple[str, ParamValue]]

__all__ = ["sign_params", "sign_ws_params", "ws_api_payload"]


@overload
def sign_params(signer: Signer, params: Mapping[str, ParamValue]) -> str: ...
@overload
def sign_params(signer: Signer, params: Iterable[tuple[str, ParamValue]]) -> str: ...
def sign_params(signer: Signer, params: Params) -> str:
    """Build the signed REST query string, to be sent exactly as returned.

    Parameters are kept in the order given, keys and values percent-encoded (RFC 3986, UTF-8,
    uppercase hex), and ``&signature=...`` is appended last (itself percent-encoded when it is
    base64). Values may be ``str``, ``int``, ``bool``, ``decimal.Decimal`` or ``ExactDecimal``;
    ``None`` values are left out and floats are refused, so an amount is never rounded.

    >>> from tradewire import Signer
    >>> s = Signer.from_secret("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
    >>> sign_params(s, {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT",
    ...     "timeInForce": "GTC", "quantity": "1", "price": "0.1", "recvWindow": 5000,
    ...     "timestamp": 1499827319559})[-64:]
    'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71'
    """
    return signed_query(signer, params)


@overload
def ws_api_payload(params: Mapping[str, ParamValue]) -> str: ...
@overload
def ws_api_payload(params: Iterable[tuple[str, ParamValue]]) -> str: ...
def ws_api_payload(params: Params) -> str:
    """The WebSocket API signing payload: params except ``signature``, sorted, joined raw."""
    return ws_api_signature_payload(params)


def sign_ws_params(signer: Signer, params: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
    """Return ``params`` plus its WebSocket API ``signature`` (plain base64 or hex, not encoded).

    ``params`` must already hold ``apiKey`` and ``timestamp``: they are part of what is signed.
    """
    signed = dict(params)
    signed["signature"] = signer.sign(ws_api_signature_payload(params))
    return signed

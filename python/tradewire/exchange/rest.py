"""REST API under /api/v3 and /sapi/v1: HTTP routing, weights, headers and signing checks."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from tradewire.errors import ExchangeRejection, ExchangeThrottled
from tradewire.exchange.auth import check_key, check_signature, check_timestamp
from tradewire.exchange.handlers import KEY_ONLY, PERMISSION, ROUTES, Call, Endpoint
from tradewire.exchange.params import SIGNATURE_PARAM, Params, parse_form
from tradewire.exchange.timeunit import in_unit, read_time_unit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.exchange.core import ExchangeCore
    from tradewire.exchange.keys import ApiKey

__all__ = ["add_routes"]

log = logging.getLogger(__name__)


def _without_signature(raw: str) -> str:
    return "&".join(p for p in raw.split("&") if not p.startswith(SIGNATURE_PARAM + "="))


def _authenticate(
    core: ExchangeCore,
    request: web.Request,
    raw_query: str,
    body: str,
    params: Params,
    endpoint: Endpoint,
    now: int,
) -> ApiKey:
    api_key = request.headers.get("X-MBX-APIKEY")
    if endpoint.security == KEY_ONLY:
        return check_key(core.keys, api_key, request.remote or "", None)
    key = check_key(core.keys, api_key, request.remote or "", PERMISSION[endpoint.security])
    payload = _without_signature(raw_query) + _without_signature(body)
    try:
        payload_bytes = payload.encode("ascii")
    except UnicodeEncodeError:  # non-ASCII must be percent-encoded before signing
        raise ExchangeRejection(-1022, "Signature for this request is not valid.") from None
    check_signature(key, payload_bytes, params.values.get(SIGNATURE_PARAM))
    check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
    return key


async def _read_body(request: web.Request) -> bytes:
    """The request body, or 413 (-1100) past aiohttp's limit (1 MiB) instead of a 500."""
    if not request.can_read_body:
        return b""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ExchangeRejection(
            -1100, "Illegal characters found in a parameter: the body is over 1 MiB.", 413
        ) from None


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


def add_routes(
    app: web.Application,
    core: ExchangeCore,
    extra: Mapping[tuple[str, str], Endpoint] | None = None,
) -> None:
    """Serve every REST endpoint of ``core`` on ``app``, and the optional ``extra`` ones."""
    routes = {**ROUTES, **(extra or {})}

    async def dispatch(request: web.Request) -> web.StreamResponse:
        core.metrics.requests += 1
        if core.faults.delay_ms:
            await asyncio.sleep(core.faults.delay_ms / 1000)
        endpoint = routes.get((request.method, request.path))
        if endpoint is None:
            return _unrouted(request, routes)
        now = core.now()
        ip = request.remote or ""
        headers: dict[str, str] = {}
        try:
            raw_query = request.raw_path.partition("?")[2]
            body = (await _read_body(request)).decode("utf-8", "replace")
            values = parse_form(body)
            values.update(parse_form(raw_query))  # the query string wins over the body
            params = Params(values)
            time_scale = read_time_unit(request.headers.get("X-MBX-TIME-UNIT"))  # else -1194
            try:
                core.limiter.weigh(ip, endpoint.weight(params), now)
            finally:
                headers["X-MBX-USED-WEIGHT-1M"] = str(core.limiter.used_weight(ip, now))
            key = None
            if endpoint.security != "NONE":
                key = _authenticate(core, request, raw_query, body, params, endpoint, now)
            call = Call(core, params, now, key)
            try:
                result = endpoint.handler(call)
                params.finish()  # -1104 on every endpoint, not only those that change state
            finally:
                if endpoint.counts_order and key is not None:
                    ten_s, day = core.limiter.order_counts(key.account, now)
                    headers["X-MBX-ORDER-COUNT-10S"] = str(ten_s)
                    headers["X-MBX-ORDER-COUNT-1D"] = str(day)
            response = _json(in_unit(result, time_scale))
        except ExchangeThrottled as exc:
            if exc.status == 429:
                core.metrics.responses_429 += 1
            else:
                core.metrics.responses_418 += 1
            response = _json(exc.body(), exc.status)
            headers["Retry-After"] = str(exc.retry_after_s)
        except ExchangeRejection as exc:
            response = _json(exc.body(), exc.status)
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.path)
            response = _json(
                {"code": -1000, "msg": "An unknown error occurred while processing the request."},
                500,
            )
        response.headers.update(headers)
        return response

    for method, path in routes:
        app.router.add_route(method, path, dispatch)
    # Last, so that the stream and WebSocket API routes added after this one still match first:
    # aiohttp tries a resource only when no more specific one matched the path and method.
    app.router.add_route("*", "/{tail:.*}", dispatch)


def _unrouted(request: web.Request, routes: Mapping[tuple[str, str], Endpoint]) -> web.Response:
    """JSON for a path or method we do not serve, so clients see an API error, not a network one.

    Binance answers unknown paths with an empty or HTML 404; clients then raise a network-level
    error that bots retry. The local exchange answers ``{"code": -1020, ...}`` instead.
    """
    allowed = sorted(m for m, p in routes if p == request.path)
    if allowed:
        response = _json(
            {
                "code": -1020,
                "msg": f"This operation is not supported: {request.method} {request.path} "
                f"(allowed: {', '.join(allowed)}).",
            },
            405,
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return _json(
        {
            "code": -1020,
            "msg": f"This operation is not supported: {request.path} is not an endpoint of the "
            "local exchange.",
        },
        404,
    )

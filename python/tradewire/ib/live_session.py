"""The live-session-token call of IB's OAuth 1.0a over HTTP (aiohttp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.errors import IBAuthError
from tradewire.ib.oauth import (
    LIVE_SESSION_TOKEN_PATH,
    LiveSessionToken,
    OAuth1aCredentials,
    build_live_session_token_request,
    parse_live_session_token_reply,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = ["request_live_session_token"]


async def request_live_session_token(
    http: aiohttp.ClientSession,
    base_url: str,
    credentials: OAuth1aCredentials,
    *,
    dh_secret: int | None = None,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> LiveSessionToken:
    """``POST {base_url}/oauth/live_session_token`` and return the validated token.

    Args:
        http: The aiohttp session to send with.
        base_url: The API base, e.g. ``https://api.ibkr.com/v1/api``.
        credentials: The consumer's credentials.
        dh_secret: The Diffie-Hellman secret (random when omitted).
        nonce: The OAuth nonce (random when omitted).
        timestamp: Seconds since the epoch (now when omitted).

    Raises:
        IBAuthError: IB refused the request, the reply is malformed, or the token is invalid.
    """
    request = build_live_session_token_request(
        credentials,
        base_url.rstrip("/") + LIVE_SESSION_TOKEN_PATH,
        dh_secret=dh_secret,
        nonce=nonce,
        timestamp=timestamp,
    )
    async with http.post(request.url, headers={"Authorization": request.authorization}) as r:
        text = await r.text()
        if r.status != 200:
            raise IBAuthError(
                f"POST {LIVE_SESSION_TOKEN_PATH} answered HTTP {r.status}: {text[:200]} "
                "(401 'Invalid Consumer' means a new consumer key not yet active: wait for the "
                "next midnight reset)"
            )
        try:
            body = await r.json(content_type=None)
        except ValueError:
            raise IBAuthError("the live session token reply is not JSON") from None
    return parse_live_session_token_reply(credentials, request, body)

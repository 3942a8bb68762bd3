"""Interactive Brokers: the asyncio Web API client (:class:`IBClient`) and OAuth 1.0a signing."""

from tradewire.ib.account import IBLedgerRow, IBPosition
from tradewire.ib.client import IBClient
from tradewire.ib.contracts import IBContract, TickRules
from tradewire.ib.live_session import request_live_session_token
from tradewire.ib.marketdata import IBQuote
from tradewire.ib.oauth import (
    LiveSessionToken,
    OAuth1aAuthorizer,
    OAuth1aCredentials,
    OAuthRequestSigner,
)
from tradewire.ib.orders import IBExecution, IBOrder, IBOrderAck, IBOrderRequest
from tradewire.ib.ratelimit import IBLimiter, WindowRule

__all__ = [
    "IBClient",
    "IBContract",
    "IBExecution",
    "IBLedgerRow",
    "IBLimiter",
    "IBOrder",
    "IBOrderAck",
    "IBOrderRequest",
    "IBPosition",
    "IBQuote",
    "LiveSessionToken",
    "OAuth1aAuthorizer",
    "OAuth1aCredentials",
    "OAuthRequestSigner",
    "TickRules",
    "WindowRule",
    "request_live_session_token",
]

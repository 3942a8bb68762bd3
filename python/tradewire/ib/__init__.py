"""Interactive Brokers: the Web API's OAuth 1.0a (live session token and request signing)."""

from tradewire.ib.live_session import request_live_session_token
from tradewire.ib.oauth import (
    LiveSessionToken,
    OAuth1aAuthorizer,
    OAuth1aCredentials,
    OAuthRequestSigner,
)

__all__ = [
    "LiveSessionToken",
    "OAuth1aAuthorizer",
    "OAuth1aCredentials",
    "OAuthRequestSigner",
    "request_live_session_token",
]

"""Signal bots' front door: authenticated webhooks (TradingView-alert-like JSON) that drive a bot.

The server (:class:`WebhookServer`) checks every call (size, content type, JSON, the bot's
secret token or an HMAC-SHA256 signature, a fresh timestamp, an unused nonce), parses it into
a :class:`~tradewire.bots.signal.Signal` with exact amounts, and hands it to the bot's
:class:`~tradewire.bots.signal.SignalInbox`; the bot's verdict is the answer. Every call is
logged as one JSON line (:class:`CallLog`). This package imports no venue code: it talks to the
bot through the inbox only. See docs/signals.md.
"""

from __future__ import annotations

from tradewire.signals.auth import SIGNATURE_HEADER, BotTokens, sign_body
from tradewire.signals.calllog import CallLog
from tradewire.signals.parse import parse_timestamp, read_fields, signal_from
from tradewire.signals.replay import ReplayGuard
from tradewire.signals.server import WebhookServer

__all__ = [
    "SIGNATURE_HEADER",
    "BotTokens",
    "CallLog",
    "ReplayGuard",
    "WebhookServer",
    "parse_timestamp",
    "read_fields",
    "sign_body",
    "signal_from",
]

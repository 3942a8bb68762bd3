"""Every error tradewire raises, in one hierarchy, with Binance's codes mapped onto it.

All exceptions derive from :class:`TradewireError`. Errors that come back from an exchange derive
from :class:`APIError` and carry the exchange's ``code``, its ``msg``, the ``endpoint`` and a
``hint`` that says what to do about it. Errors about bad input (a malformed message, a bad key, a
number that is not a decimal) are also ``ValueError``\\ s, so generic handlers keep working.

The Rust core raises these same classes: this module is the one place they are defined.
This module imports nothing of tradewire.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "BacktestError",
    "BookError",
    "BookNotSynced",
    "BotConfigError",
    "ConfigError",
    "DataError",
    "DecimalError",
    "EmptyBook",
    "ExchangeRejection",
    "ExchangeThrottled",
    "ExchangeUnavailable",
    "HttpFailure",
    "IBAuthError",
    "IBCompetingSession",
    "IBContractError",
    "IBLoginRequired",
    "IBNoBrokerageSession",
    "IBOrderRejected",
    "IBPenaltyBox",
    "IBQuestionRefused",
    "IBRateLimited",
    "IBUnavailable",
    "IPBanned",
    "InsecureKeyFile",
    "InsufficientFunds",
    "InvalidKey",
    "InvalidOrder",
    "InvalidSignature",
    "InvalidTimestamp",
    "JournalError",
    "KeyExists",
    "KeyNotFound",
    "KeyStoreError",
    "KeyStoreLocked",
    "NetworkError",
    "OrderNotFound",
    "OrderStatusUnknown",
    "ParseError",
    "PermissionDenied",
    "RateLimitExceeded",
    "ResumeError",
    "SequenceGap",
    "SignalRefused",
    "StrategyError",
    "StreamOverflow",
    "SweepError",
    "SymbolMismatch",
    "TradewireError",
    "UnknownOrder",
    "WrongPassword",
    "error_from_response",
]


class TradewireError(Exception):
    """Base class of every error tradewire raises."""


# --- local errors: bad input, keys, decimals, books -------------------------------------------


class ParseError(TradewireError, ValueError):
    """A message or body could not be parsed; ``field`` and ``offset`` say where."""

    def __init__(self, message: str, field: str | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.offset = offset


class InvalidKey(TradewireError, ValueError):
    """A secret or key is malformed, encrypted or of an unsupported kind (never echoes the key)."""


class DecimalError(TradewireError, ValueError):
    """A decimal is out of range, or an exact operation would lose digits."""


class BacktestError(TradewireError, ValueError):
    """A backtest cannot run as asked: bad settings, unusable data, or an order the
    simulation engine refuses."""


class SweepError(TradewireError, ValueError):
    """A parameter sweep cannot run as asked: a bad ``--param``, executor or setting."""


class DataError(TradewireError, ValueError):
    """A market-data file (a Binance CSV file, a recording) could not be read.

    ``path``, ``line`` (from 1, in the decompressed file) and ``column`` say where, when known.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


class BookError(TradewireError):
    """Base class of order-book consistency errors."""


class SequenceGap(BookError):
    """A depth update skipped update ids: the book is dropped and needs a new snapshot."""

    def __init__(self, message: str, expected: int | None = None, got: int | None = None) -> None:
        super().__init__(message)
        self.expected = expected
        self.got = got


class BookNotSynced(BookError):
    """The book has no valid snapshot (never loaded, or dropped after a gap)."""


class EmptyBook(BookError):
    """The venue's book had no bid or no ask for as long as tradewire waited: there is no price
    to size or start a bot from. On a thin market, wait for quotes or pass the price yourself."""


class SymbolMismatch(BookError, ValueError):
    """A message for another symbol was applied to this book."""


class StreamOverflow(TradewireError):
    """A stream consumer fell behind and its bounded queue was full (``overflow="raise"``)."""


# --- errors from the exchange ------------------------------------------------------------------


class APIError(TradewireError):
    """An error answered by the exchange (or the lack of an answer), with a hint on what to do."""

    default_hint = "See the exchange's error code documentation."

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        endpoint: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.msg = message
        self.code = code
        self.status = status
        self.endpoint = endpoint
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = f" on {self.endpoint}" if self.endpoint else ""
        code = f" [{self.code}]" if self.code is not None else ""
        return f"{self.msg}{code}{where}. Hint: {self.hint}"


class AuthenticationError(APIError):
    """The API key is missing, unknown, or not valid for this request."""

    default_hint = (
        "Check the API key: it may be wrong, deleted, or for another environment "
        "(testnet keys do not work on the live exchange)."
    )


class InvalidSignature(AuthenticationError):
    """The exchange rejected the request signature."""

    default_hint = (
        "The secret does not match the API key, or the signed bytes differ from the sent ones; "
        "check the secret and that the clock is in sync."
    )


class InvalidTimestamp(AuthenticationError):
    """The request timestamp is outside the exchange's receive window."""

    default_hint = (
        "The local clock is out of sync with the exchange: resync the clock offset. "
        "A larger recvWindow does not help a clock that runs ahead."
    )


class PermissionDenied(AuthenticationError):
    """The key lacks the permission for this request, or the IP is not whitelisted."""

    default_hint = (
        "Enable the needed permission (e.g. spot trading) on the API key, or add this machine's "
        "IP to the key's whitelist."
    )


class RateLimitExceeded(APIError):
    """Too many requests or orders: back off (HTTP 429 or an order-rate error)."""

    default_hint = (
        "Back off until the limit resets; use streams instead of polling, and honour Retry-After."
    )

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class IPBanned(RateLimitExceeded):
    """The IP is banned (HTTP 418) for ignoring rate limits; ``banned_until`` is in ms."""

    default_hint = "Stop sending requests until the ban ends; the ban grows if requests continue."

    def __init__(
        self,
        message: str,
        *,
        banned_until: int | None = None,
        **kw: object,
    ) -> None:
        self.banned_until = banned_until
        super().__init__(message, **kw)  # type: ignore[arg-type]


class InsufficientFunds(APIError):
    """The account balance cannot cover the order."""

    default_hint = "Reduce the order size or add funds; locked balance in open orders is not free."


class InvalidOrder(APIError):
    """The order breaks a symbol filter or parameter rule."""

    default_hint = (
        "Round price to tickSize and quantity to stepSize, and check minimum notional "
        "(see exchangeInfo filters)."
    )


class OrderNotFound(APIError):
    """The order does not exist (or is no longer open)."""

    default_hint = "Check the symbol and the order id; the order may already be filled or canceled."


class OrderStatusUnknown(APIError):
    """The order was sent but its fate is unknown (5xx, -1007 or a timeout).

    ``accept_until_ms``, when known, is the exchange time after which the venue can no longer
    accept the request (its ``timestamp`` plus ``recvWindow`` on Binance): until then, an order
    not found yet may still appear.
    """

    default_hint = (
        "Do not resend blindly: query the order by its client order id and reconcile first."
    )
    accept_until_ms: int | None = None


class NetworkError(APIError):
    """The request could not reach the exchange, or the connection broke."""

    default_hint = "Check connectivity; the request is retried with backoff where it is safe."


class ExchangeUnavailable(APIError):
    """The exchange is down, in maintenance, or answered 5xx."""

    default_hint = "The exchange is unavailable: retry later with backoff."


# --- tradewire's own parts: configuration, bots, journal, runs, keys ---------------------------


class ConfigError(TradewireError, ValueError):
    """The configuration file or environment is invalid; the message says where and why."""


class BotConfigError(TradewireError, ValueError):
    """A bot's parameters are invalid for the symbol or the account; the message says why."""


class StrategyError(TradewireError, ValueError):
    """A user's strategy could not be loaded or built: the file, module or class is missing, it
    is not a :class:`~tradewire.trading.strategy.Strategy`, or its parameters do not fit."""


class JournalError(TradewireError):
    """The journal refused a record (bad value, duplicate intent) or cannot be opened."""


class UnknownOrder(JournalError, LookupError):
    """No order with that client order id is in the journal."""


class ResumeError(TradewireError):
    """Orders of the last run are in an unknown state: the bot must not start blind."""


class IBAuthError(TradewireError, ValueError):
    """Interactive Brokers OAuth 1.0a failed: a bad credential or input, or a live session token
    that does not validate (never echoes a secret)."""


class KeyStoreError(TradewireError):
    """Base class of the key store's errors (their messages never hold a secret)."""


class KeyNotFound(KeyStoreError, LookupError):
    """No key of that name is stored."""


class KeyExists(KeyStoreError):
    """A key of that name is already stored (``rotate`` replaces it)."""


class InsecureKeyFile(KeyStoreError):
    """The key file can be read by other users (its mode is not 0600)."""


class KeyStoreLocked(KeyStoreError):
    """The encrypted key file needs a password and none can be had."""


class WrongPassword(KeyStoreError):
    """The key file's password is wrong (or the file was altered)."""


# --- signals between layers, never seen by users -----------------------------------------------


class HttpFailure(TradewireError):
    """No HTTP answer: ``kind`` names what failed; ``sent`` is False if nothing left this host.

    Raised by the REST transports and turned into :class:`NetworkError` by the REST client.
    """

    def __init__(self, kind: str, *, sent: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.sent = sent


class ExchangeRejection(TradewireError):
    """The local exchange's answer to a request it refuses: Binance's error JSON, never a trace.

    Raised inside :mod:`tradewire.exchange` and sent to the client as ``{"code", "msg"}``.
    """

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, object]:
        """The JSON body Binance sends for this error."""
        return {"code": self.code, "msg": self.msg}


class ExchangeThrottled(ExchangeRejection):
    """The local exchange's 429 or 418 answer, with the seconds to put in ``Retry-After``."""

    def __init__(self, code: int, msg: str, status: int, retry_after_s: int) -> None:
        super().__init__(code, msg, status)
        self.retry_after_s = retry_after_s


# Binance Spot error codes (binance-spot-api-docs, errors.md) mapped onto the hierarchy.
_CODE_CLASSES: dict[int, type[APIError]] = {
    -1000: ExchangeUnavailable,  # UNKNOWN
    -1001: ExchangeUnavailable,  # DISCONNECTED
    -1002: AuthenticationError,  # UNAUTHORIZED
    -1003: RateLimitExceeded,  # TOO_MANY_REQUESTS
    -1006: OrderStatusUnknown,  # UNEXPECTED_RESP
    -1007: OrderStatusUnknown,  # TIMEOUT
    -1008: ExchangeUnavailable,  # SERVER_BUSY
    -1013: InvalidOrder,  # filter failure
    -1015: RateLimitExceeded,  # TOO_MANY_ORDERS
    -1016: ExchangeUnavailable,  # SERVICE_SHUTTING_DOWN
    -1021: InvalidTimestamp,  # INVALID_TIMESTAMP
    -1022: InvalidSignature,  # INVALID_SIGNATURE
    -1100: InvalidOrder,  # ILLEGAL_CHARS
    -1101: InvalidOrder,  # TOO_MANY_PARAMETERS
    -1102: InvalidOrder,  # MANDATORY_PARAM_EMPTY_OR_MALFORMED
    -1103: InvalidOrder,  # UNKNOWN_PARAM
    -1104: InvalidOrder,  # UNREAD_PARAMETERS
    -1105: InvalidOrder,  # PARAM_EMPTY
    -1106: InvalidOrder,  # PARAM_NOT_REQUIRED
    -1111: InvalidOrder,  # BAD_PRECISION
    -1112: InvalidOrder,  # NO_DEPTH
    -1114: InvalidOrder,  # TIF_NOT_REQUIRED
    -1115: InvalidOrder,  # INVALID_TIF
    -1116: InvalidOrder,  # INVALID_ORDER_TYPE
    -1117: InvalidOrder,  # INVALID_SIDE
    -1118: InvalidOrder,  # EMPTY_NEW_CL_ORD_ID
    -1119: InvalidOrder,  # EMPTY_ORG_CL_ORD_ID
    -1120: InvalidOrder,  # BAD_INTERVAL
    -1121: InvalidOrder,  # BAD_SYMBOL
    -1125: AuthenticationError,  # INVALID_LISTEN_KEY
    -1127: InvalidOrder,  # MORE_THAN_XX_HOURS
    -1128: InvalidOrder,  # OPTIONAL_PARAMS_BAD_COMBO
    -1130: InvalidOrder,  # INVALID_PARAMETER
    -1131: InvalidOrder,  # BAD_RECV_WINDOW
    -2010: InvalidOrder,  # NEW_ORDER_REJECTED (refined by message below)
    -2011: OrderNotFound,  # CANCEL_REJECTED (refined by message below)
    -2013: OrderNotFound,  # NO_SUCH_ORDER
    -2014: AuthenticationError,  # BAD_API_KEY_FMT
    -2015: PermissionDenied,  # REJECTED_MBX_KEY
    -2016: InvalidOrder,  # NO_TRADING_WINDOW
}

_STATUS_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDenied,  # WAF / forbidden
    429: RateLimitExceeded,
    418: IPBanned,
}


def error_from_response(
    status: int,
    code: int | None,
    msg: str,
    *,
    endpoint: str | None = None,
    retry_after: float | None = None,
    is_order: bool = False,
    banned_until: int | None = None,
) -> APIError:
    """Build the typed error for an exchange answer (HTTP status plus Binance code and message).

    ``banned_until`` (server ms) is the end of the ban that a 418 announces.
    """
    cls: type[APIError]
    if status == 418:
        cls = IPBanned
    elif status == 429:
        cls = RateLimitExceeded
    elif code is not None and code in _CODE_CLASSES:
        cls = _CODE_CLASSES[code]
        if code == -2010 and "insufficient balance" in msg.lower():
            cls = InsufficientFunds
        elif code == -2011 and "unknown order" not in msg.lower():
            cls = InvalidOrder
    elif status >= 500:
        cls = OrderStatusUnknown if is_order else ExchangeUnavailable
    elif status in _STATUS_CLASSES:
        cls = _STATUS_CLASSES[status]
    else:
        cls = APIError
    if is_order and status >= 500:
        cls = OrderStatusUnknown
    kw: dict[str, object] = {"code": code, "status": status, "endpoint": endpoint}
    if issubclass(cls, RateLimitExceeded):
        kw["retry_after"] = retry_after
    if issubclass(cls, IPBanned):
        kw["banned_until"] = banned_until
    return cls(msg, **kw)  # type: ignore[arg-type]


class StreamUnavailable(NetworkError):
    """A market stream never connected: every attempt failed within the bounded time/attempts."""

    default_hint = (
        "Check the stream URL (it follows rest_url: Binance's streams for Binance's hosts, the "
        "same host and port for any other, e.g. the local exchange), that the exchange is up, "
        "and that no firewall or proxy blocks WebSocket connections."
    )


__all__ += ["StreamUnavailable"]


# --- Interactive Brokers (the Web API client, tradewire.ib) ------------------------------------


class IBLoginRequired(AuthenticationError):
    """The IB gateway has no logged-in session: a person must log in through the browser."""

    default_hint = (
        "Open the gateway's address (e.g. https://localhost:5000) in a browser on the gateway's "
        "machine and log in with your IB username, password and second factor; IB offers no "
        "way to automate this for individual accounts. With OAuth 1.0a, request a new live "
        "session token instead."
    )


class IBCompetingSession(AuthenticationError):
    """Another login of the same IB user (TWS, IBKR Mobile, Client Portal) holds the session."""

    default_hint = (
        "Log out of TWS, IBKR Mobile or the Client Portal elsewhere, or take the session over "
        "with ssodh/init compete=True (IBClient(compete=True)); the other login is then "
        "disconnected."
    )


class IBNoBrokerageSession(APIError):
    """``/iserver`` answered ``Init session first``: the brokerage session is not open.

    :class:`~tradewire.ib.IBClient` opens it (``ssodh/init``) and repeats the request once;
    users see this error only when that fails.
    """

    default_hint = "Open the brokerage session: POST /iserver/auth/ssodh/init (IBClient does it)."


class IBUnavailable(ExchangeUnavailable):
    """The IB brokerage service answered 503: the nightly reset, maintenance or a restart."""

    default_hint = (
        "IB's brokerage functions are down around midnight New York (and on Saturday "
        "evenings); wait, then the client re-opens the brokerage session by itself."
    )


class IBPenaltyBox(IPBanned):
    """IB answered 429: the IP is in IB's penalty box; ``retry_after`` seconds until it ends."""

    default_hint = (
        "IB locks the whole IP for 10-15 minutes after a 429 (repeat offenders for good): send "
        "nothing until the lock ends, then fewer requests (use the WebSocket, not polling)."
    )


class IBRateLimited(RateLimitExceeded):
    """The client's own limiter refused a request: waiting would exceed ``max_wait``."""

    default_hint = (
        "The IB limits (10 requests/s through the gateway, 1 per 5 s on several endpoints) "
        "would be exceeded: slow down or raise max_wait; the limiter never risks a 429."
    )


class IBOrderRejected(InvalidOrder):
    """IB refused an order, often as HTTP 200 ``{"error": ...}``; ``msg`` is IB's text."""

    default_hint = (
        "Read IB's text: the price is too far from the market, the size or permission is "
        "wrong, or the cOID was already used today (cOIDs are unique for 24 hours)."
    )


class IBQuestionRefused(InvalidOrder):
    """IB asked an order question the client is not configured to confirm.

    ``message_ids`` are IB's ids (``o163``...), ``questions`` the texts; the order was not placed.
    """

    default_hint = (
        "Read the question; if the answer is always yes for your bot, add its message id to "
        "confirm_questions (it is then suppressed at session start and confirmed if asked)."
    )

    def __init__(
        self,
        message: str,
        *,
        message_ids: tuple[str, ...] = (),
        questions: tuple[str, ...] = (),
        **kw: object,
    ) -> None:
        self.message_ids = message_ids
        self.questions = questions
        super().__init__(message, **kw)  # type: ignore[arg-type]


class IBContractError(TradewireError, LookupError):
    """A symbol names no IB contract, or several: ``candidates`` lists the listings found."""

    def __init__(self, message: str, *, candidates: tuple[str, ...] = ()) -> None:
        self.candidates = candidates
        super().__init__(message)


class SignalRefused(TradewireError, ValueError):
    """A webhook signal was refused before it reached the bot: malformed, not authentic,
    replayed, too large or of the wrong content type.

    ``status`` is the HTTP status it is answered with (400, 401, 409, 413, 415), ``reason`` a
    short stable name of the check that failed (``bad_json``, ``bad_token``, ``stale``...). The
    message never echoes the token.
    """

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason

"""``tradewire doctor``: connectivity, clock offset, key permissions and rate-limit headroom,
and the market streams and the WebSocket API (each connected to, answered, its latency measured).

``--venue ib`` checks an Interactive Brokers gateway instead (``--ib-url``, or a local IB
gateway started for the check): reachability and its certificate, the session (authenticated,
needs a browser login, competing), the account, market-data permission (a snapshot of
``--symbol``) and the request limiter's headroom.

``--exchange binance|testnet`` checks Binance's live exchange or its Spot testnet (their
documented URLs); ``--exchange local`` starts a local exchange on 127.0.0.1 and checks the whole
path against it, offline; ``--rest-url`` checks any other (a running ``tradewire exchange
serve``, say), its stream and WebSocket API URLs following the REST URL.

Each check ends OK, WARN or FAIL with a message that says what is wrong and what to do, e.g.
"invalid signature: the secret stored for key bot1 does not match its API key, or the clock is
2.3 s ahead of the exchange's". The exit status is 0 (all OK), 1 (warnings) or 2 (a failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import websockets
from websockets.asyncio.client import connect

from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE, PRESETS, endpoints, preset
from tradewire.config import default_home, load_config
from tradewire.errors import (
    APIError,
    AuthenticationError,
    ExchangeUnavailable,
    InvalidSignature,
    InvalidTimestamp,
    IPBanned,
    NetworkError,
    ParseError,
    RateLimitExceeded,
)
from tradewire.keys import KeyStore, Severity, audit_key, mask_api_key
from tradewire.timeouts import within

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator

    from websockets.asyncio.client import ClientConnection

    from tradewire.keys import ApiCredentials

__all__ = [
    "Check",
    "Status",
    "check_streams",
    "check_ws_api",
    "clock_phrase",
    "diagnose",
    "diagnose_ib",
    "exit_status",
    "register",
]

Status = Literal["OK", "WARN", "FAIL"]
_SEVERITY: dict[Severity, Status] = {
    Severity.OK: "OK",
    Severity.WARNING: "WARN",
    Severity.REFUSED: "FAIL",
}


@dataclass(frozen=True)
class Check:
    """The outcome of one check: its name, OK / WARN / FAIL, and what a person should know."""

    name: str
    status: Status
    message: str

    def line(self) -> str:
        """``STATUS name: message``."""
        return f"{self.status:<5} {self.name}: {self.message}"


def clock_phrase(offset_ms: float) -> str:
    """``offset_ms`` (exchange minus local) in words: "the clock is 2.3 s ahead of ..."."""
    ahead = -offset_ms
    side = "ahead of" if ahead > 0 else "behind"
    return f"the clock is {abs(ahead) / 1000:.1f} s {side} the exchange's"


def _refused(error: BaseException) -> bool:
    """Whether a connection error was a refusal (nothing listens on that port)."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        if isinstance(seen, OSError) and any(
            isinstance(sub, ConnectionRefusedError) for sub in getattr(seen, "exceptions", ())
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _connectivity(client: BinanceClient, timeout: float) -> Check:
    url = f"{client.rest_url}/api/v3/ping"
    start = time.perf_counter()
    try:
        await client.ping()
    except NetworkError as e:
        if "Timeout" in e.msg:
            why = (
                f"no answer within {timeout:g} s. The network or the exchange is slow or down; "
                "try again, or check a proxy."
            )
            return Check("connectivity", "FAIL", f"{url}: {why}")
        refused = _refused(e)
        why = "the connection was refused" if refused else f"cannot connect ({e.msg})"
        return Check(
            "connectivity",
            "FAIL",
            f"{url}: {why}. Check the URL, that the exchange is up, and that no firewall or "
            "proxy blocks it.",
        )
    except RateLimitExceeded as e:
        what = "banned this IP (418)" if isinstance(e, IPBanned) else "is throttling (429)"
        retry = f" for {e.retry_after:g} s" if e.retry_after else ""
        return Check(
            "connectivity",
            "FAIL",
            f"the exchange {what}: stop every bot on this IP{retry}, or the ban gets longer.",
        )
    except ExchangeUnavailable as e:
        return Check(
            "connectivity",
            "FAIL",
            f"the exchange answered HTTP {e.status}: it is down or in maintenance.",
        )
    except APIError as e:
        return Check("connectivity", "FAIL", f"{url} answered HTTP {e.status}: is it Binance?")
    ms = (time.perf_counter() - start) * 1000
    return Check("connectivity", "OK", f"{client.rest_url} answers in {ms:.0f} ms")


async def _headroom(client: BinanceClient) -> Check:
    """The IP's request weight this minute, as the client's rate limiter read the headers."""
    try:
        await client.rate_limits()
    except (APIError, ParseError):
        return Check("rate limits", "WARN", "the exchange did not report its request weight")
    weight = [
        u
        for u in client.limiter.usage()
        if u.limit.kind == "REQUEST_WEIGHT" and u.limit.interval_ms == 60_000
    ]
    if not weight or not weight[0].reported:
        return Check("rate limits", "WARN", "the exchange did not report its request weight")
    usage = weight[0]
    share = usage.share
    message = (
        f"{usage.used} of {usage.limit.limit} request weight used this minute "
        f"({100 - share * 100:.1f}% left)"
    )
    if share >= 0.9:
        return Check(
            "rate limits",
            "FAIL",
            f"{message}: something on this IP is close to a 429 and then an IP ban; "
            "stop or slow the other programs using it",
        )
    if share >= 0.5:
        return Check("rate limits", "WARN", f"{message}: other programs share this IP's budget")
    return Check("rate limits", "OK", message)


async def _clock(client: BinanceClient) -> tuple[Check, float | None]:
    try:
        offset = await client.clock.sync()
    except APIError as e:
        return Check("clock", "FAIL", f"cannot read the exchange's time: {e}"), None
    words = f"{clock_phrase(offset)} (round trip {client.clock.rtt_ms or 0:.0f} ms)"
    if abs(offset) < 500:
        return Check("clock", "OK", f"{words}"), offset
    return Check(
        "clock",
        "WARN",
        f"{words}. tradewire corrects for it, but a clock 1 s or more ahead makes other tools' "
        "signed requests fail (-1021): sync it (NTP: timedatectl set-ntp true, or w32tm /resync).",
    ), offset


async def _key(
    client: BinanceClient,
    name: str,
    credentials: ApiCredentials,
    offset: float | None,
    purpose: str,
) -> list[Check]:
    clock = f", or {clock_phrase(offset)}" if offset is not None and offset <= -1000 else ""
    shown = f"key {name} (API key {mask_api_key(credentials.api_key)})"
    try:
        await client.account()
    except InvalidSignature:
        return [
            Check(
                "key",
                "FAIL",
                f"invalid signature: the secret stored for {shown} is wrong (mistyped, truncated, "
                f"or the key was replaced on the exchange){clock}. Store the right one with "
                f"`tradewire keys rotate {name}`.",
            )
        ]
    except InvalidTimestamp:
        return [
            Check(
                "key",
                "FAIL",
                f"the exchange refused the request's timestamp: {clock_phrase(offset or 0)}. "
                "Sync the clock (NTP).",
            )
        ]
    except AuthenticationError as e:
        return [
            Check(
                "key",
                "FAIL",
                f"the exchange refused {shown} ({e.msg}): the API key is unknown (deleted, or "
                "mistyped), this machine's IP is not on its whitelist, or it lacks the "
                "permission to read the account.",
            )
        ]
    except (APIError, ParseError) as e:
        return [Check("key", "FAIL", f"cannot check {shown}: {e}")]
    checks = [Check("key", "OK", f"{shown} signs correctly and can read the account")]
    try:
        restrictions = await client.api_restrictions()
    except (APIError, ParseError) as e:
        return [*checks, Check("permissions", "WARN", f"cannot read the key's permissions: {e}")]
    result = audit_key(restrictions, purpose=purpose)
    for finding in sorted(result.findings, key=lambda f: -f.severity):
        checks.append(Check("permissions", _SEVERITY[finding.severity], finding.message))
    return checks


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def _answer(ws: ClientConnection, request_id: object, timeout: float) -> dict[str, Any]:
    """The JSON answer that carries ``request_id`` (market messages before it are skipped)."""

    async def first() -> dict[str, Any]:
        while True:
            raw = await ws.recv()
            with contextlib.suppress(ValueError):
                message = json.loads(raw)
                if isinstance(message, dict) and message.get("id") == request_id:
                    return message

    return await within(first(), timeout)


def _socket_failure(name: str, url: str, error: BaseException, timeout: float) -> Check:
    """The FAIL check of a WebSocket endpoint that could not be used, with what to do."""
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        why = f"no answer within {timeout:g} s"
    elif _refused(error):
        why = "the connection was refused"
    elif isinstance(error, websockets.InvalidStatus):
        why = f"the server answered HTTP {error.response.status_code}, not a WebSocket"
    else:
        why = f"cannot connect ({type(error).__name__}: {error})"
    return Check(
        name,
        "FAIL",
        f"{url}: {why}. Check the URL (it follows the REST URL: Binance's for Binance's hosts, "
        "else the same host and port), and that no firewall or proxy blocks WebSockets.",
    )


async def check_streams(stream_url: str, symbol: str, timeout: float) -> Check:
    """Connect to the market streams, ping, subscribe to ``symbol``'s book ticker: latencies."""
    url = f"{stream_url.rstrip('/')}/ws"
    stream = f"{symbol.lower()}@bookTicker"
    try:
        started = time.perf_counter()
        async with connect(url, open_timeout=timeout, close_timeout=1.0, ping_interval=None) as ws:
            opened = _ms(started)
            started = time.perf_counter()
            await within(await ws.ping(), timeout)
            pong = _ms(started)
            started = time.perf_counter()
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": [stream], "id": 1}))
            answer = await _answer(ws, 1, timeout)
            subscribed = _ms(started)
    except (OSError, TimeoutError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        return _socket_failure("streams", url, e, timeout)
    if "code" in answer:
        return Check(
            "streams",
            "FAIL",
            f"{url} refused the subscription to {stream}: {answer.get('msg')} "
            f"[{answer.get('code')}]: is {symbol} listed there?",
        )
    return Check(
        "streams",
        "OK",
        f"{url} connects in {opened:.0f} ms, answers a ping in {pong:.0f} ms and a "
        f"subscription to {stream} in {subscribed:.0f} ms",
    )


async def check_ws_api(ws_api_url: str, timeout: float) -> Check:
    """Connect to the WebSocket API and send its ``ping`` request: latencies."""
    try:
        started = time.perf_counter()
        async with connect(
            ws_api_url, open_timeout=timeout, close_timeout=1.0, ping_interval=None
        ) as ws:
            opened = _ms(started)
            started = time.perf_counter()
            await ws.send(json.dumps({"id": "doctor-ping", "method": "ping", "params": {}}))
            answer = await _answer(ws, "doctor-ping", timeout)
            answered = _ms(started)
    except (OSError, TimeoutError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        return _socket_failure("websocket api", ws_api_url, e, timeout)
    if answer.get("status") != 200:
        error = answer.get("error")
        if not isinstance(error, dict):
            error = {}
        return Check(
            "websocket api",
            "FAIL",
            f"{ws_api_url} answered its ping with status {answer.get('status')}: "
            f"{error.get('msg', 'no message')} [{error.get('code')}]",
        )
    return Check(
        "websocket api",
        "OK",
        f"{ws_api_url} connects in {opened:.0f} ms and answers a ping in {answered:.0f} ms",
    )


async def diagnose(
    rest_url: str,
    credentials: ApiCredentials | None = None,
    *,
    key_name: str = "",
    purpose: str = "live",
    timeout: float = 5.0,
    stream_url: str | None = None,
    ws_api_url: str | None = None,
    symbol: str = "BTCUSDT",
) -> list[Check]:
    """Run every check against ``rest_url`` (the key ones only with ``credentials``).

    Every request goes through one :class:`BinanceClient`: its clock measures the offset and
    its rate limiter reads the request weight from the answers' headers. The market streams and
    the WebSocket API are checked at ``stream_url`` and ``ws_api_url``, which follow
    ``rest_url`` when left out (:func:`tradewire.binance.urls.endpoints`).
    """
    urls = endpoints(rest_url, stream_url, ws_api_url)
    client = BinanceClient(
        credentials.api_key if credentials is not None else None,
        credentials.secret.reveal() if credentials is not None else None,
        rest_url=urls.rest_url,
        stream_url=urls.stream_url,
        ws_api_url=urls.ws_api_url,
        timeout=timeout,
        load_exchange_info=False,
        clock_refresh_s=0,
    )
    async with contextlib.aclosing(client):
        connectivity = await _connectivity(client, timeout)
        checks = [connectivity]
        if connectivity.status != "FAIL":  # the REST checks need REST; the sockets do not
            clock, offset = await _clock(client)
            checks.append(clock)
            if credentials is not None:
                checks += await _key(client, key_name, credentials, offset, purpose)
            checks.append(await _headroom(client))
    checks.append(await check_streams(urls.stream_url, symbol, timeout))
    checks.append(await check_ws_api(urls.ws_api_url, timeout))
    return checks


def exit_status(checks: list[Check]) -> int:
    """0 if every check passed, 1 with warnings, 2 with a failure."""
    statuses = {c.status for c in checks}
    return 2 if "FAIL" in statuses else 1 if "WARN" in statuses else 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``doctor`` to the ``tradewire`` command."""
    doctor = subparsers.add_parser(
        "doctor",
        help="check connectivity, clock, key permissions and rate limits (exit 0, 1 or 2)",
        description=__doc__,
    )
    doctor.add_argument(
        "--venue",
        choices=("binance", "ib"),
        default="binance",
        help="the venue to check (default: %(default)s)",
    )
    doctor.add_argument(
        "--ib-url",
        help="with --venue ib: the gateway's REST URL (https://localhost:5000/v1/api for IB's "
        "Client Portal gateway; default: a local IB gateway started for the check)",
    )
    doctor.add_argument(
        "--ib-cafile",
        help="with --venue ib: the gateway's certificate to trust (default: the system's CAs)",
    )
    doctor.add_argument(
        "--account",
        help="with --venue ib: the account that must be listed (default: any, the first)",
    )
    doctor.add_argument("--key", help="also check this stored key (signing and permissions)")
    where = doctor.add_mutually_exclusive_group()
    where.add_argument(
        "--exchange",
        choices=("local", *PRESETS),
        default=None,
        help="check Binance (binance), its Spot testnet (testnet), or a local exchange started "
        "for the check on 127.0.0.1 (local) (default: --rest-url, else [exchange] rest_url of "
        f"config.toml, else {BINANCE.rest_url})",
    )
    where.add_argument(
        "--rest-url",
        help="the exchange's REST URL; its streams and WebSocket API follow it",
    )
    doctor.add_argument(
        "--symbol",
        default=None,
        help="the symbol whose stream is subscribed to; with --venue ib the stock whose "
        "snapshot is asked for, AAPL by default (default: BTCUSDT)",
    )
    doctor.add_argument(
        "--purpose",
        choices=("live", "paper", "read-only"),
        default="live",
        help="what the key is for: a key that cannot trade fails only for live",
    )
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    doctor.set_defaults(func=_run_cli)


@contextlib.asynccontextmanager
async def _rest_url(args: argparse.Namespace, configured: str | None) -> AsyncIterator[str]:
    """The REST URL to check; with ``--exchange local``, that of a local exchange started here."""
    if args.exchange == "local":
        from tradewire.exchange import LocalExchange

        async with LocalExchange(symbols=(args.symbol,), market="none") as ex:
            yield ex.rest_url
        return
    if args.exchange:
        yield preset(args.exchange).rest_url
        return
    yield args.rest_url or configured or BINANCE.rest_url


async def _diagnose_cli(
    args: argparse.Namespace, configured: str | None, credentials: ApiCredentials | None
) -> list[Check]:
    async with _rest_url(args, configured) as rest_url:
        urls = endpoints(rest_url)
        print(f"tradewire doctor: {rest_url}" + (f", key {args.key}" if args.key else ""))
        print(f"  streams {urls.stream_url}, WebSocket API {urls.ws_api_url}")
        return await diagnose(
            rest_url,
            credentials,
            key_name=args.key or "",
            purpose=args.purpose,
            timeout=args.timeout,
            symbol=args.symbol,
        )


async def _diagnose_ib_cli(args: argparse.Namespace) -> list[Check]:
    symbol = args.symbol or "AAPL"
    if args.ib_url:
        print(f"tradewire doctor: IB gateway {args.ib_url}")
        return await diagnose_ib(
            args.ib_url,
            symbol=symbol,
            account=args.account,
            cafile=args.ib_cafile,
            timeout=args.timeout,
        )
    from tradewire.ibgateway import LocalIBGateway

    async with LocalIBGateway(symbols=(symbol,)) as gw:
        print(f"tradewire doctor: a local IB gateway at {gw.url}")
        return await diagnose_ib(
            gw.url,
            symbol=symbol,
            account=args.account,
            cafile=str(gw.cert_path),
            timeout=args.timeout,
        )


async def diagnose_ib(
    url: str,
    *,
    symbol: str = "AAPL",
    account: str | None = None,
    cafile: str | None = None,
    timeout: float = 5.0,
) -> list[Check]:
    """The IB checks against the gateway at ``url``, one :class:`Check` each; a check that
    cannot run because an earlier one failed is left out."""
    from tradewire.errors import (
        IBCompetingSession,
        IBContractError,
        IBLoginRequired,
        IBPenaltyBox,
        IBRateLimited,
        IBUnavailable,
    )
    from tradewire.ib import IBClient

    client = IBClient(url, cafile=cafile, timeout=timeout, tickle_s=3600)
    checks: list[Check] = []
    try:
        started = time.perf_counter()
        try:
            await client.transport.request("GET", "/iserver/auth/status")
            reach = Check(
                "gateway",
                "OK",
                f"{url} answered in {_ms(started):.0f} ms over HTTPS"
                + (" (certificate trusted: --ib-cafile)" if cafile else " (certificate trusted)"),
            )
        except IBLoginRequired:
            reach = Check("gateway", "OK", f"{url} answered in {_ms(started):.0f} ms")
        except NetworkError as e:
            text = str(e)
            if "certificate" in text.lower():
                reach = Check(
                    "gateway",
                    "FAIL",
                    f"{url} answered with a certificate this machine does not trust: pass the "
                    "gateway's certificate with --ib-cafile (IB's gateway makes a self-signed one)",
                )
            elif _refused(e):
                reach = Check(
                    "gateway",
                    "FAIL",
                    f"nothing listens at {url}: start IB's Client Portal gateway (or "
                    "'tradewire ib-gateway serve') and pass its URL with --ib-url",
                )
            else:
                reach = Check("gateway", "FAIL", f"{url} cannot be reached: {text}")
        except (IBRateLimited, IBPenaltyBox) as e:
            reach = Check("gateway", "FAIL", f"IB refuses requests from this IP for now: {e}")
        except APIError as e:
            reach = Check("gateway", "FAIL", f"{url} answered an error: {e}")
        checks.append(reach)
        if reach.status == "FAIL":
            return checks
        try:
            try:
                await client.session.ensure()
                checks.append(
                    Check("session", "OK", "authenticated; the brokerage session is open")
                )
            except IBLoginRequired:
                checks.append(
                    Check(
                        "session",
                        "FAIL",
                        "needs a browser login: open the gateway's page in a browser and log in "
                        "(IB asks for it after a restart and each week)",
                    )
                )
                return checks
            except IBCompetingSession:
                checks.append(
                    Check(
                        "session",
                        "FAIL",
                        "competing: another login of this IB user (TWS, the mobile app, a second "
                        "gateway) holds the brokerage session; log that one out",
                    )
                )
                return checks
            except IBUnavailable as e:
                checks.append(
                    Check(
                        "session", "FAIL", f"IB's brokerage service is down (nightly reset?): {e}"
                    )
                )
                return checks
            accounts = await client.accounts()
            if not accounts:
                checks.append(Check("account", "FAIL", "the login lists no account"))
                return checks
            if account is not None and account not in accounts:
                checks.append(
                    Check(
                        "account",
                        "FAIL",
                        f"{account} is not among this login's accounts ({', '.join(accounts)})",
                    )
                )
                return checks
            chosen = account or accounts[0]
            checks.append(Check("account", "OK", f"{chosen} (listed: {', '.join(accounts)})"))
            try:
                contract = await client.resolve(symbol)
                quotes = await client.snapshot([contract.conid])
            except IBContractError as e:
                checks.append(Check("market data", "FAIL", f"{symbol}: {e}"))
            else:
                quote = quotes.get(contract.conid)
                if quote is None:
                    checks.append(
                        Check(
                            "market data",
                            "FAIL",
                            f"no snapshot of {contract.listing}: the account lacks a market-data "
                            "subscription for it (or the market is closed and has no last price)",
                        )
                    )
                else:
                    checks.append(
                        Check(
                            "market data",
                            "WARN" if quote.last_is_close or quote.halted else "OK",
                            f"{contract.listing} bid {quote.bid} ask {quote.ask} last {quote.last}"
                            + (
                                " (the previous close: the market is closed)"
                                if quote.last_is_close
                                else ""
                            )
                            + (" (halted)" if quote.halted else ""),
                        )
                    )
        except (IBRateLimited, IBPenaltyBox) as e:
            checks.append(Check("limits", "FAIL", f"IB answered 429: {e}"))
            return checks
        limiter = client.transport.limiter
        locked = limiter.locked_for
        if locked > 0:
            checks.append(
                Check("limits", "FAIL", f"in IB's penalty box for {locked:.0f} s more: wait")
            )
        else:
            checks.append(
                Check(
                    "limits",
                    "OK",
                    f"not in IB's penalty box; {limiter.headroom()} more requests could go "
                    "now without waiting",
                )
            )
        return checks
    finally:
        await client.close()


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire doctor``."""
    if args.venue == "ib":
        checks = asyncio.run(_diagnose_ib_cli(args))
        for check in checks:
            print(check.line())
        status = exit_status(checks)
        print(
            ["Everything looks right.", "Works, but see the warnings.", "Fix the failures above."][
                status
            ]
        )
        return status
    if args.symbol is None:
        args.symbol = "BTCUSDT"
    home = default_home()
    config = load_config(home)
    credentials = None
    if args.key:
        store = KeyStore(home, backend=config.keys.backend)
        credentials = store.get(args.key)
    checks = asyncio.run(_diagnose_cli(args, config.exchange.rest_url, credentials))
    for check in checks:
        print(check.line())
    status = exit_status(checks)
    print(
        ["Everything looks right.", "Works, but see the warnings.", "Fix the failures above."][
            status
        ],
        file=sys.stdout,
    )
    return status

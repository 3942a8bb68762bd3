"""``tradewire doctor``: connectivity, clock offset, key permissions and rate-limit headroom.

Each check ends OK, WARN or FAIL with a message that says what is wrong and what to do, e.g.
"invalid signature: the secret stored for key bot1 does not match its API key, or the clock is
2.3 s ahead of the exchange's". The exit status is 0 (all OK), 1 (warnings) or 2 (a failure).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from tradewire.binance.client import BinanceClient
from tradewire.config import default_home, load_config
from tradewire.errors import (
    APIError,
    AuthenticationError,
    InvalidSignature,
    InvalidTimestamp,
    IPBanned,
    RateLimitExceeded,
)
from tradewire.keys import KeyStore, Severity, audit_key, mask_api_key
from tradewire.keys.audit import BINANCE_REST_URL, fetch_restrictions

if TYPE_CHECKING:
    import argparse

    from tradewire.keys import ApiCredentials

__all__ = ["Check", "Status", "clock_phrase", "diagnose", "exit_status", "register"]

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


async def _connectivity(
    http: httpx.AsyncClient, rest_url: str
) -> tuple[Check, httpx.Response | None]:
    url = f"{rest_url}/api/v3/ping"
    start = time.perf_counter()
    try:
        response = await http.get(url)
    except httpx.ConnectError as e:
        refused = _refused(e)
        why = "the connection was refused" if refused else f"cannot connect ({e})"
        return Check(
            "connectivity",
            "FAIL",
            f"{url}: {why}. Check the URL, that the exchange is up, and that no firewall or "
            "proxy blocks it.",
        ), None
    except httpx.TimeoutException:
        return Check(
            "connectivity",
            "FAIL",
            f"{url}: no answer within {http.timeout.read} s. The network or the exchange is "
            "slow or down; try again, or check a proxy.",
        ), None
    except httpx.HTTPError as e:
        return Check("connectivity", "FAIL", f"{url}: {type(e).__name__}: {e}"), None
    ms = (time.perf_counter() - start) * 1000
    if response.status_code in (418, 429):
        retry = response.headers.get("Retry-After")
        what = "banned this IP (418)" if response.status_code == 418 else "is throttling (429)"
        return Check(
            "connectivity",
            "FAIL",
            f"the exchange {what}: stop every bot on this IP"
            + (f" for {retry} s" if retry else "")
            + ", or the ban gets longer.",
        ), response
    if response.status_code >= 500:
        return Check(
            "connectivity",
            "FAIL",
            f"the exchange answered HTTP {response.status_code}: it is down or in maintenance.",
        ), None
    if response.status_code != 200:
        return Check(
            "connectivity", "FAIL", f"{url} answered HTTP {response.status_code}: is it Binance?"
        ), None
    return Check("connectivity", "OK", f"{rest_url} answers in {ms:.0f} ms"), response


async def _headroom(http: httpx.AsyncClient, rest_url: str, ping: httpx.Response) -> Check:
    used_text = ping.headers.get("X-MBX-USED-WEIGHT-1M")
    limit = None
    try:
        info = await http.get(f"{rest_url}/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})
        used_text = info.headers.get("X-MBX-USED-WEIGHT-1M", used_text)
        body: Any = json.loads(info.content) if info.status_code == 200 else {}
        for entry in body.get("rateLimits", []):
            if entry.get("rateLimitType") == "REQUEST_WEIGHT" and entry.get("interval") == "MINUTE":
                limit = int(entry["limit"]) * int(entry.get("intervalNum", 1))
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        pass
    if used_text is None or limit is None:
        return Check("rate limits", "WARN", "the exchange did not report its request weight")
    used = int(used_text)
    share = used / limit
    message = f"{used} of {limit} request weight used this minute ({100 - share * 100:.1f}% left)"
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


async def _clock(rest_url: str) -> tuple[Check, float | None]:
    try:
        async with BinanceClient(rest_url=rest_url, load_exchange_info=False) as client:
            offset = client.clock.offset_ms
            rtt = client.clock.rtt_ms
    except APIError as e:
        return Check("clock", "FAIL", f"cannot read the exchange's time: {e}"), None
    words = f"{clock_phrase(offset)} (round trip {rtt or 0:.0f} ms)"
    if abs(offset) < 500:
        return Check("clock", "OK", f"{words}"), offset
    return Check(
        "clock",
        "WARN",
        f"{words}. tradewire corrects for it, but a clock 1 s or more ahead makes other tools' "
        "signed requests fail (-1021): sync it (NTP: timedatectl set-ntp true, or w32tm /resync).",
    ), offset


async def _key(
    name: str, credentials: ApiCredentials, rest_url: str, offset: float | None, purpose: str
) -> list[Check]:
    clock = f", or {clock_phrase(offset)}" if offset is not None and offset <= -1000 else ""
    shown = f"key {name} (API key {mask_api_key(credentials.api_key)})"
    try:
        async with BinanceClient(
            credentials.api_key,
            credentials.secret.reveal(),
            rest_url=rest_url,
            load_exchange_info=False,
        ) as client:
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
    except (RateLimitExceeded, IPBanned) as e:
        return [Check("key", "FAIL", f"cannot check {shown}: {e}")]
    except APIError as e:
        return [Check("key", "FAIL", f"cannot check {shown}: {e}")]
    checks = [Check("key", "OK", f"{shown} signs correctly and can read the account")]
    try:
        restrictions = await fetch_restrictions(credentials, rest_url)
    except APIError as e:
        return [*checks, Check("permissions", "WARN", f"cannot read the key's permissions: {e}")]
    result = audit_key(restrictions, purpose=purpose)
    for finding in sorted(result.findings, key=lambda f: -f.severity):
        checks.append(Check("permissions", _SEVERITY[finding.severity], finding.message))
    return checks


async def diagnose(
    rest_url: str,
    credentials: ApiCredentials | None = None,
    *,
    key_name: str = "",
    purpose: str = "live",
    timeout: float = 5.0,
) -> list[Check]:
    """Run every check against ``rest_url`` (the key ones only with ``credentials``)."""
    rest_url = rest_url.rstrip("/")
    async with httpx.AsyncClient(timeout=timeout) as http:
        connectivity, ping = await _connectivity(http, rest_url)
        if ping is None or connectivity.status == "FAIL":
            return [connectivity]
        checks = [connectivity]
        clock, offset = await _clock(rest_url)
        checks.append(clock)
        if credentials is not None:
            checks += await _key(key_name, credentials, rest_url, offset, purpose)
        checks.append(await _headroom(http, rest_url, ping))
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
    doctor.add_argument("--key", help="also check this stored key (signing and permissions)")
    doctor.add_argument("--rest-url", help=f"the exchange's REST URL (default {BINANCE_REST_URL})")
    doctor.add_argument(
        "--purpose",
        choices=("live", "paper", "read-only"),
        default="live",
        help="what the key is for: a key that cannot trade fails only for live",
    )
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    doctor.set_defaults(func=_run_cli)


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire doctor``."""
    home = default_home()
    config = load_config(home)
    rest_url = args.rest_url or config.exchange.rest_url or BINANCE_REST_URL
    credentials = None
    if args.key:
        store = KeyStore(home, backend=config.keys.backend)
        credentials = store.get(args.key)
    print(f"tradewire doctor: {rest_url}" + (f", key {args.key}" if args.key else ""))
    checks = asyncio.run(
        diagnose(
            rest_url,
            credentials,
            key_name=args.key or "",
            purpose=args.purpose,
            timeout=args.timeout,
        )
    )
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

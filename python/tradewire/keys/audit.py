"""The key audit: what a key may do (``GET /sapi/v1/account/apiRestrictions``), judged for a bot.

A key that can withdraw is refused; a key without an IP whitelist gets a warning; a key that
cannot trade is refused for live trading and explained; permissions a spot bot does not need are
flagged. Each finding says in plain words what to do.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import httpx

from tradewire.binance import sign_params
from tradewire.errors import NetworkError, ParseError, error_from_response

if TYPE_CHECKING:
    from tradewire.keys.secret import ApiCredentials

__all__ = [
    "BINANCE_REST_URL",
    "RESTRICTIONS_PATH",
    "AuditResult",
    "Finding",
    "Severity",
    "audit_key",
    "fetch_restrictions",
]

BINANCE_REST_URL = "https://api.binance.com"
RESTRICTIONS_PATH = "/sapi/v1/account/apiRestrictions"
_REQUIRED = ("ipRestrict", "enableWithdrawals", "enableReading", "enableSpotAndMarginTrading")
_EXTRA = {
    "enableMargin": "margin",
    "enableFutures": "futures",
    "enableVanillaOptions": "options",
    "enablePortfolioMarginTrading": "portfolio margin",
}
_TRANSFERS = {
    "enableInternalTransfer": "internal transfers between master and sub-accounts",
    "permitsUniversalTransfer": "universal transfers between wallets",
}
_WEEK_MS = 7 * 24 * 3600 * 1000
_EDIT = "In Binance's API Management, edit the key's restrictions"


class Severity(enum.IntEnum):
    """How a finding weighs: its value is the ``keys audit`` exit status it leads to."""

    OK = 0
    WARNING = 1
    REFUSED = 2


@dataclass(frozen=True)
class Finding:
    """One thing the audit found, with a plain-language message that says what to do."""

    code: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class AuditResult:
    """All findings about a key; ``allowed`` is False when a bot must not use it."""

    findings: tuple[Finding, ...]
    restrictions: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def severity(self) -> Severity:
        """The worst finding's severity."""
        return max((f.severity for f in self.findings), default=Severity.OK)

    @property
    def allowed(self) -> bool:
        """Whether a bot may run with this key (no finding refuses it)."""
        return self.severity < Severity.REFUSED

    @property
    def exit_status(self) -> int:
        """0 for ok, 1 for warnings, 2 for refused."""
        return int(self.severity)

    def refusals(self) -> list[Finding]:
        """The findings that refuse the key."""
        return [f for f in self.findings if f.severity is Severity.REFUSED]

    def report(self) -> str:
        """The findings as text, one per line, worst first."""
        order = sorted(self.findings, key=lambda f: -f.severity)
        return "\n".join(f"{f.severity.name:<8} {f.message}" for f in order)


def _flag(restrictions: Mapping[str, Any], name: str, *, required: bool) -> bool:
    value = restrictions.get(name)
    if value is None and not required:
        return False
    if not isinstance(value, bool):
        raise ParseError(
            f"apiRestrictions answer has no boolean {name!r}: cannot judge the key", field=name
        )
    return value


def audit_key(
    restrictions: Mapping[str, Any], *, purpose: str = "live", now_ms: int | None = None
) -> AuditResult:
    """Judge a key from its ``apiRestrictions`` JSON for ``purpose`` (live, paper, read-only).

    Raises:
        ParseError: the answer lacks one of the flags the audit needs.
    """
    if purpose not in ("live", "paper", "read-only"):
        raise ValueError(f"purpose must be live, paper or read-only, not {purpose!r}")
    if not isinstance(restrictions, Mapping):
        raise ParseError("apiRestrictions answer is not a JSON object")
    flags = {name: _flag(restrictions, name, required=True) for name in _REQUIRED}
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    live = purpose == "live"
    out: list[Finding] = []

    if flags["enableWithdrawals"]:
        out.append(
            Finding(
                "withdrawals",
                Severity.REFUSED,
                "This key can WITHDRAW funds: whoever gets hold of it can empty the account. "
                f"{_EDIT} and untick 'Enable Withdrawals' (or create a new key without it), "
                "then run `tradewire keys rotate NAME`. A trading bot never needs withdrawals.",
            )
        )
    moves = [
        label for name, label in _TRANSFERS.items() if _flag(restrictions, name, required=False)
    ]
    if moves:
        out.append(
            Finding(
                "transfers",
                Severity.WARNING,
                f"This key can move funds ({'; '.join(moves)}). {_EDIT} and untick the transfer "
                "permissions: a bot does not need them.",
            )
        )
    if not flags["ipRestrict"]:
        out.append(
            Finding(
                "no-ip-whitelist",
                Severity.WARNING,
                "This key has no IP whitelist: it works from any address, so a leaked key is "
                f"usable anywhere. {_EDIT}, choose 'Restrict access to trusted IPs only' and add "
                "the public IP of the machine the bot runs on.",
            )
        )
    if not flags["enableReading"]:
        out.append(
            Finding(
                "no-reading",
                Severity.REFUSED,
                "This key cannot read the account: a bot needs balances and orders. "
                f"{_EDIT} and tick 'Enable Reading'.",
            )
        )
    trading = flags["enableSpotAndMarginTrading"]
    if not trading:
        out.append(
            Finding(
                "no-trading",
                Severity.REFUSED if live else Severity.OK,
                (
                    "This key cannot trade: live orders would be rejected (code -2015). "
                    f"{_EDIT} and tick 'Enable Spot & Margin Trading' (Binance asks for an IP "
                    "whitelist first), or use it for read-only and paper runs."
                    if live
                    else "This key cannot trade: fine for read-only and paper runs; live "
                    "trading needs 'Enable Spot & Margin Trading' on the key."
                ),
            )
        )
    expiry = restrictions.get("tradingAuthorityExpirationTime")
    if trading and isinstance(expiry, int) and not isinstance(expiry, bool) and expiry > 0:
        when = datetime.fromtimestamp(expiry / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        if expiry <= now:
            out.append(
                Finding(
                    "trading-expired",
                    Severity.REFUSED if live else Severity.WARNING,
                    f"The key's trading permission expired on {when} UTC: orders will be "
                    f"rejected. {_EDIT} and renew 'Enable Spot & Margin Trading'.",
                )
            )
        elif expiry - now <= _WEEK_MS:
            out.append(
                Finding(
                    "trading-expires-soon",
                    Severity.WARNING,
                    f"The key's trading permission expires on {when} UTC. {_EDIT} and renew it "
                    "before then, or the bot's orders will be rejected.",
                )
            )
    extra = [label for name, label in _EXTRA.items() if _flag(restrictions, name, required=False)]
    if extra:
        out.append(
            Finding(
                "extra-permissions",
                Severity.WARNING,
                f"This key may also trade {', '.join(extra)}, which a spot bot does not need. "
                f"{_EDIT} and untick them, so a leaked key can do less.",
            )
        )
    if not out or all(f.severity is Severity.OK for f in out):
        can = "read and trade spot" if trading else "read"
        out.append(
            Finding(
                "ok",
                Severity.OK,
                f"The key can {can}, cannot withdraw, and is restricted to whitelisted IPs."
                if flags["ipRestrict"]
                else f"The key can {can} and cannot withdraw.",
            )
        )
    return AuditResult(tuple(out), MappingProxyType(dict(restrictions)))


async def _server_offset_ms(client: httpx.AsyncClient, rest_url: str) -> int:
    """Server time minus local time, from the midpoint of one ``/api/v3/time`` round trip."""
    start = time.time_ns() // 1_000_000
    response = await client.get(f"{rest_url}/api/v3/time")
    end = time.time_ns() // 1_000_000
    if response.status_code != 200:
        return 0
    server = json.loads(response.content).get("serverTime")
    return int(server) - (start + end) // 2 if isinstance(server, int) else 0


async def fetch_restrictions(
    credentials: ApiCredentials,
    rest_url: str = BINANCE_REST_URL,
    *,
    client: httpx.AsyncClient | None = None,
    recv_window: int = 5000,
) -> dict[str, Any]:
    """``GET /sapi/v1/account/apiRestrictions`` signed with the key; the JSON answer.

    Raises:
        APIError: the exchange refused the request (typed: AuthenticationError, ...).
        NetworkError: the exchange could not be reached.
    """
    rest_url = rest_url.rstrip("/")
    own = client is None
    http = httpx.AsyncClient(timeout=10.0) if client is None else client
    try:
        offset = await _server_offset_ms(http, rest_url)
        query = sign_params(
            credentials.signer(),
            {"recvWindow": recv_window, "timestamp": time.time_ns() // 1_000_000 + offset},
        )
        response = await http.get(
            f"{rest_url}{RESTRICTIONS_PATH}?{query}",
            headers={"X-MBX-APIKEY": credentials.api_key},
        )
    except httpx.HTTPError as e:
        raise NetworkError(
            f"cannot reach {rest_url}: {type(e).__name__}", endpoint=RESTRICTIONS_PATH
        ) from None
    finally:
        if own:
            await http.aclose()
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if response.status_code != 200:
        code = body.get("code") if isinstance(body, dict) else None
        msg = body.get("msg") if isinstance(body, dict) else None
        raise error_from_response(
            response.status_code,
            code if isinstance(code, int) else None,
            msg if isinstance(msg, str) else f"HTTP {response.status_code}",
            endpoint=RESTRICTIONS_PATH,
        )
    if not isinstance(body, dict):
        raise ParseError("apiRestrictions answer is not a JSON object")
    return body

"""The key audit: what a key may do, judged for a bot. Pure: no network code.

The key's restrictions come from the exchange as a typed
:class:`~tradewire.binance.answers.ApiRestrictions` (``BinanceClient.api_restrictions()``); this
module only judges them. A key that can withdraw is refused; a key without an IP whitelist gets a
warning; a key that cannot trade is refused for live trading and explained; permissions a spot
bot does not need are flagged. Each finding says in plain words what to do.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewire.binance.answers import ApiRestrictions

__all__ = ["AuditResult", "Finding", "Severity", "audit_key"]
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
    restrictions: ApiRestrictions | None = None

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


def audit_key(
    restrictions: ApiRestrictions, *, purpose: str = "live", now_ms: int | None = None
) -> AuditResult:
    """Judge a key from its restrictions for ``purpose`` (live, paper, read-only)."""
    if purpose not in ("live", "paper", "read-only"):
        raise ValueError(f"purpose must be live, paper or read-only, not {purpose!r}")
    r = restrictions
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    live = purpose == "live"
    out: list[Finding] = []

    if r.enable_withdrawals:
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
        label
        for allowed, label in (
            (r.enable_internal_transfer, "internal transfers between master and sub-accounts"),
            (r.permits_universal_transfer, "universal transfers between wallets"),
        )
        if allowed
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
    if not r.ip_restrict:
        out.append(
            Finding(
                "no-ip-whitelist",
                Severity.WARNING,
                "This key has no IP whitelist: it works from any address, so a leaked key is "
                f"usable anywhere. {_EDIT}, choose 'Restrict access to trusted IPs only' and add "
                "the public IP of the machine the bot runs on.",
            )
        )
    if not r.enable_reading:
        out.append(
            Finding(
                "no-reading",
                Severity.REFUSED,
                "This key cannot read the account: a bot needs balances and orders. "
                f"{_EDIT} and tick 'Enable Reading'.",
            )
        )
    trading = r.enable_spot_and_margin_trading
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
    expiry = r.trading_authority_expiration_time
    if trading and expiry is not None and expiry > 0:
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
    extra = [
        label
        for allowed, label in (
            (r.enable_margin, "margin"),
            (r.enable_futures, "futures"),
            (r.enable_vanilla_options, "options"),
            (r.enable_portfolio_margin_trading, "portfolio margin"),
        )
        if allowed
    ]
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
                if r.ip_restrict
                else f"The key can {can} and cannot withdraw.",
            )
        )
    return AuditResult(tuple(out), restrictions)

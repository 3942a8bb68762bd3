"""The key audit: a key judged from its typed restrictions (no network here).

Fetching them from an exchange is ``BinanceClient.api_restrictions()``; the ``keys audit``
command's tests run the two together against the local exchange.
"""

from __future__ import annotations

from typing import Any

import pytest

from tradewire.binance.answers import ApiRestrictions
from tradewire.keys import Severity, audit_key

NOW = 1_800_000_000_000
DAY = 24 * 3600 * 1000


def restrictions(**overrides: Any) -> ApiRestrictions:
    """A well-set key (read + spot trade, IP whitelist, no withdrawals), with changes."""
    body: dict[str, Any] = {
        "ipRestrict": True,
        "createTime": NOW - DAY,
        "enableReading": True,
        "enableWithdrawals": False,
        "enableInternalTransfer": False,
        "enableMargin": False,
        "enableFutures": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
        "enableSpotAndMarginTrading": True,
        "enablePortfolioMarginTrading": False,
    }
    body.update(overrides)
    return ApiRestrictions.from_json(body)


def codes(result: Any) -> dict[str, Severity]:
    return {f.code: f.severity for f in result.findings}


def test_a_well_set_key_passes() -> None:
    result = audit_key(restrictions(), now_ms=NOW)
    assert codes(result) == {"ok": Severity.OK}
    assert result.allowed and result.exit_status == 0
    assert "cannot withdraw" in result.report()


def test_a_key_that_can_withdraw_is_refused() -> None:
    result = audit_key(restrictions(enableWithdrawals=True), now_ms=NOW)
    assert codes(result) == {"withdrawals": Severity.REFUSED}
    assert not result.allowed and result.exit_status == 2
    message = result.refusals()[0].message
    assert "untick 'Enable Withdrawals'" in message and "keys rotate" in message


def test_no_ip_whitelist_is_a_warning_that_says_what_to_do() -> None:
    result = audit_key(restrictions(ipRestrict=False), now_ms=NOW)
    assert codes(result) == {"no-ip-whitelist": Severity.WARNING}
    assert result.allowed and result.exit_status == 1
    assert "Restrict access to trusted IPs only" in result.report()


def test_a_key_without_trading_is_explained() -> None:
    live = audit_key(restrictions(enableSpotAndMarginTrading=False), now_ms=NOW)
    assert codes(live) == {"no-trading": Severity.REFUSED}
    assert "Enable Spot & Margin Trading" in live.report()
    paper = audit_key(restrictions(enableSpotAndMarginTrading=False), purpose="paper", now_ms=NOW)
    assert paper.allowed and paper.exit_status == 0
    assert "fine for read-only and paper" in paper.report()


def test_trading_permission_expiry() -> None:
    soon = audit_key(restrictions(tradingAuthorityExpirationTime=NOW + DAY), now_ms=NOW)
    assert codes(soon) == {"trading-expires-soon": Severity.WARNING}
    gone = audit_key(restrictions(tradingAuthorityExpirationTime=NOW - 1), now_ms=NOW)
    assert codes(gone) == {"trading-expired": Severity.REFUSED}
    far = audit_key(restrictions(tradingAuthorityExpirationTime=NOW + 90 * DAY), now_ms=NOW)
    assert far.allowed and far.exit_status == 0


def test_permissions_a_spot_bot_does_not_need_are_flagged() -> None:
    result = audit_key(
        restrictions(enableFutures=True, enableMargin=True, permitsUniversalTransfer=True),
        now_ms=NOW,
    )
    assert codes(result) == {"transfers": Severity.WARNING, "extra-permissions": Severity.WARNING}
    assert "margin, futures" in result.report()


def test_several_findings_sort_worst_first() -> None:
    result = audit_key(
        restrictions(ipRestrict=False, enableWithdrawals=True, enableReading=False), now_ms=NOW
    )
    assert result.severity is Severity.REFUSED
    lines = result.report().splitlines()
    assert [line.split()[0] for line in lines] == ["REFUSED", "REFUSED", "WARNING"]


def test_the_audit_keeps_what_it_judged_and_checks_the_purpose() -> None:
    judged = restrictions(ipRestrict=False)
    assert audit_key(judged, now_ms=NOW).restrictions is judged
    with pytest.raises(ValueError, match="purpose"):
        audit_key(judged, purpose="margin")

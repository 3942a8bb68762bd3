"""The key audit: judged from apiRestrictions, and checked against the local exchange's answers."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import AuthenticationError, ParseError
from tradewire.keys import ApiCredentials, Secret, Severity, audit_key
from tradewire.keys.audit import fetch_restrictions

if TYPE_CHECKING:
    from tradewire.exchange import LocalExchange

NOW = 1_800_000_000_000
DAY = 24 * 3600 * 1000


def restrictions(**overrides: Any) -> dict[str, Any]:
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
    return body


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


@pytest.mark.parametrize("missing", ["enableWithdrawals", "ipRestrict", "enableReading"])
def test_an_answer_without_the_needed_flags_cannot_be_judged(missing: str) -> None:
    body = restrictions()
    del body[missing]
    with pytest.raises(ParseError, match=missing):
        audit_key(body)
    with pytest.raises(ParseError):
        audit_key(restrictions(enableWithdrawals="false"))


def register(ex: LocalExchange, **kwargs: Any) -> ApiCredentials:
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret, **kwargs)
    return ApiCredentials("k", api_key, Secret(secret), "hmac", 1)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("permissions", "whitelist", "expected"),
    [
        (("reading", "spot"), ("127.0.0.1",), {"ok": Severity.OK}),
        (("reading", "spot"), None, {"no-ip-whitelist": Severity.WARNING}),
        (
            ("reading", "spot", "withdrawals"),
            ("127.0.0.1",),
            {"withdrawals": Severity.REFUSED},
        ),
        (("reading",), ("127.0.0.1", "10.1.2.3"), {"no-trading": Severity.REFUSED}),
    ],
)
async def test_audit_against_the_local_exchange(
    ex: LocalExchange,
    permissions: tuple[str, ...],
    whitelist: tuple[str, ...] | None,
    expected: dict[str, Severity],
) -> None:
    creds = register(ex, permissions=permissions, ip_whitelist=whitelist)
    body = await fetch_restrictions(creds, ex.rest_url)
    assert body["ipRestrict"] is (whitelist is not None)
    assert codes(audit_key(body)) == expected


@pytest.mark.asyncio
async def test_a_key_the_exchange_refuses_is_a_typed_error(ex: LocalExchange) -> None:
    elsewhere = register(ex, permissions=("reading", "spot"), ip_whitelist=("10.9.9.9",))
    with pytest.raises(AuthenticationError) as caught:
        await fetch_restrictions(elsewhere, ex.rest_url)
    assert caught.value.code == -2015
    unknown = ApiCredentials("u", "A" * 64, Secret(secrets.token_hex(32)), "hmac", 1)
    with pytest.raises(AuthenticationError):
        await fetch_restrictions(unknown, ex.rest_url)


@pytest.mark.asyncio
async def test_the_audit_request_uses_the_server_clock(ex: LocalExchange) -> None:
    creds = register(ex, permissions=("reading", "spot"), ip_whitelist=("127.0.0.1",))
    # The exchange's clock runs 20 s ahead: a timestamp from the local clock alone would be
    # older than recvWindow (-1021); the audit measures the offset first.
    ex.set_faults(clock_skew_ms=20_000)
    body = await fetch_restrictions(creds, ex.rest_url)
    assert audit_key(body).allowed

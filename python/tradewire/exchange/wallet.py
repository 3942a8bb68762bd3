"""The few /sapi/v1 wallet and margin answers ccxt reads while loading markets.

Shapes follow Binance's wallet and margin API docs, reduced to the fields clients read: the assets
are those of the served symbols on one network with deposits and withdrawals disabled (the local
exchange moves no funds), there are no margin pairs, the system is normal, and trade fees are the
account's own maker and taker rates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.exchange.amounts import fmt

if TYPE_CHECKING:
    from tradewire.exchange.handlers import Call

__all__ = ["all_coins", "no_pairs", "system_status", "trade_fee"]

_ZERO = "0"


def _assets(c: Call) -> list[str]:
    names = set(c.core.engine.account(c.account).balances)
    for spec in c.core.engine.specs():
        names.update((spec.base, spec.quote))
    return sorted(names)


def all_coins(c: Call) -> object:
    """GET /sapi/v1/capital/config/getall: every asset with the account's balance, one network."""
    account = c.core.engine.account(c.account)
    coins = []
    for asset in _assets(c):
        balance = account.balance(asset)
        coins.append(
            {
                "coin": asset,
                "name": asset,
                "depositAllEnable": False,
                "withdrawAllEnable": False,
                "trading": True,
                "free": fmt(balance.free),
                "locked": fmt(balance.locked),
                "freeze": _ZERO,
                "withdrawing": _ZERO,
                "ipoing": _ZERO,
                "ipoable": _ZERO,
                "storage": _ZERO,
                "isLegalMoney": False,
                "networkList": [
                    {
                        "network": "LOCAL",
                        "coin": asset,
                        "name": "Local exchange",
                        "isDefault": True,
                        "depositEnable": False,
                        "withdrawEnable": False,
                        "depositDesc": "Deposits are not served by the local exchange.",
                        "withdrawDesc": "Withdrawals are not served by the local exchange.",
                        "specialTips": "",
                        "resetAddressStatus": False,
                        "addressRegex": "",
                        "memoRegex": "",
                        "withdrawFee": _ZERO,
                        "withdrawMin": _ZERO,
                        "withdrawMax": _ZERO,
                        "withdrawIntegerMultiple": _ZERO,
                        "minConfirm": 0,
                        "unLockConfirm": 0,
                        "sameAddress": False,
                        "estimatedArrivalTime": 0,
                        "busy": False,
                        "depositDust": _ZERO,
                    }
                ],
            }
        )
    return coins


def no_pairs(_c: Call) -> object:
    """GET /sapi/v1/margin/allPairs and /sapi/v1/margin/isolated/allPairs: no margin pairs."""
    return []


def system_status(_c: Call) -> object:
    """GET /sapi/v1/system/status: normal."""
    return {"status": 0, "msg": "normal"}


def trade_fee(c: Call) -> object:
    """GET /sapi/v1/asset/tradeFee: the account's maker and taker rates for each symbol."""
    account = c.core.engine.account(c.account)
    wanted = c.params.get("symbol")
    specs = [c.core.engine.spec(c.params.symbol())] if wanted else c.core.engine.specs()
    return [
        {
            "symbol": s.symbol,
            "makerCommission": fmt(account.maker_rate),
            "takerCommission": fmt(account.taker_rate),
        }
        for s in specs
    ]

"""Binance error answers: one exception type carrying the code, message and HTTP status."""

from __future__ import annotations

__all__ = [
    "Rejection",
    "bad_param",
    "filter_failure",
    "illegal_chars",
    "mandatory",
    "new_order_rejected",
]

DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"


class Rejection(Exception):
    """A request the exchange answers with Binance's error JSON (never a traceback)."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, object]:
        """The JSON body Binance sends for this error."""
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> Rejection:
    """-1102 for a missing, empty or malformed mandatory parameter."""
    return Rejection(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal_chars(name: str, legal: str = DECIMAL_RANGE) -> Rejection:
    """-1100 for a parameter with characters outside its legal range."""
    return Rejection(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def bad_param(name: str) -> Rejection:
    """-1130 for a parameter whose value is not valid."""
    return Rejection(-1130, f"Data sent for parameter '{name}' is not valid.")


def filter_failure(name: str) -> Rejection:
    """-1013 for an order that fails one of the symbol's filters."""
    return Rejection(-1013, f"Filter failure: {name}")


def new_order_rejected(msg: str) -> Rejection:
    """-2010 with one of the matching engine's messages."""
    return Rejection(-2010, msg)

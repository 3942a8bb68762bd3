"""Binance error answers: one exception type carrying the code, message and HTTP status."""

from __future__ import annotations

from tradewire.errors import ExchangeRejection

__all__ = [
    "bad_param",
    "filter_failure",
    "illegal_chars",
    "mandatory",
    "new_order_rejected",
]

DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"


def mandatory(name: str) -> ExchangeRejection:
    """-1102 for a missing, empty or malformed mandatory parameter."""
    return ExchangeRejection(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal_chars(name: str, legal: str = DECIMAL_RANGE) -> ExchangeRejection:
    """-1100 for a parameter with characters outside its legal range."""
    return ExchangeRejection(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def bad_param(name: str) -> ExchangeRejection:
    """-1130 for a parameter whose value is not valid."""
    return ExchangeRejection(-1130, f"Data sent for parameter '{name}' is not valid.")


def filter_failure(name: str) -> ExchangeRejection:
    """-1013 for an order that fails one of the symbol's filters."""
    return ExchangeRejection(-1013, f"Filter failure: {name}")


def new_order_rejected(msg: str) -> ExchangeRejection:
    """-2010 with one of the matching engine's messages."""
    return ExchangeRejection(-2010, msg)

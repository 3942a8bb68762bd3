"""API keys: each with its verifying key, permissions, optional IP whitelist and account."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Protocol

from tradewire._core import Verifier

__all__ = ["PERMISSIONS", "ApiKey", "KeyRegistry", "SignatureCheck", "make_verifier"]

PERMISSIONS = frozenset({"reading", "spot", "withdrawals"})
_KEY_ALPHABET = string.ascii_letters + string.digits


class SignatureCheck(Protocol):
    """What the exchange needs of a verifier: its key type and a constant-time check."""

    @property
    def key_type(self) -> str:
        """hmac-sha256, ed25519 or rsa-pkcs1v15-sha256."""
        ...

    def verify(self, payload: str | bytes, signature: str) -> bool:
        """Whether ``signature`` signs ``payload``."""
        ...


def make_verifier(secret: str) -> SignatureCheck:
    """A verifier (Rust core) for an HMAC secret or a PEM public key (Ed25519 or RSA)."""
    verifier: SignatureCheck = Verifier.from_key(secret)
    return verifier


def new_api_key() -> str:
    """A fresh 64-character API key, in Binance's format."""
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64))


@dataclass
class ApiKey:
    """One registered key. ``secret`` (HMAC secret or public key) is never shown in its repr."""

    api_key: str
    account: int
    permissions: frozenset[str]
    ip_whitelist: tuple[str, ...] | None
    create_time: int
    secret: str = field(repr=False)
    verifier: SignatureCheck = field(repr=False)

    @property
    def key_type(self) -> str:
        """hmac-sha256, ed25519 or rsa-pkcs1v15-sha256."""
        return self.verifier.key_type

    def restrictions_body(self) -> dict[str, object]:
        """The key's flags as GET /sapi/v1/account/apiRestrictions reports them."""
        return {
            "ipRestrict": self.ip_whitelist is not None,
            "createTime": self.create_time,
            "enableReading": "reading" in self.permissions,
            "enableWithdrawals": "withdrawals" in self.permissions,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": False,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enableSpotAndMarginTrading": "spot" in self.permissions,
            "enablePortfolioMarginTrading": False,
        }


class KeyRegistry:
    """All API keys of the exchange, by key string."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(
        self,
        secret: str,
        account: int,
        permissions: tuple[str, ...] | frozenset[str],
        ip_whitelist: tuple[str, ...] | None,
        create_time: int,
        api_key: str | None = None,
    ) -> ApiKey:
        """Register ``secret`` (HMAC secret or PEM public key) and return its new key record."""
        unknown = set(permissions) - PERMISSIONS
        if unknown:
            raise ValueError(f"unknown permissions {sorted(unknown)}; use {sorted(PERMISSIONS)}")
        key = ApiKey(
            api_key=api_key or new_api_key(),
            account=account,
            permissions=frozenset(permissions),
            ip_whitelist=tuple(ip_whitelist) if ip_whitelist is not None else None,
            create_time=create_time,
            secret=secret,
            verifier=make_verifier(secret),
        )
        self._keys[key.api_key] = key
        return key

    def get(self, api_key: str) -> ApiKey | None:
        """The key record for ``api_key``, if registered."""
        return self._keys.get(api_key)

    def remove(self, api_key: str) -> ApiKey | None:
        """Delete a key; returns its record, or None if it was not registered."""
        return self._keys.pop(api_key, None)

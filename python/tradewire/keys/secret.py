"""Secret values that never show themselves, and the credentials a bot signs with."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import NoReturn

from tradewire._core import Signer

__all__ = ["ApiCredentials", "Secret", "key_type_name", "mask_api_key"]

_KEY_TYPES = {"hmac-sha256": "hmac", "ed25519": "ed25519", "rsa-pkcs1v15-sha256": "rsa"}


def mask_api_key(api_key: str) -> str:
    """The API key shortened for display, e.g. ``vmPU…h8A`` (all hidden if it is short)."""
    if len(api_key) < 12:
        return "…"
    return f"{api_key[:4]}…{api_key[-3:]}"


def key_type_name(signer: Signer) -> str:
    """``hmac``, ``ed25519`` or ``rsa`` for a signer."""
    return _KEY_TYPES.get(signer.key_type, signer.key_type)


class Secret:
    """A secret string: its repr, str and format show stars; only ``reveal()`` gives it back."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: hand it only to what signs or stores it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is not pickled: store it with tradewire.keys.KeyStore")

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, repr=False)
class ApiCredentials:
    """An API key and its secret, as a bot needs them; the repr masks the key, hides the secret."""

    name: str
    api_key: str
    secret: Secret
    key_type: str
    version: int
    _signer: list[Signer] = field(default_factory=list, compare=False)

    def signer(self) -> Signer:
        """The ``tradewire.Signer`` for this key's secret (built once)."""
        if not self._signer:
            self._signer.append(Signer.from_secret(self.secret.reveal()))
        return self._signer[0]

    def __repr__(self) -> str:
        return (
            f"ApiCredentials(name={self.name!r}, api_key={mask_api_key(self.api_key)!r}, "
            f"key_type={self.key_type!r}, version={self.version})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiCredentials are not pickled: load them from the KeyStore")

"""Password-based encryption of secrets: scrypt (n=2**15, r=8, p=1) and AES-256-GCM."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradewire.errors import WrongPassword

__all__ = ["CHECK_AAD", "KdfParams", "SealedBox", "derive_key"]

CHECK_AAD = b"tradewire-keys/v1/password-check"
_CHECK_PLAINTEXT = b"tradewire key file"


@dataclass(frozen=True)
class KdfParams:
    """scrypt parameters and the file's random salt."""

    salt: bytes
    n: int = 2**15
    r: int = 8
    p: int = 1

    @classmethod
    def new(cls) -> KdfParams:
        """Fresh parameters with a random 16-byte salt."""
        return cls(salt=os.urandom(16))

    def to_json(self) -> dict[str, object]:
        """The JSON form kept in the key file."""
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": _b64(self.salt)}

    @classmethod
    def from_json(cls, data: object) -> KdfParams:
        """Read the parameters back; ValueError if they are not scrypt's."""
        if not isinstance(data, dict) or data.get("name") != "scrypt":
            raise ValueError("unknown key derivation")
        n, r, p = data.get("n"), data.get("r"), data.get("p")
        if not all(isinstance(v, int) and v > 0 for v in (n, r, p)):
            raise ValueError("bad scrypt parameters")
        assert isinstance(n, int)
        assert isinstance(r, int)
        assert isinstance(p, int)
        if n < 2**14 or n > 2**20 or r > 32 or p > 16:
            raise ValueError("scrypt parameters out of range")
        return cls(salt=_unb64(data.get("salt")), n=n, r=r, p=p)


def derive_key(password: str, params: KdfParams) -> bytes:
    """The 32-byte AES key derived from ``password`` with scrypt."""
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=params.salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=256 * params.n * params.r + 2**20,
        dklen=32,
    )


class SealedBox:
    """AES-256-GCM with a derived key: each value sealed with a fresh nonce and bound by AAD."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SealedBox(<key hidden>)"

    def seal(self, plaintext: bytes, aad: bytes) -> dict[str, str]:
        """Encrypt ``plaintext``; returns ``{"nonce", "ciphertext"}`` in base64."""
        nonce = os.urandom(12)
        return {"nonce": _b64(nonce), "ciphertext": _b64(self._aead.encrypt(nonce, plaintext, aad))}

    def open(self, sealed: object, aad: bytes) -> bytes:
        """Decrypt a value sealed with :meth:`seal`; WrongPassword if the key does not fit."""
        if not isinstance(sealed, dict):
            raise WrongPassword("a sealed value in the key file is malformed")
        try:
            return self._aead.decrypt(
                _unb64(sealed.get("nonce")), _unb64(sealed.get("ciphertext")), aad
            )
        except (InvalidTag, ValueError):
            raise WrongPassword(
                "wrong password for the key file (TRADEWIRE_PASSWORD or the one typed), "
                "or the file was altered"
            ) from None

    def check_value(self) -> dict[str, str]:
        """A sealed constant kept in the file, to tell a wrong password before anything else."""
        return self.seal(_CHECK_PLAINTEXT, CHECK_AAD)

    def verify(self, check: object) -> None:
        """Raise WrongPassword unless ``check`` was sealed under this key."""
        if self.open(check, CHECK_AAD) != _CHECK_PLAINTEXT:
            raise WrongPassword("wrong password for the key file")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(data: object) -> bytes:
    if not isinstance(data, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(data, validate=True)

"""Password-based encryption of secrets: scrypt (N=2**17, r=8, p=1) and AES-256-GCM.

N=2**17, r=8, p=1 is OWASP's minimum for scrypt (128 MiB; about 0.43 s to unlock on a 2-core
2026 server). A key file may hold other parameters, but only within :data:`KDF_LIMITS` (a
file is data an attacker may have written: unbounded parameters would let it freeze or crash
the command that unlocks it); files with weaker parameters are still read, and re-keyed at
their next write that unlocks them.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradewire.errors import WrongPassword

__all__ = ["CHECK_AAD", "KDF_LIMITS", "KdfParams", "SealedBox", "derive_key"]

CHECK_AAD = b"tradewire-keys/v1/password-check"
_CHECK_PLAINTEXT = b"tradewire key file"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
"""The parameters of new key files (OWASP's minimum for scrypt)."""
KDF_LIMITS = (
    "scrypt with n a power of two from 2**14 to 2**18, r from 1 to 8, p from 1 to 2 and a salt "
    "of 16 to 64 bytes (at most 256 MiB and a few seconds to unlock)"
)
"""The key derivation settings a key file may hold; others are refused unread."""


@dataclass(frozen=True)
class KdfParams:
    """scrypt parameters and the file's random salt."""

    salt: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    @classmethod
    def new(cls) -> KdfParams:
        """Fresh parameters with a random 16-byte salt."""
        return cls(salt=os.urandom(16))

    def to_json(self) -> dict[str, object]:
        """The JSON form kept in the key file."""
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": _b64(self.salt)}

    @property
    def weak(self) -> bool:
        """Cheaper to attack than new files' parameters: re-key at the next write."""
        return self.n < SCRYPT_N or self.r < SCRYPT_R

    @classmethod
    def from_json(cls, data: object) -> KdfParams:
        """Read the parameters back; ValueError unless they are within :data:`KDF_LIMITS`."""
        if not isinstance(data, dict) or data.get("name") != "scrypt":
            raise ValueError("unknown key derivation: expected " + KDF_LIMITS)
        n, r, p = data.get("n"), data.get("r"), data.get("p")
        if not (
            type(n) is int
            and type(r) is int
            and type(p) is int
            and 2**14 <= n <= 2**18
            and n & (n - 1) == 0
            and 1 <= r <= 8
            and 1 <= p <= 2
        ):
            raise ValueError(f"n={n!r}, r={r!r}, p={p!r} are outside {KDF_LIMITS}")
        try:
            salt = _unb64(data.get("salt"))
        except ValueError:
            raise ValueError(f"the salt is not base64 text; expected {KDF_LIMITS}") from None
        if not 16 <= len(salt) <= 64:
            raise ValueError(f"a salt of {len(salt)} bytes is outside {KDF_LIMITS}")
        return cls(salt=salt, n=n, r=r, p=p)


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

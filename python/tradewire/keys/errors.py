"""The key store's errors: each message says what to do, and none ever holds a secret."""

from __future__ import annotations

from tradewire.errors import TradewireError

__all__ = [
    "InsecureKeyFile",
    "KeyExists",
    "KeyNotFound",
    "KeyStoreError",
    "KeyStoreLocked",
    "WrongPassword",
]


class KeyStoreError(TradewireError):
    """Base class of the key store's errors."""


class KeyNotFound(KeyStoreError, LookupError):
    """No key of that name is stored."""


class KeyExists(KeyStoreError):
    """A key of that name is already stored (``rotate`` replaces it)."""


class InsecureKeyFile(KeyStoreError):
    """The key file can be read by other users (its mode is not 0600)."""


class KeyStoreLocked(KeyStoreError):
    """The encrypted key file needs a password and none can be had."""


class WrongPassword(KeyStoreError):
    """The key file's password is wrong (or the file was altered)."""

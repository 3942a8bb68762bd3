"""The OS keyring (through the optional ``keyring`` package), when one is usable."""

from __future__ import annotations

import importlib
import logging
from typing import Any

__all__ = ["SERVICE", "OsKeyring", "usable_keyring"]

SERVICE = "tradewire"
_log = logging.getLogger("tradewire.keys")
_UNUSABLE_MODULES = ("keyring.backends.fail", "keyring.backends.null")


class OsKeyring:
    """Secrets kept in the OS keyring under service ``tradewire``, one entry per key version."""

    def __init__(self, module: Any) -> None:
        self._keyring = module

    def __repr__(self) -> str:
        return "OsKeyring()"

    def set(self, ref: str, secret: str) -> None:
        """Store ``secret`` under ``ref``."""
        self._keyring.set_password(SERVICE, ref, secret)

    def get(self, ref: str) -> str | None:
        """The secret under ``ref``, or None if the keyring has none."""
        value = self._keyring.get_password(SERVICE, ref)
        return value if isinstance(value, str) else None

    def delete(self, ref: str) -> None:
        """Remove ``ref`` from the keyring (nothing if it is already gone)."""
        try:
            self._keyring.delete_password(SERVICE, ref)
        except Exception:  # keyring.errors.PasswordDeleteError and backend-specific errors
            _log.debug("keyring entry %s was already gone", ref)


def usable_keyring() -> OsKeyring | None:
    """The OS keyring if the ``keyring`` package is installed and has a real backend, else None."""
    try:
        module = importlib.import_module("keyring")
    except ImportError:
        return None
    try:
        backend = module.get_keyring()
        priority = float(getattr(backend, "priority", 1))
    except Exception:  # a broken backend configuration counts as no keyring
        return None
    if type(backend).__module__.startswith(_UNUSABLE_MODULES) or priority <= 0:
        return None
    return OsKeyring(module)

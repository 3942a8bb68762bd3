"""API keys kept safe: the key store, secrets that never show, rotation watching, key audit.

>>> from tradewire.keys import mask_api_key
>>> mask_api_key("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A")
'vmPU…h8A'
"""

from __future__ import annotations

from tradewire.errors import (
    InsecureKeyFile,
    KeyExists,
    KeyNotFound,
    KeyStoreError,
    KeyStoreLocked,
    WrongPassword,
)
from tradewire.keys.audit import AuditResult, Finding, Severity, audit_key
from tradewire.keys.secret import ApiCredentials, Secret, mask_api_key
from tradewire.keys.store import (
    KeyInfo,
    KeyStore,
    PasswordSource,
    drop_env_password,
    password_from_env_or_terminal,
)
from tradewire.keys.watch import KeyWatcher

__all__ = [
    "ApiCredentials",
    "AuditResult",
    "Finding",
    "InsecureKeyFile",
    "KeyExists",
    "KeyInfo",
    "KeyNotFound",
    "KeyStore",
    "KeyStoreError",
    "KeyStoreLocked",
    "KeyWatcher",
    "PasswordSource",
    "Secret",
    "Severity",
    "WrongPassword",
    "audit_key",
    "drop_env_password",
    "mask_api_key",
    "password_from_env_or_terminal",
]

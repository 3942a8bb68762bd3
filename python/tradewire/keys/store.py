"""The key store: named API keys, secrets in the OS keyring or in an encrypted file.

``HOME/keys.json`` (mode 0600, written atomically) lists the keys: name, API key, key type,
times and version. Each secret lives either in the OS keyring (``store: keyring``) or in the same
file sealed with AES-256-GCM under a key derived from a password with scrypt (``store: file``),
bound to its name, version and API key. Listing keys needs no password; reading a file-stored
secret does (``TRADEWIRE_PASSWORD``, or asked on a terminal).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire._core import Signer
from tradewire.config import KEY_BACKENDS, ensure_home, validate_name
from tradewire.errors import (
    IBAuthError,
    InsecureKeyFile,
    KeyExists,
    KeyNotFound,
    KeyStoreError,
    KeyStoreLocked,
)
from tradewire.ib.oauth import OAuth1aCredentials, decrypt_access_token_secret
from tradewire.keys.crypto import SCRYPT_N, KdfParams, SealedBox, derive_key
from tradewire.keys.oskeyring import OsKeyring, usable_keyring
from tradewire.keys.secret import ApiCredentials, Secret, key_type_name, mask_api_key

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradewire.keys.watch import KeyWatcher, OnChange

__all__ = [
    "KeyInfo",
    "KeyStore",
    "PasswordSource",
    "drop_env_password",
    "password_from_env_or_terminal",
]

PasswordSource = Callable[[bool], str]
"""Gives the key file password; its argument says whether the file is new (ask twice)."""
_log = logging.getLogger("tradewire.keys")
_FORMAT = "tradewire-keys"
_API_KEY = re.compile(r"^[\x21-\x7e]{1,512}$")
_DETECT: Any = object()


def password_from_env_or_terminal(new: bool) -> str:
    """The key file password: ``TRADEWIRE_PASSWORD``, else asked on the terminal (twice if new)."""
    env = os.environ.get("TRADEWIRE_PASSWORD")
    if env:
        return env
    if sys.stdin is not None and sys.stdin.isatty():
        prompt = "New key file password: " if new else "Key file password: "
        password = getpass.getpass(prompt)
        if not password:
            raise KeyStoreLocked("an empty password cannot protect the key file")
        if new and getpass.getpass("Repeat the password: ") != password:
            raise KeyStoreLocked("the two passwords differ; nothing was stored")
        return password
    raise KeyStoreLocked(
        "the key file is encrypted with a password and none is available: set "
        "TRADEWIRE_PASSWORD, or run the command in a terminal to type it"
    )


def drop_env_password() -> None:
    """Remove ``TRADEWIRE_PASSWORD`` from this process's environment (once the store is unlocked).

    A long-running bot then does not hand it to every child process, and code that dumps the
    environment does not see it; the :class:`KeyStore` that was unlocked keeps what it needs.
    """
    os.environ.pop("TRADEWIRE_PASSWORD", None)


@dataclass(frozen=True)
class KeyInfo:
    """What ``list()`` shows of a key: never its secret, and the API key only masked."""

    name: str
    api_key: str
    key_type: str
    created: datetime
    rotated: datetime | None
    version: int
    backend: str
    venue: str = "binance"


IB_OAUTH_KEY_TYPE = "ib-oauth1a"
"""The key type of an Interactive Brokers OAuth 1.0a credential."""
_IB_SECRET_FIELDS = (
    "access_token",
    "access_token_secret",
    "signature_key",
    "encryption_key",
    "dh_prime",
    "dh_generator",
    "realm",
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def _aad(name: str, version: int, api_key: str) -> bytes:
    return f"tradewire-keys/v1/{name}/{version}/{api_key}".encode()


class KeyStore:
    """Named API keys with their secrets kept safe, in a tradewire home folder."""

    FILE_NAME = "keys.json"

    def __init__(
        self,
        home: Path | str,
        *,
        backend: str = "auto",
        password: PasswordSource | None = None,
        keyring: OsKeyring | None = _DETECT,
    ) -> None:
        if backend not in KEY_BACKENDS:
            raise KeyStoreError(f"unknown key backend {backend!r}: use {', '.join(KEY_BACKENDS)}")
        self.home = Path(home)
        self.path = self.home / self.FILE_NAME
        self._backend = backend
        self._password = password or password_from_env_or_terminal
        self._keyring_choice = keyring
        self._box: tuple[bytes, SealedBox] | None = None
        self._known_password: Secret | None = None

    def __repr__(self) -> str:
        return f"KeyStore({str(self.home)!r}, backend={self._backend!r})"

    # --- public API ---------------------------------------------------------------------------

    def add(self, name: str, api_key: str, secret: str | Secret) -> KeyInfo:
        """Store a new key; the secret is checked with ``Signer.from_secret`` first."""
        validate_name("key", name)
        api_key, secret_value, key_type = self._validate(api_key, secret)
        with self._locked():
            doc = self._load()
            if name in doc["keys"]:
                raise KeyExists(
                    f"a key named {name!r} is already stored: use `tradewire keys rotate {name}` "
                    "to replace it, or `remove` it first"
                )
            now = _now_ms()
            entry: dict[str, Any] = {
                "api_key": api_key,
                "key_type": key_type,
                "created": now,
                "rotated": None,
                "version": 1,
            }
            self._put_secret(doc, name, entry, secret_value)
            doc["keys"][name] = entry
            self._write(doc)
        _log.info("key %s added (api key %s, %s)", name, mask_api_key(api_key), key_type)
        return self._info(name, entry)

    def add_ib(self, name: str, credentials: OAuth1aCredentials) -> KeyInfo:
        """Store an Interactive Brokers OAuth 1.0a credential under ``name``.

        The consumer key is listed (masked); the access token, its secret, both private keys,
        the DH prime and the realm are kept together as one secret. The keys are checked first:
        the signature key must be an RSA private key and the encryption key must decrypt the
        access-token secret.

        Raises:
            IBAuthError: a key or the access-token secret is malformed.
            KeyExists: ``name`` is taken.
        """
        validate_name("key", name)
        signer = Signer.from_secret(credentials.signature_key)  # InvalidKey with its message
        if signer.key_type != "rsa-pkcs1v15-sha256":
            raise IBAuthError("the signature key must be an RSA private key (2048 bits or more)")
        decrypt_access_token_secret(credentials.access_token_secret, credentials.encryption_key)
        bundle = json.dumps({f: getattr(credentials, f) for f in _IB_SECRET_FIELDS})
        with self._locked():
            doc = self._load()
            if name in doc["keys"]:
                raise KeyExists(
                    f"a key named {name!r} is already stored: `remove` it first to replace it"
                )
            entry: dict[str, Any] = {
                "api_key": credentials.consumer_key,
                "key_type": IB_OAUTH_KEY_TYPE,
                "venue": "ib",
                "created": _now_ms(),
                "rotated": None,
                "version": 1,
            }
            self._put_secret(doc, name, entry, bundle)
            doc["keys"][name] = entry
            self._write(doc)
        _log.info(
            "IB OAuth credential %s added (consumer key %s)",
            name,
            mask_api_key(credentials.consumer_key),
        )
        return self._info(name, entry)

    def get_ib(self, name: str) -> OAuth1aCredentials:
        """The Interactive Brokers OAuth 1.0a credential stored under ``name``.

        Raises:
            KeyNotFound: no key has that name.
            KeyStoreError: the key is not an IB credential.
        """
        doc = self._load()
        entry = self._entry(doc, name)
        if entry.get("venue") != "ib":
            raise KeyStoreError(f"key {name!r} is a Binance API key, not an IB OAuth credential")
        try:
            fields = json.loads(self._get_secret(doc, name, entry))
            return OAuth1aCredentials(consumer_key=entry["api_key"], **fields)
        except (ValueError, TypeError):
            raise KeyStoreError(
                f"the stored IB credential {name!r} is unreadable: remove it and add it again"
            ) from None

    def get(self, name: str) -> ApiCredentials:
        """The key's API key and secret (the secret wrapped so it never shows itself)."""
        doc = self._load()
        entry = self._entry(doc, name)
        if entry.get("venue") == "ib":
            raise KeyStoreError(
                f"key {name!r} is an IB OAuth credential: read it with get_ib(), not as a "
                "Binance API key"
            )
        return ApiCredentials(
            name=name,
            api_key=entry["api_key"],
            secret=Secret(self._get_secret(doc, name, entry)),
            key_type=entry["key_type"],
            version=entry["version"],
        )

    def list(self) -> list[KeyInfo]:
        """Every stored key, by name: masked API key, type, times, version; never a secret."""
        doc = self._load()
        return [self._info(name, doc["keys"][name]) for name in sorted(doc["keys"])]

    def info(self, name: str) -> KeyInfo:
        """What ``list()`` shows of one key."""
        return self._info(name, self._entry(self._load(), name))

    def version(self, name: str) -> int:
        """The key's version: 1 when added, one more at each rotation."""
        return int(self._entry(self._load(), name)["version"])

    def remove(self, name: str) -> None:
        """Forget a key and delete its secret."""
        with self._locked():
            doc = self._load()
            entry = self._entry(doc, name)
            del doc["keys"][name]
            self._write(doc)
        self._drop_secret(entry)
        _log.info("key %s removed", name)

    def rotate(self, name: str, api_key: str, secret: str | Secret) -> KeyInfo:
        """Replace a key's API key and secret in one atomic write, bumping its version."""
        api_key, secret_value, key_type = self._validate(api_key, secret)
        with self._locked():
            doc = self._load()
            old = dict(self._entry(doc, name))
            if old.get("venue") == "ib":
                raise KeyStoreError(
                    f"key {name!r} is an IB OAuth credential: `remove` it and add the new one"
                )
            entry: dict[str, Any] = {
                "api_key": api_key,
                "key_type": key_type,
                "created": old["created"],
                "rotated": _now_ms(),
                "version": int(old["version"]) + 1,
            }
            self._put_secret(doc, name, entry, secret_value)
            doc["keys"][name] = entry
            self._write(doc)
        self._drop_secret(old)
        _log.info(
            "key %s rotated to version %d (api key %s)",
            name,
            entry["version"],
            mask_api_key(api_key),
        )
        return self._info(name, entry)

    def watch(
        self, name: str, *, interval: float = 1.0, on_change: OnChange | None = None
    ) -> KeyWatcher:
        """A watcher (``async with``) that follows rotations of ``name`` while a bot runs."""
        from tradewire.keys.watch import KeyWatcher  # watch imports this module

        return KeyWatcher(self, name, interval=interval, on_change=on_change)

    # --- validation ---------------------------------------------------------------------------

    @staticmethod
    def _validate(api_key: str, secret: str | Secret) -> tuple[str, str, str]:
        api_key = api_key.strip()
        secret_value = (secret.reveal() if isinstance(secret, Secret) else secret).strip()
        if not _API_KEY.match(api_key):
            raise KeyStoreError(
                "the API key must be 1 to 512 printable ASCII characters without spaces"
            )
        if not secret_value:
            raise KeyStoreError("the secret is empty")
        if secret_value == api_key:
            raise KeyStoreError(
                "the API key and the secret are the same: give the API key first, then the secret"
            )
        if "BEGIN" in secret_value and "\n" not in secret_value:
            raise KeyStoreError(
                "the PEM secret arrived on one line: give its lines as they are in the file "
                "(from stdin, everything after the API key's line is the secret)"
            )
        signer = Signer.from_secret(secret_value)  # InvalidKey with the Signer's message
        return api_key, secret_value, key_type_name(signer)

    # --- where secrets live -------------------------------------------------------------------

    def _keyring(self) -> OsKeyring | None:
        if self._keyring_choice is _DETECT:
            self._keyring_choice = usable_keyring()
        kr: OsKeyring | None = self._keyring_choice
        return kr

    def _put_secret(
        self, doc: dict[str, Any], name: str, entry: dict[str, Any], secret: str
    ) -> None:
        kr = None if self._backend == "file" else self._keyring()
        if kr is None and self._backend == "keyring":
            raise KeyStoreError(
                "no usable OS keyring: install the `keyring` package with a backend for this "
                'system, or set [keys] backend = "file" (or TRADEWIRE_KEY_BACKEND=file)'
            )
        if kr is not None:
            ref = f"{name}/v{entry['version']}/{secrets.token_hex(4)}"
            kr.set(ref, secret)
            entry["store"] = "keyring"
            entry["ref"] = ref
        else:
            box = self._sealed_box(doc, create=True)
            entry["store"] = "file"
            entry["sealed"] = box.seal(
                secret.encode(), _aad(name, entry["version"], entry["api_key"])
            )

    def _get_secret(self, doc: dict[str, Any], name: str, entry: dict[str, Any]) -> str:
        if entry.get("store") == "keyring":
            kr = self._keyring()
            value = None if kr is None else kr.get(str(entry.get("ref")))
            if value is None:
                raise KeyStoreError(
                    f"the OS keyring has no secret for key {name!r} (no usable keyring now, or "
                    f"the entry was deleted): store it again with `tradewire keys rotate {name}`"
                )
            return value
        box = self._sealed_box(doc, create=False)
        plain = box.open(entry.get("sealed"), _aad(name, entry["version"], entry["api_key"]))
        return plain.decode("utf-8")

    def _drop_secret(self, entry: dict[str, Any]) -> None:
        if entry.get("store") == "keyring":
            kr = self._keyring()
            if kr is not None:
                kr.delete(str(entry.get("ref")))

    def _ask_password(self, new: bool) -> str:
        """The password: asked, or the one that last unlocked (or created) the file.

        It is kept (hidden) to unlock the file again after another process re-keys it: the
        environment variable may be gone by then (:func:`drop_env_password`).
        """
        if self._known_password is not None:
            return self._known_password.reveal()
        return self._password(new)

    def _sealed_box(self, doc: dict[str, Any], *, create: bool) -> SealedBox:
        """The box that opens the file's secrets; ``create``: about to write one (seal it with
        new parameters if the file has none, re-key the file if its parameters are weak)."""
        kdf = doc.get("kdf")
        if kdf is None:
            if not create:
                raise KeyStoreError(f"{self.path} holds no encrypted secrets")
            return self._new_box(doc, self._ask_password(True))
        try:
            params = KdfParams.from_json(kdf)
        except ValueError as e:
            raise KeyStoreError(
                f"{self.path}: key derivation settings refused ({e}); nothing was derived. The "
                "file was altered or written by another program: restore it, or remove it and "
                "add the keys again"
            ) from None
        if self._box is not None and self._box[0] == params.salt:
            box = self._box[1]
        else:
            password = self._ask_password(False)
            box = SealedBox(derive_key(password, params))
            box.verify(doc.get("check"))
            self._box = (params.salt, box)
            self._known_password = Secret(password)
        if create and params.weak:
            box = self._rekey(doc, box)
        return box

    def _new_box(self, doc: dict[str, Any], password: str) -> SealedBox:
        params = KdfParams.new()
        box = SealedBox(derive_key(password, params))
        doc["kdf"] = params.to_json()
        doc["check"] = box.check_value()
        self._box = (params.salt, box)
        self._known_password = Secret(password)
        return box

    def _rekey(self, doc: dict[str, Any], old: SealedBox) -> SealedBox:
        """Seal every file-stored secret again under today's parameters (written by the caller)."""
        plain = {
            name: old.open(entry.get("sealed"), _aad(name, entry["version"], entry["api_key"]))
            for name, entry in doc["keys"].items()
            if entry.get("store") == "file"
        }
        box = self._new_box(doc, self._ask_password(False))
        for name, secret in plain.items():
            entry = doc["keys"][name]
            entry["sealed"] = box.seal(secret, _aad(name, entry["version"], entry["api_key"]))
        _log.info("key file %s re-keyed with scrypt n=%d", self.path, SCRYPT_N)
        return box

    # --- the file -----------------------------------------------------------------------------

    def _entry(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        entry: dict[str, Any] | None = doc["keys"].get(name)
        if entry is None:
            known = ", ".join(sorted(doc["keys"])) or "none"
            raise KeyNotFound(
                f"no key named {name!r} in {self.path} (stored: {known}); "
                f"add it with `tradewire keys add {name}`"
            )
        return entry

    def _info(self, name: str, entry: dict[str, Any]) -> KeyInfo:
        created = _dt(entry["created"])
        assert created is not None
        return KeyInfo(
            name=name,
            api_key=mask_api_key(entry["api_key"]),
            key_type=entry["key_type"],
            created=created,
            rotated=_dt(entry.get("rotated")),
            version=int(entry["version"]),
            backend=str(entry.get("store")),
            venue=str(entry.get("venue", "binance")),
        )

    def _load(self) -> dict[str, Any]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {"format": _FORMAT, "version": 1, "keys": {}}
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if os.name == "posix":
                if st.st_mode & 0o077:
                    raise InsecureKeyFile(
                        f"{self.path} can be read or written by other users (mode "
                        f"{stat.S_IMODE(st.st_mode):04o}); nothing was read. Run "
                        f"`chmod 600 {self.path}`, and rotate the keys if others may have "
                        "copied it"
                    )
                if st.st_uid != os.getuid():
                    raise InsecureKeyFile(
                        f"{self.path} belongs to another user (uid {st.st_uid}); nothing was read"
                    )
            raw = f.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            raise KeyStoreError(f"{self.path} is not a tradewire key file (bad JSON)") from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise KeyStoreError(f"{self.path} is not a tradewire key file")
        if doc.get("version") != 1 or not isinstance(doc.get("keys"), dict):
            raise KeyStoreError(f"{self.path}: unsupported key file version {doc.get('version')}")
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        ensure_home(self.home)
        data = json.dumps(doc, indent=2, sort_keys=True).encode()
        tmp = self.home / f".{self.FILE_NAME}.{secrets.token_hex(6)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                if hasattr(os, "fchmod"):
                    os.fchmod(f.fileno(), 0o600)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        if os.name == "posix":
            dir_fd = os.open(self.home, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock file so two processes never interleave a read-modify-write."""
        ensure_home(self.home)
        fd = os.open(self.home / ".keys.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl  # POSIX only
            except ImportError:  # pragma: no cover - Windows: a single writer is assumed
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

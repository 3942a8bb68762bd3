"""The key store: secrets in the OS keyring or an encrypted file, never shown anywhere."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import pickle
import sys
import threading
import types
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tradewire import Signer
from tradewire.errors import InvalidKey
from tradewire.keys import (
    ApiCredentials,
    InsecureKeyFile,
    KeyExists,
    KeyNotFound,
    KeyStore,
    KeyStoreError,
    KeyStoreLocked,
    Secret,
    WrongPassword,
)
from tradewire.keys.oskeyring import usable_keyring

if TYPE_CHECKING:
    from pathlib import Path

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY2 = "Qx7bQ2y0R8a9mWcD3fE4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4aB5cD6eF7gH8iJ"
SECRET2 = "b" * 40 + "SecondSecretValue0123456789"


def password(value: str) -> Any:
    """A password source that always gives ``value``."""
    return lambda new: value


def file_store(home: Path, pw: str = "correct horse") -> KeyStore:
    return KeyStore(home, backend="file", password=password(pw))


def ed25519_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_add_get_list_in_the_encrypted_file(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    info = store.add("main", API_KEY, SECRET)
    assert (info.name, info.api_key, info.key_type, info.version, info.backend) == (
        "main",
        "vmPU…h8A",
        "hmac",
        1,
        "file",
    )
    assert info.rotated is None
    creds = store.get("main")
    assert creds.api_key == API_KEY
    assert creds.secret.reveal() == SECRET
    payload = b"symbol=BTCUSDT&timestamp=1"
    assert creds.signer().sign(payload) == Signer.from_secret(SECRET).sign(payload)
    # A new store (another process) reads it back with the same password.
    again = file_store(tmp_path).get("main")
    assert again.secret.reveal() == SECRET
    assert [k.name for k in file_store(tmp_path).list()] == ["main"]
    mode = os.stat(tmp_path / "keys.json").st_mode & 0o777
    assert mode == 0o600
    raw = (tmp_path / "keys.json").read_bytes()
    assert SECRET.encode() not in raw
    assert json.loads(raw)["kdf"] | {"salt": ""} == {
        "name": "scrypt",
        "n": 2**17,
        "r": 8,
        "p": 1,
        "salt": "",
    }


def test_listing_needs_no_password(tmp_path: Path) -> None:
    file_store(tmp_path).add("main", API_KEY, SECRET)

    def no_password(new: bool) -> str:
        raise AssertionError("list() must not ask for the password")

    infos = KeyStore(tmp_path, backend="file", password=no_password).list()
    assert [(k.name, k.api_key) for k in infos] == [("main", "vmPU…h8A")]


def test_wrong_password_is_a_clear_error(tmp_path: Path) -> None:
    file_store(tmp_path).add("main", API_KEY, SECRET)
    with pytest.raises(WrongPassword, match="wrong password"):
        file_store(tmp_path, "wrong").get("main")


def test_no_password_and_no_terminal_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_PASSWORD", "from-env")
    KeyStore(tmp_path, backend="file").add("main", API_KEY, SECRET)
    assert KeyStore(tmp_path, backend="file").get("main").secret.reveal() == SECRET
    monkeypatch.delenv("TRADEWIRE_PASSWORD")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(KeyStoreLocked, match="set TRADEWIRE_PASSWORD"):
        KeyStore(tmp_path, backend="file").get("main")


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.add("main", API_KEY, SECRET)
    os.chmod(tmp_path / "keys.json", 0o644)
    for action in (store.list, lambda: store.get("main")):
        with pytest.raises(InsecureKeyFile, match="chmod 600"):
            action()
    os.chmod(tmp_path / "keys.json", 0o600)
    assert store.get("main").api_key == API_KEY


def test_rotate_replaces_atomically_and_bumps_the_version(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.add("main", API_KEY, SECRET)
    info = store.rotate("main", API_KEY2, SECRET2)
    assert (info.version, info.api_key) == (2, "Qx7b…8iJ")
    assert info.rotated is not None and info.rotated >= info.created
    assert store.version("main") == 2
    creds = store.get("main")
    assert (creds.api_key, creds.secret.reveal(), creds.version) == (API_KEY2, SECRET2, 2)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_remove_and_missing_keys(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.add("main", API_KEY, SECRET)
    store.add("other", API_KEY2, SECRET2)
    with pytest.raises(KeyExists, match="keys rotate main"):
        store.add("main", API_KEY2, SECRET2)
    store.remove("main")
    with pytest.raises(KeyNotFound, match="stored: other"):
        store.get("main")
    with pytest.raises(KeyNotFound):
        store.rotate("main", API_KEY, SECRET)
    assert [k.name for k in store.list()] == ["other"]


def test_secrets_are_validated_with_the_signer(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    bad_pem = "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n"
    with pytest.raises(InvalidKey) as caught:
        store.add("bad", API_KEY, bad_pem)
    assert "not base64" not in str(caught.value)
    with pytest.raises(KeyStoreError, match="the same"):
        store.add("same", SECRET, SECRET)
    with pytest.raises(KeyStoreError, match="printable ASCII"):
        store.add("spaces", "has space", SECRET)
    with pytest.raises(ValueError, match="invalid key name"):
        store.add("../evil", API_KEY, SECRET)
    assert store.list() == []


def test_an_ed25519_pem_key(tmp_path: Path) -> None:
    pem = ed25519_pem()
    store = file_store(tmp_path)
    assert store.add("ed", API_KEY, pem).key_type == "ed25519"
    creds = store.get("ed")
    assert creds.secret.reveal() == pem.strip()
    assert creds.signer().key_type == "ed25519"
    with pytest.raises(KeyStoreError, match="one line"):
        store.add("flat", API_KEY2, pem.replace("\n", " "))


def test_sealed_secrets_are_bound_to_their_key(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.add("a", API_KEY, SECRET)
    store.add("b", API_KEY2, SECRET2)
    path = tmp_path / "keys.json"
    doc = json.loads(path.read_text())
    doc["keys"]["a"]["sealed"], doc["keys"]["b"]["sealed"] = (
        doc["keys"]["b"]["sealed"],
        doc["keys"]["a"]["sealed"],
    )
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassword):
        file_store(tmp_path).get("a")


def test_secrets_never_show_in_reprs_logs_errors_or_pickles(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = file_store(tmp_path)
    texts: list[str] = []
    store.add("main", API_KEY, SECRET)
    creds = store.get("main")
    texts += [repr(creds), str(creds), f"{creds}", repr(creds.secret), f"{creds.secret}"]
    texts += [repr(store), repr(store.list()), repr(store.info("main"))]
    store.rotate("main", API_KEY2, SECRET2)
    for attempt in (
        lambda: store.add("main", API_KEY, SECRET),
        lambda: store.add("x", SECRET, SECRET),
        lambda: store.add("y", API_KEY, SECRET[:-1] + "\n-----BEGIN"),
        lambda: file_store(tmp_path, "nope").get("main"),
        lambda: pickle.dumps(creds),
        lambda: pickle.dumps(creds.secret),
    ):
        with pytest.raises((KeyStoreError, TypeError, InvalidKey)) as caught:
            attempt()
        texts += [str(caught.value), repr(caught.value)]
    texts.append(caplog.text)
    texts.append((tmp_path / "keys.json").read_text())
    assert "key main rotated to version 2" in caplog.text
    for secret in (SECRET, SECRET2):
        for text in texts:
            assert secret not in text
    assert API_KEY not in caplog.text


class FakeKeyring(types.ModuleType):
    """A stand-in for the ``keyring`` package with an in-memory backend."""

    def __init__(self, backend_module: str = "keyring.backends.SecretService") -> None:
        super().__init__("keyring")
        self.entries: dict[tuple[str, str], str] = {}
        backend = type("Keyring", (), {"priority": 5, "__module__": backend_module})
        self.backend = backend()

    def get_keyring(self) -> Any:
        return self.backend

    def set_password(self, service: str, user: str, secret: str) -> None:
        self.entries[service, user] = secret

    def get_password(self, service: str, user: str) -> str | None:
        return self.entries.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        del self.entries[service, user]


def test_secrets_go_to_the_os_keyring_when_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeKeyring()
    monkeypatch.setitem(sys.modules, "keyring", fake)

    def no_password(new: bool) -> str:
        raise AssertionError("the keyring needs no password")

    store = KeyStore(tmp_path, password=no_password)
    assert store.add("main", API_KEY, SECRET).backend == "keyring"
    assert list(fake.entries.values()) == [SECRET]
    assert SECRET not in (tmp_path / "keys.json").read_text()
    assert store.get("main").secret.reveal() == SECRET
    store.rotate("main", API_KEY2, SECRET2)
    assert list(fake.entries.values()) == [SECRET2]  # the old secret is deleted
    assert store.get("main").api_key == API_KEY2
    store.remove("main")
    assert fake.entries == {}


@pytest.mark.parametrize("module", ["keyring.backends.fail", "keyring.backends.null"])
def test_a_keyring_without_a_usable_backend_counts_as_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", FakeKeyring(module))
    assert usable_keyring() is None
    store = KeyStore(tmp_path, password=password("pw"))
    assert store.add("main", API_KEY, SECRET).backend == "file"
    with pytest.raises(KeyStoreError, match="no usable OS keyring"):
        KeyStore(tmp_path, backend="keyring", password=password("pw")).add("k2", API_KEY2, SECRET2)


def test_secret_values_compare_without_showing() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    creds = ApiCredentials("n", API_KEY, Secret(SECRET), "hmac", 1)
    assert "NhqP" not in repr(creds)


@pytest.mark.asyncio
async def test_a_running_watcher_switches_to_the_rotated_key(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.add("main", API_KEY, SECRET)
    seen: list[ApiCredentials] = []
    switched = asyncio.Event()

    async def on_change(creds: ApiCredentials) -> None:
        seen.append(creds)
        switched.set()

    async with store.watch("main", interval=0.02, on_change=on_change) as watcher:
        assert watcher.credentials.version == 1
        # Another process (here a thread with its own store) rotates the key.
        rotation = threading.Thread(
            target=lambda: file_store(tmp_path).rotate("main", API_KEY2, SECRET2)
        )
        rotation.start()
        await asyncio.to_thread(rotation.join)
        await asyncio.wait_for(switched.wait(), timeout=10)
        assert watcher.credentials.api_key == API_KEY2
        assert watcher.credentials.secret.reveal() == SECRET2
        assert [c.version for c in seen] == [2]
        assert await watcher.check() is False  # nothing new
        store.remove("main")
        assert await watcher.check() is False
        assert watcher.removed
        assert watcher.credentials.version == 2  # the last key is kept until the bot stops

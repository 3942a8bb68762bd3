"""The key file's password derivation: today's strength, weak files re-keyed, hostile settings.

A key file is data: whoever can write it (a bad restore, another program, an attacker) chooses
its scrypt settings. They are bounded, so unlocking never freezes or crashes the command.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import KeyStoreError
from tradewire.keys import KeyStore, drop_env_password
from tradewire.keys.crypto import KdfParams

if TYPE_CHECKING:
    from pathlib import Path

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY2 = "Qx7bQ2y0R8a9mWcD3fE4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4aB5cD6eF7gH8iJ"
SECRET2 = "b" * 40 + "SecondSecretValue0123456789"
PASSWORD = "correct horse"


def file_store(home: Path) -> KeyStore:
    return KeyStore(home, backend="file", password=lambda new: PASSWORD)


def kdf_of(home: Path) -> dict[str, Any]:
    kdf: dict[str, Any] = json.loads((home / "keys.json").read_text())["kdf"]
    return kdf


def weak_file(home: Path, monkeypatch: pytest.MonkeyPatch, n: int = 2**15) -> None:
    """A key file written with scrypt n=``n``, as tradewire wrote them before."""
    with monkeypatch.context() as m:
        m.setattr(KdfParams, "new", classmethod(lambda cls: cls(salt=os.urandom(16), n=n)))
        file_store(home).add("old", API_KEY, SECRET)
    assert kdf_of(home)["n"] == n


def test_new_key_files_use_owasp_scrypt_settings(tmp_path: Path) -> None:
    file_store(tmp_path).add("main", API_KEY, SECRET)
    assert {k: v for k, v in kdf_of(tmp_path).items() if k != "salt"} == {
        "name": "scrypt",
        "n": 2**17,
        "r": 8,
        "p": 1,
    }


@pytest.mark.slow
def test_a_weak_file_still_opens_and_is_rekeyed_at_its_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak_file(tmp_path, monkeypatch)
    old_salt = kdf_of(tmp_path)["salt"]
    reader = file_store(tmp_path)
    assert reader.get("old").secret.reveal() == SECRET  # reading keeps the file as it is
    assert kdf_of(tmp_path)["n"] == 2**15

    file_store(tmp_path).add("new", API_KEY2, SECRET2)
    kdf = kdf_of(tmp_path)
    assert (kdf["n"], kdf["r"]) == (2**17, 8) and kdf["salt"] != old_salt
    fresh = file_store(tmp_path)  # another process: derives from the password again
    assert fresh.get("old").secret.reveal() == SECRET
    assert fresh.get("new").secret.reveal() == SECRET2
    # The store that was unlocked before the re-key follows it without asking again.
    assert reader.get("new").secret.reveal() == SECRET2
    wrong = KeyStore(tmp_path, backend="file", password=lambda new: "not it")
    with pytest.raises(KeyStoreError, match="wrong password"):
        wrong.get("old")


HOSTILE: dict[str, dict[str, Any]] = {
    "n not a power of two": {"n": 2**14 + 1},
    "n of 2**20 with r=32, p=16": {"n": 2**20, "r": 32, "p": 16},
    "n of 2**20 with r=4 (512 MiB)": {"n": 2**20, "r": 4},
    "n of 2**19": {"n": 2**19},
    "n of 2**62": {"n": 2**62},
    "n of 2**13": {"n": 2**13},
    "r of 9": {"r": 9},
    "r of 0": {"r": 0},
    "p of 3": {"p": 3},
    "p of 0": {"p": 0},
    "n as true": {"n": True},
    "n as a string": {"n": "131072"},
    "n as a float": {"n": 131072.0},
    "n missing": {"n": None},
    "an empty salt": {"salt": ""},
    "a salt of 4 bytes": {"salt": "AAAAAA=="},
    "a salt of 1000 bytes": {"salt": "QUFB" * 333 + "QQ=="},
    "a salt that is not base64": {"salt": "not base64!"},
    "another function": {"name": "argon2id"},
}


@pytest.mark.parametrize("change", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_settings_are_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any]
) -> None:
    weak_file(tmp_path, monkeypatch, n=2**14)  # quick to make
    path = tmp_path / "keys.json"
    doc = json.loads(path.read_text())
    doc["kdf"] |= change
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    start = time.perf_counter()
    with pytest.raises(KeyStoreError, match="key derivation settings refused") as error:
        file_store(tmp_path).get("old")
    assert time.perf_counter() - start < 0.5
    assert "\n" not in str(error.value) and "from 2**14 to 2**18" in str(error.value)


def test_the_password_leaves_the_environment_and_the_store_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIRE_PASSWORD", PASSWORD)
    store = KeyStore(tmp_path, backend="file")
    store.add("main", API_KEY, SECRET)
    drop_env_password()
    assert "TRADEWIRE_PASSWORD" not in os.environ
    assert store.get("main").secret.reveal() == SECRET
    assert PASSWORD not in repr(vars(store))
    store.rotate("main", API_KEY2, SECRET2)  # and it writes, without the variable
    assert file_store(tmp_path).get("main").secret.reveal() == SECRET2

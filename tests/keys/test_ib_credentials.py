"""IB OAuth 1.0a credentials in the key store and through ``tradewire keys add --venue ib``."""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
import pathlib
import sys
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tradewire.cli.main import main
from tradewire.errors import IBAuthError, KeyExists, KeyNotFound, KeyStoreError
from tradewire.ib.oauth import OAuth1aCredentials, dh_prime_from_pem
from tradewire.keys import KeyStore

if TYPE_CHECKING:
    from pathlib import Path

DATA = pathlib.Path(__file__).parent.parent / "data" / "ib"


def ffdhe2048_prime() -> str:
    """The prime as ``openssl asn1parse`` read it from the PEM (tests/data/ib/README.md)."""
    lines = (DATA / "ffdhe2048.asn1.txt").read_text().splitlines()
    return lines[1].rsplit(":", 1)[1].strip().lower()


def test_a_dh_parameters_pem_gives_the_prime_openssl_reads() -> None:
    prime = ffdhe2048_prime()
    assert len(prime) == 512
    assert dh_prime_from_pem((DATA / "ffdhe2048.pem").read_text()) == prime
    creds = OAuth1aCredentials("C", "T", "", "", "", dh_prime=(DATA / "ffdhe2048.pem").read_text())
    assert creds.dh_prime == prime
    with pytest.raises(IBAuthError, match="malformed"):
        dh_prime_from_pem("-----BEGIN DH PARAMETERS-----\nMIIB\n-----END DH PARAMETERS-----")


PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404"
    "DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406"
    "B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD"
    "24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E46"
    "2E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D226"
    "1898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
CONSUMER = "TESTCONSX"
TOKEN = "a1b2c3d4e5f6a7b8c9d0"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def material() -> dict[str, Any]:
    sig = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    enc = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    secret = base64.b64encode(enc.public_key().encrypt(b"s" * 20, padding.PKCS1v15())).decode()
    return {"signature_key": _pem(sig), "encryption_key": _pem(enc), "secret": secret}


def _creds(m: dict[str, Any]) -> OAuth1aCredentials:
    return OAuth1aCredentials(
        consumer_key=CONSUMER,
        access_token=TOKEN,
        access_token_secret=m["secret"],
        signature_key=m["signature_key"],
        encryption_key=m["encryption_key"],
        dh_prime=format(PRIME, "x"),
        realm="test_realm",
    )


def test_add_get_list_remove_an_ib_credential(
    tmp_path: Path, material: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = KeyStore(tmp_path, backend="file", password=lambda new: "pw")
    info = store.add_ib("ib1", _creds(material))
    assert (info.name, info.key_type, info.venue, info.backend) == (
        "ib1",
        "ib-oauth1a",
        "ib",
        "file",
    )
    assert info.api_key == "…"  # a 9-character consumer key is hidden entirely
    store.add("bin1", "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy", "x" * 64)
    listed = {k.name: k.venue for k in store.list()}
    assert listed == {"bin1": "binance", "ib1": "ib"}

    again = KeyStore(tmp_path, backend="file", password=lambda new: "pw").get_ib("ib1")
    assert again == _creds(material)

    raw = (tmp_path / "keys.json").read_text()
    for secret in (TOKEN, material["secret"], "PRIVATE KEY", format(PRIME, "x")[:40]):
        assert secret not in raw
        assert secret not in caplog.text
        assert secret not in repr(again)
        assert secret not in repr(store.list())

    with pytest.raises(KeyStoreError, match="IB OAuth credential"):
        store.get("ib1")
    with pytest.raises(KeyStoreError, match="Binance API key"):
        store.get_ib("bin1")
    with pytest.raises(KeyStoreError, match="remove"):
        store.rotate("ib1", "K" * 20, "y" * 64)
    with pytest.raises(KeyExists):
        store.add_ib("ib1", _creds(material))
    store.remove("ib1")
    with pytest.raises(KeyNotFound):
        store.get_ib("ib1")
    assert [k.name for k in store.list()] == ["bin1"]


def test_bad_ib_keys_are_refused_before_storing(tmp_path: Path, material: dict[str, Any]) -> None:
    store = KeyStore(tmp_path, backend="file", password=lambda new: "pw")
    bad = dict(material, secret="not base64 !")
    with pytest.raises(IBAuthError, match="base64"):
        store.add_ib("ib1", _creds(bad))
    swapped = dict(
        material, encryption_key="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    )
    with pytest.raises(IBAuthError, match="encryption_key"):
        store.add_ib("ib1", _creds(swapped))
    assert store.list() == []


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_cli_add_list_remove_with_venue_ib(
    tmp_path: Path,
    material: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("TRADEWIRE_HOME", str(home))
    monkeypatch.setenv("TRADEWIRE_PASSWORD", "pw")
    monkeypatch.setenv("TRADEWIRE_KEY_BACKEND", "file")
    (tmp_path / "sig.pem").write_text(material["signature_key"])
    (tmp_path / "enc.pem").write_text(material["encryption_key"])
    argv = [
        "keys",
        "add",
        "--venue",
        "ib",
        "ib1",
        "--consumer-key",
        CONSUMER,
        "--access-token",
        TOKEN,
        "--signature-key",
        str(tmp_path / "sig.pem"),
        "--encryption-key",
        str(tmp_path / "enc.pem"),
        "--dh-prime",
        str(DATA / "ffdhe2048.pem"),
        "--realm",
        "test_realm",
    ]
    assert _run(argv, material["secret"] + "\n", monkeypatch) == 0
    out = capsys.readouterr().out
    assert "Stored IB OAuth credential ib1" in out
    assert TOKEN not in out and material["secret"] not in out

    assert _run(["keys", "list"], "", monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:4] == ["ib1", "…", "ib-oauth1a", "file"]
    assert TOKEN not in out

    stored = KeyStore(home, backend="file", password=lambda new: "pw").get_ib("ib1")
    assert stored == dataclasses.replace(_creds(material), dh_prime=ffdhe2048_prime())

    # Missing options and unreadable files are one clean error line, nothing stored.
    assert _run(["keys", "add", "--venue", "ib", "ib2"], "", monkeypatch) == 1
    err = capsys.readouterr().err
    assert "--consumer-key" in err and "--dh-prime" in err
    missing = [*argv[:4], "ib2", *argv[5:]]
    missing[missing.index(str(tmp_path / "sig.pem"))] = str(tmp_path / "nope.pem")
    assert _run(missing, material["secret"], monkeypatch) == 1
    assert "cannot read the signature key" in capsys.readouterr().err

    assert _run(["keys", "remove", "ib1", "--yes"], "", monkeypatch) == 0
    capsys.readouterr()
    assert _run(["keys", "list"], "", monkeypatch) == 0
    assert "ib1" not in capsys.readouterr().out

"""tradewire.Signer / Verifier: Binance's vectors, key handling, and secrecy."""

from __future__ import annotations

import base64
import gc
import pickle
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tradewire import InvalidKey, Signer, Verifier

HMAC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_every_signature_vector_passes(vectors: dict[str, Any]) -> None:
    assert len(vectors["signatures"]) == 11
    for v in vectors["signatures"]:
        signer = Signer.from_secret(v["secret"])
        assert signer.key_type == v["key_type"], v["id"]
        assert signer.sign(v["payload"]) == v["signature"], v["id"]
        assert signer.sign(v["payload"].encode()) == v["signature"], v["id"]
        assert signer.verify(v["payload"], v["signature"]), v["id"]


def test_verifier_checks_vectors_with_the_public_key(vectors: dict[str, Any]) -> None:
    for v in vectors["signatures"]:
        key = v["secret"] if v["key_type"] == "hmac-sha256" else _public_pem(v["secret"])
        verifier = Verifier.from_key(key)
        assert verifier.key_type == v["key_type"]
        assert verifier.verify(v["payload"], v["signature"]), v["id"]
        assert not verifier.verify(v["payload"] + "x", v["signature"]), v["id"]


@pytest.mark.parametrize(
    "bad_signature",
    ["", "zz", "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b7", "!!!", "A" * 88],
)
def test_verify_refuses_garbage_signatures(bad_signature: str) -> None:
    assert not Signer.from_secret(HMAC_SECRET).verify(b"x", bad_signature)
    ed = ed25519.Ed25519PrivateKey.generate()
    pub = ed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert not Verifier.from_key(pub.decode()).verify(b"x", bad_signature)


def test_hmac_hex_signature_is_case_insensitive_on_verify() -> None:
    s = Signer.from_secret(HMAC_SECRET)
    assert s.verify(b"abc", s.sign(b"abc").upper())


def test_generated_keys_round_trip_and_match_cryptography() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pem = ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert (
        Signer.from_secret(ed_pem).sign(b"payload")
        == base64.b64encode(ed.sign(b"payload")).decode()
    )
    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        pem = rk.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        signer = Signer.from_secret(pem.decode())
        assert signer.key_type == "rsa-pkcs1v15-sha256"
        sig = signer.sign("héllo")
        assert Verifier.from_key(_public_pem(pem.decode())).verify("héllo".encode(), sig)


def test_short_rsa_keys_are_refused() -> None:
    rk = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = rk.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(InvalidKey, match="2048"):
        Signer.from_secret(pem)


def _encrypted_pem() -> str:
    ed = ed25519.Ed25519PrivateKey.generate()
    return ed.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()


BODY = "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u"


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ("", "empty"),
        (HMAC_SECRET + "\n", "whitespace"),
        (" " + HMAC_SECRET, "whitespace"),
        ("-----BEGIN PRIVATE KEY-----\n" + BODY[:20] + "\n-----END PRIVATE KEY-----", "invalid"),
        ("-----BEGIN PRIVATE KEY-----\n" + BODY + "!!\n-----END PRIVATE KEY-----", "base64"),
        ("-----BEGIN PRIVATE KEY-----\n" + BODY + "\n", "END"),
        ("-----BEGIN PRIVATE KEY-----\n" + BODY + "\n-----END PUBLIC KEY-----", "END"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----", "PKCS#8"),
        ("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----", "PKCS#8"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample", "PKCS#8"),
    ],
)
def test_malformed_keys_say_what_is_wrong_without_echoing(secret: str, says: str) -> None:
    with pytest.raises(InvalidKey, match=says) as info:
        Signer.from_secret(secret)
    assert isinstance(info.value, ValueError)
    for fragment in (BODY[:12], HMAC_SECRET[:12], "AAAAC3Nza"):
        assert fragment not in str(info.value)


def test_encrypted_and_public_keys_are_explained() -> None:
    with pytest.raises(InvalidKey, match="encrypted"):
        Signer.from_secret(_encrypted_pem())
    ed = ed25519.Ed25519PrivateKey.generate()
    pub = ed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidKey, match="public key"):
        Signer.from_secret(pub.decode())
    priv = ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidKey, match="private key"):
        Verifier.from_key(priv.decode())


def test_the_secret_cannot_be_read_back() -> None:
    s = Signer.from_secret(HMAC_SECRET)
    assert repr(s) == "Signer(key_type='hmac-sha256')"
    assert HMAC_SECRET not in str(s)
    public = [name for name in dir(s) if not name.startswith("_")]
    assert sorted(public) == ["from_secret", "key_type", "sign", "verify"]
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(s)
    with pytest.raises(AttributeError):
        s.secret = "x"  # type: ignore[attr-defined]
    assert not gc.is_tracked(s) or HMAC_SECRET not in repr(gc.get_referents(s))


def test_payload_types() -> None:
    s = Signer.from_secret(HMAC_SECRET)
    expected = s.sign(b"symbol=BTCUSDT")
    assert s.sign("symbol=BTCUSDT") == expected
    assert s.sign(bytearray(b"symbol=BTCUSDT")) == expected
    assert s.sign(memoryview(b"symbol=BTCUSDT")) == expected
    with pytest.raises(TypeError):
        s.sign(12)  # type: ignore[arg-type]

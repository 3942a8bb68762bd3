"""``tradewire keys`` end to end, in subprocesses, with TRADEWIRE_HOME in a temporary folder."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tradewire.cli.keys import key_restrictions
from tradewire.errors import AuthenticationError
from tradewire.keys import ApiCredentials, Secret, Severity, audit_key
from tradewire.testing.command import TradewireCommand
from tradewire.testing.local_exchange import add_local_key

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.exchange import LocalExchange

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_add_list_rotate_remove(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path / "home")
    secret = secrets.token_hex(32)
    status, out, err = await cli.run("keys", "add", "grid1", stdin=f"{API_KEY}\n{secret}\n")
    assert status == 0, err
    assert "Stored key grid1 (hmac, API key vmPU…h8A)" in out
    assert "encrypted key file" in out

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    # A multi-line PEM secret: everything after the API key's line.
    status, out, err = await cli.run("keys", "add", "dca1", stdin=f"{'E' * 64}\n{pem}")
    assert status == 0, err
    assert "(ed25519, API key EEEE…EEE)" in out

    status, out, _ = await cli.run("keys", "list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "API",
        "KEY",
        "TYPE",
        "STORED",
        "IN",
        "VERSION",
        "CREATED",
        "ROTATED",
    ]
    assert lines[1].split()[:5] == ["dca1", "EEEE…EEE", "ed25519", "file", "1"]
    assert lines[2].split()[:5] == ["grid1", "vmPU…h8A", "hmac", "file", "1"]

    new_secret = secrets.token_hex(32)
    status, out, err = await cli.run(
        "keys", "rotate", "grid1", "--yes", "--no-audit", stdin=f"{'R' * 64}\n{new_secret}"
    )
    assert status == 0, err
    assert "Rotated key grid1 to version 2" in out
    status, out, _ = await cli.run("keys", "list")
    assert "RRRR…RRR" in out and "vmPU" not in out

    status, out, _ = await cli.run("keys", "remove", "dca1", "--yes")
    assert status == 0 and "Removed key dca1" in out
    status, out, _ = await cli.run("keys", "list")
    assert "dca1" not in out and "grid1" in out

    for s in (secret, new_secret, pem.splitlines()[1]):
        assert not cli.leaked(s)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_errors_are_one_clear_line_without_a_secret(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path / "home")
    secret = secrets.token_hex(32)
    assert (await cli.run("keys", "add", "k1", stdin=f"{API_KEY}\n{secret}"))[0] == 0

    status, _, err = await cli.run("keys", "add", "k1", stdin=f"{API_KEY}\n{secret}")
    assert status == 1 and "already stored" in err
    status, _, err = await cli.run(
        "keys", "add", "k2", stdin=f"{API_KEY}\n-----BEGIN PRIVATE KEY-----\nxx\n"
    )
    assert status == 1 and err.startswith("error:")
    status, _, err = await cli.run("keys", "add", "k3", stdin=f"{API_KEY}\n")
    assert status == 1 and "no secret on stdin" in err
    status, _, err = await cli.run("keys", "rotate", "missing", stdin="")
    assert status == 1 and "no key named 'missing'" in err

    wrong = cli.env(TRADEWIRE_PASSWORD="not the password")
    status, _, err = await cli.run(
        "keys", "audit", "k1", "--rest-url", "http://127.0.0.1:9", env=wrong
    )
    assert status == 1 and "wrong password" in err

    locked = {k: v for k, v in cli.env().items() if k != "TRADEWIRE_PASSWORD"}
    status, _, err = await cli.run(
        "keys", "add", "k4", stdin=f"{'B' * 64}\n{secrets.token_hex(32)}", env=locked
    )
    assert status == 1 and "TRADEWIRE_PASSWORD" in err

    os.chmod(cli.home / "keys.json", 0o644)
    status, _, err = await cli.run("keys", "list")
    assert status == 1 and "chmod 600" in err

    assert all("Traceback" not in text for text in cli.outputs)
    assert not cli.leaked(secret)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_audit_exit_statuses_against_the_local_exchange(
    tmp_path: Path, ex: LocalExchange
) -> None:
    cli = TradewireCommand(tmp_path / "home")
    cases = {
        "good": (("reading", "spot"), ("127.0.0.1",)),
        "open": (("reading", "spot"), None),
        "withdraw": (("reading", "spot", "withdrawals"), ("127.0.0.1",)),
        "readonly": (("reading",), ("127.0.0.1",)),
        "elsewhere": (("reading", "spot"), ("10.20.30.40",)),
    }
    used: list[str] = []
    for name, (permissions, whitelist) in cases.items():
        key = add_local_key(ex, permissions=permissions, ip_whitelist=whitelist)
        used.append(key.secret)
        added = await cli.run("keys", "add", name, stdin=f"{key.api_key}\n{key.secret}")
        assert added.status == 0, added.err

    async def audit(name: str, *extra: str) -> tuple[int, str]:
        status, out, err = await cli.run("keys", "audit", name, "--rest-url", ex.rest_url, *extra)
        return status, out + err

    status, text = await audit("good")
    assert status == 0 and "passes the audit" in text
    status, text = await audit("open")
    assert status == 1 and "no IP whitelist" in text
    status, text = await audit("withdraw")
    assert status == 2 and "WITHDRAW" in text and "refused" in text
    status, text = await audit("readonly")
    assert status == 2 and "cannot trade" in text
    status, text = await audit("readonly", "--purpose", "paper")
    assert status == 0
    status, text = await audit("elsewhere")
    assert status == 2 and "-2015" in text
    for secret in used:
        assert not cli.leaked(secret)


def credentials(ex: LocalExchange, **kwargs: Any) -> ApiCredentials:
    """A new HMAC key on ``ex``, as the key store gives it."""
    secret = secrets.token_hex(32)
    return ApiCredentials("k", ex.add_key(secret, **kwargs), Secret(secret), "hmac", 1)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("permissions", "whitelist", "expected"),
    [
        (("reading", "spot"), ("127.0.0.1",), {"ok": Severity.OK}),
        (("reading", "spot"), None, {"no-ip-whitelist": Severity.WARNING}),
        (("reading", "spot", "withdrawals"), ("127.0.0.1",), {"withdrawals": Severity.REFUSED}),
        (("reading",), ("127.0.0.1", "10.1.2.3"), {"no-trading": Severity.REFUSED}),
    ],
)
async def test_key_restrictions_from_the_local_exchange_judged(
    ex: LocalExchange,
    permissions: tuple[str, ...],
    whitelist: tuple[str, ...] | None,
    expected: dict[str, Severity],
) -> None:
    restrictions = await key_restrictions(
        credentials(ex, permissions=permissions, ip_whitelist=whitelist), ex.rest_url
    )
    assert restrictions.ip_restrict is (whitelist is not None)
    assert {f.code: f.severity for f in audit_key(restrictions).findings} == expected


@pytest.mark.asyncio
async def test_key_restrictions_errors_are_typed_and_the_request_is_on_the_exchange_clock(
    ex: LocalExchange,
) -> None:
    elsewhere = credentials(ex, permissions=("reading", "spot"), ip_whitelist=("10.9.9.9",))
    with pytest.raises(AuthenticationError) as caught:
        await key_restrictions(elsewhere, ex.rest_url)
    assert caught.value.code == -2015
    unknown = ApiCredentials("u", "A" * 64, Secret(secrets.token_hex(32)), "hmac", 1)
    with pytest.raises(AuthenticationError):
        await key_restrictions(unknown, ex.rest_url)
    # The exchange's clock runs 20 s ahead: a timestamp from the local clock alone would be
    # older than recvWindow (-1021); the client measures the offset first.
    ex.set_faults(clock_skew_ms=20_000)
    good = credentials(ex, permissions=("reading", "spot"), ip_whitelist=("127.0.0.1",))
    assert audit_key(await key_restrictions(good, ex.rest_url)).allowed

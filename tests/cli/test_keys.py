"""``tradewire keys`` end to end, in subprocesses, with TRADEWIRE_HOME in a temporary folder."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tradewire.cli.keys import key_restrictions
from tradewire.errors import AuthenticationError
from tradewire.exchange import LocalExchange
from tradewire.keys import ApiCredentials, Secret, Severity, audit_key

if TYPE_CHECKING:
    from pathlib import Path

# Until the lead wires `register` into `tradewire.cli.main`, the command group runs under a small
# parser of its own: the same arguments and exit statuses as `tradewire keys ...`.
RUNNER = textwrap.dedent(
    """
    import argparse, sys
    from tradewire.cli.keys import register
    parser = argparse.ArgumentParser(prog="tradewire")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(sys.argv[1:])
    sys.exit(args.func(args))
    """
)
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


class Cli:
    """Runs ``tradewire keys ...`` in a subprocess and keeps everything it printed."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.outputs: list[str] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")} | {
            "TRADEWIRE_HOME": str(home),
            "TRADEWIRE_PASSWORD": "pw for tests",
        }

    async def run(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUNNER,
            "keys",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env if env is not None else self.env,
        )
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=60)
        self.outputs += [out.decode(), err.decode()]
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    def leaked(self, secret: str) -> bool:
        """Whether ``secret`` shows in any output or in any file of the home."""
        files = [p.read_bytes() for p in self.home.rglob("*") if p.is_file()]
        return any(secret in text for text in self.outputs) or any(
            secret.encode() in data for data in files
        )


@pytest.mark.asyncio
async def test_add_list_rotate_remove(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    secret = secrets.token_hex(32)
    status, out, err = await cli.run("add", "grid1", stdin=f"{API_KEY}\n{secret}\n")
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
    status, out, err = await cli.run("add", "dca1", stdin=f"{'E' * 64}\n{pem}")
    assert status == 0, err
    assert "(ed25519, API key EEEE…EEE)" in out

    status, out, _ = await cli.run("list")
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
    status, out, err = await cli.run("rotate", "grid1", stdin=f"{'R' * 64}\n{new_secret}")
    assert status == 0, err
    assert "Rotated key grid1 to version 2" in out
    status, out, _ = await cli.run("list")
    assert "RRRR…RRR" in out and "vmPU" not in out

    status, out, _ = await cli.run("remove", "dca1", "--yes")
    assert status == 0 and "Removed key dca1" in out
    status, out, _ = await cli.run("list")
    assert "dca1" not in out and "grid1" in out

    for s in (secret, new_secret, pem.splitlines()[1]):
        assert not cli.leaked(s)


@pytest.mark.asyncio
async def test_errors_are_one_clear_line_without_a_secret(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    secret = secrets.token_hex(32)
    assert (await cli.run("add", "k1", stdin=f"{API_KEY}\n{secret}"))[0] == 0

    status, _, err = await cli.run("add", "k1", stdin=f"{API_KEY}\n{secret}")
    assert status == 1 and "already stored" in err
    status, _, err = await cli.run(
        "add", "k2", stdin=f"{API_KEY}\n-----BEGIN PRIVATE KEY-----\nxx\n"
    )
    assert status == 1 and err.startswith("error:")
    status, _, err = await cli.run("add", "k3", stdin=f"{API_KEY}\n")
    assert status == 1 and "no secret on stdin" in err
    status, _, err = await cli.run("rotate", "missing", stdin="")
    assert status == 1 and "no key named 'missing'" in err

    wrong = cli.env | {"TRADEWIRE_PASSWORD": "not the password"}
    status, _, err = await cli.run("audit", "k1", "--rest-url", "http://127.0.0.1:9", env=wrong)
    assert status == 1 and "wrong password" in err

    locked = {k: v for k, v in cli.env.items() if k != "TRADEWIRE_PASSWORD"}
    status, _, err = await cli.run(
        "add", "k4", stdin=f"{'B' * 64}\n{secrets.token_hex(32)}", env=locked
    )
    assert status == 1 and "TRADEWIRE_PASSWORD" in err

    os.chmod(cli.home / "keys.json", 0o644)
    status, _, err = await cli.run("list")
    assert status == 1 and "chmod 600" in err

    assert all("Traceback" not in text for text in cli.outputs)
    assert not cli.leaked(secret)


@pytest.mark.asyncio
async def test_audit_exit_statuses_against_the_local_exchange(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        cases = {
            "good": (("reading", "spot"), ("127.0.0.1",)),
            "open": (("reading", "spot"), None),
            "withdraw": (("reading", "spot", "withdrawals"), ("127.0.0.1",)),
            "readonly": (("reading",), ("127.0.0.1",)),
            "elsewhere": (("reading", "spot"), ("10.20.30.40",)),
        }
        used: list[str] = []
        for name, (permissions, whitelist) in cases.items():
            secret = secrets.token_hex(32)
            used.append(secret)
            api_key = ex.add_key(secret, permissions=permissions, ip_whitelist=whitelist)
            assert (await cli.run("add", name, stdin=f"{api_key}\n{secret}"))[0] == 0

        async def audit(name: str, *extra: str) -> tuple[int, str]:
            status, out, err = await cli.run("audit", name, "--rest-url", ex.rest_url, *extra)
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
    permissions: tuple[str, ...],
    whitelist: tuple[str, ...] | None,
    expected: dict[str, Severity],
) -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        restrictions = await key_restrictions(
            credentials(ex, permissions=permissions, ip_whitelist=whitelist), ex.rest_url
        )
    assert restrictions.ip_restrict is (whitelist is not None)
    assert {f.code: f.severity for f in audit_key(restrictions).findings} == expected


@pytest.mark.asyncio
async def test_key_restrictions_errors_are_typed_and_the_request_is_on_the_exchange_clock() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
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

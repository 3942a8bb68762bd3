"""The ``tradewire keys`` command group: add, list, remove, rotate and audit API keys.

``keys add NAME`` and ``keys rotate NAME`` read the API key and the secret without echo on a
terminal. When stdin is not a terminal they read it: the first line is the API key and the rest
of stdin is the secret, so a multi-line PEM private key can be piped as it is::

    (echo "$API_KEY"; cat ed25519-private.pem) | tradewire keys add bot1

``--secret-file FILE`` reads the secret from a file instead (the API key is still read first).
The key file's password comes from ``TRADEWIRE_PASSWORD`` or is asked on the terminal.

An Interactive Brokers OAuth 1.0a credential is added with ``--venue ib``; the access-token
secret is read like a Binance secret (without echo, from stdin, or ``--access-token-secret-file``),
never from the command line::

    tradewire keys add --venue ib ib1 --consumer-key TESTCONS --access-token TOKEN \
        --signature-key private_signature.pem --encryption-key private_encryption.pem \
        --dh-prime dhparam.pem < access_token_secret.txt
"""

from __future__ import annotations

import asyncio
import functools
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE
from tradewire.config import default_home, load_config
from tradewire.errors import APIError, ParseError, TradewireError
from tradewire.ib.oauth import DEFAULT_REALM, OAuth1aCredentials
from tradewire.keys import KeyStore, Secret, Severity, audit_key

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tradewire.binance.answers import ApiRestrictions
    from tradewire.keys import ApiCredentials

__all__ = ["key_restrictions", "register"]


async def key_restrictions(credentials: ApiCredentials, rest_url: str) -> ApiRestrictions:
    """What the key may do, asked of the exchange at ``rest_url`` through a ``BinanceClient``.

    The client measures the exchange's clock first, so the signed request is on time even when
    this machine's clock is off.

    Raises:
        APIError: the exchange refused the request (typed: AuthenticationError, ...) or could not
            be reached (NetworkError).
        ParseError: the answer lacks a flag the audit needs.
    """
    async with BinanceClient(
        credentials.api_key,
        credentials.secret.reveal(),
        rest_url=rest_url,
        load_exchange_info=False,
        clock_samples=3,
        clock_refresh_s=0,
    ) as client:
        return await client.api_restrictions()


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``keys`` command group to the ``tradewire`` command."""
    group = subparsers.add_parser(
        "keys",
        help="store, list, rotate and audit API keys (secrets never shown)",
        description=(
            "API keys, one per bot. Secrets go to the OS keyring when one is usable, else to "
            "an encrypted file in TRADEWIRE_HOME (password: TRADEWIRE_PASSWORD or asked)."
        ),
    )
    commands = group.add_subparsers(dest="keys_command", required=True)

    add = commands.add_parser(
        "add",
        help="store a new key (read without echo, or from stdin: key line, then the secret)",
    )
    add.add_argument("name", help="the key's name, bound to a bot in config.toml")
    add.add_argument("--secret-file", help="read the secret (e.g. a PEM private key) from FILE")
    add.add_argument(
        "--venue",
        choices=("binance", "ib"),
        default="binance",
        help="binance: an API key and secret; ib: an Interactive Brokers OAuth 1.0a credential",
    )
    ib = add.add_argument_group("Interactive Brokers OAuth 1.0a (--venue ib)")
    ib.add_argument("--consumer-key", help="the consumer key set in IB's Self Service Portal")
    ib.add_argument("--access-token", help="the access token the portal shows")
    ib.add_argument(
        "--access-token-secret-file",
        help="read the (encrypted, base64) access-token secret from FILE; else without echo "
        "on a terminal, or from stdin",
    )
    ib.add_argument("--signature-key", help="FILE: the private RSA signature key (PEM)")
    ib.add_argument("--encryption-key", help="FILE: the private RSA encryption key (PEM)")
    ib.add_argument(
        "--dh-prime", help="the DH prime: a dhparam PEM FILE, or its prime in hex (colons allowed)"
    )
    ib.add_argument("--dh-generator", type=int, default=2, help="the DH generator (default 2)")
    ib.add_argument(
        "--realm",
        default=DEFAULT_REALM,
        help=f"{DEFAULT_REALM} (default), or test_realm for the TESTCONS consumer",
    )
    add.set_defaults(func=_add)

    rotate = commands.add_parser(
        "rotate", help="replace a key's API key and secret; running bots switch to it"
    )
    rotate.add_argument("name")
    rotate.add_argument("--secret-file", help="read the new secret from FILE")
    rotate.set_defaults(func=_rotate)

    listing = commands.add_parser("list", help="list stored keys (never shows secrets)")
    listing.set_defaults(func=_list)

    remove = commands.add_parser("remove", help="forget a key and delete its secret")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(func=_remove)

    audit = commands.add_parser(
        "audit",
        help="check a key's permissions on the exchange (exit 0 ok, 1 warnings, 2 refused)",
    )
    audit.add_argument("name")
    audit.add_argument(
        "--rest-url", default=None, help=f"the exchange's REST URL (default {BINANCE.rest_url})"
    )
    audit.add_argument(
        "--purpose",
        choices=("live", "paper", "read-only"),
        default="live",
        help="what the key is for: a key that cannot trade is refused only for live",
    )
    audit.set_defaults(func=_audit)


def _store() -> KeyStore:
    home = default_home()
    return KeyStore(home, backend=load_config(home).keys.backend)


def _reports_errors(
    func: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Print a TradewireError as one clean line (never a traceback) and return status 1."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except TradewireError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1

    return run


def _read_credentials(secret_file: str | None) -> tuple[str, Secret]:
    """The API key and secret: without echo on a terminal, else from stdin (key line first)."""
    if sys.stdin.isatty():
        api_key = getpass.getpass("API key: ").strip()
        if secret_file:
            return api_key, Secret(Path(secret_file).read_text(encoding="utf-8"))
        return api_key, Secret(getpass.getpass("Secret (not shown): "))
    first = sys.stdin.readline()
    if not first.strip():
        raise TradewireError("no API key on stdin: give the API key on the first line")
    api_key = first.strip()
    if secret_file:
        return api_key, Secret(Path(secret_file).read_text(encoding="utf-8"))
    secret = Secret(sys.stdin.read())
    if not secret.reveal().strip():
        raise TradewireError(
            "no secret on stdin: give the API key on the first line and the secret after it"
        )
    return api_key, secret


def _where(store: KeyStore, backend: str) -> str:
    return "the OS keyring" if backend == "keyring" else f"the encrypted key file {store.path}"


def _dh_prime(value: str) -> str:
    """The DH prime as given: the text of a file (PEM or hex) when ``value`` names one."""
    return _read_file(value, "DH prime") if Path(value).is_file() else value


def _read_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise TradewireError(f"cannot read the {what} from {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise TradewireError(f"cannot read the {what} from {path}: not UTF-8 text") from None


def _read_ib_secret(secret_file: str | None) -> str:
    """The access-token secret: from a file, without echo on a terminal, or from stdin."""
    if secret_file:
        return _read_file(secret_file, "access-token secret").strip()
    if sys.stdin.isatty():
        return getpass.getpass("Access-token secret (not shown): ").strip()
    return sys.stdin.read().strip()


def _add_ib(args: argparse.Namespace, store: KeyStore) -> int:
    missing = [
        f"--{n.replace('_', '-')}"
        for n in ("consumer_key", "access_token", "signature_key", "encryption_key", "dh_prime")
        if not getattr(args, n)
    ]
    if missing:
        raise TradewireError(f"--venue ib needs {', '.join(missing)}")
    if args.secret_file:
        raise TradewireError("--secret-file is for Binance keys: use --access-token-secret-file")
    credentials = OAuth1aCredentials(
        consumer_key=args.consumer_key,
        access_token=args.access_token,
        access_token_secret=_read_ib_secret(args.access_token_secret_file),
        signature_key=_read_file(args.signature_key, "signature key"),
        encryption_key=_read_file(args.encryption_key, "encryption key"),
        dh_prime=_dh_prime(args.dh_prime),
        dh_generator=args.dh_generator,
        realm=args.realm,
    )
    info = store.add_ib(args.name, credentials)
    print(
        f"Stored IB OAuth credential {info.name} (consumer key {info.api_key}, realm "
        f"{credentials.realm}) in {_where(store, info.backend)}."
    )
    return 0


@_reports_errors
def _add(args: argparse.Namespace) -> int:
    store = _store()
    if args.venue == "ib":
        return _add_ib(args, store)
    api_key, secret = _read_credentials(args.secret_file)
    info = store.add(args.name, api_key, secret)
    print(
        f"Stored key {info.name} ({info.key_type}, API key {info.api_key}) in "
        f"{_where(store, info.backend)}."
    )
    print(f"Check its permissions with: tradewire keys audit {info.name}")
    return 0


@_reports_errors
def _rotate(args: argparse.Namespace) -> int:
    store = _store()
    store.version(args.name)  # fail before asking for anything if the key does not exist
    api_key, secret = _read_credentials(args.secret_file)
    info = store.rotate(args.name, api_key, secret)
    print(
        f"Rotated key {info.name} to version {info.version} ({info.key_type}, API key "
        f"{info.api_key}); running bots switch to it at their next key check."
    )
    print("Delete the old key on the exchange once the bots use the new one.")
    return 0


@_reports_errors
def _list(args: argparse.Namespace) -> int:
    store = _store()
    keys = store.list()
    if not keys:
        print(f"No keys in {store.home}. Add one with: tradewire keys add NAME")
        return 0
    rows = [("NAME", "API KEY", "TYPE", "STORED IN", "VERSION", "CREATED", "ROTATED")]
    for k in keys:
        rows.append(
            (
                k.name,
                k.api_key,
                k.key_type,
                k.backend,
                str(k.version),
                k.created.strftime("%Y-%m-%d %H:%M UTC"),
                k.rotated.strftime("%Y-%m-%d %H:%M UTC") if k.rotated else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


@_reports_errors
def _remove(args: argparse.Namespace) -> int:
    store = _store()
    store.version(args.name)
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Remove key {args.name} and delete its secret? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing removed.")
            return 1
    store.remove(args.name)
    print(f"Removed key {args.name}. Delete it on the exchange too, so it can never be used.")
    return 0


@_reports_errors
def _audit(args: argparse.Namespace) -> int:
    home = default_home()
    config = load_config(home)
    store = KeyStore(home, backend=config.keys.backend)
    credentials = store.get(args.name)
    rest_url = args.rest_url or config.exchange.rest_url or BINANCE.rest_url
    print(f"Auditing key {args.name} (API key {store.info(args.name).api_key}) on {rest_url}")
    try:
        restrictions = asyncio.run(key_restrictions(credentials, rest_url))
    except (APIError, ParseError) as e:
        print(f"REFUSED  The exchange refused the key: {e}", file=sys.stderr)
        return int(Severity.REFUSED)
    result = audit_key(restrictions, purpose=args.purpose)
    print(result.report())
    verdict = {
        Severity.OK: "The key passes the audit.",
        Severity.WARNING: "The key may be used, but fix the warnings above.",
        Severity.REFUSED: "The key is refused: a bot will not run with it until this is fixed.",
    }[result.severity]
    print(verdict)
    return result.exit_status

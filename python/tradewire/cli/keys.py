"""The ``tradewire keys`` command group: add, list, remove, rotate and audit API keys.

``keys add NAME`` and ``keys rotate NAME`` read the API key and the secret without echo on a
terminal. When stdin is not a terminal they read it: the first line is the API key and the rest
of stdin is the secret, so a multi-line PEM private key can be piped as it is::

    (echo "$API_KEY"; cat ed25519-private.pem) | tradewire keys add bot1

``--secret-file FILE`` reads the secret from a file instead (the API key is still read first).
The key file's password comes from ``TRADEWIRE_PASSWORD`` or is asked on the terminal.

Commands that destroy or replace a stored key (``keys remove``, ``keys rotate``) ask for
confirmation on a terminal; without one they refuse (exit status 2) unless ``--yes`` is given, so
``echo n | tradewire keys remove bot1`` never deletes anything. ``keys rotate`` audits the new key
on the exchange before it replaces the old one: it must work, keep every permission the old key
had (reading, spot trading, an IP whitelist where Binance reports it) and pass ``keys audit`` for
``--purpose``; otherwise the old key stays and the reason is printed. ``keys audit`` tells
"could not reach the exchange" (UNREACHABLE, exit status 3) from "the exchange refused the key"
(REFUSED, exit status 2).

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE, PRESETS, preset
from tradewire.config import default_home, load_config
from tradewire.errors import (
    APIError,
    AuthenticationError,
    ExchangeUnavailable,
    NetworkError,
    ParseError,
    TradewireError,
)
from tradewire.ib.oauth import DEFAULT_REALM, OAuth1aCredentials
from tradewire.keys import (
    ApiCredentials,
    AuditResult,
    Finding,
    KeyStore,
    Secret,
    Severity,
    audit_key,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tradewire.binance.answers import ApiRestrictions

__all__ = ["UNREACHABLE", "KeyProbe", "key_restrictions", "probe_key", "register"]

UNREACHABLE = 3
"""Exit status of ``keys audit`` / ``keys rotate`` when the exchange could not be reached."""
_NOT_CONFIRMED = 2


async def key_restrictions(credentials: ApiCredentials, rest_url: str) -> ApiRestrictions:
    """What the key may do, asked of the exchange at ``rest_url`` through a ``BinanceClient``.

    The client measures the exchange's clock first, so the signed request is on time even when
    this machine's clock is off.

    Raises:
        APIError: the exchange refused the request (typed: AuthenticationError, ...) or could not
            be reached (NetworkError).
        ParseError: the answer lacks a flag the audit needs.
    """
    async with _audit_client(credentials, rest_url) as client:
        return await client.api_restrictions()


def _audit_client(credentials: ApiCredentials, rest_url: str) -> BinanceClient:
    """A client for one audit: no exchangeInfo, the exchange's clock measured once first (so
    the signed request is on time even when this machine's clock is off)."""
    return BinanceClient(
        credentials.api_key,
        credentials.secret.reveal(),
        rest_url=rest_url,
        load_exchange_info=False,
        clock_samples=3,
        clock_refresh_s=0,
    )


@dataclass(frozen=True)
class KeyProbe:
    """What the exchange said about a key: its restrictions, or (where the exchange does not
    report them, as Binance's testnet) only that it works and whether the account can trade."""

    restrictions: ApiRestrictions | None
    can_trade: bool | None = None

    def flags(self) -> dict[str, bool | None]:
        """Reading, spot trading and IP whitelist; None where the exchange does not say."""
        r = self.restrictions
        if r is None:
            return {"reading": True, "trading": self.can_trade, "whitelist": None}
        return {
            "reading": r.enable_reading,
            "trading": r.enable_spot_and_margin_trading,
            "whitelist": r.ip_restrict,
        }

    def judge(self, purpose: str) -> AuditResult:
        """The audit of the key for ``purpose`` (what ``keys audit`` prints)."""
        if self.restrictions is not None:
            return audit_key(self.restrictions, purpose=purpose)
        can = "can" if self.can_trade else "cannot"
        findings = [
            Finding(
                "restrictions-unreported",
                Severity.WARNING,
                f"The key works (the exchange answered for it) and the account {can} trade, but "
                "this exchange does not report the key's restrictions (Binance's testnet has no "
                "/sapi endpoints): its IP whitelist and withdrawal permission are unchecked.",
            )
        ]
        if not self.can_trade and purpose == "live":
            findings.append(
                Finding(
                    "no-trading",
                    Severity.REFUSED,
                    "The account cannot trade with this key: live orders would be rejected.",
                )
            )
        return AuditResult(tuple(findings))


async def probe_key(credentials: ApiCredentials, rest_url: str) -> KeyProbe:
    """Ask the exchange at ``rest_url`` what ``credentials`` may do.

    Its restrictions (``/sapi/v1/account/apiRestrictions``) where the exchange has them; where it
    answers that path with 404 (Binance's testnet), the account (``/api/v3/account``) proves the
    key works and says whether it can trade.

    Raises:
        APIError: refused (AuthenticationError, ...) or not reached (NetworkError).
        ParseError: an answer lacks a flag the audit needs.
    """
    async with _audit_client(credentials, rest_url) as client:
        try:
            return KeyProbe(await client.api_restrictions())
        except APIError as e:
            if e.status != 404:
                raise
        return KeyProbe(None, (await client.account()).can_trade)


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
        "rotate",
        help="replace a key's API key and secret, after auditing the new one; running bots "
        "switch to it (exit 0 rotated, 2 refused or not confirmed, 3 exchange unreachable)",
    )
    rotate.add_argument("name")
    rotate.add_argument("--secret-file", help="read the new secret from FILE")
    rotate.add_argument(
        "--yes",
        action="store_true",
        help="replace without asking (needed when stdin is not a terminal)",
    )
    _exchange_options(rotate)
    rotate.add_argument(
        "--purpose",
        choices=("live", "paper", "read-only"),
        default="live",
        help="what the key is for: the new key must pass the audit for it",
    )
    rotate.add_argument(
        "--no-audit",
        action="store_true",
        help="store the new key without asking the exchange about it (default: audit it first)",
    )
    rotate.set_defaults(func=_rotate)

    listing = commands.add_parser("list", help="list stored keys (never shows secrets)")
    listing.set_defaults(func=_list)

    remove = commands.add_parser(
        "remove", help="forget a key and delete its secret (asks first; --yes without a terminal)"
    )
    remove.add_argument("name")
    remove.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation (needed when stdin is not a terminal)",
    )
    remove.set_defaults(func=_remove)

    audit = commands.add_parser(
        "audit",
        help="check a key's permissions on the exchange (exit 0 ok, 1 warnings, 2 refused, "
        "3 exchange unreachable)",
    )
    audit.add_argument("name")
    _exchange_options(audit)
    audit.add_argument(
        "--purpose",
        choices=("live", "paper", "read-only"),
        default="live",
        help="what the key is for: a key that cannot trade is refused only for live",
    )
    audit.set_defaults(func=_audit)


def _exchange_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--rest-url",
        default=None,
        help="the exchange's REST URL, e.g. a local exchange's (default: [exchange] rest_url "
        f"of config.toml, else {BINANCE.rest_url})",
    )
    where.add_argument(
        "--exchange",
        choices=tuple(PRESETS),
        default=None,
        help="Binance's live exchange or its Spot testnet (which reports no key restrictions)",
    )


def _rest_url(args: argparse.Namespace, configured: str | None) -> str:
    if args.exchange:
        return preset(args.exchange).rest_url
    return str(args.rest_url or configured or BINANCE.rest_url)


def _confirm(question: str, yes: bool, refusal: str) -> bool:
    """Whether a destructive step may go on: ``--yes``, or "y" typed on a terminal.

    Without a terminal and without ``--yes`` nothing is asked (piped text is no answer) and
    ``refusal`` is printed.
    """
    if yes:
        return True
    if not sys.stdin.isatty():
        print(
            f"error: {refusal}: stdin is not a terminal, so pass --yes to confirm", file=sys.stderr
        )
        return False
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


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


def _unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the exchange was not reached (network, timeout, DNS, 5xx)."""
    return isinstance(error, NetworkError | ExchangeUnavailable)


def _why_not(error: TradewireError, rest_url: str) -> tuple[str, int]:
    """The line that explains an audit that got no verdict, and its exit status."""
    if _unreachable(error):
        return (
            f"UNREACHABLE  Could not reach the exchange at {rest_url}: {error}",
            UNREACHABLE,
        )
    if isinstance(error, AuthenticationError):
        return f"REFUSED  The exchange refused the key: {error}", int(Severity.REFUSED)
    return f"FAILED  The audit could not be completed: {error}", int(Severity.REFUSED)


_KEPT = {
    "reading": "reading the account",
    "trading": "spot trading",
    "whitelist": "an IP whitelist",
}


async def _rotation_audit(
    old: ApiCredentials, new: ApiCredentials, rest_url: str
) -> tuple[KeyProbe, KeyProbe | None]:
    """What the exchange says of the new key, and of the old one when it still answers for it.

    Raises:
        APIError, ParseError: about the new key (the old one's failures only drop it).
    """
    probe = await probe_key(new, rest_url)
    try:
        previous: KeyProbe | None = await probe_key(old, rest_url)
    except (APIError, ParseError):
        previous = None  # already deleted on the exchange, say: nothing to compare
    return probe, previous


@_reports_errors
def _rotate(args: argparse.Namespace) -> int:
    home = default_home()
    config = load_config(home)
    store = KeyStore(home, backend=config.keys.backend)
    store.version(args.name)  # fail before asking for anything if the key does not exist
    if not _confirm(
        f"Replace key {args.name} with a new API key and secret?",
        args.yes,
        f"not replacing key {args.name} without confirmation",
    ):
        print("Nothing changed.")
        return _NOT_CONFIRMED
    api_key, secret = _read_credentials(args.secret_file)
    if not args.no_audit:
        status = _audit_rotation(args, store, config.exchange.rest_url, api_key, secret)
        if status:
            print(f"Key {args.name} was not rotated: the old key stays in place.", file=sys.stderr)
            return status
    info = store.rotate(args.name, api_key, secret)
    print(
        f"Rotated key {info.name} to version {info.version} ({info.key_type}, API key "
        f"{info.api_key}); running bots switch to it at their next key check."
    )
    print("Delete the old key on the exchange once the bots use the new one.")
    return 0


def _audit_rotation(
    args: argparse.Namespace,
    store: KeyStore,
    configured: str | None,
    api_key: str,
    secret: Secret,
) -> int:
    """Audit the new key (and compare it with the old one); 0 when it may replace it."""
    old = store.get(args.name)
    new = ApiCredentials(args.name, api_key.strip(), Secret(secret.reveal().strip()), "", 0)
    rest_url = _rest_url(args, configured)
    print(f"Auditing the new key for {args.name} on {rest_url}")
    try:
        probe, previous = asyncio.run(_rotation_audit(old, new, rest_url))
    except (APIError, ParseError) as e:
        line, status = _why_not(e, rest_url)
        print(line, file=sys.stderr)
        return status
    result = probe.judge(args.purpose)
    print(result.report())
    had = previous.flags() if previous is not None else {}
    has = probe.flags()
    lost = [label for flag, label in _KEPT.items() if had.get(flag) and has[flag] is False]
    if lost:
        print(
            f"REFUSED  The new key lacks {', '.join(lost)}, which the old key has: fix it in "
            "Binance's API Management (or create the key again) and rotate again.",
            file=sys.stderr,
        )
        return int(Severity.REFUSED)
    if not result.allowed:
        print("The new key is refused: fix the findings above and rotate again.", file=sys.stderr)
        return int(Severity.REFUSED)
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
    if not _confirm(
        f"Remove key {args.name} and delete its secret?",
        args.yes,
        f"not removing key {args.name} without confirmation",
    ):
        print("Nothing removed.")
        return _NOT_CONFIRMED
    store.remove(args.name)
    print(f"Removed key {args.name}. Delete it on the exchange too, so it can never be used.")
    return 0


@_reports_errors
def _audit(args: argparse.Namespace) -> int:
    home = default_home()
    config = load_config(home)
    store = KeyStore(home, backend=config.keys.backend)
    credentials = store.get(args.name)
    rest_url = _rest_url(args, config.exchange.rest_url)
    print(f"Auditing key {args.name} (API key {store.info(args.name).api_key}) on {rest_url}")
    try:
        probe = asyncio.run(probe_key(credentials, rest_url))
    except (APIError, ParseError) as e:
        line, status = _why_not(e, rest_url)
        print(line, file=sys.stderr)
        return status
    result = probe.judge(args.purpose)
    print(result.report())
    verdict = {
        Severity.OK: "The key passes the audit.",
        Severity.WARNING: "The key may be used, but fix the warnings above.",
        Severity.REFUSED: "The key is refused: a bot will not run with it until this is fixed.",
    }[result.severity]
    print(verdict)
    return result.exit_status

"""OAuth 1.0a for Interactive Brokers' Web API: the live session token and request signing.

The flow (IB's first-party OAuth, as ibind 0.2.2 implements it):

1. The access-token secret from IB's Self Service Portal is RSA-encrypted (PKCS#1 v1.5) to the
   user's encryption key; decrypted and hex-encoded it is the *prepend*.
2. ``POST {base}/oauth/live_session_token`` carries a Diffie-Hellman challenge ``A = g^a mod p``
   (hex) and is signed RSA-SHA256 (PKCS#1 v1.5) with the user's signature key over
   ``prepend + "POST&" + quote_plus(url) + "&" + quote_plus(sorted k=v pairs)``.
3. IB answers ``diffie_hellman_response`` ``B`` (hex), ``live_session_token_signature`` and
   ``live_session_token_expiration`` (ms). The live session token is
   ``base64(HMAC-SHA1(key = K, msg = bytes.fromhex(prepend)))`` with ``K = B^a mod p`` as
   big-endian two's-complement bytes (a leading zero byte when the top bit is set, like Java's
   ``BigInteger.toByteArray``). It is valid when ``hex(HMAC-SHA1(key = LST, msg = consumer key))``
   equals the signature.
   (The HTTP call is :func:`tradewire.ib.live_session.request_live_session_token`; this module
   has no network code, so the key store can hold :class:`OAuth1aCredentials`.)
4. Every later request is signed HMAC-SHA256 with the base64-decoded token as key, by the Rust
   core (:class:`OAuthRequestSigner`).

Nonce, timestamp and the DH secret are injectable, so every value here is a test vector.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tradewire._core import OAuthRequestSigner, Signer
from tradewire.errors import IBAuthError, InvalidKey

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "DEFAULT_REALM",
    "LIVE_SESSION_TOKEN_PATH",
    "TEST_REALM",
    "LiveSessionToken",
    "LiveSessionTokenRequest",
    "OAuth1aAuthorizer",
    "OAuth1aCredentials",
    "OAuthRequestSigner",
    "build_live_session_token_request",
    "compute_live_session_token",
    "decrypt_access_token_secret",
    "dh_challenge",
    "dh_prime_from_pem",
    "live_session_token_base_string",
    "new_dh_secret",
    "new_nonce",
    "parse_live_session_token_reply",
    "validate_live_session_token",
]

DEFAULT_REALM = "limited_poa"
"""The realm of a first-party consumer."""
TEST_REALM = "test_realm"
"""The realm of IB's paper-only test consumer ``TESTCONS``."""
LIVE_SESSION_TOKEN_PATH = "/oauth/live_session_token"
"""The live-session-token endpoint, relative to the API base (``.../v1/api``)."""

_NONCE_CHARS = string.ascii_letters + string.digits


@dataclass(frozen=True)
class OAuth1aCredentials:
    """What IB's Self Service Portal gives a first-party OAuth 1.0a consumer (secrets hidden).

    Attributes:
        consumer_key: The consumer key (9 characters for a first party; ``TESTCONS`` on paper).
        access_token: The access token shown by the portal.
        access_token_secret: The access-token secret as shown: base64 of the RSA-encrypted secret.
        signature_key: PEM of the private RSA key whose public half was uploaded for signatures.
        encryption_key: PEM of the private RSA key whose public half was uploaded for encryption.
        dh_prime: The Diffie-Hellman prime: hex (colons and whitespace allowed), or the PEM
            "DH PARAMETERS" file IB's instructions make (``openssl dhparam``); kept as hex.
        dh_generator: The Diffie-Hellman generator (IB uses 2).
        realm: ``limited_poa``, or ``test_realm`` for ``TESTCONS``.
    """

    consumer_key: str
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    signature_key: str = field(repr=False)
    encryption_key: str = field(repr=False)
    dh_prime: str = field(repr=False)
    dh_generator: int = 2
    realm: str = DEFAULT_REALM

    def __post_init__(self) -> None:
        for name in ("consumer_key", "access_token", "realm"):
            value = getattr(self, name)
            if not value or not all(0x20 < ord(c) < 0x7F and c not in '"\\' for c in value):
                raise IBAuthError(f"{name} must be non-empty printable ASCII without quotes")
        prime = _prime(self.dh_prime)
        object.__setattr__(self, "dh_prime", format(prime, "x"))
        if not 1 < self.dh_generator < prime - 1:
            raise IBAuthError("dh_generator must lie between 1 and the prime minus 1 (IB uses 2)")

    def __reduce__(self) -> Any:
        raise TypeError("OAuth1aCredentials hold secrets and cannot be pickled")


def _der_length(der: bytes, i: int) -> tuple[int, int]:
    """The length at ``der[i]`` and the index after it (short or long form)."""
    first = der[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n == 0 or n > 4 or i + 1 + n > len(der):
        raise IBAuthError("the DH parameters PEM is malformed")
    return int.from_bytes(der[i + 1 : i + 1 + n], "big"), i + 1 + n


def dh_prime_from_pem(text: str) -> str:
    """The prime of a PKCS#3 ``DH PARAMETERS`` PEM (``SEQUENCE { prime, generator }``), hex."""
    body = text.split("-----BEGIN DH PARAMETERS-----", 1)[-1].split("-----END", 1)[0]
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
        if der[0] != 0x30:
            raise IndexError
        _, i = _der_length(der, 1)
        if der[i] != 0x02:
            raise IndexError
        n, i = _der_length(der, i + 1)
        if i + n > len(der):
            raise IndexError
        return format(int.from_bytes(der[i : i + n], "big"), "x")
    except (binascii.Error, ValueError, IndexError):
        raise IBAuthError("the DH parameters PEM is malformed") from None


def _prime(text: str) -> int:
    if "BEGIN DH PARAMETERS" in text:
        text = dh_prime_from_pem(text)
    cleaned = "".join(text.split()).replace(":", "").lower().removeprefix("0x")
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise IBAuthError("dh_prime must be the Diffie-Hellman prime in hex") from None
    if value.bit_length() < 1024:
        raise IBAuthError(
            f"dh_prime has {value.bit_length()} bits; IB's primes have 2048 (openssl dhparam 2048)"
        )
    return value


def new_nonce() -> str:
    """A fresh nonce: 16 random letters and digits."""
    return "".join(secrets.choice(_NONCE_CHARS) for _ in range(16))


def new_dh_secret() -> int:
    """A fresh random 256-bit Diffie-Hellman secret ``a``."""
    return secrets.randbits(256) | (1 << 255)


def decrypt_access_token_secret(access_token_secret: str, encryption_key: str) -> str:
    """The *prepend*: the access-token secret decrypted (RSA PKCS#1 v1.5) and hex-encoded.

    A secret encrypted to another key is not detected here: PKCS#1 v1.5 decryption then
    yields other bytes (implicit rejection), and the live session token fails to validate.

    Raises:
        IBAuthError: the secret is not base64, or the key is not an RSA private key.
    """
    try:
        ciphertext = base64.b64decode(access_token_secret, validate=True)
    except (binascii.Error, ValueError):
        raise IBAuthError(
            "access_token_secret is not base64 (copy it as the portal shows it)"
        ) from None
    try:
        key = load_pem_private_key(encryption_key.encode(), password=None)
    except (ValueError, TypeError):
        raise IBAuthError(
            "encryption_key is not an unencrypted PEM private key "
            "(the private half of the encryption key uploaded to IB)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise IBAuthError("encryption_key must be an RSA private key")
    try:
        plain = key.decrypt(ciphertext, padding.PKCS1v15())
    except ValueError:
        raise IBAuthError(
            "access_token_secret does not decrypt with encryption_key (check that both belong "
            "to this consumer and the secret is copied whole)"
        ) from None
    return plain.hex()


def dh_challenge(dh_prime: str, dh_secret: int, generator: int = 2) -> str:
    """``g^a mod p`` in lower-case hex without leading zeros."""
    if dh_secret < 2:
        raise IBAuthError("the Diffie-Hellman secret must be at least 2")
    return format(pow(generator, dh_secret, _prime(dh_prime)), "x")


def live_session_token_base_string(url: str, params: Mapping[str, str], prepend: str) -> str:
    """``prepend + "POST&" + quote_plus(url) + "&" + quote_plus(k=v&... sorted by name)``."""
    joined = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{prepend}POST&{quote_plus(url)}&{quote_plus(joined)}"


@dataclass(frozen=True)
class LiveSessionTokenRequest:
    """A prepared ``POST /oauth/live_session_token``: its URL, header and what the reply needs."""

    url: str
    authorization: str
    dh_challenge: str
    base_string: str = field(repr=False)
    dh_secret: int = field(repr=False)
    prepend: str = field(repr=False)


def build_live_session_token_request(
    credentials: OAuth1aCredentials,
    url: str,
    *,
    dh_secret: int | None = None,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> LiveSessionTokenRequest:
    """Prepare the live-session-token request for ``url`` (``{base}/oauth/live_session_token``).

    Args:
        credentials: The consumer's credentials.
        url: The full endpoint URL, as it will be requested.
        dh_secret: The Diffie-Hellman secret ``a`` (random 256 bits when omitted).
        nonce: The OAuth nonce (random when omitted).
        timestamp: Seconds since the epoch (now when omitted).

    Raises:
        IBAuthError: a credential is malformed or the keys do not fit.
    """
    a = new_dh_secret() if dh_secret is None else dh_secret
    challenge = dh_challenge(credentials.dh_prime, a, credentials.dh_generator)
    prepend = decrypt_access_token_secret(
        credentials.access_token_secret, credentials.encryption_key
    )
    params = {
        "diffie_hellman_challenge": challenge,
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_nonce": new_nonce() if nonce is None else nonce,
        "oauth_signature_method": "RSA-SHA256",
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_token": credentials.access_token,
    }
    base = live_session_token_base_string(url, params, prepend)
    try:
        signer = Signer.from_secret(credentials.signature_key)
    except InvalidKey as e:
        raise IBAuthError(f"signature_key: {e}") from None
    if signer.key_type != "rsa-pkcs1v15-sha256":
        raise IBAuthError("signature_key must be an RSA private key (2048 bits or more)")
    signature = quote_plus(signer.sign(base.encode()))
    pairs = dict(params, oauth_signature=signature)
    header = ", ".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))
    return LiveSessionTokenRequest(
        url=url,
        authorization=f'OAuth realm="{credentials.realm}", {header}',
        dh_challenge=challenge,
        base_string=base,
        dh_secret=a,
        prepend=prepend,
    )


def _java_bytes(value: int) -> bytes:
    """Big-endian two's-complement bytes of a non-negative int (Java ``BigInteger.toByteArray``)."""
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def compute_live_session_token(
    dh_prime: str, dh_secret: int, dh_response: str, prepend: str
) -> str:
    """The live session token: ``base64(HMAC-SHA1(B^a mod p as bytes, bytes.fromhex(prepend)))``.

    Raises:
        IBAuthError: ``dh_response`` or ``prepend`` is not hex, or ``B`` is out of range.
    """
    p = _prime(dh_prime)
    try:
        b = int(dh_response, 16)
        message = bytes.fromhex(prepend)
    except ValueError:
        raise IBAuthError("diffie_hellman_response and the prepend must be hex") from None
    if not 1 < b < p - 1:
        raise IBAuthError("diffie_hellman_response is out of range for the DH prime")
    shared = pow(b, dh_secret, p)
    digest = hmac.new(_java_bytes(shared), message, hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def validate_live_session_token(
    live_session_token: str, live_session_token_signature: str, consumer_key: str
) -> bool:
    """Whether ``hex(HMAC-SHA1(LST, consumer_key))`` equals the signature (constant time)."""
    try:
        key = base64.b64decode(live_session_token, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(key, consumer_key.encode(), hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected, live_session_token_signature.lower())


@dataclass(frozen=True)
class LiveSessionToken:
    """A validated live session token (hidden) and its expiry in ms since the epoch."""

    token: str = field(repr=False)
    expires_ms: int

    def __reduce__(self) -> Any:
        raise TypeError("a LiveSessionToken is a secret and cannot be pickled")


def parse_live_session_token_reply(
    credentials: OAuth1aCredentials, request: LiveSessionTokenRequest, body: object
) -> LiveSessionToken:
    """The token from IB's JSON reply to ``request``, validated.

    Raises:
        IBAuthError: the reply lacks a field, or the token does not validate.
    """
    if not isinstance(body, dict):
        raise IBAuthError("the live session token reply is not a JSON object")
    response = body.get("diffie_hellman_response")
    signature = body.get("live_session_token_signature")
    expires = body.get("live_session_token_expiration")
    if not isinstance(response, str) or not isinstance(signature, str):
        raise IBAuthError(
            "the live session token reply lacks diffie_hellman_response or "
            "live_session_token_signature"
        )
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise IBAuthError("the live session token reply lacks live_session_token_expiration")
    token = compute_live_session_token(
        credentials.dh_prime, request.dh_secret, response, request.prepend
    )
    if not validate_live_session_token(token, signature, credentials.consumer_key):
        raise IBAuthError(
            "the live session token does not validate (HMAC-SHA1 of the consumer key): check "
            "the DH prime, the encryption key and the access-token secret"
        )
    return LiveSessionToken(token=token, expires_ms=expires)


class OAuth1aAuthorizer:
    """Signs each IB Web API request with a live session token; timestamps never go back.

    ``clock`` (seconds since the epoch) and ``nonce`` are injectable for tests.
    """

    def __init__(
        self,
        credentials: OAuth1aCredentials,
        token: LiveSessionToken,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        self._signer = OAuthRequestSigner(
            token.token,
            consumer_key=credentials.consumer_key,
            access_token=credentials.access_token,
            realm=credentials.realm,
        )
        self._clock = clock
        self._nonce = nonce
        self._last = 0

    def __repr__(self) -> str:
        return f"OAuth1aAuthorizer({self._signer!r})"

    def authorization(self, method: str, url: str, params: Mapping[str, str] | None = None) -> str:
        """The ``Authorization`` header for ``method url`` (url without its query string)."""
        now = max(int(self._clock()), self._last)
        self._last = now
        return self._signer.authorization(
            method, url, params, nonce=self._nonce(), timestamp=str(now)
        )

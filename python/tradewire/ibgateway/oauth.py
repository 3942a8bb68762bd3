"""OAuth 1.0a as IB's api.ibkr.com checks it: the live-session-token request (RSA-SHA256,
Diffie-Hellman, HMAC-SHA1) and every request's HMAC-SHA256 signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["LST_PATH", "OAuthConsumer", "OAuthCredentials", "OAuthVerifier"]

LST_PATH = "oauth/live_session_token"
_PAIR = re.compile(r'([A-Za-z_]+)="([^"]*)"')
_LST_LIFETIME_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class OAuthCredentials:
    """What the self-service portal shows a consumer: the access token and its secret, the secret
    RSA-encrypted (PKCS#1 v1.5) to the consumer's encryption key and base64-encoded."""

    consumer_key: str
    access_token: str
    access_token_secret: str
    realm: str


@dataclass(slots=True)
class OAuthConsumer:
    """One registered consumer and its live session token."""

    consumer_key: str
    signature_key: rsa.RSAPublicKey
    dh_prime: int
    dh_generator: int
    access_token: str
    secret: bytes
    realm: str
    live_session_token: bytes | None = None
    lst_expires_ms: int = 0
    last_timestamp: int = 0

    def __repr__(self) -> str:
        return f"OAuthConsumer({self.consumer_key!r}, access_token={self.access_token!r}, <secret>)"


def _java_bytes(value: int) -> bytes:
    # Java's BigInteger.toByteArray: big-endian two's complement, a 0 byte in front when the top
    # bit is set. IB's server keys the HMAC with these bytes.
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def parse_authorization(header: str) -> dict[str, str]:
    """The pairs of an ``Authorization: OAuth k="v", ...`` header (PermissionError if not OAuth)."""
    if not header.startswith("OAuth "):
        raise PermissionError("missing OAuth Authorization header")
    return dict(_PAIR.findall(header))


def _base_strings(
    method: str, urls: list[str], params: dict[str, str], prepend: str = ""
) -> list[bytes]:
    """The base strings a signer may have signed: with or without the query, encoded with
    quote_plus (ibind) or RFC 3986 quote (IB's examples)."""
    out = []
    for encode in (quote_plus, lambda s: quote(s, safe="")):
        for url in urls:
            joined = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
            out.append(f"{prepend}{method}&{encode(url)}&{encode(joined)}".encode())
    return out


class OAuthVerifier:
    """The consumers the gateway knows and the checks it runs on their requests."""

    def __init__(self) -> None:
        self._consumers: dict[str, OAuthConsumer] = {}

    def add_consumer(
        self,
        consumer_key: str,
        *,
        signature_key: rsa.RSAPublicKey,
        encryption_key: rsa.RSAPublicKey,
        dh_prime: str,
        dh_generator: int = 2,
        realm: str = "limited_poa",
    ) -> OAuthCredentials:
        """Register a consumer; returns its access token and encrypted access token secret."""
        if not consumer_key or len(consumer_key) > 32:
            raise ValueError("consumer_key must be 1 to 32 characters")
        prime = int(dh_prime, 16)
        if prime < 2**255:
            raise ValueError("dh_prime must be a hex prime of at least 256 bits")
        secret = secrets.token_bytes(32)
        access_token = secrets.token_hex(10)
        encrypted = encryption_key.encrypt(secret, padding.PKCS1v15())
        self._consumers[consumer_key] = OAuthConsumer(
            consumer_key, signature_key, prime, dh_generator, access_token, secret, realm
        )
        return OAuthCredentials(
            consumer_key, access_token, base64.b64encode(encrypted).decode(), realm
        )

    def knows_token(self, access_token: str) -> bool:
        """Whether ``access_token`` belongs to a consumer holding a live session token."""
        return any(
            c.access_token == access_token and c.live_session_token is not None
            for c in self._consumers.values()
        )

    def _consumer(self, pairs: Mapping[str, str]) -> OAuthConsumer:
        consumer = self._consumers.get(pairs.get("oauth_consumer_key", ""))
        if consumer is None:
            raise PermissionError("invalid consumer")
        if pairs.get("oauth_token") != consumer.access_token:
            raise PermissionError("invalid token")
        stamp = pairs.get("oauth_timestamp", "")
        if not stamp.isdigit() or int(stamp) < consumer.last_timestamp:
            raise PermissionError("invalid timestamp")
        if abs(int(stamp) - time.time()) > 600:
            raise PermissionError("timestamp out of window")
        return consumer

    def live_session_token(
        self, method: str, urls: list[str], header: str, query: Mapping[str, str]
    ) -> dict[str, object]:
        """Check an LST request and answer it (the body of the 200 reply)."""
        pairs = parse_authorization(header)
        consumer = self._consumer(pairs)
        if pairs.get("oauth_signature_method") != "RSA-SHA256":
            raise PermissionError("live session token requests are signed RSA-SHA256")
        challenge = pairs.get("diffie_hellman_challenge", "")
        try:
            a_pub = int(challenge, 16)
        except ValueError:
            raise PermissionError("bad diffie_hellman_challenge") from None
        if not 1 < a_pub < consumer.dh_prime - 1:
            raise PermissionError("bad diffie_hellman_challenge")
        signature = base64.b64decode(unquote(pairs.get("oauth_signature", "")))
        params = {k: v for k, v in pairs.items() if k not in ("oauth_signature", "realm")}
        params.update(query)
        prepend = consumer.secret.hex()
        for base in _base_strings(method, urls, params, prepend):
            try:
                consumer.signature_key.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())
                break
            except InvalidSignature:
                continue
        else:
            raise PermissionError("invalid signature")
        consumer.last_timestamp = int(pairs["oauth_timestamp"])
        b = secrets.randbits(256)
        b_pub = pow(consumer.dh_generator, b, consumer.dh_prime)
        shared = pow(a_pub, b, consumer.dh_prime)
        token = hmac.new(_java_bytes(shared), consumer.secret, hashlib.sha1).digest()
        consumer.live_session_token = token
        consumer.lst_expires_ms = int(time.time() * 1000) + _LST_LIFETIME_MS
        return {
            "diffie_hellman_response": format(b_pub, "x"),
            "live_session_token_signature": hmac.new(
                token, consumer.consumer_key.encode(), hashlib.sha1
            ).hexdigest(),
            "live_session_token_expiration": consumer.lst_expires_ms,
        }

    def verify(
        self, method: str, urls: list[str], header: str, query: Mapping[str, str]
    ) -> OAuthConsumer:
        """Check a request's HMAC-SHA256 signature with the consumer's live session token."""
        pairs = parse_authorization(header)
        consumer = self._consumer(pairs)
        token = consumer.live_session_token
        if token is None or consumer.lst_expires_ms < time.time() * 1000:
            raise PermissionError("no live session token: request one first")
        if pairs.get("oauth_signature_method") != "HMAC-SHA256":
            raise PermissionError("requests are signed HMAC-SHA256")
        given = unquote(pairs.get("oauth_signature", "")).encode()
        params = {k: v for k, v in pairs.items() if k not in ("oauth_signature", "realm")}
        candidates = _base_strings(method, urls, params)
        if query:
            candidates += _base_strings(method, urls, {**params, **query})
        for base in candidates:
            expected = base64.b64encode(hmac.new(token, base, hashlib.sha256).digest())
            if hmac.compare_digest(expected, given):
                consumer.last_timestamp = int(pairs["oauth_timestamp"])
                return consumer
        raise PermissionError("invalid signature")

"""Who may send a bot signals: its secret token, or an HMAC-SHA256 signature of the body.

Both are compared in constant time (:func:`hmac.compare_digest`); a bot nobody configured is
checked against a throwaway token the same way, so the answer's timing tells nothing. Tokens
are held as bytes and never shown (``repr`` lists the bots only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from tradewire.errors import SignalRefused

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MIN_TOKEN_LENGTH", "SIGNATURE_HEADER", "BotTokens", "sign_body"]

#: The header a sender that can sign puts the body's signature in: ``sha256=<hex>``.
SIGNATURE_HEADER = "X-Tradewire-Signature"
#: The shortest token accepted (a token is a password anyone on the path could try).
MIN_TOKEN_LENGTH = 16
_PREFIX = "sha256="


def sign_body(token: str, body: bytes) -> str:
    """The :data:`SIGNATURE_HEADER` value of ``body`` for a bot whose token is ``token``."""
    return _PREFIX + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class BotTokens:
    """The secret token of each bot, checked in constant time.

    Raises:
        SignalRefused: (from :meth:`check`) 401 for a wrong token or signature, or neither.
        ValueError: (from the constructor) a token shorter than :data:`MIN_TOKEN_LENGTH`.
    """

    def __init__(self, tokens: Mapping[str, str]) -> None:
        short = [bot for bot, token in tokens.items() if len(token) < MIN_TOKEN_LENGTH]
        if short:
            raise ValueError(
                f"the token of {', '.join(sorted(short))} is shorter than {MIN_TOKEN_LENGTH} "
                "characters: make one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`"
            )
        self._tokens = {bot: token.encode() for bot, token in tokens.items()}
        self._decoy = secrets.token_bytes(32)

    def __repr__(self) -> str:
        return f"BotTokens(bots={sorted(self._tokens)})"

    def __contains__(self, bot: object) -> bool:
        return bot in self._tokens

    def redact(self, text: str) -> str:
        """``text`` with every token in it replaced by ``[token]`` (for logs)."""
        for token in self._tokens.values():
            secret = token.decode()
            if secret in text:
                text = text.replace(secret, "[token]")
        return text

    def check(self, bot: str, token: object, body: bytes, signature: str | None) -> str:
        """Check a call for ``bot``: its ``token`` field and/or its signature header.

        A signature, when sent, must match; a token, when sent, must match; at least one must
        be sent. Returns how the call was authenticated (``"token"``, ``"signature"``).
        """
        known = self._tokens.get(bot)
        expected = known if known is not None else self._decoy
        how = None
        if signature is not None:
            mac = hmac.new(expected, body, hashlib.sha256).hexdigest()
            given = signature.strip().removeprefix(_PREFIX).lower().encode("ascii", "replace")
            if not hmac.compare_digest(given, mac.encode()) or known is None:
                raise SignalRefused(401, "bad_signature", "the signature does not match the body")
            how = "signature"
        if token is not None:
            given_token = token.encode() if isinstance(token, str) else b""
            if not hmac.compare_digest(given_token, expected) or known is None:
                raise SignalRefused(401, "bad_token", "unknown bot or wrong token")
            how = "token"
        if how is None:
            raise SignalRefused(
                401,
                "no_token",
                f'no token: put the bot\'s token in the "token" field (or sign '
                f"the body in {SIGNATURE_HEADER})",
            )
        return how

"""The webhook server: ``POST /webhook`` (the bot named in the body) or ``POST /signals/{bot}``.

Each call goes through the checks in this order, and the first that fails answers with a JSON
body ``{"error": reason, "message": ...}`` and changes nothing: the size (413 over
``max_body`` bytes), the content type (415 unless ``application/json`` or ``text/plain``, which
TradingView sends when it does not recognise the JSON), the JSON (400), the bot's token or
signature (401), the fields (400), the timestamp (401 ``stale`` outside the window), the nonce
(409 ``replayed``). The signal then goes to the bot's inbox and the bot's verdict is the answer:
200 done, 422 the bot cannot do it (the rule named: ``NOTIONAL``, ``UNKNOWN_SYMBOL``,
``PAUSED``...), 503 not carried out (the nonce may be sent again), 502 the venue refused,
504 the venue's answer was lost (the order is reconciled, never sent again). Every call is one
line of the :class:`~tradewire.signals.calllog.CallLog`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tradewire.errors import SignalRefused
from tradewire.signals.auth import SIGNATURE_HEADER
from tradewire.signals.parse import bot_name, read_fields, signal_from

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from tradewire.bots.signal import SignalInbox, SignalVerdict
    from tradewire.signals.auth import BotTokens
    from tradewire.signals.calllog import CallLog
    from tradewire.signals.replay import ReplayGuard

__all__ = ["CONTENT_TYPES", "MAX_BODY", "WebhookServer"]

#: The largest body accepted (a signal is a few hundred bytes).
MAX_BODY = 16 * 1024
#: The content types accepted: JSON, and the plain text TradingView labels some JSON with.
CONTENT_TYPES = ("application/json", "text/plain")
_LOGGED_CHARS = 64


class WebhookServer:
    """Receives signals over HTTP and hands them to the bots' inboxes.

    Args:
        tokens: Each bot's secret token.
        inboxes: Each bot's inbox (a bot without one is refused like an unknown bot).
        guard: The timestamp window and the nonces used.
        calls: Where every call is logged.
        host: The address to listen on (``127.0.0.1`` by default: put a reverse proxy with
            HTTPS in front to take calls from the internet).
        port: The port (0: any free one; :attr:`port` tells which).
        max_body: The largest body accepted, in bytes.
        answer_within_s: How long a call waits for the bot's verdict (TradingView gives up
            after 3 s).
    """

    def __init__(
        self,
        tokens: BotTokens,
        inboxes: Mapping[str, SignalInbox],
        guard: ReplayGuard,
        calls: CallLog,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = MAX_BODY,
        answer_within_s: float = 2.5,
    ) -> None:
        self.tokens = tokens
        self.inboxes = dict(inboxes)
        self.guard = guard
        self.calls = calls
        self.host = host
        self._port = port
        self.max_body = max_body
        self.answer_within_s = answer_within_s
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"WebhookServer({self.url!r}, bots={sorted(self.inboxes)})"

    @property
    def port(self) -> int:
        """The port the server listens on (known once started)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL (``http://host:port``)."""
        return f"http://{self.host}:{self._port}"

    def webhook_url(self, bot: str | None = None) -> str:
        """The URL to post a bot's signals to (``/signals/{bot}``, or ``/webhook``)."""
        return f"{self.url}/signals/{bot}" if bot is not None else f"{self.url}/webhook"

    def app(self) -> web.Application:
        """The aiohttp application (the body limit is enforced by the handler)."""
        app = web.Application(client_max_size=self.max_body + 1)
        app.router.add_post("/webhook", self._handle)
        app.router.add_post("/signals/{bot}", self._handle)
        app.router.add_get("/health", self._health)
        app.router.add_route("*", "/{tail:.*}", self._elsewhere)
        return app

    async def start(self) -> None:
        """Bind and serve; returns once the port accepts connections."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        assert isinstance(server, asyncio.Server)
        self._port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebhookServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _elsewhere(self, request: web.Request) -> web.Response:
        """Any other path or method: 404 or 405, logged like every call."""
        path = request.path
        post_path = path == "/webhook" or (path.startswith("/signals/") and path.count("/") == 2)
        status, reason = (405, "method_not_allowed") if post_path else (404, "not_found")
        self.calls.write(
            remote=request.remote,
            bot=None,
            action=None,
            nonce=None,
            status=status,
            outcome=reason,
            reason=f"{request.method} {self._logged(path)}",
        )
        message = "signals are POSTed" if post_path else "no such path: POST to /webhook"
        return web.json_response({"error": reason, "message": message}, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        seen: dict[str, Any] = {"bot": request.match_info.get("bot")}
        try:
            status, body = await self._process(request, seen)
        except SignalRefused as e:
            status = e.status
            body = {"error": e.reason, "message": str(e)}
        self.calls.write(
            remote=request.remote,
            bot=self._logged(seen.get("bot")),
            action=self._logged(seen.get("action")),
            nonce=self._logged(seen.get("nonce")),
            status=status,
            outcome=body.get("outcome") or body.get("error") or "refused",
            reason=body.get("rule") or body.get("error"),
        )
        return web.json_response(body, status=status)

    def _logged(self, value: object) -> str | None:
        """A field as logged: a string, any token in it redacted, cut to a few dozen
        characters."""
        return self.tokens.redact(value)[:_LOGGED_CHARS] if isinstance(value, str) else None

    async def _read(self, request: web.Request) -> bytes:
        limit = self.max_body
        length = request.content_length
        if length is not None and length > limit:
            raise SignalRefused(413, "too_large", f"the body is over {limit} bytes")
        if request.content_type not in CONTENT_TYPES:
            raise SignalRefused(
                415,
                "bad_content_type",
                f"content type {request.content_type!r} is not accepted: send application/json",
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(4096):
            size += len(chunk)
            if size > limit:
                raise SignalRefused(413, "too_large", f"the body is over {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _process(
        self, request: web.Request, seen: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        body = await self._read(request)
        fields = read_fields(body)
        seen["action"], seen["nonce"] = fields.get("action"), fields.get("nonce")
        bot = bot_name(fields, request.match_info.get("bot"))
        seen["bot"] = bot
        self.tokens.check(bot, fields.get("token"), body, request.headers.get(SIGNATURE_HEADER))
        inbox = self.inboxes.get(bot)
        if inbox is None:  # a token without a running bot: authenticated, yet nobody to drive
            raise SignalRefused(404, "no_bot", f"bot {bot!r} does not run here")
        signal = signal_from(fields, bot)
        seen["action"] = signal.action
        self.guard.check_time(signal.timestamp_ms)
        self.guard.claim(bot, signal.nonce, signal.timestamp_ms)
        verdict = await inbox.submit(signal, timeout_s=self.answer_within_s)
        if verdict.status == 503:
            self.guard.release(bot, signal.nonce)  # not carried out: it may come again
        return verdict.status, _answer(verdict)


def _answer(verdict: SignalVerdict) -> dict[str, Any]:
    body: dict[str, Any] = {"outcome": verdict.outcome, "message": verdict.message}
    if verdict.rule is not None:
        body["error"] = "refused"
        body["rule"] = verdict.rule
    if verdict.status >= 500 and verdict.outcome != "done":
        body["error"] = verdict.outcome
    if verdict.detail:
        body["detail"] = verdict.detail
    return body

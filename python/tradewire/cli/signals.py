"""``tradewire signals serve``: a signal bot driven by authenticated webhooks (TradingView alerts).

It runs the webhook server (docs/signals.md) and the signal bot together: on paper by default
(the calibrated synthetic market, ``--exchange local`` the local exchange, ``--exchange
binance`` Binance's public market data), on a real account with ``--live --key NAME`` (the key
must pass the same audit as ``tradewire live``). The bot's secret token comes from an
environment variable (``--token-env``, default ``TRADEWIRE_SIGNAL_TOKEN``), never from the
command line, where it would land in the shell history and in ``ps``. The server listens on
127.0.0.1: put a reverse proxy with HTTPS in front of it to take TradingView's calls. The
bot's state (stopped or not, its position, the signals it carried out) is journaled, so a
restart neither carries a signal out twice nor forgets a stop. Every call is logged as one JSON
line in ``TRADEWIRE_HOME/signals/NAME.jsonl``; the report is written at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.bots.signal import SignalBot, SignalInbox
from tradewire.cli.session import (
    BotHelpFormatter,
    apply_account_defaults,
    decimal_argument,
    finish_run,
    mid_price,
    run_with_view,
    stop_on_signals,
)
from tradewire.config import default_home, ensure_home, load_config, validate_name
from tradewire.errors import ConfigError, TradewireError
from tradewire.signals import BotTokens, CallLog, ReplayGuard, WebhookServer
from tradewire.trading.journal import Journal, check_journal_covers
from tradewire.trading.runner import Runner, resume_journal

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator

    from tradewire.model import SymbolRules
    from tradewire.trading.runner import RunResult
    from tradewire.venues.protocols import MarketSource, Venue

__all__ = ["DEFAULT_TOKEN_ENV", "register", "test_alert"]

#: The environment variable the token is read from unless ``--token-env`` names another.
DEFAULT_TOKEN_ENV = "TRADEWIRE_SIGNAL_TOKEN"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``signals`` command group to the ``tradewire`` command."""
    group = subparsers.add_parser(
        "signals",
        help="signal bots: webhooks (TradingView alerts) that drive a bot",
        description=_plain(__doc__),
    )
    commands = group.add_subparsers(dest="signals_command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the webhook server and the signal bot (paper by default)",
        description=_plain(__doc__),
        formatter_class=BotHelpFormatter,
    )
    serve.add_argument("--bot", required=True, help="the bot's name (in the URL and the alerts)")
    serve.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        help="the environment variable holding the bot's secret token (16 characters at least)",
    )
    serve.add_argument(
        "--token",
        help="refused: a token on the command line lands in the shell history and in `ps` "
        "(use --token-env)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address the server listens on")
    serve.add_argument("--port", type=int, default=8080, help="the server's port (0: any free)")
    serve.add_argument("--symbol", default="BTCUSDT", help="the symbol the bot trades")
    serve.add_argument(
        "--exchange",
        choices=("synthetic", "local", "binance"),
        default="synthetic",
        help="on paper, whose market: the calibrated synthetic market, the local exchange, or "
        "Binance's public market data",
    )
    serve.add_argument(
        "--window", type=float, default=30.0, help="seconds a signal's timestamp may be off"
    )
    serve.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    serve.add_argument("--out", type=Path, help="report folder (default: under TRADEWIRE_HOME)")
    serve.add_argument("--no-view", action="store_true", help="no live terminal view")
    serve.add_argument(
        "--quote-balance", type=decimal_argument, help="the paper account's quote (paper only)"
    )
    serve.add_argument(
        "--base-balance", type=decimal_argument, help="the paper account's base (paper only)"
    )
    serve.add_argument("--seed", type=int, help="seed of the synthetic or local market")
    serve.add_argument(
        "--live", action="store_true", help="trade on a real account (needs --key; audited)"
    )
    serve.add_argument("--key", help="with --live: the key store name to sign with")
    serve.add_argument(
        "--rest-url", help="with --live: the exchange's REST URL (default: Binance's)"
    )
    serve.add_argument(
        "--keep-orders",
        action="store_true",
        help="with --live: leave the bot's open orders working at the end (default: cancel "
        "them); the next start takes them back",
    )
    serve.set_defaults(func=_run_cli)


def _plain(text: str | None) -> str:
    """A docstring as plain text for ``--help`` (no reStructuredText double backquotes)."""
    return (text or "").replace("``", "")


def test_alert(url: str, bot: str, token_env: str) -> str:
    """A curl line that sends the bot a small test alert (the token read from its variable)."""
    body = (
        f'{{"bot":"{bot}","token":"\'"${token_env}"\'","action":"buy","quote_amount":"20",'
        '"timestamp":\'"$(date +%s)"\',"nonce":"\'"$(date +%s%N)"\'"}'
    )
    return f"curl -sS -X POST {url} -H 'Content-Type: application/json' -d '{body}'"


def _say(message: str) -> None:
    print(message, flush=True)


def _token(args: argparse.Namespace) -> BotTokens | str:
    if args.token is not None:
        return (
            "--token is refused: a token given on the command line lands in the shell history "
            f"and in `ps`; put it in an environment variable (--token-env, default "
            f"{DEFAULT_TOKEN_ENV})"
        )
    token = os.environ.get(args.token_env)
    if not token:
        return (
            f"no token: set {args.token_env} to the bot's secret token, e.g. "
            f"export {args.token_env}=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    try:
        return BotTokens({args.bot: token})
    except ValueError as e:
        return str(e)


@contextlib.asynccontextmanager
async def _paper_market(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[SymbolRules, Venue, MarketSource, bool]]:
    """The paper account and the market it fills against: (rules, venue, market, market time)."""
    from tradewire.venues.paper import from_units

    if args.exchange == "synthetic":
        from tradewire.backtest import default_rules
        from tradewire.backtest.synth import synth_spec, synth_tapes
        from tradewire.venues.replay import TapeMarket

        rules = default_rules(args.symbol)
        price = from_units(synth_spec(rules.symbol).start_price, rules.tick_size)
        hours = 87_600.0 if args.duration is None else args.duration / 3600 + 0.01
        market: MarketSource = TapeMarket(synth_tapes(rules.symbol, hours, args.seed), speed=1.0)
        apply_account_defaults(args, rules, price)
        _say(f"synthetic {rules.symbol} market (docs/market.md): seed {args.seed}, 1x")
        yield rules, _broker(args, rules), market, True
        return
    from tradewire.binance.client import BinanceClient
    from tradewire.binance.urls import BINANCE
    from tradewire.venues.binance import BinanceMarket, rules_from_filters

    async with contextlib.AsyncExitStack() as stack:
        if args.exchange == "binance":
            rest_url, stream_url = BINANCE.rest_url, BINANCE.stream_url
        else:
            from tradewire.exchange import LocalExchange

            ex = await stack.enter_async_context(
                LocalExchange(symbols=(args.symbol,), seed=args.seed, market="calibrated")
            )
            rest_url, stream_url = ex.rest_url, ex.stream_url
            _say(f"local exchange market: seed {args.seed}")
        client = await stack.enter_async_context(
            BinanceClient(rest_url=rest_url, stream_url=stream_url)
        )
        rules = rules_from_filters(await client.filters(args.symbol))
        apply_account_defaults(args, rules, await mid_price(client, args.symbol))
        yield rules, _broker(args, rules), BinanceMarket(client), False


def _broker(args: argparse.Namespace, rules: SymbolRules) -> Venue:
    from tradewire.venues.paper import PaperBroker

    return PaperBroker(
        rules, {rules.quote_asset: args.quote_balance, rules.base_asset: args.base_balance}
    )


@contextlib.asynccontextmanager
async def _live_market(
    args: argparse.Namespace, home: Path, journal: Journal, name: str
) -> AsyncIterator[tuple[SymbolRules, Venue, MarketSource, Any]]:
    """The real account (the key audited as ``tradewire live`` does) and its market."""
    from tradewire.binance.client import BinanceClient
    from tradewire.binance.urls import BINANCE, endpoints
    from tradewire.cli.live import audit_for_live
    from tradewire.keys import KeyStore, drop_env_password, mask_api_key
    from tradewire.venues.binance import BinanceMarket, BinanceVenue, order_from_response

    config = load_config(home)
    if args.key is None:
        raise ConfigError("--live needs --key NAME: the key store name to sign with")
    rest_url = args.rest_url or config.exchange.rest_url or BINANCE.rest_url
    urls = endpoints(rest_url, None, None)
    store = KeyStore(home, backend=config.keys.backend)
    credentials = await asyncio.to_thread(store.get, args.key)
    drop_env_password()
    _say(f"Auditing key {args.key} (API key {mask_api_key(credentials.api_key)}) on {rest_url}")
    audit = await audit_for_live(credentials, urls.rest_url)
    if isinstance(audit, str) or not audit.allowed:
        _say(audit if isinstance(audit, str) else audit.report())
        raise TradewireError(f"not starting: key {args.key} is refused for live trading")
    _say(audit.report())
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            BinanceClient(
                credentials.api_key,
                credentials.secret.reveal(),
                rest_url=urls.rest_url,
                stream_url=urls.stream_url,
                ws_api_url=urls.ws_api_url,
            )
        )
        market_client = await stack.enter_async_context(
            BinanceClient(rest_url=urls.rest_url, stream_url=urls.stream_url)
        )
        venue = BinanceVenue(client)
        working = [order_from_response(r) for r in await client.open_orders()]
        check_journal_covers(journal, working, name)
        rules = await venue.symbol_rules(args.symbol)
        resumption = await resume_journal(journal, venue)
        yield rules, venue, BinanceMarket(market_client), resumption


async def _run(args: argparse.Namespace) -> int:
    tokens = _token(args)
    if isinstance(tokens, str):
        print(f"tradewire signals serve: {tokens}", file=sys.stderr)
        return 2
    validate_name("bot", args.bot)
    if not args.live and (args.key or args.rest_url or args.keep_orders):
        print(
            "tradewire signals serve: --key, --rest-url and --keep-orders go with --live",
            file=sys.stderr,
        )
        return 2
    args.symbol = args.symbol.upper()
    if args.seed is None:
        args.seed = secrets.randbelow(2**32)
    home = ensure_home(default_home())
    mode = "live" if args.live else "paper"
    name = f"signals-{args.bot}" if args.live else f"signals-paper-{args.bot}"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_dir: Path = args.out or home / "reports" / f"{name}-{stamp}"
    calls = CallLog(home / "signals" / f"{args.bot}.jsonl")
    stop = stop_on_signals()
    try:
        with Journal.for_bot(home, name) as journal:
            guard = ReplayGuard(args.window)
            since = guard.clock.now_ms() - 2 * guard.window_ms
            guard.remember(
                args.bot, await asyncio.to_thread(journal.signal_nonces, args.bot, since)
            )
            inbox = SignalInbox()
            bot = SignalBot(inbox, journal=journal, bot=args.bot)
            market_cm: contextlib.AbstractAsyncContextManager[
                tuple[SymbolRules, Venue, MarketSource, Any]
            ] = _live_market(args, home, journal, name) if args.live else _paper_market(args)
            async with market_cm as (rules, venue, market, extra):
                if args.live:
                    runner = Runner(
                        bot,
                        venue,
                        market,
                        rules,
                        mode="live",
                        bot=name,
                        journal=journal,
                        resumption=extra,
                        timer_interval_s=0.2,
                    )
                else:
                    from tradewire.clock import MarketClock

                    runner = Runner(
                        bot,
                        venue,
                        market,
                        rules,
                        mode="paper",
                        bot=name,
                        journal=None if extra else journal,  # market time keeps no order journal
                        clock=MarketClock() if extra else None,
                        timer_interval_s=0.2,
                    )
                server = WebhookServer(
                    tokens, {args.bot: inbox}, guard, calls, host=args.host, port=args.port
                )
                async with server:
                    url = server.webhook_url(args.bot)
                    _say(f"signal bot {args.bot} ({mode}, {rules.symbol}) listening on {url}")
                    _say(f"calls are logged to {calls.path}; the bot's journal is {journal.path}")
                    _say("send a test alert with:")
                    _say("  " + test_alert(url, args.bot, args.token_env))
                    result = await run_with_view(
                        runner,
                        title=f"signal bot {args.bot} ({mode}) on {url}",
                        show_view=not args.no_view,
                        duration_s=args.duration,
                        stop=stop,
                    )
                if args.live and not args.keep_orders:
                    canceled = await runner.ctx.cancel_all()
                    _say(f"canceled {canceled} open orders (--keep-orders leaves them working)")
                elif args.live:
                    _say(f"{len(runner.ctx.open_orders())} open orders left working")
    finally:
        calls.close()
    return await _report(args, result, out_dir, bot, calls, mode, name)


async def _report(
    args: argparse.Namespace,
    result: RunResult,
    out_dir: Path,
    bot: SignalBot,
    calls: CallLog,
    mode: str,
    name: str,
) -> int:
    extra = {
        "bot": args.bot,
        "name": name,
        "mode": mode,
        "exchange": "live" if args.live else args.exchange,
        "signals": {
            "calls": calls.lines,
            "carried_out": bot.signals_done,
            "paused": bot.paused,
            "position": str(bot.position()),
            "call_log": str(calls.path),
        },
    }
    pnl = result.pnl
    headline = (
        f"{calls.lines} calls, {bot.signals_done} signals carried out, "
        f"{len(result.log.fills)} fills, total P&L {pnl.total:.6f} {result.quote_asset}; "
        f"stopped: {result.stop_reason}"
    )
    return await finish_run(result, out_dir, extra, headline, say=_say)


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire signals serve``."""
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it
        return 130

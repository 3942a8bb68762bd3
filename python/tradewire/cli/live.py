"""``tradewire live grid|dca|run``: a bot on a real account (``run FILE.py:Class``: your own).

``live`` signs with a key from the key store (``--key NAME``, or the ``key`` of the bot's
``[bots.NAME]`` section) and refuses to start unless the key passes the audit (a key that can
withdraw, cannot read or cannot trade is refused, saying why). It journals every order and the
parameters it starts with (a grid's range is resolved once, around the price at its first
start). On start it reconciles the journal with the exchange by client order id; while orders
of the last run are open it rebuilds the bot from the journaled parameters (options that
differ are refused: ``--cancel-old-orders`` cancels those orders first), takes back the orders
on its lines and cancels the others, so a bot killed and started again carries on without a
duplicate, a lost order or an order nobody follows. It watches the key store: after
``tradewire keys rotate NAME`` it switches to the new key without stopping. The URLs are
settings (``--rest-url``; the stream and WebSocket API URLs follow from it for anything but
Binance), so the same command runs against the local exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire.binance.client import BinanceClient
from tradewire.binance.urls import BINANCE, endpoints
from tradewire.cli.keys import UNREACHABLE, probe_key
from tradewire.cli.session import (
    SymbolsAction,
    account_fees,
    add_bot_commands,
    add_ib_arguments,
    add_strategy_command,
    bot_label,
    bot_report,
    describe_params,
    journal_params,
    journaled_params,
    mid_price,
    open_ib_venue,
    own_strategy,
    resolve_params,
    run_failed,
    run_identity,
    run_with_view,
    say_warnings,
    stock_defaults,
    stop_on_signals,
    strategy_for,
    strategy_symbols,
    write_run_report,
)
from tradewire.config import default_home, ensure_home, load_config
from tradewire.errors import (
    APIError,
    BotConfigError,
    IBContractError,
    JournalError,
    NetworkError,
    OrderNotFound,
    ParseError,
    TradewireError,
)
from tradewire.keys import KeyStore, Severity, drop_env_password, mask_api_key
from tradewire.trading.journal import Journal, bot_order_prefix, check_journal_covers
from tradewire.trading.runner import Resumption, Runner, resume_journal
from tradewire.trading.strategy import with_own_locks
from tradewire.venues.binance import BinanceMarket, BinanceVenue, order_from_response

if TYPE_CHECKING:
    import argparse

    from tradewire.keys import ApiCredentials, AuditResult
    from tradewire.trading.runner import RunResult
    from tradewire.trading.strategy import Strategy

__all__ = ["audit_for_live", "register"]

log = logging.getLogger("tradewire.live")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``live`` command group to the ``tradewire`` command."""
    live = subparsers.add_parser(
        "live",
        help="run a bot on a real account (the key must pass the audit)",
        description=__doc__,
    )
    bots = add_bot_commands(live, _live_arguments, _run_cli)
    add_strategy_command(bots, _live_arguments, _run_cli)


def _live_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--name",
        help="the bot's name: its journal and [bots.NAME] config section (default: live-grid "
        "or live-dca)",
    )
    p.add_argument("--key", help="the key store name to sign with (default: the bot's key)")
    p.add_argument(
        "--symbol",
        action=SymbolsAction,
        help="default: the bot's config, else BTCUSDT (run: give it several times, or a comma "
        "list, for a strategy trading several; the first is the primary one)",
    )
    p.add_argument("--rest-url", help=f"the exchange's REST URL (default {BINANCE.rest_url})")
    p.add_argument("--stream-url", help="market streams URL (default: follows --rest-url)")
    p.add_argument("--ws-api-url", help="WebSocket API URL (default: follows --rest-url)")
    p.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--recv-window", type=int, default=5000, help="recvWindow in ms")
    p.add_argument(
        "--key-check-interval", type=float, default=2.0, help="seconds between key store checks"
    )
    p.add_argument(
        "--keep-orders",
        action="store_true",
        help="leave the bot's orders working at the end (default: cancel them)",
    )
    p.add_argument(
        "--cancel-old-orders",
        action="store_true",
        help="cancel the orders the bot's last run left open, then start with these options",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="write report.json and report.png to this folder (default: no report files)",
    )
    p.add_argument("--no-view", action="store_true", help="no live terminal view")
    add_ib_arguments(p, live=True)


async def audit_for_live(credentials: ApiCredentials, rest_url: str) -> AuditResult | str:
    """The key's audit for live trading, or why the exchange refused to say (a reason string)."""
    try:
        probe = await probe_key(credentials, rest_url)
    except NetworkError as e:  # the key was never judged: say so, not "refused"
        return f"could not reach the exchange to audit the key: {e}"
    except (APIError, ParseError) as e:
        return f"the exchange refused the key: {e}"
    return probe.judge("live")


def _say(message: str) -> None:
    print(message, flush=True)


async def _cancel_old_orders(
    venue: BinanceVenue, journal: Journal, resumption: Resumption
) -> Resumption:
    """Cancel the open orders of the last run (``--cancel-old-orders``); journal each."""
    for order in resumption.open_orders:
        try:
            done = await venue.cancel_order(order.symbol, order.client_order_id)
        except OrderNotFound:
            _say(f"{order.client_order_id} was no longer open")
            continue
        await asyncio.to_thread(journal.record_update, done.client_order_id, done.status)
        _say(
            f"canceled {order.side} {order.quantity} @ {order.price} on {order.symbol} from the "
            f"last run ({order.client_order_id})"
        )
    return Resumption(resumption.report, ())


async def _run_ib(args: argparse.Namespace) -> int:
    """A bot on an IB account: refused unless the gateway URL and the account are named, the
    session is authenticated and the login lists the account."""
    from tradewire.errors import IBCompetingSession, IBLoginRequired
    from tradewire.venues.ib import IBMarket

    if not args.ib_url or not args.account:
        _say("REFUSED  live --venue ib needs --ib-url (the gateway) and --account (the account)")
        return int(Severity.REFUSED)
    home = ensure_home(default_home())
    label = bot_label(args)
    name = args.name or f"live-ib-{label}"
    own_class = own_strategy(args) if args.bot == "run" else None
    if args.symbol is None and (own_class is None or not own_class.symbols):
        args.symbol = "AAPL"
    symbols = strategy_symbols(args, own_class)
    symbol = symbols[0]
    stop = stop_on_signals()
    _say(f"Checking the IB session on {args.ib_url} for account {args.account}")
    async with contextlib.AsyncExitStack() as stack:
        try:
            venue = await stack.enter_async_context(open_ib_venue(args, symbols, live=True))
        except (IBLoginRequired, IBCompetingSession) as e:
            _say(f"REFUSED  {e}")
            return int(Severity.REFUSED)
        except IBContractError as e:
            _say(f"REFUSED  {e}")
            return int(Severity.REFUSED)
        journal = stack.enter_context(Journal.for_bot(home, name))
        rules = await venue.symbol_rules(symbol)
        more_rules = [await venue.symbol_rules(other) for other in symbols[1:]]
        contract = await venue.contract(symbol)
        quote = (await venue.client.snapshot([contract.conid])).get(contract.conid)
        price = None if quote is None else (quote.last or quote.bid or quote.ask)
        if price is None:
            _say(f"REFUSED  no market data for {contract.listing}")
            return int(Severity.REFUSED)
        resumption = await resume_journal(journal, venue)
        balances = await venue.balances()
        strategy: Strategy
        if args.bot == "run":
            assert own_class is not None
            strategy = own_class
            warnings: list[str] = []
        else:
            if args.bot == "grid" and args.investment is None and args.quantity is None:
                raise TradewireError("live grid: give --investment (USD) or --quantity (shares)")
            args.quote_balance = balances[rules.quote_asset].free
            rate = stock_defaults(args, rules, price)
            params = resolve_params(args, rules, price, maker_fee=rate, taker_fee=rate)
            strategy = strategy_for(params, rules, price, balances, maker_fee=rate, taker_fee=rate)
            await asyncio.to_thread(journal_params, journal, params, symbol)
        runner = Runner(
            strategy,
            venue,
            IBMarket(venue),
            rules,
            more_rules=more_rules,
            mode="live",
            bot=name,
            journal=journal,
            resumption=resumption,
        )
        warnings = say_warnings(strategy)
        _say(
            f"Starting {label} bot {name} on {contract.listing} (conid {contract.conid}), "
            f"account {venue.client.account_id} (journal {journal.path})"
        )
        result = await run_with_view(
            runner,
            title=f"{label} {name} on IB {contract.listing}",
            show_view=not args.no_view,
            duration_s=args.duration,
            stop=stop,
        )
        if runner.paused_events:
            _say(f"paused over {runner.paused_events} market events while the market was closed")
        if not args.keep_orders:
            canceled = await runner.ctx.cancel_all()
            _say(f"canceled {canceled} open orders (--keep-orders leaves them working)")
    extra = {"name": name, "venue": "ib", "warnings": warnings, **bot_report(strategy)}
    return await _finish_live(result, args, extra)


async def _run(args: argparse.Namespace) -> int:
    if args.venue == "ib":
        return await _run_ib(args)
    home = ensure_home(default_home())
    config = load_config(home)
    label = bot_label(args)
    name = args.name or f"live-{label}"
    bot_config = config.bot(name)
    key_name = args.key or bot_config.key
    if key_name is None:
        raise TradewireError(
            f"no key for bot {name}: pass --key NAME, or bind one in config.toml "
            f'([bots.{name}] key = "NAME"); list keys with `tradewire keys list`'
        )
    rest_url = args.rest_url or bot_config.rest_url or config.exchange.rest_url or BINANCE.rest_url
    urls = endpoints(rest_url, args.stream_url, args.ws_api_url)
    own_class = own_strategy(args) if args.bot == "run" else None
    if args.symbol is None and (own_class is None or not own_class.symbols):
        args.symbol = (bot_config.symbol or "BTCUSDT").upper()
    symbols = strategy_symbols(args, own_class)
    symbol = symbols[0]
    store = KeyStore(home, backend=config.keys.backend)
    credentials = await asyncio.to_thread(store.get, key_name)
    drop_env_password()  # unlocked: the store remembers it; child processes never see it

    _say(f"Auditing key {key_name} (API key {mask_api_key(credentials.api_key)}) on {rest_url}")
    audit = await audit_for_live(credentials, urls.rest_url)
    if isinstance(audit, str):
        unreachable = audit.startswith("could not reach")
        _say(f"{'UNREACHABLE' if unreachable else 'REFUSED'}  {audit}")
        _say(f"Not starting: key {key_name} could not be audited.")
        return UNREACHABLE if unreachable else int(Severity.REFUSED)
    _say(audit.report())
    if not audit.allowed:
        _say(f"Not starting: key {key_name} is refused for live trading (see above).")
        return int(Severity.REFUSED)

    def make_client(creds: ApiCredentials) -> BinanceClient:
        return BinanceClient(
            creds.api_key,
            creds.secret.reveal(),
            rest_url=urls.rest_url,
            stream_url=urls.stream_url,
            ws_api_url=urls.ws_api_url,
            recv_window=args.recv_window,
        )

    stop = stop_on_signals()

    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(make_client(credentials))
        market_client = await stack.enter_async_context(
            BinanceClient(rest_url=urls.rest_url, stream_url=urls.stream_url)
        )
        venue = BinanceVenue(client)
        stack.push_async_callback(lambda: venue.client.aclose())

        async def switch(new: ApiCredentials) -> None:
            verdict = await audit_for_live(new, urls.rest_url)
            if isinstance(verdict, str) or not verdict.allowed:
                why = verdict if isinstance(verdict, str) else verdict.report()
                _say(f"key {key_name} was rotated, but the new key is refused; keeping the old:")
                _say(why)
                return
            fresh = make_client(new)
            await fresh.__aenter__()
            old = await venue.switch_client(fresh)
            await old.aclose()
            _say(
                f"key {key_name} rotated: now signing with version {new.version} "
                f"(API key {mask_api_key(new.api_key)})"
            )

        watcher = store.watch(key_name, interval=args.key_check_interval, on_change=switch)
        await stack.enter_async_context(watcher)
        journal = stack.enter_context(Journal.for_bot(home, name))
        working = [order_from_response(r) for r in await client.open_orders()]
        check_journal_covers(journal, working, name)  # a lost or emptied journal: refuse
        rules = await venue.symbol_rules(symbol)
        more_rules = [await venue.symbol_rules(other) for other in symbols[1:]]
        resumption = await resume_journal(journal, venue, grace_ms=args.recv_window + 1000)
        if args.cancel_old_orders and resumption.open_orders:
            resumption = await _cancel_old_orders(venue, journal, resumption)
        price = await mid_price(client, symbol)
        own = [o for o in resumption.open_orders if o.symbol == symbol]
        balances = with_own_locks(await venue.balances(), own, rules)
        strategy: Strategy
        if args.bot == "run":
            # The user's strategy: its open orders of a last run come back through the runner
            # (ctx.unclaimed(), ctx.claim(...)); it has no bot parameters to journal.
            assert own_class is not None
            strategy = own_class
        else:
            params = journaled_params(
                args, journal.last_params(), resumption.open_orders, name=name, symbol=symbol
            )
            if params is not None and own:
                _say(
                    f"{len(own)} orders of the last run are open: rebuilding the {args.bot} bot "
                    f"from its journal ({describe_params(params)})"
                )
            elif params is not None:
                _say(
                    f"no order of the last run is open: the {args.bot} bot starts again with its "
                    f"journaled parameters ({describe_params(params)}); give its options to "
                    "start anew with others"
                )
            elif args.bot == "grid" and args.investment is None and args.quantity is None:
                raise TradewireError(
                    "live grid: give --investment (quote) or --quantity (per grid)"
                )
            maker, taker = await account_fees(client)
            if params is None:
                params = resolve_params(args, rules, price, maker_fee=maker, taker_fee=taker)
            try:
                strategy = strategy_for(
                    params,
                    rules,
                    price,
                    balances,
                    maker_fee=maker,
                    taker_fee=taker,
                    resuming=bool(own),
                )
            except BotConfigError as e:
                if not own:
                    raise
                raise BotConfigError(
                    f"{e} (the bot's parameters from its last run, whose {len(own)} orders are "
                    "still open: add --cancel-old-orders to cancel them and start anew)"
                ) from None
            await asyncio.to_thread(journal_params, journal, params, symbol)
        runner = Runner(
            strategy,
            venue,
            BinanceMarket(market_client),
            rules,
            more_rules=more_rules,
            mode="live",
            bot=name,
            journal=journal,
            reconcile_grace_ms=args.recv_window + 1000,
            resumption=resumption,
        )
        warnings = say_warnings(strategy)
        _say(f"Starting {label} bot {name} on {symbol} (journal {journal.path})")
        result = await run_with_view(
            runner,
            title=f"{label} {name} on {urls.rest_url}",
            show_view=not args.no_view,
            duration_s=args.duration,
            stop=stop,
        )
        if isinstance(runner.exception, JournalError):
            await _report_working(client, symbol, name)
            raise runner.exception
        if runner.resumed is not None and runner.resumed.checked:
            _say(
                f"resumed from the journal: {len(runner.resumed.updated)} orders checked on the "
                f"exchange, {len(runner.resumed.not_placed)} never placed"
            )
        if not args.keep_orders:
            canceled = await runner.ctx.cancel_all()
            _say(f"canceled {canceled} open orders (--keep-orders leaves them working)")
    extra = {"name": name, "warnings": warnings, **bot_report(strategy)}
    return await _finish_live(result, args, extra)


async def _finish_live(result: RunResult, args: argparse.Namespace, extra: dict[str, Any]) -> int:
    """The end of a live run on any venue: its fills and P&L in a line, the report when
    ``--out`` is given, and the exit status (1, said once on stderr, for a run that failed)."""
    pnl = result.pnl
    _say(
        f"{len(result.log.fills)} fills, {result.log.orders_placed} orders placed, total P&L "
        f"{pnl.total} (realized {pnl.realized}, fees {pnl.fees}) {result.quote_asset}"
    )
    report = None
    if args.out is not None:
        json_path, png_path = await write_run_report(
            result, args.out, {**run_identity(args), "mode": "live", **extra}
        )
        report = json_path
        _say(f"report written to {json_path} and {png_path}")
    failed = run_failed(result, report)
    if failed is not None:
        print(failed, file=sys.stderr)
        return 1
    return 0


async def _report_working(client: BinanceClient, symbol: str, bot: str) -> None:
    """After a journal failure: say which of the bot's orders are still working."""
    prefix = bot_order_prefix(bot)
    with contextlib.suppress(TradewireError):
        ids = [
            r.client_order_id
            for r in await client.open_orders(symbol)
            if r.client_order_id.startswith(prefix)
        ]
        _say(
            f"stopped: {len(ids)} order(s) of {bot} still working on {symbol}"
            + (f" ({', '.join(ids)})" if ids else "")
            + "; starting the bot again adopts them, or cancel them on the exchange"
        )


def _run_cli(args: argparse.Namespace) -> int:
    """Entry point of ``tradewire live grid|dca``."""
    try:
        return asyncio.run(_run(args))
    except TradewireError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # pragma: no cover - the signal handler normally catches it
        return 130

"""The live view: one frame's content for a known context, its width, its colours, its run."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.cli.session import run_with_view
from tradewire.cli.view import LiveView, render
from tradewire.clock import MarketClock
from tradewire.errors import InvalidOrder
from tradewire.model import BookUpdate, MarketTrade, SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.report import figures
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import StrategyContext
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import ReplayMarket

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
T0 = int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp() * 1000)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


async def known_context() -> StrategyContext:
    """A paper account with a two-level book, three orders placed and one of them filled, one
    refused."""
    clock = MarketClock(T0)
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"}, clock=clock)
    ctx = StrategyContext(broker, RULES, mode="paper", bot="grid", clock=clock)
    ctx.start_balances = await broker.balances()
    ctx.run_log.started_ms = T0
    book = BookUpdate(
        "BTCUSDT",
        bids=((D("64999.00"), D("0.5")), (D("64998.50"), D("1.25"))),
        asks=((D("65001.00"), D("0.75")),),
        time_ms=T0,
    )
    ctx.book = book
    broker.on_market(book)
    await ctx.buy(D("0.01"), D("64990"))
    await ctx.sell(D("0.01"), D("65010"))
    await ctx.sell(D("0.002"), D("65000.5"))
    with pytest.raises(InvalidOrder):
        await ctx.buy(D("0.00001"), D("64990"))  # under the 5 USDT minimum: rejected
    clock.observe(T0 + 61_000)
    # A buyer takes 0.01 at 65001: it trades through the 65000.50 sell, which fills.
    for update in broker.on_market(MarketTrade("BTCUSDT", "7", D("65001"), D("0.01"), T0 + 61_000)):
        await ctx.apply_update(update)
    ctx.run_log.latencies_ms[:] = [3.0, 1.0, 10.0, 2.0]  # measured times vary: fixed ones
    ctx.log("grid 64990.00..65010.00")
    return ctx


# The figures, worked by hand: the sell of 0.002 at 65000.50 pays 0.1% = 0.130001 USDT; marked
# at the mid 65000 the short is up 0.002 x 0.50 = 0.001; total = 0 + 0.001 - 0.130001; equity
# = 10000 + 1 x 65000 + total = 74999.870999. Latency: mean 16 / 4 = 4, p50 the middle sample
# (3), p99 by rank (10), as the report counts them.
KNOWN_FRAME = """\
tradewire paper BTCUSDT  grid on test.gz at 60x
market 2026-01-02 03:05:06 UTC (+61.0 s)  wall 1.5 s  speed 60x
book                                      P&L (USDT)
bid size       bid       ask  ask size    total             -0.1290
 0.50000  64999.00  65001.00   0.75000    realized           0.0000
 1.25000  64998.50                        unrealized         0.0010
                                          fees               0.1300
                                          grid profit       -0.1300
                                          trend              0.0010
                                          position     -0.00200 BTC
                                          equity         74999.8710

api mean 4.00 ms, p50 3.00, p99 10.00, max 10.00 ms (4 calls)
orders placed 3, canceled 0, rejected 1; 0 market events
stopped: market_ended
warning: the grid step is under the fee

open orders (2)
side     price  quantity   filled
SELL  65010.00   0.01000  0.00000
BUY   64990.00   0.01000  0.00000

recent fills (1)
time      side  quantity     price            fee
03:05:06  SELL   0.00200  65000.50  0.130001 USDT  maker
> refused BUY LIMIT 0.00001 @ 64990: BTCUSDT: notional 0.6499 (price x quantity)
is below NOTIONAL minNotional 5
> grid 64990.00..65010.00"""


def known_frame(
    ctx: StrategyContext,
    *,
    width: int = 80,
    color: bool = False,
    warning: str = "the grid step is under the fee",
) -> str:
    return render(
        ctx,
        width=width,
        color=color,
        title="grid on test.gz at 60x",
        wall_s=1.5,
        speed=60.0,
        warnings=[warning],
        stopped="market_ended",
    )


@pytest.mark.asyncio
async def test_a_frame_shows_a_known_context_exactly() -> None:
    ctx = await known_context()
    assert known_frame(ctx) == KNOWN_FRAME


@pytest.mark.asyncio
async def test_a_wide_frame_puts_orders_and_fills_side_by_side() -> None:
    ctx = await known_context()
    lines = known_frame(ctx, width=120).splitlines()
    [header] = [x for x in lines if x.startswith("open orders")]
    assert header.split() == ["open", "orders", "(2)", "recent", "fills", "(1)"]
    assert any(x.startswith("SELL  65010.00") and "0.130001 USDT  maker" in x for x in lines)


@pytest.mark.asyncio
@pytest.mark.parametrize("width", [80, 60, 40])
async def test_no_line_is_wider_than_the_terminal(width: int) -> None:
    ctx = await known_context()
    for i in range(30):  # many orders, a long log line and a long warning
        await ctx.buy(D("0.00123"), D("60000") + i)
    ctx.log("a long line " * 20)
    plain = known_frame(ctx, width=width, warning="a long warning " * 20)
    coloured = ANSI.sub(
        "", known_frame(ctx, width=width, color=True, warning="a long warning " * 20)
    )
    for text in (plain, coloured):
        assert max(len(line) for line in text.splitlines()) <= width
    assert "a long warning" in plain  # wrapped, not dropped
    side_by_side = any("bid size" in x and "total" in x for x in plain.splitlines())
    assert side_by_side == (width == 80)  # the book and the P&L, when they fit
    if width == 40:  # a row too wide for the terminal is cut with an ellipsis, not wrapped
        assert "03:05:06  SELL   0.00200  65000.50  0.1…" in plain.splitlines()


@pytest.mark.asyncio
async def test_plain_text_has_no_escape_codes_and_colour_marks_the_sides() -> None:
    ctx = await known_context()
    assert "\x1b[" not in known_frame(ctx)
    coloured = known_frame(ctx, color=True)
    assert "\x1b[31mSELL\x1b[0m" in coloured  # sells red, buys green
    assert "\x1b[32mBUY \x1b[0m" in coloured
    assert ANSI.sub("", coloured) == KNOWN_FRAME


@pytest.mark.asyncio
async def test_many_open_orders_show_the_ones_nearest_the_mark() -> None:
    ctx = await known_context()
    for i in range(1, 6):
        await ctx.buy(D("0.001"), D("64990") - 10 * i)
        await ctx.sell(D("0.001"), D("65010") + 10 * i)
    text = render(ctx, width=80, rows=4)
    start = text.index("open orders (12)")
    shown = text[start:].splitlines()[2:7]
    assert [x.split()[:2] for x in shown[:4]] == [
        ["SELL", "65020.00"],
        ["SELL", "65010.00"],
        ["BUY", "64990.00"],
        ["BUY", "64980.00"],
    ]
    assert shown[4] == "8 more away from the mark"


@pytest.mark.asyncio
async def test_the_view_shows_the_reports_total_and_equity() -> None:
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(
        GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    )
    runner = Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=3), 1500), RULES, mode="paper"
    )
    result = await runner.run()
    fig = figures(result)
    assert fig["fills"] > 0
    text = render(runner.ctx)

    def shown(name: str) -> str:
        [value] = re.findall(rf"(?:^|\s){name}\s+(-?[0-9.]+)", text, flags=re.MULTILINE)
        return str(value)

    assert shown("total") == f"{D(fig['total_pnl']):.4f}"
    assert shown("fees") == f"{D(fig['fees']):.4f}"
    assert shown("equity") == f"{D(fig['end_equity']):.4f}"
    assert shown("grid profit") == f"{D(fig['grid_profit']):.4f}"
    assert f"recent fills ({fig['fills']})" in text
    assert "\x1b[" not in text


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.asyncio
async def test_the_live_view_draws_while_a_runner_runs_and_stops_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(
        GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    )
    runner = Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=3), 300), RULES, mode="paper"
    )
    stream = Terminal()
    view = LiveView(runner.ctx, title="grid", interval_s=0.001, stream=stream)
    assert view.enabled
    async with view:
        result = await runner.run()
        view.stop_reason(result.stop_reason, result.stop_detail)
    assert view._task is None and view._live is None  # the redraw task ended with the run
    assert view.frames >= 2  # the first frame and the last at least
    out = stream.getvalue()
    assert "\x1b[32m" in out  # coloured on a terminal
    last = ANSI.sub("", out[out.rindex("tradewire paper BTCUSDT") :])
    assert "stopped: market_ended" in last
    assert f"recent fills ({len(result.log.fills)})" in last
    assert f"orders placed {result.log.orders_placed}" in last
    assert max(len(line) for line in last.splitlines()) <= 80


@pytest.mark.asyncio
async def test_no_color_drops_the_colours_and_a_stream_that_is_no_terminal_gets_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = await known_context()
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Terminal()
    async with LiveView(ctx, stream=stream) as view:
        pass
    assert view.frames == 2
    out = stream.getvalue()
    assert "total" in out and not re.search(r"\x1b\[[0-9;]*3[0-7]m", out)
    monkeypatch.delenv("NO_COLOR")
    quiet = io.StringIO()  # not a terminal
    async with LiveView(ctx, stream=quiet) as view:
        pass
    assert not view.enabled and view.frames == 0 and quiet.getvalue() == ""


@pytest.mark.asyncio
async def test_run_with_view_shows_the_bots_warnings_and_why_the_run_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = Terminal()
    monkeypatch.setattr("sys.stdout", stdout)
    monkeypatch.setenv("COLUMNS", "100")
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(
        GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    )
    runner = Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=3), 200), RULES, mode="paper"
    )
    result = await run_with_view(
        runner, title="grid on synthetic", show_view=True, duration_s=None, stop=asyncio.Event()
    )
    out = ANSI.sub("", stdout.getvalue())
    last = out[out.rindex("tradewire paper BTCUSDT  grid on synthetic") :]
    assert result.stop_reason == "market_ended"
    assert "stopped: market_ended" in last
    # The bot was forced past the fee check: its warning (set as it starts) is shown once.
    [warning] = bot.warnings
    assert warning.startswith("grid step 0.04 USDT")
    assert last.count(warning[:40]) == 1 and "warning: grid step 0.04 USDT" in last
    quiet = io.StringIO()  # --no-view, or stdout is no terminal: nothing drawn
    monkeypatch.setattr("sys.stdout", quiet)
    runner = Runner(
        GridBot(bot.params),
        broker,
        ReplayMarket(SyntheticDepthStream(seed=3), 50),
        RULES,
        mode="paper",
    )
    await run_with_view(runner, title="", show_view=True, duration_s=None, stop=asyncio.Event())
    assert quiet.getvalue() == ""

"""The live terminal view, drawn with rich: the run's clock, the book, P&L, orders, fills, API.

One frame (:func:`frame`) shows the mode, symbol and bot with the market time, the wall time
elapsed and the replay speed; the top of the book; the P&L; the open orders (by price, nearest
the mark when there are more than fit); the recent fills; the API latency (mean, p50, p99, max,
as the report counts them) and the orders placed, canceled and rejected; the bot's warnings, its
last log lines, and why the run stopped once it has. The P&L and equity are the report's
(:mod:`tradewire.trading.report`): total = realized + unrealized - fees, equity = quote + base x
mark.

:func:`render` turns a frame into text at a given width (tests read it). :class:`LiveView`
redraws it in place with :class:`rich.live.Live` a few times a second, from its own task on the
event loop (never per market event, never from another thread while the runner changes the
state), and only when the stream is a terminal. rich drops colours when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import io
import statistics
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, TextIO

from rich.console import Console, ConsoleOptions, Group
from rich.live import Live
from rich.text import Text

from tradewire.clock import MarketClock

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from rich.console import RenderableType

    from tradewire.model import Order
    from tradewire.trading.strategy import StrategyContext

__all__ = ["LiveView", "frame", "render"]

_SIDE_STYLE = {"BUY": "green", "SELL": "red"}


def _fixed(value: Decimal, step: Decimal) -> str:
    """``value`` with the decimals of ``step`` (a tick or lot step) when that is exact."""
    exponent = step.normalize().as_tuple().exponent
    if not isinstance(exponent, int):  # a step that is not a finite number
        return str(value)
    try:
        shown = value.quantize(Decimal(1).scaleb(min(exponent, 0)))
    except InvalidOperation:
        return str(value)
    return str(shown) if shown == value else str(value.normalize())


def _clock(ms: int, fmt: str = "%H:%M:%S") -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(fmt)


def _header(ctx: StrategyContext, title: str, wall_s: float | None, speed: float | None) -> Text:
    text = Text()
    text.append(f"tradewire {ctx.mode} {ctx.symbol}", style="bold")
    text.append(f"  {title or ctx.bot}", style="bold")
    now = ctx.now_ms()
    started = ctx.run_log.started_ms
    elapsed = (now - started) / 1000 if started else 0.0
    if isinstance(ctx.clock, MarketClock):
        when = (
            f"market {_clock(now, '%Y-%m-%d %H:%M:%S')} UTC (+{elapsed:.1f} s)"
            if now
            else "market not started"
        )
    else:
        when = f"{_clock(now)} UTC, running {elapsed:.1f} s"
    text.append(f"\n{when}")
    if wall_s is not None and isinstance(ctx.clock, MarketClock):
        text.append(f"  wall {wall_s:.1f} s")
    if speed is not None:
        text.append(f"  speed {speed:g}x")
    return text


_Cell = tuple[str, str]  # a table cell: its text and a rich style ("" for none)


def _block(
    title: str,
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[_Cell]],
    right: Sequence[bool],
) -> list[Text]:
    """A titled table as lines of text, columns as wide as their widest cell.

    rich's :class:`~rich.table.Table` measures and renders every cell on each frame (about 0.1
    ms a cell, 20 ms a frame of this view, measured); padded lines of :class:`Text` cost a
    tenth of that, and rich still styles, crops and draws them.
    """
    head = [[(h, "") for h in headers]] if headers else []
    widths = [0] * len(right)
    for row in [*head, *rows]:
        for i, (text, _) in enumerate(row):
            widths[i] = max(widths[i], len(text))
    lines = [Text(title, style="bold")]

    def line(cells: Sequence[_Cell], base: str = "") -> Text:
        out = Text(style=base)
        for i, (text, style) in enumerate(cells):
            if i:
                out.append("  ")
            out.append(text.rjust(widths[i]) if right[i] else text.ljust(widths[i]), style=style)
        out.rstrip()
        return out

    lines.extend(line(row, "bold") for row in head)
    lines.extend(line(row) for row in rows)
    return lines


def _beside(left: list[Text], right: list[Text], width: int, gap: int = 4) -> list[Text]:
    """``left`` and ``right`` side by side if they fit in ``width`` columns, else one above."""
    left_width = max((t.cell_len for t in left), default=0)
    right_width = max((t.cell_len for t in right), default=0)
    if left_width + gap + right_width > width:
        return [*left, Text(), *right]
    lines = []
    for i in range(max(len(left), len(right))):
        line = Text()  # no base style: each part keeps its own
        if i < len(left):
            line.append_text(left[i])
        line.append(" " * (left_width + gap - line.cell_len))
        if i < len(right):
            line.append_text(right[i])
        lines.append(line)
    return lines


def _book(ctx: StrategyContext, levels: int) -> list[Text]:
    book = ctx.book
    bids = book.bids[:levels] if book is not None else ()
    asks = book.asks[:levels] if book is not None else ()
    tick, step = ctx.rules.tick_size, ctx.rules.step_size
    rows: list[list[_Cell]] = []
    for i in range(max(len(bids), len(asks))):
        row: list[_Cell] = [("", ""), ("", "")]
        if i < len(bids):
            price, qty = bids[i]
            row = [(_fixed(qty, step), ""), (_fixed(price, tick), "green")]
        if i < len(asks):
            price, qty = asks[i]
            row += [(_fixed(price, tick), "red"), (_fixed(qty, step), "")]
        rows.append(row + [("", "")] * (4 - len(row)))
    if not rows:
        rows.append([("", ""), ("waiting", "dim"), ("for data", "dim"), ("", "")])
    return _block("book", ("bid size", "bid", "ask", "ask size"), rows, (True,) * 4)


def _money(value: Decimal | None, style: str = "") -> _Cell:
    if value is None:
        return ("-", "")
    tint = "green" if value > 0 else "red" if value < 0 else ""
    return (f"{value:.4f}", f"{style} {tint}".strip())


def _pnl(ctx: StrategyContext) -> list[Text]:
    rules = ctx.rules
    pnl = ctx.pnl()
    equity = ctx.equity()
    rows: list[list[_Cell]] = [
        [("total", "bold"), _money(pnl.total, "bold")],
        [("realized", ""), _money(pnl.realized)],
        [("unrealized", ""), _money(pnl.unrealized)],
        [("fees", ""), (f"{pnl.fees:.4f}", "")],
        [("grid profit", ""), _money(pnl.grid_profit)],
        [("trend", ""), _money(pnl.trend)],
        [("position", ""), (f"{_fixed(pnl.position, rules.step_size)} {rules.base_asset}", "")],
        [("equity", ""), ("-" if equity is None else f"{equity:.4f}", "")],
    ]
    return _block(f"P&L ({rules.quote_asset})", None, rows, (False, True))


def _nearest(orders: list[Order], mark: Decimal | None, rows: int) -> list[Order]:
    """Up to ``rows`` of ``orders`` (priced, by price high to low) nearest the mark."""
    if len(orders) <= rows:
        return orders
    if mark is None:
        return orders[:rows]
    above = sum(1 for o in orders if o.price is not None and o.price > mark)
    start = max(0, min(above - rows // 2, len(orders) - rows))
    return orders[start : start + rows]


def _orders(ctx: StrategyContext, rows: int) -> list[Text]:
    orders = sorted(
        ctx.open_orders(),
        key=lambda o: o.price if o.price is not None else Decimal(0),
        reverse=True,
    )
    shown = _nearest(orders, ctx.mark_price, rows)
    tick, step = ctx.rules.tick_size, ctx.rules.step_size
    cells = [
        [
            (o.side, _SIDE_STYLE.get(o.side, "")),
            ("market" if o.price is None else _fixed(o.price, tick), ""),
            (_fixed(o.quantity, step), ""),
            (_fixed(o.executed_qty, step), ""),
        ]
        for o in shown
    ]
    lines = _block(
        f"open orders ({len(orders)})",
        ("side", "price", "quantity", "filled"),
        cells,
        (False, True, True, True),
    )
    more = len(orders) - len(shown)
    if more:
        lines.append(Text(f"{more} more away from the mark", style="dim"))
    return lines


def _fills(ctx: StrategyContext, rows: int) -> list[Text]:
    fills = ctx.run_log.fills
    tick, step = ctx.rules.tick_size, ctx.rules.step_size
    cells = [
        [
            (_clock(f.time_ms), ""),
            (f.side, _SIDE_STYLE.get(f.side, "")),
            (_fixed(f.quantity, step), ""),
            (_fixed(f.price, tick), ""),
            (f"{f.commission.normalize():f} {f.commission_asset}", ""),
            ("maker" if f.is_maker else "taker", "dim"),
        ]
        for f in (fills[-rows:][::-1] if rows > 0 else ())
    ]
    return _block(
        f"recent fills ({len(fills)})",
        ("time", "side", "quantity", "price", "fee", ""),
        cells,
        (False, False, True, True, True, False),
    )


def _activity(ctx: StrategyContext, ordered: Sequence[float]) -> Text:
    """API latency as the report counts it (p50 = the middle sample, p99 by rank) and orders."""
    log = ctx.run_log
    text = Text()
    text.append("api ", style="bold")
    n = len(ordered)
    if n:
        p50 = ordered[n // 2]
        p99 = ordered[min(n - 1, int(n * 0.99))]
        text.append(
            f"mean {statistics.fmean(ordered):.2f} ms, p50 {p50:.2f}, p99 {p99:.2f}, "
            f"max {ordered[-1]:.2f} ms ({n} calls)"
        )
    else:
        text.append("no calls yet")
    text.append("\norders ", style="bold")
    text.append(
        f"placed {log.orders_placed}, canceled {log.orders_canceled}, "
        f"rejected {log.orders_rejected}; {log.market_events:,} market events"
    )
    return text


class _Frame:
    """A frame laid out for the width it is drawn at (blocks side by side when they fit)."""

    def __init__(
        self, top: list[RenderableType], pairs: list[tuple[list[Text], list[Text]]]
    ) -> None:
        self.top = top
        self.pairs = pairs

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        width = options.max_width
        for i, (left, right) in enumerate(self.pairs):
            lines = _beside(left, right, width)
            if i:
                lines.insert(0, Text())
            block = Text("\n").join(lines)
            block.no_wrap = True  # a row too wide is cut, never wrapped into the next
            block.overflow = "ellipsis"
            yield block
            if i == 0:
                yield from self.top


def frame(
    ctx: StrategyContext,
    *,
    title: str = "",
    wall_s: float | None = None,
    speed: float | None = None,
    warnings: Sequence[str] = (),
    stopped: str | None = None,
    levels: int = 5,
    rows: int = 6,
    messages: int = 3,
    latencies: Sequence[float] | None = None,
) -> RenderableType:
    """One frame of the view, as a rich renderable.

    Args:
        ctx: The running strategy's context (its book, orders, P&L and run log are shown).
        title: What runs, e.g. ``grid on sample.gz at 60x``.
        wall_s: Wall time elapsed, shown beside the market time of a replay.
        speed: The replay's speed (market time per wall time).
        warnings: The bot's warnings (e.g. it was forced past the fee check).
        stopped: Why the run stopped, once it has.
        levels: Book levels shown each side.
        rows: Open orders and fills shown.
        messages: The bot's last log lines shown.
        latencies: ``ctx.run_log.latencies_ms`` already sorted (default: sorted here).
    """
    ordered = sorted(ctx.run_log.latencies_ms) if latencies is None else latencies
    # Most important first: a short terminal crops the frame's end.
    middle: list[RenderableType] = [Text(), _activity(ctx, ordered)]
    if stopped is not None:
        middle.append(Text(f"stopped: {stopped}", style="bold"))
    middle.extend(Text(f"warning: {w}", style="yellow") for w in warnings)
    said = {f"warning: {w}" for w in warnings}  # a bot logs its warnings too: once is enough
    log = [m for m in ctx.run_log.messages if m not in said]
    tail = [Text(f"> {m}", style="dim") for m in log[-messages:]] if messages > 0 else []
    return Group(
        _header(ctx, title, wall_s, speed),
        _Frame(
            middle,
            [(_book(ctx, levels), _pnl(ctx)), (_orders(ctx, rows), _fills(ctx, rows))],
        ),
        *tail,
    )


def render(
    ctx: StrategyContext,
    *,
    width: int = 80,
    color: bool = False,
    title: str = "",
    wall_s: float | None = None,
    speed: float | None = None,
    warnings: Sequence[str] = (),
    stopped: str | None = None,
    levels: int = 5,
    rows: int = 6,
    messages: int = 3,
) -> str:
    """One frame of the view as text ``width`` columns wide: plain, or with ANSI colours if
    ``color``; the other arguments are :func:`frame`'s."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(
        frame(
            ctx,
            title=title,
            wall_s=wall_s,
            speed=speed,
            warnings=warnings,
            stopped=stopped,
            levels=levels,
            rows=rows,
            messages=messages,
        )
    )
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


class LiveView:
    """Redraws :func:`frame` in place a few times a second while running, on a terminal.

    Args:
        ctx: The running strategy's context.
        title: What runs (shown after the mode and symbol).
        interval_s: Seconds between frames.
        stream: Where to draw (default stdout); the view is off unless it is a terminal.
        force: Draw even if the stream is not a terminal, with colours (e.g. to a file).
        speed: The replay's speed, if the market is a replay.
        warnings: Returns the bot's warnings, asked at each frame (a bot sets them as it
            starts).
    """

    def __init__(
        self,
        ctx: StrategyContext,
        *,
        title: str = "",
        interval_s: float = 0.25,
        stream: TextIO | None = None,
        force: bool = False,
        speed: float | None = None,
        warnings: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.title = title
        self.interval_s = interval_s
        self.stream = stream or sys.stdout
        self.force = force
        self.enabled = force or self.stream.isatty()
        self.speed = speed
        self.warnings = warnings
        self.stopped: str | None = None
        self.frames = 0
        self._latencies: list[float] = []
        self._started = 0.0
        self._live: Live | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"LiveView(enabled={self.enabled}, frames={self.frames})"

    def stop_reason(self, reason: str, detail: str | None = None) -> None:
        """Say why the run stopped (shown in the last frame)."""
        self.stopped = f"{reason} ({detail})" if detail else reason

    def frame(self) -> RenderableType:
        """The frame to draw now."""
        samples = self.ctx.run_log.latencies_ms
        if len(samples) < len(self._latencies):  # not the list it was: sort it again
            self._latencies = sorted(samples)
        for value in samples[len(self._latencies) :]:  # kept sorted as they come
            bisect.insort(self._latencies, value)
        return frame(
            self.ctx,
            title=self.title,
            wall_s=time.monotonic() - self._started,
            speed=self.speed,
            warnings=() if self.warnings is None else self.warnings(),
            stopped=self.stopped,
            latencies=self._latencies,
        )

    def draw(self) -> None:
        """Draw one frame now."""
        if self._live is not None:
            self._live.update(self.frame(), refresh=True)
            self.frames += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.draw()

    async def __aenter__(self) -> LiveView:
        if self.enabled:
            self._started = time.monotonic()
            console = Console(
                file=self.stream,
                force_terminal=True if self.force else None,
                highlight=False,
                emoji=False,
            )
            self._live = Live(
                self.frame(),
                console=console,
                auto_refresh=False,  # frames come from _run, on the loop, not a thread
                vertical_overflow="ellipsis",
                redirect_stdout=self.stream is sys.stdout,
                redirect_stderr=self.stream is sys.stdout,
            )
            self._live.start(refresh=True)
            self.frames += 1
            self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._live is not None:
            try:
                self.draw()
            finally:
                self._live.stop()
                self._live = None

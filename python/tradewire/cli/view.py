"""The live terminal view: top of book, open orders, recent fills, PnL, equity, API latency.

The P&L and equity are the report's (:mod:`tradewire.trading.report`): total = realized +
unrealized - fees, equity = quote + base x mark.

Plain ANSI escapes (no curses); :class:`LiveView` draws only when stdout is a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tradewire.trading.strategy import StrategyContext

__all__ = ["LiveView", "render"]

_HOME_CLEAR = "\x1b[H\x1b[2J"
_BOLD, _GREEN, _RED, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[31m", "\x1b[0m"


def render(ctx: StrategyContext, *, title: str = "", color: bool = True, rows: int = 8) -> str:
    """One frame of the view, as text (ANSI colours if ``color``)."""
    bold, green, red, reset = (_BOLD, _GREEN, _RED, _RESET) if color else ("", "", "", "")
    log = ctx.run_log
    elapsed = (ctx.now_ms() - log.started_ms) / 1000 if log.started_ms else 0.0
    lines = [f"{bold}tradewire {ctx.mode} {ctx.symbol} {title}{reset}  {elapsed:7.1f} s"]
    book = ctx.book
    if book is not None and book.bids and book.asks:
        (bp, bq), (ap, aq) = book.bids[0], book.asks[0]
        lines.append(f"book  bid {green}{bp} x {bq}{reset}   ask {red}{ap} x {aq}{reset}")
    else:
        lines.append("book  (waiting for market data)")
    pnl = ctx.pnl()
    equity = ctx.equity()
    quote = ctx.rules.quote_asset
    lines.append(
        f"pnl   total {pnl.total:.4f} {quote} = realized {pnl.realized:.4f} + unrealized "
        f"{pnl.unrealized:.4f} - fees {pnl.fees:.4f}   position {pnl.position} "
        f"{ctx.rules.base_asset}"
    )
    lines.append(
        f"equity {'-' if equity is None else f'{equity:.4f}'} {quote} "
        f"({quote} + {ctx.rules.base_asset} x mark)   grid profit {pnl.grid_profit:.4f}  "
        f"trend {pnl.trend:.4f}"
    )
    lat = log.latencies_ms
    lat_text = (
        f"{statistics.fmean(lat):.2f} ms mean, {max(lat):.2f} ms max ({len(lat)} calls)"
        if lat
        else "no calls yet"
    )
    lines.append(
        f"api   {lat_text}   orders placed {log.orders_placed}, canceled {log.orders_canceled}"
    )
    orders = sorted(ctx.open_orders(), key=lambda o: o.price or 0, reverse=True)
    lines.append(f"{bold}open orders ({len(orders)}){reset}")
    for o in orders[:rows]:
        tint = green if o.side == "BUY" else red
        lines.append(f"  {tint}{o.side:<4}{reset} {o.quantity} @ {o.price}")
    lines.append(f"{bold}recent fills ({len(log.fills)}){reset}")
    for f in log.fills[-rows:][::-1]:
        tint = green if f.side == "BUY" else red
        lines.append(
            f"  {tint}{f.side:<4}{reset} {f.quantity} @ {f.price}  fee {f.commission} "
            f"{f.commission_asset}"
        )
    for message in log.messages[-3:]:
        lines.append(f"> {message}")
    return "\n".join(lines)


class LiveView:
    """Redraws :func:`render` a few times a second while running, if the stream is a terminal."""

    def __init__(
        self,
        ctx: StrategyContext,
        *,
        title: str = "",
        interval_s: float = 0.25,
        stream: TextIO | None = None,
        force: bool = False,
    ) -> None:
        self.ctx = ctx
        self.title = title
        self.interval_s = interval_s
        self.stream = stream or sys.stdout
        self.enabled = force or self.stream.isatty()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"LiveView(enabled={self.enabled})"

    def draw(self) -> None:
        """Draw one frame now."""
        self.stream.write(_HOME_CLEAR + render(self.ctx, title=self.title) + "\n")
        self.stream.flush()

    async def _run(self) -> None:
        while True:
            self.draw()
            await asyncio.sleep(self.interval_s)

    async def __aenter__(self) -> LiveView:
        if self.enabled:
            self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self.draw()

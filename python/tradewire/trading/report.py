"""The end-of-run report: ``report.json`` (figures) and ``report.png`` (price, fills, equity).

One report for every mode (read-only, paper, live, backtest): each is a function of the
:class:`~tradewire.trading.runner.RunResult` alone, and every figure follows from one equity
definition, **equity = quote + base x mark** of the account's balances (free plus locked, as
the venue reports them), marked at the book's mid (else the last trade):

- ``total_pnl = realized_pnl + unrealized_pnl - fees``, the equity change at the end price
  (the start balances valued at the end price, against the end balances): equal to the last
  digit when the balances moved only by the run's fills (``unexplained_equity_change`` is the
  rest, e.g. a deposit or another bot on a live account);
- ``equity_change = end_equity - start_equity = total_pnl + hold_pnl + unexplained_equity_change``,
  where ``hold_pnl`` is what holding the start balances did (start base x the price move);
- ``return_pct = total_pnl / start_equity``; ``grid_profit + trend_pnl = total_pnl``;
- the PNG's equity curve and the live view's equity are the same quantity, sampled.

Amounts are exact decimal strings in plain notation; percentages are rounded to 6 decimals.
The chart needs matplotlib (drawn with its Agg backend, no display needed).
"""

from __future__ import annotations

import json
import statistics
from decimal import Context, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from tradewire.rules import format_amount
from tradewire.trading.pnl import account_equity, combined_pnl

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import Balance, Fill
    from tradewire.trading.runner import RunResult

__all__ = ["figures", "write_chart", "write_report"]

_ZERO = Decimal(0)
_PCT = Decimal("1e-6")
_CTX = Context(prec=80)


def _amount(value: Decimal | None) -> str | None:
    """Plain notation, no exponent, no trailing zeros (``0E-10`` is ``"0"``)."""
    return None if value is None else format_amount(value)


def _pct(part: Decimal | None, whole: Decimal | None) -> str | None:
    if part is None or not whole:
        return None
    with localcontext(_CTX):
        return format_amount((part * 100 / whole).quantize(_PCT))


def _equity(
    balances: dict[str, Balance], result: RunResult, mark: Decimal | None, *, end: bool = False
) -> Decimal | None:
    """Quote + base x mark; with several symbols, every base at its own symbol's mark (the
    start or end marks, as ``mark`` is the primary's start or end mark)."""
    if mark is None:
        return None
    equity = account_equity(balances, result.base_asset, result.quote_asset, mark)
    for other in result.per_symbol[1:]:
        other_mark = other.end_mark if end else other.start_mark
        if other_mark is None:
            return None
        equity += account_equity(balances, other.base_asset, "", other_mark)
    return equity


def _per_symbol(result: RunResult) -> dict[str, dict[str, Any]]:
    """Each symbol's fills and P&L, for a strategy trading several."""
    out: dict[str, dict[str, Any]] = {}
    for one in result.per_symbol:
        fills = [f for f in result.log.fills if f.symbol == one.symbol]
        buys = sum(1 for f in fills if f.side == "BUY")
        pnl = one.pnl
        out[one.symbol] = {
            "fills": len(fills),
            "buy_fills": buys,
            "sell_fills": len(fills) - buys,
            "volume": format_amount(pnl.volume),
            "fees": format_amount(pnl.fees),
            "position": format_amount(pnl.position),
            "realized_pnl": format_amount(pnl.realized),
            "unrealized_pnl": format_amount(pnl.unrealized),
            "total_pnl": format_amount(pnl.total),
            "start_price": _amount(one.start_mark),
            "end_price": _amount(one.end_mark),
        }
    return out


def _latency(samples: list[float]) -> dict[str, float | int | None]:
    if not samples:
        return {"count": 0, "mean_ms": None, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "p50_ms": round(ordered[len(ordered) // 2], 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def _sides(fills: list[Fill]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with localcontext(_CTX):
        for side in ("BUY", "SELL"):
            own = [f for f in fills if f.side == side]
            out[side] = {
                "fills": len(own),
                "maker_fills": sum(1 for f in own if f.is_maker),
                "quantity": format_amount(sum((f.quantity for f in own), _ZERO)),
                "quote": format_amount(sum((f.price * f.quantity for f in own), _ZERO)),
            }
    return out


def _fees_by_asset(fills: list[Fill]) -> dict[str, str]:
    fees: dict[str, Decimal] = {}
    with localcontext(_CTX):
        for f in fills:
            fees[f.commission_asset] = fees.get(f.commission_asset, _ZERO) + f.commission
    return {asset: format_amount(amount) for asset, amount in sorted(fees.items())}


def _exposure_pct(result: RunResult) -> str | None:
    """Share of the run's time the strategy held a position (net base bought or sold since the
    start, after base commissions), from the fills' times."""
    start, end = result.started_ms, result.ended_ms
    if end <= start:
        return None
    position = _ZERO
    held_ms = 0
    since = start
    with localcontext(_CTX):
        for f in result.log.fills:
            at = min(max(f.time_ms, start), end)
            if position != 0:
                held_ms += at - since
            since = at
            fee = f.commission if f.commission_asset == result.base_asset else _ZERO
            position += (f.quantity if f.side == "BUY" else -f.quantity) - fee
        if position != 0:
            held_ms += end - since
    return _pct(Decimal(held_ms), Decimal(end - start))


def figures(result: RunResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's figures (see the module docstring for how they fit together)."""
    several = len(result.per_symbol) > 1
    pnl = combined_pnl(s.pnl for s in result.per_symbol) if several else result.pnl
    log = result.log
    fills = log.fills
    curve = log.curve
    start, end = result.start_balances, result.end_balances
    start_equity = _equity(start, result, result.start_mark)
    end_equity = _equity(end, result, result.end_mark, end=True)
    start_at_end = _equity(start, result, result.end_mark, end=True)
    change = change_at_end = hold = unexplained = None
    with localcontext(_CTX):
        if end_equity is not None and start_at_end is not None:
            change_at_end = end_equity - start_at_end
            unexplained = change_at_end - pnl.total
        if start_equity is not None and end_equity is not None:
            change = end_equity - start_equity
            assert start_at_end is not None
            hold = start_at_end - start_equity
    error = result.error
    buys = sum(1 for f in fills if f.side == "BUY")
    out: dict[str, Any] = {
        "mode": result.mode,
        "symbol": result.symbol,
        "started_ms": result.started_ms,
        "ended_ms": result.ended_ms,
        "duration_s": round((result.ended_ms - result.started_ms) / 1000, 3),
        "stop_reason": result.stop_reason,
        "stop_detail": result.stop_detail,
        "error": (
            None
            if error is None
            else {"type": error.type, "message": error.message, "callback": error.callback}
        ),
        "market_events": log.market_events,
        "fills": len(fills),
        "buy_fills": buys,
        "sell_fills": len(fills) - buys,
        "fills_by_side": _sides(fills),
        "volume": format_amount(pnl.volume),
        "fees": format_amount(pnl.fees),
        "fees_by_asset": _fees_by_asset(fills),
        "position": format_amount(pnl.position),
        "realized_pnl": format_amount(pnl.realized),
        "unrealized_pnl": format_amount(pnl.unrealized),
        "total_pnl": format_amount(pnl.total),
        "grid_profit": format_amount(pnl.grid_profit),
        "trend_pnl": format_amount(pnl.trend),
        "return_pct": _pct(pnl.total, start_equity),
        "start_price": _amount(result.start_mark),
        "end_price": _amount(result.end_mark),
        "start_equity": _amount(start_equity),
        "end_equity": _amount(end_equity),
        "equity_change": _amount(change),
        "equity_change_at_end_price": _amount(change_at_end),
        "hold_pnl": _amount(hold),
        "unexplained_equity_change": _amount(unexplained),
        "max_drawdown": format_amount(curve.max_drawdown),
        "max_drawdown_pct": format_amount(curve.max_drawdown_pct.quantize(_PCT)),
        "exposure_pct": _exposure_pct(result),
        "equity_samples": curve.samples,
        "orders": {
            "placed": log.orders_placed,
            "canceled": log.orders_canceled,
            "rejected": log.orders_rejected,
            "open_at_end": len(result.open_orders),
        },
        "api_latency": _latency(log.latencies_ms),
        "balances": {
            "start": {a: format_amount(b.total) for a, b in start.items()},
            "end": {a: format_amount(b.total) for a, b in end.items()},
        },
    }
    if several:
        # The figures above add up every symbol (in the quote asset they share); "position",
        # "start_price" and "end_price" are the primary symbol's; each symbol's own are here.
        out["symbols"] = _per_symbol(result)
    if extra:
        out.update(extra)
    return out


def write_chart(result: RunResult, path: Path) -> Path:
    """Draw price with buy/sell fill markers, and the equity curve, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = result.log
    points = log.curve.points
    t0 = result.started_ms
    times = [(t - t0) / 1000 for t, _, _, _ in points]
    fig, (ax_price, ax_eq) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    try:
        if points:
            ax_price.plot(
                times, [float(p) for _, p, _, _ in points], color="0.3", linewidth=1, label="mark"
            )
        for side, marker, color in (("BUY", "^", "tab:green"), ("SELL", "v", "tab:red")):
            pts = [f for f in log.fills if f.side == side]
            if pts:
                ax_price.scatter(
                    [(f.time_ms - t0) / 1000 for f in pts],
                    [float(f.price) for f in pts],
                    marker=marker,
                    color=color,
                    s=40,
                    label=f"{side.lower()} fills",
                    zorder=3,
                )
        ax_price.set_title(f"{result.symbol} {result.mode}: price and fills")
        ax_price.set_ylabel(result.quote_asset)
        ax_price.ticklabel_format(axis="y", useOffset=False, style="plain")
        if points or log.fills:
            ax_price.legend(loc="best", fontsize="small")
        else:  # a run that saw no market (closed all along, or stopped before a book)
            ax_price.text(
                0.5, 0.5, "no market data in this run", ha="center", transform=ax_price.transAxes
            )
        if points:
            ax_eq.plot(times, [float(e) for _, _, e, _ in points], color="tab:blue", label="equity")
            held = [
                float(
                    account_equity(result.start_balances, result.base_asset, result.quote_asset, m)
                )
                for _, m, _, _ in points
            ]
            ax_eq.plot(
                times, held, color="0.5", linestyle="--", linewidth=1, label="start balances held"
            )
            ax_eq.legend(loc="best", fontsize="small")
        ax_eq.set_title(f"equity ({result.quote_asset} + {result.base_asset} x mark, net of fees)")
        ax_eq.set_ylabel(result.quote_asset)
        ax_eq.set_xlabel("seconds")
        ax_eq.ticklabel_format(axis="y", useOffset=False, style="plain")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def write_report(
    result: RunResult, out_dir: Path, extra: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``out_dir/report.json`` and ``out_dir/report.png``; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(figures(result, extra), indent=2) + "\n")
    png_path = write_chart(result, out_dir / "report.png")
    return json_path, png_path

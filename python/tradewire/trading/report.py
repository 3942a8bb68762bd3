"""The end-of-run report: ``report.json`` (figures) and ``report.png`` (price, fills, equity).

The chart needs matplotlib (drawn with its Agg backend, no display needed).
"""

from __future__ import annotations

import json
import statistics
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.trading.runner import RunResult

__all__ = ["figures", "write_chart", "write_report"]

_ZERO = Decimal(0)


def _equity(result: RunResult, balances: str, mark: Decimal | None) -> Decimal | None:
    """Quote value of the symbol's two assets in ``balances`` ("start" or "end") at ``mark``."""
    if mark is None:
        return None
    held = result.start_balances if balances == "start" else result.end_balances
    base = held.get(result.base_asset)
    quote = held.get(result.quote_asset)
    return (quote.total if quote else _ZERO) + (base.total if base else _ZERO) * mark


def _drawdown(curve: list[Decimal]) -> Decimal:
    peak: Decimal | None = None
    worst = _ZERO
    for value in curve:
        peak = value if peak is None or value > peak else peak
        worst = max(worst, peak - value)
    return worst


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


def figures(result: RunResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's figures; every amount is an exact decimal string."""
    pnl = result.pnl
    start_equity = _equity(result, "start", result.start_mark)
    end_equity = _equity(result, "end", result.end_mark)
    # Equity at the end mark, both sides valued at the same price: the change is the PnL.
    start_at_end_mark = _equity(result, "start", result.end_mark)
    curve = [start_equity + v for _, v in result.log.equity] if start_equity is not None else []
    fills = result.log.fills
    buys = [f for f in fills if f.side == "BUY"]
    out: dict[str, Any] = {
        "mode": result.mode,
        "symbol": result.symbol,
        "started_ms": result.started_ms,
        "ended_ms": result.ended_ms,
        "duration_s": round((result.ended_ms - result.started_ms) / 1000, 3),
        "stop_reason": result.stop_reason,
        "market_events": result.log.market_events,
        "fills": len(fills),
        "buy_fills": len(buys),
        "sell_fills": len(fills) - len(buys),
        "volume": str(pnl.volume),
        "fees": str(pnl.fees),
        "position": str(pnl.position),
        "realized_pnl": str(pnl.realized),
        "unrealized_pnl": str(pnl.unrealized),
        "total_pnl": str(pnl.total),
        "start_price": None if result.start_mark is None else str(result.start_mark),
        "end_price": None if result.end_mark is None else str(result.end_mark),
        "start_equity": None if start_equity is None else str(start_equity),
        "end_equity": None if end_equity is None else str(end_equity),
        "equity_change_at_end_price": (
            None
            if end_equity is None or start_at_end_mark is None
            else str(end_equity - start_at_end_mark)
        ),
        "return_pct": (
            None
            if not start_equity or end_equity is None
            else str(((end_equity - start_equity) / start_equity * 100).quantize(Decimal("1e-6")))
        ),
        "max_drawdown": str(_drawdown(curve)),
        "orders": {
            "placed": result.log.orders_placed,
            "canceled": result.log.orders_canceled,
            "rejected": result.log.orders_rejected,
            "open_at_end": len(result.open_orders),
        },
        "api_latency": _latency(result.log.latencies_ms),
        "balances": {
            "start": {a: str(b.total) for a, b in result.start_balances.items()},
            "end": {a: str(b.total) for a, b in result.end_balances.items()},
        },
    }
    if extra:
        out.update(extra)
    return out


def write_chart(result: RunResult, path: Path) -> Path:
    """Draw price with buy/sell fill markers, and the equity curve, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = result.log
    t0 = result.started_ms
    fig, (ax_price, ax_eq) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    try:
        if log.prices:
            ax_price.plot(
                [(t - t0) / 1000 for t, _ in log.prices],
                [float(p) for _, p in log.prices],
                color="0.3",
                linewidth=1,
                label="mid price",
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
        ax_price.legend(loc="best", fontsize="small")
        start = _equity(result, "start", result.start_mark) or _ZERO
        if log.equity:
            ax_eq.plot(
                [(t - t0) / 1000 for t, _ in log.equity],
                [float(start + v) for _, v in log.equity],
                color="tab:blue",
            )
        ax_eq.set_title("equity (start value + PnL, net of fees)")
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

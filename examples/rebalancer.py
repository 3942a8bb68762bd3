"""A rebalancer across several symbols: holds BTC, ETH and USDT at target weights.

Every ``every_s`` seconds of the run's clock (a named timer: market time in backtests) it
values the account at each symbol's mid, and when an asset's weight is more than ``band_pct``
percentage points from its target, it trades every asset back to its target with MARKET
orders: the sells first (they free the USDT the buys need), then the buys. A trade worth less
than the symbol's minimum order value (NOTIONAL) is skipped, as Binance would refuse it. What is
not in BTC or ETH stays in USDT (the quote both symbols share: one account, one ledger).

Run it::

    tradewire backtest run examples/rebalancer.py:Rebalancer \\
        --data BTCUSDT=btc.jsonl.gz --data ETHUSDT=eth.jsonl.gz
    tradewire paper run examples/rebalancer.py:Rebalancer --duration 30
    tradewire paper run examples/rebalancer.py:Rebalancer --exchange local --duration 30
"""

from __future__ import annotations

from decimal import Decimal

from tradewire import Strategy, StrategyContext

HUNDRED = Decimal(100)
SLACK = Decimal("1.002")
"""A buy is sized to the free USDT over the mid x this: a MARKET buy pays the ask and more."""


class Rebalancer(Strategy):
    """BTC, ETH and USDT at target weights, traded back when one drifts out of its band."""

    name = "rebalancer"
    symbols = ("BTCUSDT", "ETHUSDT")

    def __init__(
        self,
        btc_pct: Decimal = Decimal(40),
        eth_pct: Decimal = Decimal(30),
        band_pct: Decimal = Decimal(5),
        every_s: float = 60.0,
    ) -> None:
        if btc_pct < 0 or eth_pct < 0 or btc_pct + eth_pct > HUNDRED:
            raise ValueError("btc_pct and eth_pct must be >= 0 and add up to 100 at most")
        if band_pct <= 0 or every_s <= 0:
            raise ValueError("band_pct and every_s must be positive")
        self.targets = {"BTCUSDT": btc_pct / HUNDRED, "ETHUSDT": eth_pct / HUNDRED}
        self.band = band_pct / HUNDRED
        self.every_s = every_s
        #: How many times it traded back to the targets.
        self.rebalances = 0

    async def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer("rebalance", self.every_s)
        await self.rebalance(ctx)

    async def on_timer(self, ctx: StrategyContext) -> None:
        if ctx.timer == "rebalance":
            await self.rebalance(ctx)

    async def weights(self, ctx: StrategyContext) -> tuple[Decimal, dict[str, Decimal]]:
        """The account's value in USDT and each symbol's share of it (base x mid / value)."""
        balances = await ctx.balances()
        quote = balances.get(ctx.rules.quote_asset)
        total = quote.total if quote is not None else Decimal(0)
        values: dict[str, Decimal] = {}
        for symbol in self.targets:
            held = balances.get(ctx.rules_for(symbol).base_asset)
            mark = ctx.mark_price_for(symbol)
            assert mark is not None  # the strategy starts once every symbol has a book
            values[symbol] = (held.total if held is not None else Decimal(0)) * mark
            total += values[symbol]
        if total <= 0:
            return total, dict.fromkeys(values, Decimal(0))
        return total, {symbol: value / total for symbol, value in values.items()}

    async def rebalance(self, ctx: StrategyContext) -> None:
        """Trade every symbol back to its target if one drifted out of the band."""
        total, weights = await self.weights(ctx)
        if total <= 0 or all(
            abs(weights[s] - target) <= self.band for s, target in self.targets.items()
        ):
            return
        moves = []  # (symbol, base quantity to buy: negative to sell)
        for symbol, target in self.targets.items():
            mark = ctx.mark_price_for(symbol)
            assert mark is not None
            moves.append((symbol, (target - weights[symbol]) * total / mark))
        traded = False
        for symbol, move in sorted(moves, key=lambda m: m[1]):  # sells first: they free USDT
            rules = ctx.rules_for(symbol)
            mark = ctx.mark_price_for(symbol)
            assert mark is not None
            quantity = rules.floor_quantity(abs(move))
            if move > 0:  # a buy: no more than the free USDT pays for, with room for the spread
                free = (await ctx.balances()).get(rules.quote_asset)
                cash = free.free if free is not None else Decimal(0)
                quantity = min(quantity, rules.floor_quantity(cash / (mark * SLACK)))
            if quantity * mark < rules.min_notional:
                continue  # too small to send: Binance would refuse it (NOTIONAL)
            if move > 0:
                await ctx.buy(quantity, symbol=symbol)
            else:
                await ctx.sell(quantity, symbol=symbol)
            traded = True
        if traded:
            self.rebalances += 1
            ctx.log(f"rebalanced to {', '.join(f'{s} {t:.0%}' for s, t in self.targets.items())}")

"""One order policy: paper, the Binance venue (on the local exchange) and the journal agree.

The request is 0.001234 BTC at 60000.005 on BTCUSDT (step 0.00001, tick 0.01). Rounded once,
before the journal: 0.00123 at 60000.00 for a BUY, at 60000.01 for a SELL; the journal, the
paper broker, the Binance venue and the exchange itself then hold that same order.
"""

from __future__ import annotations

import secrets
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.binance.client import BinanceClient
from tradewire.errors import InvalidOrder
from tradewire.exchange import LocalExchange
from tradewire.model import OrderRequest
from tradewire.trading.journal import Journal
from tradewire.trading.strategy import StrategyContext
from tradewire.venues.binance import BinanceVenue
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import Side
    from tradewire.trading.strategy import Mode
    from tradewire.venues.protocols import Venue

QUANTITY, PRICE = D("0.001234"), D("60000.005")
ROUNDED = {"BUY": "60000.00", "SELL": "60000.01"}


@pytest.mark.asyncio
async def test_paper_binance_and_journal_hold_the_same_rounded_order(tmp_path: Path) -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        secret = secrets.token_hex(32)
        api_key = ex.add_key(secret, balances={"USDT": "1000", "BTC": "1"})
        async with BinanceClient(
            api_key, secret, rest_url=ex.rest_url, stream_url=ex.stream_url
        ) as client:
            live = BinanceVenue(client)
            rules = await live.symbol_rules("BTCUSDT")
            assert (rules.step_size, rules.tick_size) == (D("0.00001"), D("0.01"))
            paper = PaperBroker(rules, {"USDT": "1000", "BTC": "1"})
            sides: tuple[Side, ...] = ("BUY", "SELL")
            venues: tuple[tuple[Venue, Mode], ...] = ((paper, "paper"), (live, "live"))
            for venue, mode in venues:
                with Journal.for_bot(tmp_path, f"agree-{venue.name}") as journal:
                    ctx = StrategyContext(venue, rules, mode=mode, bot="agree", journal=journal)
                    for side in sides:
                        order = await ctx.place(side, QUANTITY, PRICE)
                        journaled = journal.get(order.client_order_id)
                        assert journaled is not None
                        sent = (format(journaled.quantity, "f"), format(journaled.price or 0, "f"))
                        assert sent == ("0.00123", ROUNDED[side]), venue.name
                        assert (order.quantity, order.price) == (D(sent[0]), D(sent[1]))
            on_exchange = {o.side: o for o in await client.open_orders("BTCUSDT")}
            for side in sides:
                assert D(on_exchange[side].orig_qty or "") == D("0.00123")
                assert D(on_exchange[side].price or "") == D(ROUNDED[side])

            # The venues round the same request alike when it does not come through a strategy.
            for side in sides:
                cid = f"direct-{side}"
                request = OrderRequest("BTCUSDT", side, "LIMIT", QUANTITY, cid, PRICE)
                placed = [await venue.place_order(request) for venue in (paper, live)]
                assert {(o.quantity, o.price) for o in placed} == {(D("0.00123"), D(ROUNDED[side]))}


@pytest.mark.asyncio
async def test_a_request_below_a_minimum_is_refused_alike_and_not_journaled(
    tmp_path: Path,
) -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        secret = secrets.token_hex(32)
        api_key = ex.add_key(secret, balances={"USDT": "1000", "BTC": "1"})
        async with BinanceClient(
            api_key, secret, rest_url=ex.rest_url, stream_url=ex.stream_url
        ) as client:
            live = BinanceVenue(client)
            rules = await live.symbol_rules("BTCUSDT")
            paper = PaperBroker(rules, {"USDT": "1000", "BTC": "1"})
            tiny = D("0.000009")  # floors to 0 at step 0.00001, below LOT_SIZE minQty
            messages: set[str] = set()
            venues: tuple[tuple[Venue, Mode], ...] = ((paper, "paper"), (live, "live"))
            for venue, mode in venues:
                with Journal.for_bot(tmp_path, f"refuse-{venue.name}") as journal:
                    ctx = StrategyContext(venue, rules, mode=mode, bot="refuse", journal=journal)
                    with pytest.raises(
                        InvalidOrder, match=r"below LOT_SIZE minQty 0\.00001"
                    ) as err:
                        await ctx.place("BUY", tiny, PRICE)
                    messages.add(str(err.value))
                    assert journal.orders() == []
                    assert ctx.run_log.orders_rejected == 1
                request = OrderRequest("BTCUSDT", "BUY", "LIMIT", tiny, "tiny", PRICE)
                with pytest.raises(InvalidOrder) as direct:
                    await venue.place_order(request)
                messages.add(str(direct.value))
            assert len(messages) == 1, messages
            assert await client.open_orders("BTCUSDT") == []
